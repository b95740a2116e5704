//! One container, in the words every layer shares: which replica it is ([`ReplicaIndex`]),
//! and what a page shows of it ([`ContainerView`]). The engine's observation
//! (`server/src/engine`) and the store's record (`store::containers`) convert into these
//! in one place each.

use crate::domain::{Permission, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Which replica of its service a container is: 0, 1, … up to the replica count − 1.
/// Written into the `berth.replica` label and the `containers.replica` column. A labelled
/// container without a valid replica label has none: such places hold
/// `Option<ReplicaIndex>`, and `None` is that stray (never a −1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ReplicaIndex(pub u32);

impl ReplicaIndex {
    /// The indexes of `count` replicas: 0 .. count.
    pub fn first(count: u32) -> impl Iterator<Item = ReplicaIndex> {
        (0..count).map(ReplicaIndex)
    }

    /// From a label or column value; `None` for anything but a whole number ≥ 0.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok().map(ReplicaIndex)
    }

    /// From the `containers.replica` column (NULL: none).
    pub fn from_column(v: Option<i32>) -> Option<Self> {
        v.and_then(|n| u32::try_from(n).ok()).map(ReplicaIndex)
    }

    /// For the `containers.replica` column (replica counts are capped far below `i32::MAX`).
    pub fn to_column(index: Option<Self>) -> Option<i32> {
        index.map(|r| i32::try_from(r.0).unwrap_or(i32::MAX))
    }

    /// How pages and messages name a replica: "2", or "?" for a container without one.
    pub fn label(index: Option<Self>) -> String {
        index.map_or_else(|| "?".to_owned(), |r| r.to_string())
    }
}

impl fmt::Display for ReplicaIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One container as the worker last observed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ContainerView {
    pub id: String,
    pub name: String,
    /// `None`: a Berth-labelled container without a replica label (a stray).
    pub replica: Option<ReplicaIndex>,
    pub deployment_id: Option<Uuid>,
    /// Docker's state: created, running, restarting, exited, paused, dead, removing.
    pub state: String,
    /// healthy, unhealthy, starting, or none when the service has no health check.
    pub health: Option<String>,
    pub exit_code: Option<i64>,
    pub restart_count: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub crash_looping: bool,
    /// The last lines it printed (cleaned, `\n`-separated), kept when it is crash-looping;
    /// always `None` for a reader whose role may not read container output
    /// ([`ContainerView::as_seen_by`]).
    pub last_logs: Option<String>,
    /// Address on the team's Docker network.
    pub ip: Option<String>,
    pub observed_at: DateTime<Utc>,
    /// What is wrong with it, in words: "killed: out of memory (limit 16 MB)" (its last
    /// exit), or why its health check fails ("health check GET / (Host app.example.com):
    /// answered 400", or the last output of the image's HEALTHCHECK). `None`: nothing.
    #[serde(default)]
    pub note: Option<String>,
    /// The Swarm node (hostname) that runs it; `None` on a single engine.
    #[serde(default)]
    pub node: Option<String>,
}

/// How a container its memory limit killed is described: "killed: out of memory (limit
/// 16 MB)", from the limit in bytes Docker applied (`None`: none known).
pub fn out_of_memory_note(limit_bytes: Option<i64>) -> String {
    match limit_bytes.filter(|b| *b > 0) {
        Some(b) => format!(
            "killed: out of memory (limit {} MB)",
            (b + 1024 * 1024 - 1) / (1024 * 1024)
        ),
        None => "killed: out of memory".to_owned(),
    }
}

impl ContainerView {
    /// The container as a member with `role` may see it: what it printed only when the role
    /// may read container output (it can carry secrets) — the permission of the log
    /// stream and download. Every read of container views passes through this once
    /// (`store::services`), whichever route or page carries them.
    pub fn as_seen_by(mut self, role: Role) -> Self {
        if !role.allows(Permission::ReadContainerLogs) {
            self.last_logs = None;
        }
        self
    }

    /// Running and, if a health check is set, passing it.
    pub fn is_ready(&self) -> bool {
        self.state == "running" && self.health.as_deref().is_none_or(|h| h == "healthy")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crashed() -> ContainerView {
        ContainerView {
            id: "c1".into(),
            name: "web-0".into(),
            replica: Some(ReplicaIndex(0)),
            deployment_id: None,
            state: "restarting".into(),
            health: None,
            exit_code: Some(3),
            restart_count: 4,
            started_at: None,
            crash_looping: true,
            last_logs: Some("TOKEN=s3cr3t".into()),
            ip: None,
            observed_at: Utc::now(),
            note: None,
            node: None,
        }
    }

    #[test]
    fn an_out_of_memory_kill_names_the_limit() {
        assert_eq!(
            out_of_memory_note(Some(16 * 1024 * 1024)),
            "killed: out of memory (limit 16 MB)"
        );
        assert_eq!(out_of_memory_note(None), "killed: out of memory");
        assert_eq!(out_of_memory_note(Some(0)), "killed: out of memory");
    }

    #[test]
    fn only_roles_that_read_container_output_see_the_last_lines() {
        for role in Role::ALL {
            let seen = crashed().as_seen_by(role);
            let may = role.allows(Permission::ReadContainerLogs);
            assert_eq!(seen.last_logs.is_some(), may, "{role:?}");
            assert!(seen.crash_looping, "the flag is for everyone");
        }
        assert_eq!(crashed().as_seen_by(Role::Viewer).last_logs, None);
        assert_eq!(
            crashed().as_seen_by(Role::Developer).last_logs.as_deref(),
            Some("TOKEN=s3cr3t")
        );
    }

    #[test]
    fn replica_index_reads_labels_and_columns() {
        assert_eq!(ReplicaIndex::parse("3"), Some(ReplicaIndex(3)));
        assert_eq!(ReplicaIndex::parse("-1"), None);
        assert_eq!(ReplicaIndex::parse("x"), None);
        assert_eq!(ReplicaIndex::from_column(Some(2)), Some(ReplicaIndex(2)));
        assert_eq!(ReplicaIndex::from_column(Some(-1)), None);
        assert_eq!(ReplicaIndex::from_column(None), None);
        assert_eq!(ReplicaIndex::to_column(Some(ReplicaIndex(4))), Some(4));
        assert_eq!(ReplicaIndex::to_column(None), None);
        assert_eq!(ReplicaIndex::label(Some(ReplicaIndex(1))), "1");
        assert_eq!(ReplicaIndex::label(None), "?");
        let all: Vec<_> = ReplicaIndex::first(2).collect();
        assert_eq!(all, [ReplicaIndex(0), ReplicaIndex(1)]);
        assert_eq!(serde_json::to_string(&ReplicaIndex(5)).unwrap(), "5");
    }
}
