//! A signed-in REST client of a test server with a worker, and a test image built for it.

use super::images::{build_httpd, unique_tag};
use super::TestServer;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

pub struct Api {
    pub server: TestServer,
    pub client: reqwest::Client,
    pub image: String,
}

impl Api {
    pub async fn start(pool: PgPool, worker: server::worker::WorkerSettings) -> Api {
        let server = TestServer::start_with_worker(pool, worker).await;
        let client = server.owner().await;
        let image = unique_tag("worker");
        build_httpd(&server.engine, &image, "hello from berth\n").await;
        Api {
            server,
            client,
            image,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.server.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn create(&self, spec: Value) -> String {
        let (status, body) = self
            .call(reqwest::Method::POST, "/api/v1/services", Some(spec))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/services/{id}/<action>` (scale, stop, start, redeploy, rollback).
    pub async fn act(&self, id: &str, action: &str, body: Option<Value>) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/services/{id}/{action}"),
            body,
        )
        .await
    }

    pub async fn service(&self, id: &str) -> Value {
        self.call(
            reqwest::Method::GET,
            &format!("/api/v1/services/{id}"),
            None,
        )
        .await
        .1
    }

    pub async fn put(&self, id: &str, spec: Value) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/services/{id}"),
                Some(spec),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Polls the service until `pred` holds (at most `secs`), returning the last view.
    pub async fn until(
        &self,
        id: &str,
        secs: u64,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let view = self.service(id).await;
            if pred(&view) {
                return view;
            }
            if start.elapsed() > Duration::from_secs(secs) {
                panic!("waited {secs} s for {what}; service is now:\n{view:#}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Job run `run` with its log: `{run, log: [{line, …}]}` (`GET /api/v1/job-runs/{run}`).
    pub async fn run_with_log(&self, run: &str) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/job-runs/{run}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Polls job run `run` until `pred` holds for it (at most `secs`), returning it with its
    /// log.
    pub async fn until_run(
        &self,
        run: &str,
        secs: u64,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let r = self.run_with_log(run).await;
            if pred(&r["run"]) {
                return r;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "waited {secs} s for {what}; the run is now:\n{r:#}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub async fn running(&self, id: &str, n: u64) -> Value {
        self.until(id, 40, &format!("{n} ready replicas"), |v| {
            v["status"]["health"] == "running"
                && v["status"]["ready"] == n
                && v["containers"].as_array().map(Vec::len) == Some(n as usize)
        })
        .await
    }

    pub async fn deployment_log(&self, deployment_id: &str) -> Vec<String> {
        let (_, body) = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/deployments/{deployment_id}"),
                None,
            )
            .await;
        body["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["line"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn spec(&self, name: &str) -> Value {
        json!({
            "name": name,
            "image": self.image,
            "ports": [{ "container": 8080 }],
            "health_check": {
                "probe": { "kind": "http", "path": "/index.html", "port": 8080 },
                "interval_s": 1, "timeout_s": 1, "retries": 1
            }
        })
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        // Containers first: an image still used by one is only untagged by `rmi -f`, and
        // stays behind as a dangling image once the container is gone.
        self.server.stop_worker_and_clean_up();
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", &self.image])
            .output();
    }
}
