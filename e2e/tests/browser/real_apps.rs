//! Real applications, typed and clicked: a PostgreSQL server with a named volume, and a
//! Flask app that answers only its own `Host` (as Django's ALLOWED_HOSTS does) and keeps
//! notes in that database. Both images come from Debian's packages
//! (server/tests/common/debian_images.rs), made before berth starts.

use crate::debian_images;
use crate::fixtures::docker;
use crate::page::{fill, shot, text_of, wait_for, wait_hydrated};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::io::{Read, Write};
use std::time::Duration;

/// The two images and the names the test gives its services, volume and domain.
pub struct RealApps {
    pub postgres: String,
    pub web: String,
    /// The database service; the web app reaches it by this name.
    pub db: String,
    pub notes: String,
    pub volume: String,
    pub domain: String,
    /// The host port the web app is published on, for the test's own requests.
    pub web_port: u16,
}

const PASSWORD: &str = "correct horse battery staple";

impl RealApps {
    /// Builds (or finds cached) the PostgreSQL and web images.
    pub fn build() -> anyhow::Result<RealApps> {
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
            % 1_000_000_000;
        Ok(RealApps {
            postgres: debian_images::postgres(),
            web: debian_images::web_app(),
            db: format!("db-{unique}"),
            notes: format!("notes-{unique}"),
            volume: format!("pgdata-{unique}"),
            domain: format!("notes-{unique}.example.test"),
            web_port: e2e::free_port(),
        })
    }
}

impl Drop for RealApps {
    /// Removes the services' containers and the volume (berth keeps volumes by design).
    fn drop(&mut self) {
        for service in [&self.db, &self.notes] {
            let filter = format!("name=berth-{service}-");
            if let Ok(ids) = docker(&["ps", "-aq", "--filter", &filter]) {
                for id in ids.lines() {
                    let _ = docker(&["rm", "-f", id]);
                }
            }
        }
        let filter = format!("name={}", self.volume);
        if let Ok(volumes) = docker(&["volume", "ls", "-q", "--filter", &filter]) {
            for volume in volumes.lines() {
                let _ = docker(&["volume", "rm", "-f", volume]);
            }
        }
    }
}

/// A database and a web app deployed from the form: the database rolls out stop-first
/// and keeps its rows across a redeploy; the web app's health check passes because
/// berth's probe sends the service's domain as `Host`.
pub async fn real_applications(c: &Client, apps: &RealApps) -> anyhow::Result<()> {
    // PostgreSQL with a named volume and its own readiness command.
    new_service(c).await?;
    fill(c, "input[name='form[name]']", &apps.db).await?;
    fill(c, "input[name='form[image]']", &apps.postgres).await?;
    fill(
        c,
        "textarea[name='form[secret_env]']",
        &format!("POSTGRES_PASSWORD={PASSWORD}"),
    )
    .await?;
    fill(
        c,
        "textarea[name='form[volumes]']",
        &format!("{}:{}", apps.volume, debian_images::POSTGRES_DATA),
    )
    .await?;
    c.find(Locator::Css("select[name='form[health_kind]']"))
        .await?
        .select_by_value("command")
        .await?;
    fill(
        c,
        "textarea[name='form[health_command]']",
        "/usr/lib/postgresql/15/bin/pg_isready\n-h\n127.0.0.1\n-U\npostgres",
    )
    .await?;
    fill(c, "input[name='form[health_interval_s]']", "2").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == apps.db);
    deployment_succeeded(c, 1, "the database's first deployment").await?;
    shot(c, "30-postgres-live").await?;

    // The web app: routed domain, Host-checking, its database URL a secret.
    new_service(c).await?;
    fill(c, "input[name='form[name]']", &apps.notes).await?;
    fill(c, "input[name='form[image]']", &apps.web).await?;
    fill(
        c,
        "textarea[name='form[env]']",
        &format!("ALLOWED_HOSTS={}\nAPP_VERSION=1", apps.domain),
    )
    .await?;
    fill(
        c,
        "textarea[name='form[secret_env]']",
        &format!(
            "DATABASE_URL=postgresql://postgres:{}@{}:5432/postgres",
            PASSWORD.replace(' ', "%20"),
            apps.db
        ),
    )
    .await?;
    fill(
        c,
        "textarea[name='form[ports]']",
        &format!("{}:{}", apps.web_port, debian_images::WEB_PORT),
    )
    .await?;
    fill(c, "textarea[name='form[domains]']", &apps.domain).await?;
    fill(
        c,
        "input[name='form[http_port]']",
        &debian_images::WEB_PORT.to_string(),
    )
    .await?;
    c.find(Locator::Css("select[name='form[health_kind]']"))
        .await?
        .select_by_value("http")
        .await?;
    fill(c, "input[name='form[health_path]']", "/").await?;
    fill(
        c,
        "input[name='form[health_port]']",
        &debian_images::WEB_PORT.to_string(),
    )
    .await?;
    fill(c, "input[name='form[health_interval_s]']", "2").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == apps.notes);
    deployment_succeeded(c, 1, "the Host-checking web app's first deployment").await?;
    shot(c, "31-flask-live").await?;

    // What a person checks with curl: the app answers its domain only, and stores notes.
    let wrong = http(apps.web_port, "localhost", "GET", "/", "")?;
    ensure!(
        wrong.starts_with("HTTP/1.") && wrong[8..].starts_with(" 400"),
        "other Host: {wrong}"
    );
    let added = http(apps.web_port, &apps.domain, "POST", "/notes", "note=kept")?;
    ensure!(added.ends_with("kept\n"), "note added: {added}");

    // Redeploy the database: stop-first (its volume is writable), and the note survives.
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, &format!("tr[data-service='{}'] a", apps.db))
        .await?
        .click()
        .await?;
    ensure!(text_of(c, "#service-name").await? == apps.db);
    wait_hydrated(c).await?;
    c.find(Locator::Css("#redeploy-service"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#deployments tr[data-number='2']"))
        .await
        .context("Redeploy should queue deployment #2")?;
    deployment_succeeded(c, 2, "the database's redeploy").await?;
    let log = text_of(c, "#deployment-log").await?;
    ensure!(log.contains("stop-first"), "the log says why: {log}");
    shot(c, "32-postgres-redeployed").await?;
    // The web app's connection to the database was cut by the restart: it reconnects.
    let mut listed = String::new();
    for _ in 0..30 {
        listed = http(apps.web_port, &apps.domain, "GET", "/notes", "").unwrap_or_default();
        if listed.ends_with("kept\n") {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    ensure!(listed.ends_with("kept\n"), "the row survived: {listed}");
    Ok(())
}

async fn new_service(c: &Client) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?.click().await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    Ok(())
}

async fn deployment_succeeded(c: &Client, number: u32, what: &str) -> anyhow::Result<()> {
    let row = format!("#deployments tr[data-number='{number}']");
    let found = c
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css(&format!("{row}[data-state=succeeded]")))
        .await;
    if found.is_err() {
        let seen = text_of(c, &row).await.unwrap_or_default();
        anyhow::bail!("{what} did not succeed: {seen}");
    }
    Ok(())
}

/// One HTTP/1.1 request to 127.0.0.1:`port` with `Host: host`; the whole answer.
pub fn http(port: u16, host: &str, method: &str, path: &str, form: &str) -> anyhow::Result<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .context("reading the answer")?;
    Ok(answer)
}
