//! One run from start to end: its container made from the service's live image, its
//! output kept (cleaned, bounded), its end recorded — exit code, timeout (stop, then
//! kill), or closed by someone else (replaced, job deleted) — and its container removed.

use crate::engine::{Engine, JobContainer, OutputChunk};
use crate::secrets::SecretBox;
use app::domain::jobs::RunState;
use app::store::jobs::{runs, RunRow};
use app::store::{spec_secrets::open_env, worker as desired};
use futures::StreamExt;
use sqlx::PgPool;
use std::time::Duration;

/// How often a watcher checks that its run is still open.
const STILL_OPEN_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub(super) struct Runner {
    pub pool: PgPool,
    pub engine: Engine,
    pub secrets: SecretBox,
    /// SIGTERM → SIGKILL grace when a run is stopped, in seconds.
    pub grace: i32,
    /// Swarm mode: runs join their environment's overlay network ([`JobSettings::overlay`]).
    ///
    /// [`JobSettings::overlay`]: super::JobSettings::overlay
    pub overlay: bool,
}

/// How a watched run ended.
enum End {
    Exited(Option<i64>),
    TimedOut,
    /// Closed by someone else (replaced, or its job deleted).
    Closed,
}

impl Runner {
    /// Starts a queued run (`container` = `None`) or watches one that runs already.
    pub async fn run(&self, run: RunRow, container: Option<String>) {
        let container = match container {
            Some(c) => c,
            None => match self.start(&run).await {
                Ok(Some(c)) => c,
                Ok(None) => return,
                Err(why) => {
                    tracing::info!(run = %run.id, %why, "jobs: run could not start");
                    self.log(&run, "berth", std::slice::from_ref(&why), 0).await;
                    self.close(&run, RunState::Failed, None, Some(&why)).await;
                    return;
                }
            },
        };
        self.watch(&run, &container).await;
    }

    /// Makes and starts the container; `Ok(None)` when the run was no longer queued.
    async fn start(&self, run: &RunRow) -> Result<Option<String>, String> {
        let service = desired::desired(&self.pool, run.service_id)
            .await
            .map_err(|e| format!("cannot read the service: {e}"))?
            .ok_or("the service is gone")?;
        if service.deleting {
            return Err("its service is being deleted".to_owned());
        }
        let live = service
            .live
            .ok_or("the service has no live deployment to take the image from")?;
        let mut spec = live.spec.clone();
        open_env(&mut spec, service.id, &self.secrets)
            .map_err(|e| format!("a secret of the service cannot be opened: {e}"))?;
        // The env its live deployment's containers got (references filled in).
        if let Some(sealed) = &live.resolved_env {
            spec.env = app::store::variables::open_resolved(&self.secrets, live.id, sealed)
                .map_err(|e| format!("the service's env cannot be opened: {e}"))?;
        }
        let image = live.image_id.clone().unwrap_or_else(|| spec.image.clone());
        if !runs::mark_running(&self.pool, run.id)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(None);
        }
        let job = JobContainer {
            team_id: run.team_id,
            placement: &service.placement,
            service_id: run.service_id,
            job_id: run.job_id,
            run_id: run.id,
            image: &image,
            spec: &spec,
            command: &run.command.0,
            overlay: self.overlay,
        };
        self.engine
            .start_job(&job)
            .await
            .map(Some)
            .map_err(|e| format!("the container did not start: {e}"))
    }

    /// Follows the output and waits for the end; records it; removes the container.
    async fn watch(&self, run: &RunRow, container: &str) {
        let started = run.started_at.unwrap_or_else(chrono::Utc::now);
        let deadline = started + chrono::Duration::seconds(i64::from(run.timeout_s));
        let left = (deadline - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let kept = runs::log_lines(&self.pool, run.id).await.unwrap_or(0);
        // A watcher resumed after a restart follows from now on (earlier lines are kept).
        let since = if kept > 0 {
            chrono::Utc::now().timestamp()
        } else {
            0
        };
        let output = self
            .clone()
            .follow(run.clone(), container.to_owned(), since, kept);
        let output = tokio::spawn(output);
        let end = tokio::select! {
            code = self.engine.wait_job(container) => End::Exited(code.unwrap_or(None)),
            _ = tokio::time::sleep(left) => End::TimedOut,
            _ = self.closed_elsewhere(run) => End::Closed,
        };
        if !matches!(end, End::Exited(_)) {
            if let Err(e) = self.engine.stop_job(container, self.grace).await {
                tracing::warn!(run = %run.id, error = %e, "jobs: cannot stop a run's container");
            }
        }
        // The output ends with the container; a little longer for the last lines.
        let _ = tokio::time::timeout(Duration::from_secs(5), output).await;
        match end {
            End::Exited(Some(0)) => self.close(run, RunState::Succeeded, Some(0), None).await,
            End::Exited(Some(code)) => {
                let why = format!("exited with code {code}");
                self.close(run, RunState::Failed, Some(code as i32), Some(&why))
                    .await
            }
            End::Exited(None) => {
                self.close(
                    run,
                    RunState::Interrupted,
                    None,
                    Some("its container disappeared"),
                )
                .await
            }
            End::TimedOut => {
                let why = format!(
                    "ran past its timeout of {} s: stopped (SIGTERM, then SIGKILL after {} s)",
                    run.timeout_s, self.grace
                );
                self.log(
                    run,
                    "berth",
                    std::slice::from_ref(&why),
                    runs::log_lines(&self.pool, run.id).await.unwrap_or(0),
                )
                .await;
                let code = match self.engine.job_container(run.id).await {
                    Ok(Some(crate::engine::JobExit::Exited { code, .. })) => Some(code as i32),
                    _ => None,
                };
                self.close(run, RunState::TimedOut, code, Some(&why)).await
            }
            End::Closed => {}
        }
        if let Err(e) = self.engine.remove_job(container).await {
            tracing::warn!(run = %run.id, error = %e, "jobs: cannot remove a run's container");
        }
    }

    /// A run that ended while no Berth watched it: its exit code recorded, its container removed.
    pub async fn close_exited(&self, run: &RunRow, container: &str, code: i64) {
        let (state, why) = if code == 0 {
            (RunState::Succeeded, None)
        } else {
            (RunState::Failed, Some(format!("exited with code {code}")))
        };
        let note = format!("finished while Berth was restarting (exit code {code})");
        let kept = runs::log_lines(&self.pool, run.id).await.unwrap_or(0);
        self.log(run, "berth", &[note], kept).await;
        self.close(run, state, Some(code as i32), why.as_deref())
            .await;
        if let Err(e) = self.engine.remove_job(container).await {
            tracing::warn!(run = %run.id, error = %e, "jobs: cannot remove a run's container");
        }
    }

    /// Resolves once the run is no longer open (or gone).
    async fn closed_elsewhere(&self, run: &RunRow) {
        loop {
            tokio::time::sleep(STILL_OPEN_EVERY).await;
            match runs::state(&self.pool, run.id).await {
                Ok(Some(s)) if s.is_open() => {}
                Ok(_) => return,
                Err(_) => {}
            }
        }
    }

    /// Keeps what the container prints, line by line, until it stops.
    async fn follow(self, run: RunRow, container: String, since: i64, mut kept: i64) {
        let stream = match self
            .engine
            .output(&container, None, since, true, false)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(run = %run.id, error = %e, "jobs: cannot follow a run's output");
                return;
            }
        };
        let mut stream = std::pin::pin!(stream);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(Ok(OutputChunk { stderr, bytes })) = stream.next().await {
            let (buf, name) = if stderr {
                (&mut err, "stderr")
            } else {
                (&mut out, "stdout")
            };
            buf.extend_from_slice(&bytes);
            let lines = take_lines(buf);
            if !lines.is_empty() {
                kept = self.log(&run, name, &lines, kept).await;
            }
        }
        for (buf, name) in [(out, "stdout"), (err, "stderr")] {
            if !buf.is_empty() {
                let rest = String::from_utf8_lossy(&buf).into_owned();
                kept = self.log(&run, name, &[rest], kept).await;
            }
        }
    }

    async fn log(&self, run: &RunRow, stream: &str, lines: &[String], kept: i64) -> i64 {
        match runs::append_log(&self.pool, run, stream, lines, kept).await {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(run = %run.id, error = %e, "jobs: cannot keep output");
                kept
            }
        }
    }

    async fn close(&self, run: &RunRow, state: RunState, code: Option<i32>, why: Option<&str>) {
        if let Err(e) = runs::finish(&self.pool, run.id, state, code, why).await {
            tracing::warn!(run = %run.id, error = %e, "jobs: cannot record a run's end");
        }
    }
}

/// The whole lines at the front of `buf` (without their newline), leaving the rest.
fn take_lines(buf: &mut Vec<u8>) -> Vec<String> {
    let Some(last) = buf.iter().rposition(|b| *b == b'\n') else {
        return Vec::new();
    };
    let rest = buf.split_off(last + 1);
    let whole = std::mem::replace(buf, rest);
    whole[..whole.len() - 1]
        .split(|b| *b == b'\n')
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::take_lines;

    #[test]
    fn whole_lines_are_taken_and_the_rest_kept() {
        let mut buf = b"one\ntwo\nthr".to_vec();
        assert_eq!(take_lines(&mut buf), ["one", "two"]);
        assert_eq!(buf, b"thr");
        assert!(take_lines(&mut buf).is_empty());
        buf.extend_from_slice(b"ee\n");
        assert_eq!(take_lines(&mut buf), ["three"]);
        assert!(buf.is_empty());
    }
}
