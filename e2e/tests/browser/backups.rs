//! Backups from the service page: the PostgreSQL service of [`RealApps`] backed up now
//! (stopped while archived), the backup listed with its checksum, then restored behind
//! its confirmation box; the web app's note is still there afterwards.

use crate::page::{scroll_to, shot, text_of, wait_for, wait_hydrated};
use crate::real_apps::{http, RealApps};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::time::Duration;

pub async fn backup_and_restore(c: &Client, apps: &RealApps) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?;
    c.find(Locator::LinkText(&apps.db)).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == apps.db);
    wait_hydrated(c).await?;
    wait_for(c, "#backup-now").await?;
    scroll_to(c, "backups").await?;
    let stop = c
        .find(Locator::Css("#backup-now-form input[name='stop_service']"))
        .await?;
    if stop.prop("checked").await?.as_deref() != Some("true") {
        stop.click().await?;
    }
    c.find(Locator::Css("#backup-now")).await?.click().await?;
    c.wait()
        .at_most(Duration::from_secs(240))
        .for_element(Locator::XPath(
            "//table[@id='backup-list']//td[contains(@class,'backup-state') and normalize-space(text())='succeeded']",
        ))
        .await
        .context("the backup is listed as succeeded")?;
    let sha = text_of(c, "#backup-list tr.backup code").await?;
    ensure!(sha.len() == 12, "a checksum is shown: {sha:?}");
    shot(c, "33-postgres-backed-up").await?;

    c.find(Locator::Css("#backup-list tr.backup .restore-confirm"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css("#backup-list tr.backup .restore-backup"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(Duration::from_secs(240))
        .for_element(Locator::XPath(
            "//span[contains(@class,'restore-state') and (text()='restore succeeded' or text()='restore failed')]",
        ))
        .await
        .context("the restore finished")?;
    let state = text_of(c, "#backup-list tr.backup .restore-state").await?;
    ensure!(state == "restore succeeded", "restore: {state}");
    shot(c, "34-postgres-restored").await?;

    // The database is back and holds the web app's note.
    let mut listed = String::new();
    for _ in 0..60 {
        listed = http(apps.web_port, &apps.domain, "GET", "/notes", "").unwrap_or_default();
        if listed.ends_with("kept\n") {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    ensure!(listed.ends_with("kept\n"), "the row is back: {listed}");
    Ok(())
}
