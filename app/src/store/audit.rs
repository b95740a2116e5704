//! The audit log: who (a user, an API token, a forge's webhook, the worker) did what to
//! what, when and from where. Entries are written in the same transaction as the change
//! they describe, so a change is never without its entry nor an entry without its change.

use super::StoreError;
use crate::domain::service::{Provider, ServiceSpec};
use crate::domain::team::{AuditEntry, AuditPage, ValidAuditFilter, AUDIT_PAGE};
use serde_json::{json, Map, Value};
use sqlx::{PgConnection, PgPool, Row};
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

/// `{field: {before, after}}` for every top-level field of a service definition that
/// changed. Give both sides open (or both sealed with the same nonces): they are compared
/// as given and shown masked, so a field whose only change is a secret value says so
/// without showing it.
pub fn spec_change(before: &ServiceSpec, after: &ServiceSpec) -> Value {
    let raw = |s: &ServiceSpec| serde_json::to_value(s).unwrap_or_default();
    let shown = |s: &ServiceSpec| serde_json::to_value(s.clone().masked()).unwrap_or_default();
    let (raw_before, raw_after) = (raw(before), raw(after));
    let (before, after) = (shown(before), shown(after));
    let mut out = Map::new();
    let keys = raw_before
        .as_object()
        .into_iter()
        .chain(raw_after.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>();
    for key in keys {
        if raw_before.get(&key) == raw_after.get(&key) {
            continue;
        }
        let (b, a) = (before.get(&key), after.get(&key));
        let entry = if b == a {
            json!("a secret value changed (not shown)")
        } else {
            json!({ "before": b, "after": a })
        };
        out.insert(key, entry);
    }
    Value::Object(out)
}

/// A page of the team's entries, newest first.
pub async fn page(
    pool: &PgPool,
    team_id: Uuid,
    filter: &ValidAuditFilter,
) -> Result<AuditPage, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at, actor_kind, actor, action, target_kind, target_id, target, ip, summary
           FROM audit_log
          WHERE team_id = $1
            AND ($2::text IS NULL OR actor ILIKE '%' || $2 || '%')
            AND ($3::text IS NULL OR action = $3 OR action LIKE rtrim($3, '.') || '.%')
            AND ($4::text IS NULL OR target ILIKE '%' || $4 || '%' OR target_id = $5)
            AND ($6::timestamptz IS NULL OR at >= $6)
            AND ($7::timestamptz IS NULL OR at <= $7)
            AND ($8::bigint IS NULL OR id < $8)
          ORDER BY id DESC
          LIMIT $9",
    )
    .bind(team_id)
    .bind(filter.actor.as_deref().map(escape_like))
    .bind(filter.action.as_deref())
    .bind(filter.target.as_deref().map(escape_like))
    .bind(filter.target_id)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.before)
    .bind(AUDIT_PAGE + 1)
    .fetch_all(pool)
    .await?;
    let mut entries: Vec<AuditEntry> = rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get("id"),
            at: r.get("at"),
            actor_kind: r.get("actor_kind"),
            actor: r.get("actor"),
            action: r.get("action"),
            target_kind: r.get("target_kind"),
            target_id: r.get("target_id"),
            target: r.get("target"),
            ip: r.get("ip"),
            summary: r.get("summary"),
        })
        .collect();
    let next_before = if entries.len() as i64 > AUDIT_PAGE {
        entries.truncate(AUDIT_PAGE as usize);
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(AuditPage {
        entries,
        next_before,
    })
}

/// `%` and `_` in a filter match themselves.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> ServiceSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn spec_change_names_fields_and_hides_secrets() {
        let a = spec(json!({"name": "web", "image": "a:1", "replicas": 1,
            "env": [{"key": "TOKEN", "value": "sealed-1", "secret": true}]}));
        let b = spec(json!({"name": "web", "image": "a:2", "replicas": 1,
            "env": [{"key": "TOKEN", "value": "sealed-2", "secret": true}]}));
        let c = spec_change(&a, &b);
        assert_eq!(c["image"], json!({"before": "a:1", "after": "a:2"}));
        assert_eq!(c["env"], json!("a secret value changed (not shown)"));
        assert!(c.get("replicas").is_none());
        assert!(!c.to_string().contains("sealed"));
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\"), "50\\%\\_a\\\\");
    }
}
