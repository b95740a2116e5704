//! Image pulls of rollouts, each in a task of its own: a slow pull holds up no reconcile
//! (its service's passes look at it and go on), is bounded by the pull timeout, tells its
//! progress in the deployment's log every few seconds, and stops when its rollout is no
//! longer the one wanted (a newer deployment, the service deleted) or the worker stops.

use crate::engine::{ContainerError, Engine, LocalImage, PullProgress};
use app::domain::service::RegistryAuth;
use app::store::worker as store;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How often a running pull tells its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// What a finished pull found.
#[derive(Debug, Clone)]
pub(super) struct Pulled {
    pub image: LocalImage,
    /// The registry digest of the pulled image in the pulled repository, if any.
    pub digest: Option<String>,
}

/// The outcome of a pull: the image, or why the rollout fails.
pub(super) type PullOutcome = Result<Pulled, String>;

/// One pull to start: the rollout's deployment, its service, the image and credentials.
pub(super) struct PullRequest {
    pub deployment: Uuid,
    pub service: Uuid,
    pub image: String,
    pub auth: Option<RegistryAuth>,
}

/// Where a rollout's pull stands.
#[derive(Debug)]
pub(super) enum PullState {
    /// None was started (or its outcome was taken).
    None,
    Running,
    Finished(PullOutcome),
}

/// A pull task, stopped when dropped.
struct Job {
    service: Uuid,
    task: JoinHandle<PullOutcome>,
}

impl Drop for Job {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The pulls in progress, by deployment id. Clones share them; the last one dropped (the
/// worker stopping) stops them all.
#[derive(Clone, Default)]
pub(super) struct Pulls(Arc<Mutex<HashMap<Uuid, Job>>>);

impl Pulls {
    /// Where the pull of `deployment` stands; a finished one's outcome is taken (once).
    pub async fn state(&self, deployment: Uuid) -> PullState {
        let finished = {
            let mut jobs = self.0.lock().expect("pull table");
            match jobs.get(&deployment) {
                None => return PullState::None,
                Some(job) if !job.task.is_finished() => return PullState::Running,
                Some(_) => jobs.remove(&deployment),
            }
        };
        let Some(mut job) = finished else {
            return PullState::None;
        };
        let outcome = match (&mut job.task).await {
            Ok(outcome) => outcome,
            Err(e) => Err(format!("the pull stopped: {e}")),
        };
        PullState::Finished(outcome)
    }

    /// Starts pulling for a rollout (nothing when one runs for it already).
    pub fn start(&self, pool: &PgPool, engine: &Engine, request: PullRequest, timeout: Duration) {
        let mut jobs = self.0.lock().expect("pull table");
        if jobs.contains_key(&request.deployment) {
            return;
        }
        let (deployment, service) = (request.deployment, request.service);
        let task = tokio::spawn(pull(pool.clone(), engine.clone(), request, timeout));
        jobs.insert(deployment, Job { service, task });
    }

    /// Stops the pulls of `service` for any deployment but `keep` (the rollout wanted now);
    /// returns the deployments whose pulls were stopped.
    pub fn stop_others(&self, service: Uuid, keep: Option<Uuid>) -> Vec<Uuid> {
        let mut jobs = self.0.lock().expect("pull table");
        let stale: Vec<Uuid> = jobs
            .iter()
            .filter(|(d, job)| job.service == service && Some(**d) != keep)
            .map(|(d, _)| *d)
            .collect();
        for d in &stale {
            jobs.remove(d); // dropping the job aborts its task
        }
        stale
    }
}

/// One pull, start to end: the pull itself under `timeout`, its progress in the log every
/// [`PROGRESS_EVERY`], and what the engine then has under the reference. A failed pull
/// of an image the engine has falls back to that image with a warning (an image built on
/// this engine, a registry out of reach) — unless the registry refused the credentials
/// ([`refused_credentials`]): then the rollout fails, and nobody runs a private image
/// without the right password because the engine happens to have it.
async fn pull(pool: PgPool, engine: Engine, r: PullRequest, timeout: Duration) -> PullOutcome {
    let began = Instant::now();
    let deployment = r.deployment;
    let log = |line: String| {
        let pool = pool.clone();
        async move {
            if let Err(e) = store::log(&pool, deployment, None, &line).await {
                tracing::warn!(error = %e, "could not write the deployment log");
            }
        }
    };
    log(format!("Pulling {}…", r.image)).await;
    let (progress, mut seen) = watch::channel(PullProgress::default());
    let pulling = engine.pull_image(&r.image, r.auth.as_ref(), &progress);
    tokio::pin!(pulling);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut ticks = tokio::time::interval(PROGRESS_EVERY);
    ticks.tick().await;
    let result = loop {
        tokio::select! {
            result = &mut pulling => break Some(result),
            () = &mut deadline => break None,
            _ = ticks.tick() => {
                if seen.has_changed().unwrap_or(false) {
                    let p = *seen.borrow_and_update();
                    if p.total_bytes > 0 {
                        log(format!("Pulling {}: {}.", r.image, p.describe())).await;
                    }
                }
            }
        }
    };
    let took = began.elapsed().as_secs_f64();
    let failure = match result {
        None => {
            return Err(format!(
                "pull timed out after {} s (BERTH_PULL_TIMEOUT) while pulling {}",
                timeout.as_secs(),
                r.image
            ))
        }
        Some(Ok(())) => None,
        Some(Err(e @ ContainerError::Pull { .. })) => Some(e.to_string()),
        Some(Err(e)) => return Err(e.to_string()),
    };
    let local = engine
        .local_image(&r.image)
        .await
        .map_err(|e| e.to_string())?;
    match (failure, local) {
        (None, Some(image)) => {
            let digest = image.digest_for(&r.image);
            log(format!(
                "Pulled {} in {took:.1} s → {} (image {}).",
                r.image,
                digest.as_deref().unwrap_or("no registry digest"),
                image.id
            ))
            .await;
            Ok(Pulled { image, digest })
        }
        (None, None) => Err(format!(
            "the pull of {} ended but the engine has no such image",
            r.image
        )),
        (Some(reason), Some(image)) if !refused_credentials(&reason) => {
            log(format!(
                "Warning: {reason}; using the image the engine has under that name ({}).",
                image.id
            ))
            .await;
            let digest = image.digest_for(&r.image);
            Ok(Pulled { image, digest })
        }
        (Some(reason), _) => Err(reason),
    }
}

/// Whether a failed pull's reason (the engine's words) is the registry refusing the
/// credentials (or asking for some): distribution's `unauthorized` error, Docker Hub's
/// "incorrect username or password".
pub(super) fn refused_credentials(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    [
        "unauthorized",
        "authentication required",
        "incorrect username or password",
    ]
    .iter()
    .any(|w| reason.contains(w))
}

#[cfg(test)]
mod tests {
    use super::refused_credentials;

    #[test]
    fn a_refusal_of_credentials_is_told_from_an_unreachable_registry() {
        assert!(refused_credentials(
            "could not pull image localhost:5000/p:1: Head \"http://localhost:5000/v2/p/manifests/1\": unauthorized: authentication required"
        ));
        assert!(refused_credentials(
            "Get https://registry-1.docker.io/v2/: unauthorized: incorrect username or password"
        ));
        assert!(!refused_credentials(
            "could not pull image berth-test/x:1: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host"
        ));
        assert!(!refused_credentials(
            "pull access denied for berth-test/x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
        ));
        assert!(!refused_credentials(
            "manifest for localhost:5000/demo:9 not found: manifest unknown"
        ));
    }
}
