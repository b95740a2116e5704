//! Scheduled jobs on a service page: define one, see its next five runs with the time
//! zone named, press "Run now", and read the run's output; edit the job (new schedule and
//! command) and watch the next run's output appear line by line while it runs — without
//! reloading the page.

use crate::fixtures::TickerImage;
use crate::page::{fill, scroll_to, shot, text_of, wait_for, wait_hydrated};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::time::Duration;

pub async fn scheduled_jobs(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, &format!("tr[data-service='{}'] a", image.service))
        .await?
        .click()
        .await?;
    ensure!(text_of(c, "#service-name").await? == image.service);
    wait_for(c, "#job-form").await?;
    wait_hydrated(c).await?;
    scroll_to(c, "jobs").await?;
    fill(c, "#job-name", "hello").await?;
    fill(c, "#job-schedule", "*/5 * * * *").await?;
    // One argument per line: the ticker's busybox, then its applet and arguments.
    fill(c, "#job-command", "/bin/busybox\necho\nhello from a job").await?;
    fill(c, "#job-timeout", "60").await?;
    c.find(Locator::Css("#job-save")).await?.click().await?;

    let next = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#next-runs-hello"))
        .await
        .context("the job's next runs")?;
    let runs = next.find_all(Locator::Css("li")).await?;
    ensure!(runs.len() == 5, "five next runs, got {}", runs.len());
    let zone = text_of(c, "#jobs-time-zone").await?;
    ensure!(zone == "UTC", "the time zone is named: {zone:?}");
    let first = runs[0].text().await?;
    ensure!(
        first.ends_with("+00:00"),
        "a run time with the zone's offset: {first}"
    );
    shot(c, "30-job-defined").await?;

    c.find(Locator::Css("#run-now-hello"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#run-output[data-state=succeeded]"))
        .await
        .context("the run succeeded on the page")?;
    let output = text_of(c, "#run-output-lines").await?;
    ensure!(
        output.contains("hello from a job"),
        "the run's output: {output:?}"
    );
    // The history is re-read on the `jobs` announcement, which may come after the output
    // stream's end: wait for it as a person would.
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#job-runs tr[data-state=succeeded]"))
        .await
        .context("the run is in the history")?;
    shot(c, "31-job-run-output").await?;
    edit_and_watch(c, image).await
}

/// Scrolls `css` to the middle of the window (out from under the sticky top bar), clicks it.
async fn click_centered(c: &Client, css: &str) -> anyhow::Result<()> {
    let el = wait_for(c, css).await?;
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
        vec![serde_json::json!(css)],
    )
    .await?;
    el.click().await?;
    Ok(())
}

async fn edit_and_watch(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    // Back to the service the way a person goes: Services, then the service.
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, &format!("tr[data-service='{}'] a", image.service))
        .await?
        .click()
        .await?;
    wait_for(c, "#edit-job-hello").await?;
    wait_hydrated(c).await?;
    click_centered(c, "#edit-job-hello").await?;
    wait_for(c, "#job-edit-form").await?;
    let schedule = c.find(Locator::Css("#job-edit-schedule")).await?;
    ensure!(
        schedule.prop("value").await?.as_deref() == Some("*/5 * * * *"),
        "the edit form shows the job's schedule"
    );
    ensure!(
        c.find_all(Locator::Css("#job-edit-next-runs li"))
            .await?
            .len()
            == 5,
        "and its next runs"
    );
    fill(c, "#job-edit-schedule", "0 3 * * *").await?;
    fill(
        c,
        "#job-edit-command",
        "/bin/busybox\nsh\n-c\necho step one; sleep 4; echo step two",
    )
    .await?;
    shot(c, "32-job-edit").await?;
    click_centered(c, "#job-edit-save").await?;
    // Read again live: the list shows the new schedule's next runs, the form closes.
    let start = std::time::Instant::now();
    loop {
        let seen = c
            .execute(
                "const li = document.querySelector('#next-runs-hello li');
                 return [li ? li.textContent : '', !!document.getElementById('job-edit-form')];",
                vec![],
            )
            .await?;
        let first = seen[0].as_str().unwrap_or_default().to_owned();
        let form_open = seen[1].as_bool().unwrap_or(true);
        if first.contains("T03:00:00+00:00") && !form_open {
            break;
        }
        ensure!(
            start.elapsed() < Duration::from_secs(20),
            "the new schedule's next runs ({first}) and the form closed ({form_open})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The run's output grows while it runs: the first line shows before the run ends.
    click_centered(c, "#run-now-hello").await?;
    let start = std::time::Instant::now();
    loop {
        // Read both in one go: the panel may be re-rendered between two reads.
        let seen = c
            .execute(
                "const o = document.getElementById('run-output');
                 return o ? [o.dataset.state, o.querySelector('#run-output-lines').textContent] : null;",
                vec![],
            )
            .await?;
        let state = seen[0].as_str().unwrap_or_default().to_owned();
        let lines = seen[1].as_str().unwrap_or_default().to_owned();
        if lines.contains("step one") {
            ensure!(
                state == "running",
                "'step one' shows while the run still runs: {state:?} {lines:?}"
            );
            break;
        }
        ensure!(
            start.elapsed() < Duration::from_secs(60),
            "the edited job's first line: {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(c, "33-job-output-live").await?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#run-output[data-state=succeeded]"))
        .await
        .context("the edited job's run succeeded")?;
    let output = text_of(c, "#run-output-lines").await?;
    ensure!(
        output.contains("step one") && output.contains("step two"),
        "both lines, in order: {output:?}"
    );
    ensure!(
        output.find("step one") < output.find("step two"),
        "in order: {output:?}"
    );
    Ok(())
}
