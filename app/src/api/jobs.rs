//! The service page's jobs card: a service's jobs and recent runs, defining, running and
//! deleting a job, a one-off command, and a run's output. Forms work without JavaScript
//! (a refusal comes back to the service page as `?job_error=…`, a started run as `?run=…`).

use crate::domain::jobs::{JobRunView, JobView, RunLogLine};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the jobs card shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobsPanel {
    /// The IANA zone schedules are read in.
    pub time_zone: String,
    pub jobs: Vec<JobView>,
    /// The newest runs of the service's jobs and commands.
    pub runs: Vec<JobRunView>,
}

/// Runs the card lists.
pub const RECENT_RUNS: i64 = 20;

#[cfg(feature = "ssr")]
mod form {
    use crate::api::services::guard;
    use crate::commands::CommandError;
    use crate::domain::jobs::{ConcurrencyPolicy, JobInput, MissedRuns};
    use leptos::prelude::ServerFnError;

    /// One argument per line (a trailing newline is not an argument).
    pub fn argv(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| l.trim_end_matches('\r').to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    }

    pub fn timeout(text: &str) -> Result<i32, CommandError> {
        text.trim()
            .parse()
            .map_err(|_| CommandError::field("timeout_s", "Timeout: a whole number of seconds."))
    }

    /// The job form's fields, as the new-job and the edit form send them. `enabled`: the
    /// select's `true`/`false` (absent: enabled, as before the field existed). A value
    /// the form's selects do not offer is refused naming its field, never read as the
    /// default.
    #[allow(clippy::too_many_arguments)]
    pub fn job(
        name: &str,
        schedule: &str,
        command: &str,
        timeout_s: &str,
        concurrency: &str,
        missed_runs: &str,
        enabled: Option<&str>,
    ) -> Result<JobInput, CommandError> {
        let enabled = match enabled.map(str::trim) {
            None | Some("true") | Some("on") => true,
            Some("false") => false,
            Some(_) => {
                return Err(CommandError::field(
                    "enabled",
                    "Enabled: runs on its schedule (true) or only when started (false).",
                ))
            }
        };
        let concurrency = ConcurrencyPolicy::parse(concurrency.trim()).ok_or_else(|| {
            CommandError::field("concurrency", "Concurrency: forbid, replace or allow.")
        })?;
        let missed_runs = MissedRuns::parse(missed_runs.trim())
            .ok_or_else(|| CommandError::field("missed_runs", "Missed runs: run_once or skip."))?;
        Ok(JobInput {
            name: name.trim().to_owned(),
            schedule: schedule.trim().to_owned(),
            command: argv(command),
            timeout_s: timeout(timeout_s)?,
            concurrency,
            missed_runs,
            enabled,
        })
    }

    /// A refusal: without JavaScript, input that breaks a rule goes back to the service
    /// page saying why (not found and forbidden answer their status, as everywhere).
    pub fn refused(service: &str, e: CommandError) -> ServerFnError {
        refused_editing(service, None, e)
    }

    /// [`refused`], back to the edit form of job `editing` when there is one.
    pub fn refused_editing(service: &str, editing: Option<&str>, e: CommandError) -> ServerFnError {
        let input = matches!(e, CommandError::Invalid(_) | CommandError::Unprocessable(_));
        if input && guard::without_js() {
            let mut query = vec![("job_error", e.message())];
            if let Some(id) = editing {
                query.insert(0, ("edit", id.to_owned()));
            }
            let why = serde_urlencoded::to_string(query).unwrap_or_default();
            leptos_axum::redirect(&format!("/services/{service}?{why}#jobs"));
        }
        guard::fail(e)
    }
}

#[server(name = ServiceJobs, prefix = "/api", endpoint = "service_jobs")]
pub async fn service_jobs(id: String) -> Result<JobsPanel, ServerFnError> {
    use crate::api::services::guard;
    use crate::store::jobs::{self as store, RunsOf};
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadServices)?;
    let id = guard::id(&id)?;
    let team = actor.team_id;
    let jobs = store::list(&ctx.pool, team, id)
        .await
        .map_err(guard::fail)?;
    let runs = store::history(&ctx.pool, team, RunsOf::Service(id), RECENT_RUNS, None)
        .await
        .map_err(guard::fail)?;
    Ok(JobsPanel {
        time_zone: ctx.time_zone.name().to_owned(),
        jobs: jobs
            .iter()
            .map(|j| crate::commands::jobs::view(j, ctx.time_zone))
            .collect(),
        runs: runs.into_iter().map(Into::into).collect(),
    })
}

/// Defines a job on the service (the form's fields; the command one argument per line).
#[server(name = SaveJob, prefix = "/api", endpoint = "save_job")]
#[allow(clippy::too_many_arguments)]
pub async fn save_job(
    service: String,
    name: String,
    schedule: String,
    command: String,
    timeout_s: String,
    concurrency: String,
    missed_runs: String,
    enabled: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::api::services::guard;
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&service)?;
    let job = form::job(
        &name,
        &schedule,
        &command,
        &timeout_s,
        &concurrency,
        &missed_runs,
        enabled.as_deref(),
    )
    .map_err(|e| form::refused(&service, e))?;
    crate::commands::jobs::create(ctx.deps(), &caller, id, &job)
        .await
        .map_err(|e| form::refused(&service, e))?;
    if guard::without_js() {
        leptos_axum::redirect(&format!("/services/{service}#jobs"));
    }
    Ok(())
}

/// Changes a job (the edit form: the new-job form's fields and the job's `id`; `service`
/// only says where the page is). The same command as `PUT /api/v1/jobs/{id}`: same rules,
/// same messages, audited as `job.update`.
#[server(name = UpdateJob, prefix = "/api", endpoint = "update_job")]
#[allow(clippy::too_many_arguments)]
pub async fn update_job(
    id: String,
    service: String,
    name: String,
    schedule: String,
    command: String,
    timeout_s: String,
    concurrency: String,
    missed_runs: String,
    enabled: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::api::services::guard;
    let (ctx, caller) = crate::api::context::caller()?;
    let job_id = guard::id(&id)?;
    guard::id(&service)?;
    let refused = |e: crate::commands::CommandError| form::refused_editing(&service, Some(&id), e);
    let job = form::job(
        &name,
        &schedule,
        &command,
        &timeout_s,
        &concurrency,
        &missed_runs,
        enabled.as_deref(),
    )
    .map_err(refused)?;
    crate::commands::jobs::update(ctx.deps(), &caller, job_id, &job)
        .await
        .map_err(refused)?;
    if guard::without_js() {
        leptos_axum::redirect(&format!("/services/{service}#jobs"));
    }
    Ok(())
}

/// Runs a job now; answers the run's id (without JavaScript: the page showing its output).
#[server(name = RunJob, prefix = "/api", endpoint = "run_job")]
pub async fn run_job(id: String) -> Result<String, ServerFnError> {
    use crate::api::services::guard;
    let (ctx, caller) = crate::api::context::caller()?;
    let run = crate::commands::jobs::run_now(ctx.deps(), &caller, guard::id(&id)?)
        .await
        .map_err(guard::fail)?;
    if guard::without_js() {
        leptos_axum::redirect(&format!(
            "/services/{}?run={}#run-output",
            run.service_id, run.id
        ));
    }
    Ok(run.id.to_string())
}

/// Deletes a job and its history.
#[server(name = DeleteJob, prefix = "/api", endpoint = "delete_job")]
pub async fn delete_job(id: String) -> Result<(), ServerFnError> {
    use crate::api::services::guard;
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::jobs::delete(ctx.deps(), &caller, guard::id(&id)?)
        .await
        .map_err(guard::fail)
}

/// Runs a one-off command in the service's live image; answers the run's id.
#[server(name = RunCommand, prefix = "/api", endpoint = "run_command")]
pub async fn run_command(
    service: String,
    command: String,
    timeout_s: String,
) -> Result<String, ServerFnError> {
    use crate::api::services::guard;
    use crate::domain::jobs::CommandInput;
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&service)?;
    let input = form::timeout(&timeout_s)
        .map(|timeout_s| CommandInput {
            command: form::argv(&command),
            timeout_s,
        })
        .map_err(|e| form::refused(&service, e))?;
    let run = crate::commands::jobs::run_command(ctx.deps(), &caller, id, &input)
        .await
        .map_err(|e| form::refused(&service, e))?;
    if guard::without_js() {
        leptos_axum::redirect(&format!("/services/{service}?run={}#run-output", run.id));
    }
    Ok(run.id.to_string())
}

/// A run and what it printed (container output: developers and above).
#[server(name = JobRunOutput, prefix = "/api", endpoint = "job_run_output")]
pub async fn job_run_output(id: String) -> Result<(JobRunView, Vec<RunLogLine>), ServerFnError> {
    use crate::api::services::guard;
    let (ctx, actor) = guard::member(crate::domain::Permission::ReadContainerLogs)?;
    let (run, log) = crate::store::jobs::with_log(&ctx.pool, actor.team_id, guard::id(&id)?)
        .await
        .map_err(guard::fail)?;
    Ok((run.into(), log))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn the_command_field_is_one_argument_per_line() {
        assert_eq!(
            super::form::argv("psql\r\n-c\nselect 1; -- not a shell\n\n"),
            ["psql", "-c", "select 1; -- not a shell"]
        );
    }

    #[test]
    fn the_job_form_reads_enabled_and_names_a_bad_field() {
        let choices = |concurrency, missed_runs, enabled, timeout| {
            super::form::job(
                " n ",
                "* * * * *",
                "true",
                timeout,
                concurrency,
                missed_runs,
                enabled,
            )
        };
        let job = |enabled, timeout| choices("allow", "skip", enabled, timeout);
        let j = job(None, "60").unwrap();
        assert!(j.enabled, "absent: enabled, as before the field existed");
        assert_eq!((j.name.as_str(), j.timeout_s), ("n", 60));
        assert_eq!(j.concurrency, crate::domain::jobs::ConcurrencyPolicy::Allow);
        assert_eq!(j.missed_runs, crate::domain::jobs::MissedRuns::Skip);
        assert!(!job(Some("false"), "60").unwrap().enabled);
        assert!(job(Some("true"), "60").unwrap().enabled);
        for (enabled, timeout, field) in [
            (Some("maybe"), "60", "enabled"),
            (None, "soon", "timeout_s"),
        ] {
            let e = job(enabled, timeout).unwrap_err();
            assert!(format!("{e:?}").contains(field), "{e:?}");
        }
        // An unknown choice is refused naming its field, not read as the default.
        for (concurrency, missed_runs, field) in [
            ("sometimes", "skip", "concurrency"),
            ("", "skip", "concurrency"),
            ("forbid", "x", "missed_runs"),
            ("forbid", "", "missed_runs"),
        ] {
            let e = choices(concurrency, missed_runs, None, "60").unwrap_err();
            assert!(format!("{e:?}").contains(field), "{e:?}");
        }
    }
}
