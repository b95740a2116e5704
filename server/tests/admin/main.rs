//! Team administration through the real server and Postgres: what each role may do on every
//! endpoint (a role table walked by cookie and by token), that another team's ids do not
//! exist, that invitations and tokens never hand out more than their giver has, that role
//! changes apply at once, the audit log, and the user's own sessions.

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod demotion;
mod idor;
mod invitations;
mod matrix;
mod role_matrix;
mod role_table;
mod sessions;
mod tokens;
