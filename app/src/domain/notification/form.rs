//! A channel as the form and the REST API send it, and the one rule that checks it.

use super::{ChannelKind, NotifyEvent, SmtpSettings};
use crate::domain::service::FieldError;
use serde::{Deserialize, Serialize};

/// The most recipients one email channel has.
pub const MAX_RECIPIENTS: usize = 10;

/// A channel to create or replace. `secret` is write-only: the webhook's signing secret
/// (16–200 characters; required for a new webhook channel) or the SMTP password; left out
/// on a replace, the stored one is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelForm {
    /// 1–60 characters, unique in the team.
    pub name: String,
    pub kind: ChannelKind,
    /// `http(s)://…` (webhook, slack, discord).
    #[serde(default)]
    pub url: Option<String>,
    /// The SMTP server and addresses (email).
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    /// Write-only: signing secret (webhook) or SMTP password (email).
    #[serde(default)]
    pub secret: Option<String>,
    /// The events this channel hears (its rules); `test` is not one.
    #[serde(default)]
    pub events: Vec<NotifyEvent>,
}

/// A checked channel; `host` and `port` are where it connects (checked again at send).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub url: Option<String>,
    pub smtp: Option<SmtpSettings>,
    pub secret: Option<String>,
    pub events: Vec<NotifyEvent>,
    pub host: String,
    pub port: u16,
}

fn looks_like_address(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
}

/// Checks `form`; `had_secret`: a secret is stored already (a replace may leave it out).
/// Every broken rule is named with its field: `name`, `url`, `smtp.host`, `smtp.port`,
/// `smtp.from`, `smtp.to`, `secret`, `events`.
pub fn validate_channel(
    form: ChannelForm,
    had_secret: bool,
) -> Result<ValidChannel, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        errors.push(FieldError::new("name", "A name of 1 to 60 characters."));
    }
    let secret = form.secret.filter(|s| !s.is_empty());
    let (mut host, mut port) = (String::new(), 0u16);
    let (mut url, mut smtp) = (None, None);
    match form.kind {
        ChannelKind::Webhook | ChannelKind::Slack | ChannelKind::Discord => {
            let raw = form.url.unwrap_or_default().trim().to_owned();
            match url::Url::parse(&raw) {
                Ok(u)
                    if matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some_and(|h| !h.is_empty())
                        && u.username().is_empty()
                        && u.password().is_none()
                        && raw.len() <= 2000 =>
                {
                    host = u
                        .host_str()
                        .unwrap_or_default()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_owned();
                    port = u.port_or_known_default().unwrap_or(443);
                    url = Some(u.to_string());
                }
                _ => errors.push(FieldError::new(
                    "url",
                    "An http:// or https:// URL with a host and no user name (at most 2000 characters).",
                )),
            }
            if form.kind == ChannelKind::Webhook {
                match &secret {
                    Some(s) if !(16..=200).contains(&s.chars().count()) => errors.push(
                        FieldError::new("secret", "A signing secret of 16 to 200 characters."),
                    ),
                    None if !had_secret => errors.push(FieldError::new(
                        "secret",
                        "A webhook channel needs a signing secret (16 to 200 characters).",
                    )),
                    _ => {}
                }
            }
        }
        ChannelKind::Email => match form.smtp {
            None => errors.push(FieldError::new(
                "smtp.host",
                "An email channel needs an SMTP server.",
            )),
            Some(mut s) => {
                s.host = s
                    .host
                    .trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned();
                s.username = s.username.trim().to_owned();
                s.from = s.from.trim().to_owned();
                s.to =
                    s.to.iter()
                        .flat_map(|t| t.split(','))
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect();
                let host_ok = !s.host.is_empty()
                    && s.host.len() <= 253
                    && s.host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
                if !host_ok {
                    errors.push(FieldError::new("smtp.host", "A host name or IP address."));
                }
                if s.port == 0 {
                    errors.push(FieldError::new("smtp.port", "A port from 1 to 65535."));
                }
                if !looks_like_address(&s.from) {
                    errors.push(FieldError::new(
                        "smtp.from",
                        "An email address (name@example.com).",
                    ));
                }
                if s.to.is_empty()
                    || s.to.len() > MAX_RECIPIENTS
                    || !s.to.iter().all(|t| looks_like_address(t))
                {
                    errors.push(FieldError::new(
                        "smtp.to",
                        format!("1 to {MAX_RECIPIENTS} email addresses, separated by commas."),
                    ));
                }
                if s.username.chars().count() > 200 {
                    errors.push(FieldError::new("smtp.username", "At most 200 characters."));
                }
                if secret.as_ref().is_some_and(|p| p.chars().count() > 500) {
                    errors.push(FieldError::new("secret", "At most 500 characters."));
                }
                host = s.host.clone();
                port = s.port;
                smtp = Some(s);
            }
        },
    }
    let mut events = Vec::new();
    for e in form.events {
        if e == NotifyEvent::Test {
            errors.push(FieldError::new(
                "events",
                "`test` is sent by the button, not by a rule.",
            ));
        } else if !events.contains(&e) {
            events.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidChannel {
        name,
        kind: form.kind,
        url,
        smtp,
        secret,
        events,
        host,
        port,
    })
}
