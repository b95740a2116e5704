//! A team built through the product: the first-run owner invites an admin, a developer and
//! a viewer, each accepts with their own browser; an outsider owns another team. Plus small
//! helpers to call the API as any of them, by session cookie or API token.

use super::{TestServer, EMAIL};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// The password every invited member chooses.
pub const MEMBER_PASSWORD: &str = "member password 1";

/// How a request proves who sends it.
#[derive(Clone)]
pub enum Caller {
    /// A browser session (the client keeps the cookie).
    Cookie(reqwest::Client),
    /// `Authorization: Bearer <token>` and no cookie.
    Bearer(String),
    /// Neither.
    Nobody,
}

impl Caller {
    fn request(&self, s: &TestServer, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method: reqwest::Method = method.parse().unwrap();
        match self {
            Caller::Cookie(c) => c.request(method, s.url(path)),
            Caller::Bearer(t) => s
                .client()
                .request(method, s.url(path))
                .bearer_auth(t.as_str()),
            Caller::Nobody => s.client().request(method, s.url(path)),
        }
    }
}

/// A JSON call; the answer's status and JSON body (`Null` when it is not JSON, and an event
/// stream is dropped unread after its first response).
pub async fn call(
    s: &TestServer,
    who: &Caller,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = who.request(s, method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let stream = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    if stream {
        return (status, Value::Null);
    }
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A server function call as the pages make it (form-encoded POST to `/api/<endpoint>`).
pub async fn server_fn(
    s: &TestServer,
    who: &Caller,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let r = who
        .request(s, "POST", &format!("/api/{endpoint}"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// `POST /api/v1/invitations`.
pub async fn invite(s: &TestServer, by: &Caller, email: &str, role: &str) -> (u16, Value) {
    call(
        s,
        by,
        "POST",
        "/api/v1/invitations",
        Some(json!({"email": email, "role": role})),
    )
    .await
}

/// `POST /auth/accept` as a program does it (JSON answer); `c` keeps the new session.
pub async fn accept(
    s: &TestServer,
    c: &reqwest::Client,
    token: &str,
    name: &str,
    password: &str,
) -> (u16, Value) {
    let r = c
        .post(s.url("/auth/accept"))
        .header("accept", "application/json")
        .form(&[("token", token), ("name", name), ("password", password)])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Someone signed in with their own browser.
#[derive(Clone)]
pub struct Person {
    pub client: reqwest::Client,
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

impl Person {
    pub fn cookie(&self) -> Caller {
        Caller::Cookie(self.client.clone())
    }

    /// "Name <email>", as the audit log names people.
    pub fn label(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// The signed-in caller's `GET /api/v1/me`.
pub async fn me(s: &TestServer, who: &Caller) -> Value {
    let (status, body) = call(s, who, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 200, "GET /api/v1/me: {body}");
    body
}

/// Invited by `inviter` with `role`, accepted as a new account in a fresh browser.
pub async fn join(s: &TestServer, inviter: &Caller, name: &str, role: &str) -> Person {
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    let (status, invitation) = invite(s, inviter, &email, role).await;
    assert_eq!(status, 201, "invite {email} as {role}: {invitation}");
    let client = s.client();
    let token = invitation["token"].as_str().unwrap();
    let (status, body) = accept(s, &client, token, name, MEMBER_PASSWORD).await;
    assert!(
        (200..300).contains(&status),
        "accept {email}: {status} {body}"
    );
    let id = me(s, &Caller::Cookie(client.clone())).await["user"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    Person {
        client,
        id,
        name: name.to_owned(),
        email,
    }
}

/// `POST /api/v1/tokens` by `by`: (status, id, token value).
pub async fn new_token(
    s: &TestServer,
    by: &Caller,
    name: &str,
    role: &str,
    expires_in_days: Option<u32>,
) -> (u16, Value) {
    let mut body = json!({"name": name, "role": role});
    if let Some(d) = expires_in_days {
        body["expires_in_days"] = json!(d);
    }
    call(s, by, "POST", "/api/v1/tokens", Some(body)).await
}

/// A token the caller is sure to get: its id and value.
pub async fn token_of(s: &TestServer, by: &Caller, name: &str, role: &str) -> (Uuid, String) {
    let (status, body) = new_token(s, by, name, role, None).await;
    assert_eq!(status, 201, "token {name} ({role}): {body}");
    (
        body["token_info"]["id"].as_str().unwrap().parse().unwrap(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// A member's role in a team, straight from the database (`None`: not a member).
pub async fn role_in(pool: &PgPool, team: Uuid, user: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT role FROM memberships WHERE team_id = $1 AND user_id = $2")
        .bind(team)
        .bind(user)
        .fetch_optional(pool)
        .await
        .unwrap()
}

/// Puts a member back with `role` (re-adding them if they were removed).
pub async fn set_role(pool: &PgPool, team: Uuid, user: Uuid, role: &str) {
    sqlx::query(
        "INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (team_id, user_id) DO UPDATE SET role = EXCLUDED.role",
    )
    .bind(team)
    .bind(user)
    .bind(role)
    .execute(pool)
    .await
    .unwrap();
}

/// Team A ("Engines", the first run's) with one member per role, and an outsider who was
/// in A once but now only owns team B ("Bravo").
pub struct Teams {
    pub s: TestServer,
    pub team_a: Uuid,
    pub team_b: Uuid,
    pub owner: Person,
    pub admin: Person,
    pub developer: Person,
    pub viewer: Person,
    pub outsider: Person,
}

impl Teams {
    pub async fn start(pool: PgPool) -> Teams {
        let s = TestServer::start(pool).await;
        let client = s.owner().await;
        let owner_me = me(&s, &Caller::Cookie(client.clone())).await;
        let owner = Person {
            client,
            id: owner_me["user"]["id"].as_str().unwrap().parse().unwrap(),
            name: "Ada Lovelace".into(),
            email: EMAIL.into(),
        };
        let team_a: Uuid = owner_me["team"]["id"].as_str().unwrap().parse().unwrap();
        let by = owner.cookie();
        let admin = join(&s, &by, "Alan Admin", "admin").await;
        let developer = join(&s, &by, "Dora Developer", "developer").await;
        let viewer = join(&s, &by, "Vic Viewer", "viewer").await;
        let outsider = join(&s, &by, "Otto Outsider", "viewer").await;

        // The outsider founds team B (and is switched to it), then leaves A's hands.
        let r = outsider
            .client
            .post(s.url("/auth/teams"))
            .form(&[("team_name", "Bravo")])
            .send()
            .await
            .unwrap();
        assert_eq!(super::location(&r), "/team", "create team B");
        let team_b: Uuid = me(&s, &outsider.cookie()).await["team"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_ne!(team_a, team_b);
        let (status, body) = call(
            &s,
            &by,
            "DELETE",
            &format!("/api/v1/members/{}", outsider.id),
            None,
        )
        .await;
        assert_eq!(status, 204, "remove the outsider from A: {body}");
        Teams {
            s,
            team_a,
            team_b,
            owner,
            admin,
            developer,
            viewer,
            outsider,
        }
    }

    /// The four members of A, strongest first, with their role's name.
    pub fn members(&self) -> [(&'static str, &Person); 4] {
        [
            ("owner", &self.owner),
            ("admin", &self.admin),
            ("developer", &self.developer),
            ("viewer", &self.viewer),
        ]
    }
}

/// Team A's owner changes `p`'s role to `role` (`PATCH /api/v1/members/{id}`), which must
/// answer 200 with the new role.
pub async fn demote(t: &Teams, p: &Person, role: &str) {
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
