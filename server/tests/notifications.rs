//! Notifications against the real thing: the worker, Docker, Postgres, a webhook receiver
//! on loopback (a plain TCP listener speaking just enough HTTP) and a real SMTP server
//! (Debian's python3-aiosmtpd). Loopback targets are allowed by the instance setting,
//! turned on through the API like an owner would.

mod common;

use common::api::Api;
use common::{quick_worker, TestServer};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One request the receiver got: lowercased headers and the raw body.
struct Heard {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Heard {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on 127.0.0.1: answers every request 200 and hands it over.
async fn receiver() -> (u16, mpsc::UnboundedReceiver<Heard>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                    .collect();
                let body = buf[head_end..].to_vec();
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tx.send(Heard { headers, body });
            });
        }
    });
    (port, rx)
}

/// The receiver's side of the scheme the README documents.
fn signature_of(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn call(
    s: &TestServer,
    c: &reqwest::Client,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = c.request(method.parse().unwrap(), s.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn allow_private(s: &TestServer, c: &reqwest::Client, allow: bool) {
    let (status, body) = call(
        s,
        c,
        "PUT",
        "/api/v1/instance/settings",
        Some(json!({"allow_private_targets": allow})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn create_channel(s: &TestServer, c: &reqwest::Client, channel: Value) -> String {
    let (status, body) = call(
        s,
        c,
        "POST",
        "/api/v1/notifications/channels",
        Some(channel),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// The channel's delivery log once `pred` holds for its newest row (at most `secs`).
async fn until_delivery(
    s: &TestServer,
    c: &reqwest::Client,
    channel: &str,
    secs: u64,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let path = format!("/api/v1/notifications/channels/{channel}/deliveries");
        let (status, log) = call(s, c, "GET", &path, None).await;
        assert_eq!(status, 200, "{log}");
        if log.get(0).is_some_and(&pred) {
            return log[0].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "waited {secs} s for the delivery; the log is {log:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[sqlx::test(migrations = false)]
async fn a_failed_deployment_reaches_a_webhook_signed(pool: PgPool) {
    let settings = server::worker::WorkerSettings {
        deploy_timeout: Duration::from_secs(6),
        ..quick_worker()
    };
    let api = Api::start(pool, settings).await;
    let (s, c) = (&api.server, &api.client);
    allow_private(s, c, true).await;
    let (port, mut heard) = receiver().await;
    let secret = "a-signing-secret-of-some-length";
    let channel = create_channel(
        s,
        c,
        json!({"name": "ops hook", "kind": "webhook", "url": format!("http://127.0.0.1:{port}/hook"),
               "secret": secret, "events": ["deployment.failed", "deployment.rolled_back"]}),
    )
    .await;
    // The secret is never answered.
    let (_, shown) = call(
        s,
        c,
        "GET",
        &format!("/api/v1/notifications/channels/{channel}"),
        None,
    )
    .await;
    assert_eq!(shown["has_secret"], true, "{shown}");
    assert!(!shown.to_string().contains(secret), "{shown}");

    // A first deployment whose health check never passes fails.
    let mut spec = api.spec("unhealthy");
    spec["health_check"]["probe"]["path"] = json!("/missing");
    let id = api.create(spec).await;
    api.until(&id, 60, "the failed deployment", |v| {
        v["latest_deployment"]["state"] == "failed"
    })
    .await;

    let got = tokio::time::timeout(Duration::from_secs(30), heard.recv())
        .await
        .expect("the receiver heard nothing within 30 s")
        .unwrap();
    let timestamp = got.header("x-berth-timestamp").expect("a timestamp header");
    assert_eq!(
        got.header("x-berth-signature"),
        Some(signature_of(secret, timestamp, &got.body).as_str()),
        "the signature verifies"
    );
    assert_ne!(
        got.header("x-berth-signature"),
        Some(signature_of("another secret", timestamp, &got.body).as_str())
    );
    let event: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(event["event"], "deployment.failed", "{event}");
    assert_eq!(event["service"], "unhealthy", "{event}");
    assert_eq!(event["service_id"], id, "{event}");
    assert_eq!(event["deployment"], 1, "{event}");
    assert!(
        event["message"].as_str().unwrap().contains("GET /missing"),
        "{event}"
    );

    let row = until_delivery(s, c, &channel, 10, |d| d["status"] == "delivered").await;
    assert_eq!(row["event"], "deployment.failed");
    assert_eq!(row["attempts"], 1);
}

#[sqlx::test(migrations = false)]
async fn internal_targets_are_refused_at_save_and_at_send(pool: PgPool) {
    let s = TestServer::start_with_worker(pool, quick_worker()).await;
    let c = s.owner().await;
    let (port, mut heard) = receiver().await;
    let hook = |url: String| {
        json!({"name": "internal", "kind": "webhook", "url": url,
               "secret": "0123456789abcdef", "events": ["deployment.failed"]})
    };
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.0.0.1/hook".to_owned(),
        format!("http://localhost:{port}/hook"),
        "http://berth.localhost/hook".to_owned(),
    ] {
        let (status, body) = call(
            &s,
            &c,
            "POST",
            "/api/v1/notifications/channels",
            Some(hook(url.clone())),
        )
        .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["fields"][0]["field"], "url", "{url}: {body}");
    }
    let (status, body) = call(
        &s,
        &c,
        "POST",
        "/api/v1/notifications/channels",
        Some(
            json!({"name": "mail", "kind": "email", "smtp": {"host": "127.0.0.1", "port": 25,
            "security": "plain", "from": "berth@example.com", "to": ["ops@example.com"]}}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "smtp.host", "{body}");
    assert_eq!(
        s.count("notification_channels").await,
        0,
        "nothing was saved"
    );

    // Saved while the owner allowed private targets, then the owner turns it off: the
    // sender checks again and refuses, for a literal and for a name.
    allow_private(&s, &c, true).await;
    let by_ip = create_channel(&s, &c, hook(format!("http://127.0.0.1:{port}/hook"))).await;
    let mut by_name = hook(format!("http://localhost:{port}/hook"));
    by_name["name"] = json!("by name");
    let by_name = create_channel(&s, &c, by_name).await;
    allow_private(&s, &c, false).await;
    for channel in [&by_ip, &by_name] {
        let (status, body) = call(
            &s,
            &c,
            "POST",
            &format!("/api/v1/notifications/channels/{channel}/test"),
            None,
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let row = until_delivery(&s, &c, channel, 30, |d| d["status"] != "pending").await;
        assert_eq!(row["status"], "failed", "{row}");
        let error = row["last_error"].as_str().unwrap();
        assert!(error.starts_with("refused: "), "{error}");
        assert!(error.contains("loopback"), "{error}");
        assert_eq!(row["attempts"], 1, "a refusal is not retried: {row}");
    }
    assert!(heard.try_recv().is_err(), "the receiver heard nothing");
}

/// A real SMTP server on loopback (aiosmtpd's Debugging handler prints what it gets).
struct Smtpd {
    child: std::process::Child,
    out: tempfile::NamedTempFile,
    port: u16,
}

impl Smtpd {
    async fn start() -> Smtpd {
        let port = common::berth_process::free_port();
        let out = tempfile::NamedTempFile::new().unwrap();
        // Debian's python (the package's), not another one first on PATH.
        let python = if std::path::Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let child = std::process::Command::new(python)
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(out.reopen().unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (Debian package python3-aiosmtpd)");
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Smtpd { child, out, port }
    }

    fn printed(&self) -> String {
        std::fs::read_to_string(self.out.path()).unwrap_or_default()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[sqlx::test(migrations = false)]
async fn an_email_reaches_a_real_smtp_server(pool: PgPool) {
    let s = TestServer::start_with_worker(pool, quick_worker()).await;
    let c = s.owner().await;
    let smtpd = Smtpd::start().await;
    allow_private(&s, &c, true).await;
    let channel = create_channel(
        &s,
        &c,
        json!({"name": "mail", "kind": "email", "events": ["deployment.failed"],
               "smtp": {"host": "127.0.0.1", "port": smtpd.port, "security": "plain",
                        "from": "berth@example.com", "to": ["ops@example.com, oncall@example.com"]}}),
    )
    .await;
    let (status, body) = call(
        &s,
        &c,
        "POST",
        &format!("/api/v1/notifications/channels/{channel}/test"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let row = until_delivery(&s, &c, &channel, 30, |d| d["status"] != "pending").await;
    assert_eq!(row["status"], "delivered", "{row}");
    let printed = smtpd.printed();
    assert!(printed.contains("Subject: [Berth] Test"), "{printed}");
    assert!(
        printed.contains("ops@example.com") && printed.contains("oncall@example.com"),
        "{printed}"
    );
    assert!(
        printed.contains("Test message from Berth to the channel mail."),
        "{printed}"
    );

    // The page shows the channel and its log; its form works without JavaScript.
    let page = s.page(&c, "/notifications").await;
    assert!(page.contains("data-name=\"mail\""), "{page}");
    assert!(page.contains("data-status=\"delivered\""), "{page}");
    let r = c
        .post(s.url("/api/save_channel"))
        .form(&[
            ("form[name]", "chat"),
            ("form[kind]", "discord"),
            ("form[url]", "https://203.0.113.7/hook"),
            ("form[event_build_failed]", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let (_, list) = call(&s, &c, "GET", "/api/v1/notifications/channels", None).await;
    let chat = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "chat")
        .expect("saved by the form");
    assert_eq!(chat["kind"], "discord");
    assert_eq!(chat["events"], json!(["build.failed"]));
}

#[sqlx::test(migrations = false)]
async fn a_failing_channel_is_retried_then_failed_without_holding_the_deploy(pool: PgPool) {
    let mut settings = quick_worker();
    settings.notify.retry_delays = vec![Duration::from_secs(1), Duration::from_secs(2)];
    let api = Api::start(pool, settings).await;
    let (s, c) = (&api.server, &api.client);
    allow_private(s, c, true).await;
    // A port nobody listens on: every attempt is refused by the kernel.
    let closed = common::berth_process::free_port();
    let channel = create_channel(
        s,
        c,
        json!({"name": "down", "kind": "slack", "url": format!("http://127.0.0.1:{closed}/"),
               "events": ["deployment.succeeded"]}),
    )
    .await;
    let id = api.create(api.spec("steady")).await;
    api.running(&id, 1).await;
    let view = api
        .until(&id, 30, "the live deployment", |v| {
            v["live_deployment"] == 1
        })
        .await;
    assert_eq!(view["latest_deployment"]["state"], "succeeded");

    let row = until_delivery(s, c, &channel, 60, |d| d["status"] != "pending").await;
    assert_eq!(row["status"], "failed", "{row}");
    assert_eq!(row["attempts"], 3, "one attempt and two retries: {row}");
    let error = row["last_error"].as_str().unwrap();
    assert!(error.contains(&format!("127.0.0.1:{closed}")), "{error}");
    // The deployment ended when the delivery was queued (one transaction); the delivery's
    // retries came after it, 1 s and 2 s apart at least.
    let (deploy_end, queued, given_up): (
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
    ) = sqlx::query_as(
        "SELECT d.finished_at, n.created_at, n.finished_at FROM deployments d, notification_deliveries n
          WHERE d.service_id = $1::uuid AND d.number = 1 AND n.channel_id = $2::uuid",
    )
    .bind(&id)
    .bind(&channel)
    .fetch_one(&s.pool)
    .await
    .unwrap();
    assert!(deploy_end <= queued, "{deploy_end} > {queued}");
    assert!(
        (given_up - queued).num_milliseconds() >= 3000,
        "back-off of 1 s then 2 s: {queued} → {given_up}"
    );
}
