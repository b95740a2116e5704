//! Invitations: an admin invites an email with a role; the link's secret is shown once and
//! stored hashed; accepting it (once, before it expires, while its sender may still grant
//! that role) adds the membership with exactly that role.

use super::audit::{record, Actor, By, Target};
use super::bearer_secret;
use super::team::{forbidden, TeamError};
use super::StoreError;
use crate::domain::team::{
    InvitationOffer, InvitationProblem, InvitationView, InviteForm, NewInvitation, INVITATION_DAYS,
};
use crate::domain::{Permission, Role};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

const VIEW_COLUMNS: &str =
    "i.id, i.email, i.role, u.name AS invited_by, i.created_at, i.expires_at";

fn view(r: &sqlx::postgres::PgRow) -> Option<InvitationView> {
    Some(InvitationView {
        id: r.get("id"),
        email: r.get("email"),
        role: Role::parse(r.get("role"))?,
        invited_by: r.get("invited_by"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
    })
}

pub async fn invite(
    pool: &PgPool,
    actor: Actor,
    actor_role: Role,
    form: &InviteForm,
    public_base: &str,
) -> Result<NewInvitation, TeamError> {
    if !actor_role.allows(Permission::ManageMembers) {
        return Err(forbidden("invite members"));
    }
    let (email, role) = form.validate().map_err(TeamError::Invalid)?;
    if !actor_role.may_grant(role) {
        return Err(forbidden(&format!("invite an {}", role.as_str())));
    }
    let mut tx = pool.begin().await?;
    let member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
                         WHERE m.team_id = $1 AND u.email = $2)",
    )
    .bind(actor.team_id)
    .bind(&email)
    .fetch_one(&mut *tx)
    .await?;
    if member {
        return Err(TeamError::Conflict(format!(
            "{email} is already a member of this team."
        )));
    }
    // A new invitation replaces a pending one for the same email: one link works at a time.
    sqlx::query(
        "UPDATE invitations SET revoked_at = now()
          WHERE team_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(actor.team_id)
    .bind(&email)
    .execute(&mut *tx)
    .await?;
    let (token, hash) = bearer_secret::generate();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO invitations (team_id, email, role, token_hash, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6)) RETURNING id",
    )
    .bind(actor.team_id)
    .bind(&email)
    .bind(role.as_str())
    .bind(&hash)
    .bind(actor.user_id())
    .bind(INVITATION_DAYS as i32)
    .fetch_one(&mut *tx)
    .await?;
    record(
        &mut tx,
        &actor,
        "invitation.create",
        Target::new("invitation", id, &email),
        json!({"email": email, "role": role.as_str()}),
    )
    .await?;
    let invitation = sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM invitations i LEFT JOIN users u ON u.id = i.invited_by WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(NewInvitation {
        invitation: view(&invitation).ok_or(TeamError::NotFound)?,
        url: format!("{}/invite/{token}", public_base.trim_end_matches('/')),
        token,
    })
}

/// Invitations not yet accepted, revoked or expired.
pub async fn pending(pool: &PgPool, team_id: Uuid) -> Result<Vec<InvitationView>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {VIEW_COLUMNS} FROM invitations i LEFT JOIN users u ON u.id = i.invited_by
          WHERE i.team_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
            AND i.expires_at > now()
          ORDER BY i.created_at DESC"
    ))
    .bind(team_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().filter_map(view).collect())
}

pub async fn revoke(pool: &PgPool, actor: Actor, id: Uuid) -> Result<(), TeamError> {
    let mut tx = pool.begin().await?;
    let email: Option<String> = sqlx::query_scalar(
        "UPDATE invitations SET revoked_at = now()
          WHERE id = $1 AND team_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
          RETURNING email",
    )
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut *tx)
    .await?;
    let email = email.ok_or(TeamError::NotFound)?;
    record(
        &mut tx,
        &actor,
        "invitation.revoke",
        Target::new("invitation", id, &email),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An invitation as acceptance sees it.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: Uuid,
    pub team_id: Uuid,
    pub team: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The account that already has this email: its id and password hash.
    pub account: Option<(Uuid, String)>,
}

/// Finds the invitation behind a link and checks it can still be used; `lock` holds its
/// row until the transaction ends (acceptance).
async fn usable(
    conn: &mut PgConnection,
    token: &str,
    lock: bool,
) -> Result<Result<Invitation, InvitationProblem>, sqlx::Error> {
    if !crate::domain::team::looks_like_secret(token) {
        return Ok(Err(InvitationProblem::Unknown));
    }
    let row = sqlx::query(&format!(
        "SELECT i.id, i.team_id, t.name AS team, i.email, i.role, i.invited_by AS inviter_id,
                u.name AS invited_by, i.expires_at, i.expires_at <= now() AS expired,
                i.accepted_at IS NOT NULL AS used, i.revoked_at IS NOT NULL AS revoked,
                (SELECT role FROM memberships m WHERE m.team_id = i.team_id AND m.user_id = i.invited_by)
                  AS inviter_role,
                a.id AS account_id, a.password_hash
           FROM invitations i JOIN teams t ON t.id = i.team_id
           LEFT JOIN users u ON u.id = i.invited_by
           LEFT JOIN users a ON a.email = i.email
          WHERE i.token_hash = $1 {}",
        if lock { "FOR UPDATE OF i" } else { "" }
    ))
    .bind(bearer_secret::digest(token))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else {
        return Ok(Err(InvitationProblem::Unknown));
    };
    let Some(role) = Role::parse(r.get("role")) else {
        return Ok(Err(InvitationProblem::Unknown));
    };
    if r.get("used") {
        return Ok(Err(InvitationProblem::Used));
    }
    if r.get("revoked") {
        return Ok(Err(InvitationProblem::Revoked));
    }
    if r.get("expired") {
        return Ok(Err(InvitationProblem::Expired));
    }
    let inviter_may = r
        .get::<Option<&str>, _>("inviter_role")
        .and_then(Role::parse)
        .is_some_and(|inviter| inviter.may_grant(role));
    if !inviter_may {
        return Ok(Err(InvitationProblem::InviterLost));
    }
    let account = r
        .get::<Option<Uuid>, _>("account_id")
        .map(|id| (id, r.get::<String, _>("password_hash")));
    if let Some((user, _)) = account {
        let member: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE team_id = $1 AND user_id = $2)",
        )
        .bind(r.get::<Uuid, _>("team_id"))
        .bind(user)
        .fetch_one(&mut *conn)
        .await?;
        if member {
            return Ok(Err(InvitationProblem::AlreadyMember));
        }
    }
    Ok(Ok(Invitation {
        id: r.get("id"),
        team_id: r.get("team_id"),
        team: r.get("team"),
        email: r.get("email"),
        role,
        invited_by: r.get("invited_by"),
        expires_at: r.get("expires_at"),
        account,
    }))
}

/// The invitation behind a link, if it can still be used (nothing is locked).
pub async fn find(
    pool: &PgPool,
    token: &str,
) -> Result<Result<Invitation, InvitationProblem>, StoreError> {
    let mut conn = pool.acquire().await?;
    Ok(usable(&mut conn, token, false).await?)
}

/// What the invitation page shows.
pub async fn offer(
    pool: &PgPool,
    token: &str,
) -> Result<Result<InvitationOffer, InvitationProblem>, StoreError> {
    Ok(find(pool, token).await?.map(|i| InvitationOffer {
        team: i.team,
        email: i.email,
        role: i.role,
        invited_by: i.invited_by,
        expires_at: i.expires_at,
        account_exists: i.account.is_some(),
    }))
}

/// Who accepts: the account the invitation's email already has (its password checked by
/// the caller), or a new account.
pub enum AcceptAs {
    Existing(Uuid),
    New { name: String, password_hash: String },
}

/// Accepts: everything is checked again under the invitation's row lock, so a link works
/// once even when two people click at the same moment. Returns the user and team.
pub async fn accept(
    pool: &PgPool,
    token: &str,
    who: AcceptAs,
    ip: Option<std::net::IpAddr>,
) -> Result<Result<(Uuid, Uuid), InvitationProblem>, StoreError> {
    let mut tx = pool.begin().await?;
    let inv = match usable(&mut tx, token, true).await? {
        Ok(inv) => inv,
        Err(problem) => return Ok(Err(problem)),
    };
    let user_id =
        match (who, &inv.account) {
            (AcceptAs::Existing(user), Some((account, _))) if user == *account => user,
            (
                AcceptAs::New {
                    name,
                    password_hash,
                },
                None,
            ) => sqlx::query_scalar(
                "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&inv.email)
            .bind(&name)
            .bind(&password_hash)
            .fetch_one(&mut *tx)
            .await?,
            // The account appeared (or went) since the page was shown: ask again.
            _ => return Ok(Err(InvitationProblem::Unknown)),
        };
    sqlx::query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(inv.team_id)
        .bind(user_id)
        .bind(inv.role.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1")
        .bind(inv.id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let actor = Actor {
        team_id: inv.team_id,
        by: By::User(user_id),
        ip,
    };
    record(
        &mut tx,
        &actor,
        "invitation.accept",
        Target::new("invitation", inv.id, &inv.email),
        json!({"role": inv.role.as_str(), "new_account": inv.account.is_none()}),
    )
    .await?;
    record(
        &mut tx,
        &actor,
        "member.add",
        Target::new("member", user_id, &inv.email),
        json!({"role": inv.role.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok((user_id, inv.team_id)))
}
