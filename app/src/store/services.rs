//! Services as people see them: the team's list with status, one service, its stored
//! definition (secrets masked) and its timeline. Every read is scoped by team: another
//! team's id behaves exactly like an id that does not exist. The container views every
//! carrier (REST, server functions, pages) gets are made here, once, as the reader's role
//! may see them. Changes go through [`super::change::ServiceChange`], driven by the
//! command layer.

use super::StoreError;
use crate::domain::service::{
    ContainerView, DeploymentState, DeploymentView, EventKind, ReplicaIndex, RouteStatus,
    ServiceEvent, ServiceSpec, ServiceStatus, ServiceView,
};
use crate::domain::Role;
use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgPool};
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

/// A service row with its live deployment's number and its route's state.
#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: Uuid,
    name: String,
    spec: Json<ServiceSpec>,
    stopped: bool,
    deleting: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    live_number: Option<i32>,
    route_upstreams: Option<i32>,
    route_error: Option<String>,
    project_id: Uuid,
    project: String,
    environment_id: Uuid,
    environment: String,
}

/// A `containers` row as a page shows it.
#[derive(sqlx::FromRow)]
struct ContainerRow {
    service_id: Uuid,
    id: String,
    name: String,
    replica: Option<i32>,
    deployment_id: Option<Uuid>,
    state: String,
    health: Option<String>,
    exit_code: Option<i64>,
    restart_count: i64,
    started_at: Option<DateTime<Utc>>,
    crash_looping: bool,
    last_logs: Option<String>,
    ip: Option<String>,
    observed_at: DateTime<Utc>,
    note: Option<String>,
    node: Option<String>,
}

impl From<ContainerRow> for ContainerView {
    fn from(r: ContainerRow) -> Self {
        ContainerView {
            id: r.id,
            name: r.name,
            replica: ReplicaIndex::from_column(r.replica),
            deployment_id: r.deployment_id,
            state: r.state,
            health: r.health,
            exit_code: r.exit_code,
            restart_count: r.restart_count,
            started_at: r.started_at,
            crash_looping: r.crash_looping,
            last_logs: r.last_logs,
            ip: r.ip,
            observed_at: r.observed_at,
            note: r.note,
            node: r.node,
        }
    }
}

impl ServiceRow {
    /// The page's view: the row with its newest deployment and its containers.
    fn into_view(
        self,
        latest: Option<DeploymentView>,
        containers: Vec<ContainerView>,
    ) -> ServiceView {
        let Json(spec) = self.spec;
        let rolling_out = latest.as_ref().is_some_and(|d| d.state.is_active());
        let failed = self.live_number.is_none()
            && latest.as_ref().is_some_and(|d| {
                matches!(
                    d.state,
                    DeploymentState::Failed | DeploymentState::RolledBack
                )
            });
        let desired = if self.stopped { 0 } else { spec.replicas };
        let status =
            ServiceStatus::summarize(desired, self.deleting, rolling_out, failed, &containers);
        let route_error = self.route_error;
        ServiceView {
            id: self.id,
            name: self.name,
            status,
            spec: spec.masked(),
            stopped: self.stopped,
            deleting: self.deleting,
            live_deployment: self.live_number,
            latest_deployment: latest,
            containers,
            route: self.route_upstreams.map(|upstreams| RouteStatus {
                upstreams,
                error: route_error,
            }),
            urls: Vec::new(),
            place: crate::domain::project::ServicePlace {
                project_id: self.project_id,
                project: self.project,
                environment_id: self.environment_id,
                environment: self.environment,
            },
            needs_redeploy: false,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The team's services with their status, by name, as a member with `reader`'s role may
/// see them (container output only for roles that may read it); `only` narrows to one
/// service.
async fn views(
    pool: &PgPool,
    team_id: Uuid,
    reader: Role,
    only: Option<Uuid>,
) -> Result<Vec<ServiceView>, StoreError> {
    views_in(pool, team_id, reader, only, None).await
}

/// [`views`], also narrowed to one environment (`environment`).
async fn views_in(
    pool: &PgPool,
    team_id: Uuid,
    reader: Role,
    only: Option<Uuid>,
    environment: Option<Uuid>,
) -> Result<Vec<ServiceView>, StoreError> {
    let services: Vec<ServiceRow> = sqlx::query_as(
        "SELECT s.id, s.name, s.spec, s.stopped, s.deleting, s.created_at, s.updated_at,
                live.number AS live_number,
                r.upstreams AS route_upstreams, r.error AS route_error,
                p.id AS project_id, p.name AS project,
                e.id AS environment_id, e.name AS environment
         FROM services s JOIN environments e ON e.id = s.environment_id
              JOIN projects p ON p.id = e.project_id
              LEFT JOIN deployments live ON live.id = s.live_deployment_id
              LEFT JOIN service_routes r ON r.service_id = s.id
         WHERE s.team_id = $1 AND ($2::uuid IS NULL OR s.id = $2)
           AND ($3::uuid IS NULL OR s.environment_id = $3)
         ORDER BY s.name, p.name, e.name",
    )
    .bind(team_id)
    .bind(only)
    .bind(environment)
    .fetch_all(pool)
    .await?;
    let mut latest: Vec<DeploymentView> = super::deployments::latest(pool, team_id, only).await?;
    let mut containers: Vec<ContainerRow> = sqlx::query_as(
        "SELECT service_id, id, name, replica, deployment_id, state, health, exit_code,
                restart_count, started_at, crash_looping, last_logs, ip, observed_at, note, node
         FROM containers WHERE team_id = $1 AND ($2::uuid IS NULL OR service_id = $2)
         ORDER BY replica, name",
    )
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    Ok(services
        .into_iter()
        .map(|row| {
            let id = row.id;
            let newest = latest
                .iter()
                .position(|d| d.service_id == id)
                .map(|i| latest.swap_remove(i));
            let (mine, rest): (Vec<_>, Vec<_>) =
                containers.drain(..).partition(|c| c.service_id == id);
            containers = rest;
            let mine = mine
                .into_iter()
                .map(|c| ContainerView::from(c).as_seen_by(reader))
                .collect();
            row.into_view(newest, mine)
        })
        .collect())
}

/// The team's services, as `reader`'s role may see them (see [`ContainerView::as_seen_by`]).
pub async fn list(
    pool: &PgPool,
    team_id: Uuid,
    reader: Role,
) -> Result<Vec<ServiceView>, StoreError> {
    views(pool, team_id, reader, None).await
}

/// The services of one environment of the team, by name.
pub async fn in_environment(
    pool: &PgPool,
    team_id: Uuid,
    reader: Role,
    environment: Uuid,
) -> Result<Vec<ServiceView>, StoreError> {
    views_in(pool, team_id, reader, None, Some(environment)).await
}

/// One service of the team, as `reader`'s role may see it; `NotFound` for an id that is not
/// the team's.
pub async fn get(
    pool: &PgPool,
    team_id: Uuid,
    reader: Role,
    id: Uuid,
) -> Result<ServiceView, StoreError> {
    views(pool, team_id, reader, Some(id))
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
