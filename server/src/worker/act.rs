//! Acting on a plan: creating, starting and removing containers through the engine (those
//! about to be removed are drained from the proxy first), each told in the rollout's log or
//! on the service's timeline.

use super::context::{Goal, ReconcileError, Worker};
use super::plan::Action;
use crate::engine::{ContainerError, Observed, ReplicaTemplate};
use app::domain::service::{DeployStep, EventKind};
use app::store::worker::DesiredService;
use futures::future::join_all;
use uuid::Uuid;

impl Worker {
    /// Applies `actions` (of the plan for `goal`); every action runs, and the first error
    /// is returned.
    pub(super) async fn apply(
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
        let wanted = goal.map_or(0, |g| g.replicas(svc.stopped));
        let runs = actions.iter().filter_map(|a| match a {
            Action::Create(n) => goal.map(|g| async move {
                let replica = ReplicaTemplate {
                    team_id: svc.team_id,
                    service_id: svc.id,
                    deployment_id: g.deployment.id,
                    template: &g.deployment.template,
                    replica: *n,
                    image: g.image(),
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

    /// Takes containers about to be stopped out of the proxy's routes and waits the drain
    /// delay, so requests in flight finish and no new one reaches them.
    pub(super) async fn drain(
        &self,
        svc: &DesiredService,
        rollout: Option<Uuid>,
        containers: &[String],
    ) {
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
}
