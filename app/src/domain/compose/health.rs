//! A service's `healthcheck`, in Docker's terms.

use super::problems::{child, Problems};
use super::refuse;
use super::translate::Draft;
use super::units;
use super::yaml::Node;
use crate::domain::service::{HealthCheck, HealthProbe};

/// Docker's defaults for what the file leaves out: 30s, 30s, 3 retries, no start period.
pub fn healthcheck(d: &mut Draft, value: &Node, at: &str, problems: &mut Problems) {
    let Some(entries) = problems.map(value, at) else {
        return;
    };
    let mut check = HealthCheck {
        probe: HealthProbe::None,
        interval_s: 30,
        timeout_s: 30,
        retries: 3,
        start_period_s: 0,
        host: None,
    };
    let (mut test, mut disabled) = (None, false);
    for (key, v) in entries {
        let path = child(at, key);
        let secs = |problems: &mut Problems| {
            problems
                .text(v, &path)
                .and_then(|t| units::seconds(&t).map_err(|m| problems.add(&path, m)).ok())
        };
        match key.as_str() {
            "test" => test = health_test(v, &path, problems),
            "disable" => disabled = problems.flag(v, &path).unwrap_or(false),
            "interval" => check.interval_s = secs(problems).unwrap_or(check.interval_s),
            "timeout" => check.timeout_s = secs(problems).unwrap_or(check.timeout_s),
            "start_period" => check.start_period_s = secs(problems).unwrap_or(0),
            "retries" => check.retries = problems.number(v, &path, 1, 100).unwrap_or(3) as u32,
            k => problems.add(&path, refuse::nested_key("healthcheck", k)),
        }
    }
    // Only timings are settled once x-berth.http_check is read (see `finish`).
    let probed = disabled || test.is_some();
    match test {
        _ if disabled => check.probe = HealthProbe::None,
        Some(probe) => check.probe = probe,
        None => {}
    }
    if check.probe == HealthProbe::None && probed {
        // No check runs: the timings mean nothing; Berth's defaults stand in.
        check = unchecked();
    }
    d.health = Some((check, probed));
}

/// The image's check turned off, with the timings a spec without them gets.
fn unchecked() -> HealthCheck {
    HealthCheck {
        probe: HealthProbe::None,
        interval_s: 10,
        timeout_s: 5,
        retries: 3,
        start_period_s: 0,
        host: None,
    }
}

/// `["CMD", prog, args…]`, `["CMD-SHELL", "cmd"]` or a string (run by `/bin/sh -c`, as
/// Docker runs CMD-SHELL), `["NONE"]`.
fn health_test(value: &Node, at: &str, problems: &mut Problems) -> Option<HealthProbe> {
    let shell = |cmd: &str| HealthProbe::Command {
        argv: vec!["/bin/sh".into(), "-c".into(), cmd.into()],
    };
    if let Node::Scalar(s) = value {
        return Some(shell(s.as_str()));
    }
    let words = problems.texts(value, at)?;
    match words.split_first() {
        Some((first, rest)) if first == "CMD" => Some(HealthProbe::Command {
            argv: rest.to_vec(),
        }),
        Some((first, [cmd])) if first == "CMD-SHELL" => Some(shell(cmd.as_str())),
        Some((first, [])) if first == "NONE" => Some(HealthProbe::None),
        _ => {
            problems.add(
                at,
                "A test is [\"CMD\", program, args…], [\"CMD-SHELL\", command], [\"NONE\"] or a command string.",
            );
            None
        }
    }
}
