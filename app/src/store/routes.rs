//! Public HTTP routes: the host names each service claims (unique across Berth), what the
//! edge proxy should send where, and what it last applied.

use super::StoreError;
use crate::domain::service::{HttpRoute, ServiceSpec};
use sqlx::{types::Json, PgPool, Row};
use std::collections::HashMap;
use uuid::Uuid;

/// A service the proxy should route, with the replicas ready to take requests.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteSource {
    pub service_id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub route: HttpRoute,
    pub upstreams: Vec<Upstream>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub container_id: String,
    /// `ip:port` on the environment's network; in Swarm mode the task's node address and
    /// the port Swarm published its HTTP port on.
    pub dial: String,
}

/// Every routed service (not being deleted) and its ready replicas, as last recorded by
/// the worker. A replica is ready when it runs and its health is healthy or unknown (no
/// check); it is reached on the HTTP port of the deployment its template belongs to, so
/// during a rollout old and new replicas each get their own port.
pub async fn route_sources(pool: &PgPool) -> Result<Vec<RouteSource>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, team_id, name, spec FROM services
         WHERE NOT deleting AND spec ? 'http' AND spec->'http' <> 'null'::jsonb
         ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    let mut sources = Vec::with_capacity(rows.len());
    for row in &rows {
        let Json(spec): Json<ServiceSpec> = row.get("spec");
        let Some(route) = spec.http else { continue };
        sources.push(RouteSource {
            service_id: row.get("id"),
            team_id: row.get("team_id"),
            name: row.get("name"),
            route,
            upstreams: Vec::new(),
        });
    }
    let ready = sqlx::query(
        "SELECT c.service_id, c.id,
                coalesce(c.dial, c.ip || ':' || (dep.spec->'http'->>'port')) AS dial
         FROM containers c
         JOIN services s ON s.id = c.service_id AND NOT s.deleting
         CROSS JOIN LATERAL (
             SELECT d.spec FROM deployments d
             WHERE d.service_id = c.service_id AND d.template = c.template
             ORDER BY d.number DESC LIMIT 1) dep
         WHERE c.state = 'running' AND coalesce(c.health, 'healthy') = 'healthy'
           AND (c.dial IS NOT NULL
                OR (c.ip IS NOT NULL AND dep.spec->'http'->>'port' IS NOT NULL))
         ORDER BY c.service_id, c.replica, c.id",
    )
    .fetch_all(pool)
    .await?;
    let index: HashMap<Uuid, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.service_id, i))
        .collect();
    for row in &ready {
        let service: Uuid = row.get("service_id");
        let Some(&i) = index.get(&service) else {
            continue;
        };
        sources[i].upstreams.push(Upstream {
            container_id: row.get("id"),
            dial: row.get("dial"),
        });
    }
    Ok(sources)
}

/// What the proxy applied for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteState {
    pub service_id: Uuid,
    pub team_id: Uuid,
    pub upstreams: i32,
    pub error: Option<String>,
}

/// Writes the proxy's state for every routed service (rows change only when the state
/// does, so pages are told only of real changes) and forgets services no longer routed.
pub async fn record_route_states(pool: &PgPool, states: &[RouteState]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let ids: Vec<Uuid> = states.iter().map(|s| s.service_id).collect();
    sqlx::query("DELETE FROM service_routes WHERE NOT (service_id = ANY($1))")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    for s in states {
        sqlx::query(
            "INSERT INTO service_routes (service_id, team_id, upstreams, error)
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM services WHERE id = $1)
             ON CONFLICT (service_id) DO UPDATE
                 SET upstreams = EXCLUDED.upstreams, error = EXCLUDED.error, updated_at = now()
                 WHERE (service_routes.upstreams, service_routes.error)
                       IS DISTINCT FROM (EXCLUDED.upstreams, EXCLUDED.error)",
        )
        .bind(s.service_id)
        .bind(s.team_id)
        .bind(s.upstreams)
        .bind(&s.error)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The proxy's state for one service, if it has applied one (`team_id` scopes the read).
pub async fn route_state(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
) -> Result<Option<(i32, Option<String>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT upstreams, error FROM service_routes WHERE service_id = $1 AND team_id = $2",
    )
    .bind(service_id)
    .bind(team_id)
    .fetch_optional(pool)
    .await?)
}
