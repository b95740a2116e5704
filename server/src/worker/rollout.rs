//! A rollout's bookkeeping: the steps its plan asks for (lease, image, failure), its end
//! (live, failed or rolled back), and the reasons it gives, in words.

use super::context::{ReconcileError, Worker};
use super::image::ImageResolution;
use super::observe::Probed;
use super::plan::crash::{Crash, CrashKind};
use super::plan::deadline::rollout_deadline;
use super::plan::rollout::{Announce, Failure, RolloutStep};
use crate::engine::Observed;
use app::domain::log_line;
use app::domain::service::{
    DeployStep, DeploymentState, EventKind, HealthProbe, ReplicaIndex, ServiceSpec,
};
use app::store::worker::{self as store, DeploymentRow, DesiredService};
use std::time::Duration;

/// Lines of a crashing replica's output read for a rollout's failure reason…
const CRASH_TAIL: usize = 5;
/// …and the characters of each kept in it.
const CRASH_LINE_CHARS: usize = 200;

/// The open rollout as a pass read it: its row, and its spec with secrets opened (or why
/// they do not open).
pub(super) struct OpenRollout {
    pub row: DeploymentRow,
    pub spec: Result<ServiceSpec, String>,
    /// Its image is resolved and on the engine: its deadline runs.
    pub image_ready: bool,
}

/// What the rollout's steps leave for the rest of the pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterSteps {
    /// Go on with the container plan.
    Continue,
    /// Stop here and look again at once (the image was resolved, or the rollout ended).
    LookAgain,
    /// Stop here and look again soon (its image is being pulled).
    Wait,
}

impl Worker {
    /// Takes the steps the plan gave for the open rollout `r`, in order.
    pub(super) async fn rollout_steps(
        &self,
        svc: &DesiredService,
        r: &OpenRollout,
        steps: &[RolloutStep],
        observed: &[Observed],
        probed: &Probed,
    ) -> Result<AfterSteps, ReconcileError> {
        let settings = &self.settings;
        let row = &r.row;
        let deadline = rollout_deadline(settings.deploy_timeout, row.spec.health_check.as_ref());
        for step in steps {
            match step {
                RolloutStep::Hold(announce) => {
                    // The deadline starts once the image is present: a pull has its own.
                    store::hold_rollout(
                        &self.pool,
                        row.id,
                        self.instance,
                        r.image_ready.then_some(deadline),
                        settings.lease,
                    )
                    .await?;
                    self.announce(svc, row, *announce, deadline).await;
                }
                RolloutStep::ImageReady => self.image_ready(row).await,
                RolloutStep::Pull => {
                    let Ok(spec) = &r.spec else { continue };
                    return match self.resolve_image(svc, row, spec).await? {
                        ImageResolution::Recorded => Ok(AfterSteps::LookAgain),
                        ImageResolution::Pulling => Ok(AfterSteps::Wait),
                        ImageResolution::Failed(why) => {
                            self.fail_rollout(svc, row, &why).await?;
                            Ok(AfterSteps::LookAgain)
                        }
                    };
                }
                RolloutStep::Fail(failure) => {
                    let why = match failure {
                        Failure::DeadlinePassed => {
                            not_ready_reason(row, observed, probed, deadline)
                        }
                        Failure::Unusable(why) => why.clone(),
                        Failure::Crashed(crash) => {
                            let output = self
                                .engine
                                .tail_logs(&crash.container, CRASH_TAIL)
                                .await
                                .unwrap_or_default();
                            crash_reason(crash, &output)
                        }
                    };
                    self.fail_rollout(svc, row, &why).await?;
                }
            }
        }
        Ok(AfterSteps::Continue)
    }

    async fn announce(
        &self,
        svc: &DesiredService,
        r: &DeploymentRow,
        announce: Announce,
        deadline: Duration,
    ) {
        match announce {
            Announce::Start => {
                let replicas = if svc.stopped { 0 } else { r.spec.replicas };
                let line = format!(
                    "Rolling out deployment #{}: image {} (pull policy {}), {replicas} replica(s), deadline {} s once the image is present.",
                    r.number,
                    r.spec.image,
                    r.spec.effective_pull_policy().as_str(),
                    deadline.as_secs()
                );
                self.log(r.id, None, &line).await;
                self.event(svc.id, EventKind::Deployment, &line).await;
                // Said when it replaces running containers (not for a first deploy or a
                // scale, which keep their template).
                let replaces = svc.live.as_ref().is_some_and(|l| l.template != r.template);
                if let Some(why) = r.spec.stop_first_reason().filter(|_| replaces) {
                    let line = format!("{why}: the old containers stop before new ones start.");
                    self.log(r.id, None, &line).await;
                }
            }
            Announce::Resume => {
                self.log(
                    r.id,
                    None,
                    "Berth restarted during this rollout; resuming it from what Docker runs now.",
                )
                .await
            }
            Announce::Quiet => {}
        }
    }

    async fn image_ready(&self, r: &DeploymentRow) {
        let line = match &r.image_id {
            Some(id) => format!("Image {} is ready: {id}.", r.spec.image),
            None => format!("Image {} is ready.", r.spec.image),
        };
        self.log(r.id, Some(DeployStep::Pull), &line).await;
    }

    /// Ends a rollout whose every wanted replica (`replicas`) is ready: it becomes live.
    pub(super) async fn complete_rollout(
        &self,
        svc: &DesiredService,
        r: &DeploymentRow,
        replicas: u32,
    ) -> Result<(), ReconcileError> {
        let line = format!(
            "All {replicas} replicas ready; deployment #{} is live.",
            r.number
        );
        self.log(r.id, Some(DeployStep::Live), &line).await;
        self.event(svc.id, EventKind::Deployment, &line).await;
        store::finish_rollout(&self.pool, svc.id, r.id, DeploymentState::Succeeded, None).await?;
        Ok(())
    }

    /// Ends a rollout that cannot succeed; the live deployment (if any) keeps serving, and
    /// the next plan removes the failed rollout's containers.
    pub(super) async fn fail_rollout(
        &self,
        svc: &DesiredService,
        r: &DeploymentRow,
        reason: &str,
    ) -> Result<(), ReconcileError> {
        let (state, outcome) = match &svc.live {
            Some(live) => (
                DeploymentState::RolledBack,
                format!(
                    "{reason}; rolled back: deployment #{} keeps serving",
                    live.number
                ),
            ),
            None => (DeploymentState::Failed, reason.to_owned()),
        };
        tracing::warn!(deployment = r.number, %outcome, "rollout failed");
        self.log(r.id, None, &format!("Failed: {outcome}.")).await;
        let line = format!("Deployment #{} failed: {outcome}.", r.number);
        self.event(svc.id, EventKind::Deployment, &line).await;
        store::finish_rollout(&self.pool, svc.id, r.id, state, Some(&outcome)).await?;
        Ok(())
    }
}

/// Why a rollout's replicas were not ready by the deadline, in words.
fn not_ready_reason(
    r: &DeploymentRow,
    observed: &[Observed],
    probed: &Probed,
    timeout: Duration,
) -> String {
    let mine: Vec<String> = observed
        .iter()
        .filter(|c| c.template == r.template)
        .map(|c| {
            let mut s = format!("replica {} {}", ReplicaIndex::label(c.replica), c.state);
            let health = probed.health.get(&c.id).unwrap_or(&c.health);
            match (health, probed.notes.get(&c.id)) {
                (Some(h), Some(note)) => s.push_str(&format!(" ({h}: {note})")),
                (Some(h), None) => s.push_str(&format!(" ({h})")),
                (None, Some(note)) => s.push_str(&format!(" ({note})")),
                (None, None) => {}
            }
            if c.state == "exited" {
                if let Some(code) = c.exit_code {
                    s.push_str(&format!(" with code {code}"));
                }
            }
            if c.restart_count > 0 {
                s.push_str(&format!(", restarted {} times", c.restart_count));
            }
            s
        })
        .collect();
    let detail = if mine.is_empty() {
        "no replica was started".to_owned()
    } else {
        mine.join("; ")
    };
    let check = match r.spec.health_check.as_ref().map(|h| &h.probe) {
        Some(HealthProbe::Http { path, port }) => {
            format!(", health check GET {path} on port {port}")
        }
        Some(HealthProbe::Command { argv }) => format!(", health check command {argv:?}"),
        Some(HealthProbe::None) | None => String::new(),
    };
    format!(
        "new replicas not ready within {} s ({detail}{check})",
        timeout.as_secs()
    )
}

/// Why a rollout failed before its deadline: which new replica crashes, how (its exit
/// code, its restarts) and its last lines of `output` (cleaned, each cut to
/// [`CRASH_LINE_CHARS`], a line repeated by every restart told once).
fn crash_reason(crash: &Crash, output: &str) -> String {
    let code = match (&crash.out_of_memory, crash.exit_code) {
        (Some(oom), _) => format!(" ({oom})"),
        (None, Some(c)) => format!(" with exit code {c}"),
        (None, None) => String::new(),
    };
    let what = match crash.kind {
        CrashKind::Looping => format!(
            "new replica {} keeps crashing: it exited{code} after {} restarts",
            crash.replica, crash.restarts
        ),
        CrashKind::Exited => format!(
            "new replica {} exited{code} and its restart policy (no) does not start it again",
            crash.replica
        ),
    };
    let mut lines: Vec<String> = output
        .lines()
        .map(|l| log_line::clean(l.as_bytes()))
        .filter(|l| !l.trim().is_empty())
        .map(|l| clip(&l, CRASH_LINE_CHARS))
        .collect();
    lines.dedup();
    if lines.is_empty() {
        return format!("{what}; it printed nothing");
    }
    let quoted: Vec<String> = lines.iter().map(|l| format!("\"{l}\"")).collect();
    format!("{what}; its last lines: {}", quoted.join(", "))
}

/// `s` cut to `max` characters, with "…" when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crash(kind: CrashKind) -> Crash {
        Crash {
            container: "c".into(),
            replica: ReplicaIndex(1),
            exit_code: Some(3),
            out_of_memory: None,
            restarts: 4,
            kind,
        }
    }

    #[test]
    fn an_out_of_memory_crash_says_so_instead_of_its_exit_code() {
        let oom = Crash {
            out_of_memory: Some("killed: out of memory (limit 16 MB)".into()),
            exit_code: Some(137),
            ..crash(CrashKind::Looping)
        };
        assert_eq!(
            crash_reason(&oom, ""),
            "new replica 1 keeps crashing: it exited (killed: out of memory (limit 16 MB)) \
             after 4 restarts; it printed nothing"
        );
    }

    #[test]
    fn a_crash_is_told_with_its_exit_code_and_last_lines() {
        let output = "starting\ngiving up\n\x1b[31mgiving up\x1b[0m\ngiving up\r\n";
        assert_eq!(
            crash_reason(&crash(CrashKind::Looping), output),
            "new replica 1 keeps crashing: it exited with exit code 3 after 4 restarts; \
             its last lines: \"starting\", \"giving up\""
        );
        assert_eq!(
            crash_reason(&crash(CrashKind::Exited), ""),
            "new replica 1 exited with exit code 3 and its restart policy (no) does not \
             start it again; it printed nothing"
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "x".repeat(500);
        let reason = crash_reason(&crash(CrashKind::Looping), &long);
        assert!(reason.ends_with(&format!("\"{}…\"", "x".repeat(CRASH_LINE_CHARS))));
    }
}
