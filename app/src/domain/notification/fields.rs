//! The dashboard's channel form (plain named fields, so it works without JavaScript) as a
//! [`ChannelForm`], and the page's data.

use super::{
    ChannelForm, ChannelKind, ChannelView, DeliveryView, NotifyEvent, SmtpSecurity, SmtpSettings,
};
use crate::domain::SessionInfo;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The name of the checkbox of `event` in the form: `event_deployment_failed`.
pub fn event_field(event: NotifyEvent) -> String {
    format!("event_{}", event.as_str().replace('.', "_"))
}

/// The form's fields (`name`, `kind`, `url`, `secret`, `smtp_host`, `smtp_port`,
/// `smtp_security`, `smtp_username`, `smtp_from`, `smtp_to`, one checkbox per event) as a
/// channel; an unknown kind is a webhook, a port that is not a number is 0 (refused by
/// the validation, named `smtp.port`), an empty secret keeps the stored one.
pub fn channel_form_from_fields(f: &HashMap<String, String>) -> ChannelForm {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let kind = ChannelKind::parse(&get("kind")).unwrap_or(ChannelKind::Webhook);
    let smtp = (kind == ChannelKind::Email).then(|| SmtpSettings {
        host: get("smtp_host"),
        port: get("smtp_port").parse().unwrap_or(0),
        security: SmtpSecurity::parse(&get("smtp_security")).unwrap_or_default(),
        username: get("smtp_username"),
        from: get("smtp_from"),
        to: vec![get("smtp_to")],
    });
    ChannelForm {
        name: get("name"),
        kind,
        url: (kind != ChannelKind::Email).then(|| get("url")),
        smtp,
        secret: f.get("secret").filter(|s| !s.is_empty()).cloned(),
        events: NotifyEvent::RULES
            .into_iter()
            .filter(|e| f.contains_key(&event_field(*e)))
            .collect(),
    }
}

/// One channel with the newest lines of its delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelLog {
    pub channel: ChannelView,
    pub deliveries: Vec<DeliveryView>,
}

/// The notifications page's one reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsConsole {
    pub me: SessionInfo,
    /// Whether the caller may change channels (admins).
    pub can_manage: bool,
    pub channels: Vec<ChannelLog>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_form_becomes_a_channel() {
        let f: HashMap<String, String> = [
            ("name", " mail "),
            ("kind", "email"),
            ("smtp_host", "smtp.example.com"),
            ("smtp_port", "x"),
            ("smtp_security", "tls"),
            ("smtp_from", "b@example.com"),
            ("smtp_to", "a@example.com"),
            ("secret", ""),
            ("event_deployment_failed", "on"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let c = channel_form_from_fields(&f);
        assert_eq!(c.name, "mail");
        assert_eq!(c.kind, ChannelKind::Email);
        assert_eq!(c.url, None);
        assert_eq!(c.secret, None);
        assert_eq!(c.events, vec![NotifyEvent::DeploymentFailed]);
        let smtp = c.smtp.unwrap();
        assert_eq!((smtp.port, smtp.security), (0, SmtpSecurity::Tls));
    }
}
