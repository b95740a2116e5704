//! Accepting connections: HTTP/1.1 (with upgrades, for WebSockets) through hyper, so a
//! client that does not finish its request head within the header read timeout is
//! disconnected (`axum::serve` sets no timer, so a slow sender could hold a connection for
//! ever); and a graceful shutdown that stops accepting, lets requests in flight finish and
//! tells live streams to end.
//!
//! HTTP/2 is not offered: no browser speaks it over plain http, the edge proxy (Caddy)
//! speaks HTTP/1.1 to Berth, and hyper has no head timeout for it (nor for the wait for a
//! silent client's first bytes that HTTP/2 detection needs).

use super::{router, AppState};
use axum::{body::Body, extract::ConnectInfo, extract::Request};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{future::Future, io, pin::pin, time::Duration};
use tokio::{net::TcpListener, sync::watch};
use tower::Service;

/// Serves until `shutdown` completes, then finishes in-flight requests (live streams are
/// told to end through [`AppState::closing`]).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let closing = state.closing.clone();
    let header_timeout = state.settings.header_read_timeout;
    let app = router(state);
    // Connections watch `stop` to shut down gracefully; each holds a `done` receiver, so
    // `done_tx.closed()` completes when the last one has finished.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().call(req)
        });
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.wait_for(|s| *s), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(done);
        });
    }
    drop(listener);
    closing.send_replace(true);
    stop_tx.send_replace(true);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}

/// A failed accept: a connection reset before it was accepted is nothing; anything else
/// (too many open files) is logged and waited out a little, as `axum::serve` does.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
