//! The audit log: who did what to what, when and from where. The filters are a plain GET
//! form, so the page (and every filtered view) is a link and works without JavaScript.

use super::team::{error_text, when};
use crate::api::{team::audit_log, whoami};
use crate::components::AppLayout;
use crate::domain::team::{AuditEntry, AuditFilter, AuditPage};
use crate::domain::{Permission, Role};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};
use serde_json::Value;

/// Actions (and prefixes) offered as suggestions in the action filter.
const ACTIONS: &[&str] = &[
    "auth.",
    "team.",
    "member.",
    "invitation.",
    "token.",
    "user.",
    "service.",
    "deployment.",
    "build.",
    "auth.sign_in",
    "auth.sign_in_failed",
    "member.add",
    "member.role",
    "member.remove",
    "member.leave",
    "invitation.create",
    "invitation.accept",
    "invitation.revoke",
    "token.create",
    "token.revoke",
    "service.create",
    "service.update",
    "service.delete",
    "service.redeploy",
    "service.deploy",
    "service.rollback",
    "deployment.succeeded",
    "deployment.failed",
];

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        let text = |k: &str| q.get(k).unwrap_or_default();
        AuditFilter {
            actor: text("actor"),
            action: text("action"),
            target: text("target"),
            from: text("from"),
            to: text("to"),
            before: q.get("before").and_then(|b| b.parse().ok()),
        }
    });
    // Asked only when the role allows it; otherwise the page says so (with the role).
    let page = Resource::new(
        move || filter.get(),
        |f| async move {
            match whoami().await? {
                Some(me) if !me.role.allows(Permission::ReadAudit) => Ok(Err(me.role)),
                _ => audit_log(f).await.map(Ok),
            }
        },
    );
    view! {
        <AppLayout title="Audit log">
            <h1>"Audit log"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let f = filter.get_untracked();
                    match page.await {
                        Ok(Ok(p)) => view! { <Filters filter=f.clone() /> <Entries page=p filter=f /> }.into_any(),
                        Ok(Err(role)) => view! { <Refused role=role /> }.into_any(),
                        Err(e) => view! { <Filters filter=f /> <p class="banner error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppLayout>
    }
}

#[component]
fn Refused(role: Role) -> impl IntoView {
    view! {
        <p class="banner error" role="alert" id="audit-refused">
            "Your role (" {role.as_str()} ") does not allow reading the audit log: it is for the team's admins and owners. Ask one of them if you need to know who changed what."
        </p>
    }
}

#[component]
fn Filters(filter: AuditFilter) -> impl IntoView {
    view! {
        <form method="get" action="/audit" class="card filters" id="audit-filters">
            <label>"Actor" <input name="actor" id="audit-actor" value=filter.actor placeholder="name or email" /></label>
            <label>"Action" <input name="action" id="audit-action" value=filter.action list="audit-actions" placeholder="service. or member.add" /></label>
            <label>"Target" <input name="target" id="audit-target" value=filter.target placeholder="name or id" /></label>
            <label>"From" <input name="from" id="audit-from" value=filter.from placeholder="2026-11-27" /></label>
            <label>"To" <input name="to" id="audit-to" value=filter.to placeholder="2026-11-27" /></label>
            <datalist id="audit-actions">
                {ACTIONS.iter().map(|a| view! { <option value=*a></option> }).collect_view()}
            </datalist>
            <div class="filter-buttons">
                <button type="submit" class="primary" id="audit-filter">"Filter"</button>
                <a href="/audit">"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn Entries(page: AuditPage, filter: AuditFilter) -> impl IntoView {
    let older = page.next_before.map(|before| {
        let mut f = filter.clone();
        f.before = Some(before);
        format!("/audit?{}", query_of(&f))
    });
    let newest = filter.before.is_some().then(|| {
        let f = AuditFilter {
            before: None,
            ..filter.clone()
        };
        format!("/audit?{}", query_of(&f))
    });
    if page.entries.is_empty() {
        return view! {
            <p class="muted" id="audit-empty">"No entries match."</p>
            {newest.map(|href| view! { <p><A href=href>"Newest entries"</A></p> })}
        }
        .into_any();
    }
    view! {
        <table class="table" id="audit">
            <thead><tr><th>"Time"</th><th>"Actor"</th><th>"Action"</th><th>"Target"</th><th>"Address"</th><th>"Details"</th></tr></thead>
            <tbody>
                {page.entries.into_iter().map(|e| view! { <Entry entry=e /> }).collect_view()}
            </tbody>
        </table>
        <nav class="pager">
            {newest.map(|href| view! { <A href=href attr:id="audit-newest">"Newest entries"</A> })}
            {older.map(|href| view! { <A href=href attr:id="audit-older">"Older entries"</A> })}
        </nav>
    }
    .into_any()
}

#[component]
fn Entry(entry: AuditEntry) -> impl IntoView {
    let e = entry;
    let target = if e.target.is_empty() {
        e.target_kind.clone()
    } else {
        format!("{} {}", e.target_kind, e.target)
    };
    view! {
        <tr class="audit-entry" data-action=e.action.clone() data-actor-kind=e.actor_kind.clone()>
            <td class="time muted">{when(e.at)}</td>
            <td class="actor">{e.actor.clone()}</td>
            <td class="action">{e.action.clone()}</td>
            <td class="target">{target}</td>
            <td class="ip"><code>{e.ip.clone().unwrap_or_default()}</code></td>
            <td class="summary">{summary_text(&e.summary)}</td>
        </tr>
    }
}

/// The filter as a query string, empty fields left out.
fn query_of(f: &AuditFilter) -> String {
    let before = f.before.map(|b| b.to_string()).unwrap_or_default();
    let pairs = [
        ("actor", f.actor.as_str()),
        ("action", f.action.as_str()),
        ("target", f.target.as_str()),
        ("from", f.from.as_str()),
        ("to", f.to.as_str()),
        ("before", before.as_str()),
    ];
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a query value (unreserved characters stay as they are).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An entry's summary in words: `field: before → after` for changes, `field: value`
/// otherwise.
fn summary_text(v: &Value) -> String {
    fn plain(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => "—".into(),
            other => other.to_string(),
        }
    }
    match v {
        Value::Null => String::new(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match (v.get("before"), v.get("after")) {
                (Some(b), Some(a)) => format!("{k}: {} → {}", plain(b), plain(a)),
                _ => format!("{k}: {}", plain(v)),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => plain(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_read_as_words() {
        assert_eq!(
            summary_text(&json!({"image": {"before": "a:1", "after": "a:2"}, "replicas": 2})),
            "image: a:1 → a:2; replicas: 2"
        );
        assert_eq!(summary_text(&json!({})), "");
        assert_eq!(summary_text(&Value::Null), "");
    }

    #[test]
    fn pager_links_keep_the_filters() {
        let f = AuditFilter {
            action: "service.".into(),
            before: Some(42),
            ..Default::default()
        };
        assert_eq!(query_of(&f), "action=service.&before=42");
        let g = AuditFilter {
            actor: "Grace Hopper <g&h>".into(),
            ..Default::default()
        };
        assert_eq!(query_of(&g), "actor=Grace%20Hopper%20%3Cg%26h%3E");
    }
}
