//! What containers print is one permission and always clean: a crash-looping container's
//! last lines (which may echo a secret) reach only the roles that may read logs — in the
//! REST list and view, the page's server function and the page itself — and never carry
//! terminal escapes or control characters.

mod common;

use common::api::Api;
use common::quick_worker;
use common::team::{call, join, server_fn, Caller};
use serde_json::{json, Value};
use sqlx::PgPool;

const SECRET: &str = "s3cr3t-crash-token";

/// The `last_logs` of each container in a service view.
fn last_logs(view: &Value) -> Vec<Value> {
    view["containers"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|c| c["last_logs"].clone())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn crash_output_is_cleaned_and_shown_only_to_roles_that_read_logs(pool: PgPool) {
    let api = Api::start(pool, quick_worker()).await;
    let s = &api.server;
    let owner = Caller::Cookie(api.client.clone());
    let viewer = join(s, &owner, "Vic Viewer", "viewer").await.cookie();
    let developer = join(s, &owner, "Dora Developer", "developer")
        .await
        .cookie();
    let id = api
        .create(json!({
            "name": "crashy",
            "image": api.image,
            "env": [{ "key": "API_TOKEN", "value": SECRET, "secret": true }],
            // Serves until /crash exists (a live replica, so no rollout is failed and
            // removed); every later start prints an OSC title, a colour and the secret.
            "command": ["sh", "-c",
                "test -e /ran && { printf '\\033]0;pwned\\007\\033[31mX\\n'; echo \"token=$API_TOKEN\"; exit 3; }; \
                 touch /ran; httpd -p 8080 -h /www; while ! test -e /crash; do sleep 0.2; done; exit 1"],
            "restart_policy": "always"
        }))
        .await;
    let live = api.running(&id, 1).await;
    let container = live["containers"][0]["id"].as_str().unwrap().to_owned();
    common::docker::docker(&["exec", &container, "/bin/busybox", "touch", "/crash"]);
    api.until(&id, 60, "crash-looping with its last lines", |v| {
        v["status"]["health"] == "crash_looping"
            && last_logs(v)
                .iter()
                .any(|l| l.as_str().unwrap_or("").contains(SECRET))
    })
    .await;

    // A developer reads them, cleaned: the text stays, the escapes and the title go.
    let (status, view) = call(
        s,
        &developer,
        "GET",
        &format!("/api/v1/services/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let logs = last_logs(&view)
        .into_iter()
        .find_map(|l| l.as_str().map(str::to_owned))
        .expect("a developer sees the last lines");
    assert!(logs.contains('X') && logs.contains(SECRET), "{logs:?}");
    assert!(
        !logs.contains('\u{1b}') && !logs.contains('\u{7}'),
        "{logs:?}"
    );
    assert!(
        !logs.contains("pwned"),
        "the title sequence is dropped: {logs:?}"
    );
    let page = s.page(&api.client, &format!("/services/{id}")).await;
    assert!(
        page.contains(SECRET),
        "the owner's page shows the last lines"
    );
    assert!(
        !page.contains('\u{1b}') && !page.contains("\\u001b"),
        "raw escape in the page"
    );

    // A viewer sees that it crash-loops, not what it printed: in the view, the list, the
    // page's server functions and the page.
    let (status, view) = call(s, &viewer, "GET", &format!("/api/v1/services/{id}"), None).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"]["health"], "crash_looping");
    assert!(!view["containers"].as_array().unwrap().is_empty());
    assert!(last_logs(&view).iter().all(Value::is_null), "{view:#}");
    let (status, list) = call(s, &viewer, "GET", "/api/v1/services", None).await;
    assert_eq!(status, 200, "{list}");
    assert!(!list.to_string().contains(SECRET), "{list:#}");
    for (endpoint, form) in [
        ("get_service", vec![("id", id.as_str())]),
        ("list_services", vec![]),
    ] {
        let (status, body) = server_fn(s, &viewer, endpoint, &form).await;
        assert_eq!(status, 200, "{endpoint}: {body}");
        assert!(
            body.contains("crash_looping") || body.contains("crashy"),
            "{endpoint}: {body}"
        );
        assert!(
            !body.contains(SECRET),
            "{endpoint} shows a viewer the output: {body}"
        );
    }
    let Caller::Cookie(viewer_browser) = &viewer else {
        unreachable!()
    };
    let page = s.page(viewer_browser, &format!("/services/{id}")).await;
    assert!(
        page.contains("crashy"),
        "the viewer's page shows the service"
    );
    assert!(!page.contains(SECRET), "the viewer's page shows the output");
}
