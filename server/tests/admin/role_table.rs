//! The role table, written out by hand (NOT derived from the product's permission code):
//! one row per REST endpoint and per server function the pages call, with what each of
//! the six callers gets. `role_matrix` walks it, with session cookies and with API tokens.

/// The statuses one caller may get from one row (any of them); empty: not tried.
pub type Outcome = &'static [u16];

pub const OK: Outcome = &[200];
pub const CREATED: Outcome = &[201];
pub const ACCEPTED: Outcome = &[202];
pub const NO_CONTENT: Outcome = &[204];
/// A server function may answer a successful call with a redirect for the browser.
pub const OK_OR_REDIRECT: Outcome = &[200, 302, 303];
pub const UNAUTHORIZED: Outcome = &[401];
pub const FORBIDDEN: Outcome = &[403];
pub const NOT_FOUND: Outcome = &[404];
pub const CONFLICT: Outcome = &[409];
pub const UNPROCESSABLE: Outcome = &[422];
/// Not asked: the outsider on a row that names no id of team A would act in their own
/// team B (what this table checks is team A), and `whoami`/`my_teams` answer a signed-out
/// caller too.
pub const NOT_TRIED: Outcome = &[];

/// The callers, in the order of a row's outcomes: the four members of team A, the
/// outsider (owner of team B only) and nobody (no credentials).
pub const CALLERS: [&str; 6] = [
    "owner",
    "admin",
    "developer",
    "viewer",
    "outsider",
    "nobody",
];

/// What a server function does that a REST call also does, checked the same way: the REST
/// method, the REST path up to the id, and the form field that holds the id.
pub type Effect = (&'static str, &'static str, &'static str);

/// How a row is called. Paths, bodies and forms may name fixtures: `{service}`,
/// `{deployment}` (team A's service and its first deployment); `{fresh_service}`,
/// `{fresh_invitation}`, `{fresh_token}`, `{fresh_backup}` (made anew for each attempt); `{target}` (a
/// viewer of A put back before each attempt); `{team_name}` (A's name now); `{n}` (a
/// number unique to the attempt).
pub enum Call {
    /// A JSON request to the REST API (cookie or Bearer token).
    Rest {
        method: &'static str,
        path: &'static str,
        body: Option<&'static str>,
    },
    /// A server function behind the pages: a form post to `/api/<endpoint>` (cookie only).
    ServerFn {
        endpoint: &'static str,
        form: &'static str,
        effect: Option<Effect>,
    },
}

/// One line of the table: a call and what each of [`CALLERS`] gets from it.
pub struct Row {
    pub call: Call,
    pub outcomes: [Outcome; 6],
}

const fn rest(
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    outcomes: [Outcome; 6],
) -> Row {
    Row {
        call: Call::Rest { method, path, body },
        outcomes,
    }
}

const fn server_fn(endpoint: &'static str, form: &'static str, outcomes: [Outcome; 6]) -> Row {
    Row {
        call: Call::ServerFn {
            endpoint,
            form,
            effect: None,
        },
        outcomes,
    }
}

const fn server_fn_with_effect(
    endpoint: &'static str,
    form: &'static str,
    effect: Effect,
    outcomes: [Outcome; 6],
) -> Row {
    Row {
        call: Call::ServerFn {
            endpoint,
            form,
            effect: Some(effect),
        },
        outcomes,
    }
}

/// Every REST endpoint and server function, by concern. A member below the least role of
/// a row gets 403; the outsider gets 404 for anything addressed by an id of team A;
/// nobody gets 401.
#[rustfmt::skip]
pub const TABLE: &[Row] = &[
    //  call
    //  [owner,         admin,          developer,      viewer,         outsider,  nobody      ]
    // Who am I, my teams, my team, its members: every member.
    rest("GET", "/api/v1/me", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/teams", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/team", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/members", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    // Services: reads for all.
    rest("GET", "/api/v1/services", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}/webhook", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}/deployments", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/deployments/{deployment}", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/events", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}/events", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}/metrics", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    // Container logs may carry secrets: developer+.
    rest("GET", "/api/v1/services/{service}/logs", None,
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}/logs/stream", None,
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // Service writes: developer+.
    rest("POST", "/api/v1/services", Some(r#"{"name": "svc-{n}", "image": "nginx"}"#),
        [CREATED,        CREATED,        CREATED,        FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("PUT", "/api/v1/services/{service}", Some(r#"{"name": "web", "image": "nginx", "replicas": 1}"#),
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/scale", Some(r#"{"replicas": 2}"#),
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/stop", None,
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/start", None,
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/redeploy", None,
        [ACCEPTED,       ACCEPTED,       ACCEPTED,       FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/rollback", Some(r#"{"deployment": 1}"#),
        [ACCEPTED,       ACCEPTED,       ACCEPTED,       FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // An image service has no branch to build nor a push webhook: allowed, but 422.
    rest("POST", "/api/v1/services/{service}/deploy", None,
        [UNPROCESSABLE,  UNPROCESSABLE,  UNPROCESSABLE,  FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/webhook/rotate", None,
        [UNPROCESSABLE,  UNPROCESSABLE,  UNPROCESSABLE,  FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/services/{fresh_service}", None,
        [ACCEPTED,       ACCEPTED,       ACCEPTED,       FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // Backups: everyone sees them, developers back up now, admins change plans and
    // restore. (Berth's own database's backups follow the instance owner, not a role,
    // like the instance settings: `backups::database` checks them.)
    rest("GET", "/api/v1/services/{service}/backup-plan", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("PUT", "/api/v1/services/{service}/backup-plan", Some(r#"{"keep_last": 3}"#),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}/backups", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/backups", None,
        [ACCEPTED,       ACCEPTED,       ACCEPTED,       FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/backups/{fresh_backup}", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/backups/{fresh_backup}/restore", None,
        [ACCEPTED,       ACCEPTED,       FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // The team's S3 destination: everyone reads it (404 while none is set), admins set,
    // test and remove it. The loopback endpoint is refused (private targets are off), so
    // nothing is saved and nothing connects anywhere.
    rest("GET", "/api/v1/backup-destination", None,
        [NOT_FOUND,      NOT_FOUND,      NOT_FOUND,      NOT_FOUND,      NOT_TRIED, UNAUTHORIZED]),
    rest("PUT", "/api/v1/backup-destination", Some(r#"{"endpoint": "http://127.0.0.1:9", "region": "us-east-1", "bucket": "berth-{n}", "access_key_id": "AK", "secret_access_key": "SK"}"#),
        [UNPROCESSABLE,  UNPROCESSABLE,  FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("POST", "/api/v1/backup-destination/test", None,
        [NOT_FOUND,      NOT_FOUND,      FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/backup-destination", None,
        [NOT_FOUND,      NOT_FOUND,      FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    // Scheduled jobs and one-off commands: viewers see, developers define and run; a
    // run's output (what a container printed) is developer+.
    rest("GET", "/api/v1/services/{service}/jobs", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/jobs", Some(r#"{"name": "job-{n}", "schedule": "*/5 * * * *", "command": ["true"]}"#),
        [CREATED,        CREATED,        CREATED,        FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/jobs/{job}", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("PUT", "/api/v1/jobs/{job}", Some(r#"{"name": "nightly", "schedule": "0 4 * * *", "command": ["true"]}"#),
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/jobs/{fresh_job}", None,
        [NO_CONTENT,     NO_CONTENT,     NO_CONTENT,     FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/jobs/{job}/run", None,
        [ACCEPTED,       ACCEPTED,       ACCEPTED,       FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/jobs/{job}/runs", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/services/{service}/job-runs", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/services/{service}/commands", Some(r#"{"command": ["true"]}"#),
        [ACCEPTED,       ACCEPTED,       ACCEPTED,       FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/job-runs/{job_run}", None,
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/job-runs/{job_run}/output/stream", None,
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // Team administration: admin+.
    rest("PATCH", "/api/v1/team", Some(r#"{"name": "Engines {n}"}"#),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/invitations", None,
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("POST", "/api/v1/invitations", Some(r#"{"email": "new{n}@example.com", "role": "viewer"}"#),
        [CREATED,        CREATED,        FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/invitations/{fresh_invitation}", None,
        [NO_CONTENT,     NO_CONTENT,     FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/tokens", None,
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("POST", "/api/v1/tokens", Some(r#"{"name": "ci {n}", "role": "viewer"}"#),
        [CREATED,        CREATED,        FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/tokens/{fresh_token}", None,
        [NO_CONTENT,     NO_CONTENT,     FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/audit", None,
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("PATCH", "/api/v1/members/{target}", Some(r#"{"role": "developer"}"#),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/members/{target}", None,
        [NO_CONTENT,     NO_CONTENT,     FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // Owning the team: owner only. Team A always has services, so deleting it is a 409.
    rest("POST", "/api/v1/team/transfer", Some(r#"{"user_id": "{target}"}"#),
        [NO_CONTENT,     FORBIDDEN,      FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/team", None,
        [CONFLICT,       FORBIDDEN,      FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    // Notification channels: viewers read (never secrets), admins change.
    rest("GET", "/api/v1/notifications/channels", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    rest("POST", "/api/v1/notifications/channels", Some(r#"{"name": "ops {n}", "kind": "slack", "url": "https://203.0.113.7/hook", "events": ["deployment.failed"]}"#),
        [CREATED,        CREATED,        FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/notifications/channels/{fresh_channel}", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("PUT", "/api/v1/notifications/channels/{fresh_channel}", Some(r#"{"name": "renamed {n}", "kind": "discord", "url": "https://203.0.113.8/hook"}"#),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/notifications/channels/{fresh_channel}/test", None,
        [ACCEPTED,       ACCEPTED,       FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/notifications/channels/{fresh_channel}/deliveries", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/notifications/channels/{fresh_channel}", None,
        [NO_CONTENT,     NO_CONTENT,     FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // Projects and environments: viewers read; admins create, rename, delete, clone.
    // Team A's default project and its production hold the service: deleting them is 409.
    rest("GET", "/api/v1/projects", None,
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    rest("POST", "/api/v1/projects", Some(r#"{"name": "p-{n}", "description": "made by the matrix"}"#),
        [CREATED,        CREATED,        FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    rest("GET", "/api/v1/projects/{project}", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("PUT", "/api/v1/projects/{fresh_project}", Some(r#"{"name": "renamed-{n}"}"#),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/projects/{fresh_project}", None,
        [NO_CONTENT,     NO_CONTENT,     FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/projects/{project}", None,
        [CONFLICT,       CONFLICT,       FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("POST", "/api/v1/projects/{project}/environments", Some(r#"{"name": "e-{n}"}"#),
        [CREATED,        CREATED,        FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/environments/{environment}", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    rest("PUT", "/api/v1/environments/{fresh_environment}", Some(r#"{"name": "renamed-{n}"}"#),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/environments/{fresh_environment}", None,
        [NO_CONTENT,     NO_CONTENT,     FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("DELETE", "/api/v1/environments/{environment}", None,
        [CONFLICT,       CONFLICT,       FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    rest("GET", "/api/v1/environments/{environment}/services", None,
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    // The server functions behind the pages (form posts to `/api/<endpoint>`).
    server_fn("whoami", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, NOT_TRIED]),
    server_fn("my_teams", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, NOT_TRIED]),
    server_fn("team_members", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("team_console", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("my_logins", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("list_services", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("get_service", "id={service}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("deployment_log", "id={deployment}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("service_events", "id={service}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("service_metrics", "id={service}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("webhook_info", "id={service}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("service_jobs", "id={service}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("job_run_output", "id={job_run}",
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("save_job", "service={service}&name=fn-{n}&schedule=*/5+*+*+*+*&command=true&timeout_s=60&concurrency=forbid&missed_runs=run_once",
        [OK_OR_REDIRECT, OK_OR_REDIRECT, OK_OR_REDIRECT, FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("update_job", "id={job}&service={service}&name=nightly&schedule=0+4+*+*+*&command=true&timeout_s=60&concurrency=forbid&missed_runs=run_once&enabled=true",
        [OK_OR_REDIRECT, OK_OR_REDIRECT, OK_OR_REDIRECT, FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("run_job", "id={job}",
        [OK_OR_REDIRECT, OK_OR_REDIRECT, OK_OR_REDIRECT, FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("delete_job", "id={fresh_job}",
        [OK_OR_REDIRECT, OK_OR_REDIRECT, OK_OR_REDIRECT, FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("run_command", "service={service}&command=true&timeout_s=60",
        [OK_OR_REDIRECT, OK_OR_REDIRECT, OK_OR_REDIRECT, FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("service_form", "id={service}",
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("save_service", "id={service}&form[name]=web&form[image]=nginx",
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("service_action", "id={service}&action=scale&replicas=1",
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("service_backups", "id={service}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("backup_action", "id={service}&action=run",
        [OK,             OK,             OK,             FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("backup_action", "id={service}&action=restore&confirm=yes&backup={fresh_backup}",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // Berth's database: the instance owner (team A's owner); others read nothing.
    server_fn("database_backups", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("run_database_backup", "",
        [OK,             FORBIDDEN,      FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn("save_database_plan", "schedule=0+2+*+*+*&keep_last=7",
        [OK,             FORBIDDEN,      FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn("backup_destination", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("backup_destination_action", "action=save&endpoint=http%3A%2F%2F127.0.0.1%3A9&region=us-east-1&bucket=berth-{n}&access_key_id=AK&secret_access_key=SK",
        [UNPROCESSABLE,  UNPROCESSABLE,  FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn("backup_destination_action", "action=test",
        [NOT_FOUND,      NOT_FOUND,      FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn("list_invitations", "",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn("invite", "form[email]=fn{n}%40example.com&form[role]=viewer",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn_with_effect("revoke_invitation", "id={fresh_invitation}", ("DELETE", "/api/v1/invitations/", "id"),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("list_tokens", "",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn("create_token", "form[name]=fn+{n}&form[role]=viewer",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn_with_effect("revoke_token", "id={fresh_token}", ("DELETE", "/api/v1/tokens/", "id"),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("notifications_console", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("save_channel", "form[name]=fn+{n}&form[kind]=slack&form[url]=https%3A%2F%2F203.0.113.7%2Fhook",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn("test_channel", "id={fresh_channel}",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn_with_effect("delete_channel", "id={fresh_channel}", ("DELETE", "/api/v1/notifications/channels/", "id"),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("projects_console", "",
        [OK,             OK,             OK,             OK,             NOT_TRIED, UNAUTHORIZED]),
    server_fn("project_console", "id={project}",
        [OK,             OK,             OK,             OK,             NOT_FOUND, UNAUTHORIZED]),
    server_fn("save_project", "id=&name=fn-{n}&description=",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn_with_effect("delete_project", "id={fresh_project}", ("DELETE", "/api/v1/projects/", "id"),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("create_environment", "project={project}&name=fn-{n}&clone_from=",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("rename_environment", "id={fresh_environment}&name=fn-{n}",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn_with_effect("delete_environment", "id={fresh_environment}", ("DELETE", "/api/v1/environments/", "id"),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("audit_log", "filter[action]=service",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn_with_effect("set_member_role", "user_id={target}&role=developer", ("PATCH", "/api/v1/members/", "user_id"),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn_with_effect("remove_member", "user_id={target}", ("DELETE", "/api/v1/members/", "user_id"),
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    server_fn("rename_team", "name=Engines+{n}",
        [OK,             OK,             FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
    server_fn_with_effect("transfer_ownership", "user_id={target}", ("POST", "/api/v1/team/transfer", ""),
        [OK_OR_REDIRECT, FORBIDDEN,      FORBIDDEN,      FORBIDDEN,      NOT_FOUND, UNAUTHORIZED]),
    // Team A has services: the owner is refused with a conflict, nobody else gets that far.
    server_fn("delete_team", "confirm={team_name}",
        [CONFLICT,       FORBIDDEN,      FORBIDDEN,      FORBIDDEN,      NOT_TRIED, UNAUTHORIZED]),
];
