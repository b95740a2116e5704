//! The berth server: configuration, database, Docker engine adapter and HTTP surface.
//! `main` only parses flags and calls [`run`]; tests call [`http::serve`] on port 0.

pub mod auth;
pub mod backups;
pub mod build;
pub mod config;
pub mod db;
pub mod engine;
pub mod http;
pub mod jobs;
pub mod live;
pub mod notify;
pub mod proxy;
pub mod secrets;
pub mod site;
pub mod telemetry;
pub mod worker;

use anyhow::Context;
use config::Config;
use tower_sessions::ExpiredDeletion;

/// Runs Berth until Ctrl-C or SIGTERM, then shuts down in order: stop accepting, finish
/// requests, close the pool, stop the embedded Postgres.
pub async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "starting berth: {}",
        config.redacted_summary()
    );
    let site_root = site::find_site_root(config.site_root.as_deref());
    let (pool, supervisor) = db::open(&config).await?;

    let served = async {
        let secrets = secrets::SecretBox::load(config.secret_key.as_deref(), &config.secret_key_file())?;
        secrets::verify_against_database(&secrets, &pool).await?;
        // Once: credentials sealed before they were bound to their host are bound now.
        let bound = app::store::credential_binding::bind_stored_credentials(&pool, &secrets).await?;
        if bound > 0 {
            tracing::info!(credentials = bound, "stored credentials bound to their hosts");
        }
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {} (BERTH_ADDR)", config.addr))?;
        let instance = app::store::settings::instance_id(&pool).await?;
        let engine = engine::Engine::new(config.docker_host.as_deref()).for_instance(&instance.to_string());
        let docker = engine.status().await;
        if docker.reachable {
            tracing::info!(engine = ?docker.engine_version, api = ?docker.api_version, "Docker engine reached");
        } else {
            tracing::warn!(error = ?docker.error, "Docker engine not reachable; serving anyway");
        }
        let options = site::leptos_options(&site_root, config.addr);
        let settings = worker::WorkerSettings {
            orchestrator: config.orchestrator,
            deploy_timeout: config.deploy_timeout,
            pull_timeout: config.pull_timeout,
            unhealthy_replace_after: Some(config.unhealthy_replace_after),
            stop_grace: config.stop_grace,
            resync_interval: config.resync_interval,
            proxy: config.proxy_settings(),
            build: config.build_settings(),
            backups: config.backup_settings(),
            notify: notify::NotifySettings {
                retry_delays: config.notify_retry_delays.clone(),
                ..Default::default()
            },
            jobs: jobs::JobSettings {
                time_zone: config.time_zone,
                ..Default::default()
            },
            ..Default::default()
        };
        let worker = worker::Worker::new(pool.clone(), engine.clone(), secrets.clone(), settings).spawn();
        let state = http::AppState::new(pool.clone(), engine, secrets, http::Settings::from_config(&config), options)
            .await?
            .with_database(db::DatabaseHealth::new(&pool, supervisor.as_ref().map(db::Supervisor::status)));
        let sweeper = tokio::spawn(
            tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
                .continuously_delete_expired(tokio::time::Duration::from_secs(600)),
        );
        tracing::info!("dashboard on http://{}", listener.local_addr()?);
        let result = http::serve(state, listener, shutdown_signal()).await;
        sweeper.abort();
        worker.abort();
        result.context("serving HTTP")
    }
    .await;

    pool.close().await;
    if let Some(supervisor) = supervisor {
        supervisor.stop().await;
    }
    served
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
