//! The job scheduler: on start (whenever this process becomes the leader) it closes or
//! watches again the runs a previous Berth left open and handles the occurrences missed
//! while Berth was down; then every tick it queues the runs whose schedule fell due and
//! starts queued runs.

use super::decide::{on_due, Due};
use super::run::Runner;
use super::JobSettings;
use crate::engine::{Engine, JobExit};
use crate::secrets::SecretBox;
use app::domain::jobs::{schedule::Schedule, RunState, RunTrigger};
use app::store::jobs::{runs, JobRow, RunRow};
use app::store::StoreError;
use chrono::Utc;
use sqlx::PgPool;
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::task::JoinSet;
use uuid::Uuid;

/// Occurrences looked at per job and tick (a schedule due more often than that is due).
const MAX_DUE: usize = 1000;

pub struct Scheduler {
    pool: PgPool,
    settings: JobSettings,
    runner: Runner,
    /// Runs this process watches now.
    watched: Arc<Mutex<HashSet<Uuid>>>,
}

impl Scheduler {
    pub fn new(
        pool: PgPool,
        engine: Engine,
        secrets: SecretBox,
        settings: JobSettings,
        stop_grace: Duration,
    ) -> Self {
        Scheduler {
            runner: Runner {
                pool: pool.clone(),
                engine,
                secrets,
                grace: stop_grace.as_secs().clamp(1, 600) as i32,
                overlay: settings.overlay,
            },
            pool,
            settings,
            watched: Arc::default(),
        }
    }

    /// Runs while the returned future lives (the leader's lifetime); the runs it watches
    /// stop being watched when it is dropped (the next leader picks them up).
    pub async fn run(self) {
        let mut tasks = JoinSet::new();
        if let Err(e) = self.recover(&mut tasks).await {
            tracing::warn!(error = %e, "jobs: could not recover open runs");
        }
        loop {
            if let Err(e) = self.tick(&mut tasks).await {
                tracing::warn!(error = %e, "jobs: tick failed");
            }
            while tasks.try_join_next().is_some() {}
            tokio::time::sleep(self.settings.tick).await;
        }
    }

    /// Runs left open by a previous Berth: a running one whose container still runs is
    /// watched again; one whose container exited is closed with its exit code; one whose
    /// container is gone is closed as interrupted. Then the missed occurrences.
    async fn recover(&self, tasks: &mut JoinSet<()>) -> Result<(), StoreError> {
        for run in runs::open(&self.pool, None).await? {
            if run.state != RunState::Running {
                continue;
            }
            match self.runner.engine.job_container(run.id).await {
                Ok(Some(JobExit::Running { id })) => self.watch(tasks, run, Some(id)),
                Ok(Some(JobExit::Exited { id, code })) => {
                    self.runner.close_exited(&run, &id, code).await;
                }
                Ok(None) => {
                    runs::finish(
                        &self.pool,
                        run.id,
                        RunState::Interrupted,
                        None,
                        Some("interrupted: berth restarted"),
                    )
                    .await?;
                }
                Err(e) => {
                    tracing::warn!(run = %run.id, error = %e, "jobs: cannot look for a run's container")
                }
            }
        }
        let now = Utc::now();
        for job in runs::enabled_jobs(&self.pool).await? {
            let due = self.due(&job, now);
            if !due.is_empty() {
                self.handle(&job, RunTrigger::Missed, Some(due.len()))
                    .await?;
            }
            runs::advance(&self.pool, job.id, now).await?;
        }
        Ok(())
    }

    async fn tick(&self, tasks: &mut JoinSet<()>) -> Result<(), StoreError> {
        let now = Utc::now();
        for job in runs::enabled_jobs(&self.pool).await? {
            if !self.due(&job, now).is_empty() {
                self.handle(&job, RunTrigger::Schedule, None).await?;
                runs::advance(&self.pool, job.id, now).await?;
            }
        }
        for run in runs::open(&self.pool, None).await? {
            if run.state == RunState::Queued {
                self.watch(tasks, run, None);
            }
        }
        Ok(())
    }

    /// The job's occurrences since it was last handled, up to `now`.
    fn due(&self, job: &JobRow, now: chrono::DateTime<Utc>) -> Vec<chrono::DateTime<Utc>> {
        let since = job.scheduled_until.unwrap_or(job.created_at);
        match Schedule::parse(&job.schedule) {
            Ok(s) => s.due_between(self.settings.time_zone, since, now, MAX_DUE),
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "jobs: stored schedule does not parse");
                Vec::new()
            }
        }
    }

    async fn handle(
        &self,
        job: &JobRow,
        trigger: RunTrigger,
        missed: Option<usize>,
    ) -> Result<(), StoreError> {
        let open = runs::open(&self.pool, Some(job.id)).await?;
        match on_due(
            job.concurrency,
            open.len(),
            missed.map(|n| (job.missed_runs, n)),
        ) {
            Due::Start => {}
            Due::Replace => {
                for run in &open {
                    // Its watcher sees the run closed and stops the container.
                    runs::finish(
                        &self.pool,
                        run.id,
                        RunState::Interrupted,
                        None,
                        Some("replaced by a newer run (concurrency: replace)"),
                    )
                    .await?;
                }
            }
            Due::Skip(why) => {
                runs::insert(&self.pool, job, trigger, RunState::Skipped, Some(&why)).await?;
                return Ok(());
            }
        }
        runs::insert(&self.pool, job, trigger, RunState::Queued, None).await?;
        Ok(())
    }

    /// Starts (when `container` is `None`) and watches a run, once per process.
    fn watch(&self, tasks: &mut JoinSet<()>, run: RunRow, container: Option<String>) {
        if !self.watched.lock().unwrap().insert(run.id) {
            return;
        }
        let runner = self.runner.clone();
        let watched = self.watched.clone();
        tasks.spawn(async move {
            let id = run.id;
            runner.run(run, container).await;
            watched.lock().unwrap().remove(&id);
        });
    }
}
