//! Services as people see them: the team's list with status, one service, its stored
//! definition (secrets masked) and its timeline. Every read is scoped by team: another
//! team's id behaves exactly like an id that does not exist. Changes go through
//! [`super::change::ServiceChange`], driven by the command layer.

use super::StoreError;
use crate::domain::service::{
    ContainerView, DeploymentState, DeploymentView, EventKind, RouteStatus, ServiceEvent,
    ServiceSpec, ServiceStatus, ServiceView,
};
use sqlx::{types::Json, PgPool, Row};
use uuid::Uuid;

/// The stored spec with secrets masked, for an edit form or a scale request.
pub async fn spec(pool: &PgPool, team_id: Uuid, id: Uuid) -> Result<ServiceSpec, StoreError> {
    let spec: Option<Json<ServiceSpec>> =
        sqlx::query_scalar("SELECT spec FROM services WHERE id = $1 AND team_id = $2")
            .bind(id)
            .bind(team_id)
            .fetch_optional(pool)
            .await?;
    spec.map(|Json(s)| s.masked()).ok_or(StoreError::NotFound)
}

fn container_from_row(row: &sqlx::postgres::PgRow) -> ContainerView {
    ContainerView {
        id: row.get("id"),
        name: row.get("name"),
        replica: crate::domain::service::ReplicaIndex::from_column(row.get("replica")),
        deployment_id: row.get("deployment_id"),
        state: row.get("state"),
        health: row.get("health"),
        exit_code: row.get("exit_code"),
        restart_count: row.get("restart_count"),
        started_at: row.get("started_at"),
        crash_looping: row.get("crash_looping"),
        last_logs: row.get("last_logs"),
        ip: row.get("ip"),
        observed_at: row.get("observed_at"),
    }
}

/// The team's services with their status, by name; `only` narrows to one service.
async fn views(
    pool: &PgPool,
    team_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<ServiceView>, StoreError> {
    let services = sqlx::query(
        "SELECT s.id, s.name, s.spec, s.stopped, s.deleting, s.created_at, s.updated_at,
                live.number AS live_number, live.template AS live_template,
                r.upstreams AS route_upstreams, r.error AS route_error
         FROM services s LEFT JOIN deployments live ON live.id = s.live_deployment_id
              LEFT JOIN service_routes r ON r.service_id = s.id
         WHERE s.team_id = $1 AND ($2::uuid IS NULL OR s.id = $2)
         ORDER BY s.name",
    )
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let latest: Vec<DeploymentView> = super::deployments::latest(pool, team_id, only).await?;
    let containers = sqlx::query(
        "SELECT * FROM containers WHERE team_id = $1 AND ($2::uuid IS NULL OR service_id = $2)
         ORDER BY replica, name",
    )
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    Ok(services
        .iter()
        .map(|row| {
            let id: Uuid = row.get("id");
            let Json(spec): Json<ServiceSpec> = row.get("spec");
            let stopped: bool = row.get("stopped");
            let deleting: bool = row.get("deleting");
            let live_number: Option<i32> = row.get("live_number");
            let latest_deployment = latest.iter().find(|d| d.service_id == id).cloned();
            let containers: Vec<ContainerView> = containers
                .iter()
                .filter(|c| c.get::<Uuid, _>("service_id") == id)
                .map(container_from_row)
                .collect();
            let rolling_out = latest_deployment
                .as_ref()
                .is_some_and(|d| d.state.is_active());
            let failed = live_number.is_none()
                && latest_deployment.as_ref().is_some_and(|d| {
                    matches!(
                        d.state,
                        DeploymentState::Failed | DeploymentState::RolledBack
                    )
                });
            let desired = if stopped { 0 } else { spec.replicas };
            ServiceView {
                id,
                name: row.get("name"),
                status: ServiceStatus::summarize(
                    desired,
                    deleting,
                    rolling_out,
                    failed,
                    &containers,
                ),
                spec: spec.masked(),
                stopped,
                deleting,
                live_deployment: live_number,
                latest_deployment,
                containers,
                route: row
                    .get::<Option<i32>, _>("route_upstreams")
                    .map(|upstreams| RouteStatus {
                        upstreams,
                        error: row.get("route_error"),
                    }),
                urls: Vec::new(),
                created_at: row.get("created_at"),
                updated_at: row.get("updated_at"),
            }
        })
        .collect())
}

pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<ServiceView>, StoreError> {
    views(pool, team_id, None).await
}

pub async fn get(pool: &PgPool, team_id: Uuid, id: Uuid) -> Result<ServiceView, StoreError> {
    views(pool, team_id, Some(id))
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// A service's timeline, newest first: at most `limit` events.
pub async fn events(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
    limit: i64,
) -> Result<Vec<ServiceEvent>, StoreError> {
    let page = events_page(pool, team_id, service_id, None, limit).await?;
    Ok(page.into_iter().map(|(_, event)| event).collect())
}

/// A page of a service's timeline, newest first: events with an id below `before` (all
/// when `None`), at most `limit`, each with its id (the next page's `before`).
pub async fn events_page(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, ServiceEvent)>, StoreError> {
    let rows = sqlx::query_as::<_, (i64, chrono::DateTime<chrono::Utc>, String, String)>(
        "SELECT id, at, kind, message FROM service_events
         WHERE team_id = $1 AND service_id = $2 AND ($3::bigint IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4",
    )
    .bind(team_id)
    .bind(service_id)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at, kind, message)| {
            Some((
                id,
                ServiceEvent {
                    at,
                    kind: EventKind::parse(&kind)?,
                    message,
                },
            ))
        })
        .collect())
}
