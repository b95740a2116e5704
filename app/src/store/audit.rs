//! The audit log: who (a user, an API token, a forge's webhook, the worker) did what to
//! what, when and from where. Entries are written in the same transaction as the change
//! they describe, so a change is never without its entry nor an entry without its change.

use super::StoreError;
use crate::domain::team::{AuditEntry, AuditPage, ValidAuditFilter, AUDIT_PAGE};
use sqlx::{PgPool, Row};
use uuid::Uuid;

pub use super::change::audit_entry::{record, Actor, By, Target};

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

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\"), "50\\%\\_a\\\\");
    }
}
