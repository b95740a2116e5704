//! Where a push-to-deploy service's image comes from: a git repository, a branch, and how
//! to build it. Everything here ends up as an argument of the `git` program or a path in
//! a build context, so the rules are strict allowlists: what passes cannot be read as an
//! option, a transport helper, a revision range or a path outside the checkout.

use super::field::FieldError;
use serde::{Deserialize, Serialize};

const MAX_REPO_URL: usize = 2048;
const MAX_BRANCH: usize = 200;
const MAX_PATH: usize = 512;
const MAX_BUILD_ARGS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    /// `https://…`, `http://…`, `ssh://…`, `git@host:path`, `file:///…` or an absolute path.
    pub repo: String,
    pub branch: String,
    /// The Dockerfile, relative to the build context.
    #[serde(default = "default_dockerfile")]
    pub dockerfile: String,
    /// The build context, relative to the repository root (`.` = the root).
    #[serde(default = "default_context")]
    pub context: String,
    #[serde(default)]
    pub build_args: Vec<BuildArg>,
    /// How to read a private repository; the secret part is encrypted at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<GitCredentials>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildArg {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum GitCredentials {
    /// An access token for an https repository (sent as HTTP basic auth).
    Token {
        #[serde(default = "default_token_user")]
        username: String,
        /// Encrypted at rest, never sent back; empty on an update keeps the stored one.
        token: String,
    },
    /// A deploy key (OpenSSH private key) for an ssh repository.
    DeployKey {
        /// Encrypted at rest, never sent back; empty on an update keeps the stored one.
        private_key: String,
    },
}

impl GitCredentials {
    /// The secret part, to seal, mask or keep.
    pub fn secret_mut(&mut self) -> &mut String {
        match self {
            GitCredentials::Token { token, .. } => token,
            GitCredentials::DeployKey { private_key } => private_key,
        }
    }
}

fn default_dockerfile() -> String {
    "Dockerfile".to_owned()
}
fn default_context() -> String {
    ".".to_owned()
}
fn default_token_user() -> String {
    "x-access-token".to_owned()
}

/// How `git` reaches a repository, as far as credentials care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoTransport {
    Http,
    Ssh,
    Local,
}

/// The transport of a repository URL, or why it is refused.
pub fn check_repo_url(url: &str) -> Result<RepoTransport, &'static str> {
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
    // `ext::sh -c …` runs a command; `fd::` and other `<helper>::` forms are refused too.
    if url.contains("::") {
        return Err("Transport helpers (`ext::`, `fd::`) are not allowed.");
    }
    let lower = url.to_ascii_lowercase();
    let after_scheme = |scheme: &str| lower.strip_prefix(scheme).map(|rest| rest.to_owned());
    if let Some(rest) = after_scheme("https://").or_else(|| after_scheme("http://")) {
        return host_then_path(&rest).map(|_| RepoTransport::Http);
    }
    if let Some(rest) = after_scheme("ssh://") {
        return host_then_path(&rest).map(|_| RepoTransport::Ssh);
    }
    if let Some(rest) = after_scheme("file://") {
        return if rest.starts_with('/') && !has_dot_dot(&rest) {
            Ok(RepoTransport::Local)
        } else {
            Err("A file URL names an absolute path: file:///srv/git/app.git.")
        };
    }
    if url.starts_with('/') {
        return if has_dot_dot(url) {
            Err("A local repository path cannot contain '..'.")
        } else {
            Ok(RepoTransport::Local)
        };
    }
    if lower.contains("://") {
        return Err("Use an https://, http://, ssh:// or file:// URL.");
    }
    // scp-like: [user@]host:path
    match url.split_once(':') {
        Some((user_host, path)) if !user_host.contains('/') && !path.is_empty() => {
            let host = user_host.rsplit('@').next().unwrap_or_default();
            if is_host(host) && !path.starts_with('-') {
                Ok(RepoTransport::Ssh)
            } else {
                Err("Not a valid user@host:path repository address.")
            }
        }
        _ => Err("Use an https://, ssh:// or file:// URL, git@host:path, or an absolute path."),
    }
}

fn has_dot_dot(path: &str) -> bool {
    path.split('/').any(|c| c == "..")
}

/// `rest` is `[user@]host[:port]/path…`; the host must be a plain name or address.
fn host_then_path(rest: &str) -> Result<(), &'static str> {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    if !is_host(host) && !host.contains(':') {
        return Err("The repository URL has no valid host name.");
    }
    if path.is_empty() {
        return Err("The repository URL names no repository path.");
    }
    Ok(())
}

fn is_host(host: &str) -> bool {
    !host.is_empty()
        && !host.starts_with('-')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// A branch name git accepts (`git check-ref-format --branch`) and that can only be read
/// as a branch: letters, digits and `. _ - / # +`, no `..`, no leading `-`, no component
/// starting with `.` or ending with `.lock`.
pub fn check_branch(branch: &str) -> Result<(), &'static str> {
    if branch.is_empty() {
        return Err("Enter a branch.");
    }
    if branch.len() > MAX_BRANCH {
        return Err("The branch name is too long.");
    }
    if !branch
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '#' | '+'))
    {
        return Err("A branch name has letters, digits and . _ - / # + only.");
    }
    if branch.starts_with('-') {
        return Err("A branch name cannot start with '-'.");
    }
    if branch.contains("..") || branch.contains("//") {
        return Err("A branch name cannot contain '..' or '//'.");
    }
    if branch.ends_with('/') || branch.ends_with('.') || branch.starts_with('/') {
        return Err("A branch name cannot start or end with '/', or end with '.'.");
    }
    if branch
        .split('/')
        .any(|c| c.starts_with('.') || c.ends_with(".lock"))
    {
        return Err("A branch name part cannot start with '.' or end with '.lock'.");
    }
    if branch == "HEAD" {
        return Err("Name a branch, not HEAD.");
    }
    Ok(())
}

/// A full commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
pub fn is_commit_sha(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A relative path inside the checkout: no absolute path, no `..`, no `\`.
pub fn check_repo_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("Enter a path (`.` is the repository root).");
    }
    if path.len() > MAX_PATH {
        return Err("The path is too long.");
    }
    if path.starts_with('/') || path.contains('\\') || path.chars().any(|c| c.is_control()) {
        return Err("A path is relative to the repository, with '/' separators.");
    }
    if has_dot_dot(path) {
        return Err("A path cannot leave the repository ('..').");
    }
    Ok(())
}

/// The Docker build-arg name rules of a shell variable: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_arg_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && key.len() <= 128
}

impl GitSource {
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        let transport = match check_repo_url(&self.repo) {
            Ok(t) => Some(t),
            Err(m) => {
                errors.push(FieldError::new("git.repo", m));
                None
            }
        };
        if let Err(m) = check_branch(&self.branch) {
            errors.push(FieldError::new("git.branch", m));
        }
        if let Err(m) = check_repo_path(&self.dockerfile) {
            errors.push(FieldError::new("git.dockerfile", m));
        }
        if let Err(m) = check_repo_path(&self.context) {
            errors.push(FieldError::new("git.context", m));
        }
        if self.build_args.len() > MAX_BUILD_ARGS {
            errors.push(FieldError::new(
                "git.build_args",
                format!("At most {MAX_BUILD_ARGS} build arguments."),
            ));
        }
        for (i, arg) in self.build_args.iter().enumerate() {
            if !is_arg_name(&arg.key) {
                errors.push(FieldError::new(
                    format!("git.build_args[{i}].key"),
                    "A build argument name has letters, digits and '_' and does not start with a digit.",
                ));
            }
            if arg.value.len() > 4096 || arg.value.contains('\0') {
                errors.push(FieldError::new(
                    format!("git.build_args[{i}].value"),
                    "A build argument value is at most 4096 bytes, without NUL.",
                ));
            }
        }
        match (&self.credentials, transport) {
            (Some(GitCredentials::Token { username, .. }), Some(t)) => {
                if t != RepoTransport::Http {
                    errors.push(FieldError::new(
                        "git.credentials",
                        "A token works with an https repository URL.",
                    ));
                }
                if username.is_empty()
                    || username.len() > 100
                    || username.contains([':', '\n', '\r'])
                {
                    errors.push(FieldError::new(
                        "git.credentials.username",
                        "A user name of 1–100 characters, without ':'.",
                    ));
                }
            }
            (Some(GitCredentials::DeployKey { private_key }), Some(t)) => {
                if t != RepoTransport::Ssh {
                    errors.push(FieldError::new(
                        "git.credentials",
                        "A deploy key works with an ssh repository URL.",
                    ));
                }
                if !private_key.is_empty() && !private_key.trim_start().starts_with("-----BEGIN ") {
                    errors.push(FieldError::new(
                        "git.credentials.private_key",
                        "Paste the whole private key, from its -----BEGIN line.",
                    ));
                }
            }
            _ => {}
        }
    }

    /// The image tag a build of `commit` gets: `berth/<team>/<service>:<commit12>`.
    pub fn image_tag(team_slug: &str, service: &str, commit: &str) -> String {
        format!(
            "{}:{}",
            Self::image_repository(team_slug, service),
            &commit[..12.min(commit.len())]
        )
    }

    /// The repository part of every image built for a service.
    pub fn image_repository(team_slug: &str, service: &str) -> String {
        format!("berth/{team_slug}/{service}")
    }
}

#[cfg(test)]
#[path = "git_source_tests.rs"]
mod tests;
