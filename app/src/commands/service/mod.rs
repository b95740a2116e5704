//! The service verbs: define (create, update, scale), run (stop, start, delete, redeploy,
//! rollback) and source (deploy now, rotate the webhook secret, a verified push). Each is
//! the one place its verb is implemented.

mod define;
mod run;
mod source;

pub use define::{create, create_in, insert_copy, scale, update, update_if, update_in};
pub use run::{delete, redeploy, rollback, start, stop};
pub use source::{deploy_now, push, rotate_webhook_secret};
