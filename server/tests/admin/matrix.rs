//! The fixture the role table is walked against: team A with a service (its first
//! deployment marked live, so a rollback is real), a viewer to change and remove, and one
//! attempt per (row, caller), each checked for its status and its effect.

use crate::common::team::{
    call, invite, join, role_in, server_fn, set_role, token_of, Caller, Person, Teams,
};
use crate::common::{create_service, TestServer};
use crate::role_table::{Call, Effect, Outcome, Row, CALLERS, TABLE};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// Whether a template addresses something of team A by id (an outsider must get 404).
pub fn addresses_an_id(template: &str) -> bool {
    [
        "{service}",
        "{deployment}",
        "{job}",
        "{job_run}",
        "{fresh_job}",
        "{fresh_service}",
        "{fresh_invitation}",
        "{fresh_token}",
        "{fresh_backup}",
        "{fresh_channel}",
        "{project}",
        "{environment}",
        "{fresh_project}",
        "{fresh_environment}",
        "{target}",
    ]
    .iter()
    .any(|p| template.contains(p))
}

/// How the members of team A prove who they are in one walk of the table.
pub enum Via {
    /// Their browser sessions: every row (REST and server functions).
    Cookies,
    /// API tokens of each role, made by the owner: the REST rows (a server function
    /// takes no token).
    Tokens,
}

/// Team A with a service (its first deployment marked live, so a rollback is real), a
/// viewer to change and remove, and each caller's credentials.
pub struct Matrix {
    pub t: Teams,
    pub service: Uuid,
    deployment: Uuid,
    /// A scheduled job of the service, and a run of it (queued: no worker runs here).
    job: Uuid,
    job_run: Uuid,
    target: Person,
    n: std::cell::Cell<u32>,
}

impl Matrix {
    /// Teams A and B built through the product ([`Teams::start`]), A's service with its
    /// first deployment marked succeeded, and the viewer "Tara Target".
    pub async fn start(pool: PgPool) -> Matrix {
        let t = Teams::start(pool).await;
        let (status, body) = call(
            &t.s,
            &t.owner.cookie(),
            "POST",
            "/api/v1/services",
            Some(json!({"name": "web", "image": "nginx"})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let service: Uuid = body["id"].as_str().unwrap().parse().unwrap();
        let deployment: Uuid = sqlx::query_scalar(
            "UPDATE deployments SET state = 'succeeded' WHERE service_id = $1 AND number = 1
             RETURNING id",
        )
        .bind(service)
        .fetch_one(&t.s.pool)
        .await
        .unwrap();
        let target = join(&t.s, &t.owner.cookie(), "Tara Target", "viewer").await;
        let job = job_of(&t.s.pool, t.team_a, service, "nightly").await;
        let job_run = app::store::jobs::queue_job_run(
            &t.s.pool,
            app::store::audit::Actor::worker(t.team_a),
            job,
        )
        .await
        .unwrap()
        .id;
        Matrix {
            t,
            service,
            deployment,
            job,
            job_run,
            target,
            n: std::cell::Cell::new(0),
        }
    }

    /// The server under test.
    pub fn s(&self) -> &TestServer {
        &self.t.s
    }

    fn next(&self) -> u32 {
        self.n.set(self.n.get() + 1);
        self.n.get()
    }

    /// Everyone back to their role in A (a transfer or removal by an earlier attempt undone).
    async fn restore(&self) {
        let pool = &self.s().pool;
        for (role, p) in self.t.members() {
            set_role(pool, self.t.team_a, p.id, role).await;
        }
        set_role(pool, self.t.team_a, self.target.id, "viewer").await;
    }

    /// The template with its fixtures made and filled in.
    async fn fill(&self, template: &str, n: u32) -> String {
        let mut out = template
            .replace("{service}", &self.service.to_string())
            .replace("{deployment}", &self.deployment.to_string())
            .replace("{job_run}", &self.job_run.to_string())
            .replace("{job}", &self.job.to_string())
            .replace("{target}", &self.target.id.to_string())
            .replace("{n}", &n.to_string());
        if out.contains("{team_name}") {
            let name: String = sqlx::query_scalar("SELECT name FROM teams WHERE id = $1")
                .bind(self.t.team_a)
                .fetch_one(&self.s().pool)
                .await
                .unwrap();
            out = out.replace("{team_name}", &name.replace(' ', "+"));
        }
        let owner = self.t.owner.cookie();
        if out.contains("{fresh_service}") {
            let id = create_service(&self.s().pool, self.t.team_a, &format!("victim-{n}")).await;
            out = out.replace("{fresh_service}", &id.to_string());
        }
        if out.contains("{fresh_job}") {
            let id = job_of(
                &self.s().pool,
                self.t.team_a,
                self.service,
                &format!("gone-{n}"),
            )
            .await;
            out = out.replace("{fresh_job}", &id.to_string());
        }
        if out.contains("{fresh_invitation}") {
            let (status, body) = invite(
                self.s(),
                &owner,
                &format!("pending{n}@example.com"),
                "viewer",
            )
            .await;
            assert_eq!(status, 201, "{body}");
            out = out.replace(
                "{fresh_invitation}",
                body["invitation"]["id"].as_str().unwrap(),
            );
        }
        if out.contains("{fresh_backup}") {
            // A finished backup of team A's service (no file: nothing runs it here).
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO backups (id, team_id, service_id, kind, trigger, state, file, sha256)
                 VALUES ($1, $2, $3, 'volumes', 'manual', 'succeeded', 'volumes-x.tar.gz', 'x')",
            )
            .bind(id)
            .bind(self.t.team_a)
            .bind(self.service)
            .execute(&self.s().pool)
            .await
            .unwrap();
            out = out.replace("{fresh_backup}", &id.to_string());
        }
        if out.contains("{fresh_channel}") {
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO notification_channels (team_id, name, kind, url, events)
                 VALUES ($1, $2, 'slack', 'https://203.0.113.9/hook', '{deployment.failed}')
                 RETURNING id",
            )
            .bind(self.t.team_a)
            .bind(format!("chan-{n}"))
            .fetch_one(&self.s().pool)
            .await
            .unwrap();
            out = out.replace("{fresh_channel}", &id.to_string());
        }
        if out.contains("{project}") || out.contains("{environment}") {
            // The service's: team A's default project and its production.
            let (project, environment): (Uuid, Uuid) = sqlx::query_as(
                "SELECT e.project_id, e.id FROM services s
                   JOIN environments e ON e.id = s.environment_id WHERE s.id = $1",
            )
            .bind(self.service)
            .fetch_one(&self.s().pool)
            .await
            .unwrap();
            out = out
                .replace("{project}", &project.to_string())
                .replace("{environment}", &environment.to_string());
        }
        if out.contains("{fresh_project}") {
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO projects (team_id, name) VALUES ($1, $2) RETURNING id",
            )
            .bind(self.t.team_a)
            .bind(format!("fresh-{n}"))
            .fetch_one(&self.s().pool)
            .await
            .unwrap();
            out = out.replace("{fresh_project}", &id.to_string());
        }
        if out.contains("{fresh_environment}") {
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO environments (id, team_id, project_id, name, network, volume_prefix)
                 SELECT $1, s.team_id, e.project_id, $2, 'berth-env-' || $1, 'berth-env-' || $1
                   FROM services s JOIN environments e ON e.id = s.environment_id
                  WHERE s.id = $3",
            )
            .bind(id)
            .bind(format!("fresh-{n}"))
            .bind(self.service)
            .execute(&self.s().pool)
            .await
            .unwrap();
            out = out.replace("{fresh_environment}", &id.to_string());
        }
        if out.contains("{fresh_token}") {
            let (id, _) = token_of(self.s(), &owner, &format!("victim {n}"), "viewer").await;
            out = out.replace("{fresh_token}", &id.to_string());
        }
        out
    }

    /// What the attempt left behind, for the fixtures it addressed: `true` = changed.
    async fn changed(&self, path: &str, method: &str) -> Option<bool> {
        let pool = &self.s().pool;
        let id = path.rsplit('/').next()?.parse::<Uuid>().ok();
        match (method, path) {
            ("DELETE", p) if p.starts_with("/api/v1/services/") => Some(
                sqlx::query_scalar::<_, bool>("SELECT deleting FROM services WHERE id = $1")
                    .bind(id?)
                    .fetch_one(pool)
                    .await
                    .unwrap(),
            ),
            ("DELETE", p) if p.starts_with("/api/v1/jobs/") => Some(
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM jobs WHERE id = $1")
                    .bind(id?)
                    .fetch_one(pool)
                    .await
                    .unwrap()
                    == 0,
            ),
            ("DELETE", p) if p.starts_with("/api/v1/invitations/") => Some(
                sqlx::query_scalar::<_, bool>(
                    "SELECT revoked_at IS NOT NULL FROM invitations WHERE id = $1",
                )
                .bind(id?)
                .fetch_one(pool)
                .await
                .unwrap(),
            ),
            ("DELETE", p) if p.starts_with("/api/v1/tokens/") => Some(
                sqlx::query_scalar::<_, bool>(
                    "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1",
                )
                .bind(id?)
                .fetch_one(pool)
                .await
                .unwrap(),
            ),
            ("DELETE", p) if p.starts_with("/api/v1/notifications/channels/") => Some(
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM notification_channels WHERE id = $1",
                )
                .bind(id?)
                .fetch_one(pool)
                .await
                .unwrap()
                    == 0,
            ),
            ("DELETE", p) if p.starts_with("/api/v1/projects/") => Some(
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM projects WHERE id = $1")
                    .bind(id?)
                    .fetch_one(pool)
                    .await
                    .unwrap()
                    == 0,
            ),
            ("DELETE", p) if p.starts_with("/api/v1/environments/") => Some(
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM environments WHERE id = $1")
                    .bind(id?)
                    .fetch_one(pool)
                    .await
                    .unwrap()
                    == 0,
            ),
            ("DELETE", p) if p.starts_with("/api/v1/members/") => {
                Some(role_in(pool, self.t.team_a, self.target.id).await.is_none())
            }
            ("PATCH", p) if p.starts_with("/api/v1/members/") => Some(
                role_in(pool, self.t.team_a, self.target.id)
                    .await
                    .as_deref()
                    == Some("developer"),
            ),
            ("POST", "/api/v1/team/transfer") => Some(
                role_in(pool, self.t.team_a, self.target.id)
                    .await
                    .as_deref()
                    == Some("owner"),
            ),
            _ => None,
        }
    }

    /// The six callers of [`CALLERS`], in order, proving who they are `via` cookies or
    /// tokens (each member's token is made by the owner with that member's role; the
    /// outsider's is an owner token of team B).
    pub async fn callers(&self, via: &Via) -> [Caller; 6] {
        let t = &self.t;
        let [owner, admin, developer, viewer] = t.members().map(|(role, p)| (role, p.cookie()));
        let mut members = [owner, admin, developer, viewer];
        let outsider = match via {
            Via::Cookies => t.outsider.cookie(),
            Via::Tokens => {
                for (role, caller) in &mut members {
                    let by = t.owner.cookie();
                    let (_, value) = token_of(self.s(), &by, &format!("{role} bot"), role).await;
                    *caller = Caller::Bearer(value);
                }
                let by = t.outsider.cookie();
                Caller::Bearer(token_of(self.s(), &by, "their bot", "owner").await.1)
            }
        };
        let [owner, admin, developer, viewer] = members.map(|(_, caller)| caller);
        [owner, admin, developer, viewer, outsider, Caller::Nobody]
    }

    /// Walks the whole table: each row the callers can reach `via` their credentials, for
    /// each caller whose outcome the row writes out, in the table's order.
    pub async fn walk(&self, via: &Via, callers: &[Caller; 6]) {
        for row in TABLE {
            if matches!((via, &row.call), (Via::Tokens, Call::ServerFn { .. })) {
                continue;
            }
            for ((who, caller), expect) in CALLERS.iter().zip(callers).zip(row.outcomes) {
                if !expect.is_empty() {
                    self.attempt(row, who, caller, expect).await;
                }
            }
        }
        self.restore().await;
    }

    /// One attempt at one row by one caller.
    async fn attempt(&self, row: &Row, who: &str, caller: &Caller, expect: Outcome) {
        match row.call {
            Call::Rest { method, path, body } => {
                self.attempt_rest(method, path, body, who, caller, expect)
                    .await
            }
            Call::ServerFn {
                endpoint,
                form,
                effect,
            } => {
                self.attempt_fn(endpoint, form, effect, who, caller, expect)
                    .await
            }
        }
    }

    /// One REST attempt: the status must be exactly what the table says, a refusal is a
    /// JSON error, and a refused attempt must leave its target as it was (an allowed one
    /// must change it).
    async fn attempt_rest(
        &self,
        method: &str,
        template: &str,
        body: Option<&str>,
        who: &str,
        caller: &Caller,
        expect: Outcome,
    ) {
        self.restore().await;
        let n = self.next();
        let path = self.fill(template, n).await;
        let body = match body {
            Some(b) => Some(serde_json::from_str(&self.fill(b, n).await).unwrap()),
            None => None,
        };
        let (status, answer) = call(self.s(), caller, method, &path, body).await;
        assert!(
            expect.contains(&status),
            "{method} {template} as {who}: expected {expect:?}, got {status} {answer}"
        );
        if matches!(status, 401 | 403 | 404) {
            assert!(
                answer["error"].is_string(),
                "{method} {template} as {who}: a JSON error: {answer}"
            );
        }
        if let Some(changed) = self.changed(&path, method).await {
            let allowed = (200..300).contains(&status);
            assert_eq!(
                changed, allowed,
                "{method} {template} as {who} ({status}): the target changed = {changed}"
            );
        }
    }

    /// One attempt at a server function, checked like a REST attempt (its effect, if it
    /// has one, through the REST call it does the same as).
    async fn attempt_fn(
        &self,
        endpoint: &str,
        template: &str,
        effect: Option<Effect>,
        who: &str,
        caller: &Caller,
        expect: Outcome,
    ) {
        self.restore().await;
        let n = self.next();
        let form = self.fill(template, n).await;
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, answer) = server_fn(self.s(), caller, endpoint, &pairs).await;
        assert!(
            expect.contains(&status),
            "/api/{endpoint} as {who}: expected {expect:?}, got {status} {answer}"
        );
        if let Some((method, prefix, field)) = effect {
            let id = fields
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            let changed = self.changed(&format!("{prefix}{id}"), method).await;
            let allowed = status < 400;
            assert_eq!(
                changed,
                Some(allowed),
                "/api/{endpoint} as {who} ({status}): the target changed = {changed:?}"
            );
        }
    }
}

/// A job of `service` (team `team`) named `name`, made through the store.
async fn job_of(pool: &PgPool, team: Uuid, service: Uuid, name: &str) -> Uuid {
    let input = serde_json::from_value(json!({
        "name": name, "schedule": "0 3 * * *", "command": ["true"]
    }))
    .unwrap();
    app::store::jobs::create(
        pool,
        app::store::audit::Actor::worker(team),
        service,
        &input,
    )
    .await
    .unwrap()
    .id
}
