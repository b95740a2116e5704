//! The volumes of a service deleted with its volumes: which ones go (none another service
//! of its environment mounts: volume names are per environment), and the audit entry of their removal.

use crate::domain::service::{volumes_left_unused, ServiceSpec};
use crate::store::change::audit_entry::{record, Actor, Target};
use crate::store::StoreError;
use serde_json::json;
use sqlx::{types::Json, PgPool};
use uuid::Uuid;

/// The volume names (as specs give them) that deleting service `service_id` of `team_id`
/// removes: none unless it is being deleted with its volumes; then every volume its stored
/// definition, live deployment or open rollout mounts that no other service of its
/// environment mounts in any of those.
pub async fn volumes_to_delete(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
) -> Result<Vec<String>, StoreError> {
    let delete: Option<bool> = sqlx::query_scalar(
        "SELECT delete_volumes FROM services WHERE id = $1 AND team_id = $2 AND deleting",
    )
    .bind(service_id)
    .bind(team_id)
    .fetch_optional(pool)
    .await?;
    if delete != Some(true) {
        return Ok(Vec::new());
    }
    let specs: Vec<(Uuid, Json<ServiceSpec>)> = sqlx::query_as(
        "WITH env AS (SELECT environment_id FROM services WHERE id = $2 AND team_id = $1)
         SELECT s.id, s.spec FROM services s, env WHERE s.environment_id = env.environment_id
         UNION ALL
         SELECT s.id, d.spec FROM services s JOIN deployments d ON d.service_id = s.id, env
          WHERE s.environment_id = env.environment_id
            AND (d.id = s.live_deployment_id OR d.state IN ('pending', 'in_progress'))",
    )
    .bind(team_id)
    .bind(service_id)
    .fetch_all(pool)
    .await?;
    let (mine, others): (Vec<_>, Vec<_>) = specs.into_iter().partition(|(id, _)| *id == service_id);
    let specs = |v: Vec<(Uuid, Json<ServiceSpec>)>| -> Vec<ServiceSpec> {
        v.into_iter().map(|(_, Json(s))| s).collect()
    };
    Ok(volumes_left_unused(&specs(mine), &specs(others)))
}

/// Records, as the worker, that the deletion of service `service_id` (`name`) removed the
/// volumes `removed` and kept `in_use` (name, the engine's reason) that a container still
/// mounts.
pub async fn audit_volumes_deleted(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
    name: &str,
    removed: &[String],
    in_use: &[(String, String)],
) -> Result<(), StoreError> {
    let kept: Vec<serde_json::Value> = in_use
        .iter()
        .map(|(volume, why)| json!({"volume": volume, "reason": why}))
        .collect();
    let mut conn = pool.acquire().await?;
    record(
        &mut conn,
        &Actor::worker(team_id),
        "service.volumes_delete",
        Target::new("service", service_id, name),
        json!({"removed": removed, "kept_in_use": kept}),
    )
    .await?;
    Ok(())
}
