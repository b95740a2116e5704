//! Observation: whether each container is ready (Berth's own probes, or Docker's health),
//! whether it is crash-looping, and the one record of both a pass writes to Postgres.

use super::context::{Goal, ReconcileError, Worker};
use super::plan::{crash::crash_looping, Readiness};
use super::probe;
use crate::engine::Observed;
use app::domain::service::{out_of_memory_note, HealthProbe, ServiceSpec};
use app::store::worker::{self as store, ContainerRecord, DesiredService};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// Lines of a crash-looping container's output kept with its record.
const LOG_TAIL: usize = 20;

/// What a pass learnt of each container beyond what Docker reports, by container id.
#[derive(Debug, Default)]
pub(super) struct Probed {
    /// Ready: running, passing its health check, accepting connections when routed.
    pub ready: Readiness,
    /// The health to record (see [`health`]).
    pub health: HashMap<String, Option<String>>,
    /// What is wrong with it, in words (see [`note`]).
    pub notes: HashMap<String, String>,
}

/// What was learnt of one container: its id, whether it is ready, the health to record and
/// its note.
pub(super) type Checked = (String, bool, Option<String>, Option<String>);

impl FromIterator<Checked> for Probed {
    fn from_iter<I: IntoIterator<Item = Checked>>(checked: I) -> Self {
        let mut probed = Probed::default();
        for (id, ready, health, note) in checked {
            probed.ready.insert(id.clone(), ready);
            probed.health.insert(id.clone(), health);
            if let Some(n) = note {
                probed.notes.insert(id, n);
            }
        }
        probed
    }
}

impl Worker {
    /// Readiness of each container: running, passing the health check of the deployment
    /// it belongs to, and (for a routed service) accepting connections on its HTTP port,
    /// so the proxy never sends it a request earlier. During a rollout the old replicas
    /// are judged by the live deployment's definition, the new ones by the rollout's.
    /// With it, the health to record and what is wrong with each, in words.
    pub(super) async fn readiness(
        &self,
        svc: &DesiredService,
        observed: &[Observed],
        goal: Option<&Goal>,
    ) -> Probed {
        let now = Utc::now();
        let checks = observed.iter().map(|c| async move {
            let spec = spec_for(svc, goal, c);
            let check = if c.state == "running" {
                check_passes(c, spec).await
            } else {
                Err(None)
            };
            let ready = check.is_ok()
                && match (spec.and_then(|s| s.http.as_ref()), &c.ip) {
                    (None, _) => true,
                    (Some(route), Some(ip)) => {
                        probe::tcp_ok(ip, route.port, Duration::from_secs(2)).await
                    }
                    (Some(_), None) => false,
                };
            let health = health(spec, c, Some(ready), now);
            let note = note(c, health.as_deref(), check.err().flatten());
            (c.id.clone(), ready, health, note)
        });
        join_all(checks).await.into_iter().collect()
    }

    /// Writes what Docker runs, with health, crash-loop flags and notes, to Postgres: the
    /// one record of a pass.
    pub(super) async fn record(
        &self,
        svc: &DesiredService,
        observed: &[Observed],
        probed: &Probed,
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
                health: probed
                    .health
                    .get(&c.id)
                    .cloned()
                    .unwrap_or_else(|| c.health.clone()),
                exit_code: c.exit_code,
                restart_count: c.restart_count,
                started_at: c.started_at,
                crash_looping,
                last_logs,
                ip: c.ip.clone(),
                note: probed.notes.get(&c.id).cloned(),
                node: c.node.clone(),
                dial: c.dial.clone(),
            });
        }
        store::record_containers(&self.pool, svc.id, svc.team_id, &records).await?;
        Ok(())
    }

    /// How long each of a service's running replicas has been unhealthy without a break, as
    /// far as this process has seen (its clock starts at the first pass that records it
    /// unhealthy, and restarts with berth), by container id. Containers not unhealthy now
    /// are forgotten.
    pub(super) fn unhealthy_for(
        &self,
        service: Uuid,
        probed: &Probed,
    ) -> HashMap<String, Duration> {
        let now = Utc::now();
        let mut clock = self
            .unhealthy_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        clock.retain(|(s, id), _| *s != service || probed.health.get(id).is_some_and(is_unhealthy));
        probed
            .health
            .iter()
            .filter(|(_, h)| is_unhealthy(h))
            .map(|(id, _)| {
                let since = *clock.entry((service, id.clone())).or_insert(now);
                let for_ = (now - since).to_std().unwrap_or_default();
                (id.clone(), for_)
            })
            .collect()
    }
}

fn is_unhealthy(health: &Option<String>) -> bool {
    health.as_deref() == Some("unhealthy")
}

/// The health to record for `c`, made from `spec`, given whether it is `ready` (`None`:
/// not probed). Readiness Berth probes itself (an HTTP check, or a routed service's port)
/// is recorded as health — the proxy routes only to replicas recorded healthy. Like
/// Docker's, a replica not ready yet is "starting" (not "unhealthy") for its check's
/// `start_period_s + interval_s × retries` after it started; otherwise Docker's own health
/// status.
pub(super) fn health(
    spec: Option<&ServiceSpec>,
    c: &Observed,
    ready: Option<bool>,
    now: DateTime<Utc>,
) -> Option<String> {
    let berth_checked = spec.is_some_and(|s| {
        s.http.is_some()
            || s.health_check
                .as_ref()
                .is_some_and(|h| matches!(h.probe, HealthProbe::Http { .. }))
    });
    if !(berth_checked && c.state == "running") {
        return c.health.clone();
    }
    let grace = spec
        .and_then(|s| s.health_check.as_ref())
        .filter(|h| matches!(h.probe, HealthProbe::Http { .. }))
        .map_or(0, |h| {
            i64::from(h.start_period_s) + i64::from(h.interval_s) * i64::from(h.retries)
        });
    let starting = c
        .started_at
        .is_some_and(|t| (now - t).num_seconds() < grace);
    let health = match ready {
        Some(true) => "healthy",
        Some(false) if !starting => "unhealthy",
        // Not probed yet, or still in its start period.
        _ => "starting",
    };
    Some(health.to_owned())
}

/// What is wrong with `c`, in words: killed by its memory limit (its last exit), or why its
/// health check fails while it is recorded unhealthy (Berth's probe: `failed`; the image's
/// or a command check: Docker's last probe output).
pub(super) fn note(c: &Observed, health: Option<&str>, failed: Option<String>) -> Option<String> {
    if c.oom_killed {
        return Some(out_of_memory_note(c.memory_limit));
    }
    if health != Some("unhealthy") {
        return None;
    }
    failed.or_else(|| {
        c.health_output
            .as_ref()
            .map(|o| format!("health check said: {o}"))
    })
}

/// The definition a container was made from: the goal's, the live deployment's or the
/// open rollout's (by template; the rollout's as stored, secrets sealed, which is enough to
/// probe it when its deadline passed and the goal fell back); a stray one is judged by the
/// goal's.
pub(super) fn spec_for<'a>(
    svc: &'a DesiredService,
    goal: Option<&'a Goal>,
    c: &Observed,
) -> Option<&'a ServiceSpec> {
    let made_from = |d: &'a Option<app::store::worker::DeploymentRow>| {
        d.as_ref()
            .filter(|d| d.template == c.template)
            .map(|d| &d.spec)
    };
    match goal {
        Some(g) if g.deployment.template == c.template => Some(&g.spec),
        _ => made_from(&svc.live)
            .or_else(|| made_from(&svc.rollout))
            .or(goal.map(|g| &g.spec)),
    }
}

/// Whether a running container passes the health check of `spec` (Docker's own health
/// when it sets none; nothing when it turns the image's off); `Err` with what Berth's own
/// probe got, in words, when it does not.
pub(super) async fn check_passes(
    c: &Observed,
    spec: Option<&ServiceSpec>,
) -> Result<(), Option<String>> {
    let docker_says = |c: &Observed, none_ok: bool| match c.health.as_deref() {
        Some("healthy") => Ok(()),
        None if none_ok => Ok(()),
        _ => Err(None),
    };
    let Some(h) = spec.and_then(|s| s.health_check.as_ref()) else {
        return docker_says(c, true);
    };
    match (&h.probe, probe_address(c, &h.probe)) {
        (HealthProbe::Http { path, port }, Some((address, dialled))) => {
            let host = h.host.as_deref().or_else(|| {
                spec.and_then(|s| s.http.as_ref())
                    .and_then(|r| r.domains.first())
                    .map(String::as_str)
            });
            let timeout = Duration::from_secs(h.timeout_s.into());
            let got = probe::http(address, dialled, path, host, timeout).await;
            if got.is_ok() {
                return Ok(());
            }
            let host = host.map(|h| format!(" (Host {h})")).unwrap_or_default();
            Err(Some(format!(
                "health check GET {path}{host} on port {port}: {got}"
            )))
        }
        (HealthProbe::Http { .. }, None) if c.node.is_some() => Err(Some(
            "its health check port is not published on its node yet".into(),
        )),
        (HealthProbe::Http { .. }, None) => Err(Some("no address on the team network".into())),
        (HealthProbe::Command { .. }, _) => docker_says(c, false),
        (HealthProbe::None, _) => Ok(()),
    }
}

/// Where Berth's HTTP probe of `c` connects: on a single engine its address on the team
/// network and the check's port; in Swarm mode the check's port as published on the task's
/// node (`node_ports`). `None` for other probes, or when there is no such address yet.
fn probe_address<'a>(c: &'a Observed, probe: &HealthProbe) -> Option<(&'a str, u16)> {
    let HealthProbe::Http { port, .. } = probe else {
        return None;
    };
    match c.node_ports.get(port) {
        Some(dial) => split_address(dial),
        None if c.node.is_some() => None,
        None => c.ip.as_deref().map(|ip| (ip, *port)),
    }
}

/// `host:port` split at its last colon; `None` without a valid port.
pub(super) fn split_address(dial: &str) -> Option<(&str, u16)> {
    let (host, port) = dial.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::service::HealthCheck;

    fn http_checked(start_period_s: u32) -> ServiceSpec {
        let mut spec: ServiceSpec =
            serde_json::from_value(serde_json::json!({"name": "web", "image": "x"})).unwrap();
        spec.health_check = Some(HealthCheck {
            probe: HealthProbe::Http {
                path: "/".into(),
                port: 8000,
            },
            interval_s: 2,
            timeout_s: 1,
            retries: 3,
            start_period_s,
            host: None,
        });
        spec
    }

    fn running_since(secs: i64, now: DateTime<Utc>) -> Observed {
        Observed {
            state: "running".into(),
            started_at: Some(now - chrono::Duration::seconds(secs)),
            ..Default::default()
        }
    }

    #[test]
    fn a_berth_probed_replica_is_starting_until_its_check_had_its_time() {
        let now = Utc::now();
        let spec = http_checked(10);
        let health =
            |up: i64, ready: Option<bool>| health(Some(&spec), &running_since(up, now), ready, now);
        // 10 s start period + 2 s × 3 retries = 16 s.
        assert_eq!(health(15, Some(false)).as_deref(), Some("starting"));
        assert_eq!(health(16, Some(false)).as_deref(), Some("unhealthy"));
        assert_eq!(health(1, Some(true)).as_deref(), Some("healthy"));
        assert_eq!(health(100, None).as_deref(), Some("starting"));
    }

    #[test]
    fn dockers_health_is_recorded_for_what_berth_does_not_probe() {
        let now = Utc::now();
        let c = Observed {
            health: Some("unhealthy".into()),
            health_output: Some("no /tmp/ok".into()),
            ..running_since(100, now)
        };
        assert_eq!(
            health(None, &c, Some(false), now).as_deref(),
            Some("unhealthy")
        );
        assert_eq!(
            note(&c, Some("unhealthy"), None).as_deref(),
            Some("health check said: no /tmp/ok")
        );
        let killed = Observed {
            oom_killed: true,
            memory_limit: Some(16 << 20),
            ..c
        };
        assert_eq!(
            note(&killed, Some("unhealthy"), None).as_deref(),
            Some("killed: out of memory (limit 16 MB)")
        );
    }
}
