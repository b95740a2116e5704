//! Berth's private PostgreSQL cluster: created on first start inside the data directory,
//! reachable only through a unix socket, stopped cleanly on shutdown.
//!
//! PostgreSQL refuses to run as root, so when berth runs as root the cluster's files belong
//! to (and the server runs as) the unprivileged `postgres` account, or BERTH_POSTGRES_USER.

use super::lock::DataDirLock;
use anyhow::{bail, Context};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::{
    ffi::OsStr,
    os::unix::ffi::OsStrExt,
    os::unix::fs::{chown, PermissionsExt},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};
use tokio::process::{Child, Command};

const DB_USER: &str = "berth";
const DB_NAME: &str = "berth";
const PORT: u16 = 5432;
/// Unix socket paths are limited to 108 bytes on Linux.
const MAX_SOCKET_PATH: usize = 100;

pub struct EmbeddedPostgres {
    child: Child,
    cluster: Cluster,
    _lock: DataDirLock,
}

/// Where the cluster lives and how its server is started: all a restart needs.
struct Cluster {
    bin: PathBuf,
    data_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log_path: PathBuf,
    run_as: Option<RunAs>,
}

/// Who the PostgreSQL server runs as.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl EmbeddedPostgres {
    pub async fn start(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let lock = DataDirLock::acquire(&data_dir)?;
        let bin = find_bin_dir(bin_dir)?;
        let run_as = run_as_user()?;
        if let Some(user) = run_as {
            // The server account must be able to reach its folders inside the data directory.
            std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o711))?;
            check_traversable(&data_dir, user)?;
        }

        let pgdata = data_dir.join("postgres");
        if !pgdata.join("PG_VERSION").exists() {
            init_cluster(&bin, &data_dir, &pgdata, run_as).await?;
        }
        let socket_dir = socket_dir(&data_dir)?;
        make_private_dir(&socket_dir, run_as)?;
        stop_orphan(&pgdata).await?;

        let cluster = Cluster {
            log_path: data_dir.join("postgres.log"),
            bin,
            pgdata,
            socket_dir,
            data_dir,
            run_as,
        };
        let child = cluster.spawn()?;
        let mut pg = EmbeddedPostgres {
            child,
            cluster,
            _lock: lock,
        };
        if let Err(err) = pg.wait_ready().await {
            pg.stop().await;
            return Err(err);
        }
        pg.ensure_database().await?;
        tracing::info!(pid = pg.child.id(), socket = %pg.cluster.socket_dir.display(), "embedded Postgres ready");
        Ok(pg)
    }

    /// The server process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resolves when the server exits (by itself, killed, crashed).
    pub async fn exited(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.child.wait().await
    }

    /// Starts the server again after it exited: a Postgres killed outright leaves its
    /// `postmaster.pid` (Postgres discards it itself when that pid is gone) and backends that
    /// exit on their own once they notice; until they have, the new server refuses to start
    /// and this answers the error, so the caller retries later.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        stop_orphan(&self.cluster.pgdata).await?;
        self.child = self.cluster.spawn()?;
        if let Err(err) = self.wait_ready().await {
            // Never leave a half-started server behind: the next try starts afresh.
            if let Some(pid) = self.child.id() {
                signal(pid, libc::SIGQUIT);
                let _ = self.child.wait().await;
            }
            return Err(err);
        }
        Ok(())
    }

    pub fn connect_options(&self) -> PgConnectOptions {
        self.options(DB_NAME)
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.cluster.socket_dir)
            .port(PORT)
            .username(DB_USER)
            .database(database)
            .log_statements(tracing::log::LevelFilter::Off)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let log_path = &self.cluster.log_path;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the embedded Postgres exited ({status}) while starting; its log ({}) ends with:\n{}",
                    log_path.display(),
                    tail(log_path, 15)
                );
            }
            if sqlx::PgConnection::connect_with(&self.options("postgres"))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "the embedded Postgres did not accept connections within 60 s; see {}",
                    log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn ensure_database(&self) -> anyhow::Result<()> {
        let mut conn = sqlx::PgConnection::connect_with(&self.options("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DB_NAME)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {DB_NAME}"))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(())
    }

    /// Fast shutdown (SIGINT): ends sessions, writes a checkpoint, exits. Escalates to an
    /// immediate shutdown if it takes over 30 s.
    pub async fn stop(mut self) {
        let Some(pid) = self.child.id() else { return };
        signal(pid, libc::SIGINT);
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(status)) => tracing::info!(%status, "embedded Postgres stopped"),
            _ => {
                tracing::warn!("embedded Postgres did not stop in 30 s; sending SIGQUIT");
                signal(pid, libc::SIGQUIT);
                let _ = self.child.wait().await;
            }
        }
    }
}

impl Cluster {
    /// Starts `postgres` on the cluster, its output appended to the log file.
    fn spawn(&self) -> anyhow::Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)?;
        if let Some(user) = self.run_as {
            chown(&self.log_path, Some(user.uid), Some(user.gid))?;
        }
        let program = self.bin.join("postgres");
        let mut cmd = Command::new(&program);
        cmd.arg("-D")
            .arg(&self.pgdata)
            .arg("-k")
            .arg(&self.socket_dir)
            .args([
                "-c",
                "listen_addresses=",
                "-c",
                "unix_socket_permissions=0700",
            ])
            .args(["-p", &PORT.to_string()])
            .current_dir(&self.data_dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C in the terminal reaches berth, which then
            // stops Postgres after the last query, not in the middle of one.
            .process_group(0);
        if let Some(user) = self.run_as {
            cmd.uid(user.uid).gid(user.gid);
        }
        cmd.spawn()
            .with_context(|| format!("starting {}", program.display()))
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: sending a signal to a process id we started.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// The PostgreSQL server programs: the configured folder, the newest Debian install, or PATH.
pub(crate) fn find_bin_dir(configured: Option<&Path>) -> anyhow::Result<PathBuf> {
    let has_programs = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    if let Some(dir) = configured {
        if has_programs(dir) {
            return Ok(dir.to_owned());
        }
        bail!(
            "BERTH_POSTGRES_BIN={} does not contain the postgres and initdb programs",
            dir.display()
        );
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, dir)| has_programs(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if has_programs(&dir) {
            return Ok(dir);
        }
    }
    bail!(
        "PostgreSQL server programs not found (looked in /usr/lib/postgresql/*/bin and PATH). \
         Install them (apt-get install postgresql), set BERTH_POSTGRES_BIN, or set DATABASE_URL to use an existing server"
    )
}

/// `None` when berth is not root (the cluster runs as berth's own user).
fn run_as_user() -> anyhow::Result<Option<RunAs>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::env::var("BERTH_POSTGRES_USER").unwrap_or_else(|_| "postgres".into());
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    let user = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == name)
        .and_then(|f| {
            Some(RunAs {
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
            })
        });
    match user {
        Some(u) if u.uid != 0 => Ok(Some(u)),
        _ => bail!(
            "berth runs as root and PostgreSQL refuses to: create an unprivileged '{name}' account \
             (the Debian postgresql package does), set BERTH_POSTGRES_USER, or set DATABASE_URL"
        ),
    }
}

/// Every folder above the data directory must let the server account pass through.
fn check_traversable(dir: &Path, user: RunAs) -> anyhow::Result<()> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = std::fs::metadata(ancestor)?;
        let mode = meta.permissions().mode();
        let passable = mode & 0o001 != 0
            || (std::os::unix::fs::MetadataExt::uid(&meta) == user.uid && mode & 0o100 != 0)
            || (std::os::unix::fs::MetadataExt::gid(&meta) == user.gid && mode & 0o010 != 0);
        if !passable {
            bail!(
                "the PostgreSQL account (uid {}) cannot enter {} (mode {:o}); put BERTH_DATA_DIR elsewhere or allow it with chmod o+x",
                user.uid,
                ancestor.display(),
                mode & 0o777
            );
        }
    }
    Ok(())
}

fn make_private_dir(dir: &Path, run_as: Option<RunAs>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    if let Some(user) = run_as {
        chown(dir, Some(user.uid), Some(user.gid))?;
    }
    Ok(())
}

/// initdb into a scratch folder, then rename: a crash halfway never leaves a half cluster.
async fn init_cluster(
    bin: &Path,
    data_dir: &Path,
    pgdata: &Path,
    run_as: Option<RunAs>,
) -> anyhow::Result<()> {
    let scratch = data_dir.join("postgres.init");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    make_private_dir(&scratch, run_as)?;
    tracing::info!(path = %pgdata.display(), "creating the embedded Postgres cluster");
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D")
        .arg(&scratch)
        .args([
            "-U",
            DB_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ])
        .current_dir(data_dir)
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    if let Some(user) = run_as {
        cmd.uid(user.uid).gid(user.gid);
    }
    let out = cmd.output().await.context("running initdb")?;
    if !out.status.success() {
        bail!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    std::fs::rename(&scratch, pgdata)?;
    Ok(())
}

/// The socket folder inside the data directory, or under /tmp when that path is too long.
fn socket_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let preferred = data_dir.join("run");
    let socket_file_len = |dir: &Path| dir.as_os_str().len() + format!("/.s.PGSQL.{PORT}").len();
    if socket_file_len(&preferred) <= MAX_SOCKET_PATH {
        return Ok(preferred);
    }
    let hash = data_dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
        });
    Ok(std::env::temp_dir().join(format!("berth-pg-{hash:016x}")))
}

/// A postmaster left running by a berth that was killed: we hold the data directory lock,
/// so no berth owns it any more. Stop it before starting our own.
async fn stop_orphan(pgdata: &Path) -> anyhow::Result<()> {
    let Ok(pidfile) = std::fs::read_to_string(pgdata.join("postmaster.pid")) else {
        return Ok(());
    };
    let Some(pid) = pidfile
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    else {
        return Ok(());
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let is_postgres = cmdline
        .split(|b| *b == 0)
        .next()
        .map(|exe| Path::new(OsStr::from_bytes(exe)))
        .is_some_and(|exe| exe.file_name() == Some(OsStr::new("postgres")));
    if !is_postgres {
        return Ok(()); // stale pid file: Postgres cleans it up itself
    }
    tracing::warn!(pid, "stopping a Postgres left running by an earlier berth");
    signal(pid as u32, libc::SIGINT);
    for _ in 0..300 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "a Postgres (pid {pid}) from an earlier berth is still running on {}; stop it and retry",
        pgdata.display()
    )
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
