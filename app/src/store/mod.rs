//! All SQL lives here: the one place that reads and writes Postgres. Every function takes
//! the pool (or a transaction) explicitly; nothing here knows about HTTP.

pub mod accounts;
pub mod audit;
pub mod bearer_secret;
pub mod builds;
pub mod change;
pub mod credential_binding;
pub mod deployments;
pub mod invitations;
pub mod routes;
pub mod secret_box;
pub mod services;
pub mod settings;
pub mod spec_secrets;
pub mod team;
pub mod tokens;
pub mod worker;

pub use sqlx::PgPool;

/// Migrations embedded in the binary, applied at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// What the store answers besides rows. `NotFound` is also what another team's id gets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such record")]
    NotFound,
    #[error("the service is being deleted")]
    Deleting,
    #[error("already taken: {0:?}")]
    Taken(crate::domain::service::Taken),
    #[error("Berth already has an owner")]
    AlreadySetUp,
    #[error("a stored secret cannot be opened: {0}")]
    Secret(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// One round trip to the database, for health checks.
pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
