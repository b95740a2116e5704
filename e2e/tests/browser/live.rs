//! A service watched live on its page: it goes live without a reload, a container killed
//! from outside shows within a second and then its repair, logs and metrics stream in.

use crate::fixtures::{docker, TickerImage};
use crate::page::{
    fill, mark_page, scroll_to, shot, still_marked, text_of, wait_for, wait_hydrated,
};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// A service created by typing and clicking goes live on its page without a reload; a
/// container killed from outside shows within a second, then its repair; the log view
/// shows lines printed after the page opened.
pub async fn live_service(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?.click().await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    fill(c, "input[name='form[name]']", &image.service).await?;
    fill(c, "input[name='form[image]']", &image.tag).await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == image.service);
    wait_hydrated(c).await?;
    mark_page(c).await?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(".page-header .badge[data-health=running]"))
        .await
        .context("the badge should turn to running by itself")?;
    wait_for(c, "#deployment-steps li[data-step=live][data-state=done]").await?;
    shot(c, "11-service-running-live").await?;

    // Logs: a tick printed after the page opened arrives.
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#container-log .log-line"))
        .await
        .context("the log view shows the last lines")?;
    let seen = log_lines(c).await?.last().map_or(0, |l| tick_number(l));
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&format!(
            "//div[contains(@class,'log-line')][substring-after(., 'tick ') = '{}']",
            seen + 2
        )))
        .await
        .context("a line printed after the page opened shows up")?;
    scroll_to(c, "logs").await?;
    shot(c, "12-service-logs-live").await?;

    // Kill the container from outside: the page shows it within a second, no reload.
    let ids = image.containers()?;
    ensure!(ids.len() == 1, "one container: {ids:?}");
    wait_for(c, "#containers tr[data-replica='0']").await?;
    let before = replica_row(c).await?;
    ensure!(before.0 == "running", "before the kill: {before:?}");
    let stops_before = stop_entries(c).await?;
    docker(&["kill", &ids[0]])?;
    let killed = std::time::Instant::now();
    let mut shown = false;
    while killed.elapsed() < Duration::from_millis(1000) {
        // Any difference: not running, restarted, or another container; or, as Berth may
        // already have started the same container again (the row as before), the stop
        // on the timeline, which stays.
        if replica_row(c).await? != before || stop_entries(c).await? > stops_before {
            shown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = killed.elapsed();
    shot(c, "13-service-container-killed").await?;
    ensure!(shown, "the kill did not show within 1 s");
    eprintln!("kill shown on the page after {took:?}");
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(
            "#containers tr[data-replica='0'][data-state=running]",
        ))
        .await
        .context("the container runs again")?;
    wait_for(c, ".page-header .badge[data-health=running]").await?;
    wait_for(
        c,
        "#timeline li[data-kind=crash], #timeline li[data-kind=restart]",
    )
    .await?;
    ensure!(still_marked(c).await?, "the page was reloaded");
    shot(c, "14-service-repaired").await?;
    // The restarted container's output joins the log after what was already shown, once.
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "(//div[contains(@class,'log-line')][substring-after(., 'tick ') = '2'])[2]",
        ))
        .await
        .context("the restarted container's lines join the log")?;
    let lines = log_lines(c).await?;
    ensure!(
        lines.windows(2).all(|w| w[0] != w[1]),
        "no line shown twice: {lines:?}"
    );
    scroll_to(c, "timeline").await?;
    shot(c, "15-service-timeline").await?;
    // CPU and memory charts fill in as samples arrive.
    let memory = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#mem-now"))
        .await
        .context("memory samples appear on the page")?
        .text()
        .await?;
    ensure!(memory.ends_with("MiB"), "memory figure: {memory}");
    wait_for(c, "#metrics svg.chart polyline").await?;
    scroll_to(c, "metrics").await?;
    shot(c, "16-service-metrics").await?;
    Ok(())
}

/// The log view's lines, read in one go (the list re-renders as lines arrive, so element
/// handles would go stale).
async fn log_lines(c: &Client) -> anyhow::Result<Vec<String>> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('#container-log .log-line')).map(e => e.textContent);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Replica 0's row as the page shows it now: (state, restarts, container id).
/// The timeline's entries telling that a replica stopped or was restarted.
async fn stop_entries(c: &Client) -> anyhow::Result<usize> {
    Ok(c.find_all(Locator::Css(
        "#timeline li[data-kind=crash], #timeline li[data-kind=restart]",
    ))
    .await?
    .len())
}

async fn replica_row(c: &Client) -> anyhow::Result<(String, String, String)> {
    let v = c
        .execute(
            "const r = document.querySelector(\"#containers tr[data-replica='0']\"); \
             return r ? [r.dataset.state, r.dataset.restarts, r.dataset.id] : ['', '', ''];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

fn tick_number(line: &str) -> u64 {
    line.rsplit(' ')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
