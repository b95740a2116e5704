//! All SQL lives here: the one place that reads and writes Postgres. Every function takes
//! the pool (or a transaction) explicitly; nothing here knows about HTTP.

pub mod accounts;
pub mod audit;
pub mod backup_destinations;
pub mod backups;
pub mod bearer_secret;
pub mod builds;
pub mod change;
pub mod credential_binding;
pub mod dependencies;
pub mod deployments;
pub mod environment_repository;
pub mod invitations;
pub mod jobs;
pub mod notifications;
pub mod projects;
pub mod routes;
pub mod secret_box;
pub mod services;
pub mod settings;
pub mod spec_secrets;
pub mod team;
pub mod tokens;
pub mod variables;
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
    /// A rule the stored rows enforce (a name taken): the field and the words.
    #[error("{}", .0.message)]
    Invalid(crate::domain::service::FieldError),
    /// The thing's state refuses the change (an environment that still has services).
    #[error("{0}")]
    Conflict(String),
    #[error("a stored secret cannot be opened: {0}")]
    Secret(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether this says the database could not be reached (no connection within the pool's
    /// wait, a connection lost, the server shutting down or starting up), rather than
    /// anything about the request: callers answer 503, not 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(e) => db_unavailable(e),
            _ => false,
        }
    }
}

/// See [`StoreError::is_unavailable`]. SQLSTATE class 08 is "connection exception"; 57P01
/// to 57P03 are admin shutdown, crash shutdown and "cannot connect now" (starting up).
pub fn db_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// One round trip to the database, for health checks.
pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

#[cfg(test)]
mod unavailable_tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailability_and_query_errors_are_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(refused),
        ] {
            assert!(StoreError::Db(e).is_unavailable());
        }
        for e in [
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("x".into()),
            sqlx::Error::Protocol("bad".into()),
        ] {
            assert!(!StoreError::Db(e).is_unavailable());
        }
        assert!(!StoreError::NotFound.is_unavailable());
    }
}
