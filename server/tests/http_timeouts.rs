//! Slow senders against the real server, over raw TCP: a client that stalls in its request
//! head is disconnected after the header read timeout; one that stalls or trickles in its
//! body is answered 408 after the body read timeout and disconnected; a live event stream
//! outlives both timeouts.

mod common;

use common::TestServer;
use server::http::Settings;
use server::live::EventReader;
use sqlx::PgPool;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Both timeouts 1 s; a connection still open 10 s later was never cut.
const CAP: Duration = Duration::from_secs(10);

fn short_timeouts() -> Settings {
    Settings {
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
        ..Settings::default()
    }
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection; fails the test if it is
/// still open after [`CAP`].
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(CAP, stream.read_to_end(&mut got)).await;
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(
        read.is_ok(),
        "the connection was still open after {CAP:?}; it had sent: {text:?}"
    );
    text
}

const STALLED_LOGIN: &[u8] = b"POST /auth/login HTTP/1.1\r\nHost: berth.test\r\n\
    Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=ada";

#[sqlx::test(migrations = false)]
async fn a_client_stalling_in_its_request_head_is_disconnected(pool: PgPool) {
    let server = TestServer::start_with(pool, short_timeouts(), None).await;

    let mut half = connect(&server).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: berth.test\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = until_closed(&mut half).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );

    // Connected and silent: the same.
    let mut silent = connect(&server).await;
    until_closed(&mut silent).await;

    // A whole request is answered as ever.
    let r = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[sqlx::test(migrations = false)]
async fn a_client_stalling_or_trickling_its_body_gets_408_and_is_disconnected(pool: PgPool) {
    let server = TestServer::start_with(pool, short_timeouts(), None).await;

    let mut stalled = connect(&server).await;
    stalled.write_all(STALLED_LOGIN).await.unwrap();
    let answer = until_closed(&mut stalled).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );

    // One byte every 200 ms: never a pause as long as the timeout, but never done.
    let mut trickle = connect(&server).await;
    trickle.write_all(STALLED_LOGIN).await.unwrap();
    let (mut read, mut write) = trickle.into_split();
    let sender = tokio::spawn(async move {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(b"x").await.is_err() {
                break;
            }
        }
    });
    let mut got = Vec::new();
    let read = tokio::time::timeout(CAP, read.read_to_end(&mut got)).await;
    sender.abort();
    let answer = String::from_utf8_lossy(&got);
    assert!(read.is_ok(), "a trickle held the connection: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[sqlx::test(migrations = false)]
async fn a_live_event_stream_outlives_both_timeouts(pool: PgPool) {
    let server = TestServer::start_with(pool, short_timeouts(), None).await;
    let client = server.owner().await;
    let mut stream = EventReader::open(&client, &server.url("/api/v1/events"))
        .await
        .unwrap();
    assert!(stream.next(Duration::from_secs(5)).await.is_some());
    assert!(
        !stream.ends_within(Duration::from_secs(3)).await,
        "the live stream was cut"
    );
}
