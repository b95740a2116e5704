//! A rollout's bookkeeping in Postgres: its lease and deadline, its outcome (with the
//! audit entry), and its log.

use crate::domain::notification::{Event, NotifyEvent};
use crate::domain::service::{DeployStep, DeploymentState};
use crate::store::StoreError;
use sqlx::PgPool;
use uuid::Uuid;

/// Takes (or keeps) the lease of a rollout and starts its clock: the first call sets it in
/// progress; the first call with a `deadline` (given once its image is present, so a pull
/// does not eat into it) sets its deadline to `now + deadline`; later calls only extend the
/// lease to `now + lease`. A rollout that ended meanwhile is left alone (the next reconcile reads it
/// closed). Whether the deadline has passed, or the lease was another process's, the worker
/// reads from the [`DeploymentRow`](super::DeploymentRow) before it plans.
pub async fn hold_rollout(
    pool: &PgPool,
    deployment_id: Uuid,
    owner: Uuid,
    deadline: Option<std::time::Duration>,
    lease: std::time::Duration,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE deployments SET
             state = 'in_progress',
             started_at = coalesce(started_at, now()),
             deadline = coalesce(deadline, now() + make_interval(secs => $3::float8)),
             lease_owner = $2,
             lease_until = now() + make_interval(secs => $4)
         WHERE id = $1 AND state IN ('pending', 'in_progress')",
    )
    .bind(deployment_id)
    .bind(owner)
    .bind(deadline.map(|d| d.as_secs_f64()))
    .bind(lease.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(())
}

/// Records the image a rollout resolved (`image_id`: `sha256:…`; `digest`: `repo@sha256:…`
/// when it came from a registry): its containers are created from that id from now on. A
/// rollout that ended meanwhile is left alone.
pub async fn record_image(
    pool: &PgPool,
    deployment_id: Uuid,
    image_id: &str,
    digest: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE deployments SET image_id = $2, image_digest = $3
         WHERE id = $1 AND state IN ('pending', 'in_progress')",
    )
    .bind(deployment_id)
    .bind(image_id)
    .bind(digest)
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends a rollout. When it succeeded it becomes the service's live deployment.
pub async fn finish_rollout(
    pool: &PgPool,
    service_id: Uuid,
    deployment_id: Uuid,
    state: DeploymentState,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "UPDATE deployments SET state = $2, reason = $3, finished_at = now(),
                lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND state IN ('pending', 'in_progress')",
    )
    .bind(deployment_id)
    .bind(state.as_str())
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 1 && state == DeploymentState::Succeeded {
        sqlx::query("UPDATE services SET live_deployment_id = $2 WHERE id = $1")
            .bind(service_id)
            .bind(deployment_id)
            .execute(&mut *tx)
            .await?;
    }
    if changed == 1 {
        let action = format!("deployment.{}", state.as_str());
        audit_outcome(&mut tx, service_id, deployment_id, &action, reason).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The worker's audit entry for how a deployment ended.
pub(in crate::store) async fn audit_outcome(
    conn: &mut sqlx::PgConnection,
    service_id: Uuid,
    deployment_id: Uuid,
    action: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    let row: Option<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT s.team_id, s.name, d.number FROM services s JOIN deployments d ON d.service_id = s.id
          WHERE s.id = $1 AND d.id = $2",
    )
    .bind(service_id)
    .bind(deployment_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((team_id, name, number)) = row else {
        return Ok(());
    };
    let reason: Option<String> = reason.map(|r| r.chars().take(300).collect());
    if let Some(event) = NotifyEvent::of_outcome(action) {
        let message = outcome_message(event, &name, number, reason.as_deref());
        let news = Event {
            event,
            service_id: Some(service_id),
            service: Some(name.clone()),
            deployment_id: Some(deployment_id),
            deployment: Some(number),
            message,
        };
        crate::store::notifications::enqueue(&mut *conn, team_id, &news).await?;
    }
    crate::store::audit::record(
        conn,
        &crate::store::audit::Actor::worker(team_id),
        action,
        crate::store::audit::Target::new("service", service_id, &name),
        serde_json::json!({"deployment": deployment_id, "number": number, "reason": reason}),
    )
    .await
}

/// How a deployment's end is told to a notification channel, in one line.
fn outcome_message(event: NotifyEvent, service: &str, number: i32, reason: Option<&str>) -> String {
    let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
    match event {
        NotifyEvent::DeploymentSucceeded => format!("Deployment #{number} of {service} is live."),
        NotifyEvent::BuildFailed => format!("Build #{number} of {service} failed{why}."),
        NotifyEvent::DeploymentRolledBack => {
            format!("Deployment #{number} of {service} failed and was rolled back{why}.")
        }
        _ => format!("Deployment #{number} of {service} failed{why}."),
    }
}

/// Appends a line to a deployment's log; `step` when the line marks a rollout step.
pub async fn log(
    pool: &PgPool,
    deployment_id: Uuid,
    step: Option<DeployStep>,
    line: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO deployment_logs (deployment_id, line, step) VALUES ($1, $2, $3)")
        .bind(deployment_id)
        .bind(line)
        .bind(step.map(DeployStep::as_str))
        .execute(pool)
        .await?;
    Ok(())
}
