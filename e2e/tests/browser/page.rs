//! Driving a page: open a browser, go, wait, fill, read, scroll, take a screenshot, and
//! sign in or out as the first-run owner.

use crate::EMAIL;
use anyhow::Context;
use e2e::{screenshot_dir, Chromedriver};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use std::time::Duration;

/// A WebDriver session in headless Chromium with a fresh `profile`, JavaScript on or off.
pub async fn browser(
    driver: &Chromedriver,
    profile: &std::path::Path,
    javascript: bool,
) -> anyhow::Result<Client> {
    ClientBuilder::rustls()?
        .capabilities(Chromedriver::capabilities(profile, javascript))
        .connect(&driver.url)
        .await
        .context("opening a WebDriver session")
}

/// A screenshot of the page, as `target/e2e-screenshots/<name>.png`.
pub async fn shot(c: &Client, name: &str) -> anyhow::Result<()> {
    let png = c.screenshot().await?;
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png)?;
    Ok(())
}

/// The current path with its query (`/login?notice=signed_out`).
pub async fn path_of(c: &Client) -> anyhow::Result<String> {
    let url = c.current_url().await?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

/// Waits (at most 20 s) until the page has hydrated: the release wasm bundle runs.
pub async fn wait_hydrated(c: &Client) -> anyhow::Result<()> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("body[data-hydrated=true]"))
        .await
        .context("the page never hydrated (release wasm bundle)")?;
    Ok(())
}

/// Clears the input at `css` and types `text`.
pub async fn fill(c: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let el = c.find(Locator::Css(css)).await?;
    el.clear().await?;
    el.send_keys(text).await?;
    Ok(())
}

/// The element at `css`, waiting for it at most 15 s.
pub async fn wait_for(c: &Client, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))
}

/// Fills the sign-in form as the owner with `password` and submits it.
pub async fn sign_in(c: &Client, password: &str) -> anyhow::Result<()> {
    fill(c, "#email", EMAIL).await?;
    fill(c, "#password", password).await?;
    c.find(Locator::Css("#sign-in")).await?.click().await?;
    Ok(())
}

/// Signs out from the top bar and waits for the signed-out notice.
pub async fn sign_out(c: &Client) -> anyhow::Result<()> {
    c.find(Locator::Css("#logout")).await?.click().await?;
    wait_for(c, "#signed-out").await?;
    Ok(())
}

/// The text of the element at `css`, once it is there.
pub async fn text_of(c: &Client, css: &str) -> anyhow::Result<String> {
    read_fresh(c, css, |e| async move { e.text().await }).await
}

/// The `value` of the form field at `css`, once it is there ("" when it has none).
pub async fn value_of(c: &Client, css: &str) -> anyhow::Result<String> {
    read_fresh(c, css, |e| async move {
        Ok(e.prop("value").await?.unwrap_or_default())
    })
    .await
}

/// `read` of the element at `css`, found again when the page rendered it anew between the
/// find and the read (a live re-read of a page replaces its elements; WebDriver then
/// answers "stale element reference").
async fn read_fresh<T, F, Fut>(c: &Client, css: &str, read: F) -> anyhow::Result<T>
where
    F: Fn(Element) -> Fut,
    Fut: std::future::Future<Output = Result<T, CmdError>>,
{
    let mut tries = 0;
    loop {
        match read(wait_for(c, css).await?).await {
            Err(e) if e.is_stale_element_reference() && tries < 5 => tries += 1,
            read => return read.with_context(|| format!("reading {css}")),
        }
    }
}

/// Scrolls the element with `id` into view, below the sticky top bar.
pub async fn scroll_to(c: &Client, id: &str) -> anyhow::Result<()> {
    c.execute(
        // Below the sticky top bar.
        "document.getElementById(arguments[0]).scrollIntoView(); window.scrollBy(0, -80);",
        vec![serde_json::json!(id)],
    )
    .await?;
    Ok(())
}

/// The page keeps a mark set by script for as long as it is not reloaded.
pub async fn mark_page(c: &Client) -> anyhow::Result<()> {
    c.execute("window.berthNotReloaded = true;", vec![]).await?;
    Ok(())
}

pub async fn still_marked(c: &Client) -> anyhow::Result<bool> {
    let v = c
        .execute("return window.berthNotReloaded === true;", vec![])
        .await?;
    Ok(v.as_bool() == Some(true))
}
