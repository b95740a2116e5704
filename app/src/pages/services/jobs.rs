//! The service page's jobs card: the service's scheduled jobs with their next five runs
//! (in the instance's time zone, said), a form to define one, "Run now", a one-off
//! "Run command", the recent runs, and one run's output — re-read live as runs change.

use crate::api::jobs::{job_run_output, service_jobs, DeleteJob, RunCommand, RunJob, SaveJob};
use crate::components::refresh_on_live;
use crate::domain::jobs::{JobRunView, JobView};
use crate::domain::live::LiveTopic;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn JobsCard(
    id: String,
    /// The role may define and run jobs and commands.
    manage: bool,
    /// The role may read what runs printed.
    reads_logs: bool,
) -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SaveJob>::new();
    let run = ServerAction::<RunJob>::new();
    let delete = ServerAction::<DeleteJob>::new();
    let command = ServerAction::<RunCommand>::new();
    let shown = RwSignal::new(query.read_untracked().get("run"));
    let panel = Resource::new(
        {
            let id = id.clone();
            move || (id.clone(), save.version().get() + delete.version().get())
        },
        |(id, _)| service_jobs(id),
    );
    let output = Resource::new(
        move || shown.get(),
        |run| async move {
            match run {
                Some(r) => job_run_output(r).await.map(Some),
                None => Ok(None),
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(r)) = run.value().get() {
            shown.set(Some(r));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(r)) = command.value().get() {
            shown.set(Some(r));
        }
    });
    let service = id.clone();
    refresh_on_live(
        move |c| c.service.to_string() == service && c.topic == LiveTopic::Jobs,
        move || {
            panel.refetch();
            output.refetch();
        },
    );
    let error = move || {
        let action_error = [
            save.value().get().and_then(|r| r.err()),
            run.value().get().and_then(|r| r.err()),
            delete.value().get().and_then(|r| r.err()),
            command.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| e.to_string());
        action_error
            .or_else(|| query.read().get("job_error"))
            .map(|e| view! { <p class="banner error" id="job-error">{e.replace("error running server function: ", "")}</p> })
    };
    view! {
        <section class="card" id="jobs">
            <h2>"Jobs"</h2>
            {error}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match panel.await {
                        Ok(p) => view! {
                            <p class="muted">
                                "Schedules are read in "
                                <strong id="jobs-time-zone">{p.time_zone.clone()}</strong>
                                " (BERTH_TIME_ZONE)."
                            </p>
                            <JobList jobs=p.jobs.clone() run=run delete=delete manage=manage />
                            <RunList runs=p.runs.clone() jobs=p.jobs.clone() reads_logs=reads_logs />
                        }.into_any(),
                        Err(e) => view! { <p class="banner error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {reads_logs.then(|| view! {
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        output.await.ok().flatten().map(|(r, log)| view! {
                            <div id="run-output" data-state=r.state.as_str()>
                                <h3>{format!("Run #{} — {}", r.number, r.state.as_str().replace('_', " "))}
                                    {r.exit_code.map(|c| format!(", exit code {c}"))}</h3>
                                {r.reason.clone().map(|why| view! { <p class="muted" id="run-output-reason">{why}</p> })}
                                <pre class="log" id="run-output-lines">
                                    {log.into_iter().map(|l| view! { <span class=format!("line {}", l.stream)>{l.line}"\n"</span> }).collect_view()}
                                </pre>
                            </div>
                        })
                    })}
                </Transition>
            })}
            {manage.then(|| view! {
                <JobForm id=id.clone() save=save />
                <CommandForm id=id.clone() command=command />
            })}
        </section>
    }
}

#[component]
fn JobList(
    jobs: Vec<JobView>,
    run: ServerAction<RunJob>,
    delete: ServerAction<DeleteJob>,
    manage: bool,
) -> impl IntoView {
    if jobs.is_empty() {
        return view! { <p class="muted" id="no-jobs">"No scheduled jobs yet."</p> }.into_any();
    }
    view! {
        <table class="data" id="job-list">
            <thead><tr><th>"Job"</th><th>"Schedule"</th><th>"Command"</th><th>"Next runs"</th><th>"Policy"</th><th></th></tr></thead>
            <tbody>
                {jobs.into_iter().map(|j| {
                    let name = j.name.clone();
                    let (run_job_id, delete_job_id) = (j.id.to_string(), j.id.to_string());
                    let row_name = name.clone();
                    let (run_id, delete_id) = (format!("run-now-{name}"), format!("delete-job-{name}"));
                    let next_id = format!("next-runs-{name}");
                    view! {
                        <tr data-job=row_name>
                            <td>{name}</td>
                            <td><code>{j.schedule.clone()}</code></td>
                            <td><code>{j.command.join(" ")}</code><br/><small class="muted">{format!("timeout {} s", j.timeout_s)}</small></td>
                            <td>
                                <ol class="next-runs" id=next_id>
                                    {j.next_runs.iter().map(|t| view! { <li><time>{t.clone()}</time></li> }).collect_view()}
                                </ol>
                                <small class="muted">{j.time_zone.clone()}</small>
                            </td>
                            <td><small>{format!("concurrency: {}; missed runs: {}", j.concurrency.as_str(), j.missed_runs.as_str().replace('_', " "))}</small></td>
                            <td>
                                {manage.then(move || view! {
                                    <ActionForm action=run attr:class="inline">
                                        <input type="hidden" name="id" value=run_job_id />
                                        <button type="submit" id=run_id>"Run now"</button>
                                    </ActionForm>
                                    <ActionForm action=delete attr:class="inline">
                                        <input type="hidden" name="id" value=delete_job_id />
                                        <button type="submit" class="ghost danger" id=delete_id>"Delete"</button>
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

#[component]
fn RunList(runs: Vec<JobRunView>, jobs: Vec<JobView>, reads_logs: bool) -> impl IntoView {
    if runs.is_empty() {
        return ().into_any();
    }
    let name_of = move |r: &JobRunView| {
        r.job_id
            .and_then(|id| jobs.iter().find(|j| j.id == id))
            .map(|j| j.name.clone())
            .unwrap_or_else(|| "command".to_owned())
    };
    view! {
        <h3>"Recent runs"</h3>
        <table class="data" id="job-runs">
            <thead><tr><th>"#"</th><th>"Job"</th><th>"Trigger"</th><th>"State"</th><th>"Started"</th><th>"Duration"</th><th>"Exit"</th><th></th></tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let state = r.state.as_str();
                    view! {
                        <tr data-run=r.id.to_string() data-state=state>
                            <td>{r.number}</td>
                            <td>{name_of(&r)}</td>
                            <td>{r.trigger.as_str()}</td>
                            <td class=format!("state {state}")>{state.replace('_', " ")}</td>
                            <td>{r.started_at.map(super::ago).unwrap_or_default()}</td>
                            <td>{r.duration_ms.map(|ms| format!("{:.1} s", ms as f64 / 1000.0)).unwrap_or_default()}</td>
                            <td>{r.exit_code.map(|c| c.to_string()).unwrap_or_default()}</td>
                            <td>{reads_logs.then(|| view! {
                                <a href=format!("?run={}#run-output", r.id) id=format!("run-output-link-{}", r.number)>"Output"</a>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn JobForm(id: String, save: ServerAction<SaveJob>) -> impl IntoView {
    view! {
        <h3>"New job"</h3>
        <ActionForm action=save attr:id="job-form">
            <input type="hidden" name="service" value=id />
            <label>"Name" <input name="name" id="job-name" required placeholder="nightly-report" /></label>
            <label>"Schedule (minute hour day month weekday)"
                <input name="schedule" id="job-schedule" required placeholder="*/15 * * * *" /></label>
            <label>"Command, one argument per line (no shell)"
                <textarea name="command" id="job-command" rows="3" required></textarea></label>
            <label>"Timeout (seconds)" <input name="timeout_s" id="job-timeout" type="number" min="1" max="86400" value="3600" /></label>
            <label>"If still running when due"
                <select name="concurrency" id="job-concurrency">
                    <option value="forbid" selected>"skip (forbid)"</option>
                    <option value="replace">"replace"</option>
                    <option value="allow">"allow both"</option>
                </select></label>
            <label>"Runs missed while Berth was down"
                <select name="missed_runs" id="job-missed-runs">
                    <option value="run_once" selected>"run once at start"</option>
                    <option value="skip">"skip"</option>
                </select></label>
            <button type="submit" id="job-save">"Save job"</button>
        </ActionForm>
    }
}

#[component]
fn CommandForm(id: String, command: ServerAction<RunCommand>) -> impl IntoView {
    view! {
        <h3>"Run command"</h3>
        <p class="muted">"Once, in a new container from the live image, with the service's env, network and limits. Audited."</p>
        <ActionForm action=command attr:id="command-form">
            <input type="hidden" name="service" value=id />
            <label>"Command, one argument per line"
                <textarea name="command" id="command-argv" rows="3" required></textarea></label>
            <label>"Timeout (seconds)" <input name="timeout_s" id="command-timeout" type="number" min="1" max="86400" value="600" /></label>
            <button type="submit" id="command-run">"Run command"</button>
        </ActionForm>
    }
}
