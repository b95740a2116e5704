//! Notifications in the browser: the owner allows private targets (the receiver is on
//! loopback), adds a webhook channel, sends a test and sees the delivery log say
//! "delivered".

use crate::page::{fill, shot, wait_for, wait_hydrated};
use anyhow::{ensure, Context};
use fantoccini::{Client, Locator};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A webhook receiver on 127.0.0.1 answering 200 to anything; counts the requests.
async fn receiver() -> anyhow::Result<(u16, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let heard = Arc::new(AtomicUsize::new(0));
    let count = heard.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                // The request is small: its head and body come in the first reads.
                let _ = tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf)).await;
                count.fetch_add(1, Ordering::SeqCst);
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Ok((port, heard))
}

pub async fn notifications(c: &Client, base: &str) -> anyhow::Result<()> {
    let (port, heard) = receiver().await?;
    // The receiver is on loopback: the instance owner allows private targets first.
    c.goto(&format!("{base}/team")).await?;
    wait_hydrated(c).await?;
    let allow = wait_for(c, "#allow-private-targets").await?;
    if allow.prop("checked").await?.as_deref() != Some("true") {
        allow.click().await?;
        c.find(Locator::Css("#save-instance"))
            .await?
            .click()
            .await?;
        wait_for(c, "#allow-private-targets:checked").await?;
    }

    c.goto(&format!("{base}/notifications")).await?;
    wait_hydrated(c).await?;
    wait_for(c, "#channel-submit").await?;
    fill(c, "#channel-name", "e2e hook").await?;
    fill(c, "#channel-url", &format!("http://127.0.0.1:{port}/hook")).await?;
    fill(c, "#channel-secret", "an e2e signing secret").await?;
    c.find(Locator::Css("#channel-submit"))
        .await?
        .click()
        .await?;
    let channel = "section.channel[data-name='e2e hook']";
    let send_test = format!("{channel} button.send-test");
    let button = wait_for(c, &send_test).await?;
    // Out from under the sticky top bar before the click.
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
        vec![serde_json::json!(send_test)],
    )
    .await?;
    button.click().await?;

    // The sender works apart from the page: read the page again until the log says so.
    let delivered = format!("{channel} tr.delivery[data-status=delivered]");
    let start = Instant::now();
    loop {
        c.goto(&format!("{base}/notifications")).await?;
        wait_for(c, channel).await?;
        if c.find(Locator::Css(&delivered)).await.is_ok() {
            break;
        }
        ensure!(
            start.elapsed() < Duration::from_secs(60),
            "no delivered row in the log within 60 s"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let status = c
        .find(Locator::Css(&format!("{delivered} .delivery-status")))
        .await?
        .text()
        .await
        .context("the delivery's status")?;
    ensure!(status == "delivered", "status {status:?}");
    ensure!(
        heard.load(Ordering::SeqCst) >= 1,
        "the receiver heard nothing"
    );
    shot(c, "30-notifications-delivered").await?;
    Ok(())
}
