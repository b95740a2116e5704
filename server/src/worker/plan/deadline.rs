//! How long a rollout may take: the one rule its first hold stores as its deadline. Pure.

use app::domain::service::{HealthCheck, HealthProbe};
use std::time::Duration;

/// Added to what a health check needs at least (its start period, then `retries` probes
/// `interval_s` apart), for the container to start and the proxy to be told: 10 s.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// A rollout's deadline, counted from its first hold: the instance's `deploy_timeout`
/// (`BERTH_DEPLOY_TIMEOUT`), or longer when the rollout's health check needs more —
/// `start_period_s + interval_s × retries` plus [`DEADLINE_MARGIN`] — so a slow starter
/// whose check says how slow it is gets that time instead of being rolled back. A spec's
/// numbers are bounded by validation (start period ≤ 3600 s, interval ≤ 3600 s,
/// retries ≤ 100), so the result is too.
pub fn rollout_deadline(deploy_timeout: Duration, check: Option<&HealthCheck>) -> Duration {
    let Some(h) = check.filter(|h| !matches!(h.probe, HealthProbe::None)) else {
        return deploy_timeout;
    };
    let needs = u64::from(h.start_period_s) + u64::from(h.interval_s) * u64::from(h.retries);
    deploy_timeout.max(Duration::from_secs(needs) + DEADLINE_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        probe: HealthProbe,
        start_period_s: u32,
        interval_s: u32,
        retries: u32,
    ) -> HealthCheck {
        HealthCheck {
            probe,
            interval_s,
            timeout_s: 5,
            retries,
            start_period_s,
            host: None,
        }
    }

    fn http() -> HealthProbe {
        HealthProbe::Http {
            path: "/".into(),
            port: 8000,
        }
    }

    #[test]
    fn a_slow_starter_gets_its_start_period_and_retries_and_the_margin() {
        let slow = check(http(), 600, 10, 3);
        assert_eq!(
            rollout_deadline(Duration::from_secs(300), Some(&slow)),
            Duration::from_secs(600 + 30 + 10)
        );
        let command = check(
            HealthProbe::Command {
                argv: vec!["true".into()],
            },
            15,
            1,
            3,
        );
        assert_eq!(
            rollout_deadline(Duration::from_secs(5), Some(&command)),
            Duration::from_secs(15 + 3 + 10)
        );
    }

    #[test]
    fn the_instance_timeout_stays_the_floor() {
        let quick = check(http(), 0, 2, 3);
        assert_eq!(
            rollout_deadline(Duration::from_secs(300), Some(&quick)),
            Duration::from_secs(300)
        );
        assert_eq!(
            rollout_deadline(Duration::from_secs(300), None),
            Duration::from_secs(300)
        );
        // The image's check turned off: nothing to wait for.
        let off = check(HealthProbe::None, 3600, 3600, 100);
        assert_eq!(
            rollout_deadline(Duration::from_secs(300), Some(&off)),
            Duration::from_secs(300)
        );
    }
}
