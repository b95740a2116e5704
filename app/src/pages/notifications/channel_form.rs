//! The channel form: kind, target (URL, or SMTP server and addresses), secret (write-only:
//! left empty, the stored one is kept) and the events it hears.

use crate::api::notifications::SaveChannel;
use crate::domain::notification::{
    event_field, ChannelKind, ChannelView, NotifyEvent, SmtpSecurity,
};
use leptos::prelude::*;

#[component]
pub fn ChannelEditor(
    channel: Option<ChannelView>,
    save: ServerAction<SaveChannel>,
) -> impl IntoView {
    // Ids only on the "new channel" form (one per page); the edit forms use classes.
    let new = channel.is_none();
    let pre = move |s: &str| if new { s.to_owned() } else { String::new() };
    let id_of = move |s: &str| new.then(|| format!("channel-{s}"));
    let c = channel.clone();
    let kind = c.as_ref().map_or(ChannelKind::Webhook, |c| c.kind);
    let smtp = c.as_ref().and_then(|c| c.smtp.clone());
    let events = c.as_ref().map(|c| c.events.clone()).unwrap_or_else(|| {
        vec![
            NotifyEvent::DeploymentFailed,
            NotifyEvent::DeploymentRolledBack,
            NotifyEvent::BuildFailed,
            NotifyEvent::CrashLooping,
            NotifyEvent::OutOfMemory,
            NotifyEvent::BackupFailed,
        ]
    });
    let security = smtp.as_ref().map_or(SmtpSecurity::Starttls, |s| s.security);
    let secret_hint = if c.as_ref().is_some_and(|c| c.has_secret) {
        "stored: leave empty to keep it"
    } else {
        "webhook: 16+ characters"
    };
    view! {
        <ActionForm action=save attr:class="channel-form stacked">
            {c.as_ref().map(|c| view! { <input type="hidden" name="form[id]" value=c.id.to_string() /> })}
            <label>"Name"
                <input name="form[name]" id=id_of("name") required maxlength="60" autocomplete="off"
                    value=c.as_ref().map(|c| c.name.clone()).unwrap_or_default() placeholder=pre("ops") />
            </label>
            <label>"Kind"
                <select name="form[kind]" id=id_of("kind")>
                    {ChannelKind::ALL.into_iter().map(|k| view! {
                        <option value=k.as_str() selected=k == kind>{k.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"URL (webhook, Slack, Mattermost, Discord)"
                <input name="form[url]" id=id_of("url") type="url" autocomplete="off"
                    value=c.as_ref().and_then(|c| c.url.clone()).unwrap_or_default() placeholder=pre("https://hooks.example.com/berth") />
            </label>
            <label>"Secret (webhook signing secret or SMTP password; " {secret_hint} ")"
                <input name="form[secret]" id=id_of("secret") type="password" autocomplete="new-password" />
            </label>
            <fieldset>
                <legend>"Email (SMTP)"</legend>
                <label>"Server" <input name="form[smtp_host]" id=id_of("smtp-host") autocomplete="off"
                    value=smtp.as_ref().map(|s| s.host.clone()).unwrap_or_default() placeholder=pre("smtp.example.com") /></label>
                <label>"Port" <input name="form[smtp_port]" id=id_of("smtp-port") type="number" min="1" max="65535" class="narrow"
                    value=smtp.as_ref().map_or("587".to_owned(), |s| s.port.to_string()) /></label>
                <label>"Security"
                    <select name="form[smtp_security]" id=id_of("smtp-security")>
                        {[(SmtpSecurity::Starttls, "STARTTLS (587)"), (SmtpSecurity::Tls, "TLS (465)"), (SmtpSecurity::Plain, "none (local relay only)")]
                            .into_iter().map(|(s, label)| view! { <option value=s.as_str() selected=s == security>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label>"User name" <input name="form[smtp_username]" id=id_of("smtp-username") autocomplete="off"
                    value=smtp.as_ref().map(|s| s.username.clone()).unwrap_or_default() /></label>
                <label>"From" <input name="form[smtp_from]" id=id_of("smtp-from") autocomplete="off"
                    value=smtp.as_ref().map(|s| s.from.clone()).unwrap_or_default() placeholder=pre("berth@example.com") /></label>
                <label>"To (comma-separated)" <input name="form[smtp_to]" id=id_of("smtp-to") autocomplete="off"
                    value=smtp.as_ref().map(|s| s.to.join(", ")).unwrap_or_default() placeholder=pre("ops@example.com") /></label>
            </fieldset>
            <fieldset class="channel-events">
                <legend>"Send these events"</legend>
                {NotifyEvent::RULES.into_iter().map(|e| {
                    let field = event_field(e);
                    view! {
                        <label>
                            <input type="checkbox" name=format!("form[{field}]") id=id_of(&field.replace('_', "-")) value="on" checked=events.contains(&e) />
                            " " {e.label()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <button type="submit" class="primary" id=id_of("submit")>{if new { "Add channel" } else { "Save" }}</button>
        </ActionForm>
    }
}
