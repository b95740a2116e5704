//! Opens the database: the server named by DATABASE_URL, or Berth's own embedded cluster.

mod availability;
pub mod backoff;
pub mod embedded;
pub mod listen;
mod lock;
pub mod supervisor;

pub use availability::DatabaseHealth;
pub use supervisor::{Supervisor, SupervisorState, SupervisorStatus};

use anyhow::Context;
use embedded::EmbeddedPostgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::time::Duration;

/// The pool: 10 connections; a connection is waited for at most 3 s. A healthy pool hands
/// one out in milliseconds, so the wait only runs out when Postgres is unreachable (sqlx
/// keeps retrying a refused connection until then) or every connection is held for 3 s:
/// either way the caller gets its answer (503) after 3 s instead of 10.
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(3))
}

/// The PostgreSQL programs' folder: `configured`, the newest /usr/lib/postgresql/*/bin, or
/// one on PATH.
pub fn postgres_bin_dir(
    configured: Option<&std::path::Path>,
) -> anyhow::Result<std::path::PathBuf> {
    embedded::find_bin_dir(configured)
}

/// Connects (starting the embedded cluster, under its [`Supervisor`], when there is no URL)
/// and applies migrations.
pub async fn open(config: &crate::config::Config) -> anyhow::Result<(PgPool, Option<Supervisor>)> {
    let (options, embedded) = match config.external_database() {
        Some(url) => {
            let options: PgConnectOptions = url
                .parse()
                .context("DATABASE_URL is not a valid postgres:// URL")?;
            (options, None)
        }
        None => {
            let pg =
                EmbeddedPostgres::start(&config.data_dir, config.postgres_bin.as_deref()).await?;
            (pg.connect_options(), Some(pg))
        }
    };
    let connected = async {
        let pool = pool_options()
            .connect_with(options)
            .await
            .context("could not connect to Postgres")?;
        migrate(&pool).await?;
        anyhow::Ok(pool)
    }
    .await;
    match connected {
        Ok(pool) => Ok((pool, embedded.map(Supervisor::start))),
        Err(err) => {
            if let Some(pg) = embedded {
                pg.stop().await;
            }
            Err(err)
        }
    }
}

/// Berth's schema, then the session store's.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    app::store::MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations")?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .migrate()
        .await
        .context("creating the session table")?;
    Ok(())
}
