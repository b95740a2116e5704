//! A reader of Berth's event streams as a browser's EventSource reads them: for programs
//! that follow the stream (berth-bench, the tests).

use std::time::Duration;
use tokio::time::Instant;

pub struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    pub event: String,
    pub data: String,
}

impl EventReader {
    /// Opens `url` with `client`; an answer other than a 200 event stream is an error.
    pub async fn open(client: &reqwest::Client, url: &str) -> anyhow::Result<EventReader> {
        let response = client.get(url).send().await?;
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        anyhow::ensure!(
            response.status() == 200 && kind.starts_with("text/event-stream"),
            "{url}: {} {kind}",
            response.status()
        );
        Ok(EventReader {
            response,
            buffer: String::new(),
        })
    }

    /// The next event within `within`; `None` when none came or the stream ended.
    pub async fn next(&mut self, within: Duration) -> Option<StreamEvent> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Some(event);
                }
                continue; // a keep-alive comment
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Whether the server ends the stream within `within` (what arrives meanwhile is
    /// dropped).
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Reads events until one satisfies `pred` (at most `within`).
    pub async fn until(
        &mut self,
        within: Duration,
        pred: impl Fn(&StreamEvent) -> bool,
    ) -> Option<StreamEvent> {
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

fn parse(block: &str) -> Option<StreamEvent> {
    let mut event = StreamEvent {
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
    any.then_some(event)
}
