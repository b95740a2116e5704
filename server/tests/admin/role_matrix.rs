//! The role matrix: every caller on every row of the role table, once with session cookies
//! and once with API tokens of each role; the pages and the service page's buttons by role.

use crate::common::location;
use crate::common::team::{call, me, Caller};
use crate::matrix::{addresses_an_id, Matrix, Via};
use crate::role_table::{Call, NOT_FOUND, NOT_TRIED, TABLE, UNAUTHORIZED};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn every_role_gets_exactly_what_the_role_table_says_with_a_session(pool: PgPool) {
    // What a team owner checks: viewers only look, developers run services, admins run the
    // team, only the owner can give it away or delete it; strangers see nothing.
    let m = Matrix::start(pool).await;
    let callers = m.callers(&Via::Cookies).await;
    m.walk(&Via::Cookies, &callers).await;

    // The OpenAPI document needs no sign-in.
    let (status, doc) = call(m.s(), &Caller::Nobody, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{doc}"
    );

    // The pages render for every member; the audit page for admins and up.
    for (role, p) in m.t.members() {
        let admin_or_up = matches!(role, "owner" | "admin");
        for page in ["/team", "/settings", "/services", "/audit"] {
            let r = p.client.get(m.s().url(page)).send().await.unwrap();
            let status = r.status().as_u16();
            let html = r.text().await.unwrap();
            if page == "/audit" && !admin_or_up {
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
        let manages = role != "viewer";
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
    let callers = m.callers(&Via::Tokens).await;
    // A token's identity: its creator, the team it was made in, its role.
    for (role, caller) in ["owner", "admin", "developer", "viewer"]
        .iter()
        .zip(&callers)
    {
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
    m.walk(&Via::Tokens, &callers).await;
}

#[test]
fn the_table_asks_the_outsider_about_every_id_of_team_a_and_nobody_about_everything() {
    // A guard on the table itself: a row that names an id of team A must expect 404 from
    // the outsider (and only such a row asks them); nobody gets 401 everywhere but where a
    // signed-out page asks who is signed in.
    for row in TABLE {
        let (what, names_an_id, nobody_asked) = match row.call {
            Call::Rest { method, path, body } => (
                format!("{method} {path}"),
                addresses_an_id(path) || body.is_some_and(addresses_an_id),
                true,
            ),
            Call::ServerFn { endpoint, form, .. } => (
                format!("/api/{endpoint}"),
                addresses_an_id(form),
                !matches!(endpoint, "whoami" | "my_teams"),
            ),
        };
        let outsider = if names_an_id { NOT_FOUND } else { NOT_TRIED };
        assert_eq!(row.outcomes[4], outsider, "{what}: the outsider");
        let nobody = if nobody_asked {
            UNAUTHORIZED
        } else {
            NOT_TRIED
        };
        assert_eq!(row.outcomes[5], nobody, "{what}: nobody");
    }
}
