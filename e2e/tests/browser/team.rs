//! The team console end to end: an invitation, a developer who joins in their own browser
//! and redeploys, and the owner's audit log naming them.

use crate::fixtures::TickerImage;
use crate::page::{fill, path_of, shot, text_of, wait_for, wait_hydrated};
use crate::{in_browser, TEAM};
use anyhow::{ensure, Context};
use e2e::Chromedriver;
use fantoccini::{Client, Locator};
use std::time::Duration;

const DEV_NAME: &str = "Ada Lovelace";
const DEV_EMAIL: &str = "dev@example.com";
const DEV_PASSWORD: &str = "analytical engine 1843";

/// The team console end to end: the owner invites a developer; the developer, in a second
/// browser of their own, accepts the link, lands signed in and redeploys a service through
/// the UI; the owner's audit log names both steps with the developer as actor.
pub async fn team_flow(
    owner: &Client,
    driver: &Chromedriver,
    base: &str,
    image: &TickerImage,
) -> anyhow::Result<()> {
    owner.goto(&format!("{base}/team")).await?;
    wait_hydrated(owner).await?;
    // The section's own mark: set once its form is interactive.
    wait_for(owner, "#invitations[data-ready=true] #invite-form").await?;
    fill(owner, "#invite-email", DEV_EMAIL).await?;
    owner
        .find(Locator::Css("#invite-role option[value=developer]"))
        .await?
        .click()
        .await?;
    owner
        .find(Locator::Css("#invite-submit"))
        .await?
        .click()
        .await?;
    // The page reads its lists again once the invitation is made (and draws its sections
    // anew): wait for that before reading the link shown once.
    wait_for(owner, &format!("tr.invitation[data-email='{DEV_EMAIL}']")).await?;
    let url = text_of(owner, "#new-invitation-url").await?;
    ensure!(
        url.starts_with(base) && url.contains("/invite/"),
        "invitation link: {url:?}"
    );
    shot(owner, "18-team-invitation-link").await?;

    in_browser(driver, true, |dev| async {
        let r = developer_joins_and_redeploys(&dev, base, &url, image).await;
        if r.is_err() {
            let _ = shot(&dev, "failure-developer").await;
        }
        (dev, r)
    })
    .await?;

    // The owner sees the new member and, in the audit log, what the developer did.
    owner.goto(&format!("{base}/team")).await?;
    wait_for(
        owner,
        &format!("tr.member[data-email='{DEV_EMAIL}'][data-role=developer]"),
    )
    .await?;
    shot(owner, "23-team-members").await?;
    owner.goto(&format!("{base}/audit")).await?;
    wait_for(owner, "tr.audit-entry").await?;
    let rows = audit_rows(owner).await?;
    ensure!(
        rows.iter().any(|(action, actor)| {
            (action == "invitation.accept" || action == "member.add") && actor.contains(DEV_EMAIL)
        }),
        "the audit log names the developer joining: {rows:?}"
    );
    ensure!(
        rows.iter()
            .any(|(action, actor)| action == "service.redeploy" && actor.contains(DEV_EMAIL)),
        "the audit log names the developer's redeploy: {rows:?}"
    );
    shot(owner, "24-audit-log").await?;

    // The filters are a plain GET form.
    fill(owner, "#audit-actor", DEV_EMAIL).await?;
    fill(owner, "#audit-action", "service.").await?;
    owner
        .find(Locator::Css("#audit-filter"))
        .await?
        .click()
        .await?;
    wait_for(owner, "tr.audit-entry[data-action='service.redeploy']").await?;
    ensure!(
        path_of(owner).await?.contains("action=service."),
        "filtered: {}",
        path_of(owner).await?
    );
    let rows = audit_rows(owner).await?;
    ensure!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|(action, actor)| action.starts_with("service.") && actor.contains(DEV_EMAIL)),
        "filtered rows: {rows:?}"
    );
    shot(owner, "25-audit-log-filtered").await?;
    Ok(())
}

async fn developer_joins_and_redeploys(
    dev: &Client,
    base: &str,
    url: &str,
    image: &TickerImage,
) -> anyhow::Result<()> {
    dev.goto(url).await?;
    wait_for(dev, "#accept-form").await?;
    wait_hydrated(dev).await?;
    ensure!(text_of(dev, "#invite-team").await? == TEAM);
    ensure!(text_of(dev, "#invite-role-name").await? == "developer");
    ensure!(text_of(dev, "#invite-for").await? == DEV_EMAIL);
    fill(dev, "#accept-name", DEV_NAME).await?;
    fill(dev, "#accept-password", DEV_PASSWORD).await?;
    shot(dev, "19-invitation-page").await?;
    dev.find(Locator::Css("#accept-submit"))
        .await?
        .click()
        .await?;
    let who = text_of(dev, "#current-user").await?;
    ensure!(
        who.contains(DEV_NAME) && who.to_lowercase().contains("developer"),
        "top bar shows {who:?}"
    );
    ensure!(
        path_of(dev).await? == "/",
        "after accepting: {}",
        path_of(dev).await?
    );
    ensure!(text_of(dev, ".team").await? == TEAM);
    ensure!(
        dev.find(Locator::LinkText("Audit")).await.is_err(),
        "a developer has no audit link"
    );
    shot(dev, "20-developer-signed-in").await?;

    // The developer redeploys the ticker service from its page.
    wait_hydrated(dev).await?;
    dev.find(Locator::LinkText("Services"))
        .await?
        .click()
        .await?;
    wait_for(dev, &format!("tr[data-service='{}'] a", image.service))
        .await?
        .click()
        .await?;
    ensure!(text_of(dev, "#service-name").await? == image.service);
    wait_hydrated(dev).await?;
    dev.find(Locator::Css("#redeploy-service"))
        .await?
        .click()
        .await?;
    dev.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::XPath(&format!(
            "//table[@id='deployments']//tr[@data-state='succeeded'][contains(., '{DEV_NAME}')]"
        )))
        .await
        .context("the developer's redeploy should go live")?;
    shot(dev, "21-developer-redeployed").await?;

    // The audit log is not for developers, and the page says so.
    dev.goto(&format!("{base}/audit")).await?;
    let refused = text_of(dev, "#audit-refused").await?;
    ensure!(refused.contains("developer"), "{refused}");
    ensure!(
        dev.find(Locator::Css("tr.audit-entry")).await.is_err(),
        "no entries for a developer"
    );
    shot(dev, "22-developer-audit-refused").await?;
    Ok(())
}

/// (action, actor) of every row of the audit table.
async fn audit_rows(c: &Client) -> anyhow::Result<Vec<(String, String)>> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('tr.audit-entry')).map(r => \
             [r.querySelector('td.action').textContent.trim(), r.querySelector('td.actor').textContent.trim()]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}
