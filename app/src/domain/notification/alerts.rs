//! Which container changes a channel hears: a replica that starts crash-looping, and one
//! its memory limit killed.

use super::NotifyEvent;
use crate::domain::service::{ContainerFacts, ReplicaIndex};

const OUT_OF_MEMORY: &str = "killed: out of memory";

/// The alerts between two observations of a service's containers (named `service`), in
/// words. A replica newly crash-looping is one alert; a replica whose last exit is newly
/// an out-of-memory kill (its note changed to it, or it was restarted again after one) is
/// another. Containers seen for the first time are not compared.
pub fn container_alerts(
    service: &str,
    before: &[ContainerFacts],
    now: &[ContainerFacts],
) -> Vec<(NotifyEvent, String)> {
    let mut alerts = Vec::new();
    for c in now {
        let Some(old) = before.iter().find(|b| b.id == c.id) else {
            continue;
        };
        let r = ReplicaIndex::label(c.replica);
        if c.crash_looping && !old.crash_looping {
            alerts.push((
                NotifyEvent::CrashLooping,
                format!(
                    "Replica {r} of {service} is crash-looping: {} restarts.",
                    c.restart_count
                ),
            ));
        }
        let oom = |n: &Option<String>| n.as_deref().is_some_and(|n| n.starts_with(OUT_OF_MEMORY));
        if oom(&c.note) && (!oom(&old.note) || c.restart_count > old.restart_count) {
            alerts.push((
                NotifyEvent::OutOfMemory,
                format!(
                    "Replica {r} of {service} was {}.",
                    c.note.as_deref().unwrap_or(OUT_OF_MEMORY)
                ),
            ));
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(restarts: i64, looping: bool, note: Option<&str>) -> ContainerFacts {
        ContainerFacts {
            id: "c1".into(),
            replica: ReplicaIndex::from_column(Some(1)),
            state: "running".into(),
            exit_code: None,
            restart_count: restarts,
            crash_looping: looping,
            health: None,
            note: note.map(str::to_owned),
        }
    }

    #[test]
    fn a_new_crash_loop_and_a_new_oom_kill_alert_once() {
        let oom = Some("killed: out of memory (limit 16 MB)");
        let a = container_alerts("web", &[facts(2, false, None)], &[facts(3, true, oom)]);
        let kinds: Vec<_> = a.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [NotifyEvent::CrashLooping, NotifyEvent::OutOfMemory]);
        assert!(a[1].1.contains("out of memory (limit 16 MB)"), "{}", a[1].1);
        // Nothing new: nothing told.
        assert!(container_alerts("web", &[facts(3, true, oom)], &[facts(3, true, oom)]).is_empty());
        // Killed again after a restart: told again.
        assert_eq!(
            container_alerts("web", &[facts(3, true, oom)], &[facts(4, true, oom)]).len(),
            1
        );
        // A container seen for the first time is not compared.
        assert!(container_alerts("web", &[], &[facts(3, true, oom)]).is_empty());
    }
}
