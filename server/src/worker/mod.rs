//! The reconciler: makes Docker run what Postgres says each service should run.
//!
//! Modelled on kube-runtime's controller. `reconcile(service)` re-reads everything and is
//! never told why it runs, so it is idempotent. Triggers (the database triggers'
//! announcements, Docker events for Berth's label, a periodic resync) only name a service.
//!
//! One pass, in order ([`reconcile`]): read what should run and what runs → plan (pure:
//! [`plan::rollout`] decides what the open rollout needs, [`plan`] the container actions) →
//! record what was observed, once ([`observe`]); a pending deployment waits for its
//! dependencies first ([`gate`]) → act (the rollout's bookkeeping in
//! [`rollout`], its image in [`image`] and [`pulls`], the containers in [`act`]). [`scheduler`] runs the passes.

mod act;
mod context;
mod delete;
mod gate;
mod image;
mod leader;
mod observe;
pub mod plan;
mod probe;
mod pulls;
mod reconcile;
mod resolved_env;
mod rollout;
mod scheduler;
mod settings;
mod swarm;
mod triggers;

pub use context::{Next, Worker};
pub use settings::{Orchestrator, WorkerSettings};
