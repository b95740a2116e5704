//! A small application from a compose file, in the browser: a new environment, a
//! three-service file pasted in (`web` → `api` → `db` through `${{ … }}` references),
//! Preview lists what will be created, Create, the service map turns every box green by
//! itself, and a click on a box opens that service.

use crate::fixtures::TickerImage;
use crate::page::{path_of, scroll_to, shot, text_of, value_of, wait_for, wait_hydrated};
use anyhow::{bail, ensure, Context};
use fantoccini::{Client, Locator};
use std::time::{Duration, Instant};

const SERVICES: [&str; 3] = ["api", "db", "web"];

/// The file a person would paste: every service runs the ticker image.
fn compose_file(image: &str) -> String {
    format!(
        "services:
  web:
    image: {image}
    environment:
      API_URL: \"http://${{{{ api.HOST }}}}:8080\"
  api:
    image: {image}
    environment:
      DB_HOST: \"${{{{ db.HOST }}}}\"
  db:
    image: {image}
"
    )
}

pub async fn compose_to_map(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    new_empty_environment(c, "micro").await?;
    preview(c, &compose_file(&image.tag)).await?;
    draft_survives_a_reread(c, image).await?;
    create(c).await?;

    // The map shows every service by itself, then every box turns green (running).
    let running = "#service-map a.map-node.running";
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let boxes = c.find_all(Locator::Css(running)).await?.len();
        if boxes == SERVICES.len() {
            break;
        }
        if Instant::now() > deadline {
            let map = text_of(c, "#service-map").await.unwrap_or_default();
            bail!("{boxes} of 3 boxes turned running within 90 s; the map reads: {map}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for name in SERVICES {
        wait_for(
            c,
            &format!("{running}[data-service={name}][data-status=running]"),
        )
        .await?;
    }
    // The references are arrows: web → api → db.
    let edges = c
        .find_all(Locator::Css("#service-map path.map-edge.reference"))
        .await?
        .len();
    ensure!(edges == 2, "two reference arrows, found {edges}");
    let title = c
        .execute(
            "return document.querySelector('#service-map svg > title').textContent;",
            vec![],
        )
        .await?;
    let title = title.as_str().unwrap_or_default();
    ensure!(
        title == "Service map: 3 services, 2 connections",
        "the map's title: {title}"
    );
    centre(c, "#service-map").await?;
    shot(c, "43-service-map").await?;
    unchanged_map_is_left_alone(c, image).await?;

    // A click on a box opens its service.
    let node = "#service-map a.map-node[data-service=api]";
    let href = wait_for(c, node)
        .await?
        .attr("href")
        .await?
        .context("the box links to its service")?;
    ensure!(href.starts_with("/services/"), "the box links to {href}");
    click_when_still(c, node).await?;
    let name = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#service-name"))
        .await
        .context("the service page opens")?
        .text()
        .await?;
    ensure!(name == "api", "opened {name}");
    ensure!(path_of(c).await? == href, "at {}", path_of(c).await?);
    let place = text_of(c, "#service-place").await?;
    ensure!(place == "shop / micro", "the service's place: {place}");
    wait_hydrated(c).await?;
    shot(c, "44-service-from-map").await?;
    Ok(())
}

/// A change elsewhere in the team re-reads the page; this map did not change, so its
/// drawing is the same element as before (a mark set on it by script survives).
async fn unchanged_map_is_left_alone(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    c.execute(
        "document.querySelector('#service-map svg').berthMark = true;",
        vec![],
    )
    .await?;
    add_service_elsewhere(c, image, "extra").await?;
    let kept = c
        .execute(
            "return document.querySelector('#service-map svg').berthMark === true;",
            vec![],
        )
        .await?;
    ensure!(
        kept.as_bool() == Some(true),
        "the unchanged map was drawn again"
    );
    Ok(())
}

/// Creates a service named `name` in `production` through the API (as another member
/// would), then waits until this page re-read the project: the production tab counts one
/// more service.
async fn add_service_elsewhere(c: &Client, image: &TickerImage, name: &str) -> anyhow::Result<()> {
    let tab = "#environments a[data-environment=production]";
    let href = wait_for(c, tab)
        .await?
        .attr("href")
        .await?
        .context("the production tab links to it")?;
    let production = href
        .split_once("env=")
        .map(|(_, id)| id.to_owned())
        .context("the tab names its environment")?;
    let before = text_of(c, tab).await?;
    let count = |label: &str| -> Option<usize> {
        label
            .strip_prefix("production (")?
            .strip_suffix(')')?
            .parse()
            .ok()
    };
    let was = count(&before).with_context(|| format!("the production tab: {before}"))?;
    let status = c
        .execute_async(
            "const [env, image, name, done] = arguments;
             fetch('/api/v1/services', { method: 'POST', headers: { 'content-type': 'application/json' },
               body: JSON.stringify({ name, image, environment_id: env }) })
               .then(r => done(r.status), e => done(String(e)));",
            vec![
                serde_json::json!(production),
                serde_json::json!(image.tag),
                serde_json::json!(name),
            ],
        )
        .await?;
    ensure!(status == 201, "creating {name} in production: {status}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = text_of(c, tab).await?;
        if now != before {
            ensure!(count(&now) == Some(was + 1), "the production tab: {now}");
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the page did not re-read the project after a change: {now}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// New environment → empty: its tab opens, saying it has no services (no empty map).
async fn new_empty_environment(c: &Client, name: &str) -> anyhow::Result<()> {
    wait_hydrated(c).await?;
    scroll_to(c, "new-environment").await?;
    let input = wait_for(c, "#new-environment input[name=name]").await?;
    input.clear().await?;
    input.send_keys(name).await?;
    c.find(Locator::Css("#new-environment select[name=clone_from]"))
        .await?
        .select_by_label("empty")
        .await?;
    centre(c, "#create-environment").await?;
    c.find(Locator::Css("#create-environment"))
        .await?
        .click()
        .await?;
    wait_for(
        c,
        &format!("#environments a[data-environment={name}][aria-current=page]"),
    )
    .await?;
    let empty = text_of(
        c,
        &format!("#environment[data-environment={name}] #no-services"),
    )
    .await?;
    ensure!(
        empty.contains("No services"),
        "an empty environment says so: {empty}"
    );
    ensure!(
        c.find_all(Locator::Css("#service-map")).await?.is_empty(),
        "an empty environment shows no map"
    );
    wait_hydrated(c).await?;
    Ok(())
}

/// Pastes `yaml` into the text box and asks for a preview; it must list the three
/// services as created.
async fn preview(c: &Client, yaml: &str) -> anyhow::Result<()> {
    paste(c, yaml).await?;
    centre(c, "#compose-preview").await?;
    c.find(Locator::Css("#compose-preview"))
        .await?
        .click()
        .await?;
    let plan = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#compose-plan"))
        .await
        .context("the preview shows")?;
    let text = plan.text().await?;
    ensure!(text.contains("Preview"), "the preview's heading: {text}");
    for name in SERVICES {
        let line = text_of(c, &format!("#compose-plan li[data-service={name}]")).await?;
        ensure!(line == format!("{name}: created"), "preview line: {line}");
    }
    centre(c, "#compose-plan").await?;
    shot(c, "42-compose-preview").await?;
    ensure!(
        c.find_all(Locator::Css("#service-map")).await?.is_empty(),
        "a preview creates nothing"
    );
    Ok(())
}

/// A re-read of the page (a change elsewhere in the team) keeps the pasted file and its
/// preview: the page owns the draft, not the tab it renders again.
async fn draft_survives_a_reread(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    add_service_elsewhere(c, image, "side").await?;
    let kept = value_of(c, "#compose-yaml").await?;
    ensure!(
        kept.contains("services:"),
        "the pasted file was emptied by a re-read of the page: {kept:?}"
    );
    let plan = text_of(c, "#compose-plan").await?;
    ensure!(
        plan.contains("Preview"),
        "the preview after a re-read: {plan}"
    );
    Ok(())
}

/// Create: the services are created (the import's answer, or their boxes on the map).
async fn create(c: &Client) -> anyhow::Result<()> {
    centre(c, "#compose-create").await?;
    c.find(Locator::Css("#compose-create"))
        .await?
        .click()
        .await?;
    wait_for(c, "#service-map a.map-node[data-service=web]")
        .await
        .context("the map appears once the services are created")?;
    Ok(())
}

/// Puts `text` into the compose box as a paste does: the whole value, then one `input`.
async fn paste(c: &Client, text: &str) -> anyhow::Result<()> {
    wait_for(c, "#compose-yaml").await?;
    c.execute(
        "const box = document.getElementById('compose-yaml'); box.focus(); box.value = arguments[0]; \
         box.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![serde_json::json!(text)],
    )
    .await?;
    Ok(())
}

/// Scrolls the element at `css` to the middle of the window (clear of the sticky top bar).
async fn centre(c: &Client, css: &str) -> anyhow::Result<()> {
    wait_for(c, css).await?;
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });",
        vec![serde_json::json!(css)],
    )
    .await?;
    Ok(())
}

/// Clicks the element at `css`, found again if a live refresh replaced it meanwhile.
async fn click_when_still(c: &Client, css: &str) -> anyhow::Result<()> {
    let mut last = None;
    for _ in 0..5 {
        centre(c, css).await?;
        match c.find(Locator::Css(css)).await?.click().await {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Err(last
        .map(anyhow::Error::from)
        .unwrap_or_else(|| anyhow::anyhow!("no click")))
}
