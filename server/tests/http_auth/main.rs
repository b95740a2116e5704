//! First run, sign-in, sign-out and sessions, through the real server and a real Postgres.

#[path = "../common/mod.rs"]
mod common;

mod cross_site;
mod first_run;
mod sessions;
mod sign_in;
