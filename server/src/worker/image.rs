//! A rollout's image, resolved once when it begins and recorded on its deployment: the
//! image id (and registry digest) its containers are then created from. Scaling and
//! rerouting keep the live deployment's image; otherwise the spec's pull policy says
//! whether the registry is asked (in a pull task of its own, see [`super::pulls`]).

use super::context::{ReconcileError, Worker};
use super::pulls::{PullRequest, PullState, Pulled};
use app::domain::service::{DeployStep, PullPolicy, ServiceSpec};
use app::store::worker::{self as store, DeploymentRow, DesiredService};

/// Where a rollout's image stands after a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ImageResolution {
    /// Recorded on the deployment: look again and go on.
    Recorded,
    /// A pull runs: look again a little later.
    Pulling,
    /// The rollout cannot get its image, with why.
    Failed(String),
}

impl Worker {
    /// Resolves the image of the rollout `row` (its `spec` opened): records the image id
    /// and digest it runs, starts a pull, or says why it cannot run.
    pub(super) async fn resolve_image(
        &self,
        svc: &DesiredService,
        row: &DeploymentRow,
        spec: &ServiceSpec,
    ) -> Result<ImageResolution, ReconcileError> {
        // The same containers as the live deployment (a scale, a reroute): its image.
        if let Some(live) = svc.live.as_ref().filter(|l| l.template == row.template) {
            if let Some(id) = &live.image_id {
                let line = format!(
                    "Keeping image {id} of deployment #{} (its containers stay).",
                    live.number
                );
                self.record_image(row, id, live.image_digest.as_deref(), &line)
                    .await?;
                return Ok(ImageResolution::Recorded);
            }
        }
        let pinned = row.image_id.is_some();
        match self.pulls.state(row.id).await {
            PullState::Running => return Ok(ImageResolution::Pulling),
            PullState::Finished(Ok(Pulled { image, .. }))
                if pinned && row.image_id.as_deref() != Some(image.id.as_str()) =>
            {
                return Ok(ImageResolution::Failed(format!(
                    "the registry's image by that digest is {}, not the {} this deployment ran",
                    image.id,
                    row.image_id.as_deref().unwrap_or_default()
                )))
            }
            PullState::Finished(Ok(Pulled { image, digest })) => {
                let line = format!("Image {} is ready: {}.", spec.image, image.id);
                self.record_image(row, &image.id, digest.as_deref(), &line)
                    .await?;
                return Ok(ImageResolution::Recorded);
            }
            PullState::Finished(Err(why)) => return Ok(ImageResolution::Failed(why)),
            PullState::None => {}
        }
        let policy = spec.effective_pull_policy();
        if let Some(id) = &row.image_id {
            // Pinned (a rollback, a resumed rollout) but gone from the engine: the same
            // bits again by digest, or nothing.
            return Ok(match (&row.image_digest, policy) {
                (Some(digest), PullPolicy::Always | PullPolicy::IfMissing) => {
                    let request = PullRequest {
                        deployment: row.id,
                        service: svc.id,
                        image: digest.clone(),
                        auth: spec.registry_auth.clone(),
                    };
                    self.pulls.start(
                        &self.pool,
                        &self.engine,
                        request,
                        self.settings.pull_timeout,
                    );
                    ImageResolution::Pulling
                }
                _ => ImageResolution::Failed(format!(
                    "image {id}, the one this deployment runs, is no longer on this engine"
                )),
            });
        }
        let local = self.engine.local_image(&spec.image).await?;
        match (policy, local) {
            (PullPolicy::Always, _) | (PullPolicy::IfMissing, None) => {
                let request = PullRequest {
                    deployment: row.id,
                    service: svc.id,
                    image: spec.image.clone(),
                    auth: spec.registry_auth.clone(),
                };
                self.pulls
                    .start(&self.pool, &self.engine, request, self.settings.pull_timeout);
                Ok(ImageResolution::Pulling)
            }
            (PullPolicy::Never, None) if spec.git.is_some() => Ok(ImageResolution::Failed(format!(
                "the image Berth built for this deployment ({}) is no longer on this engine; deploy the branch again to rebuild it",
                spec.image
            ))),
            (PullPolicy::Never, None) => Ok(ImageResolution::Failed(format!(
                "image {} is not on this engine and the service's pull policy is never",
                spec.image
            ))),
            (_, Some(image)) => {
                let line = format!(
                    "Image {} is ready: {} (on the engine already; pull policy {}).",
                    spec.image,
                    image.id,
                    policy.as_str()
                );
                let digest = image.digest_for(&spec.image);
                self.record_image(row, &image.id, digest.as_deref(), &line)
                    .await?;
                Ok(ImageResolution::Recorded)
            }
        }
    }

    async fn record_image(
        &self,
        row: &DeploymentRow,
        id: &str,
        digest: Option<&str>,
        line: &str,
    ) -> Result<(), ReconcileError> {
        store::record_image(&self.pool, row.id, id, digest).await?;
        self.log(row.id, Some(DeployStep::Pull), line).await;
        Ok(())
    }
}
