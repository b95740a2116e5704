//! What Berth's labels say about a container, and the engine's one view of a container
//! ([`Observed`]), read back from an inspect or a list call. The worker plans from it, the
//! store records it, the live streams follow it: there is no second container type here.

use app::domain::service::ReplicaIndex;
use bollard::models::{ContainerInspectResponse, ContainerSummary, EndpointSettings};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

pub const LABEL_MANAGED: &str = "berth.managed";
pub const LABEL_INSTANCE: &str = "berth.instance";
pub const LABEL_TEAM: &str = "berth.team";
/// The environment a container or network belongs to.
pub const LABEL_ENVIRONMENT: &str = "berth.environment";
pub const LABEL_SERVICE: &str = "berth.service";
pub const LABEL_DEPLOYMENT: &str = "berth.deployment";
pub const LABEL_TEMPLATE: &str = "berth.template";
pub const LABEL_REPLICA: &str = "berth.replica";
/// On a job's or one-off command's container: the job (empty for a command).
pub const LABEL_JOB: &str = "berth.job";
/// On a job's or one-off command's container: the run. Such containers are never replicas.
pub const LABEL_JOB_RUN: &str = "berth.job_run";

/// A container of Berth's as Docker reports it, with Berth's labels read back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    pub id: String,
    pub name: String,
    /// `berth.service`; `None` when the label is missing or not a UUID.
    pub service_id: Option<Uuid>,
    pub deployment_id: Option<Uuid>,
    /// `berth.template`: which deployment's definition it was made from ("" when missing).
    pub template: String,
    /// `berth.replica`; `None` when missing or not a whole number ≥ 0.
    pub replica: Option<ReplicaIndex>,
    /// created, running, paused, restarting, removing, exited, dead.
    pub state: String,
    /// Docker's health status when the container has a health check.
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    pub restart_count: i64,
    pub started_at: Option<DateTime<Utc>>,
    /// Address on the team network.
    pub ip: Option<String>,
    /// Its last exit was a kill by its memory limit (`State.OOMKilled`; Docker keeps it
    /// until the next exit, so a restarted container still shows it).
    pub oom_killed: bool,
    /// The memory limit Docker applied, in bytes (`HostConfig.Memory`; `None`: none).
    pub memory_limit: Option<i64>,
    /// The output of Docker's last health probe (`State.Health.Log`, last entry), cleaned
    /// and cut to [`HEALTH_OUTPUT_CHARS`].
    pub health_output: Option<String>,
    /// The Swarm node (hostname) that runs it; `None` on a single engine.
    pub node: Option<String>,
    /// Swarm mode, a routed service: `node-address:published-port` the edge proxy dials
    /// (the task's HTTP port published on its node). `None`: dial `ip` and the route's port.
    pub dial: Option<String>,
    /// Swarm mode: each TCP container port published on the task's node, with the
    /// `node-address:published-port` that reaches it from Berth's machine (the route's port
    /// is `dial`; an HTTP health check's port is where Berth's probe connects). Empty on
    /// a single engine, where Berth dials `ip` and the container port.
    pub node_ports: HashMap<u16, String>,
}

/// Characters of a health probe's output kept.
pub const HEALTH_OUTPUT_CHARS: usize = 300;

impl Observed {
    /// From an inspect: everything known.
    pub(super) fn from_inspect(c: ContainerInspectResponse) -> Self {
        let labels = c
            .config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default();
        let state = c.state.unwrap_or_default();
        let memory_limit = c
            .host_config
            .as_ref()
            .and_then(|h| h.memory)
            .filter(|m| *m > 0);
        let health_output = state
            .health
            .as_ref()
            .and_then(|h| h.log.as_ref())
            .and_then(|log| log.last())
            .and_then(|entry| entry.output.as_deref())
            .map(probe_output)
            .filter(|o| !o.is_empty());
        let ip = c
            .network_settings
            .and_then(|n| n.networks)
            .and_then(team_ip);
        Observed {
            id: c.id.unwrap_or_default(),
            name: c
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_owned(),
            state: state
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
            health: state
                .health
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty() && s != "none"),
            exit_code: state.exit_code,
            restart_count: c.restart_count.unwrap_or(0),
            started_at: parse_time(state.started_at.as_deref()),
            ip,
            oom_killed: state.oom_killed.unwrap_or(false),
            memory_limit,
            health_output,
            ..Observed::labelled(&labels)
        }
    }

    /// From a list call, without an inspect: identity, labels, state and address only;
    /// `health`, `exit_code` and `started_at` are `None` and `restart_count` is 0 because
    /// a list does not report them. Enough to read a container's output or resource use.
    pub(super) fn from_summary(c: ContainerSummary) -> Option<Self> {
        let labels = c.labels.unwrap_or_default();
        Some(Observed {
            name: c
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_owned())
                .unwrap_or_default(),
            state: c
                .state
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
            ip: c
                .network_settings
                .and_then(|n| n.networks)
                .and_then(team_ip),
            id: c.id?,
            ..Observed::labelled(&labels)
        })
    }

    /// The label-derived fields; the rest empty.
    fn labelled(labels: &HashMap<String, String>) -> Self {
        Observed {
            id: String::new(),
            name: String::new(),
            service_id: labels.get(LABEL_SERVICE).and_then(|s| s.parse().ok()),
            deployment_id: labels.get(LABEL_DEPLOYMENT).and_then(|s| s.parse().ok()),
            template: labels.get(LABEL_TEMPLATE).cloned().unwrap_or_default(),
            replica: labels
                .get(LABEL_REPLICA)
                .and_then(|s| ReplicaIndex::parse(s)),
            state: String::new(),
            health: None,
            exit_code: None,
            restart_count: 0,
            started_at: None,
            ip: None,
            oom_killed: false,
            memory_limit: None,
            health_output: None,
            node: None,
            dial: None,
            node_ports: HashMap::new(),
        }
    }
}

/// A health probe's output on one line: cleaned of terminal escapes and control characters,
/// lines joined with " / ", cut to [`HEALTH_OUTPUT_CHARS`] (with "…").
fn probe_output(raw: &str) -> String {
    let joined = raw
        .lines()
        .map(|l| app::domain::log_line::clean(l.as_bytes()))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    if joined.chars().count() <= HEALTH_OUTPUT_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(HEALTH_OUTPUT_CHARS).collect();
    cut.push('…');
    cut
}

/// The container's address on its environment's network (`berth-env-…`, or the team
/// network `berth-team-…` of a team's first environment).
fn team_ip(networks: HashMap<String, EndpointSettings>) -> Option<String> {
    networks
        .into_iter()
        .find(|(name, _)| name.starts_with("berth-team-") || name.starts_with("berth-env-"))
        .and_then(|(_, e)| e.ip_address)
        .filter(|ip| !ip.is_empty())
}

fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| t.timestamp() > 0) // Docker's "never" is year 1
}

/// A list/events filter matching every `key=value` label pair.
pub(super) fn label_filter(pairs: &[(&str, String)]) -> HashMap<&'static str, Vec<String>> {
    HashMap::from([(
        "label",
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_back() {
        let service = Uuid::new_v4();
        let labels = HashMap::from([
            (LABEL_SERVICE.to_owned(), service.to_string()),
            (LABEL_TEMPLATE.to_owned(), "abc".to_owned()),
            (LABEL_REPLICA.to_owned(), "2".to_owned()),
        ]);
        let o = Observed::labelled(&labels);
        assert_eq!(o.service_id, Some(service));
        assert_eq!(o.template, "abc");
        assert_eq!(o.replica, Some(ReplicaIndex(2)));
        let stray = HashMap::from([(LABEL_REPLICA.to_owned(), "-1".to_owned())]);
        assert_eq!(Observed::labelled(&stray).replica, None);
        assert_eq!(Observed::labelled(&stray).service_id, None);
    }

    #[test]
    fn probe_output_is_one_clean_short_line() {
        assert_eq!(
            probe_output("cat: can't open '/tmp/ok': No such file\n\x1b[31mfailed\x1b[0m\n\n"),
            "cat: can't open '/tmp/ok': No such file / failed"
        );
        let long = probe_output(&"x".repeat(1000));
        assert_eq!(long.chars().count(), HEALTH_OUTPUT_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn dockers_never_is_no_time() {
        assert_eq!(parse_time(Some("0001-01-01T00:00:00Z")), None);
        assert!(parse_time(Some("2026-11-29T10:00:00.5Z")).is_some());
        assert_eq!(parse_time(None), None);
    }
}
