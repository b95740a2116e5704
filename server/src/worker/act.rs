//! Acting on a plan: creating, starting and removing containers through the engine (those
//! about to be removed are drained from the proxy first), each told in the rollout's log or
//! on the service's timeline.

use super::context::{Goal, ReconcileError, Worker};
use super::observe::Probed;
use super::plan::{Action, Unhealthy};
use crate::engine::{ContainerError, Observed, ReplicaTemplate};
use app::domain::service::{DeployStep, EventKind, ReplicaIndex};
use app::store::worker::DesiredService;
use futures::future::join_all;
use std::time::Duration;
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
        probed: &Probed,
        unhealthy: &Unhealthy,
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
                    placement: &svc.placement,
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
                Action::Remove(id) | Action::Replace(id) => Some(id.clone()),
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
        let replaces = actions.iter().filter_map(|a| match a {
            Action::Replace(id) => Some(async move {
                self.engine.remove(id, self.grace()).await?;
                let line = replaced_line(
                    observed.iter().find(|c| c.id == *id),
                    &name_of(id),
                    unhealthy.get(id).copied().unwrap_or_default(),
                    self.settings.unhealthy_replace_after.unwrap_or_default(),
                    probed.notes.get(id).map(String::as_str),
                );
                Ok((DeployStep::StopOld, EventKind::Health, line))
            }),
            _ => None,
        });
        let mut results = join_all(runs).await;
        results.extend(join_all(starts).await);
        results.extend(join_all(removes).await);
        results.extend(join_all(replaces).await);
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

/// The timeline's line for a replica replaced because it stayed unhealthy: which, for how
/// long against the allowed time, and its check's last answer.
fn replaced_line(
    c: Option<&Observed>,
    name: &str,
    unhealthy_for: Duration,
    allowed: Duration,
    note: Option<&str>,
) -> String {
    let replica = ReplicaIndex::label(c.and_then(|c| c.replica));
    let last = note
        .map(|n| format!("; last check: {n}"))
        .unwrap_or_default();
    format!(
        "Replaced replica {replica} ({name}): unhealthy for {} s, the limit is {} s \
         (BERTH_UNHEALTHY_REPLACE_AFTER){last}.",
        unhealthy_for.as_secs(),
        allowed.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_says_why() {
        let c = Observed {
            replica: Some(ReplicaIndex(1)),
            ..Default::default()
        };
        assert_eq!(
            replaced_line(
                Some(&c),
                "berth-web-abc-1",
                Duration::from_secs(61),
                Duration::from_secs(60),
                Some("health check said: no /tmp/ok")
            ),
            "Replaced replica 1 (berth-web-abc-1): unhealthy for 61 s, the limit is 60 s \
             (BERTH_UNHEALTHY_REPLACE_AFTER); last check: health check said: no /tmp/ok."
        );
    }
}
