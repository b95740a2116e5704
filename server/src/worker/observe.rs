//! Observation: whether each container is ready (Berth's own probes, or Docker's health),
//! whether it is crash-looping, and the one record of both a pass writes to Postgres.

use super::context::{Goal, ReconcileError, Worker};
use super::plan::{crash::crash_looping, Readiness};
use super::probe;
use crate::engine::Observed;
use app::domain::service::{HealthCheck, HealthProbe, ServiceSpec};
use app::store::worker::{self as store, ContainerRecord, DesiredService};
use chrono::Utc;
use futures::future::join_all;
use std::time::Duration;

/// Lines of a crash-looping container's output kept with its record.
const LOG_TAIL: usize = 20;

impl Worker {
    /// Readiness of each container: running, passing the health check of the deployment
    /// it belongs to, and (for a routed service) accepting connections on its HTTP port,
    /// so the proxy never sends it a request earlier. During a rollout the old replicas
    /// are judged by the live deployment's definition, the new ones by the rollout's.
    pub(super) async fn readiness(
        &self,
        svc: &DesiredService,
        observed: &[Observed],
        goal: Option<&Goal>,
    ) -> Readiness {
        let checks = observed.iter().map(|c| async move {
            let spec = spec_for(svc, goal, c);
            let ready = c.state == "running"
                && check_passes(c, spec.and_then(|s| s.health_check.as_ref())).await
                && match (spec.and_then(|s| s.http.as_ref()), &c.ip) {
                    (None, _) => true,
                    (Some(route), Some(ip)) => {
                        probe::tcp_ok(ip, route.port, Duration::from_secs(2)).await
                    }
                    (Some(_), None) => false,
                };
            (c.id.clone(), ready)
        });
        join_all(checks).await.into_iter().collect()
    }

    /// Writes what Docker runs, with health and crash-loop flags, to Postgres: the one
    /// record of a pass.
    pub(super) async fn record(
        &self,
        svc: &DesiredService,
        goal: Option<&Goal>,
        observed: &[Observed],
        ready: &Readiness,
    ) -> Result<(), ReconcileError> {
        let mut records = Vec::with_capacity(observed.len());
        let now = Utc::now();
        for c in observed {
            let crash_looping = crash_looping(c, now);
            let last_logs = if crash_looping {
                self.engine.tail_logs(&c.id, LOG_TAIL).await.ok()
            } else {
                None
            };
            records.push(ContainerRecord {
                id: c.id.clone(),
                name: c.name.clone(),
                deployment_id: c.deployment_id,
                template: c.template.clone(),
                replica: c.replica,
                state: c.state.clone(),
                health: health(svc, goal, c, ready),
                exit_code: c.exit_code,
                restart_count: c.restart_count,
                started_at: c.started_at,
                crash_looping,
                last_logs,
                ip: c.ip.clone(),
            });
        }
        store::record_containers(&self.pool, svc.id, svc.team_id, &records).await?;
        Ok(())
    }
}

/// The health to record. Readiness Berth probes itself (an HTTP check, or a routed
/// service's port) is recorded as health — the proxy routes only to replicas recorded
/// healthy; otherwise Docker's own health status.
fn health(
    svc: &DesiredService,
    goal: Option<&Goal>,
    c: &Observed,
    ready: &Readiness,
) -> Option<String> {
    let berth_checked = spec_for(svc, goal, c).is_some_and(|s| {
        s.http.is_some()
            || s.health_check
                .as_ref()
                .is_some_and(|h| matches!(h.probe, HealthProbe::Http { .. }))
    });
    if !(berth_checked && c.state == "running") {
        return c.health.clone();
    }
    let health = match ready.get(&c.id) {
        Some(true) => "healthy",
        Some(false) => "unhealthy",
        // Not probed yet.
        None => "starting",
    };
    Some(health.to_owned())
}

/// The definition a container was made from: the rollout's or the live deployment's (by
/// template); a stray one is judged by the goal's.
fn spec_for<'a>(
    svc: &'a DesiredService,
    goal: Option<&'a Goal>,
    c: &Observed,
) -> Option<&'a ServiceSpec> {
    match (goal, &svc.live) {
        (Some(g), _) if g.deployment.template == c.template => Some(&g.spec),
        (_, Some(live)) if live.template == c.template => Some(&live.spec),
        (Some(g), _) => Some(&g.spec),
        (None, _) => None,
    }
}

/// Whether a running container passes `check` (Docker's own health when it has none).
async fn check_passes(c: &Observed, check: Option<&HealthCheck>) -> bool {
    match check {
        Some(h) => match (&h.probe, &c.ip) {
            (HealthProbe::Http { path, port }, Some(ip)) => {
                probe::http_ok(ip, *port, path, Duration::from_secs(h.timeout_s.into())).await
            }
            (HealthProbe::Http { .. }, None) => false,
            (HealthProbe::Command { .. }, _) => c.health.as_deref() == Some("healthy"),
        },
        None => c.health.as_deref().is_none_or(|h| h == "healthy"),
    }
}
