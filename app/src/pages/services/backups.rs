//! The service page's Backups section: the plan (schedule, stop while archiving,
//! retention), "Back up now", the backups with their size, checksum and state, and a
//! restore per backup behind a confirmation box. Every form works without JavaScript;
//! with it, the list is read again every 2 s while something is under way.

use crate::api::backups::{service_backups, BackupAction};
use crate::components::refresh_every;
use crate::domain::backup::Backup;
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn Backups(id: String) -> impl IntoView {
    let key = id.clone();
    let data = Resource::new(move || key.clone(), service_backups);
    let act = ServerAction::<BackupAction>::new();
    Effect::new(move |_| {
        if act.version().get() > 0 {
            data.refetch();
        }
    });
    refresh_every(Duration::from_secs(2), move || {
        let busy = data
            .get_untracked()
            .and_then(Result::ok)
            .is_some_and(|(_, list)| {
                list.iter().any(|b| {
                    matches!(b.state.as_str(), "queued" | "running")
                        || matches!(b.restore_state.as_deref(), Some("queued" | "running"))
                })
            });
        if busy {
            data.refetch();
        }
    });
    view! {
        <section class="card" id="backups">
            <h2>"Backups"</h2>
            <p class="muted">"Archives of this service's named volumes, made by a helper container from its own image. A restore checks the archive's SHA-256, stops the service, replaces its volumes' files and starts it again."</p>
            {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <p class="banner error" id="backup-error">{e.to_string()}</p> })}
            <Transition fallback=|| ()>
                {move || Suspend::new({
                    let id = id.clone();
                    async move {
                        match data.await {
                            Ok((plan, list)) => {
                                let (run_id, plan_id) = (id.clone(), id.clone());
                                view! {
                                <ActionForm action=act attr:class="inline" attr:id="backup-now-form">
                                    <input type="hidden" name="id" value=run_id />
                                    <input type="hidden" name="action" value="run" />
                                    <label><input type="checkbox" name="stop_service" value="true" checked=plan.stop_service />" stop the service while archiving"</label>
                                    " "
                                    <button type="submit" id="backup-now">"Back up now"</button>
                                </ActionForm>
                                <details>
                                    <summary>"Plan"</summary>
                                    <ActionForm action=act attr:id="backup-plan-form">
                                        <input type="hidden" name="id" value=plan_id />
                                        <input type="hidden" name="action" value="plan" />
                                        <label>"Schedule (cron, " {plan.time_zone.clone()} ") " <input name="schedule" id="backup-schedule" placeholder="0 3 * * *" value=plan.schedule.clone().unwrap_or_default() /></label>
                                        <NextRuns runs=plan.next_runs.clone() zone=plan.time_zone.clone() />
                                        <label>"Keep the last " <input name="keep_last" type="number" min="1" class="narrow" value=plan.keep_last.map(|n| n.to_string()).unwrap_or_default() />" backups"</label>
                                        <label>"Remove after " <input name="max_age_days" type="number" min="1" class="narrow" value=plan.max_age_days.map(|n| n.to_string()).unwrap_or_default() />" days"</label>
                                        <label><input type="checkbox" name="stop_service" value="true" checked=plan.stop_service />" stop the service while archiving"</label>
                                        <button type="submit" id="save-backup-plan">"Save plan"</button>
                                    </ActionForm>
                                </details>
                                <BackupTable id=id list=list act=act />
                            }.into_any()
                            }
                            Err(e) => view! { <p class="banner error">{e.to_string()}</p> }.into_any(),
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// A plan's next scheduled runs, in the instance's time zone (as jobs show theirs).
#[component]
pub fn NextRuns(runs: Vec<String>, zone: String) -> impl IntoView {
    (!runs.is_empty()).then(|| {
        view! {
            <p class="muted backup-next-runs">"Next runs (" {zone} "): "
                {runs.into_iter().map(|r| view! { <time class="backup-next-run">{r}</time>" " }).collect_view()}
            </p>
        }
    })
}

#[component]
fn BackupTable(id: String, list: Vec<Backup>, act: ServerAction<BackupAction>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted" id="no-backups">"No backups yet."</p> }.into_any();
    }
    view! {
        <table id="backup-list">
            <thead><tr><th>"Made"</th><th>"State"</th><th>"Size"</th><th>"SHA-256"</th><th>"Restore"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|b| {
                    let id = id.clone();
                    let restorable = b.state == "succeeded";
                    let backup = b.id.to_string();
                    let row = backup.clone();
                    view! {
                        <tr class="backup" data-backup=row>
                            <td><time>{super::ago(b.created_at)}</time>" "<span class="muted">{b.trigger.clone()}</span></td>
                            <td class="backup-state">{b.state.clone()}{b.error.clone().map(|e| view! { <br /><span class="muted">{e}</span> })}{b.remote.clone().map(|r| view! { <br /><code class="backup-remote">{r}</code> })}</td>
                            <td>{b.size_bytes.map(human_size).unwrap_or_default()}</td>
                            <td><code title=b.sha256.clone().unwrap_or_default()>{b.sha256.as_deref().map(|s| s.chars().take(12).collect::<String>()).unwrap_or_default()}</code></td>
                            <td>
                                <span class="restore-state">{b.restore_state.clone().map(|s| format!("restore {s}")).unwrap_or_default()}</span>
                                {b.restore_error.clone().map(|e| view! { <br /><span class="muted">{e}</span> })}
                                {restorable.then(move || view! {
                                    <ActionForm action=act attr:class="inline confirm-form">
                                        <input type="hidden" name="id" value=id />
                                        <input type="hidden" name="action" value="restore" />
                                        <input type="hidden" name="backup" value=backup />
                                        <label><input type="checkbox" name="confirm" value="yes" required class="restore-confirm" />" stop the service and replace its volumes"</label>
                                        <button type="submit" class="danger restore-backup">"Restore"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Bytes in KiB/MiB/GiB, one decimal.
fn human_size(n: i64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < units.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[unit])
    }
}
