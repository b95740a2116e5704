//! API tokens: named, of one team, with a role no higher than their creator's; shown once,
//! stored hashed, revocable, optionally expiring. A token acts with the weaker of its role
//! and its creator's current role, and stops working when its creator leaves the team.

use super::audit::{record, Actor, Target};
use super::bearer_secret;
use super::team::{forbidden, TeamError};
use super::StoreError;
use crate::domain::team::{NewToken, TokenForm, TokenView, TOKEN_PREFIX};
use crate::domain::{Permission, Role, SessionInfo};
use serde_json::json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

const VIEW_COLUMNS: &str = "t.id, t.name, t.role, u.name AS created_by, t.created_at, t.expires_at,
    t.last_used_at";

fn view(r: &sqlx::postgres::PgRow) -> Option<TokenView> {
    Some(TokenView {
        id: r.get("id"),
        name: r.get("name"),
        role: Role::parse(r.get("role"))?,
        created_by: r.get("created_by"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        last_used_at: r.get("last_used_at"),
    })
}

pub async fn create(
    pool: &PgPool,
    actor: Actor,
    actor_role: Role,
    form: &TokenForm,
) -> Result<NewToken, TeamError> {
    if !actor_role.allows(Permission::ManageTokens) {
        return Err(forbidden("create API tokens"));
    }
    let (name, role, days) = form.validate().map_err(TeamError::Invalid)?;
    if !actor_role.at_least(role) {
        return Err(forbidden(&format!(
            "create a token with the {} role",
            role.as_str()
        )));
    }
    let creator = actor
        .user_id()
        .ok_or_else(|| forbidden("create API tokens"))?;
    let (secret, hash) = bearer_secret::generate();
    let mut tx = pool.begin().await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO api_tokens (team_id, name, role, token_hash, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6)) RETURNING id",
    )
    .bind(actor.team_id)
    .bind(&name)
    .bind(role.as_str())
    .bind(&hash)
    .bind(creator)
    .bind(days.map(|d| d as i32))
    .fetch_one(&mut *tx)
    .await?;
    record(
        &mut tx,
        &actor,
        "token.create",
        Target::new("token", id, &name),
        json!({"role": role.as_str(), "expires_in_days": days}),
    )
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.created_by WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(NewToken {
        token_info: view(&row).ok_or(TeamError::NotFound)?,
        token: format!("{TOKEN_PREFIX}{secret}"),
    })
}

/// The team's tokens that still work (not revoked, not expired), newest first.
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<TokenView>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.created_by
          WHERE t.team_id = $1 AND t.revoked_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > now())
          ORDER BY t.created_at DESC"
    ))
    .bind(team_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().filter_map(view).collect())
}

pub async fn revoke(pool: &PgPool, actor: Actor, id: Uuid) -> Result<(), TeamError> {
    let mut tx = pool.begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = now()
          WHERE id = $1 AND team_id = $2 AND revoked_at IS NULL RETURNING name",
    )
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut *tx)
    .await?;
    let name = name.ok_or(TeamError::NotFound)?;
    record(
        &mut tx,
        &actor,
        "token.revoke",
        Target::new("token", id, &name),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The caller a `Bearer` value stands for, or `None` (unknown, revoked, expired, or its
/// creator no longer in the team). Marks it used.
pub async fn resolve(pool: &PgPool, bearer: &str) -> Result<Option<SessionInfo>, StoreError> {
    let Some(secret) = bearer.strip_prefix(TOKEN_PREFIX) else {
        return Ok(None);
    };
    if !crate::domain::team::looks_like_secret(secret) {
        return Ok(None);
    }
    let caller = caller(pool, Some(bearer_secret::digest(secret)), None).await?;
    if let Some(token) = caller.as_ref().and_then(|c| c.token) {
        sqlx::query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1")
            .bind(token)
            .execute(pool)
            .await?;
    }
    Ok(caller)
}

/// The token's caller as it is now (an open stream re-checks with this).
pub async fn still_valid(pool: &PgPool, token: Uuid) -> Result<Option<SessionInfo>, StoreError> {
    caller(pool, None, Some(token)).await
}

async fn caller(
    pool: &PgPool,
    hash: Option<Vec<u8>>,
    id: Option<Uuid>,
) -> Result<Option<SessionInfo>, StoreError> {
    let row = sqlx::query(
        "SELECT t.id, t.role, m.role AS creator_role, u.id AS user_id, u.email,
                u.name AS user_name, tm.id AS team_id, tm.name AS team_name, tm.slug
           FROM api_tokens t
           JOIN memberships m ON m.team_id = t.team_id AND m.user_id = t.created_by
           JOIN users u ON u.id = t.created_by
           JOIN teams tm ON tm.id = t.team_id
          WHERE (t.token_hash = $1 OR t.id = $2) AND t.revoked_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > now())",
    )
    .bind(hash)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let (Some(role), Some(creator)) = (
        Role::parse(r.get("role")),
        Role::parse(r.get("creator_role")),
    ) else {
        return Ok(None);
    };
    Ok(Some(super::accounts::caller_from_row(
        &r,
        role.min(creator),
        Some(r.get("id")),
    )))
}
