//! Caddy's admin API, as far as Berth uses it: read the whole config, replace it.

use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("Caddy's admin API at {0} cannot be reached: {1}")]
    Unreachable(String, String),
    #[error("Caddy refused the routes: {0}")]
    Refused(String),
    #[error("Caddy's config changed while Berth was writing it")]
    Conflict,
}

#[derive(Clone)]
pub struct CaddyAdmin {
    base: String,
    http: reqwest::Client,
}

impl CaddyAdmin {
    /// `base`: e.g. `http://127.0.0.1:2019`.
    pub fn new(base: &str) -> CaddyAdmin {
        CaddyAdmin {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .no_proxy()
                .build()
                .expect("an HTTP client"),
        }
    }

    fn unreachable(&self, e: impl std::fmt::Display) -> AdminError {
        AdminError::Unreachable(self.base.clone(), e.to_string())
    }

    /// The whole running config (`null` when Caddy runs without one) and its ETag.
    pub async fn config(&self) -> Result<(Value, Option<String>), AdminError> {
        let r = self
            .http
            .get(format!("{}/config/", self.base))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if !r.status().is_success() {
            return Err(self.unreachable(format!("GET /config/ answered {}", r.status())));
        }
        let etag = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let config = r.json().await.map_err(|e| self.unreachable(e))?;
        Ok((config, etag))
    }

    /// Replaces the whole config in one change, unless it changed since `etag` was read.
    pub async fn replace(&self, config: &Value, etag: Option<&str>) -> Result<(), AdminError> {
        let mut req = self
            .http
            .post(format!("{}/config/", self.base))
            .json(config);
        if let Some(tag) = etag {
            req = req.header("if-match", tag);
        }
        let r = req.send().await.map_err(|e| self.unreachable(e))?;
        let status = r.status();
        if status.is_success() {
            return Ok(());
        }
        if status == reqwest::StatusCode::PRECONDITION_FAILED {
            return Err(AdminError::Conflict);
        }
        let body = r.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(body);
        Err(AdminError::Refused(format!("{status}: {message}")))
    }
}
