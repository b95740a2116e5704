//! The first run, hydration, sign-out, a wrong password and sign-in, then on to the
//! service scenarios; and the same forms with JavaScript off.

use crate::fixtures::{GitRepo, TickerImage};
use crate::live::live_service;
use crate::page::{fill, path_of, shot, sign_in, sign_out, text_of, wait_for, wait_hydrated};
use crate::services::{define_a_service, git_service};
use crate::{EMAIL, NAME, PASSWORD, TEAM};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// From the first-run page (the only one before an owner exists) through sign-out, a
/// wrong password and sign-in, then the service scenarios in the same browser.
pub async fn first_run_sign_out_and_in(
    c: &Client,
    base: &str,
    image: &TickerImage,
    repo: &GitRepo,
) -> anyhow::Result<()> {
    // Before any user exists, every address leads to the first-run page.
    c.goto(&format!("{base}/services")).await?;
    ensure!(
        path_of(c).await? == "/setup",
        "expected /setup, got {}",
        path_of(c).await?
    );
    wait_hydrated(c).await?;
    shot(c, "01-first-run").await?;

    // Works only once hydrated: the show/hide toggle and the live length hint.
    fill(c, "#password", "short").await?;
    let hint = text_of(c, "#password-hint").await?;
    ensure!(hint.contains("5 more needed"), "live hint: {hint}");
    c.find(Locator::Css(".toggle-password"))
        .await?
        .click()
        .await?;
    let kind = c
        .find(Locator::Css("#password"))
        .await?
        .attr("type")
        .await?;
    ensure!(
        kind.as_deref() == Some("text"),
        "show password: input type is {kind:?}"
    );
    fill(c, "#password", PASSWORD).await?;
    ensure!(text_of(c, "#password-hint").await?.contains("long enough"));
    shot(c, "02-first-run-filled").await?;

    fill(c, "#name", NAME).await?;
    fill(c, "#email", EMAIL).await?;
    fill(c, "#team_name", TEAM).await?;
    c.find(Locator::Css("#create-owner")).await?.click().await?;
    wait_for(c, "#current-user").await?;
    ensure!(
        path_of(c).await? == "/",
        "after first run: {}",
        path_of(c).await?
    );
    let who = text_of(c, "#current-user").await?;
    ensure!(
        who.contains(NAME) && who.to_lowercase().contains("owner"),
        "top bar shows {who:?}"
    );
    ensure!(text_of(c, ".team").await? == TEAM);
    wait_hydrated(c).await?;
    let docker = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#docker-status[data-reachable=true]"))
        .await
        .context("the dashboard should show the Docker engine as reachable")?;
    ensure!(
        docker.text().await?.contains("API 1."),
        "engine line: {}",
        docker.text().await?
    );
    c.find(Locator::Css("#check-status")).await?.click().await?;
    shot(c, "03-overview").await?;

    // Client-side navigation (hydrated router) to a placeholder page.
    c.find(Locator::LinkText("Services")).await?.click().await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//h1[text()='Services']"))
        .await?;
    ensure!(path_of(c).await? == "/services");
    shot(c, "04-services").await?;

    // The first-run page is gone for good.
    c.goto(&format!("{base}/setup")).await?;
    ensure!(
        path_of(c).await? == "/",
        "setup after first run: {}",
        path_of(c).await?
    );

    sign_out(c).await?;
    ensure!(path_of(c).await? == "/login?notice=signed_out");
    shot(c, "05-signed-out").await?;
    c.goto(&format!("{base}/")).await?;
    ensure!(
        path_of(c).await? == "/login",
        "signed-out visit to /: {}",
        path_of(c).await?
    );

    // Wrong password: a clear message, the email kept.
    wait_hydrated(c).await?;
    sign_in(c, "not the password").await?;
    let banner = text_of(c, ".banner.error").await?;
    ensure!(
        banner == "Wrong email or password.",
        "wrong password banner: {banner:?}"
    );
    // The answer is a new page: read the field once it has hydrated (under load the
    // value was read while the page was still being taken over by the bundle).
    wait_hydrated(c).await?;
    let mut kept = None;
    for _ in 0..50 {
        kept = c.find(Locator::Css("#email")).await?.prop("value").await?;
        if kept.as_deref() == Some(EMAIL) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(kept.as_deref() == Some(EMAIL), "email kept: {kept:?}");
    shot(c, "06-wrong-password").await?;

    sign_in(c, PASSWORD).await?;
    wait_for(c, "#current-user").await?;
    ensure!(path_of(c).await? == "/");
    shot(c, "07-signed-in").await?;
    define_a_service(c).await?;
    live_service(c, image).await?;
    git_service(c, repo).await
}

/// The first run without the detours: the owner and team created from the setup page,
/// signed in on the overview, hydrated. For scenarios that start from a fresh berth.
pub async fn owner_signed_in(c: &Client, base: &str) -> anyhow::Result<()> {
    c.goto(&format!("{base}/setup")).await?;
    wait_hydrated(c).await?;
    fill(c, "#name", NAME).await?;
    fill(c, "#email", EMAIL).await?;
    fill(c, "#password", PASSWORD).await?;
    fill(c, "#team_name", TEAM).await?;
    c.find(Locator::Css("#create-owner")).await?.click().await?;
    wait_for(c, "#current-user").await?;
    ensure!(
        path_of(c).await? == "/",
        "after first run: {}",
        path_of(c).await?
    );
    wait_hydrated(c).await
}

/// With JavaScript off the forms still post and redirect.
pub async fn without_javascript(c: &Client, base: &str) -> anyhow::Result<()> {
    c.goto(&format!("{base}/login")).await?;
    sign_in(c, PASSWORD).await?;
    wait_for(c, "#current-user").await?;
    ensure!(path_of(c).await? == "/");
    let hydrated = c.find(Locator::Css("body[data-hydrated]")).await.is_ok();
    ensure!(!hydrated, "JavaScript was meant to be off");
    shot(c, "08-no-javascript-dashboard").await?;
    sign_out(c).await
}
