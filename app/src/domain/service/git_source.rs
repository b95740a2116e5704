//! Where a push-to-deploy service's image comes from: a git repository, a branch, and how
//! to build it. Everything here ends up as an argument of the `git` program or a path in
//! a build context, so the rules are strict allowlists: what passes cannot be read as an
//! option, a transport helper, a revision range or a path outside the checkout.

use super::field::FieldError;
use super::repo_location::{check_repo_url, RepoTransport};
use serde::{Deserialize, Serialize};

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

fn has_dot_dot(path: &str) -> bool {
    path.split('/').any(|c| c == "..")
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
            Ok(location) => Some(location.transport()),
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
