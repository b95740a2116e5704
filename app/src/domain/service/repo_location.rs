//! Where a git repository is, parsed once: scheme URLs with the `url` crate (the WHATWG
//! parser, so `http://0x7f.1/` is judged as the 127.0.0.1 it means and `http://[::1]/` as
//! host `::1`), the scp form `user@host:path` and local paths by hand. The *origin* is
//! what stored credentials are bound to; the host is what the outbound rule judges.

use crate::domain::outbound::{is_local_name, refusal_message, refused_reason};
use std::net::IpAddr;

const MAX_REPO_URL: usize = 2048;

/// How `git` reaches a repository, as far as credentials care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoTransport {
    Http,
    Ssh,
    Local,
}

/// A repository host: a DNS name (lowercase ASCII) or an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoHost {
    Name(String),
    Ip(IpAddr),
}

impl std::fmt::Display for RepoHost {
    /// As in a URL: IPv6 addresses in brackets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RepoHost::Name(n) => f.write_str(n),
            RepoHost::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            RepoHost::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A parsed repository address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoLocation {
    /// `http(s)://…`; `url` is the normalised URL git is given.
    Http {
        url: String,
        scheme: String,
        host: RepoHost,
        port: u16,
    },
    /// `ssh://…` or `[user@]host:path`.
    Ssh { host: RepoHost, port: u16 },
    /// `file:///…` or an absolute path: `path` is the absolute path.
    Local { path: String },
}

impl RepoLocation {
    pub fn transport(&self) -> RepoTransport {
        match self {
            RepoLocation::Http { .. } => RepoTransport::Http,
            RepoLocation::Ssh { .. } => RepoTransport::Ssh,
            RepoLocation::Local { .. } => RepoTransport::Local,
        }
    }

    /// Scheme, host and port (`https://git.example.com:443`, `ssh://[::1]:22`,
    /// `file://`): a stored token or deploy key is kept, and opens, only for this origin.
    pub fn origin(&self) -> String {
        match self {
            RepoLocation::Http {
                scheme, host, port, ..
            } => format!("{scheme}://{host}:{port}"),
            RepoLocation::Ssh { host, port } => format!("ssh://{host}:{port}"),
            RepoLocation::Local { .. } => "file://".to_owned(),
        }
    }

    /// The host and port a network repository is reached at.
    pub fn host_port(&self) -> Option<(&RepoHost, u16)> {
        match self {
            RepoLocation::Http { host, port, .. } | RepoLocation::Ssh { host, port } => {
                Some((host, *port))
            }
            RepoLocation::Local { .. } => None,
        }
    }
}

/// The origin of a repository URL (see [`RepoLocation::origin`]); the URL itself when it
/// does not parse, so a changed unparsable URL never matches a stored origin.
pub fn repo_origin(url: &str) -> String {
    check_repo_url(url).map_or_else(|_| url.to_owned(), |l| l.origin())
}

/// The location of a repository URL, or why it is refused.
pub fn check_repo_url(url: &str) -> Result<RepoLocation, &'static str> {
    if url.is_empty() {
        return Err("Enter the repository's URL.");
    }
    if url.len() > MAX_REPO_URL {
        return Err("The repository URL is too long.");
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("A repository URL has no spaces or control characters.");
    }
    if url.starts_with('-') {
        return Err("A repository URL cannot start with '-' (it would be read as an option).");
    }
    // git reads `<helper>::<address>` as a transport helper (`ext::sh -c …` runs a command).
    let scheme_len = url
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .unwrap_or(url.len());
    if url[scheme_len..].starts_with("::") {
        return Err("Transport helpers (`ext::`, `fd::`) are not allowed.");
    }
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return http_location(url);
    }
    if lower.starts_with("ssh://") {
        return ssh_url_location(url);
    }
    if let Some(rest) = lower.strip_prefix("file://") {
        return if rest.starts_with('/') {
            local_path(&url["file://".len()..])
        } else {
            Err("A file URL names an absolute path: file:///srv/git/app.git.")
        };
    }
    if url.starts_with('/') {
        return local_path(url);
    }
    if lower.contains("://") {
        return Err("Use an https://, http://, ssh:// or file:// URL.");
    }
    scp_location(url)
}

fn http_location(raw: &str) -> Result<RepoLocation, &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "The repository URL has no valid host name.")?;
    refuse_password(&url)?;
    let host = match url.host() {
        Some(url::Host::Domain(d)) if is_host(d) => RepoHost::Name(d.to_owned()),
        Some(url::Host::Ipv4(v4)) => RepoHost::Ip(v4.into()),
        Some(url::Host::Ipv6(v6)) => RepoHost::Ip(v6.into()),
        _ => return Err("The repository URL has no valid host name."),
    };
    if url.path().trim_matches('/').is_empty() {
        return Err("The repository URL names no repository path.");
    }
    Ok(RepoLocation::Http {
        port: url.port_or_known_default().unwrap_or(443),
        scheme: url.scheme().to_owned(),
        url: url.to_string(),
        host,
    })
}

fn ssh_url_location(raw: &str) -> Result<RepoLocation, &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "The repository URL has no valid host name.")?;
    refuse_password(&url)?;
    let host = url
        .host_str()
        .ok_or("The repository URL has no valid host name.")?;
    let host = parse_host(host.trim_start_matches('[').trim_end_matches(']'))?;
    if url.path().trim_matches('/').is_empty() {
        return Err("The repository URL names no repository path.");
    }
    Ok(RepoLocation::Ssh {
        host,
        port: url.port().unwrap_or(22),
    })
}

/// A password (or token) written into the URL would be stored and shown in the clear with
/// the definition; it belongs in the sealed credentials. A user name alone is harmless.
fn refuse_password(url: &url::Url) -> Result<(), &'static str> {
    match url.password() {
        Some(_) => Err("Put the token in the credentials, not in the URL: a URL is stored and shown unencrypted."),
        None => Ok(()),
    }
}

/// `[user@]host:path` or `[user@][v6]:path`.
fn scp_location(url: &str) -> Result<RepoLocation, &'static str> {
    const WRONG: &str = "Not a valid user@host:path repository address.";
    let (user, rest) = match url.split_once('@') {
        Some((user, rest)) if !user.contains([':', '/']) => (Some(user), rest),
        _ => (None, url),
    };
    let (host, path) =
        match rest.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or(WRONG)?;
                (host, after.strip_prefix(':').ok_or(WRONG)?)
            }
            None => match rest.split_once(':') {
                Some((host, path)) if !host.contains('/') => (host, path),
                _ => return Err(
                    "Use an https://, ssh:// or file:// URL, git@host:path, or an absolute path.",
                ),
            },
        };
    if path.is_empty() || path.starts_with('-') || user.is_some_and(|u| u.starts_with('-')) {
        return Err(WRONG);
    }
    let host = parse_host(host).map_err(|_| WRONG)?;
    Ok(RepoLocation::Ssh { host, port: 22 })
}

/// A host as the resolver would read it: WHATWG's IPv4 parsing turns `0x7f.1` into the
/// 127.0.0.1 that `getaddrinfo` would also make of it.
fn parse_host(host: &str) -> Result<RepoHost, &'static str> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(RepoHost::Ip(ip));
    }
    match url::Host::parse(host) {
        Ok(url::Host::Ipv4(v4)) => Ok(RepoHost::Ip(v4.into())),
        Ok(url::Host::Ipv6(v6)) => Ok(RepoHost::Ip(v6.into())),
        Ok(url::Host::Domain(d)) if is_host(&d) => Ok(RepoHost::Name(d)),
        _ => Err("The repository URL has no valid host name."),
    }
}

fn local_path(path: &str) -> Result<RepoLocation, &'static str> {
    if path.split('/').any(|c| c == "..") {
        return Err("A local repository path cannot contain '..'.");
    }
    if path.contains(['%', '?', '#']) {
        return Err("A local repository path has no '%', '?' or '#'.");
    }
    Ok(RepoLocation::Local {
        path: path.to_owned(),
    })
}

fn is_host(host: &str) -> bool {
    !host.is_empty()
        && !host.starts_with('-')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Whether Berth may fetch from `location`, judged when a service is saved: a host that is
/// an internal address or `localhost` is refused unless `allow_private`; a local path only
/// below `local_root` (no root: no local repositories). Names are resolved and judged
/// again when a build connects (the address checked is the one connected to).
pub fn check_repo_target(
    location: &RepoLocation,
    allow_private: bool,
    local_root: Option<&str>,
) -> Result<(), String> {
    match location {
        RepoLocation::Local { path } => match local_root.map(|r| r.trim_end_matches('/')) {
            Some(root) if !root.is_empty() && path.strip_prefix(root).is_some_and(|rest| rest.starts_with('/')) => Ok(()),
            Some(root) if !root.is_empty() => Err(format!(
                "A local repository must be below {root}/ (BERTH_GIT_LOCAL_ROOT)."
            )),
            _ => Err("Local repositories (file:// and paths) are turned off on this instance (BERTH_GIT_LOCAL_ROOT is not set).".to_owned()),
        },
        _ if allow_private => Ok(()),
        RepoLocation::Http { host, .. } | RepoLocation::Ssh { host, .. } => match host {
            RepoHost::Ip(ip) => match refused_reason(*ip) {
                Some(reason) => Err(refusal_message(&ip.to_string(), reason)),
                None => Ok(()),
            },
            RepoHost::Name(name) if is_local_name(name) => {
                Err(refusal_message(name, "a loopback address"))
            }
            RepoHost::Name(_) => Ok(()),
        },
    }
}
