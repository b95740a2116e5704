//! Push to deploy: webhook verification, and the builder that turns a queued build into an
//! image and hands it to the worker.
//!
//! The builder runs in the leader process only (next to the worker), so when it starts
//! every build left `building` belongs to a berth that stopped: it is built once more, or
//! failed after a second interruption. Builds are claimed from Postgres with
//! `FOR UPDATE SKIP LOCKED`, at most `concurrency` at a time and one per service, and each
//! has a deadline; a build past it is stopped (git is killed, the engine's build request
//! dropped) and failed.

mod git;
pub mod push_event;
pub mod signature;

use crate::engine::{BuildContext, BuildOptions, Engine, LABEL_MANAGED, LABEL_SERVICE};
use crate::secrets::SecretBox;
use app::domain::service::{CommitInfo, DeployStep, GitSource};
use app::store::builds::{self as store, BuildJob};
use app::store::worker::log as deployment_log;
use sqlx::PgPool;
use std::{path::PathBuf, time::Duration};
use tokio::{sync::mpsc, task::JoinSet};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// Where checkouts are made (one scratch directory per build, removed after).
    pub work_dir: PathBuf,
    /// Builds running at once.
    pub concurrency: usize,
    /// A build still running after this is stopped and failed.
    pub timeout: Duration,
    /// Built images kept per service, besides the live one: the newest that went live.
    pub keep_images: i64,
    /// Local repositories (file:// and paths) must resolve below this folder; `None`: no
    /// local repositories.
    pub git_local_root: Option<String>,
    /// Built images are pushed here (`host[:port][/path]`, `BERTH_REGISTRY`) so every
    /// Swarm node can pull them; `None`: they stay on this engine.
    pub registry: Option<String>,
}

impl Default for BuildSettings {
    fn default() -> Self {
        BuildSettings {
            work_dir: std::env::temp_dir().join("berth-builds"),
            concurrency: 2,
            timeout: Duration::from_secs(20 * 60),
            keep_images: 5,
            git_local_root: None,
            registry: None,
        }
    }
}

#[derive(Clone)]
pub struct Builder {
    pool: PgPool,
    engine: Engine,
    secrets: SecretBox,
    settings: BuildSettings,
    instance: Uuid,
}

#[derive(Debug, thiserror::Error)]
enum BuildError {
    #[error("{0}")]
    Git(#[from] git::GitError),
    #[error("{0}")]
    Image(#[from] crate::engine::ImageError),
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Store(#[from] app::store::StoreError),
    #[error("could not prepare the build: {0}")]
    Io(#[from] std::io::Error),
    #[error("the build was superseded or its service deleted")]
    Abandoned,
}

impl Builder {
    pub fn new(
        pool: PgPool,
        engine: Engine,
        secrets: SecretBox,
        settings: BuildSettings,
        instance: Uuid,
    ) -> Self {
        Builder {
            pool,
            engine,
            secrets,
            settings,
            instance,
        }
    }

    /// Builds whatever is queued, for as long as the future lives.
    pub async fn run(self) {
        self.remove_stale_checkouts();
        match store::recover_orphaned_builds(&self.pool).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                builds = n,
                "builds cut short by a stop: re-queued or failed"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot recover interrupted builds"),
        }
        // Woken by the queue's notifications; the 5 s poll below still finds every build
        // while the listener is away (it reconnects by itself).
        let wake = tokio::sync::Notify::new();
        let listener = crate::db::listen::follow(
            self.pool.clone(),
            store::BUILD_CHANNEL,
            "builder",
            || wake.notify_one(),
            |_| wake.notify_one(),
        );
        let mut listener = std::pin::pin!(listener);
        let mut running: JoinSet<()> = JoinSet::new();
        // Claims failing in a row (the database away): warned once, not every poll.
        let mut failing = false;
        loop {
            while running.len() < self.settings.concurrency.max(1) {
                match store::claim_build(&self.pool, &self.secrets, self.instance).await {
                    Ok(Some(job)) => {
                        failing = false;
                        let builder = self.clone();
                        running.spawn(async move { builder.build(job).await });
                    }
                    Ok(None) => {
                        failing = false;
                        break;
                    }
                    Err(e) => {
                        if !std::mem::replace(&mut failing, true) {
                            tracing::warn!(error = %e, "cannot claim a build");
                        }
                        break;
                    }
                }
            }
            // Woken by a queued build, a finished one, or the poll (a missed notification).
            tokio::select! {
                _ = &mut listener => {}
                _ = wake.notified() => {}
                Some(_) = running.join_next() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    }

    /// Checkouts left by a berth that stopped mid-build: older than any build may run.
    fn remove_stale_checkouts(&self) {
        let Ok(entries) = std::fs::read_dir(&self.settings.work_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > self.settings.timeout);
            if stale && entry.file_name().to_string_lossy().starts_with("build-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    async fn build(self, job: BuildJob) {
        let id = job.deployment_id;
        let outcome = tokio::time::timeout(self.settings.timeout, self.attempt(&job)).await;
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(BuildError::Abandoned)) => {
                tracing::info!(deployment = %id, "build abandoned");
                None
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!(
                "The build took longer than {} s and was stopped.",
                self.settings.timeout.as_secs()
            )),
        };
        if let Some(reason) = failure {
            tracing::warn!(deployment = %id, %reason, "build failed");
            let _ = deployment_log(&self.pool, id, None, &format!("Build failed: {reason}")).await;
            if let Err(e) = store::finish_build_failed(&self.pool, id, &reason).await {
                tracing::warn!(deployment = %id, error = %e, "cannot record a failed build");
            }
        }
    }

    async fn attempt(&self, job: &BuildJob) -> Result<(), BuildError> {
        let id = job.deployment_id;
        let (lines, writer) = self.log_writer(id);
        let built = self.checkout_and_build(job, lines).await;
        // The build step is done once its last line is written.
        let _ = writer.await;
        let (tag, commit) = built?;
        deployment_log(
            &self.pool,
            id,
            Some(DeployStep::Build),
            &format!("Built {tag}."),
        )
        .await?;
        if let Some(registry) = &self.settings.registry {
            let target = crate::engine::registry_reference(registry, &tag);
            let pinned = self.engine.push_image(&tag, &target).await?;
            deployment_log(
                &self.pool,
                id,
                Some(DeployStep::Build),
                &format!("Pushed to the registry: {pinned}."),
            )
            .await?;
        }
        store::finish_build_ok(&self.pool, id, &tag, &commit).await?;
        self.prune_images(job).await;
        Ok(())
    }

    /// Checks out the commit and builds its image; returns the tag and the commit.
    async fn checkout_and_build(
        &self,
        job: &BuildJob,
        lines: mpsc::UnboundedSender<String>,
    ) -> Result<(String, CommitInfo), BuildError> {
        let what = job.commit.as_deref().unwrap_or("the branch head");
        let _ = lines.send(format!(
            "Building {what} of {} ({}), attempt {}.",
            job.git.repo, job.git.branch, job.attempt
        ));
        let ws = git::Workspace::new(&self.settings.work_dir)?;
        let mut to_log = {
            let lines = lines.clone();
            move |line: String| {
                let _ = lines.send(line);
            }
        };
        let reach = git::Reach {
            allow_private: app::store::settings::allow_private_targets(&self.pool).await?,
            local_root: self.settings.git_local_root.clone(),
        };
        let commit =
            git::checkout(&job.git, job.commit.as_deref(), &reach, &ws, &mut to_log).await?;
        let _ = lines.send(format!(
            "Checked out {} ({}).",
            commit.short(),
            commit.title()
        ));
        if !store::build_wanted(&self.pool, job.deployment_id).await? {
            return Err(BuildError::Abandoned);
        }
        let tag = GitSource::image_tag(&job.team_slug, &job.service, &commit.sha);
        let context = build_context(ws.repo(), &job.git).await?;
        let options = BuildOptions {
            tag: tag.clone(),
            dockerfile: job.git.dockerfile.clone(),
            build_args: job
                .git
                .build_args
                .iter()
                .map(|a| (a.key.clone(), a.value.clone()))
                .collect(),
            labels: [
                (LABEL_MANAGED.to_owned(), "true".to_owned()),
                (LABEL_SERVICE.to_owned(), job.service_id.to_string()),
                ("berth.commit".to_owned(), commit.sha.clone()),
            ]
            .into(),
        };
        self.engine
            .build_image_with(&options, context, move |line| {
                let _ = lines.send(line.to_owned());
            })
            .await?;
        Ok((tag, commit))
    }

    /// Build output goes to the deployment log in order, without holding up the build; the
    /// writer ends when every sender is dropped.
    fn log_writer(&self, id: Uuid) -> (mpsc::UnboundedSender<String>, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let pool = self.pool.clone();
        let writer = tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                let _ = deployment_log(&pool, id, None, &line).await;
            }
        });
        (tx, writer)
    }

    /// Keeps the images retention wants (live, rolling out, the newest that went live) and
    /// removes the service's other built images.
    async fn prune_images(&self, job: &BuildJob) {
        let repository = GitSource::image_repository(&job.team_slug, &job.service);
        let prune = async {
            let keep = store::images_to_keep(&self.pool, job.service_id, self.settings.keep_images)
                .await?;
            let mut removed = Vec::new();
            for tag in self.engine.image_tags(&repository).await? {
                if !keep.contains(&tag) {
                    if let Some(registry) = &self.settings.registry {
                        let pushed = crate::engine::registry_reference(registry, &tag);
                        self.engine.remove_image(&pushed).await?;
                    }
                    self.engine.remove_image(&tag).await?;
                    removed.push(tag);
                }
            }
            if !removed.is_empty() {
                tracing::info!(service = %job.service_id, ?removed, "old images removed");
                store::mark_images_removed(&self.pool, job.service_id, &removed).await?;
            }
            let label = format!("{LABEL_SERVICE}={}", job.service_id);
            self.engine.prune_untagged(&label).await?;
            Ok::<_, BuildError>(())
        };
        if let Err(e) = prune.await {
            tracing::warn!(service = %job.service_id, error = %e, "image retention failed");
        }
    }
}

/// The context directory inside the checkout, packed; refused when it (or the Dockerfile)
/// resolves outside the checkout, e.g. through a symbolic link.
async fn build_context(repo: PathBuf, git: &GitSource) -> Result<BuildContext, BuildError> {
    let (context, dockerfile) = (git.context.clone(), git.dockerfile.clone());
    tokio::task::spawn_blocking(move || {
        let root = repo.canonicalize()?;
        let dir = root.join(&context).canonicalize().map_err(|_| {
            BuildError::Source(format!(
                "The build context {context} is not in the repository."
            ))
        })?;
        let file = dir.join(&dockerfile).canonicalize().map_err(|_| {
            BuildError::Source(format!(
                "There is no {dockerfile} in the build context {context}."
            ))
        })?;
        if !dir.starts_with(&root) || !file.starts_with(&dir) || !file.is_file() {
            return Err(BuildError::Source(
                "The build context and Dockerfile must be inside the repository.".into(),
            ));
        }
        let mut ctx = BuildContext::new();
        ctx.add_dir(&dir)?;
        Ok(ctx)
    })
    .await
    .map_err(|e| BuildError::Source(format!("packing the context failed: {e}")))?
}
