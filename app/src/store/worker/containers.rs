//! What the worker observed of a service's containers, recorded in the `containers` table,
//! and the timeline events the difference to the previous record tells.

use crate::domain::notification::{container_alerts, Event};
use crate::domain::service::{container_changes, ContainerFacts, ReplicaIndex};
use crate::store::{change::add_event, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// One container as the worker records it: what Docker reported, with the worker's own
/// verdicts (health it probed, crash loop, the last lines of a crash-looping one).
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub deployment_id: Option<Uuid>,
    pub template: String,
    /// `None`: a labelled container without a replica label.
    pub replica: Option<ReplicaIndex>,
    pub state: String,
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    pub restart_count: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub crash_looping: bool,
    pub last_logs: Option<String>,
    pub ip: Option<String>,
    /// What is wrong with it, in words (out of memory, a failing health check's answer).
    pub note: Option<String>,
    /// The Swarm node (hostname) that runs it; `None` on a single engine.
    pub node: Option<String>,
    /// What the edge proxy dials for it in Swarm mode (`address:port`); `None`: its `ip`.
    pub dial: Option<String>,
}

/// Replaces what is recorded about a service's containers with what was just observed.
pub async fn record_containers(
    pool: &PgPool,
    service_id: Uuid,
    team_id: Uuid,
    observed: &[ContainerRecord],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let before: Vec<ContainerFacts> = sqlx::query(
        "SELECT id, replica, state, exit_code, restart_count, crash_looping, health, note
         FROM containers WHERE service_id = $1 FOR UPDATE",
    )
    .bind(service_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| ContainerFacts {
        id: r.get("id"),
        replica: ReplicaIndex::from_column(r.get("replica")),
        state: r.get("state"),
        exit_code: r.get("exit_code"),
        restart_count: r.get("restart_count"),
        crash_looping: r.get("crash_looping"),
        health: r.get("health"),
        note: r.get("note"),
    })
    .collect();
    let now: Vec<ContainerFacts> = observed
        .iter()
        .map(|c| ContainerFacts {
            id: c.id.clone(),
            replica: c.replica,
            state: c.state.clone(),
            exit_code: c.exit_code,
            restart_count: c.restart_count,
            crash_looping: c.crash_looping,
            health: c.health.clone(),
            note: c.note.clone(),
        })
        .collect();
    for (kind, message) in container_changes(&before, &now) {
        add_event(&mut *tx, service_id, kind, &message).await?;
    }
    if !container_alerts("", &before, &now).is_empty() {
        let name: String = sqlx::query_scalar("SELECT name FROM services WHERE id = $1")
            .bind(service_id)
            .fetch_one(&mut *tx)
            .await?;
        for (event, message) in container_alerts(&name, &before, &now) {
            let news = Event {
                service_id: Some(service_id),
                service: Some(name.clone()),
                ..Event::plain(event, message)
            };
            crate::store::notifications::enqueue(&mut *tx, team_id, &news).await?;
        }
    }
    let ids: Vec<&str> = observed.iter().map(|c| c.id.as_str()).collect();
    sqlx::query("DELETE FROM containers WHERE service_id = $1 AND NOT (id = ANY($2))")
        .bind(service_id)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    for c in observed {
        sqlx::query(
            "INSERT INTO containers (id, service_id, team_id, deployment_id, template, replica, name,
                 state, health, exit_code, restart_count, started_at, crash_looping, last_logs, ip, observed_at, note, node, dial)
             VALUES ($1, $2, $3,
                 (SELECT id FROM deployments WHERE id = $4), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now(), $16, $17, $18)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, health = excluded.health,
                 exit_code = excluded.exit_code, restart_count = excluded.restart_count,
                 started_at = excluded.started_at, crash_looping = excluded.crash_looping,
                 last_logs = coalesce(excluded.last_logs, containers.last_logs), ip = excluded.ip,
                 observed_at = now(), note = excluded.note, node = excluded.node, dial = excluded.dial",
        )
        .bind(&c.id)
        .bind(service_id)
        .bind(team_id)
        .bind(c.deployment_id)
        .bind(&c.template)
        .bind(ReplicaIndex::to_column(c.replica))
        .bind(&c.name)
        .bind(&c.state)
        .bind(&c.health)
        .bind(c.exit_code)
        .bind(c.restart_count)
        .bind(c.started_at)
        .bind(c.crash_looping)
        .bind(&c.last_logs)
        .bind(&c.ip)
        .bind(c.note.as_deref().map(clip_note))
        .bind(&c.node)
        .bind(&c.dial)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A note cut to what its column holds.
fn clip_note(note: &str) -> String {
    note.chars().take(1000).collect()
}
