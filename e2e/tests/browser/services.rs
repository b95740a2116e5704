//! Defining services in the form: inline errors, an image that cannot be pulled, and a
//! service built from git that is deployed again after a new commit.

use crate::fixtures::GitRepo;
use crate::page::{fill, path_of, scroll_to, shot, text_of, wait_for, wait_hydrated};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// The service form: inline errors for bad fields, then a service whose image cannot be
/// pulled (no registry here), whose page says so.
pub async fn define_a_service(c: &Client) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?.click().await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    fill(c, "input[name='form[name]']", "Bad Name").await?;
    fill(
        c,
        "input[name='form[image]']",
        "registry.invalid/berth/demo:1",
    )
    .await?;
    fill(c, "textarea[name='form[ports]']", "eighty").await?;
    fill(
        c,
        "textarea[name='form[domains]']",
        "https://demo.example.com",
    )
    .await?;
    fill(c, "input[name='form[http_port]']", "8080").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    let name_error = text_of(c, ".field-error[data-field=name]").await?;
    ensure!(name_error.contains("lowercase"), "name error: {name_error}");
    let ports_error = text_of(c, ".field-error[data-field=ports]").await?;
    ensure!(ports_error.contains("Line 1"), "ports error: {ports_error}");
    let domain_error = text_of(c, ".field-error[data-field=domains]").await?;
    ensure!(
        domain_error.contains("scheme"),
        "domain error: {domain_error}"
    );
    ensure!(path_of(c).await? == "/services/new", "stays on the form");
    shot(c, "09-service-form-errors").await?;

    fill(c, "input[name='form[name]']", "demo").await?;
    fill(c, "textarea[name='form[ports]']", "8080").await?;
    fill(c, "textarea[name='form[domains]']", "Demo.Example.com").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == "demo");
    // The domain is kept (lowercased); this berth has no edge proxy, and says so.
    let domains = text_of(c, "#domains").await?;
    ensure!(domains.contains("demo.example.com"), "{domains}");
    ensure!(domains.contains("not routed"), "{domains}");
    ensure!(path_of(c).await?.starts_with("/services/"));
    // The page refreshes itself: the failed pull appears without a reload.
    let failed = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#deployments tr[data-state=failed]"))
        .await
        .context("the deployment should fail: no registry is reachable")?;
    let row = failed.text().await?;
    ensure!(
        row.contains("could not pull image registry.invalid/berth/demo:1"),
        "{row}"
    );
    shot(c, "10-service-failed-pull").await?;
    Ok(())
}

/// A service built from git, created in the form: it builds and goes live by itself; a
/// webhook secret is generated and shown once; after a new commit, "Deploy now" builds and
/// rolls it out, and the history names both commits.
pub async fn git_service(c: &Client, repo: &GitRepo) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?.click().await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    fill(c, "input[name='form[name]']", &repo.service).await?;
    fill(c, "input[name='form[git_repo]']", &repo.url()).await?;
    fill(c, "input[name='form[git_branch]']", "main").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == repo.service);
    ensure!(text_of(c, "#git-repo").await? == repo.url());
    let live = c
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css(
            "#deployments tr[data-state=succeeded][data-number='1']",
        ))
        .await
        .context("the first build should go live")?;
    let row = live.text().await?;
    ensure!(
        row.contains("First page") && row.contains("Grace Hopper"),
        "{row}"
    );
    shot(c, "15-git-service-built").await?;

    scroll_to(c, "git-source").await?;
    c.find(Locator::Css("#rotate-webhook"))
        .await?
        .click()
        .await?;
    let secret = text_of(c, "#webhook-secret").await?;
    ensure!(
        secret.len() == 64 && secret.chars().all(|ch| ch.is_ascii_hexdigit()),
        "secret shown once: {secret:?}"
    );
    let urls = text_of(c, "#webhook-urls").await?;
    ensure!(
        urls.contains("/hooks/github/") && urls.contains("/hooks/gitea/"),
        "{urls}"
    );
    shot(c, "16-git-webhook-secret").await?;

    repo.commit("second page", "Second page")?;
    c.find(Locator::Css("#deploy-now")).await?.click().await?;
    let second = c
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css(
            "#deployments tr[data-state=succeeded][data-number='2']",
        ))
        .await
        .context("deploy now should build the new commit and roll it out")?;
    let row = second.text().await?;
    ensure!(
        row.contains("Second page") && row.contains("deploy now"),
        "{row}"
    );
    shot(c, "17-git-deploy-now").await?;
    Ok(())
}
