//! Configuration: every setting is a flag and a `BERTH_*` environment variable
//! (`berth --help` lists them with their defaults).

use crate::telemetry::LogFormat;
use clap::Parser;
use std::{net::IpAddr, net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth: a self-hosted PaaS on your own Docker engine"
)]
pub struct Config {
    /// Address the dashboard and API listen on.
    #[arg(long, env = "BERTH_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Berth's data directory: the embedded Postgres cluster and key files live here.
    #[arg(long, env = "BERTH_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Use this PostgreSQL server instead of the embedded one (postgres://user:pass@host/db).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Key that seals secrets at rest (base64 of 32 bytes). Overrides the key file.
    #[arg(long, env = "BERTH_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// File holding the secret key; created (mode 0600) on first start. Default: <data dir>/secret.key.
    #[arg(long, env = "BERTH_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Where backups are written (created, mode 0700). Default: <data dir>/backups.
    #[arg(long, env = "BERTH_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,

    /// Directory holding the PostgreSQL server programs (initdb, postgres) for the embedded
    /// database. Default: the newest /usr/lib/postgresql/*/bin, then PATH.
    #[arg(long, env = "BERTH_POSTGRES_BIN")]
    pub postgres_bin: Option<PathBuf>,

    /// Docker engine address (unix:///var/run/docker.sock, tcp://host:2375). Default: DOCKER_HOST, then the local socket.
    #[arg(long, env = "BERTH_DOCKER_HOST")]
    pub docker_host: Option<String>,

    /// The URL people use to reach Berth (e.g. https://berth.example.com). Cookies are
    /// marked Secure when it is https, and its origin is accepted for unsafe requests.
    #[arg(long, env = "BERTH_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Folder with the built site (pkg/berth.js, berth.css, ...). Default: found next to the binary.
    #[arg(long, env = "BERTH_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// A session ends after this long without a request (e.g. 30m, 1h).
    #[arg(long, env = "BERTH_SESSION_IDLE_TIMEOUT", default_value = "30m", value_parser = parse_duration)]
    pub session_idle_timeout: Duration,

    /// A session ends this long after sign-in, however active (e.g. 12h).
    #[arg(long, env = "BERTH_SESSION_LIFETIME", default_value = "12h", value_parser = parse_duration)]
    pub session_lifetime: Duration,

    /// A connection that has not sent a whole request head (line and headers) this long
    /// after it opened, or after its previous request, is closed (e.g. 10s).
    #[arg(long, env = "BERTH_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,

    /// A request body not received in full this long after the request head is answered
    /// 408 Request Timeout (e.g. 30s).
    #[arg(long, env = "BERTH_BODY_READ_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub body_read_timeout: Duration,

    /// A rollout whose new replicas are not all ready by then is rolled back (e.g. 5m).
    #[arg(long, env = "BERTH_DEPLOY_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub deploy_timeout: Duration,

    /// A rollout's image pull that has not finished by then fails the rollout ("pull timed
    /// out"); the deploy deadline starts only once the image is present (e.g. 10m).
    #[arg(long, env = "BERTH_PULL_TIMEOUT", default_value = "10m", value_parser = parse_duration)]
    pub pull_timeout: Duration,

    /// Outside a rollout, a running replica whose health check keeps failing (the image's
    /// own HEALTHCHECK, a command check, or Berth's HTTP probe) this long without a break is
    /// replaced: removed and created again (e.g. 60s).
    #[arg(long, env = "BERTH_UNHEALTHY_REPLACE_AFTER", default_value = "60s", value_parser = parse_duration)]
    pub unhealthy_replace_after: Duration,

    /// Grace between SIGTERM and SIGKILL when Berth stops a container (e.g. 10s).
    #[arg(long, env = "BERTH_STOP_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub stop_grace: Duration,

    /// How often every service is checked against Docker even without an event (e.g. 15s).
    #[arg(long, env = "BERTH_RESYNC_INTERVAL", default_value = "15s", value_parser = parse_duration)]
    pub resync_interval: Duration,

    /// The IANA time zone job schedules are read in and their next runs shown in (e.g.
    /// Europe/Berlin).
    #[arg(long, env = "BERTH_TIME_ZONE", default_value = "UTC", value_parser = parse_time_zone)]
    pub time_zone: chrono_tz::Tz,

    /// Reverse proxies whose X-Forwarded-For is believed for rate limiting (comma-separated IPs).
    #[arg(long, env = "BERTH_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// Caddy's admin API (e.g. http://127.0.0.1:2019). Set, Berth routes services' domains
    /// through that Caddy; unset, domains are stored but not routed.
    #[arg(long, env = "BERTH_CADDY_ADMIN")]
    pub caddy_admin: Option<String>,

    /// Automatic HTTPS for routed domains (Caddy gets certificates by ACME). Off: plain http
    /// only, for local and test domains.
    #[arg(long, env = "BERTH_PROXY_TLS", default_value = "true", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub proxy_tls: bool,

    /// Port Caddy serves plain http (and redirects to https) on.
    #[arg(long, env = "BERTH_PROXY_HTTP_PORT", default_value_t = 80)]
    pub proxy_http_port: u16,

    /// Port Caddy serves https on.
    #[arg(long, env = "BERTH_PROXY_HTTPS_PORT", default_value_t = 443)]
    pub proxy_https_port: u16,

    /// A domain for the dashboard itself, routed by the edge proxy to BERTH_ADDR.
    #[arg(long, env = "BERTH_DOMAIN")]
    pub domain: Option<String>,

    /// Between taking replicas out of the routes and stopping them (e.g. 3s).
    #[arg(long, env = "BERTH_DRAIN_DELAY", default_value = "3s", value_parser = parse_duration)]
    pub drain_delay: Duration,

    /// Image builds (push to deploy) running at once.
    #[arg(long, env = "BERTH_BUILD_CONCURRENCY", default_value_t = 2)]
    pub build_concurrency: usize,

    /// A build still running after this is stopped and failed (e.g. 20m).
    #[arg(long, env = "BERTH_BUILD_TIMEOUT", default_value = "20m", value_parser = parse_duration)]
    pub build_timeout: Duration,

    /// Built images kept per git service for rollback: the newest that went live (the live
    /// one is always kept); older ones are removed.
    #[arg(long, env = "BERTH_KEEP_IMAGES", default_value_t = 5)]
    pub keep_images: u32,

    /// Waits between a notification's attempts (comma-separated durations); one attempt
    /// more than there are waits, then the delivery is marked failed.
    #[arg(long, env = "BERTH_NOTIFY_RETRY_DELAYS", default_value = "10s,30s,2m,10m", value_delimiter = ',', value_parser = parse_duration)]
    pub notify_retry_delays: Vec<Duration>,

    /// Local git repositories (file:// URLs and absolute paths) are allowed only below this
    /// folder. Empty or unset: no local repositories at all.
    #[arg(long, env = "BERTH_GIT_LOCAL_ROOT")]
    pub git_local_root: Option<PathBuf>,

    /// The image registry built images are pushed to (`host[:port][/path]`), so every
    /// Swarm node pulls them by digest; unset: built images stay on this engine.
    #[arg(long, env = "BERTH_REGISTRY")]
    pub registry: Option<String>,

    /// What runs the services' replicas: `engine` (containers on BERTH_DOCKER_HOST's
    /// engine) or `swarm` (a Swarm service each; the engine must be a swarm manager).
    #[arg(long, env = "BERTH_ORCHESTRATOR", value_enum, default_value = "engine")]
    pub orchestrator: crate::worker::Orchestrator,

    /// Log format.
    #[arg(long, env = "BERTH_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl Config {
    /// The external database, if any: an empty DATABASE_URL counts as unset.
    pub fn external_database(&self) -> Option<&str> {
        self.database_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }

    pub fn secret_key_file(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    /// Secure cookies only when people reach Berth over https.
    /// Where backups go and how Berth's database is dumped (`pg_dump` beside the server
    /// programs; DATABASE_URL's password given to it in PGPASSWORD only).
    pub fn backup_settings(&self) -> crate::backups::BackupSettings {
        let password = self
            .external_database()
            .and_then(crate::backups::password_of);
        let pg_dump = crate::db::postgres_bin_dir(self.postgres_bin.as_deref())
            .map(|d| d.join("pg_dump"))
            .ok()
            .filter(|p| p.is_file())
            .unwrap_or_else(crate::backups::default_pg_dump);
        crate::backups::BackupSettings {
            dir: self
                .backup_dir
                .clone()
                .unwrap_or_else(|| self.data_dir.join("backups")),
            pg_dump,
            database_password: password,
            secret_key_location: if self.secret_key.is_some() {
                "the BERTH_SECRET_KEY environment variable".into()
            } else {
                self.secret_key_file().display().to_string()
            },
            time_zone: self.time_zone,
            ..Default::default()
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// How image builds run; checkouts go under the data directory.
    pub fn build_settings(&self) -> crate::build::BuildSettings {
        crate::build::BuildSettings {
            work_dir: self.data_dir.join("builds"),
            concurrency: self.build_concurrency.max(1),
            timeout: self.build_timeout,
            keep_images: i64::from(self.keep_images),
            git_local_root: self.git_local_root(),
            registry: self.registry.clone().filter(|r| !r.trim().is_empty()),
        }
    }

    /// BERTH_GIT_LOCAL_ROOT with its symbolic links resolved (as paths are when a build
    /// opens them); `None` when unset or empty. A folder that does not exist is kept as
    /// given (nothing is below it yet).
    pub fn git_local_root(&self) -> Option<String> {
        let root = self
            .git_local_root
            .as_ref()
            .filter(|r| !r.as_os_str().is_empty())?;
        let root = root.canonicalize().unwrap_or_else(|_| root.clone());
        Some(root.display().to_string())
    }

    /// The edge proxy, when a Caddy admin address is set.
    pub fn proxy_settings(&self) -> Option<crate::proxy::ProxySettings> {
        let admin = self
            .caddy_admin
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())?;
        Some(crate::proxy::ProxySettings {
            admin_url: admin.to_owned(),
            listen: app::domain::service::ProxyListen {
                tls: self.proxy_tls,
                http_port: self.proxy_http_port,
                https_port: self.proxy_https_port,
            },
            drain_delay: self.drain_delay,
            dashboard: self
                .domain
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| (d.to_owned(), self.addr.to_string())),
        })
    }

    /// A one-line summary for the log, with passwords hidden.
    pub fn redacted_summary(&self) -> String {
        let db = match self.external_database() {
            Some(url) => redact_url(url),
            None => format!("embedded in {}", self.data_dir.join("postgres").display()),
        };
        format!(
            "addr={} data_dir={} database={} public_url={} session_idle_timeout={:?} session_lifetime={:?} trusted_proxies={:?} header_read_timeout={:?} body_read_timeout={:?} deploy_timeout={:?} pull_timeout={:?} unhealthy_replace_after={:?} stop_grace={:?} resync_interval={:?} caddy_admin={} proxy_tls={} drain_delay={:?} build_concurrency={} build_timeout={:?} keep_images={} git_local_root={} time_zone={} orchestrator={:?} registry={}",
            self.addr,
            self.data_dir.display(),
            db,
            self.public_url.as_deref().unwrap_or("-"),
            self.session_idle_timeout,
            self.session_lifetime,
            self.trusted_proxies,
            self.header_read_timeout,
            self.body_read_timeout,
            self.deploy_timeout,
            self.pull_timeout,
            self.unhealthy_replace_after,
            self.stop_grace,
            self.resync_interval,
            self.caddy_admin.as_deref().unwrap_or("-"),
            self.proxy_tls,
            self.drain_delay,
            self.build_concurrency,
            self.build_timeout,
            self.keep_images,
            self.git_local_root().as_deref().unwrap_or("-"),
            self.time_zone,
            self.orchestrator,
            self.registry.as_deref().unwrap_or("-"),
        )
    }
}

/// Hides the password of a URL (`postgres://user:secret@host` → `postgres://user:****@host`),
/// including one passed as a `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "****".into();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:****@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let query = match query {
        Some(q) if q.contains("password") => "?****".to_owned(),
        Some(q) => format!("?{q}"),
        None => String::new(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

/// An IANA time zone name (BERTH_TIME_ZONE).
fn parse_time_zone(s: &str) -> Result<chrono_tz::Tz, String> {
    app::domain::jobs::schedule::time_zone(s)
}

/// `90s`, `30m`, `12h`, `2d`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 90s, 30m, 12h or 2d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit in '{s}': use s, m, h or d")),
    };
    if secs == 0 {
        return Err("a duration must be longer than zero".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://berth:s3cret@db:5432/berth"),
            "postgres://berth:****@db:5432/berth"
        );
        assert_eq!(
            redact_url("postgres://berth@db/berth"),
            "postgres://berth@db/berth"
        );
        assert_eq!(
            redact_url("postgres://db/berth?user=a&password=s3cret"),
            "postgres://db/berth?****"
        );
        assert_eq!(
            redact_url("postgres://u:p@ss@db/x"),
            "postgres://u:****@db/x"
        );
        assert!(!redact_url("garbage:s3cret").contains("s3cret"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn defaults_match_the_readme() {
        let c = Config::try_parse_from(["berth"]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.session_idle_timeout, Duration::from_secs(30 * 60));
        assert_eq!(c.session_lifetime, Duration::from_secs(12 * 3600));
        assert_eq!(c.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.body_read_timeout, Duration::from_secs(30));
        assert!(!c.secure_cookies());
        assert_eq!(c.orchestrator, crate::worker::Orchestrator::Engine);
        let swarm = Config::try_parse_from(["berth", "--orchestrator", "swarm"]).unwrap();
        assert_eq!(swarm.orchestrator, crate::worker::Orchestrator::Swarm);
        assert!(
            c.proxy_settings().is_none(),
            "no routing unless Caddy is named"
        );
        let c =
            Config::try_parse_from(["berth", "--caddy-admin", "http://127.0.0.1:2019"]).unwrap();
        let p = c.proxy_settings().unwrap();
        assert!(p.listen.tls);
        assert_eq!((p.listen.http_port, p.listen.https_port), (80, 443));
        assert_eq!(p.drain_delay, Duration::from_secs(3));
        let c = Config::try_parse_from(["berth", "--proxy-tls", "off"]).unwrap();
        assert!(!c.proxy_tls);
        let c =
            Config::try_parse_from(["berth", "--public-url", "https://berth.example.com"]).unwrap();
        assert!(c.secure_cookies());
    }
}
