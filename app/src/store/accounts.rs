//! Users, teams and memberships.

use super::audit::{record, Actor, By, Target};
use super::StoreError;
use crate::domain::team::LoginView;
use crate::domain::{account::ValidSetup, Role, SessionInfo, TeamSummary, UserSummary};
use serde_json::json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// A user as sign-in needs it.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: Uuid,
    pub password_hash: String,
}

/// True once the first-run form has succeeded (forever after).
pub async fn is_set_up(pool: &PgPool) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT EXISTS (SELECT 1 FROM instance) AS set_up")
        .fetch_one(pool)
        .await?;
    Ok(row.get("set_up"))
}

/// Creates the owner, the first team and the membership in one transaction. The
/// `instance` row's primary key makes this succeed at most once, however many run at once.
pub async fn create_owner(
    pool: &PgPool,
    setup: &ValidSetup,
    password_hash: &str,
) -> Result<SessionInfo, StoreError> {
    let mut tx = pool.begin().await?;
    // Serialise concurrent first runs so the loser sees AlreadySetUp, not a constraint error.
    sqlx::query("LOCK TABLE instance IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let exists: bool = sqlx::query("SELECT EXISTS (SELECT 1 FROM instance) AS e")
        .fetch_one(&mut *tx)
        .await?
        .get("e");
    if exists {
        return Err(StoreError::AlreadySetUp);
    }
    let user_id: Uuid = sqlx::query(
        "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&setup.email)
    .bind(&setup.name)
    .bind(password_hash)
    .fetch_one(&mut *tx)
    .await?
    .get("id");
    let team_id: Uuid = sqlx::query("INSERT INTO teams (name, slug) VALUES ($1, $2) RETURNING id")
        .bind(&setup.team_name)
        .bind(&setup.team_slug)
        .fetch_one(&mut *tx)
        .await?
        .get("id");
    sqlx::query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(team_id)
        .bind(user_id)
        .bind(Role::Owner.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO instance (owner_id) VALUES ($1)")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(SessionInfo {
        user: UserSummary {
            id: user_id,
            email: setup.email.clone(),
            name: setup.name.clone(),
        },
        team: TeamSummary {
            id: team_id,
            name: setup.team_name.clone(),
            slug: setup.team_slug.clone(),
        },
        role: Role::Owner,
        token: None,
        login: None,
    })
}

pub async fn credentials_by_email(
    pool: &PgPool,
    email: &str,
) -> Result<Option<Credentials>, StoreError> {
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| Credentials {
        user_id: r.get("id"),
        password_hash: r.get("password_hash"),
    }))
}

/// The user's membership in `team_id`, or in their earliest team when `team_id` is `None`
/// or no longer theirs. `None` when the user is gone or belongs to no team.
pub async fn session_info(
    pool: &PgPool,
    user_id: Uuid,
    team_id: Option<Uuid>,
) -> Result<Option<SessionInfo>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id AS user_id, u.email, u.name AS user_name,
                t.id AS team_id, t.name AS team_name, t.slug, m.role
           FROM users u
           JOIN memberships m ON m.user_id = u.id
           JOIN teams t ON t.id = m.team_id
          WHERE u.id = $1
          ORDER BY (m.team_id = $2) DESC NULLS LAST, m.created_at, t.name
          LIMIT 1",
    )
    .bind(user_id)
    .bind(team_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        let role = Role::parse(r.get::<&str, _>("role"))?;
        Some(caller_from_row(&r, role, None))
    }))
}

/// A caller from a row with the columns `user_id, email, user_name, team_id, team_name,
/// slug` (a session's or a token's query).
pub(super) fn caller_from_row(
    r: &sqlx::postgres::PgRow,
    role: Role,
    token: Option<Uuid>,
) -> SessionInfo {
    SessionInfo {
        user: UserSummary {
            id: r.get("user_id"),
            email: r.get("email"),
            name: r.get("user_name"),
        },
        team: TeamSummary {
            id: r.get("team_id"),
            name: r.get("team_name"),
            slug: r.get("slug"),
        },
        role,
        token,
        login: None,
    }
}

/// Counts, for tests and the dashboard.
pub async fn user_count(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT count(*) AS n FROM users")
        .fetch_one(pool)
        .await?
        .get("n"))
}

/// Records a sign-in: a login row (what the session cookie points at) and, in the team it
/// opens, an audit entry.
pub async fn start_login(
    pool: &PgPool,
    user_id: Uuid,
    team_id: Uuid,
    ip: Option<std::net::IpAddr>,
    user_agent: Option<&str>,
) -> Result<Uuid, StoreError> {
    let mut tx = pool.begin().await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO logins (user_id, ip, user_agent) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(user_id)
    .bind(ip.map(|ip| ip.to_string()))
    .bind(user_agent.map(|ua| ua.chars().take(300).collect::<String>()))
    .fetch_one(&mut *tx)
    .await?;
    let actor = Actor {
        team_id,
        by: By::User(user_id),
        ip,
    };
    let label = user_label(&mut tx, user_id).await?;
    record(
        &mut tx,
        &actor,
        "auth.sign_in",
        Target::new("user", user_id, &label),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A wrong password for an existing account: an entry in each of its teams (each team's
/// admins see attempts on their members).
pub async fn record_failed_sign_in(
    pool: &PgPool,
    user_id: Uuid,
    ip: Option<std::net::IpAddr>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let teams: Vec<Uuid> = sqlx::query_scalar("SELECT team_id FROM memberships WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
    let label = user_label(&mut tx, user_id).await?;
    for team_id in teams {
        let actor = Actor {
            team_id,
            by: By::User(user_id),
            ip,
        };
        record(
            &mut tx,
            &actor,
            "auth.sign_in_failed",
            Target::new("user", user_id, &label),
            json!({"reason": "wrong password"}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn user_label(conn: &mut sqlx::PgConnection, user_id: Uuid) -> Result<String, sqlx::Error> {
    let label: Option<String> =
        sqlx::query_scalar("SELECT name || ' <' || email || '>' FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(label.unwrap_or_default())
}

/// Whether a sign-in is still open (not ended from Settings or by a password change); marks
/// it seen.
pub async fn login_alive(pool: &PgPool, login_id: Uuid, user_id: Uuid) -> Result<bool, StoreError> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "UPDATE logins SET last_seen_at = now() WHERE id = $1 AND user_id = $2 RETURNING id",
    )
    .bind(login_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

/// Ends a sign-in without an audit entry (sign-out, an expired session).
pub async fn forget_login(pool: &PgPool, login_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM logins WHERE id = $1")
        .bind(login_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The user's open sign-ins, most recently seen first.
pub async fn logins(
    pool: &PgPool,
    user_id: Uuid,
    current: Option<Uuid>,
) -> Result<Vec<LoginView>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, created_at, last_seen_at, ip, user_agent FROM logins
          WHERE user_id = $1 ORDER BY last_seen_at DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| LoginView {
            id: r.get("id"),
            created_at: r.get("created_at"),
            last_seen_at: r.get("last_seen_at"),
            ip: r.get("ip"),
            user_agent: r.get("user_agent"),
            current: Some(r.get::<Uuid, _>("id")) == current,
        })
        .collect())
}

/// Ends one of the user's sign-ins (its browser is signed out on its next request).
/// `false` when there is no such sign-in of this user.
pub async fn end_login(
    pool: &PgPool,
    actor: Actor,
    user_id: Uuid,
    login_id: Uuid,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let ended = sqlx::query("DELETE FROM logins WHERE id = $1 AND user_id = $2")
        .bind(login_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if ended {
        let label = user_label(&mut tx, user_id).await?;
        record(
            &mut tx,
            &actor,
            "user.session_end",
            Target::new("user", user_id, &label),
            json!({"session": login_id}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ended)
}

/// The stored password hash of a user.
pub async fn password_hash(pool: &PgPool, user_id: Uuid) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Sets a new password and ends every other sign-in of the user (`keep`: this one).
/// Returns how many sessions were ended.
pub async fn set_password(
    pool: &PgPool,
    actor: Actor,
    user_id: Uuid,
    password_hash: &str,
    keep: Option<Uuid>,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user_id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    let ended = sqlx::query("DELETE FROM logins WHERE user_id = $1 AND id IS DISTINCT FROM $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let label = user_label(&mut tx, user_id).await?;
    record(
        &mut tx,
        &actor,
        "user.password",
        Target::new("user", user_id, &label),
        json!({"other_sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
