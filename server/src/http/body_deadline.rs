//! A request's body must arrive in full within the body read timeout, counted from when
//! the handler is reached: a client that sends a few bytes and stalls (or trickles) is
//! answered 408 Request Timeout and disconnected, instead of holding a connection and a
//! handler for ever. tower-http's `RequestBodyTimeoutLayer` only limits the pause between
//! two chunks, which a trickle never exceeds; this limits the whole.
//!
//! Only reading the request body is timed: a request without one (every GET, the live
//! event streams and WebSocket upgrades among them) is untouched, and so is the response,
//! however long it streams.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};
use tokio::time::Sleep;

/// Middleware: gives the request's body `within` to arrive; past that, reading it fails
/// and the answer is 408 with `Connection: close`, whatever the handler made of the error.
pub async fn enforce(State(within): State<Duration>, req: Request, next: Next) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = Body::new(DeadlineBody {
        body,
        deadline: Box::pin(tokio::time::sleep(within)),
        expired: expired.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    if !expired.load(Ordering::Acquire) {
        return response;
    }
    tracing::info!(
        timeout_s = within.as_secs_f64(),
        "request body not received in time"
    );
    (
        StatusCode::REQUEST_TIMEOUT,
        [(header::CONNECTION, "close")],
        format!(
            "The request body did not arrive within {} s.",
            within.as_secs_f64()
        ),
    )
        .into_response()
}

/// A body that fails once its deadline has passed.
struct DeadlineBody {
    body: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Release);
            let late = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            );
            return Poll::Ready(Some(Err(axum::Error::new(late))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
