//! CPU and memory use sampled from Docker, per container and summed per service.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricSample {
    pub at: DateTime<Utc>,
    /// Percent of one CPU (200 = two CPUs busy).
    pub cpu_pct: f64,
    pub mem_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ContainerMetrics {
    pub name: String,
    /// `None`: a labelled container without a replica label.
    pub replica: Option<super::ReplicaIndex>,
    /// The container's memory limit, when the service sets one.
    pub mem_limit: Option<u64>,
    pub samples: Vec<MetricSample>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceMetrics {
    pub containers: Vec<ContainerMetrics>,
    /// Sums over the containers, one point per sampling round.
    pub total: Vec<MetricSample>,
    /// Seconds between samples while somebody looks at the service.
    pub interval_s: u32,
}

/// CPU percent between two readings of a container's CPU counters (Docker's formula:
/// container time over machine time, times the CPUs).
pub fn cpu_percent(total: u64, pre_total: u64, system: u64, pre_system: u64, cpus: u32) -> f64 {
    let used = total.saturating_sub(pre_total) as f64;
    let elapsed = system.saturating_sub(pre_system) as f64;
    if elapsed <= 0.0 {
        return 0.0;
    }
    used / elapsed * f64::from(cpus.max(1)) * 100.0
}

/// Sums samples taken in the same round (within `round_s` seconds of each other).
pub fn sum_rounds(series: &[&[MetricSample]], round_s: i64) -> Vec<MetricSample> {
    let mut all: Vec<MetricSample> = series.iter().flat_map(|s| s.iter().copied()).collect();
    all.sort_by_key(|s| s.at);
    let mut out: Vec<MetricSample> = Vec::new();
    for s in all {
        match out.last_mut() {
            Some(last) if (s.at - last.at).num_seconds() < round_s => {
                last.cpu_pct += s.cpu_pct;
                last.mem_bytes += s.mem_bytes;
            }
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn cpu_percent_follows_dockers_formula() {
        // 50 ms of container time in 1 s of machine time over 2 CPUs = 10 %.
        let p = cpu_percent(150_000_000, 100_000_000, 2_000_000_000, 1_000_000_000, 2);
        assert!((p - 10.0).abs() < 1e-9, "{p}");
        assert_eq!(cpu_percent(5, 5, 10, 10, 2), 0.0);
    }

    #[test]
    fn rounds_are_summed() {
        let t = Utc::now();
        let a = [
            MetricSample {
                at: t,
                cpu_pct: 1.0,
                mem_bytes: 10,
            },
            MetricSample {
                at: t + Duration::seconds(5),
                cpu_pct: 2.0,
                mem_bytes: 20,
            },
        ];
        let b = [MetricSample {
            at: t + Duration::milliseconds(300),
            cpu_pct: 3.0,
            mem_bytes: 5,
        }];
        let sum = sum_rounds(&[&a, &b], 2);
        assert_eq!(sum.len(), 2);
        assert_eq!((sum[0].cpu_pct, sum[0].mem_bytes), (4.0, 15));
        assert_eq!((sum[1].cpu_pct, sum[1].mem_bytes), (2.0, 20));
    }
}
