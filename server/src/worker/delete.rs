//! The finalizer of a deleted service: drain and remove its containers (its job and
//! command runs closed, their containers stopped and removed too); then, when it was
//! deleted with its volumes, remove the volumes no other service of the team uses (audited
//! as the worker's act); then delete its row. Each step repeats safely after a crash: the
//! row goes last, so a berth killed half-way finishes the deletion on its next pass.

use super::context::{Next, ReconcileError, Worker};
use crate::engine::{Observed, VolumeRemoval};
use app::store::jobs::runs;
use app::store::worker::{self as store, DesiredService};
use futures::future::join_all;
use std::time::Duration;

impl Worker {
    pub(super) async fn finalize_delete(
        &self,
        svc: &DesiredService,
        observed: &[Observed],
    ) -> Result<Next, ReconcileError> {
        let ids: Vec<String> = observed.iter().map(|c| c.id.clone()).collect();
        self.drain(svc, None, &ids).await;
        // Its runs go with it: closed, so that none starts and no watcher keeps one, and
        // their containers (which may mount its volumes) removed before the volumes.
        runs::close_service_runs(&self.pool, svc.id, "its service was deleted").await?;
        let run_containers = self.engine.service_job_containers(svc.id).await?;
        let removals = ids
            .iter()
            .chain(&run_containers)
            .map(|id| self.engine.remove(id, self.grace()));
        for r in join_all(removals).await {
            r?;
        }
        if !self
            .engine
            .managed_containers(Some(svc.id))
            .await?
            .is_empty()
            || !self.engine.service_job_containers(svc.id).await?.is_empty()
        {
            return Ok(Next::After(Duration::from_secs(1)));
        }
        self.delete_volumes(svc).await?;
        store::purge(&self.pool, svc.id).await?;
        tracing::info!(service = %svc.name, "service deleted");
        Ok(Next::Idle)
    }

    /// Removes the volumes the deletion asked to remove, once no container of the service
    /// is left. One a foreign container still mounts is kept (and said so in the audit).
    async fn delete_volumes(&self, svc: &DesiredService) -> Result<(), ReconcileError> {
        let names = store::volumes_to_delete(&self.pool, svc.team_id, svc.id).await?;
        let (mut removed, mut in_use) = (Vec::new(), Vec::new());
        for name in names {
            match self.engine.remove_volume(&svc.placement, &name).await? {
                VolumeRemoval::Removed => removed.push(name),
                VolumeRemoval::Absent => {}
                VolumeRemoval::InUse(why) => {
                    tracing::warn!(service = %svc.name, volume = %name, %why, "volume kept: still in use");
                    in_use.push((name, why));
                }
            }
        }
        if !removed.is_empty() || !in_use.is_empty() {
            tracing::info!(service = %svc.name, ?removed, "volumes deleted with their service");
            store::audit_volumes_deleted(
                &self.pool,
                svc.team_id,
                svc.id,
                &svc.name,
                &removed,
                &in_use,
            )
            .await?;
        }
        Ok(())
    }
}
