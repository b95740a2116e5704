//! One reconcile of one service: read desired (Postgres) and actual (Docker), plan, act,
//! record what is now true, and move the open deployment along.

use super::plan::{plan, Action, Seen, State, Target};
use super::{probe, Next, Worker};
use crate::engine::{ContainerError, Observed, ReplicaTemplate};
use app::domain::service::{
    DeployStep, DeploymentState, EventKind, HealthCheck, HealthProbe, RestartPolicy, ServiceSpec,
};
use app::store::{
    change::add_event,
    spec_secrets::open_env,
    worker::{self as store, ContainerRecord, DeploymentRow, DesiredService},
    StoreError,
};
use chrono::Utc;
use futures::future::join_all;
use std::{collections::HashSet, time::Duration};
use uuid::Uuid;

/// How often an open rollout is looked at while replicas become healthy.
const ROLLOUT_POLL: Duration = Duration::from_millis(500);
/// A container restarted this often, and not up for a minute, is crash-looping.
const CRASH_RESTARTS: i64 = 3;
const CRASH_STABLE_S: i64 = 60;
const LOG_TAIL: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// The deployment whose containers should run, with its spec opened.
struct Goal {
    deployment: DeploymentRow,
    spec: ServiceSpec,
    rolling: bool,
}

impl Worker {
    fn grace(&self) -> i32 {
        self.settings.stop_grace.as_secs() as i32
    }

    /// Service ids worth a look: every row, and every service a labelled container names
    /// (its row may be gone). A labelled container naming no service is removed here.
    pub(super) async fn all_services(&self) -> Result<Vec<Uuid>, ReconcileError> {
        let mut ids: HashSet<Uuid> = store::service_ids(&self.pool).await?.into_iter().collect();
        let (named, unnamed) = self.engine.managed_services().await?;
        ids.extend(named);
        for container in unnamed {
            tracing::info!(%container, "removing a Berth-labelled container that names no service");
            self.engine.remove(&container, self.grace()).await?;
        }
        Ok(ids.into_iter().collect())
    }

    #[tracing::instrument(name = "reconcile", skip(self), fields(service = %id))]
    pub(super) async fn reconcile(&self, id: Uuid) -> Result<Next, ReconcileError> {
        let observed = self.engine.managed_containers(Some(id)).await?;
        let Some(svc) = store::desired(&self.pool, id).await? else {
            for c in &observed {
                tracing::info!(container = %c.name, "removing an orphan: its service no longer exists");
                self.engine.remove(&c.id, self.grace()).await?;
            }
            return Ok(Next::Idle);
        };
        if svc.deleting {
            return self.finalize_delete(&svc, &observed).await;
        }

        let goal = self.goal(&svc, &observed).await?;
        let seen = self.seen(&svc, &observed, goal.as_ref()).await;
        let target = goal.as_ref().map(|g| Target {
            template: g.deployment.template.clone(),
            replicas: if svc.stopped { 0 } else { g.spec.replicas },
            rolling: g.rolling,
            stop_first: g.spec.ports.iter().any(|p| p.host.is_some()),
            restart_exited: g.spec.restart_policy != RestartPolicy::No,
        });
        let plan = plan(target.as_ref(), &seen);

        let acted = !plan.actions.is_empty();
        if acted {
            // What happened (a container died, was removed) is reported before the repair,
            // which can take a while (starting a container takes ~0.5 s).
            self.record(&svc, goal.as_ref(), &observed, &seen).await?;
        }
        if let Err(e) = self
            .apply(&svc, goal.as_ref(), &plan.actions, &observed)
            .await
        {
            match (&goal, e) {
                (Some(g), ReconcileError::Container(e)) if g.rolling && e.is_permanent() => {
                    self.fail_rollout(&svc, &g.deployment, &e.to_string())
                        .await?;
                    return Ok(Next::After(Duration::ZERO));
                }
                (_, e) => return Err(e),
            }
        }
        let observed = if acted {
            self.engine.managed_containers(Some(id)).await?
        } else {
            observed
        };
        self.record(&svc, goal.as_ref(), &observed, &seen).await?;
        if let Some(proxy) = &self.proxy {
            proxy.poke();
        }

        match goal {
            Some(g) if g.rolling && plan.converged => {
                let replicas = target.map_or(0, |t| t.replicas);
                let line = format!(
                    "All {replicas} replicas ready; deployment #{} is live.",
                    g.deployment.number
                );
                self.log(g.deployment.id, Some(DeployStep::Live), &line)
                    .await;
                self.event(svc.id, EventKind::Deployment, &line).await;
                store::finish_rollout(
                    &self.pool,
                    svc.id,
                    g.deployment.id,
                    DeploymentState::Succeeded,
                    None,
                )
                .await?;
                Ok(Next::Idle)
            }
            Some(g) if g.rolling => Ok(Next::After(ROLLOUT_POLL)),
            _ if acted => Ok(Next::After(Duration::from_secs(1))),
            _ => Ok(Next::Idle),
        }
    }

    /// The deployment to run: the open rollout while it is within its deadline and its
    /// image is available, else the live one.
    async fn goal(
        &self,
        svc: &DesiredService,
        observed: &[Observed],
    ) -> Result<Option<Goal>, ReconcileError> {
        if let Some(r) = &svc.rollout {
            let settings = &self.settings;
            let hold = store::hold_rollout(
                &self.pool,
                r.id,
                self.instance,
                settings.deploy_timeout,
                settings.lease,
            )
            .await?;
            let fresh = r.state == DeploymentState::Pending;
            if fresh {
                let replicas = if svc.stopped { 0 } else { r.spec.replicas };
                let line = format!(
                    "Rolling out deployment #{}: image {}, {replicas} replica(s), deadline {} s.",
                    r.number,
                    r.spec.image,
                    settings.deploy_timeout.as_secs()
                );
                self.log(r.id, None, &line).await;
                self.event(svc.id, EventKind::Deployment, &line).await;
            } else if hold.taken_over {
                self.log(
                    r.id,
                    None,
                    "Berth restarted during this rollout; resuming it from what Docker runs now.",
                )
                .await;
            }
            if hold.expired {
                let why = not_ready_reason(r, observed, settings.deploy_timeout);
                self.fail_rollout(svc, r, &why).await?;
            } else {
                match self.open_spec(svc.id, r) {
                    Ok(spec) => match self
                        .engine
                        .ensure_image(&spec.image, spec.registry_auth.as_ref())
                        .await
                    {
                        Ok(()) => {
                            if fresh {
                                let line = format!("Image {} is ready.", spec.image);
                                self.log(r.id, Some(DeployStep::Pull), &line).await;
                            }
                            return Ok(Some(Goal {
                                deployment: r.clone(),
                                spec,
                                rolling: true,
                            }));
                        }
                        Err(e) if e.is_permanent() => {
                            self.fail_rollout(svc, r, &e.to_string()).await?
                        }
                        Err(e) => return Err(e.into()),
                    },
                    Err(e) => self.fail_rollout(svc, r, &e.to_string()).await?,
                }
            }
        }
        match &svc.live {
            Some(live) => Ok(Some(Goal {
                spec: self.open_spec(svc.id, live)?,
                deployment: live.clone(),
                rolling: false,
            })),
            None => Ok(None),
        }
    }

    fn open_spec(&self, service_id: Uuid, d: &DeploymentRow) -> Result<ServiceSpec, StoreError> {
        let mut spec = d.spec.clone();
        open_env(&mut spec, service_id, &self.secrets)
            .map_err(|e| StoreError::Secret(e.to_string()))?;
        Ok(spec)
    }

    /// Ends a rollout that cannot succeed; the live deployment (if any) keeps serving, and
    /// the next plan removes the failed rollout's containers.
    async fn fail_rollout(
        &self,
        svc: &DesiredService,
        r: &DeploymentRow,
        reason: &str,
    ) -> Result<(), ReconcileError> {
        let (state, outcome) = match &svc.live {
            Some(live) => (
                DeploymentState::RolledBack,
                format!(
                    "{reason}; rolled back: deployment #{} keeps serving",
                    live.number
                ),
            ),
            None => (DeploymentState::Failed, reason.to_owned()),
        };
        tracing::warn!(deployment = r.number, %outcome, "rollout failed");
        self.log(r.id, None, &format!("Failed: {outcome}.")).await;
        let line = format!("Deployment #{} failed: {outcome}.", r.number);
        self.event(svc.id, EventKind::Deployment, &line).await;
        store::finish_rollout(&self.pool, svc.id, r.id, state, Some(&outcome)).await?;
        Ok(())
    }

    /// Readiness of each container: running, passing the health check of the deployment
    /// it belongs to, and (for a routed service) accepting connections on its HTTP port,
    /// so the proxy never sends it a request earlier. During a rollout the old replicas
    /// are judged by the live deployment's definition, the new ones by the rollout's.
    async fn seen(
        &self,
        svc: &DesiredService,
        observed: &[Observed],
        goal: Option<&Goal>,
    ) -> Vec<Seen> {
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
            Seen {
                id: c.id.clone(),
                template: c.template.clone(),
                replica: c.replica,
                state: State::from_docker(&c.state),
                ready,
            }
        });
        join_all(checks).await
    }

    async fn apply(
        &self,
        svc: &DesiredService,
        goal: Option<&Goal>,
        actions: &[Action],
        observed: &[Observed],
    ) -> Result<(), ReconcileError> {
        let name_of = |id: &str| {
            observed
                .iter()
                .find(|c| c.id == id)
                .map_or_else(|| id.to_owned(), |c| c.name.clone())
        };
        let rolling = goal.filter(|g| g.rolling);
        let wanted = goal.map_or(0, |g| if svc.stopped { 0 } else { g.spec.replicas });
        let runs = actions.iter().filter_map(|a| match a {
            Action::Create(n) => goal.map(|g| async move {
                let replica = ReplicaTemplate {
                    team_id: svc.team_id,
                    service_id: svc.id,
                    deployment_id: g.deployment.id,
                    template: &g.deployment.template,
                    replica: *n,
                    spec: &g.spec,
                };
                self.engine.run_replica(&replica).await?;
                let line = if g.rolling {
                    format!(
                        "Started replica {n} ({}); {wanted} wanted.",
                        replica.container_name()
                    )
                } else {
                    format!("Started replica {n}: it was not running.")
                };
                Ok::<_, ContainerError>((DeployStep::Start, EventKind::Repair, line))
            }),
            _ => None,
        });
        let starts = actions.iter().filter_map(|a| match a {
            Action::Start(id) => goal.map(|g| async move {
                self.engine.start(id, &g.spec).await?;
                let line = format!("Started stopped container {}.", name_of(id));
                Ok((DeployStep::Start, EventKind::Repair, line))
            }),
            _ => None,
        });
        let removing: Vec<String> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Remove(id) => Some(id.clone()),
                _ => None,
            })
            .collect();
        self.drain(svc, rolling.map(|g| g.deployment.id), &removing)
            .await;
        let removes = actions.iter().filter_map(|a| match a {
            Action::Remove(id) => Some(async move {
                self.engine.remove(id, self.grace()).await?;
                Ok(if rolling.is_some() {
                    let line = format!("Removed container {}.", name_of(id));
                    (DeployStep::StopOld, EventKind::Repair, line)
                } else if svc.stopped {
                    let line =
                        format!("Removed container {}: the service is stopped.", name_of(id));
                    (DeployStep::StopOld, EventKind::Stop, line)
                } else {
                    let line = format!(
                        "Removed container {}: it is not part of the live deployment.",
                        name_of(id)
                    );
                    (DeployStep::StopOld, EventKind::Repair, line)
                })
            }),
            _ => None,
        });
        let mut results = join_all(runs).await;
        results.extend(join_all(starts).await);
        results.extend(join_all(removes).await);
        let mut first_error = None;
        for result in results {
            match result {
                // A rollout's actions are steps of its log; anything else is a repair (or
                // a stop) and goes on the service's timeline.
                Ok((step, kind, line)) => {
                    tracing::info!("{line}");
                    match rolling {
                        Some(g) => self.log(g.deployment.id, Some(step), &line).await,
                        None => self.event(svc.id, kind, &line).await,
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "action failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Writes what Docker runs now, with health and crash-loop flags, to Postgres.
    async fn record(
        &self,
        svc: &DesiredService,
        goal: Option<&Goal>,
        observed: &[Observed],
        seen: &[Seen],
    ) -> Result<(), ReconcileError> {
        // Readiness Berth probes itself (an HTTP check, or a routed service's port) is
        // recorded as health; the proxy routes only to replicas recorded healthy.
        let berth_checked = |c: &Observed| {
            spec_for(svc, goal, c).is_some_and(|s| {
                s.http.is_some()
                    || s.health_check
                        .as_ref()
                        .is_some_and(|h| matches!(h.probe, HealthProbe::Http { .. }))
            })
        };
        let now = Utc::now();
        let mut records = Vec::with_capacity(observed.len());
        for c in observed {
            let up_long = c.state == "running"
                && c.started_at
                    .is_some_and(|t| (now - t).num_seconds() >= CRASH_STABLE_S);
            let crash_looping = c.restart_count >= CRASH_RESTARTS && !up_long;
            let last_logs = if crash_looping {
                self.engine.tail_logs(&c.id, LOG_TAIL).await.ok()
            } else {
                None
            };
            let health = if berth_checked(c) && c.state == "running" {
                // A replica started in this pass has not been probed yet.
                let ready = seen.iter().find(|s| s.id == c.id).map(|s| s.ready);
                let health = match ready {
                    Some(true) => "healthy",
                    Some(false) => "unhealthy",
                    None => "starting",
                };
                Some(health.to_owned())
            } else {
                c.health.clone()
            };
            records.push(ContainerRecord {
                id: c.id.clone(),
                name: c.name.clone(),
                deployment_id: c.deployment_id,
                template: c.template.clone(),
                replica: c.replica.map_or(-1, |r| r as i32),
                state: c.state.clone(),
                health,
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

    /// Takes containers about to be stopped out of the proxy's routes and waits the drain
    /// delay, so requests in flight finish and no new one reaches them.
    async fn drain(&self, svc: &DesiredService, rollout: Option<Uuid>, containers: &[String]) {
        let Some(proxy) = &self.proxy else { return };
        if containers.is_empty() || !proxy.drain(&self.pool, containers).await {
            return;
        }
        let delay = proxy.drain_delay();
        let line = format!(
            "Took {} replica(s) out of the routes; stopping them in {} s.",
            containers.len(),
            delay.as_secs_f64()
        );
        match rollout {
            Some(d) => self.log(d, Some(DeployStep::StopOld), &line).await,
            None => tracing::info!(service = %svc.name, "{line}"),
        }
        tokio::time::sleep(delay).await;
    }

    async fn finalize_delete(
        &self,
        svc: &DesiredService,
        observed: &[Observed],
    ) -> Result<Next, ReconcileError> {
        let ids: Vec<String> = observed.iter().map(|c| c.id.clone()).collect();
        self.drain(svc, None, &ids).await;
        let removals = observed
            .iter()
            .map(|c| self.engine.remove(&c.id, self.grace()));
        for r in join_all(removals).await {
            r?;
        }
        if self
            .engine
            .managed_containers(Some(svc.id))
            .await?
            .is_empty()
        {
            store::purge(&self.pool, svc.id).await?;
            tracing::info!(service = %svc.name, "service deleted");
            Ok(Next::Idle)
        } else {
            Ok(Next::After(Duration::from_secs(1)))
        }
    }

    /// Appends to a deployment's log; a failure to log does not stop the worker.
    async fn log(&self, deployment: Uuid, step: Option<DeployStep>, line: &str) {
        if let Err(e) = store::log(&self.pool, deployment, step, line).await {
            tracing::warn!(error = %e, "could not write the deployment log");
        }
    }

    /// Adds to a service's timeline; a failure to do so does not stop the worker.
    async fn event(&self, service: Uuid, kind: EventKind, message: &str) {
        if let Err(e) = add_event(&self.pool, service, kind, message).await {
            tracing::warn!(error = %e, "could not write the service timeline");
        }
    }
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

/// Why a rollout's replicas were not ready by the deadline, in words.
fn not_ready_reason(r: &DeploymentRow, observed: &[Observed], timeout: Duration) -> String {
    let mine: Vec<String> = observed
        .iter()
        .filter(|c| c.template == r.template)
        .map(|c| {
            let mut s = format!("replica {} {}", c.replica.map_or(-1, |n| n as i64), c.state);
            if let Some(h) = &c.health {
                s.push_str(&format!(" ({h})"));
            }
            if c.state == "exited" {
                if let Some(code) = c.exit_code {
                    s.push_str(&format!(" with code {code}"));
                }
            }
            if c.restart_count > 0 {
                s.push_str(&format!(", restarted {} times", c.restart_count));
            }
            s
        })
        .collect();
    let detail = if mine.is_empty() {
        "no replica was started".to_owned()
    } else {
        mine.join("; ")
    };
    let check = match r.spec.health_check.as_ref().map(|h| &h.probe) {
        Some(HealthProbe::Http { path, port }) => {
            format!(", health check GET {path} on port {port}")
        }
        Some(HealthProbe::Command { argv }) => format!(", health check command {argv:?}"),
        None => String::new(),
    };
    format!(
        "new replicas not ready within {} s ({detail}{check})",
        timeout.as_secs()
    )
}
