//! A malformed session cookie is logged once, not on every request that carries it, and the
//! browser is told to drop it. Alone in its binary: it installs the process's log collector.

mod common;

use common::TestServer;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};

/// Everything the server logs, as text.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Collected {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Collected {
    fn count(&self, needle: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(needle)
            .count()
    }
}

#[sqlx::test(migrations = false)]
async fn a_malformed_session_cookie_is_logged_once(pool: PgPool) {
    let logs = Collected::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .init();
    let s = TestServer::start(pool).await;
    let owner = s.owner().await;
    let plain = reqwest::Client::new();
    for path in ["/", "/api/v1/me", "/login", "/api/v1/services"] {
        let r = plain
            .get(s.url(path))
            .header("cookie", "theme=dark; berth_session=not-a-session-id!!")
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
        let cleared = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("berth_session=;"));
        assert!(cleared, "{path}: the browser is told to drop the cookie");
    }
    assert_eq!(logs.count("ignored a malformed session cookie"), 1);
    assert_eq!(
        logs.count("malformed session id"),
        0,
        "the session layer never sees it"
    );

    // A well-formed cookie is left alone (and is not logged as malformed).
    let r = owner.get(s.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(logs.count("ignored a malformed session cookie"), 1);
}
