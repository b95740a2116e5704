//! New deployment rows: a `pending` rollout of a definition, or a `queued` build.

use super::audit_entry::Actor;
use super::{clip, new_template};
use crate::domain::service::{CommitInfo, Provider, ServiceSpec};
use sqlx::{types::Json, Postgres, Transaction};
use uuid::Uuid;

/// The channel the builder listens on; the payload is a deployment id.
pub const BUILD_CHANNEL: &str = "berth_builds";

/// The commit a push names, and the forge that sent it.
#[derive(Debug, Clone, Copy)]
pub struct BuildCommit<'a> {
    pub provider: Provider,
    pub commit: &'a CommitInfo,
}

/// Inserts a `pending` deployment of `sealed_spec`; an open deployment (pending or in
/// progress) is superseded by it.
pub(super) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    service_id: Uuid,
    actor: Actor,
    sealed_spec: &ServiceSpec,
    template: &str,
    trigger: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query(
        "UPDATE deployments SET state = 'superseded', finished_at = now(),
                reason = 'replaced by a newer change before it finished'
         WHERE service_id = $1 AND state IN ('pending', 'in_progress')",
    )
    .bind(service_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query_scalar(
        "INSERT INTO deployments (service_id, team_id, number, spec, template, trigger, triggered_by)
         VALUES ($1, $2,
                 (SELECT coalesce(max(number), 0) + 1 FROM deployments WHERE service_id = $1),
                 $3, $4, $5, $6)
         RETURNING id",
    )
    .bind(service_id)
    .bind(actor.team_id)
    .bind(Json(sealed_spec))
    .bind(template)
    .bind(trigger)
    .bind(actor.user_id())
    .fetch_one(&mut **tx)
    .await
}

/// Queues a build of the pushed commit (`None`: the branch head when the build starts). A build of
/// the same service still waiting in the queue is superseded: only the newest push matters.
pub async fn queue_build(
    tx: &mut Transaction<'_, Postgres>,
    service_id: Uuid,
    actor: Actor,
    trigger: &str,
    pushed: Option<BuildCommit<'_>>,
) -> Result<(Uuid, i32), sqlx::Error> {
    let provider = pushed.map(|p| p.provider);
    let commit = pushed.map(|p| p.commit);
    sqlx::query(
        "UPDATE deployments SET state = 'superseded', finished_at = now(),
                reason = 'a newer build was queued before this one started'
         WHERE service_id = $1 AND state = 'queued'",
    )
    .bind(service_id)
    .execute(&mut **tx)
    .await?;
    let (id, number): (Uuid, i32) = sqlx::query_as(
        "INSERT INTO deployments (service_id, team_id, number, spec, template, trigger, triggered_by,
                                  state, provider, commit_sha, commit_message, commit_author)
         SELECT $1, team_id,
                (SELECT coalesce(max(number), 0) + 1 FROM deployments WHERE service_id = $1),
                spec, $2, $3, $4, 'queued', $5, $6, $7, $8
         FROM services WHERE id = $1
         RETURNING id, number",
    )
    .bind(service_id)
    .bind(new_template())
    .bind(trigger)
    .bind(actor.user_id())
    .bind(provider.map(Provider::as_str))
    .bind(commit.map(|c| c.sha.as_str()))
    .bind(commit.and_then(|c| c.message.as_deref()).map(|m| clip(m, 2000)))
    .bind(commit.and_then(|c| c.author.as_deref()).map(|a| clip(a, 200)))
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(BUILD_CHANNEL)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok((id, number))
}
