//! Reading deployments as people see them: a service's history and one deployment with its
//! log. One row type and one column list, mapped to the page's view in one place.

use super::StoreError;
use crate::domain::service::{
    CommitInfo, DeployStep, DeploymentLogLine, DeploymentState, DeploymentView, ServiceSpec,
};
use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgPool};
use uuid::Uuid;

/// The columns of [`DeploymentRow`], over `deployments d LEFT JOIN users u`.
pub(super) const DEPLOYMENT_COLUMNS: &str = "d.id, d.service_id, d.number, d.trigger,
    u.name AS triggered_by, d.state, d.reason, d.created_at, d.started_at, d.finished_at,
    d.deadline, d.spec, d.commit_sha, d.commit_message, d.commit_author, d.provider,
    d.build_started_at, d.build_finished_at, d.image_removed, d.image_id, d.image_digest";

/// A deployment row as stored (the spec sealed).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct DeploymentRow {
    id: Uuid,
    service_id: Uuid,
    number: i32,
    trigger: String,
    triggered_by: Option<String>,
    state: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
    spec: Json<ServiceSpec>,
    commit_sha: Option<String>,
    commit_message: Option<String>,
    commit_author: Option<String>,
    provider: Option<String>,
    build_started_at: Option<DateTime<Utc>>,
    build_finished_at: Option<DateTime<Utc>>,
    image_removed: bool,
    image_id: Option<String>,
    image_digest: Option<String>,
}

impl From<DeploymentRow> for DeploymentView {
    fn from(r: DeploymentRow) -> Self {
        DeploymentView {
            id: r.id,
            service_id: r.service_id,
            number: r.number,
            trigger: r.trigger,
            triggered_by: r.triggered_by,
            state: DeploymentState::parse(&r.state).unwrap_or(DeploymentState::Failed),
            reason: r.reason,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            deadline: r.deadline,
            spec: r.spec.0.masked(),
            commit: r.commit_sha.map(|sha| CommitInfo {
                sha,
                message: r.commit_message,
                author: r.commit_author,
            }),
            provider: r.provider,
            build_started_at: r.build_started_at,
            build_finished_at: r.build_finished_at,
            image_removed: r.image_removed,
            image_id: r.image_id,
            image_digest: r.image_digest,
        }
    }
}

/// The newest deployment of each of the team's services (`only`: of that one service).
pub(super) async fn latest(
    pool: &PgPool,
    team_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<DeploymentView>, StoreError> {
    let rows: Vec<DeploymentRow> = sqlx::query_as(&format!(
        "SELECT DISTINCT ON (d.service_id) {DEPLOYMENT_COLUMNS}
         FROM deployments d LEFT JOIN users u ON u.id = d.triggered_by
         WHERE d.team_id = $1 AND ($2::uuid IS NULL OR d.service_id = $2)
         ORDER BY d.service_id, d.number DESC"
    ))
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A service's deployments, newest first: at most `limit`, numbered below `before` when
/// given (the cursor of the next page). Another team's service is [`StoreError::NotFound`].
pub async fn history(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
    limit: i64,
    before: Option<i32>,
) -> Result<Vec<DeploymentView>, StoreError> {
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM services WHERE id = $1 AND team_id = $2")
            .bind(service_id)
            .bind(team_id)
            .fetch_optional(pool)
            .await?;
    exists.ok_or(StoreError::NotFound)?;
    let rows: Vec<DeploymentRow> = sqlx::query_as(&format!(
        "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d LEFT JOIN users u ON u.id = d.triggered_by
         WHERE d.team_id = $1 AND d.service_id = $2 AND ($4::int IS NULL OR d.number < $4)
         ORDER BY d.number DESC LIMIT $3"
    ))
    .bind(team_id)
    .bind(service_id)
    .bind(limit)
    .bind(before)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// One deployment of the team and its log, oldest line first.
pub async fn with_log(
    pool: &PgPool,
    team_id: Uuid,
    id: Uuid,
) -> Result<(DeploymentView, Vec<DeploymentLogLine>), StoreError> {
    let row: DeploymentRow = sqlx::query_as(&format!(
        "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d LEFT JOIN users u ON u.id = d.triggered_by
         WHERE d.team_id = $1 AND d.id = $2"
    ))
    .bind(team_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    let lines = sqlx::query_as::<_, (DateTime<Utc>, String, Option<String>)>(
        "SELECT at, line, step FROM deployment_logs WHERE deployment_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(at, line, step)| DeploymentLogLine {
        at,
        line,
        step: step.as_deref().and_then(DeployStep::parse),
    })
    .collect();
    Ok((row.into(), lines))
}
