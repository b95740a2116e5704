//! Every operation of the REST API as one row: method, path, least role, summary, request
//! body, success status and answer, query parameters. The schemas the rows name are
//! derived from the Rust types (`schemas.rs`); a test checks that every row is routed and
//! every route has a row.

/// What a success answers.
#[derive(Clone, Copy)]
pub enum Answer {
    /// No body (`204`).
    Empty,
    /// A JSON body of the named schema.
    Json(&'static str),
    /// A page of a list: a JSON array of the named schema, `limit`/`cursor` parameters
    /// (the number is the default `limit`) and `Link: rel="next"` when there is more.
    List(&'static str, u32),
    /// Another media type (`text/plain`, `text/event-stream`).
    Text(&'static str),
}

/// Query parameters beyond paging.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    None,
    /// The audit log's filters (it pages too).
    Audit,
    /// `tail` and `replica` of the container-log routes.
    Logs,
    /// `If-Match` on a replace: `412` when stale.
    IfMatch,
    /// `volumes=keep|delete` of a service's deletion.
    DeleteVolumes,
    /// `after` of a run's output stream.
    RunOutput,
    /// `dry_run` of a compose import.
    DryRun,
}

/// One operation. `role`: the least role that may call it.
#[derive(Clone, Copy)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub role: &'static str,
    pub summary: &'static str,
    /// The JSON request body's schema name.
    pub body: Option<&'static str>,
    /// Whether the call may come without its body (its fields then take their defaults).
    pub body_optional: bool,
    pub status: u16,
    pub answer: Answer,
    pub extra: Extra,
}

const fn op(
    method: &'static str,
    path: &'static str,
    role: &'static str,
    summary: &'static str,
) -> Operation {
    Operation {
        method,
        path,
        role,
        summary,
        body: None,
        body_optional: false,
        status: 200,
        answer: Answer::Empty,
        extra: Extra::None,
    }
}

impl Operation {
    const fn body(self, body: &'static str) -> Self {
        Operation {
            body: Some(body),
            ..self
        }
    }
    /// A JSON body the call may also come without.
    const fn optional_body(self, body: &'static str) -> Self {
        Operation {
            body: Some(body),
            body_optional: true,
            ..self
        }
    }
    /// `200` with a JSON body.
    const fn ok(self, schema: &'static str) -> Self {
        Operation {
            answer: Answer::Json(schema),
            ..self
        }
    }
    const fn answers(self, status: u16, answer: Answer) -> Self {
        Operation {
            status,
            answer,
            ..self
        }
    }
    const fn list(self, schema: &'static str, default_limit: u32) -> Self {
        Operation {
            answer: Answer::List(schema, default_limit),
            ..self
        }
    }
    const fn extra(self, extra: Extra) -> Self {
        Operation { extra, ..self }
    }
}

const NONE: Answer = Answer::Empty;
const SSE: Answer = Answer::Text("text/event-stream");

#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    op("get", "/api/v1/me", "viewer", "Who is calling: user, team, role (and token).").ok("SessionInfo"),
    op("get", "/api/v1/teams", "viewer", "The caller's teams and role in each.").list("MyTeam", 100),
    op("get", "/api/v1/team", "viewer", "The current team.").ok("TeamSummary"),
    op("patch", "/api/v1/team", "admin", "Rename the team.").body("TeamRename").ok("TeamSummary"),
    op("delete", "/api/v1/team", "owner", "Delete the team (refused while it has services).").answers(204, NONE),
    op("post", "/api/v1/team/transfer", "owner", "Make another member owner; the caller becomes admin.").body("Transfer").answers(204, NONE),
    op("get", "/api/v1/members", "viewer", "The team's members and roles.").list("MemberView", 100),
    op("patch", "/api/v1/members/{user_id}", "admin", "Change a member's role (owners: only by owners; never the last owner).").body("RoleChange").ok("MemberView"),
    op("delete", "/api/v1/members/{user_id}", "admin", "Remove a member (any member may remove themselves: leave).").answers(204, NONE),
    op("get", "/api/v1/invitations", "admin", "Pending invitations.").list("InvitationView", 100),
    op("post", "/api/v1/invitations", "admin", "Invite an email with a role (not above the caller's); the link is in the answer, once.").body("InviteForm").answers(201, Answer::Json("NewInvitation")),
    op("delete", "/api/v1/invitations/{id}", "admin", "Withdraw an invitation.").answers(204, NONE),
    op("get", "/api/v1/tokens", "admin", "The team's API tokens (never their values).").list("TokenView", 100),
    op("post", "/api/v1/tokens", "admin", "Create a token (role not above the caller's); its value is in the answer, once.").body("TokenForm").answers(201, Answer::Json("NewToken")),
    op("delete", "/api/v1/tokens/{id}", "admin", "Revoke a token.").answers(204, NONE),
    op("get", "/api/v1/instance/settings", "owner", "The instance settings (the instance owner only: the account that set Berth up).").ok("InstanceSettings"),
    op("put", "/api/v1/instance/settings", "owner", "Replace the instance settings, e.g. allow git repositories on private addresses (the instance owner only; audited).").body("InstanceSettings").ok("InstanceSettings"),
    op("get", "/api/v1/services/{id}/backup-plan", "viewer", "A service's backup plan: cron schedule (in the instance's time zone), stop while archiving, retention (keep last N, max days), with the zone and the next five runs.").ok("BackupPlanView"),
    op("put", "/api/v1/services/{id}/backup-plan", "admin", "Replace a service's backup plan (audited).").body("BackupPlan").ok("BackupPlanView"),
    op("get", "/api/v1/services/{id}/backups", "viewer", "A service's volume backups, newest first, with size, SHA-256 and restore state.").list("Backup", 50),
    op("post", "/api/v1/services/{id}/backups", "developer", "Back the service's named volumes up now (optional body: stop_service); the leader runs it.").optional_body("RunBackup").answers(202, Answer::Json("Backup")),
    op("get", "/api/v1/backups/{id}", "viewer", "One backup: state, file, size, SHA-256, last restore.").ok("Backup"),
    op("post", "/api/v1/backups/{id}/restore", "admin", "Restore a volume backup into its service: checksum checked first, then stop, replace the volumes' files, start (audited).").answers(202, Answer::Json("Backup")),
    op("get", "/api/v1/instance/backups", "owner", "Backups of Berth's own database (the instance owner only).").list("Backup", 50),
    op("get", "/api/v1/instance/backup-plan", "owner", "The schedule and retention of Berth's own database's dumps (the instance owner only), with the zone and the next five runs.").ok("BackupPlanView"),
    op("put", "/api/v1/instance/backup-plan", "owner", "Replace the database dumps' plan (the instance owner only; the caller's team's S3 destination receives them and hears of failures; audited).").body("BackupPlan").ok("BackupPlanView"),
    op("get", "/api/v1/backup-destination", "viewer", "The team's S3-compatible backup destination (never its secret); 404 when none is set.").ok("DestinationView"),
    op("put", "/api/v1/backup-destination", "admin", "Set or replace the team's S3 destination; without `secret_access_key` the stored one is kept; an internal endpoint is refused unless private targets are allowed (audited).").body("DestinationForm").ok("DestinationView"),
    op("delete", "/api/v1/backup-destination", "admin", "Remove the team's S3 destination (uploaded objects stay; audited).").answers(204, NONE),
    op("post", "/api/v1/backup-destination/test", "admin", "Test the team's S3 destination: write and remove a small object under its prefix (audited).").ok("ConnectionTest"),
    op("post", "/api/v1/instance/backups", "owner", "Back Berth's own database up now with pg_dump (the instance owner only; keep the secret key too).").answers(202, Answer::Json("Backup")),
    op("get", "/api/v1/nodes", "admin", "The Docker Swarm's nodes (role, availability, state, engine version, CPUs, memory, running tasks, labels); `swarm: false` with the engine's swarm state when Berth's engine is not a swarm manager.").ok("NodeList"),
    op("get", "/api/v1/nodes/join-command", "admin", "The `docker swarm join` command for a new worker; its token for the instance owner only (anyone else: `token_hidden`); 409 when the engine is not a swarm manager.").ok("JoinCommand"),
    op("post", "/api/v1/nodes/join-token/rotate", "owner", "A new worker join token (the instance owner only; the old one stops working, joined nodes stay); answers the new command (audited `swarm.rotate_token`, without the token).").ok("JoinCommand"),
    op("put", "/api/v1/nodes/{id}/availability", "owner", "Set a node's availability: `active`, `pause` (no new tasks) or `drain` (its tasks move elsewhere) (the instance owner only; audited `node.availability`).").body("AvailabilityBody").ok("NodeView"),
    op("put", "/api/v1/nodes/{id}/labels/{key}", "owner", "Set a node label (key: letters, digits, `.`, `-`, `_`, at most 128; Docker's `com.docker.*`, `io.docker.*`, `org.dockerproject.*` refused) (the instance owner only; audited `node.label`).").body("LabelBody").ok("NodeView"),
    op("delete", "/api/v1/nodes/{id}/labels/{key}", "owner", "Remove a node label; an absent one: the same answer (the instance owner only; audited `node.label`).").ok("NodeView"),
    op("delete", "/api/v1/nodes/{id}", "owner", "Remove a worker that is down from the swarm; 409 while it is ready or a manager (the instance owner only; audited `node.remove`).").answers(204, Answer::Empty),
    op("get", "/api/v1/notifications/channels", "viewer", "The team's notification channels and the events each hears (never their secrets).").list("ChannelView", 100),
    op("post", "/api/v1/notifications/channels", "admin", "Create a channel (its target is refused when internal, unless the instance allows private targets; audited).").body("ChannelForm").answers(201, Answer::Json("ChannelView")),
    op("get", "/api/v1/notifications/channels/{id}", "viewer", "A notification channel (never its secret).").ok("ChannelView"),
    op("put", "/api/v1/notifications/channels/{id}", "admin", "Replace a channel and its rules; a body without `secret` keeps the stored one (audited).").body("ChannelForm").ok("ChannelView"),
    op("delete", "/api/v1/notifications/channels/{id}", "admin", "Delete a channel and its delivery log (audited).").answers(204, NONE),
    op("post", "/api/v1/notifications/channels/{id}/test", "admin", "Queue a test message to the channel, whatever its rules (audited).").answers(202, Answer::Json("TestQueued")),
    op("get", "/api/v1/notifications/channels/{id}/deliveries", "viewer", "A channel's delivery log, newest first.").list("DeliveryView", 50),
    op("get", "/api/v1/audit", "admin", "The audit log, newest first, at most 50 a page; filters: actor, action, target, from, to.").ok("AuditPage").extra(Extra::Audit),
    op("get", "/api/v1/projects", "viewer", "The team's projects, each with its environments.").list("ProjectView", 100),
    op("post", "/api/v1/projects", "admin", "Create a project with its `production` environment (audited).").body("ProjectForm").answers(201, Answer::Json("ProjectView")),
    op("get", "/api/v1/projects/{id}", "viewer", "A project with its environments.").ok("ProjectView"),
    op("put", "/api/v1/projects/{id}", "admin", "Rename a project and replace its description (audited).").body("ProjectForm").ok("ProjectView"),
    op("delete", "/api/v1/projects/{id}", "admin", "Delete a project and its environments; refused (409) while any of them has a service (audited).").answers(204, NONE),
    op("post", "/api/v1/projects/{id}/environments", "admin", "Create an environment, empty or cloned from another (`clone_from`): definitions and variables copied (secrets stay sealed), domains and host ports not (listed in `dropped`), volumes new and empty; the copies deploy like new services (audited).").body("EnvironmentForm").answers(201, Answer::Json("EnvironmentCreated")),
    op("get", "/api/v1/environments/{id}", "viewer", "An environment: its name, project, network and git repository (credentials masked).").ok("EnvironmentView"),
    op("put", "/api/v1/environments/{id}", "admin", "Rename an environment (`name` only; audited).").body("EnvironmentForm").ok("EnvironmentView"),
    op("delete", "/api/v1/environments/{id}", "admin", "Delete an environment; refused (409) while it has services; its network is removed by the worker (audited).").answers(204, NONE),
    op("put", "/api/v1/environments/{id}/repository", "developer", "Set the git repository the environment's compose `build:` sections are built from (`repo`, `branch`, optional `credentials`, checked like a git service's source: 422 naming the field); a secret sent as `********` or empty keeps the stored one on the same host; never sent back (audited `environment.repository`).").body("EnvironmentRepository").ok("EnvironmentView"),
    op("delete", "/api/v1/environments/{id}/repository", "developer", "Remove the environment's git repository: a compose `build:` is refused again; services built from it keep their source (audited).").ok("EnvironmentView"),
    op("get", "/api/v1/environments/{id}/services", "viewer", "An environment's services with their status.").list("ServiceView", 100),
    op("get", "/api/v1/environments/{id}/variables", "viewer", "An environment's shared variables (`${{ shared.KEY }}`), secret values masked.").ok("SharedVariables"),
    op("put", "/api/v1/environments/{id}/variables", "developer", "Replace an environment's shared variables (the whole list); a secret sent as `********` or empty keeps its value; a reference that cannot be filled in, or a variable in use removed, is refused (422; audited).").body("SharedVariables").ok("SharedVariables"),
    op("post", "/api/v1/environments/{id}/redeploy-outdated", "developer", "Redeploy exactly the environment's services marked `needs_redeploy` (a value they refer to changed since their live deployment); each audited `service.redeploy`.").ok("RedeployedOutdated"),
    op("post", "/api/v1/environments/{id}/redeploy", "developer", "Redeploy the environment: a new deployment of every service, queued in dependency order; each waits (pending) until what it `depends_on` is up, and fails naming a dependency whose deployment failed (each audited `service.redeploy`, the whole `environment.redeploy`); `Location` names the environment's services to watch.").answers(202, Answer::Json("RedeployedEnvironment")),
    op("post", "/api/v1/environments/{id}/compose", "developer", "Import a compose file into the environment: with `dry_run=true` only the plan (services created, updated with the fields that change and what happens to their containers, unchanged, not in the file); without, the services are created or updated and deployed (audited per service and as `environment.compose_import`). A refused file answers 422 with every problem named by its path (`services.web.volumes[0]`) and changes nothing.").body("ComposeFile").ok("ComposePlan").extra(Extra::DryRun),
    op("get", "/api/v1/environments/{id}/compose", "viewer", "The environment's services as a compose file; secret values are `${SERVICE_KEY}` placeholders.").answers(200, Answer::Text("application/yaml")),
    op("get", "/api/v1/environments/{id}/map.svg", "viewer", "The environment's service map as an SVG image: a box per service (a link to `/services/{id}`, its status as a class and colour, ready/desired replicas, first domain) and arrows from a service to those it uses (solid: variable references; dashed: `depends_on`).").answers(200, Answer::Text("image/svg+xml")),
    op("get", "/api/v1/services", "viewer", "The team's services with their status.").list("ServiceView", 100),
    op("post", "/api/v1/services", "developer", "Create a service (and its first deployment or build) in `environment_id` (absent: the default project's `production`).").body("NewService").answers(201, Answer::Json("ServiceView")),
    op("get", "/api/v1/services/{id}", "viewer", "A service with its containers, URLs and route; its ETag is the definition's version.").ok("ServiceView"),
    op("put", "/api/v1/services/{id}", "developer", "Replace a service's definition (rolls out what changed); If-Match optional.").body("ServiceSpec").ok("Changed").extra(Extra::IfMatch),
    op("delete", "/api/v1/services/{id}", "developer", "Delete a service (its containers are removed first; its volumes are kept unless `volumes=delete`); again while deleting: the same answer.").answers(202, Answer::Json("Deleting")).extra(Extra::DeleteVolumes),
    op("post", "/api/v1/services/{id}/scale", "developer", "Set the replica count.").body("Scale").ok("Changed"),
    op("post", "/api/v1/services/{id}/stop", "developer", "Stop every replica (the count is kept).").ok("ServiceView"),
    op("post", "/api/v1/services/{id}/start", "developer", "Start a stopped service.").ok("ServiceView"),
    op("post", "/api/v1/services/{id}/redeploy", "developer", "Replace every container with the same definition.").answers(202, Answer::Json("ServiceView")),
    op("post", "/api/v1/services/{id}/rollback", "developer", "Roll back to an earlier deployment that went live.").body("Rollback").answers(202, Answer::Json("ServiceView")),
    op("post", "/api/v1/services/{id}/deploy", "developer", "Build and deploy the head of a git service's branch.").answers(202, Answer::Json("DeployQueued")),
    op("get", "/api/v1/services/{id}/webhook", "viewer", "A git service's webhook URLs and whether it has a secret.").ok("WebhookInfo"),
    op("post", "/api/v1/services/{id}/webhook/rotate", "developer", "Generate a new webhook secret (shown once).").ok("WebhookInfo"),
    op("get", "/api/v1/services/{id}/deployments", "viewer", "A service's deployments, newest first.").list("DeploymentView", 50),
    op("get", "/api/v1/deployments/{id}", "viewer", "A deployment with its log.").ok("DeploymentWithLog"),
    op("get", "/api/v1/services/{id}/jobs", "viewer", "A service's scheduled jobs, each with its next five runs in the instance's time zone.").list("JobView", 100),
    op("post", "/api/v1/services/{id}/jobs", "developer", "Define a scheduled job (cron expression, command as a list, timeout, concurrency, missed runs).").body("JobInput").answers(201, Answer::Json("JobView")),
    op("get", "/api/v1/jobs/{id}", "viewer", "A job with its next five runs.").ok("JobView"),
    op("put", "/api/v1/jobs/{id}", "developer", "Replace a job's definition.").body("JobInput").ok("JobView"),
    op("delete", "/api/v1/jobs/{id}", "developer", "Delete a job and its history (a running run is stopped).").answers(204, Answer::Empty),
    op("post", "/api/v1/jobs/{id}/run", "developer", "Run a job now; `Location` names the run.").answers(202, Answer::Json("JobRunView")),
    op("get", "/api/v1/jobs/{id}/runs", "viewer", "A job's runs, newest first.").list("JobRunView", 50),
    op("get", "/api/v1/services/{id}/job-runs", "viewer", "Every run of a service's jobs and one-off commands, newest first.").list("JobRunView", 50),
    op("post", "/api/v1/services/{id}/commands", "developer", "Run a one-off command in the service's live image, with its env, network and limits; `Location` names the run.").body("CommandInput").answers(202, Answer::Json("JobRunView")),
    op("get", "/api/v1/job-runs/{id}", "developer", "A run with its output.").ok("JobRunWithLog"),
    op("get", "/api/v1/job-runs/{id}/output/stream", "developer", "Server-sent events: a run's output as it is printed (`log`: a line, its number as the event id), then `end` with the run's state.").answers(200, SSE).extra(Extra::RunOutput),
    op("get", "/api/v1/events", "viewer", "Server-sent events: which service changed.").answers(200, SSE),
    op("get", "/api/v1/services/{id}/events", "viewer", "A service's timeline, newest first.").list("ServiceEvent", 200),
    op("get", "/api/v1/services/{id}/metrics", "viewer", "CPU and memory samples of a service's containers.").ok("ServiceMetrics"),
    op("get", "/api/v1/services/{id}/logs", "developer", "The last lines containers printed, as a text file.").answers(200, Answer::Text("text/plain")).extra(Extra::Logs),
    op("get", "/api/v1/services/{id}/logs/stream", "developer", "Server-sent events: container output, live.").answers(200, SSE).extra(Extra::Logs),
];
