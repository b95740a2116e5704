//! An environment's git repository: where the `build:` sections of a compose file imported
//! into it are built from. A URL, a branch and optional credentials, checked with the rules
//! of a git service's source ([`GitSource::check`]) and sealed like its credentials.

use super::service::{repo_origin, BuildArg, FieldError, GitCredentials, GitSource, SECRET_MASK};
use serde::{Deserialize, Serialize};

/// `PUT /api/v1/environments/{id}/repository`, and (credentials masked) part of an
/// environment as it is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvironmentRepository {
    /// `https://…`, `http://…`, `ssh://…`, `git@host:path`, `file:///…` or an absolute path
    /// (below BERTH_GIT_LOCAL_ROOT), as for a git service.
    pub repo: String,
    pub branch: String,
    /// How to read a private repository: encrypted at rest and never sent back (read as
    /// `********`); sent empty or as `********` keeps the stored one (same host only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<GitCredentials>,
}

impl EnvironmentRepository {
    /// The repository as a git source of the given build (for [`Self::check`], and for a
    /// service a compose import builds from it).
    pub fn git_source(&self, context: &str, dockerfile: &str, args: &[BuildArg]) -> GitSource {
        GitSource {
            repo: self.repo.clone(),
            branch: self.branch.clone(),
            dockerfile: dockerfile.to_owned(),
            context: context.to_owned(),
            build_args: args.to_vec(),
            credentials: self.credentials.clone(),
        }
    }

    /// Trimmed URL and branch.
    pub fn normalised(mut self) -> Self {
        self.repo = self.repo.trim().to_owned();
        self.branch = self.branch.trim().to_owned();
        self
    }

    /// Every broken rule, on `repo`, `branch`, `credentials…` (the same rules as a git
    /// service's `git.repo`, `git.branch`, `git.credentials…`).
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        self.git_source(".", "Dockerfile", &[]).check(&mut errors);
        if errors.is_empty() {
            return Ok(());
        }
        Err(errors
            .into_iter()
            .map(|e| FieldError::new(e.field.trim_start_matches("git."), e.message))
            .collect())
    }

    /// Credentials sent empty (or masked) take the stored secret when the repository
    /// stays on the same host and the credentials are of the same kind; on another host
    /// that is refused on the secret's field.
    pub fn keep_stored_secret(
        &mut self,
        stored: Option<&EnvironmentRepository>,
    ) -> Result<(), FieldError> {
        let Some(creds) = self.credentials.as_mut() else {
            return Ok(());
        };
        let secret = creds.secret_mut().as_str();
        if !(secret.is_empty() || secret == SECRET_MASK) {
            return Ok(());
        }
        let field = match creds {
            GitCredentials::Token { .. } => "credentials.token",
            GitCredentials::DeployKey { .. } => "credentials.private_key",
        };
        let old = stored
            .filter(|s| repo_origin(&s.repo) == repo_origin(&self.repo))
            .and_then(|s| s.credentials.clone())
            .filter(|o| std::mem::discriminant(o) == std::mem::discriminant(&*creds));
        match old {
            Some(mut old) => {
                *creds.secret_mut() = std::mem::take(old.secret_mut());
                Ok(())
            }
            None => Err(FieldError::new(
                field,
                "Enter the secret: none is stored for this repository's host.",
            )),
        }
    }

    /// The repository as it is sent back: the credential's secret as `********`.
    pub fn masked(mut self) -> Self {
        if let Some(c) = self.credentials.as_mut() {
            *c.secret_mut() = SECRET_MASK.to_owned();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(url: &str, creds: Option<GitCredentials>) -> EnvironmentRepository {
        EnvironmentRepository {
            repo: url.into(),
            branch: "main".into(),
            credentials: creds,
        }
    }

    fn token(t: &str) -> Option<GitCredentials> {
        Some(GitCredentials::Token {
            username: "x-access-token".into(),
            token: t.into(),
        })
    }

    #[test]
    fn is_checked_like_a_git_source_with_fields_of_its_own() {
        assert_eq!(
            repo("https://git.example.com/shop.git", None).check(),
            Ok(())
        );
        let errors = repo("ext::sh -c touch% /tmp/x", None).check().unwrap_err();
        assert_eq!(errors[0].field, "repo");
        let mut bad = repo("https://git.example.com/shop.git", None);
        bad.branch = "--upload-pack=x".into();
        assert_eq!(bad.check().unwrap_err()[0].field, "branch");
        let key = Some(GitCredentials::DeployKey {
            private_key: "k".into(),
        });
        let errors = repo("https://git.example.com/shop.git", key)
            .check()
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"credentials"), "{fields:?}");
    }

    #[test]
    fn a_masked_secret_keeps_the_stored_one_on_the_same_host_only() {
        let stored = repo("https://git.example.com/a.git", token("s3cret"));
        let mut same = repo("https://git.example.com/b.git", token(SECRET_MASK));
        same.keep_stored_secret(Some(&stored)).unwrap();
        assert_eq!(same.credentials, token("s3cret"));
        let mut moved = repo("https://other.example.com/a.git", token(""));
        let e = moved.keep_stored_secret(Some(&stored)).unwrap_err();
        assert_eq!(e.field, "credentials.token");
        let mut fresh = repo("https://other.example.com/a.git", token("new"));
        fresh.keep_stored_secret(Some(&stored)).unwrap();
        assert_eq!(fresh.credentials, token("new"));
        assert_eq!(
            stored.clone().masked().credentials,
            token(SECRET_MASK),
            "never sent back"
        );
    }
}
