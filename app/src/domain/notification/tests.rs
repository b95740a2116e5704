use super::*;
use std::time::Duration;

fn webhook(url: &str) -> ChannelForm {
    ChannelForm {
        name: "ops".into(),
        kind: ChannelKind::Webhook,
        url: Some(url.into()),
        smtp: None,
        secret: Some("0123456789abcdef".into()),
        events: vec![NotifyEvent::DeploymentFailed, NotifyEvent::DeploymentFailed],
    }
}

fn fields(r: Result<ValidChannel, Vec<crate::domain::service::FieldError>>) -> Vec<String> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn a_webhook_channel_names_its_host_and_port() {
    let v = validate_channel(webhook("https://hooks.example.com/x"), false).unwrap();
    assert_eq!((v.host.as_str(), v.port), ("hooks.example.com", 443));
    assert_eq!(v.events, vec![NotifyEvent::DeploymentFailed]);
    let v = validate_channel(webhook("http://[::1]:8080/h"), false).unwrap();
    assert_eq!((v.host.as_str(), v.port), ("::1", 8080));
}

#[test]
fn bad_urls_and_secrets_are_named() {
    assert_eq!(
        fields(validate_channel(webhook("ftp://x.example/"), false)),
        ["url"]
    );
    assert_eq!(
        fields(validate_channel(webhook("https://u:p@x.example/"), false)),
        ["url"]
    );
    let mut f = webhook("https://x.example/");
    f.secret = None;
    assert_eq!(fields(validate_channel(f.clone(), false)), ["secret"]);
    // A replace keeps the stored secret.
    assert!(validate_channel(f, true).is_ok());
    let mut f = webhook("https://x.example/");
    f.events = vec![NotifyEvent::Test];
    assert_eq!(fields(validate_channel(f, false)), ["events"]);
}

#[test]
fn an_email_channel_needs_a_server_and_addresses() {
    let form = ChannelForm {
        name: "mail".into(),
        kind: ChannelKind::Email,
        url: None,
        smtp: Some(SmtpSettings {
            host: "smtp.example.com".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            from: "berth@example.com".into(),
            to: vec!["a@example.com, b@example.com".into()],
        }),
        secret: None,
        events: vec![],
    };
    let v = validate_channel(form.clone(), false).unwrap();
    assert_eq!(v.smtp.unwrap().to, ["a@example.com", "b@example.com"]);
    let mut bad = form;
    if let Some(s) = bad.smtp.as_mut() {
        s.from = "nobody".into();
        s.to = vec![];
        s.port = 0;
    }
    assert_eq!(
        fields(validate_channel(bad, false)),
        ["smtp.port", "smtp.from", "smtp.to"]
    );
}

#[test]
fn retries_follow_the_schedule_then_stop() {
    let d: Vec<Duration> = DEFAULT_RETRY_DELAYS_S
        .iter()
        .map(|s| Duration::from_secs(*s))
        .collect();
    assert_eq!(retry_after(&d, 1), Some(Duration::from_secs(10)));
    assert_eq!(retry_after(&d, 4), Some(Duration::from_secs(600)));
    assert_eq!(retry_after(&d, 5), None);
}

#[test]
fn event_names_round_trip() {
    for e in NotifyEvent::RULES {
        assert_eq!(NotifyEvent::parse(e.as_str()), Some(e));
        assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
    }
    assert_eq!(
        NotifyEvent::of_outcome("deployment.rolled_back"),
        Some(NotifyEvent::DeploymentRolledBack)
    );
}
