//! The service page's jobs card: the service's scheduled jobs with their next five runs
//! (in the instance's time zone, said), a form to define one and to edit one, "Run now", a
//! one-off "Run command", the recent runs (re-read live as runs change), and one run's
//! output, streamed while it runs.

use super::run_output::RunOutput;
use crate::api::jobs::{
    job_run_output, service_jobs, DeleteJob, RunCommand, RunJob, SaveJob, UpdateJob,
};
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
    let update = ServerAction::<UpdateJob>::new();
    let run = ServerAction::<RunJob>::new();
    let delete = ServerAction::<DeleteJob>::new();
    let command = ServerAction::<RunCommand>::new();
    let shown = RwSignal::new(query.read_untracked().get("run"));
    // The job whose edit form is open: "Edit" sets it (without JavaScript its link's
    // `?edit=<id>` does, as does a refused edit coming back).
    let editing = RwSignal::new(query.read_untracked().get("edit"));
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    let panel = Resource::new(
        {
            let id = id.clone();
            move || {
                let changes = save.version().get() + update.version().get();
                (id.clone(), changes + delete.version().get())
            }
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
    // Read once when the form opens: live updates of the card do not reset what is typed.
    let edited = Resource::new(
        {
            let id = id.clone();
            move || (id.clone(), editing.get())
        },
        |(id, editing)| async move {
            let Some(job) = editing else {
                return Ok(None);
            };
            service_jobs(id)
                .await
                .map(|p| p.jobs.into_iter().find(|j| j.id.to_string() == job))
        },
    );
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
            update.value().get().and_then(|r| r.err()),
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
                            <JobList jobs=p.jobs.clone() run=run delete=delete manage=manage editing=editing />
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
                            <RunOutput run=r log=log ended=Callback::new(move |_| output.refetch()) />
                        })
                    })}
                </Transition>
            })}
            {manage.then(|| {
                let service = id.clone();
                view! {
                    <Transition fallback=|| ()>
                        {move || {
                            let service = service.clone();
                            Suspend::new(async move {
                                edited.await.ok().flatten().map(|job| view! {
                                    <JobForm service=service job=Some(job) update=update save=save editing=editing />
                                })
                            })
                        }}
                    </Transition>
                }
            })}
            {manage.then(|| view! {
                <JobForm service=id.clone() job=None update=update save=save editing=editing />
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
    editing: RwSignal<Option<String>>,
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
                    let (run_job_id, delete_job_id, edit_job_id) = (j.id.to_string(), j.id.to_string(), j.id.to_string());
                    let row_name = name.clone();
                    let (run_id, delete_id) = (format!("run-now-{name}"), format!("delete-job-{name}"));
                    let edit_id = format!("edit-job-{name}");
                    let open_edit = {
                        let id = edit_job_id.clone();
                        move |ev: leptos::ev::MouseEvent| {
                            ev.prevent_default();
                            editing.set(Some(id.clone()));
                        }
                    };
                    let next_id = format!("next-runs-{name}");
                    view! {
                        <tr data-job=row_name>
                            <td>{name}</td>
                            <td><code>{j.schedule.clone()}</code>
                                {(!j.enabled).then(|| view! { <br/><small class="muted">"disabled: runs only when started"</small> })}</td>
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
                                    <a class="button ghost" href=format!("?edit={edit_job_id}#job-edit-form") id=edit_id on:click=open_edit>"Edit"</a>
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

/// The new-job form (`job` = `None`) or a job's edit form: the same fields, rules and
/// messages; the edit form shows the job's next runs under its schedule. Field ids start
/// with `job-` (new) or `job-edit-` (edit).
#[component]
fn JobForm(
    service: String,
    job: Option<JobView>,
    save: ServerAction<SaveJob>,
    update: ServerAction<UpdateJob>,
    editing: RwSignal<Option<String>>,
) -> impl IntoView {
    let p = if job.is_some() { "job-edit" } else { "job" };
    let id = move |field: &str| format!("{p}-{field}");
    let fields = job.clone().unwrap_or_else(|| JobView {
        id: uuid::Uuid::nil(),
        service_id: uuid::Uuid::nil(),
        name: String::new(),
        schedule: String::new(),
        command: Vec::new(),
        timeout_s: 3600,
        concurrency: Default::default(),
        missed_runs: Default::default(),
        enabled: true,
        time_zone: String::new(),
        next_runs: Vec::new(),
        created_at: Default::default(),
        updated_at: Default::default(),
    });
    let (concurrency, missed, enabled) = (
        fields.concurrency.as_str(),
        fields.missed_runs.as_str(),
        fields.enabled,
    );
    let inputs = view! {
        <input type="hidden" name="service" value=service />
        <label>"Name" <input name="name" id=id("name") required placeholder="nightly-report" value=fields.name.clone() /></label>
        <label>"Schedule (minute hour day month weekday)"
            <input name="schedule" id=id("schedule") required placeholder="*/15 * * * *" value=fields.schedule.clone() /></label>
        {job.is_some().then(|| view! {
            <div class="muted">
                {if fields.next_runs.is_empty() { "Next runs: none while disabled.".to_owned() } else { format!("Next runs ({}):", fields.time_zone) }}
                <ol class="next-runs" id="job-edit-next-runs">
                    {fields.next_runs.iter().map(|t| view! { <li><time>{t.clone()}</time></li> }).collect_view()}
                </ol>
            </div>
        })}
        <label>"Command, one argument per line (no shell)"
            <textarea name="command" id=id("command") rows="3" required>{fields.command.join("\n")}</textarea></label>
        <label>"Timeout (seconds)" <input name="timeout_s" id=id("timeout") type="number" min="1" max="86400" value=fields.timeout_s.to_string() /></label>
        <label>"If still running when due"
            <select name="concurrency" id=id("concurrency")>
                <option value="forbid" selected={concurrency == "forbid"}>"skip (forbid)"</option>
                <option value="replace" selected={concurrency == "replace"}>"replace"</option>
                <option value="allow" selected={concurrency == "allow"}>"allow both"</option>
            </select></label>
        <label>"Runs missed while Berth was down"
            <select name="missed_runs" id=id("missed-runs")>
                <option value="run_once" selected={missed == "run_once"}>"run once at start"</option>
                <option value="skip" selected={missed == "skip"}>"skip"</option>
            </select></label>
        <label>"On its schedule"
            <select name="enabled" id=id("enabled")>
                <option value="true" selected=enabled>"enabled"</option>
                <option value="false" selected={!enabled}>"disabled (runs only when started)"</option>
            </select></label>
    };
    match job {
        None => view! {
            <h3>"New job"</h3>
            <ActionForm action=save attr:id="job-form">
                {inputs}
                <button type="submit" id="job-save">"Save job"</button>
            </ActionForm>
        }
        .into_any(),
        Some(j) => view! {
            <h3 id="job-edit-title">{format!("Edit job {}", j.name)}</h3>
            <ActionForm action=update attr:id="job-edit-form">
                <input type="hidden" name="id" value=j.id.to_string() />
                {inputs}
                <button type="submit" id="job-edit-save">"Save changes"</button>
                " "<a href="?#jobs" class="button ghost" id="job-edit-cancel"
                    on:click=move |ev| { ev.prevent_default(); editing.set(None); }>"Cancel"</a>
            </ActionForm>
        }
        .into_any(),
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
