//! Notifications: a team's channels (generic signed webhook, Slack/Mattermost or Discord
//! incoming webhook, email over SMTP), the events each one hears (its rules), and the
//! delivery log. Pure types and rules shared by the form, the REST API and the sender.

mod alerts;
mod event;
mod fields;
mod form;

pub use alerts::container_alerts;
pub use event::{Event, NotifyEvent};
pub use fields::{channel_form_from_fields, event_field, ChannelLog, NotificationsConsole};
pub use form::{validate_channel, ChannelForm, ValidChannel, MAX_RECIPIENTS};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A JSON event POSTed to a URL, signed with HMAC-SHA256 (see the README).
    Webhook,
    /// A Slack or Mattermost incoming webhook: `{"text": "…"}`.
    Slack,
    /// A Discord incoming webhook: `{"content": "…"}`.
    Discord,
    /// An email over SMTP.
    Email,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Webhook,
        ChannelKind::Slack,
        ChannelKind::Discord,
        ChannelKind::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
            ChannelKind::Discord => "discord",
            ChannelKind::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Words for a person.
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "Webhook (signed JSON)",
            ChannelKind::Slack => "Slack / Mattermost",
            ChannelKind::Discord => "Discord",
            ChannelKind::Email => "Email (SMTP)",
        }
    }
}

/// How an email channel talks to its SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required: no fallback); port 587 usually.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS); port 465 usually.
    Tls,
    /// No encryption at all: only for a relay on the same machine or network.
    Plain,
}

impl SmtpSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::Plain => "plain",
        }
    }

    pub fn parse(s: &str) -> Option<SmtpSecurity> {
        [
            SmtpSecurity::Starttls,
            SmtpSecurity::Tls,
            SmtpSecurity::Plain,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An email channel's server and addresses (its password is sealed apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Empty: no authentication.
    #[serde(default)]
    pub username: String,
    /// The sender address.
    pub from: String,
    /// The recipients (1 to [`MAX_RECIPIENTS`]).
    pub to: Vec<String>,
}

/// A channel as anyone in the team sees it: never its secret, only whether it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelView {
    pub id: Uuid,
    pub name: String,
    pub kind: ChannelKind,
    /// The URL posted to (webhook, slack, discord).
    pub url: Option<String>,
    /// The SMTP server and addresses (email).
    pub smtp: Option<SmtpSettings>,
    /// Whether a signing secret (webhook) or SMTP password (email) is stored.
    pub has_secret: bool,
    /// The events this channel hears.
    pub events: Vec<NotifyEvent>,
    pub created_at: DateTime<Utc>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not sent yet, or waiting for its next attempt.
    Pending,
    Delivered,
    /// Every attempt failed (or the target was refused); `last_error` says why.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> DeliveryStatus {
        match s {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// One line of a channel's delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: i64,
    pub channel_id: Uuid,
    /// The event's name, e.g. `deployment.failed`.
    pub event: String,
    /// The event in words.
    pub message: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was delivered or given up.
    pub finished_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// How long to wait after failed attempt `n` (1-based) before the next one; `None`: give up.
/// `delays` is the configured schedule (default 10 s, 30 s, 2 min, 10 min: 5 attempts).
pub fn retry_after(delays: &[std::time::Duration], attempt: u32) -> Option<std::time::Duration> {
    delays.get(attempt.checked_sub(1)? as usize).copied()
}

/// The default back-off between attempts: 10 s, 30 s, 2 min, 10 min (5 attempts in all).
pub const DEFAULT_RETRY_DELAYS_S: [u64; 4] = [10, 30, 120, 600];

#[cfg(test)]
mod tests;
