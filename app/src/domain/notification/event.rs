//! What a channel can hear, and one occurrence of it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event kind a channel's rules name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum NotifyEvent {
    #[serde(rename = "deployment.succeeded")]
    DeploymentSucceeded,
    #[serde(rename = "deployment.failed")]
    DeploymentFailed,
    #[serde(rename = "deployment.rolled_back")]
    DeploymentRolledBack,
    #[serde(rename = "build.failed")]
    BuildFailed,
    #[serde(rename = "replica.crash_looping")]
    CrashLooping,
    #[serde(rename = "replica.out_of_memory")]
    OutOfMemory,
    #[serde(rename = "backup.failed")]
    BackupFailed,
    /// Reserved for multi-node installations; nothing sends it yet.
    #[serde(rename = "node.down")]
    NodeDown,
    /// The "send test" button (sent to the one channel, whatever its rules).
    #[serde(rename = "test")]
    Test,
}

impl NotifyEvent {
    /// The events a rule may name (not `test`).
    pub const RULES: [NotifyEvent; 8] = [
        NotifyEvent::DeploymentSucceeded,
        NotifyEvent::DeploymentFailed,
        NotifyEvent::DeploymentRolledBack,
        NotifyEvent::BuildFailed,
        NotifyEvent::CrashLooping,
        NotifyEvent::OutOfMemory,
        NotifyEvent::BackupFailed,
        NotifyEvent::NodeDown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::DeploymentSucceeded => "deployment.succeeded",
            NotifyEvent::DeploymentFailed => "deployment.failed",
            NotifyEvent::DeploymentRolledBack => "deployment.rolled_back",
            NotifyEvent::BuildFailed => "build.failed",
            NotifyEvent::CrashLooping => "replica.crash_looping",
            NotifyEvent::OutOfMemory => "replica.out_of_memory",
            NotifyEvent::BackupFailed => "backup.failed",
            NotifyEvent::NodeDown => "node.down",
            NotifyEvent::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyEvent> {
        Self::RULES
            .into_iter()
            .chain([NotifyEvent::Test])
            .find(|e| e.as_str() == s)
    }

    /// Words for a person.
    pub fn label(self) -> &'static str {
        match self {
            NotifyEvent::DeploymentSucceeded => "Deployment succeeded",
            NotifyEvent::DeploymentFailed => "Deployment failed",
            NotifyEvent::DeploymentRolledBack => "Deployment rolled back",
            NotifyEvent::BuildFailed => "Build failed",
            NotifyEvent::CrashLooping => "Replica crash-looping",
            NotifyEvent::OutOfMemory => "Replica out of memory",
            NotifyEvent::BackupFailed => "Backup failed",
            NotifyEvent::NodeDown => "Node down",
            NotifyEvent::Test => "Test",
        }
    }

    /// The event a deployment's end is (the audit action `deployment.<state>` or
    /// `build.failed`), if a channel can hear it.
    pub fn of_outcome(action: &str) -> Option<NotifyEvent> {
        match action {
            "deployment.succeeded" => Some(NotifyEvent::DeploymentSucceeded),
            "deployment.failed" => Some(NotifyEvent::DeploymentFailed),
            "deployment.rolled_back" => Some(NotifyEvent::DeploymentRolledBack),
            "build.failed" => Some(NotifyEvent::BuildFailed),
            _ => None,
        }
    }
}

/// One occurrence, as queued for every channel that hears it and as the webhook's JSON
/// body carries it (with `team_id`, `delivery` and `at` added by the sender).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub event: NotifyEvent,
    /// The service it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The deployment it concerns (its id and number in the service), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<i32>,
    /// What happened, in one line ("Deployment #3 of web failed: …").
    pub message: String,
}

impl Event {
    /// An event about nothing in particular (a test, a backup of Berth's own database).
    pub fn plain(event: NotifyEvent, message: impl Into<String>) -> Event {
        Event {
            event,
            service_id: None,
            service: None,
            deployment_id: None,
            deployment: None,
            message: message.into(),
        }
    }

    /// The email subject: "[Berth] Deployment failed: web".
    pub fn subject(&self) -> String {
        match &self.service {
            Some(s) => format!("[Berth] {}: {s}", self.event.label()),
            None => format!("[Berth] {}", self.event.label()),
        }
    }
}
