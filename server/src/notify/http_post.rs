//! Webhook, Slack/Mattermost and Discord channels: one POST of JSON to the channel's URL,
//! connected to the address checked for this very attempt, redirects not followed.

use super::signature::{sign, DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::SendError;
use app::commands::outbound::checked_address;
use app::domain::notification::ChannelKind;
use app::store::notifications::DueDelivery;
use serde_json::{json, Value};

/// The generic webhook's body: the event (`event`, `message`, `service`, `service_id`,
/// `deployment`, `deployment_id` when known) with `team_id`, `delivery` and `at` (RFC 3339).
pub fn webhook_body(d: &DueDelivery, at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut body = serde_json::to_value(&d.event).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("team_id".into(), json!(d.team_id));
        map.insert("delivery".into(), json!(d.id));
        map.insert("at".into(), json!(at.to_rfc3339()));
    }
    body
}

fn chat_text(d: &DueDelivery) -> String {
    format!("*{}* — {}", d.event.event.label(), d.event.message)
}

pub async fn send(
    d: &DueDelivery,
    secret: Option<&str>,
    allow_private: bool,
) -> Result<(), SendError> {
    let raw = d.url.as_deref().unwrap_or_default();
    let url = url::Url::parse(raw).map_err(|e| SendError::Refused(format!("bad URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| SendError::Refused("the URL has no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addr = checked_address(&host, port, allow_private).await?;
    let now = chrono::Utc::now();
    let body = match d.kind {
        ChannelKind::Discord => json!({"content": chat_text(d)}),
        ChannelKind::Slack => json!({"text": chat_text(d)}),
        _ => webhook_body(d, now),
    };
    let bytes = serde_json::to_vec(&body).map_err(|e| SendError::Failed(e.to_string()))?;
    // One client per attempt, its only name pinned to the checked address; no proxy (it
    // would connect elsewhere), no redirects (they could point inside).
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .resolve(&host, addr)
        .user_agent(concat!("Berth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SendError::Failed(e.to_string()))?;
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(DELIVERY_HEADER, d.id.to_string());
    if d.kind == ChannelKind::Webhook {
        let ts = now.timestamp();
        let signature = sign(secret.unwrap_or_default().as_bytes(), ts, &bytes);
        request = request
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signature);
    }
    let response = request
        .body(bytes)
        .send()
        .await
        .map_err(|e| SendError::Failed(format!("{addr}: {}", describe(&e))))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if status.is_redirection() {
        return Err(SendError::Failed(format!(
            "answered {status}: redirects are not followed"
        )));
    }
    let text = response.text().await.unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Err(SendError::Failed(format!("answered {status}: {text}")))
}

/// A reqwest error with its causes, in one line ("error sending request: connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}
