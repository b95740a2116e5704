//! A Server-Sent Events reader, as a browser's EventSource reads the stream.

use std::time::Duration;
use tokio::time::Instant;

pub struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

impl SseStream {
    /// Opens the stream; panics unless it answers 200 with `text/event-stream`.
    pub async fn open(client: &reqwest::Client, url: &str) -> SseStream {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        SseStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event within `within`, or `None` when none came (or the stream ended).
    pub async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    event: "message".into(),
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim_start().to_owned();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    }
                }
                if any {
                    return Some(event);
                }
                continue; // a keep-alive comment
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Reads events until one satisfies `pred` (at most `within`).
    pub async fn until(
        &mut self,
        within: Duration,
        pred: impl Fn(&SseEvent) -> bool,
    ) -> Option<SseEvent> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self.next(left).await?;
            if pred(&event) {
                return Some(event);
            }
        }
    }
}
