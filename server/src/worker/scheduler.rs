//! The scheduler: at most one reconcile per service at a time (a trigger that arrives
//! meanwhile runs it once more afterwards), at most `concurrency` at once, failures retried
//! with jittered exponential backoff; and what runs beside it while this process leads.

use super::context::{Next, ReconcileError, Worker};
use super::{leader, triggers, triggers::Trigger};
use crate::build::Builder;
use rand::Rng;
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};
use tokio::{sync::mpsc, task::JoinSet, time::Instant};
use uuid::Uuid;

impl Worker {
    /// Runs the worker for as long as the returned task lives (whenever this process holds
    /// the worker lock).
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let pool = self.pool.clone();
            leader::while_leader(pool, || self.clone().run()).await
        })
    }

    async fn run(self) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut sources = JoinSet::new();
        sources.spawn(triggers::announcements(self.pool.clone(), tx.clone()));
        sources.spawn(triggers::docker_events(self.engine.clone(), tx.clone()));
        if self.settings.orchestrator == super::Orchestrator::Swarm {
            sources.spawn(triggers::swarm_events(self.engine.clone(), tx.clone()));
        }
        sources.spawn(triggers::resync_timer(
            self.settings.resync_interval,
            tx.clone(),
        ));
        sources.spawn(
            Builder::new(
                self.pool.clone(),
                self.engine.clone(),
                self.secrets.clone(),
                self.settings.build.clone(),
                self.instance,
            )
            .run(),
        );
        sources.spawn(
            crate::backups::Backups {
                pool: self.pool.clone(),
                engine: self.engine.clone(),
                secrets: self.secrets.clone(),
                settings: self.settings.backups.clone(),
            }
            .run(),
        );
        sources.spawn(
            crate::notify::Sender::new(
                self.pool.clone(),
                self.secrets.clone(),
                self.settings.notify.clone(),
            )
            .run(),
        );
        sources.spawn(
            crate::jobs::Scheduler::new(
                self.pool.clone(),
                self.engine.clone(),
                self.secrets.clone(),
                crate::jobs::JobSettings {
                    overlay: self.settings.orchestrator == super::Orchestrator::Swarm,
                    ..self.settings.jobs.clone()
                },
                self.settings.stop_grace,
            )
            .run(),
        );
        if let Some(proxy) = &self.proxy {
            // Routes come back from Postgres before any reconcile runs.
            sources.spawn(proxy.clone().run(self.pool.clone()));
        }

        let mut due: HashMap<Uuid, Instant> = HashMap::new();
        let mut running: HashSet<Uuid> = HashSet::new();
        let mut dirty: HashSet<Uuid> = HashSet::new();
        let mut failures: HashMap<Uuid, u32> = HashMap::new();
        let mut tasks: JoinSet<(Uuid, Result<Next, ReconcileError>)> = JoinSet::new();
        let far = Duration::from_secs(3600);

        loop {
            let now = Instant::now();
            let start: Vec<Uuid> = due
                .iter()
                .filter(|(id, at)| **at <= now && !running.contains(*id))
                .map(|(id, _)| *id)
                .take(self.settings.concurrency.saturating_sub(running.len()))
                .collect();
            for id in start {
                due.remove(&id);
                running.insert(id);
                let worker = self.clone();
                tasks.spawn(async move {
                    let started = std::time::Instant::now();
                    let outcome = worker.reconcile(id).await;
                    tracing::debug!(service = %id, took = ?started.elapsed(), ?outcome, "reconciled");
                    (id, outcome)
                });
            }
            let wake_at = due
                .iter()
                .filter(|(id, _)| !running.contains(*id))
                .map(|(_, at)| *at)
                .min()
                .unwrap_or(now + far);

            tokio::select! {
                Some(trigger) = rx.recv() => match trigger {
                    Trigger::Service(id) => {
                        if running.contains(&id) {
                            dirty.insert(id);
                        } else {
                            due.insert(id, now);
                        }
                    }
                    Trigger::All => {
                        let worker = self.clone();
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            match worker.all_services().await {
                                Ok(ids) => ids.into_iter().for_each(|id| { let _ = tx.send(Trigger::Service(id)); }),
                                Err(e) => tracing::warn!(error = %e, "resync: cannot list services"),
                            }
                        });
                    }
                },
                Some(done) = tasks.join_next() => {
                    let Ok((id, outcome)) = done else { continue };
                    running.remove(&id);
                    let again = match outcome {
                        Ok(next) => {
                            failures.remove(&id);
                            match next {
                                Next::Idle => None,
                                Next::After(d) => Some(d),
                            }
                        }
                        Err(e) => {
                            let n = failures.entry(id).or_insert(0);
                            *n += 1;
                            let delay = backoff(*n);
                            tracing::warn!(service = %id, error = %e, retry_in = ?delay, "reconcile failed");
                            Some(delay)
                        }
                    };
                    let at = match (dirty.remove(&id), again) {
                        (true, Some(d)) if failures.contains_key(&id) => Some(Instant::now() + d),
                        (true, _) => Some(Instant::now()),
                        (false, Some(d)) => Some(Instant::now() + d),
                        (false, None) => None,
                    };
                    if let Some(at) = at {
                        let slot = due.entry(id).or_insert(at);
                        *slot = (*slot).min(at);
                    }
                }
                _ = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }
}

/// ≈1 s, 2 s, 4 s … capped at 60 s, each ±25 % so retries of many services spread out.
fn backoff(failures: u32) -> Duration {
    let base = 1u64 << failures.saturating_sub(1).min(6);
    let secs = base.min(60) as f64;
    let jitter = rand::rng().random_range(0.75..1.25);
    Duration::from_secs_f64(secs * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for (n, lo, hi) in [
            (1, 0.75, 1.25),
            (2, 1.5, 2.5),
            (3, 3.0, 5.0),
            (10, 45.0, 75.0),
        ] {
            let d = backoff(n).as_secs_f64();
            assert!((lo..=hi).contains(&d), "attempt {n}: {d}");
        }
    }
}
