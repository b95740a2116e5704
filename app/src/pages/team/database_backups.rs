//! Berth's own database's backups, on the team page of the instance owner: "Back up now"
//! (`pg_dump`), the list with size and checksum, the key warning, and where restoring
//! Berth is described. Works without JavaScript; with it, the list is read again every
//! 2 s while a backup runs.

use crate::api::backups::{database_backups, RunDatabaseBackup, SaveDatabasePlan};
use crate::components::refresh_every;
use crate::domain::backup::KEY_WARNING;
use crate::pages::services::backups::NextRuns;
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn DatabaseBackups() -> impl IntoView {
    let run = ServerAction::<RunDatabaseBackup>::new();
    let save = ServerAction::<SaveDatabasePlan>::new();
    let list = Resource::new(
        move || (run.version().get(), save.version().get()),
        |_| database_backups(),
    );
    refresh_every(Duration::from_secs(2), move || {
        let busy = list
            .get_untracked()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|(_, l)| {
                l.iter()
                    .any(|b| matches!(b.state.as_str(), "queued" | "running"))
            });
        if busy {
            list.refetch();
        }
    });
    // Its own reading, drawn outside the page's one reading (a resource made inside that
    // reading is read again after hydration and kept the invitation list from refreshing);
    // the server answers None to anyone but the instance owner, and then nothing shows.
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                list.await.ok().flatten().map(|(plan, rows)| {
                    let scheduled = plan.schedule.is_some();
                    let schedule = plan.schedule.clone().unwrap_or_default();
                    let zone = plan.time_zone.clone();
                    let keep_last = plan.keep_last.map(|n| n.to_string()).unwrap_or_default();
                    let max_age = plan.max_age_days.map(|n| n.to_string()).unwrap_or_default();
                    let next_runs = plan.next_runs;
                    view! {
                    <section class="card" id="database-backups">
                        <h2>"Berth's database backups"</h2>
                        <p class="banner warning" id="key-warning">{KEY_WARNING}</p>
                        <p class="muted">"Dumps (pg_dump, custom format) go to the backup folder with a .sha256 and a manifest naming where the secret key lives. To restore Berth: stop it, pg_restore the dump into a fresh database, start it on that database with the same key (README, Operations)."</p>
                        {move || run.value().get().and_then(|r| r.err()).map(|e| view! { <p class="banner error">{e.to_string()}</p> })}
                        <ActionForm action=run attr:class="inline">
                            <button type="submit" id="database-backup-now">"Back up now"</button>
                        </ActionForm>
                        {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <p class="banner error" id="database-plan-error">{super::error_text(&e)}</p> })}
                        <details open=scheduled>
                            <summary>"Scheduled dumps"</summary>
                            <p class="muted">"Saved from this team: its S3 destination (if set) receives the dumps and its notification channels hear when one fails."</p>
                            <ActionForm action=save attr:id="database-plan-form">
                                <label>"Schedule (cron, " {zone.clone()} ") " <input name="schedule" id="database-schedule" placeholder="0 2 * * *" value=schedule /></label>
                                <NextRuns runs=next_runs zone=zone />
                                <label>"Keep the last " <input name="keep_last" type="number" min="1" class="narrow" value=keep_last />" dumps"</label>
                                <label>"Remove after " <input name="max_age_days" type="number" min="1" class="narrow" value=max_age />" days"</label>
                                <button type="submit" id="save-database-plan">"Save plan"</button>
                            </ActionForm>
                        </details>
                        <table id="database-backup-list">
                            <thead><tr><th>"Made"</th><th>"State"</th><th>"File"</th><th>"SHA-256"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|b| view! {
                                    <tr class="database-backup">
                                        <td>{b.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                        <td class="backup-state">{b.state.clone()}{b.error.clone().map(|e| view! { <br /><span class="muted">{e}</span> })}{b.remote.clone().map(|r| view! { <br /><code class="backup-remote">{r}</code> })}</td>
                                        <td><code>{b.file.clone().unwrap_or_default()}</code></td>
                                        <td><code title=b.sha256.clone().unwrap_or_default()>{b.sha256.as_deref().map(|s| s.chars().take(12).collect::<String>()).unwrap_or_default()}</code></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                    }
                })
            })}
        </Transition>
    }
}
