//! Teams and memberships: the switcher's list, members and their roles, renaming,
//! transferring and deleting a team. Every change is checked against the caller's role
//! here (the last-owner rule needs the team's rows) and audited in its transaction.

use super::audit::{record, Actor, Target};
use super::StoreError;
use crate::domain::account::{slugify, validate_team_name};
use crate::domain::team::{MemberView, MyTeam};
use crate::domain::{Permission, Role, TeamSummary};
use serde_json::json;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

/// Why a team change was refused. Messages are for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    /// Unknown id, or one of another team.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TeamError {
    fn from(e: sqlx::Error) -> Self {
        TeamError::Store(StoreError::Db(e))
    }
}

pub(super) fn forbidden(what: &str) -> TeamError {
    TeamError::Forbidden(format!("Your role does not allow you to {what}."))
}

/// The user's teams, by name.
pub async fn my_teams(pool: &PgPool, user_id: Uuid) -> Result<Vec<MyTeam>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.slug, m.role FROM memberships m JOIN teams t ON t.id = m.team_id
          WHERE m.user_id = $1 ORDER BY t.name, t.id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(MyTeam {
                id: r.get("id"),
                name: r.get("name"),
                slug: r.get("slug"),
                role: Role::parse(r.get("role"))?,
            })
        })
        .collect())
}

pub async fn summary(pool: &PgPool, team_id: Uuid) -> Result<TeamSummary, TeamError> {
    let row = sqlx::query("SELECT id, name, slug FROM teams WHERE id = $1")
        .bind(team_id)
        .fetch_optional(pool)
        .await?
        .ok_or(TeamError::NotFound)?;
    Ok(TeamSummary {
        id: row.get("id"),
        name: row.get("name"),
        slug: row.get("slug"),
    })
}

/// A slug no other team has: the name's, then `-2`, `-3`…
async fn free_slug(conn: &mut PgConnection, name: &str) -> Result<String, sqlx::Error> {
    let base = slugify(name);
    let taken: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM teams WHERE slug = $1 OR slug LIKE $1 || '-%'")
            .bind(&base)
            .fetch_all(&mut *conn)
            .await?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    let stem: String = base.chars().take(58).collect();
    Ok((2..)
        .map(|n| format!("{}-{n}", stem.trim_end_matches('-')))
        .find(|s| !taken.contains(s))
        .expect("a free slug"))
}

/// A new team with `user_id` as its owner.
pub async fn create(
    pool: &PgPool,
    user_id: Uuid,
    name: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<TeamSummary, TeamError> {
    let name = validate_team_name(name).map_err(|e| TeamError::Invalid(e.message().into()))?;
    let mut tx = pool.begin().await?;
    // One team creation at a time: two with the same name must not pick the same slug.
    sqlx::query("LOCK TABLE teams IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let slug = free_slug(&mut tx, &name).await?;
    let id: Uuid =
        sqlx::query_scalar("INSERT INTO teams (name, slug) VALUES ($1, $2) RETURNING id")
            .bind(&name)
            .bind(&slug)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let actor = Actor {
        ip,
        ..Actor::user(id, user_id)
    };
    record(
        &mut tx,
        &actor,
        "team.create",
        Target::new("team", id, &name),
        json!({"slug": slug}),
    )
    .await?;
    tx.commit().await?;
    Ok(TeamSummary { id, name, slug })
}

pub async fn rename(pool: &PgPool, actor: Actor, name: &str) -> Result<TeamSummary, TeamError> {
    let name = validate_team_name(name).map_err(|e| TeamError::Invalid(e.message().into()))?;
    let mut tx = pool.begin().await?;
    let before: Option<String> =
        sqlx::query_scalar("SELECT name FROM teams WHERE id = $1 FOR UPDATE")
            .bind(actor.team_id)
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or(TeamError::NotFound)?;
    let slug: String =
        sqlx::query_scalar("UPDATE teams SET name = $2 WHERE id = $1 RETURNING slug")
            .bind(actor.team_id)
            .bind(&name)
            .fetch_one(&mut *tx)
            .await?;
    record(
        &mut tx,
        &actor,
        "team.rename",
        Target::new("team", actor.team_id, &name),
        json!({"name": {"before": before, "after": name}}),
    )
    .await?;
    tx.commit().await?;
    Ok(TeamSummary {
        id: actor.team_id,
        name,
        slug,
    })
}

/// Deletes the team and with it its memberships, invitations, tokens and audit log. Refused
/// while it has services: their containers must be removed by the worker first.
pub async fn delete(pool: &PgPool, actor: Actor) -> Result<(), TeamError> {
    let mut tx = pool.begin().await?;
    let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1 FOR UPDATE")
        .bind(actor.team_id)
        .fetch_optional(&mut *tx)
        .await?;
    found.ok_or(TeamError::NotFound)?;
    let services: i64 = sqlx::query_scalar("SELECT count(*) FROM services WHERE team_id = $1")
        .bind(actor.team_id)
        .fetch_one(&mut *tx)
        .await?;
    if services > 0 {
        return Err(TeamError::Conflict(format!(
            "The team still has {services} service(s). Delete them first: their containers are removed before the team can go."
        )));
    }
    sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(actor.team_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(team = %actor.team_id, by = ?actor.by, "team deleted");
    Ok(())
}

pub async fn members(pool: &PgPool, team_id: Uuid) -> Result<Vec<MemberView>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m
           JOIN users u ON u.id = m.user_id
          WHERE m.team_id = $1
          ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'developer' THEN 2 ELSE 3 END,
                   u.name, u.id",
    )
    .bind(team_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(MemberView {
                user_id: r.get("id"),
                email: r.get("email"),
                name: r.get("name"),
                role: Role::parse(r.get("role"))?,
                joined_at: r.get("created_at"),
            })
        })
        .collect())
}

/// The member's role and label, their row locked; `NotFound` when not in the team.
async fn lock_member(
    conn: &mut PgConnection,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<(Role, String), TeamError> {
    // All of the team's memberships are locked, so two demotions of the last two owners
    // can't both pass the last-owner check.
    sqlx::query("SELECT 1 FROM memberships WHERE team_id = $1 FOR UPDATE")
        .bind(team_id)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(
        "SELECT m.role, u.name || ' <' || u.email || '>' AS label
           FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.team_id = $1 AND m.user_id = $2",
    )
    .bind(team_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(TeamError::NotFound)?;
    let role = Role::parse(row.get("role")).ok_or(TeamError::NotFound)?;
    Ok((role, row.get("label")))
}

async fn owner_count(conn: &mut PgConnection, team_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM memberships WHERE team_id = $1 AND role = 'owner'")
        .bind(team_id)
        .fetch_one(conn)
        .await
}

fn last_owner() -> TeamError {
    TeamError::Conflict("A team always keeps an owner: make another member owner first.".to_owned())
}

pub async fn change_role(
    pool: &PgPool,
    actor: Actor,
    actor_role: Role,
    user_id: Uuid,
    role: Role,
) -> Result<MemberView, TeamError> {
    let mut tx = pool.begin().await?;
    let (from, label) = lock_member(&mut tx, actor.team_id, user_id).await?;
    if !actor_role.may_change_member(from, Some(role)) {
        return Err(forbidden(&format!(
            "make a {} a {}",
            from.as_str(),
            role.as_str()
        )));
    }
    if from == role {
        tx.commit().await?;
        return member(pool, actor.team_id, user_id).await;
    }
    if from == Role::Owner && owner_count(&mut tx, actor.team_id).await? <= 1 {
        return Err(last_owner());
    }
    sqlx::query("UPDATE memberships SET role = $3 WHERE team_id = $1 AND user_id = $2")
        .bind(actor.team_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
    record(
        &mut tx,
        &actor,
        "member.role",
        Target::new("member", user_id, &label),
        json!({"role": {"before": from.as_str(), "after": role.as_str()}}),
    )
    .await?;
    tx.commit().await?;
    member(pool, actor.team_id, user_id).await
}

async fn member(pool: &PgPool, team_id: Uuid, user_id: Uuid) -> Result<MemberView, TeamError> {
    members(pool, team_id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user_id)
        .ok_or(TeamError::NotFound)
}

/// Removes a member; a member removing themselves leaves (any role may, but the last owner).
pub async fn remove_member(
    pool: &PgPool,
    actor: Actor,
    actor_role: Role,
    user_id: Uuid,
) -> Result<(), TeamError> {
    let leaving = actor.by == super::audit::By::User(user_id);
    let mut tx = pool.begin().await?;
    let (from, label) = lock_member(&mut tx, actor.team_id, user_id).await?;
    if !leaving && !actor_role.may_change_member(from, None) {
        return Err(forbidden(&format!("remove a {}", from.as_str())));
    }
    if from == Role::Owner && owner_count(&mut tx, actor.team_id).await? <= 1 {
        return Err(last_owner());
    }
    sqlx::query("DELETE FROM memberships WHERE team_id = $1 AND user_id = $2")
        .bind(actor.team_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let action = if leaving {
        "member.leave"
    } else {
        "member.remove"
    };
    record(
        &mut tx,
        &actor,
        action,
        Target::new("member", user_id, &label),
        json!({"role": from.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes another member owner and the caller (an owner) admin, in one step.
pub async fn transfer_ownership(
    pool: &PgPool,
    actor: Actor,
    actor_role: Role,
    to_user: Uuid,
) -> Result<(), TeamError> {
    if !actor_role.allows(Permission::OwnTeam) {
        return Err(forbidden("transfer the team's ownership"));
    }
    let me = actor
        .user_id()
        .ok_or_else(|| forbidden("transfer the team's ownership"))?;
    if me == to_user {
        return Err(TeamError::Invalid("You already own this team.".into()));
    }
    let mut tx = pool.begin().await?;
    let (from, label) = lock_member(&mut tx, actor.team_id, to_user).await?;
    sqlx::query(
        "UPDATE memberships SET role = CASE WHEN user_id = $2 THEN 'owner' ELSE 'admin' END
          WHERE team_id = $1 AND user_id IN ($2, $3)",
    )
    .bind(actor.team_id)
    .bind(to_user)
    .bind(me)
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        &actor,
        "team.transfer",
        Target::new("member", to_user, &label),
        json!({"role": {"before": from.as_str(), "after": "owner"}, "previous_owner_becomes": "admin"}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
