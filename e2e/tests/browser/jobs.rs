//! Scheduled jobs on a service page: define one, see its next five runs with the time
//! zone named, press "Run now", and read the run's output — without reloading the page.

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
    ensure!(
        c.find(Locator::Css("#job-runs tr[data-state=succeeded]"))
            .await
            .is_ok(),
        "the run is in the history"
    );
    shot(c, "31-job-run-output").await?;
    Ok(())
}
