//! Projects in the browser: open Projects from the top bar, create a project and see its
//! `production` tab, create a service in it, clone the environment and see the new tab
//! with the copied service.

use crate::fixtures::TickerImage;
use crate::page::{fill, scroll_to, shot, text_of, wait_for, wait_hydrated};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::time::Duration;

pub async fn projects(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    // The scenario before leaves its page scrolled: back to the top, where a person sees
    // the top bar's links (a table's header would otherwise take the click).
    c.execute("window.scrollTo(0, 0);", vec![]).await?;
    c.find(Locator::LinkText("Projects")).await?.click().await?;
    wait_for(c, "#create-project").await?;
    wait_hydrated(c).await?;
    scroll_to(c, "new-project").await?;
    fill(c, "#new-project input[name=name]", "shop").await?;
    fill(c, "#new-project input[name=description]", "the e2e shop").await?;
    c.find(Locator::Css("#create-project"))
        .await?
        .click()
        .await?;
    ensure!(text_of(c, "#project-name").await? == "shop");
    let tab = text_of(c, "#environments a[data-environment=production]").await?;
    ensure!(tab.starts_with("production"), "the first tab: {tab}");
    wait_for(c, "#no-services").await?;
    shot(c, "40-project-new").await?;

    // "New service" opens the form for this environment.
    c.find(Locator::Css("#new-service-here"))
        .await?
        .click()
        .await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    fill(c, "input[name='form[name]']", "shop-web").await?;
    fill(c, "input[name='form[image]']", &image.tag).await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == "shop-web");
    let place = text_of(c, "#service-place").await?;
    ensure!(place == "shop / production", "the service's place: {place}");

    // Back to the project through the service's place, then clone production.
    c.find(Locator::Css("#service-place a"))
        .await?
        .click()
        .await?;
    wait_for(c, "#environment tr[data-service=shop-web]").await?;
    wait_hydrated(c).await?;
    scroll_to(c, "new-environment").await?;
    fill(c, "#new-environment input[name=name]", "staging").await?;
    let select = c
        .find(Locator::Css("#new-environment select[name=clone_from]"))
        .await?;
    select.select_by_label("a clone of production").await?;
    c.find(Locator::Css("#create-environment"))
        .await?
        .click()
        .await?;
    let report = text_of(c, "#clone-report").await?;
    ensure!(
        report.contains("staging") && report.contains("shop-web"),
        "{report}"
    );
    let staging = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(
            "#environments a[data-environment=staging][aria-current=page]",
        ))
        .await
        .context("the new tab, selected")?;
    ensure!(staging.text().await?.starts_with("staging"));
    wait_for(
        c,
        "#environment[data-environment=staging] tr[data-service=shop-web]",
    )
    .await?;
    shot(c, "41-project-cloned").await?;
    Ok(())
}
