//! The audit entry a change writes in its own transaction: who (a user, an API token, a
//! forge's webhook, the worker) did what to what, from where.

use crate::domain::service::Provider;
use serde_json::Value;
use sqlx::PgConnection;
use std::net::IpAddr;
use uuid::Uuid;

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    User(Uuid),
    /// An API token; `user` created it (and its rights never exceed theirs).
    Token {
        token: Uuid,
        user: Uuid,
    },
    Webhook(Provider),
    Worker,
}

/// Who acts, in which team, from where: every change the store makes takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub team_id: Uuid,
    pub by: By,
    pub ip: Option<IpAddr>,
}

impl Actor {
    /// The caller of a request: a signed-in user, or an API token acting for its creator.
    pub fn of(me: &crate::domain::SessionInfo, ip: Option<IpAddr>) -> Actor {
        let by = match me.token {
            Some(token) => By::Token {
                token,
                user: me.user.id,
            },
            None => By::User(me.user.id),
        };
        Actor {
            team_id: me.team.id,
            by,
            ip,
        }
    }

    pub fn user(team_id: Uuid, user_id: Uuid) -> Actor {
        Actor {
            team_id,
            by: By::User(user_id),
            ip: None,
        }
    }

    pub fn worker(team_id: Uuid) -> Actor {
        Actor {
            team_id,
            by: By::Worker,
            ip: None,
        }
    }

    /// The person behind the change (a token's creator), if any.
    pub fn user_id(&self) -> Option<Uuid> {
        match self.by {
            By::User(u) | By::Token { user: u, .. } => Some(u),
            By::Webhook(_) | By::Worker => None,
        }
    }
}

/// What an entry is about.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub kind: &'a str,
    pub id: Option<Uuid>,
    pub label: &'a str,
}

impl<'a> Target<'a> {
    pub fn new(kind: &'a str, id: Uuid, label: &'a str) -> Self {
        Target {
            kind,
            id: Some(id),
            label,
        }
    }
}

/// Writes one entry. The actor's label (name and email, token name, forge) is copied now,
/// so the entry reads the same after they are gone.
pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    target: Target<'_>,
    summary: Value,
) -> Result<(), sqlx::Error> {
    let (kind, id, fallback) = match actor.by {
        By::User(u) => ("user", Some(u), "a deleted user".to_owned()),
        By::Token { token, .. } => ("token", Some(token), "a deleted token".to_owned()),
        By::Webhook(p) => ("webhook", None, format!("{} webhook", p.label())),
        By::Worker => ("worker", None, "Berth worker".to_owned()),
    };
    sqlx::query(
        "INSERT INTO audit_log (team_id, actor_kind, actor_id, actor, action, target_kind,
                                target_id, target, ip, summary)
         VALUES ($1, $2, $3,
                 coalesce(CASE $2
                   WHEN 'user' THEN (SELECT name || ' <' || email || '>' FROM users WHERE id = $3)
                   WHEN 'token' THEN (SELECT 'token ' || t.name || ' (of ' || u.name || ')'
                                        FROM api_tokens t JOIN users u ON u.id = t.created_by
                                       WHERE t.id = $3)
                 END, $4),
                 $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.team_id)
    .bind(kind)
    .bind(id)
    .bind(fallback)
    .bind(action)
    .bind(target.kind)
    .bind(target.id)
    .bind(target.label)
    .bind(actor.ip.map(|ip| ip.to_string()))
    .bind(summary)
    .execute(conn)
    .await?;
    Ok(())
}
