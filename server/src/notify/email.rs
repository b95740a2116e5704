//! Email channels: one message over SMTP (STARTTLS required, TLS from the start, or plain
//! for a relay nearby), to the address checked for this attempt; the certificate is
//! checked against the configured host name.

use super::SendError;
use app::commands::outbound::checked_address;
use app::store::notifications::DueDelivery;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The plain-text body: the message, then what it concerns.
fn text(d: &DueDelivery) -> String {
    let e = &d.event;
    let mut lines = vec![e.message.clone(), String::new()];
    lines.push(format!("Event: {}", e.event.as_str()));
    if let Some(s) = &e.service {
        lines.push(format!("Service: {s}"));
    }
    if let Some(n) = e.deployment {
        lines.push(format!("Deployment: #{n}"));
    }
    lines.push(format!("Delivery: {}", d.id));
    lines.join("\n")
}

pub async fn send(
    d: &DueDelivery,
    password: Option<&str>,
    allow_private: bool,
) -> Result<(), SendError> {
    use app::domain::notification::SmtpSecurity;
    let smtp = d
        .smtp
        .as_ref()
        .ok_or_else(|| SendError::Refused("the channel has no SMTP settings".into()))?;
    let addr = checked_address(&smtp.host, smtp.port, allow_private).await?;
    let bad = |e: &dyn std::fmt::Display| SendError::Refused(e.to_string());
    let from: Mailbox = smtp.from.parse().map_err(|e| bad(&e))?;
    let mut message = Message::builder()
        .from(from)
        .subject(d.event.subject())
        .header(ContentType::TEXT_PLAIN);
    for to in &smtp.to {
        message = message.to(to.parse::<Mailbox>().map_err(|e| bad(&e))?);
    }
    let message = message.body(text(d)).map_err(|e| bad(&e))?;
    let tls = match smtp.security {
        SmtpSecurity::Plain => Tls::None,
        SmtpSecurity::Starttls => Tls::Required(
            TlsParameters::new(smtp.host.clone()).map_err(|e| SendError::Failed(e.to_string()))?,
        ),
        SmtpSecurity::Tls => Tls::Wrapper(
            TlsParameters::new(smtp.host.clone()).map_err(|e| SendError::Failed(e.to_string()))?,
        ),
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
            .port(addr.port())
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(15)));
    if !smtp.username.is_empty() {
        transport = transport.credentials(Credentials::new(
            smtp.username.clone(),
            password.unwrap_or_default().to_owned(),
        ));
    }
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| SendError::Failed(format!("{addr}: {e}")))
}
