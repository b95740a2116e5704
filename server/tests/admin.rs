//! Team administration through the real server and Postgres: what each role may do on every
//! endpoint, that another team's ids do not exist, that invitations and tokens never hand
//! out more than their giver has, that role changes apply at once, and the audit log.

mod common;

use common::team::{
    accept, call, invite, me, new_token, role_in, server_fn, set_role, token_of, Caller, Person,
    Teams, MEMBER_PASSWORD,
};
use common::{location, TestServer, EMAIL, PASSWORD};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// The role table, written out by hand (NOT derived from the product's permission code).
// ---------------------------------------------------------------------------------------

/// The least role an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Min {
    Viewer,
    Developer,
    Admin,
    Owner,
}

fn rank(role: &str) -> Min {
    match role {
        "viewer" => Min::Viewer,
        "developer" => Min::Developer,
        "admin" => Min::Admin,
        "owner" => Min::Owner,
        other => panic!("no role {other}"),
    }
}

/// One endpoint: the path and body may name fixtures (`{service}`, `{deployment}`: team A's
/// service and its first deployment; `{fresh_service}`, `{fresh_invitation}`,
/// `{fresh_token}`: made anew for each attempt; `{target}`: a viewer of A put back before
/// each attempt; `{n}`: a number unique to the attempt).
struct Rule {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    min: Min,
    /// What an allowed caller gets (422/409 where the call is a deliberate no-op).
    ok: &'static [u16],
}

const fn rule(
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    min: Min,
    ok: &'static [u16],
) -> Rule {
    Rule {
        method,
        path,
        body,
        min,
        ok,
    }
}

use Min::{Admin, Developer, Owner, Viewer};

const REST: &[Rule] = &[
    // Who am I, my teams, my team, its members: every member.
    rule("GET", "/api/v1/me", None, Viewer, &[200]),
    rule("GET", "/api/v1/teams", None, Viewer, &[200]),
    rule("GET", "/api/v1/team", None, Viewer, &[200]),
    rule("GET", "/api/v1/members", None, Viewer, &[200]),
    // Services: reads for all.
    rule("GET", "/api/v1/services", None, Viewer, &[200]),
    rule("GET", "/api/v1/services/{service}", None, Viewer, &[200]),
    rule(
        "GET",
        "/api/v1/services/{service}/webhook",
        None,
        Viewer,
        &[200],
    ),
    rule(
        "GET",
        "/api/v1/services/{service}/deployments",
        None,
        Viewer,
        &[200],
    ),
    rule(
        "GET",
        "/api/v1/deployments/{deployment}",
        None,
        Viewer,
        &[200],
    ),
    rule("GET", "/api/v1/events", None, Viewer, &[200]),
    rule(
        "GET",
        "/api/v1/services/{service}/events",
        None,
        Viewer,
        &[200],
    ),
    rule(
        "GET",
        "/api/v1/services/{service}/metrics",
        None,
        Viewer,
        &[200],
    ),
    // Container logs may carry secrets: developer+.
    rule(
        "GET",
        "/api/v1/services/{service}/logs",
        None,
        Developer,
        &[200],
    ),
    rule(
        "GET",
        "/api/v1/services/{service}/logs/stream",
        None,
        Developer,
        &[200],
    ),
    // Service writes: developer+.
    rule(
        "POST",
        "/api/v1/services",
        Some(r#"{"name": "svc-{n}", "image": "nginx"}"#),
        Developer,
        &[201],
    ),
    rule(
        "PUT",
        "/api/v1/services/{service}",
        Some(r#"{"name": "web", "image": "nginx", "replicas": 1}"#),
        Developer,
        &[200],
    ),
    rule(
        "POST",
        "/api/v1/services/{service}/scale",
        Some(r#"{"replicas": 2}"#),
        Developer,
        &[200],
    ),
    rule(
        "POST",
        "/api/v1/services/{service}/stop",
        None,
        Developer,
        &[200],
    ),
    rule(
        "POST",
        "/api/v1/services/{service}/start",
        None,
        Developer,
        &[200],
    ),
    rule(
        "POST",
        "/api/v1/services/{service}/redeploy",
        None,
        Developer,
        &[202],
    ),
    rule(
        "POST",
        "/api/v1/services/{service}/rollback",
        Some(r#"{"deployment": 1}"#),
        Developer,
        &[202],
    ),
    // An image service has no branch to build nor a push webhook: allowed, but 422.
    rule(
        "POST",
        "/api/v1/services/{service}/deploy",
        None,
        Developer,
        &[422],
    ),
    rule(
        "POST",
        "/api/v1/services/{service}/webhook/rotate",
        None,
        Developer,
        &[422],
    ),
    rule(
        "DELETE",
        "/api/v1/services/{fresh_service}",
        None,
        Developer,
        &[202],
    ),
    // Team administration: admin+.
    rule(
        "PATCH",
        "/api/v1/team",
        Some(r#"{"name": "Engines {n}"}"#),
        Admin,
        &[200],
    ),
    rule("GET", "/api/v1/invitations", None, Admin, &[200]),
    rule(
        "POST",
        "/api/v1/invitations",
        Some(r#"{"email": "new{n}@example.com", "role": "viewer"}"#),
        Admin,
        &[201],
    ),
    rule(
        "DELETE",
        "/api/v1/invitations/{fresh_invitation}",
        None,
        Admin,
        &[204],
    ),
    rule("GET", "/api/v1/tokens", None, Admin, &[200]),
    rule(
        "POST",
        "/api/v1/tokens",
        Some(r#"{"name": "ci {n}", "role": "viewer"}"#),
        Admin,
        &[201],
    ),
    rule(
        "DELETE",
        "/api/v1/tokens/{fresh_token}",
        None,
        Admin,
        &[204],
    ),
    rule("GET", "/api/v1/audit", None, Admin, &[200]),
    rule(
        "PATCH",
        "/api/v1/members/{target}",
        Some(r#"{"role": "developer"}"#),
        Admin,
        &[200],
    ),
    rule("DELETE", "/api/v1/members/{target}", None, Admin, &[204]),
    // Owning the team: owner only. Team A always has services, so deleting it is a 409.
    rule(
        "POST",
        "/api/v1/team/transfer",
        Some(r#"{"user_id": "{target}"}"#),
        Owner,
        &[204],
    ),
    rule("DELETE", "/api/v1/team", None, Owner, &[409]),
];

/// A server function behind the pages (a form post to `/api/<endpoint>`), cookie only.
/// `effect`: the REST call it does the same as, and the form field with the id, so the
/// attempt's effect is checked the same way.
struct FnRule {
    endpoint: &'static str,
    form: &'static str,
    min: Min,
    ok: &'static [u16],
    effect: Option<(&'static str, &'static str, &'static str)>,
}

const fn fn_rule(
    endpoint: &'static str,
    form: &'static str,
    min: Min,
    ok: &'static [u16],
) -> FnRule {
    FnRule {
        endpoint,
        form,
        min,
        ok,
        effect: None,
    }
}

const fn fn_effect(
    endpoint: &'static str,
    form: &'static str,
    min: Min,
    ok: &'static [u16],
    effect: (&'static str, &'static str, &'static str),
) -> FnRule {
    FnRule {
        endpoint,
        form,
        min,
        ok,
        effect: Some(effect),
    }
}

/// Some server functions answer a successful call with a redirect for the browser.
const OK_OR_REDIRECT: &[u16] = &[200, 302, 303];

const SERVER_FNS: &[FnRule] = &[
    fn_rule("whoami", "", Viewer, &[200]),
    fn_rule("my_teams", "", Viewer, &[200]),
    fn_rule("team_members", "", Viewer, &[200]),
    fn_rule("team_console", "", Viewer, &[200]),
    fn_rule("my_logins", "", Viewer, &[200]),
    fn_rule("list_services", "", Viewer, &[200]),
    fn_rule("get_service", "id={service}", Viewer, &[200]),
    fn_rule("deployment_log", "id={deployment}", Viewer, &[200]),
    fn_rule("service_events", "id={service}", Viewer, &[200]),
    fn_rule("service_metrics", "id={service}", Viewer, &[200]),
    fn_rule("webhook_info", "id={service}", Viewer, &[200]),
    fn_rule("service_form", "id={service}", Developer, &[200]),
    fn_rule(
        "save_service",
        "id={service}&form[name]=web&form[image]=nginx",
        Developer,
        &[200],
    ),
    fn_rule(
        "service_action",
        "id={service}&action=scale&replicas=1",
        Developer,
        &[200],
    ),
    fn_rule("list_invitations", "", Admin, &[200]),
    fn_rule(
        "invite",
        "form[email]=fn{n}%40example.com&form[role]=viewer",
        Admin,
        &[200],
    ),
    fn_effect(
        "revoke_invitation",
        "id={fresh_invitation}",
        Admin,
        &[200],
        ("DELETE", "/api/v1/invitations/", "id"),
    ),
    fn_rule("list_tokens", "", Admin, &[200]),
    fn_rule(
        "create_token",
        "form[name]=fn+{n}&form[role]=viewer",
        Admin,
        &[200],
    ),
    fn_effect(
        "revoke_token",
        "id={fresh_token}",
        Admin,
        &[200],
        ("DELETE", "/api/v1/tokens/", "id"),
    ),
    fn_rule("audit_log", "filter[action]=service", Admin, &[200]),
    fn_effect(
        "set_member_role",
        "user_id={target}&role=developer",
        Admin,
        &[200],
        ("PATCH", "/api/v1/members/", "user_id"),
    ),
    fn_effect(
        "remove_member",
        "user_id={target}",
        Admin,
        &[200],
        ("DELETE", "/api/v1/members/", "user_id"),
    ),
    fn_rule("rename_team", "name=Engines+{n}", Admin, &[200]),
    fn_effect(
        "transfer_ownership",
        "user_id={target}",
        Owner,
        OK_OR_REDIRECT,
        ("POST", "/api/v1/team/transfer", ""),
    ),
    // Team A has services: the owner is refused with a conflict, nobody else gets that far.
    fn_rule("delete_team", "confirm={team_name}", Owner, &[409]),
];

/// Whether the rule addresses something of team A by id (an outsider must get 404).
fn addresses_an_id(template: &str) -> bool {
    [
        "{service}",
        "{deployment}",
        "{fresh_service}",
        "{fresh_invitation}",
        "{fresh_token}",
        "{target}",
    ]
    .iter()
    .any(|p| template.contains(p))
}

/// Team A with a service (its first deployment marked live, so a rollback is real), a
/// viewer to change and remove, and each caller's credentials.
struct Matrix {
    t: Teams,
    service: Uuid,
    deployment: Uuid,
    target: Person,
    n: std::cell::Cell<u32>,
}

impl Matrix {
    async fn start(pool: PgPool) -> Matrix {
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
        let target = common::team::join(&t.s, &t.owner.cookie(), "Tara Target", "viewer").await;
        Matrix {
            t,
            service,
            deployment,
            target,
            n: std::cell::Cell::new(0),
        }
    }

    fn s(&self) -> &TestServer {
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
            let id =
                common::create_service(&self.s().pool, self.t.team_a, &format!("victim-{n}")).await;
            out = out.replace("{fresh_service}", &id.to_string());
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

    /// One attempt at one rule: the status must be exactly what the table says, and a
    /// refused attempt must leave its target as it was (an allowed one must change it).
    async fn attempt(&self, rule: &Rule, who: &str, caller: &Caller, expect: &[u16]) {
        self.restore().await;
        let n = self.next();
        let path = self.fill(rule.path, n).await;
        let body = match rule.body {
            Some(b) => Some(serde_json::from_str(&self.fill(b, n).await).unwrap()),
            None => None,
        };
        let (status, answer) = call(self.s(), caller, rule.method, &path, body).await;
        assert!(
            expect.contains(&status),
            "{} {} as {who}: expected {expect:?}, got {status} {answer}",
            rule.method,
            rule.path
        );
        if matches!(status, 401 | 403 | 404) {
            assert!(
                answer["error"].is_string(),
                "{} {} as {who}: a JSON error: {answer}",
                rule.method,
                rule.path
            );
        }
        if let Some(changed) = self.changed(&path, rule.method).await {
            let allowed = (200..300).contains(&status);
            assert_eq!(
                changed, allowed,
                "{} {} as {who} ({status}): the target changed = {changed}",
                rule.method, rule.path
            );
        }
    }

    /// One attempt at a server function, checked like a REST attempt.
    async fn attempt_fn(&self, rule: &FnRule, who: &str, caller: &Caller, expect: &[u16]) {
        self.restore().await;
        let n = self.next();
        let form = self.fill(rule.form, n).await;
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, answer) = server_fn(self.s(), caller, rule.endpoint, &pairs).await;
        assert!(
            expect.contains(&status),
            "/api/{} as {who}: expected {expect:?}, got {status} {answer}",
            rule.endpoint
        );
        if let Some((method, prefix, field)) = rule.effect {
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
                "/api/{} as {who} ({status}): the target changed = {changed:?}",
                rule.endpoint
            );
        }
    }

    /// Every REST rule for the four members (by `creds`), the outsider and nobody.
    async fn run_rest(&self, creds: &[(&'static str, Caller)], outsider: &Caller) {
        for rule in REST {
            for (role, caller) in creds {
                let expect: &[u16] = if rank(role) >= rule.min {
                    rule.ok
                } else {
                    &[403]
                };
                self.attempt(rule, role, caller, expect).await;
            }
            if addresses_an_id(rule.path) || rule.body.is_some_and(addresses_an_id) {
                self.attempt(rule, "outsider", outsider, &[404]).await;
            }
            self.attempt(rule, "nobody", &Caller::Nobody, &[401]).await;
        }
        self.restore().await;
    }
}

#[sqlx::test(migrations = false)]
async fn every_role_gets_exactly_what_the_role_table_says_with_a_session(pool: PgPool) {
    // What a team owner checks: viewers only look, developers run services, admins run the
    // team, only the owner can give it away or delete it; strangers see nothing.
    let m = Matrix::start(pool).await;
    let creds: Vec<(&'static str, Caller)> =
        m.t.members()
            .iter()
            .map(|(role, p)| (*role, p.cookie()))
            .collect();
    m.run_rest(&creds, &m.t.outsider.cookie()).await;

    // The OpenAPI document needs no sign-in.
    let (status, doc) = call(m.s(), &Caller::Nobody, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{doc}"
    );

    // The server functions the pages call.
    for rule in SERVER_FNS {
        for (role, caller) in &creds {
            let expect: &[u16] = if rank(role) >= rule.min {
                rule.ok
            } else {
                &[403]
            };
            m.attempt_fn(rule, role, caller, expect).await;
        }
        if addresses_an_id(rule.form) {
            m.attempt_fn(rule, "outsider", &m.t.outsider.cookie(), &[404])
                .await;
        }
        if !matches!(rule.endpoint, "whoami" | "my_teams") {
            m.attempt_fn(rule, "nobody", &Caller::Nobody, &[401]).await;
        }
    }
    m.restore().await;

    // The pages render for every member; the audit page for admins and up.
    for (role, p) in m.t.members() {
        for page in ["/team", "/settings", "/services", "/audit"] {
            let r = p.client.get(m.s().url(page)).send().await.unwrap();
            let status = r.status().as_u16();
            let html = r.text().await.unwrap();
            if page == "/audit" && rank(role) < Admin {
                assert!(status == 200 || status == 403, "{page} as {role}: {status}");
                assert!(
                    !html.contains("service.create"),
                    "{page} as {role} shows audit entries"
                );
            } else {
                assert_eq!(status, 200, "{page} as {role}");
                assert!(
                    html.contains(&p.name),
                    "{page} as {role} names who is signed in"
                );
            }
        }
    }
    for page in ["/team", "/settings", "/services", "/audit"] {
        let r = m.s().client().get(m.s().url(page)).send().await.unwrap();
        assert_eq!(location(&r), "/login", "{page} signed out");
    }

    // The service page offers the buttons that change it only to the roles that may.
    let page = format!("/services/{}", m.service);
    for (role, p) in m.t.members() {
        let html = m.s().page(&p.client, &page).await;
        let manages = rank(role) >= Developer;
        assert_eq!(
            html.contains("id=\"delete-service\""),
            manages,
            "{page} as {role}"
        );
        assert_eq!(
            html.contains("id=\"read-only\""),
            !manages,
            "{page} as {role}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn every_role_gets_exactly_what_the_role_table_says_with_an_api_token(pool: PgPool) {
    // The same table for programs: a token of each role (made by the owner) may do what
    // a member of that role may, on every REST endpoint.
    let m = Matrix::start(pool).await;
    let owner = m.t.owner.cookie();
    let mut creds = Vec::new();
    for role in ["owner", "admin", "developer", "viewer"] {
        let (_, value) = token_of(m.s(), &owner, &format!("{role} bot"), role).await;
        creds.push((role, Caller::Bearer(value)));
    }
    let (_, outsider) = token_of(m.s(), &m.t.outsider.cookie(), "their bot", "owner").await;
    // A token's identity: its creator, the team it was made in, its role.
    for (role, caller) in &creds {
        let who = me(m.s(), caller).await;
        assert_eq!(who["role"], *role, "{who}");
        assert_eq!(who["user"]["id"], m.t.owner.id.to_string());
        assert!(who["token"].is_string(), "{who}");
        let (status, teams) = call(m.s(), caller, "GET", "/api/v1/teams", None).await;
        assert_eq!(status, 200);
        assert_eq!(
            teams.as_array().map(Vec::len),
            Some(1),
            "a token sees only its team"
        );
    }
    m.run_rest(&creds, &Caller::Bearer(outsider)).await;
}

#[sqlx::test(migrations = false)]
async fn a_token_never_outranks_whoever_made_it(pool: PgPool) {
    // An admin can't mint an owner token; a developer or viewer can't mint any; a token
    // made by an admin who is later demoted acts with the demoted role.
    let t = Teams::start(pool).await;
    let tokens_before = t.s.count("api_tokens").await;
    let (status, body) = new_token(&t.s, &t.admin.cookie(), "root", "owner", None).await;
    assert_eq!(status, 403, "{body}");
    for p in [&t.developer, &t.viewer] {
        for role in ["owner", "admin", "developer", "viewer"] {
            let (status, body) = new_token(&t.s, &p.cookie(), "mine", role, None).await;
            assert_eq!(status, 403, "{} → {role} token: {body}", p.name);
        }
    }
    assert_eq!(
        t.s.count("api_tokens").await,
        tokens_before,
        "nothing stored"
    );

    // Tokens can't mint stronger tokens either.
    let (_, admin_token) = token_of(&t.s, &t.admin.cookie(), "admin bot", "admin").await;
    let bot = Caller::Bearer(admin_token);
    let (status, _) = new_token(&t.s, &bot, "escalate", "owner", None).await;
    assert_eq!(status, 403);
    let (_, dev_token) = token_of(&t.s, &t.owner.cookie(), "dev bot", "developer").await;
    let (status, _) = new_token(&t.s, &Caller::Bearer(dev_token), "x", "viewer", None).await;
    assert_eq!(status, 403, "a developer token can't manage tokens");

    // The admin is demoted to viewer: their admin token now acts as a viewer.
    demote(&t, &t.admin, "viewer").await;
    assert_eq!(me(&t.s, &bot).await["role"], "viewer");
    let (status, _) = call(&t.s, &bot, "GET", "/api/v1/invitations", None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&t.s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &t.s,
        &bot,
        "POST",
        "/api/v1/services",
        Some(json!({"name": "sneaky", "image": "nginx"})),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(t.s.count("services").await, 0);
}

async fn demote(t: &Teams, p: &Person, role: &str) {
    let (status, body) = call(
        &t.s,
        &t.owner.cookie(),
        "PATCH",
        &format!("/api/v1/members/{}", p.id),
        Some(json!({"role": role})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], role, "{body}");
}

// ---------------------------------------------------------------------------------------
// Another team's ids.
// ---------------------------------------------------------------------------------------

/// Every row of a team, as text: equal before and after means nothing changed.
async fn snapshot(pool: &PgPool, team: Uuid) -> String {
    let mut out = String::new();
    for (table, filter) in [
        ("teams", "id = $1"),
        ("memberships", "team_id = $1"),
        ("services", "team_id = $1"),
        (
            "deployments",
            "service_id IN (SELECT id FROM services WHERE team_id = $1)",
        ),
        ("invitations", "team_id = $1"),
        ("api_tokens", "team_id = $1"),
        ("audit_log", "team_id = $1"),
    ] {
        let rows: Option<String> = sqlx::query_scalar(&format!(
            "SELECT json_agg(row_to_json(x)::text ORDER BY row_to_json(x)::text)::text
               FROM {table} x WHERE {filter}"
        ))
        .bind(team)
        .fetch_one(pool)
        .await
        .unwrap();
        out.push_str(&format!("{table}: {}\n", rows.unwrap_or_default()));
    }
    out
}

#[sqlx::test(migrations = false)]
async fn another_teams_ids_do_not_exist_even_for_an_owner(pool: PgPool) {
    // What a customer of a shared instance checks: with every id of another team, even the
    // owner of this team reads nothing, changes nothing and learns nothing.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    // Team B, built by its owner (the outsider) through the product.
    let b = t.outsider.cookie();
    let (status, body) = call(
        s,
        &b,
        "POST",
        "/api/v1/services",
        Some(json!({"name": "theirs", "image": "nginx",
                    "env": [{"key": "KEY", "value": "b-secret-value", "secret": true}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let service = body["id"].as_str().unwrap().to_owned();
    let deployment: Uuid = sqlx::query_scalar("SELECT id FROM deployments WHERE service_id = $1")
        .bind(service.parse::<Uuid>().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    let (token, _) = token_of(s, &b, "their bot", "developer").await;
    let (status, body) = invite(s, &b, "guest@example.com", "viewer").await;
    assert_eq!(status, 201, "{body}");
    let invitation = body["invitation"]["id"].as_str().unwrap().to_owned();
    let member = common::team::join(s, &b, "Bea Bravo", "developer").await;
    // Bea is in B only; the outsider (B's owner) was in A once.
    for who in [member.id, t.outsider.id] {
        assert_eq!(role_in(&pool, t.team_a, who).await, None);
    }
    let before = snapshot(&pool, t.team_b).await;
    let audit_before = t.s.count("audit_log").await;

    let sv = &service;
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/services/{sv}"), None),
        (
            "PUT",
            format!("/api/v1/services/{sv}"),
            Some(json!({"name": "theirs", "image": "hijack"})),
        ),
        ("DELETE", format!("/api/v1/services/{sv}"), None),
        (
            "POST",
            format!("/api/v1/services/{sv}/scale"),
            Some(json!({"replicas": 3})),
        ),
        ("POST", format!("/api/v1/services/{sv}/stop"), None),
        ("POST", format!("/api/v1/services/{sv}/start"), None),
        ("POST", format!("/api/v1/services/{sv}/redeploy"), None),
        (
            "POST",
            format!("/api/v1/services/{sv}/rollback"),
            Some(json!({"deployment": 1})),
        ),
        ("POST", format!("/api/v1/services/{sv}/deploy"), None),
        ("GET", format!("/api/v1/services/{sv}/webhook"), None),
        (
            "POST",
            format!("/api/v1/services/{sv}/webhook/rotate"),
            None,
        ),
        ("GET", format!("/api/v1/services/{sv}/deployments"), None),
        ("GET", format!("/api/v1/deployments/{deployment}"), None),
        ("GET", format!("/api/v1/services/{sv}/logs"), None),
        ("GET", format!("/api/v1/services/{sv}/logs/stream"), None),
        ("GET", format!("/api/v1/services/{sv}/events"), None),
        ("GET", format!("/api/v1/services/{sv}/metrics"), None),
        (
            "PATCH",
            format!("/api/v1/members/{}", member.id),
            Some(json!({"role": "viewer"})),
        ),
        ("DELETE", format!("/api/v1/members/{}", member.id), None),
        (
            "PATCH",
            format!("/api/v1/members/{}", t.outsider.id),
            Some(json!({"role": "viewer"})),
        ),
        ("DELETE", format!("/api/v1/members/{}", t.outsider.id), None),
        ("DELETE", format!("/api/v1/invitations/{invitation}"), None),
        ("DELETE", format!("/api/v1/tokens/{token}"), None),
        (
            "POST",
            "/api/v1/team/transfer".to_owned(),
            Some(json!({"user_id": member.id})),
        ),
    ];
    let (_, owner_token) = token_of(s, &t.owner.cookie(), "owner bot", "owner").await;
    let audit_before = audit_before + 1; // the token.create just now, in team A
    for (how, caller) in [
        ("cookie", t.owner.cookie()),
        ("token", Caller::Bearer(owner_token)),
    ] {
        for (method, path, body) in &calls {
            let (status, answer) = call(s, &caller, method, path, body.clone()).await;
            assert_eq!(
                status, 404,
                "{method} {path} by A's owner ({how}): {answer}"
            );
        }
        // The audit log has nothing about any of B's ids.
        for id in [
            service.clone(),
            deployment.to_string(),
            token.to_string(),
            invitation.clone(),
            member.id.to_string(),
            t.team_b.to_string(),
        ] {
            let (status, page) = call(
                s,
                &caller,
                "GET",
                &format!("/api/v1/audit?target={id}"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["entries"], json!([]), "audit target={id} ({how})");
        }
        let (_, page) = call(s, &caller, "GET", "/api/v1/audit", None).await;
        let text = page.to_string();
        for leak in [
            "theirs",
            "Bravo",
            "guest@example.com",
            "their bot",
            "Bea Bravo",
        ] {
            assert!(
                !text.contains(leak),
                "A's audit log mentions {leak}: {text}"
            );
        }
        // Lists show only A's.
        for list in [
            "/api/v1/services",
            "/api/v1/members",
            "/api/v1/tokens",
            "/api/v1/invitations",
        ] {
            let (status, body) = call(s, &caller, "GET", list, None).await;
            assert_eq!(status, 200);
            let text = body.to_string();
            assert!(
                !text.contains(&service) && !text.contains("Bea Bravo") && !text.contains("guest@"),
                "{list} ({how}) shows B: {text}"
            );
        }
    }
    // The pages' server functions.
    let owner = t.owner.cookie();
    let sid = format!("id={service}");
    let did = format!("id={deployment}");
    for (endpoint, form) in [
        ("get_service", sid.clone()),
        ("service_form", sid.clone()),
        ("deployment_log", did),
        ("service_events", sid.clone()),
        ("service_metrics", sid.clone()),
        ("webhook_info", sid.clone()),
        ("rotate_webhook", sid.clone()),
        (
            "save_service",
            format!("{sid}&form[name]=theirs&form[image]=hijack"),
        ),
        ("service_action", format!("{sid}&action=stop&replicas=")),
        ("service_action", format!("{sid}&action=delete&replicas=")),
    ] {
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, body) = server_fn(s, &owner, endpoint, &fields).await;
        assert_eq!(status, 404, "/api/{endpoint} {form}: {body}");
    }
    // Switching the session to B is refused too.
    let r = t
        .owner
        .client
        .post(s.url("/auth/team"))
        .header("accept", "application/json")
        .form(&[("team", t.team_b.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404, "switch to a team one is not in");
    assert_eq!(me(s, &owner).await["team"]["id"], t.team_a.to_string());

    assert_eq!(snapshot(&pool, t.team_b).await, before, "team B unchanged");
    assert_eq!(
        t.s.count("audit_log").await,
        audit_before,
        "nothing was audited"
    );
}

// ---------------------------------------------------------------------------------------
// Invitations.
// ---------------------------------------------------------------------------------------

/// Accepting `token` as a brand-new person in a fresh browser.
async fn accept_new(s: &TestServer, token: &str, name: &str) -> (u16, Value) {
    accept(s, &s.client(), token, name, MEMBER_PASSWORD).await
}

async fn users_and_members(s: &TestServer) -> (i64, i64) {
    (s.count("users").await, s.count("memberships").await)
}

#[sqlx::test(migrations = false)]
async fn invitations_never_grant_more_than_their_sender_may(pool: PgPool) {
    // What an owner checks: nobody can invite above their own role, and a link that was
    // tampered with, used, expired, withdrawn or orphaned by a demotion lets nobody in.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let count = || async move { s.count("invitations").await };

    let before = count().await;
    for role in ["owner", "admin", "developer", "viewer"] {
        let (status, body) = invite(s, &t.developer.cookie(), "x@example.com", role).await;
        assert_eq!(status, 403, "developer invites {role}: {body}");
        let (status, body) = invite(s, &t.viewer.cookie(), "x@example.com", role).await;
        assert_eq!(status, 403, "viewer invites {role}: {body}");
    }
    let (status, body) = invite(s, &t.admin.cookie(), "boss@example.com", "owner").await;
    assert_eq!(status, 403, "admin invites an owner: {body}");
    assert_eq!(count().await, before, "nothing stored");
    let (status, body) = invite(s, &t.admin.cookie(), "peer@example.com", "admin").await;
    assert_eq!(status, 201, "an admin may invite an admin: {body}");
    let (status, _) = invite(s, &t.owner.cookie(), EMAIL, "viewer").await;
    assert_eq!(status, 409, "already a member");

    // Tampered: one hex digit changed.
    let (_, inv) = invite(s, &t.owner.cookie(), "tamper@example.com", "viewer").await;
    let token = inv["token"].as_str().unwrap().to_owned();
    let last = token.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &token[..token.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let counts = users_and_members(s).await;
    let (status, body) = accept_new(s, &tampered, "Mallory").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("invitation_unknown")),
        "{body}"
    );
    let r = s
        .client()
        .post(s.url("/auth/accept"))
        .form(&[
            ("token", tampered.as_str()),
            ("name", "Mallory"),
            ("password", MEMBER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("/invite/{tampered}?problem=invitation_unknown")
    );
    assert_eq!(users_and_members(s).await, counts, "nobody joined");

    // Used once, then replayed: refused, the role unchanged.
    let (status, body) = accept_new(s, &token, "Tim Tamper").await;
    assert!((200..300).contains(&status), "{status} {body}");
    let tim: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'tamper@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        role_in(&pool, t.team_a, tim).await.as_deref(),
        Some("viewer")
    );
    let counts = users_and_members(s).await;
    let (status, body) = accept_new(s, &token, "Tim Again").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("invitation_used")),
        "{body}"
    );
    let (status, body) = accept(s, &s.client(), &token, "Tim Tamper", MEMBER_PASSWORD).await;
    assert!(
        status == 410 || status == 409,
        "replayed by its own account: {status} {body}"
    );
    assert_eq!(
        role_in(&pool, t.team_a, tim).await.as_deref(),
        Some("viewer")
    );
    assert_eq!(users_and_members(s).await, counts);

    // Expired.
    let (_, inv) = invite(s, &t.owner.cookie(), "late@example.com", "developer").await;
    sqlx::query("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind(
            inv["invitation"]["id"]
                .as_str()
                .unwrap()
                .parse::<Uuid>()
                .unwrap(),
        )
        .execute(&pool)
        .await
        .unwrap();
    let (status, body) = accept_new(s, inv["token"].as_str().unwrap(), "Late").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("invitation_expired")),
        "{body}"
    );

    // Revoked.
    let (_, inv) = invite(s, &t.owner.cookie(), "gone@example.com", "developer").await;
    let id = inv["invitation"]["id"].as_str().unwrap();
    let (status, _) = call(
        s,
        &t.admin.cookie(),
        "DELETE",
        &format!("/api/v1/invitations/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, pending) = call(s, &t.owner.cookie(), "GET", "/api/v1/invitations", None).await;
    assert!(
        !pending.to_string().contains(id),
        "a revoked invitation is not pending"
    );
    let (status, body) = accept_new(s, inv["token"].as_str().unwrap(), "Gone").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("invitation_revoked")),
        "{body}"
    );

    // The inviter is demoted below the role before it is accepted.
    let (status, inv) = invite(s, &t.admin.cookie(), "orphan@example.com", "admin").await;
    assert_eq!(status, 201, "{inv}");
    demote(&t, &t.admin, "developer").await;
    let counts = users_and_members(s).await;
    let (status, body) = accept_new(s, inv["token"].as_str().unwrap(), "Orphan").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("invitation_inviter_lost")),
        "{body}"
    );
    assert_eq!(users_and_members(s).await, counts, "nobody joined");
    let orphan: Option<String> = sqlx::query_scalar(
        "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE u.email = 'orphan@example.com'",
    )
    .fetch_optional(&pool)
    .await
    .unwrap();
    assert_eq!(orphan, None);
}

#[sqlx::test(migrations = false)]
async fn an_invitation_gives_exactly_its_role(pool: PgPool) {
    // Whoever accepts gets the role on the invitation, not one they post alongside.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let (_, inv) = invite(s, &t.owner.cookie(), "exact@example.com", "viewer").await;
    let c = s.client();
    let r = c
        .post(s.url("/auth/accept"))
        .header("accept", "application/json")
        .form(&[
            ("token", inv["token"].as_str().unwrap()),
            ("name", "Exact"),
            ("password", MEMBER_PASSWORD),
            ("role", "owner"),
        ])
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        // Refused for the extra field: accept it properly.
        let (status, body) = accept(
            s,
            &c,
            inv["token"].as_str().unwrap(),
            "Exact",
            MEMBER_PASSWORD,
        )
        .await;
        assert!((200..300).contains(&status), "{status} {body}");
    }
    assert_eq!(me(s, &Caller::Cookie(c)).await["role"], "viewer");
}

#[sqlx::test(migrations = false)]
async fn an_existing_account_accepts_with_its_own_password(pool: PgPool) {
    // Someone who already has an account (here: the outsider, now only in team B) joins
    // with their own password; a wrong one lets nobody in and leaves the link usable.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let (status, inv) = invite(s, &t.owner.cookie(), &t.outsider.email, "developer").await;
    assert_eq!(status, 201, "{inv}");
    let token = inv["token"].as_str().unwrap();

    // The invitation page tells who invites to what, without signing in.
    let html = s.page(&s.client(), &format!("/invite/{token}")).await;
    assert!(
        html.contains("Engines") && html.contains("developer"),
        "{html}"
    );
    let (status, offer) =
        server_fn(s, &Caller::Nobody, "invitation_offer", &[("token", token)]).await;
    assert_eq!(status, 200, "{offer}");
    assert!(offer.contains("\"account_exists\":true"), "{offer}");

    let (status, body) = accept(s, &s.client(), token, "Otto", "not the password").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(role_in(&pool, t.team_a, t.outsider.id).await, None);

    // A plain form post: signed in to team A, on to the dashboard.
    let c = s.client();
    let r = c
        .post(s.url("/auth/accept"))
        .form(&[
            ("token", token),
            ("name", "Otto"),
            ("password", MEMBER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/");
    assert_eq!(
        role_in(&pool, t.team_a, t.outsider.id).await.as_deref(),
        Some("developer")
    );
    let who = me(s, &Caller::Cookie(c)).await;
    assert_eq!(who["team"]["id"], t.team_a.to_string());
    assert_eq!(who["role"], "developer");
    let (_, teams) = call(s, &t.outsider.cookie(), "GET", "/api/v1/teams", None).await;
    assert_eq!(teams.as_array().map(Vec::len), Some(2), "{teams}");

    // Invited again while already a member: refused.
    let (status, _) = invite(s, &t.owner.cookie(), &t.outsider.email, "admin").await;
    assert_eq!(status, 409, "already a member");
}

// ---------------------------------------------------------------------------------------
// Role changes apply at once.
// ---------------------------------------------------------------------------------------

#[sqlx::test(migrations = false)]
async fn a_demoted_or_removed_member_loses_access_on_the_next_request(pool: PgPool) {
    // What an admin checks after demoting or removing someone: the very next request of
    // that person's open browser (or their token) is refused.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let owner = t.owner.cookie();
    let (status, body) = call(
        s,
        &owner,
        "POST",
        "/api/v1/services",
        Some(json!({"name": "web", "image": "nginx"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let service = body["id"].as_str().unwrap().to_owned();

    let admin = t.admin.cookie();
    let (status, _) = call(s, &admin, "GET", "/api/v1/invitations", None).await;
    assert_eq!(status, 200);
    demote(&t, &t.admin, "viewer").await;
    let (status, _) = call(s, &admin, "GET", "/api/v1/invitations", None).await;
    assert_eq!(status, 403, "the same cookie, the very next request");
    let (status, _) = call(
        s,
        &admin,
        "PUT",
        &format!("/api/v1/services/{service}"),
        Some(json!({"name": "web", "image": "nginx:1.27"})),
    )
    .await;
    assert_eq!(status, 403, "a viewer can't change a service");
    let (status, _) = call(
        s,
        &admin,
        "GET",
        &format!("/api/v1/services/{service}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "but may still look");
    assert_eq!(me(s, &admin).await["role"], "viewer");

    // Removed: signed out everywhere in this team.
    let (status, _) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/members/{}", t.developer.id),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let dev = t.developer.cookie();
    let (status, _) = call(s, &dev, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 401, "a removed member's session");
    let r = t
        .developer
        .client
        .get(s.url("/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login", "pages send them to sign in");

    // A token made by a member who is then removed stops working.
    let maker = common::team::join(s, &owner, "Tom Tokenmaker", "admin").await;
    let (_, value) = token_of(s, &maker.cookie(), "tom's bot", "developer").await;
    let bot = Caller::Bearer(value);
    let (status, _) = call(s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/members/{}", maker.id),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 401, "the token of a removed member");

    // Leaving (removing oneself) is open to anyone, but the last owner can't.
    let (status, _) = call(
        s,
        &t.viewer.cookie(),
        "DELETE",
        &format!("/api/v1/members/{}", t.viewer.id),
        None,
    )
    .await;
    assert_eq!(status, 204, "a viewer may leave");
    let (status, body) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/members/{}", t.owner.id),
        None,
    )
    .await;
    assert_eq!(status, 409, "the last owner can't leave: {body}");
    let (status, body) = call(
        s,
        &owner,
        "PATCH",
        &format!("/api/v1/members/{}", t.owner.id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, 409, "nor be demoted: {body}");
    // An admin can't touch an owner.
    demote(&t, &t.admin, "admin").await;
    let (status, _) = call(
        s,
        &admin,
        "PATCH",
        &format!("/api/v1/members/{}", t.owner.id),
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, 403, "an admin demotes the owner");
    let (status, _) = call(
        s,
        &admin,
        "PATCH",
        &format!("/api/v1/members/{}", t.admin.id),
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, 403, "an admin promotes themselves to owner");
    assert_eq!(
        role_in(&s.pool, t.team_a, t.owner.id).await.as_deref(),
        Some("owner")
    );
    assert_eq!(
        role_in(&s.pool, t.team_a, t.admin.id).await.as_deref(),
        Some("admin")
    );
}

// ---------------------------------------------------------------------------------------
// API tokens.
// ---------------------------------------------------------------------------------------

#[sqlx::test(migrations = false)]
async fn api_tokens_are_shown_once_stored_hashed_and_end_when_revoked_or_expired(pool: PgPool) {
    // What an admin checks: the token is shown once and never again, the database holds no
    // copy, its last use is shown, and revoking or expiry ends it at once.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let owner = t.owner.cookie();
    let (status, created) = new_token(s, &owner, "ci", "developer", None).await;
    assert_eq!(status, 201, "{created}");
    let value = created["token"].as_str().unwrap().to_owned();
    let hex = value.strip_prefix("berth_").expect("berth_ prefix");
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{value}"
    );
    let id = created["token_info"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["token_info"]["role"], "developer");
    assert!(
        created["token_info"]["created_by"]
            .as_str()
            .unwrap_or("")
            .contains("Ada Lovelace"),
        "{created}"
    );

    let (status, list) = call(s, &owner, "GET", "/api/v1/tokens", None).await;
    assert_eq!(status, 200);
    assert!(list.to_string().contains(&id));
    assert!(
        !list.to_string().contains(hex),
        "the list never shows the value"
    );
    let page = s.page(&t.owner.client, "/team").await;
    assert!(page.contains("ci"), "the team page lists it");
    assert!(!page.contains(hex), "the team page never shows the value");
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(t)::text || encode(token_hash, 'hex') || encode(token_hash, 'escape')
           FROM api_tokens t",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        stored.iter().all(|row| !row.contains(hex)),
        "stored in the clear: {stored:?}"
    );
    let hash_len: i32 =
        sqlx::query_scalar("SELECT length(token_hash) FROM api_tokens WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(hash_len, 32, "a SHA-256 digest");

    // Used: the time shows.
    assert!(list[0]["last_used_at"].is_null(), "{list}");
    let bot = Caller::Bearer(value.clone());
    let who = me(s, &bot).await;
    assert_eq!(who["token"], id.as_str());
    assert_eq!(who["role"], "developer");
    let (_, list) = call(s, &owner, "GET", "/api/v1/tokens", None).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap();
    assert!(listed["last_used_at"].is_string(), "{listed}");

    // Revoked: refused, gone from the list, kept in the database as revoked.
    let (status, _) = call(s, &owner, "DELETE", &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, body) = call(s, &bot, "GET", "/api/v1/services", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let (_, list) = call(s, &owner, "GET", "/api/v1/tokens", None).await;
    assert!(
        !list.to_string().contains(&id),
        "revoked tokens are not listed"
    );

    // Expired.
    let (status, created) = new_token(s, &owner, "short", "viewer", Some(1)).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["token_info"]["expires_at"].is_string());
    let short = Caller::Bearer(created["token"].as_str().unwrap().to_owned());
    assert_eq!(
        call(s, &short, "GET", "/api/v1/services", None).await.0,
        200
    );
    sqlx::query(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        call(s, &short, "GET", "/api/v1/services", None).await.0,
        401
    );

    // Made up or malformed.
    for fake in [
        format!("berth_{}", "0".repeat(64)),
        "berth_xyz".to_owned(),
        hex.to_owned(),
        String::new(),
    ] {
        let (status, _) = call(s, &Caller::Bearer(fake.clone()), "GET", "/api/v1/me", None).await;
        assert_eq!(status, 401, "{fake:?}");
    }
    // Bad forms.
    for (name, role, days) in [
        ("", "viewer", None),
        ("x", "root", None),
        ("x", "viewer", Some(99_999)),
    ] {
        let (status, body) = new_token(s, &owner, name, role, days).await;
        assert!(
            status == 422 || status == 400,
            "{name:?} {role} {days:?}: {status} {body}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn a_bearer_token_opens_only_the_rest_api(pool: PgPool) {
    // A leaked token must not open the dashboard: pages and server functions with only a
    // Bearer header are treated as signed out.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let (_, value) = token_of(s, &t.owner.cookie(), "ci", "owner").await;
    let bot = Caller::Bearer(value.clone());
    assert_eq!(call(s, &bot, "GET", "/api/v1/me", None).await.0, 200);
    for page in ["/", "/services", "/team", "/audit", "/settings"] {
        let r = s
            .client()
            .get(s.url(page))
            .bearer_auth(&value)
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/login", "{page} with a Bearer token");
    }
    let (status, body) = server_fn(s, &bot, "list_services", &[]).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = server_fn(s, &bot, "whoami", &[]).await;
    assert!(
        !body.contains(EMAIL),
        "whoami with a token: {status} {body}"
    );
    let r = s
        .client()
        .post(s.url("/auth/logout"))
        .bearer_auth(&value)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "sign-out with a token");
}

// ---------------------------------------------------------------------------------------
// The audit log.
// ---------------------------------------------------------------------------------------

async fn audit(s: &TestServer, who: &Caller, query: &str) -> Value {
    let (status, page) = call(s, who, "GET", &format!("/api/v1/audit{query}"), None).await;
    assert_eq!(status, 200, "audit{query}: {page}");
    page
}

fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().cloned().unwrap_or_default()
}

/// The newest entry with `action`.
fn entry<'a>(all: &'a [Value], action: &str) -> &'a Value {
    all.iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} entry in {all:#?}"))
}

#[sqlx::test(migrations = false)]
async fn the_audit_log_says_who_did_what_to_what_from_where(pool: PgPool) {
    // What an admin checks after an incident: each change with its actor, target and
    // address; secrets never shown; the filters and paging find what they look for.
    let t = Teams::start(pool.clone()).await;
    let s = &t.s;
    let owner = t.owner.cookie();
    assert_eq!(
        s.sign_in_json(&s.client(), EMAIL, "wrong password", None)
            .await
            .status()
            .as_u16(),
        401
    );
    let again = s.client();
    assert_eq!(
        s.sign_in_json(&again, EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        200
    );
    demote(&t, &t.viewer, "developer").await;
    let (token_id, value) = token_of(s, &owner, "deploy bot", "developer").await;
    let secret = "s3cr3t-value-4711";
    let (status, body) = call(
        s,
        &Caller::Bearer(value),
        "POST",
        "/api/v1/services",
        Some(json!({"name": "web", "image": "nginx",
                    "env": [{"key": "API_KEY", "value": secret, "secret": true},
                            {"key": "MODE", "value": "prod"}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let service = body["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        s,
        &owner,
        "POST",
        &format!("/api/v1/services/{service}/scale"),
        Some(json!({"replicas": 3})),
    )
    .await;
    assert_eq!(status, 200);
    let changed_secret = "an0ther-s3cr3t-0815";
    let (status, body) = call(
        s,
        &owner,
        "PUT",
        &format!("/api/v1/services/{service}"),
        Some(json!({"name": "web", "image": "nginx", "replicas": 3,
                    "env": [{"key": "API_KEY", "value": changed_secret, "secret": true},
                            {"key": "MODE", "value": "prod"}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(
        s,
        &owner,
        "DELETE",
        &format!("/api/v1/tokens/{token_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);

    let all = entries(&audit(s, &owner, "").await);
    let ada = t.owner.label();
    let check = |action: &str, actor: &str, target_kind: &str, target: &str| {
        let e = all
            .iter()
            .find(|e| {
                e["action"] == action
                    && (e["target"].as_str().unwrap_or("").contains(target)
                        || e["target_id"].as_str() == Some(target))
            })
            .unwrap_or_else(|| panic!("no {action} entry about {target} in {all:#?}"));
        assert_eq!(e["actor"], actor, "{action}: {e}");
        assert_eq!(e["target_kind"], target_kind, "{action}: {e}");
        assert_eq!(e["ip"], "127.0.0.1", "{action}: {e}");
    };
    check("auth.sign_in", &ada, "user", "Ada Lovelace");
    check("auth.sign_in_failed", &ada, "user", "Ada Lovelace");
    check(
        "invitation.create",
        &ada,
        "invitation",
        "vic.viewer@example.com",
    );
    check(
        "invitation.accept",
        &t.viewer.label(),
        "invitation",
        "vic.viewer@example.com",
    );
    check(
        "member.add",
        &t.viewer.label(),
        "member",
        "vic.viewer@example.com",
    );
    check("member.role", &ada, "member", "vic.viewer@example.com");
    check("member.remove", &ada, "member", "otto.outsider@example.com");
    check("token.create", &ada, "token", "deploy bot");
    check("token.revoke", &ada, "token", "deploy bot");
    check(
        "service.create",
        "token deploy bot (of Ada Lovelace)",
        "service",
        "web",
    );
    check("service.scale", &ada, "service", "web");
    check("service.update", &ada, "service", "web");
    assert_eq!(entry(&all, "service.create")["actor_kind"], "token");
    assert_eq!(entry(&all, "service.scale")["target_id"], service.as_str());
    let role = entry(&all, "member.role")["summary"].to_string();
    assert!(
        role.contains("viewer") && role.contains("developer"),
        "{role}"
    );

    let text = serde_json::to_string(&all).unwrap();
    for s3 in [secret, changed_secret] {
        assert!(!text.contains(s3), "a secret in the audit log: {text}");
    }
    let stored: String = sqlx::query_scalar("SELECT string_agg(summary::text, ' ') FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        !stored.contains(secret) && !stored.contains(changed_secret),
        "{stored}"
    );
    let update = &entry(&all, "service.update")["summary"];
    assert!(
        update.get("env").is_some(),
        "the changed secret is recorded (not shown): {update}"
    );

    // Filters.
    let services = entries(&audit(s, &owner, "?action=service").await);
    assert!(services.len() >= 3);
    assert!(services
        .iter()
        .all(|e| e["action"].as_str().unwrap().starts_with("service.")));
    let by_vic = entries(&audit(s, &owner, "?actor=vic").await);
    assert!(!by_vic.is_empty());
    assert!(by_vic
        .iter()
        .all(|e| e["actor"].as_str().unwrap().contains("Vic")));
    let about = entries(&audit(s, &owner, &format!("?target={service}")).await);
    assert!(about.len() >= 3, "{about:#?}");
    assert!(about.iter().all(|e| e["target_id"] == service.as_str()));
    let today = chrono::Utc::now().date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let tomorrow = day(today.succ_opt().unwrap());
    let yesterday = day(today.pred_opt().unwrap());
    assert!(entries(&audit(s, &owner, &format!("?from={tomorrow}")).await).is_empty());
    assert!(entries(&audit(s, &owner, &format!("?to={yesterday}")).await).is_empty());
    let window = format!("?from={yesterday}&to={tomorrow}");
    assert_eq!(entries(&audit(s, &owner, &window).await).len(), all.len());
    let (status, _) = call(s, &owner, "GET", "/api/v1/audit?from=yesterday", None).await;
    assert!(
        status == 422 || status == 400,
        "a bad time is refused: {status}"
    );

    // Paging: 60 more entries, read back newest first in pages, none twice, none missed.
    for i in 0..60 {
        let (status, _) = call(
            s,
            &owner,
            "POST",
            &format!("/api/v1/services/{service}/scale"),
            Some(json!({"replicas": i % 5})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE team_id = $1")
        .bind(t.team_a)
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut seen: Vec<i64> = Vec::new();
    let mut query = String::new();
    loop {
        let page = audit(s, &owner, &query).await;
        let ids: Vec<i64> = entries(&page)
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect();
        assert!(ids.len() <= 50);
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        if let Some(last) = seen.last() {
            assert!(
                ids.first().is_none_or(|first| first < last),
                "pages overlap"
            );
        }
        seen.extend(&ids);
        match page["next_before"].as_i64() {
            Some(before) => query = format!("?before={before}"),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total, "every entry once");
    // Paging combines with a filter.
    let first = audit(s, &owner, "?action=service.scale").await;
    let before = first["next_before"]
        .as_i64()
        .expect("more than a page of scales");
    let second =
        entries(&audit(s, &owner, &format!("?action=service.scale&before={before}")).await);
    assert!(!second.is_empty());
    assert!(second
        .iter()
        .all(|e| e["action"] == "service.scale" && e["id"].as_i64().unwrap() < before));

    // Non-admins can't read it.
    for p in [&t.developer, &t.viewer] {
        let (status, _) = call(s, &p.cookie(), "GET", "/api/v1/audit", None).await;
        assert_eq!(status, 403);
    }
    // The audit page shows the same.
    let html = s.page(&t.owner.client, "/audit?action=member.role").await;
    assert!(html.contains("vic.viewer@example.com"), "{html}");
}

// ---------------------------------------------------------------------------------------
// The user's own settings.
// ---------------------------------------------------------------------------------------

#[sqlx::test(migrations = false)]
async fn changing_the_password_ends_the_other_sessions(pool: PgPool) {
    // What a user checks after a leak: a new password signs out every other browser, the
    // old password stops working, and this browser stays signed in.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let laptop = t.owner.client.clone();
    let phone = s.client();
    assert_eq!(
        s.sign_in_json(&phone, EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        200
    );
    let new = "a brand new passphrase";

    server_fn(
        s,
        &Caller::Cookie(laptop.clone()),
        "change_password",
        &[("current", "not my password"), ("new", new)],
    )
    .await;
    let phone_me = call(s, &Caller::Cookie(phone.clone()), "GET", "/api/v1/me", None).await;
    assert_eq!(phone_me.0, 200, "a wrong current password changes nothing");
    let (status, body) = server_fn(
        s,
        &Caller::Cookie(laptop.clone()),
        "change_password",
        &[("current", PASSWORD), ("new", new)],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    assert_eq!(
        call(s, &Caller::Cookie(phone.clone()), "GET", "/api/v1/me", None)
            .await
            .0,
        401
    );
    assert_eq!(
        location(&phone.get(s.url("/")).send().await.unwrap()),
        "/login"
    );
    assert_eq!(
        call(
            s,
            &Caller::Cookie(laptop.clone()),
            "GET",
            "/api/v1/me",
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        s.sign_in_json(&s.client(), EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        s.sign_in_json(&s.client(), EMAIL, new, None)
            .await
            .status()
            .as_u16(),
        200
    );
    let all = entries(&audit(s, &Caller::Cookie(laptop), "?action=user.password").await);
    assert_eq!(all.len(), 1, "{all:#?}");
}

#[sqlx::test(migrations = false)]
async fn a_user_can_sign_out_another_of_their_sessions(pool: PgPool) {
    // Settings list the user's sessions; "Sign out" on one ends it, and only it. Nobody
    // can end someone else's session.
    let t = Teams::start(pool).await;
    let s = &t.s;
    let laptop = t.owner.cookie();
    let phone = s.client();
    assert_eq!(
        s.sign_in_json(&phone, EMAIL, PASSWORD, None)
            .await
            .status()
            .as_u16(),
        200
    );
    let (status, body) = server_fn(s, &laptop, "my_logins", &[]).await;
    assert_eq!(status, 200, "{body}");
    let logins: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(logins.len(), 2, "{body}");
    let other = logins.iter().find(|l| l["current"] == false).unwrap();
    let other_id = other["id"].as_str().unwrap();

    // Another member can't end it.
    server_fn(s, &t.admin.cookie(), "end_login", &[("id", other_id)]).await;
    let phone_caller = Caller::Cookie(phone.clone());
    assert_eq!(
        call(s, &phone_caller, "GET", "/api/v1/me", None).await.0,
        200
    );

    let (status, body) = server_fn(s, &laptop, "end_login", &[("id", other_id)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        call(s, &phone_caller, "GET", "/api/v1/me", None).await.0,
        401
    );
    assert_eq!(call(s, &laptop, "GET", "/api/v1/me", None).await.0, 200);
    let page = s.page(&t.owner.client, "/settings").await;
    assert!(page.contains("Sign out"), "{page}");
}
