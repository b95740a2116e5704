//! The dependency gate applied: a pending deployment with `depends_on` is held back (not
//! held, its env not resolved, its image not pulled, no container created) until
//! [`plan::depends::gate`](super::plan::depends::gate) says go, and fails with the reason
//! when waiting cannot help. Re-decided every pass from Postgres.

use super::context::{ReconcileError, Worker};
use super::plan::depends::{gate, waiting_line, Gate, Upstream};
use app::domain::service::{DeploymentState, EventKind};
use app::store::{dependencies as store, worker::DesiredService};
use chrono::Utc;

/// What the gate decided for the service's open rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gated {
    /// The rollout (if any) goes on: none is pending, it has no dependencies, or all are up.
    Open,
    /// It waits: plan as if there were none, and look again soon.
    Waiting,
    /// It failed (recorded): look again at once.
    Failed,
}

impl Worker {
    /// The gate for the open rollout of `svc`.
    pub(super) async fn dependency_gate(
        &self,
        svc: &DesiredService,
    ) -> Result<Gated, ReconcileError> {
        let row = match &svc.rollout {
            Some(row)
                if row.state == DeploymentState::Pending && !row.spec.depends_on.is_empty() =>
            {
                row
            }
            _ => return Ok(Gated::Open),
        };
        let names: Vec<String> = row
            .spec
            .depends_on
            .iter()
            .map(|d| d.service.clone())
            .collect();
        let upstream: Vec<Upstream> =
            store::upstream(&self.pool, svc.placement.environment_id, &names)
                .await?
                .into_iter()
                .map(|u| Upstream {
                    name: u.name,
                    stopped: u.stopped,
                    state: u.state.as_deref().and_then(DeploymentState::parse),
                    reason: u.reason,
                    wanted: u.replicas.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
                    running: u.running.clamp(0, i64::from(u32::MAX)) as u32,
                    ready: u.ready.clamp(0, i64::from(u32::MAX)) as u32,
                })
                .collect();
        let since = store::created_at(&self.pool, row.id).await?;
        let decision = gate(
            &row.spec.depends_on,
            &upstream,
            since,
            Utc::now(),
            self.settings.dependency_wait,
        );
        match decision {
            Gate::Go => {
                let waited = self
                    .waiting_told
                    .lock()
                    .expect("not poisoned")
                    .remove(&row.id)
                    .is_some();
                if waited {
                    self.log(row.id, None, "Dependencies are up; starting.")
                        .await;
                }
                Ok(Gated::Open)
            }
            Gate::Wait(waiting) => {
                let line = waiting_line(&waiting);
                // Told once per change of what it waits for (again after a restart).
                let told = self
                    .waiting_told
                    .lock()
                    .expect("not poisoned")
                    .insert(row.id, line.clone());
                if told.as_deref() != Some(line.as_str()) {
                    let line = format!("Deployment #{}: {}", row.number, line);
                    self.log(row.id, None, &line).await;
                    self.event(svc.id, EventKind::Deployment, &line).await;
                }
                Ok(Gated::Waiting)
            }
            Gate::Fail(why) => {
                self.waiting_told
                    .lock()
                    .expect("not poisoned")
                    .remove(&row.id);
                self.fail_rollout(svc, row, &why).await?;
                Ok(Gated::Failed)
            }
        }
    }
}
