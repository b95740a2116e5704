//! A deployment's env with its references filled in. The rule: the env is resolved once,
//! when its rollout is first read (the environment as it is then), and recorded sealed with
//! the deployment; every container of that deployment (the rollout's, a scale-up's, a
//! repair's) and every one-off job run on it gets those recorded values. A later change of
//! a referenced value does not reach a running deployment: the service shows "needs
//! redeploy" until a new deployment resolves it again.

use super::context::{ReconcileError, Worker};
use app::domain::service::{EnvVar, ServiceSpec};
use app::domain::variables::resolve;
use app::store::variables::{record_resolved, snapshot, with_service};
use app::store::worker::{DeploymentRow, DesiredService};

impl Worker {
    /// For a rollout whose env is not recorded yet: resolves `spec`'s env (opened, as the
    /// deployment defines it) against its environment now, records it, and puts the plain
    /// values into `spec`. `Ok(Err(reason))` when a reference cannot be filled in (the
    /// deployment fails with it); a database error is the pass's error.
    pub(super) async fn resolve_rollout_env(
        &self,
        svc: &DesiredService,
        row: &DeploymentRow,
        mut spec: ServiceSpec,
    ) -> Result<Result<ServiceSpec, String>, ReconcileError> {
        if row.resolved_env.is_some() {
            return Ok(Ok(spec)); // opened with the spec already
        }
        let mut env = snapshot(&self.pool, &self.secrets, svc.placement.environment_id).await?;
        with_service(&mut env, &spec);
        let resolved = match resolve(&spec.name, &env) {
            Ok(r) => r,
            Err(e) => return Ok(Err(format!("A variable cannot be filled in: {e}"))),
        };
        let plain: Vec<EnvVar> = resolved
            .into_iter()
            .map(|(key, v)| EnvVar {
                key,
                value: v.value,
                secret: v.secret,
            })
            .collect();
        spec.env = record_resolved(&self.pool, &self.secrets, row.id, &plain).await?;
        Ok(Ok(spec))
    }
}
