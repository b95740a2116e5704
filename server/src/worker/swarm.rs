//! One reconcile of one service in Swarm mode (`BERTH_ORCHESTRATOR=swarm`). The same
//! rollout bookkeeping as on one engine (lease, pull, deadline, failure and rollback with
//! the reason, history), but the replicas are a Swarm service's tasks: Berth sets the
//! service to the deployment that should run ([`plan_swarm`]) and Swarm replaces, restarts
//! and reschedules the tasks across the nodes. Replicas a single engine ran for the
//! service before the switch are removed once its Swarm service has converged.

use super::context::{Goal, Next, ReconcileError, Worker};
use super::observe::{check_passes, health, note, spec_for, split_address, Probed};
use super::plan::rollout::decide;
use super::plan::swarm::{plan_swarm, SwarmAction, SwarmTarget};
use super::probe::tcp_ok;
use super::rollout::AfterSteps;
use crate::engine::{overlay_network, swarm_credentials, Observed, SwarmService, SwarmTemplate};
use app::domain::service::HealthProbe;
use app::store::worker::{self as store, DesiredService};
use chrono::Utc;
use std::time::Duration;
use uuid::Uuid;

/// How often a service is looked at while Swarm converges.
const CONVERGE_POLL: Duration = Duration::from_millis(500);

impl Worker {
    #[tracing::instrument(name = "reconcile_swarm", skip(self), fields(service = %id))]
    pub(super) async fn reconcile_swarm(&self, id: Uuid) -> Result<Next, ReconcileError> {
        // Read: what Swarm runs (and what a single engine still runs), and what should.
        let current = self.engine.swarm_service(id).await?;
        let local = self.engine.managed_containers(Some(id)).await?;
        let desired = store::desired(&self.pool, id).await?;
        let route_port = desired
            .as_ref()
            .and_then(|d| d.rollout.as_ref().or(d.live.as_ref()))
            .and_then(|d| d.spec.http.as_ref())
            .map(|h| h.port);
        let tasks = match &current {
            Some(c) => self.engine.swarm_tasks(&c.id, route_port).await?,
            None => Vec::new(),
        };
        let Some(svc) = desired else {
            self.pulls.stop_others(id, None);
            self.engine.remove_swarm_service(id).await?;
            for c in &local {
                self.engine.remove(&c.id, self.grace()).await?;
            }
            return Ok(Next::Idle);
        };
        let wanted = svc.rollout.as_ref().filter(|_| !svc.deleting).map(|r| r.id);
        self.pulls.stop_others(id, wanted);
        if svc.deleting {
            self.engine.remove_swarm_service(id).await?;
            return self.finalize_delete(&svc, &local).await;
        }
        let Some((waiting, rollout)) = self.gated_rollout(&svc).await? else {
            return Ok(Next::After(Duration::ZERO));
        };

        // Plan: the rollout's steps (as on one engine), then the call to Swarm.
        let facts = rollout.as_ref().map(|(_, facts)| facts);
        let decision = decide(facts, &tasks, svc.live.is_some(), self.instance, Utc::now());
        let rollout = rollout.map(|(open, _)| open);
        let goal = self.goal(&svc, rollout.as_ref(), decision.source)?;
        let probed = task_readiness(&svc, &tasks, goal.as_ref()).await;
        self.record(&svc, &tasks, &probed).await?;

        if let Some(r) = &rollout {
            match self
                .rollout_steps(&svc, r, &decision.steps, &tasks, &probed)
                .await?
            {
                AfterSteps::LookAgain => return Ok(Next::After(Duration::ZERO)),
                AfterSteps::Wait => return Ok(Next::After(Duration::from_secs(1))),
                AfterSteps::Continue => {}
            }
        }
        let target = goal.as_ref().map(|g| SwarmTarget {
            deployment: g.deployment.id,
            template: g.deployment.template.clone(),
            replicas: g.replicas(svc.stopped),
        });
        let plan = plan_swarm(target.as_ref(), current.as_ref(), &tasks, &probed.ready);
        if let (Some(why), Some(g)) = (&plan.failed, &goal) {
            if g.rolling {
                let reason = format!("Swarm paused the update: {why}");
                self.fail_rollout(&svc, &g.deployment, &reason).await?;
                return Ok(Next::After(Duration::ZERO));
            }
        }

        // Act.
        let put = match (plan.action, &goal) {
            (SwarmAction::Create | SwarmAction::Update, Some(g)) => {
                self.put_swarm_service(&svc, g, current.as_ref()).await
            }
            (SwarmAction::Remove, _) => self.engine.remove_swarm_service(id).await,
            _ => Ok(()),
        };
        if let Err(e) = put {
            match &goal {
                Some(g) if g.rolling && e.is_permanent() => {
                    self.fail_rollout(&svc, &g.deployment, &e.to_string())
                        .await?;
                    return Ok(Next::After(Duration::ZERO));
                }
                _ => return Err(e.into()),
            }
        }
        if plan.converged {
            // The single engine's replicas from before the switch to Swarm mode.
            for c in &local {
                tracing::info!(container = %c.name, "removing a single-engine replica: Swarm runs the service now");
                self.engine.remove(&c.id, self.grace()).await?;
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
            _ if !plan.converged || waiting => Ok(Next::After(CONVERGE_POLL)),
            _ => Ok(Next::Idle),
        }
    }

    /// Creates or updates the service's Swarm service to run `g`, on its environment's
    /// overlay network, with the registry credentials the nodes need for its image.
    async fn put_swarm_service(
        &self,
        svc: &DesiredService,
        g: &Goal,
        current: Option<&SwarmService>,
    ) -> Result<(), crate::engine::ContainerError> {
        let network = overlay_network(&svc.placement);
        self.engine
            .ensure_overlay_network(svc.team_id, &svc.placement, &network)
            .await?;
        let image = self.swarm_image(g).await?;
        // A scale keeps the template: its tasks keep the label of the deployment that
        // introduced it, so Swarm does not replace them.
        let template_deployment = current
            .filter(|c| c.template == g.deployment.template)
            .and_then(|c| c.template_deployment)
            .unwrap_or(g.deployment.id);
        let template = SwarmTemplate {
            team_id: svc.team_id,
            placement: &svc.placement,
            service_id: svc.id,
            deployment_id: g.deployment.id,
            template_deployment,
            template: &g.deployment.template,
            image: &image,
            spec: &g.spec,
            replicas: g.replicas(svc.stopped),
            stop_grace: self.settings.stop_grace,
        };
        let credentials = swarm_credentials(g.spec.registry_auth.as_ref(), &image);
        self.engine
            .put_swarm_service(&template, &network, current, credentials)
            .await
    }

    /// What every node runs: the spec's reference when it names a digest, else the
    /// registry digest of the image the rollout resolved (`repo@sha256:…`: the pull's, or
    /// for a built image the push to `BERTH_REGISTRY`), so every node runs the same bits.
    /// An image only this engine has (never pushed) keeps its reference: only this node
    /// can run it.
    async fn swarm_image(&self, g: &Goal) -> Result<String, crate::engine::ContainerError> {
        let local = &g.spec.image;
        if local.contains('@') {
            return Ok(local.clone());
        }
        let in_registry = match &self.settings.build.registry {
            Some(registry) if g.spec.git.is_some() => {
                crate::engine::registry_reference(registry, local)
            }
            _ => local.clone(),
        };
        if let Some(id) = &g.deployment.image_id {
            if let Some(image) = self.engine.local_image(id).await? {
                if let Some(pinned) = image.digest_for(&in_registry) {
                    return Ok(pinned);
                }
            }
        }
        Ok(local.clone())
    }
}

/// Readiness of each task: Swarm reports it running (a task whose container has a
/// Docker health check stays `starting` until the check passes), it passes Berth's
/// HTTP health check (probed on the check's port as published on its node), and for a
/// routed service it accepts connections on the address the edge proxy dials, so the
/// proxy never gets it earlier. An HTTP-checked task's health is recorded as on one
/// engine (`starting` for its check's grace, then `healthy` or `unhealthy` with what
/// the probe got); other tasks keep Swarm's word, with Swarm's error as their note.
async fn task_readiness(svc: &DesiredService, tasks: &[Observed], goal: Option<&Goal>) -> Probed {
    let now = Utc::now();
    let checks = tasks.iter().map(|t| async move {
        let spec = spec_for(svc, goal, t);
        let http_checked = spec
            .and_then(|s| s.health_check.as_ref())
            .is_some_and(|h| matches!(h.probe, HealthProbe::Http { .. }));
        let check = match (t.state == "running", http_checked) {
            (false, _) => Err(None),
            (true, true) => check_passes(t, spec).await,
            (true, false) => Ok(()),
        };
        let routed = spec.is_some_and(|s| s.http.is_some());
        let dialled = match t.dial.as_deref().and_then(split_address) {
            Some((address, port)) if routed => tcp_ok(address, port, Duration::from_secs(2)).await,
            _ => !routed,
        };
        let ready = check.is_ok() && dialled;
        let (health, note) = if http_checked {
            let health = health(spec, t, Some(ready), now);
            let note = note(t, health.as_deref(), check.err().flatten());
            (health, note)
        } else {
            (t.health.clone(), t.health_output.clone())
        };
        (t.id.clone(), ready, health, note)
    });
    futures::future::join_all(checks)
        .await
        .into_iter()
        .collect()
}
