//! CPU and memory samples from the Docker engine, kept in memory for an hour. Services
//! somebody is looking at are sampled every few seconds; all containers once a minute.
//! A restart of berth starts the window afresh: the charts are for watching, not billing.

use crate::engine::Engine;
use app::domain::service::ReplicaIndex;
use app::domain::service::{sum_rounds, ContainerMetrics, MetricSample, ServiceMetrics};
use chrono::Utc;
use futures::StreamExt;
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{sync::Notify, time::Instant};
use uuid::Uuid;

const WATCHED_EVERY: Duration = Duration::from_secs(5);
const EVERYTHING_EVERY: Duration = Duration::from_secs(60);
/// A look at a service keeps it sampled this long.
const WATCH_FOR: Duration = Duration::from_secs(60);
const KEEP: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// Stats requests in flight at once (each takes the engine about a second).
const PARALLEL: usize = 16;

struct Series {
    name: String,
    replica: Option<ReplicaIndex>,
    samples: VecDeque<MetricSample>,
}

#[derive(Default)]
struct State {
    /// service → container id → samples.
    series: HashMap<Uuid, HashMap<String, Series>>,
    watched: HashMap<Uuid, Instant>,
}

#[derive(Clone)]
pub struct MetricsSampler {
    state: Arc<Mutex<State>>,
    wake: Arc<Notify>,
}

impl MetricsSampler {
    pub fn start(engine: Engine) -> Self {
        let sampler = MetricsSampler {
            state: Arc::default(),
            wake: Arc::default(),
        };
        tokio::spawn(sampler.clone().run(engine));
        sampler
    }

    /// The service's samples; marks it watched, so it is sampled often for a while.
    pub fn service(&self, service: Uuid, mem_limit_mb: Option<u32>) -> ServiceMetrics {
        let mut state = self.state.lock().expect("metrics lock");
        let newly = state.watched.insert(service, Instant::now()).is_none();
        let mem_limit = mem_limit_mb.map(|mb| u64::from(mb) * 1024 * 1024);
        let mut containers: Vec<ContainerMetrics> = state
            .series
            .get(&service)
            .map(|m| {
                m.values()
                    .map(|s| ContainerMetrics {
                        name: s.name.clone(),
                        replica: s.replica,
                        mem_limit,
                        samples: s.samples.iter().copied().collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        drop(state);
        if newly {
            self.wake.notify_one();
        }
        containers.sort_by(|a, b| (a.replica, &a.name).cmp(&(b.replica, &b.name)));
        let slices: Vec<&[MetricSample]> =
            containers.iter().map(|c| c.samples.as_slice()).collect();
        let total = sum_rounds(&slices, 2);
        ServiceMetrics {
            containers,
            total,
            interval_s: WATCHED_EVERY.as_secs() as u32,
        }
    }

    async fn run(self, engine: Engine) {
        let mut last_all: Option<Instant> = None;
        loop {
            let everything = last_all.is_none_or(|t| t.elapsed() >= EVERYTHING_EVERY);
            let watched: Vec<Uuid> = {
                let mut state = self.state.lock().expect("metrics lock");
                state.watched.retain(|_, at| at.elapsed() < WATCH_FOR);
                state.watched.keys().copied().collect()
            };
            if everything {
                last_all = Some(Instant::now());
                self.sample(&engine, None).await;
            } else {
                for service in watched {
                    self.sample(&engine, Some(service)).await;
                }
            }
            self.prune();
            tokio::select! {
                _ = tokio::time::sleep(WATCHED_EVERY) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    async fn sample(&self, engine: &Engine, service: Option<Uuid>) {
        let Ok(running) = engine.running_replicas(service).await else {
            return;
        };
        let readings: Vec<_> = futures::stream::iter(running)
            .map(|c| async move {
                let usage = engine.usage(&c.id).await;
                (c, usage)
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let at = Utc::now();
        let mut state = self.state.lock().expect("metrics lock");
        for (c, usage) in readings {
            let (Some(service), Ok(usage)) = (c.service_id, usage) else {
                continue;
            };
            let series = state
                .series
                .entry(service)
                .or_default()
                .entry(c.id.clone())
                .or_insert_with(|| Series {
                    name: c.name.clone(),
                    replica: c.replica,
                    samples: VecDeque::new(),
                });
            series.samples.push_back(MetricSample {
                at,
                cpu_pct: usage.cpu_pct,
                mem_bytes: usage.mem_bytes,
            });
        }
    }

    fn prune(&self) {
        let cutoff = Utc::now() - KEEP;
        let mut state = self.state.lock().expect("metrics lock");
        for containers in state.series.values_mut() {
            for s in containers.values_mut() {
                while s.samples.front().is_some_and(|x| x.at < cutoff) {
                    s.samples.pop_front();
                }
            }
            containers.retain(|_, s| !s.samples.is_empty());
        }
        state.series.retain(|_, c| !c.is_empty());
    }
}

impl app::api::context::MetricsSource for MetricsSampler {
    fn service_metrics(&self, service: Uuid, mem_limit_mb: Option<u32>) -> ServiceMetrics {
        self.service(service, mem_limit_mb)
    }
}
