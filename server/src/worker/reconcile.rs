//! One reconcile of one service, in order: read what should run (Postgres) and what runs
//! (Docker) → plan (pure: the rollout's steps, then the container actions) → record what
//! was observed, once → act (the rollout's steps, the containers) → end the rollout when
//! it converged. A service being deleted is finalised instead ([`delete`](super::delete)).

use super::context::{Goal, Next, ReconcileError, Worker};
use super::gate::Gated;
use super::plan::rollout::{decide, RolloutFacts, Source};
use super::plan::{plan, Plan};
use super::rollout::{AfterSteps, OpenRollout};
use super::settings::Orchestrator;
use app::domain::service::{RestartPolicy, ServiceSpec};
use app::store::{
    spec_secrets::open_env,
    worker::{self as store, DeploymentRow, DesiredService},
    StoreError,
};
use chrono::Utc;
use std::{collections::HashSet, time::Duration};
use uuid::Uuid;

/// How often an open rollout is looked at while replicas become healthy.
const ROLLOUT_POLL: Duration = Duration::from_millis(500);
/// How often a rollout whose image is being pulled is looked at.
const PULL_POLL: Duration = Duration::from_secs(1);

impl Worker {
    /// Service ids worth a look: every row, and every service a labelled container names
    /// (its row may be gone). A labelled container naming no service is removed here.
    pub(super) async fn all_services(&self) -> Result<Vec<Uuid>, ReconcileError> {
        let mut ids: HashSet<Uuid> = store::service_ids(&self.pool).await?.into_iter().collect();
        let (named, unnamed) = self.engine.managed_services().await?;
        ids.extend(named);
        if self.settings.orchestrator == Orchestrator::Swarm {
            ids.extend(self.engine.swarm_service_ids().await?);
        }
        for container in unnamed {
            tracing::info!(%container, "removing a Berth-labelled container that names no service");
            self.engine.remove(&container, self.grace()).await?;
        }
        self.sweep_networks().await;
        Ok(ids.into_iter().collect())
    }

    /// Removes the networks of deleted environments. The engine is listed before the
    /// database is read, so a network listed belongs to an environment committed already.
    async fn sweep_networks(&self) {
        let swept = async {
            let made = self.engine.managed_networks().await?;
            let kept = app::store::projects::networks(&self.pool).await?;
            // An environment's overlay (Swarm mode) is its network's name with `-swarm`.
            let is_kept = |n: &String| {
                kept.iter()
                    .any(|k| k == n || n.strip_suffix("-swarm") == Some(k.as_str()))
            };
            for network in made.into_iter().filter(|n| !is_kept(n)) {
                if self.engine.remove_network(&network).await? {
                    tracing::info!(%network, "removed the network of a deleted environment");
                }
            }
            Ok::<_, ReconcileError>(())
        };
        if let Err(e) = swept.await {
            tracing::warn!(error = %e, "resync: cannot sweep networks");
        }
    }

    #[tracing::instrument(name = "reconcile", skip(self), fields(service = %id))]
    pub(super) async fn reconcile(&self, id: Uuid) -> Result<Next, ReconcileError> {
        if self.settings.orchestrator == Orchestrator::Swarm {
            return self.reconcile_swarm(id).await;
        }
        // Read: what runs, and what should.
        let observed = self.engine.managed_containers(Some(id)).await?;
        let Some(svc) = store::desired(&self.pool, id).await? else {
            self.pulls.stop_others(id, None);
            for c in &observed {
                tracing::info!(container = %c.name, "removing an orphan: its service no longer exists");
                self.engine.remove(&c.id, self.grace()).await?;
            }
            return Ok(Next::Idle);
        };
        // A pull goes on only for the rollout wanted now (not one superseded or deleted).
        let wanted = svc.rollout.as_ref().filter(|_| !svc.deleting).map(|r| r.id);
        for stopped in self.pulls.stop_others(id, wanted) {
            if !svc.deleting {
                let line = "Pull stopped: this deployment is no longer the one to roll out.";
                self.log(stopped, None, line).await;
            }
        }
        if svc.deleting {
            return self.finalize_delete(&svc, &observed).await;
        }
        // A deployment waiting for its dependencies is not read (its env is resolved when
        // its rollout begins, after the wait): the live version runs meanwhile.
        let Some((waiting, rollout)) = self.gated_rollout(&svc).await? else {
            return Ok(Next::After(Duration::ZERO));
        };

        // Plan: the rollout's steps and where the containers come from, then (with the
        // containers' readiness) the container actions.
        let facts = rollout.as_ref().map(|(_, facts)| facts);
        let decision = decide(
            facts,
            &observed,
            svc.live.is_some(),
            self.instance,
            Utc::now(),
        );
        let rollout = rollout.map(|(open, _)| open);
        let goal = self.goal(&svc, rollout.as_ref(), decision.source)?;
        let probed = self.readiness(&svc, &observed, goal.as_ref()).await;
        let unhealthy = self.unhealthy_for(svc.id, &probed);
        let target = goal
            .as_ref()
            .map(|g| g.target(svc.stopped, self.settings.unhealthy_replace_after));
        let plan = if decision.plan_containers {
            plan(target.as_ref(), &observed, &probed.ready, &unhealthy)
        } else {
            Plan::default()
        };

        // Record what was observed, once. Before acting: what happened (a container died,
        // was removed) shows before its repair, which can take a while; the repair's
        // outcome is recorded by the pass its Docker events (or `Next`) bring.
        self.record(&svc, &observed, &probed).await?;

        // Act: the rollout's steps, then the containers.
        if let Some(r) = &rollout {
            let after = self
                .rollout_steps(&svc, r, &decision.steps, &observed, &probed)
                .await?;
            match after {
                AfterSteps::LookAgain => return Ok(Next::After(Duration::ZERO)),
                AfterSteps::Wait => return Ok(Next::After(PULL_POLL)),
                AfterSteps::Continue => {}
            }
        }
        let acted = !plan.actions.is_empty();
        if let Err(e) = self
            .apply(
                &svc,
                goal.as_ref(),
                &plan.actions,
                &observed,
                &probed,
                &unhealthy,
            )
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
        if let Some(proxy) = &self.proxy {
            proxy.poke();
        }

        match goal {
            Some(g) if g.rolling && plan.converged => {
                self.complete_rollout(&svc, &g.deployment, g.replicas(svc.stopped))
                    .await?;
                Ok(Next::Idle)
            }
            Some(g) if g.rolling => Ok(Next::After(ROLLOUT_POLL)),
            _ if acted || waiting => Ok(Next::After(Duration::from_secs(1))),
            _ => Ok(Next::Idle),
        }
    }

    /// The dependency gate, then the open rollout unless its deployment waits for its
    /// dependencies (its env is resolved when the wait ends; the live version runs
    /// meanwhile). `None`: the gate failed the deployment, look again at once; else whether
    /// it waits, and the rollout as read.
    pub(super) async fn gated_rollout(
        &self,
        svc: &DesiredService,
    ) -> Result<Option<(bool, Option<(OpenRollout, RolloutFacts)>)>, ReconcileError> {
        Ok(match self.dependency_gate(svc).await? {
            Gated::Open => Some((false, self.read_rollout(svc).await?)),
            Gated::Waiting => Some((true, None)),
            Gated::Failed => None,
        })
    }

    /// The open rollout, with its spec opened and what the plan needs to know of it: its
    /// clock, its lease, whether the engine has its image, and how its containers are known.
    async fn read_rollout(
        &self,
        svc: &DesiredService,
    ) -> Result<Option<(OpenRollout, RolloutFacts)>, ReconcileError> {
        let Some(row) = &svc.rollout else {
            return Ok(None);
        };
        let spec = match self.open_spec(svc.id, row) {
            Ok(spec) => self.resolve_rollout_env(svc, row, spec).await?,
            Err(e) => Err(e.to_string()),
        };
        // Resolved (its id recorded) and still on the engine.
        let image_present = match (&spec, &row.image_id) {
            (Ok(_), Some(id)) => self.engine.local_image(id).await?.is_some(),
            _ => false,
        };
        let facts = RolloutFacts {
            state: row.state,
            deadline: row.deadline,
            lease_owner: row.lease_owner,
            spec_error: spec.as_ref().err().cloned(),
            image_present,
            template: row.template.clone(),
            restarts_exited: row.spec.restart_policy != RestartPolicy::No,
        };
        let open = OpenRollout {
            row: row.clone(),
            spec,
            image_ready: image_present,
        };
        Ok(Some((open, facts)))
    }

    /// The deployment whose containers should run, as the plan chose it.
    pub(super) fn goal(
        &self,
        svc: &DesiredService,
        rollout: Option<&OpenRollout>,
        source: Source,
    ) -> Result<Option<Goal>, ReconcileError> {
        Ok(match (source, rollout, &svc.live) {
            (
                Source::Rollout,
                Some(OpenRollout {
                    row,
                    spec: Ok(spec),
                    ..
                }),
                _,
            ) => Some(Goal {
                deployment: row.clone(),
                spec: spec.clone(),
                rolling: true,
            }),
            (Source::Live | Source::Rollout, _, Some(live)) => Some(Goal {
                spec: self.open_spec(svc.id, live)?,
                deployment: live.clone(),
                rolling: false,
            }),
            _ => None,
        })
    }

    fn open_spec(&self, service_id: Uuid, d: &DeploymentRow) -> Result<ServiceSpec, StoreError> {
        let mut spec = d.spec.clone();
        open_env(&mut spec, service_id, &self.secrets)
            .map_err(|e| StoreError::Secret(e.to_string()))?;
        // What its containers get: the env resolved when its rollout began (a deployment
        // from before references has none: its spec's env is what it runs).
        if let Some(sealed) = &d.resolved_env {
            spec.env = app::store::variables::open_resolved(&self.secrets, d.id, sealed)?;
        }
        Ok(spec)
    }
}
