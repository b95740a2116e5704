//! Databases with volumes (issue 17, case 3), with a real PostgreSQL 15 built from Debian
//! packages: a writable volume allows one replica (unless shared) and rolls out
//! stop-first, so the server keeps its rows across redeploys, an env change, a rollback
//! and a `kill -9` of berth; deleting the service keeps its volume unless asked.

#[path = "../common/mod.rs"]
mod common;
mod pg;

mod delete;
mod rollouts;
mod rules;
