//! Push to deploy against real git, the real Docker engine and Postgres: signed webhooks
//! from GitHub, GitLab and Gitea build the pushed commit and roll it out; rollback brings
//! an earlier build back; every bad request is refused and queues nothing.

#[path = "../common/mod.rs"]
mod common;

mod compose_build;
mod failing_build;
mod fixtures;
mod form_hooks;
mod injection;
mod pushes;
mod python_app;
mod refusals;
mod retention;
mod submodules;
