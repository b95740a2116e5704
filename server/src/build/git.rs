//! Checking out exactly one commit with the `git` program. Arguments only, never a shell
//! string; every URL, ref and commit id was validated before it gets here, and `--` stands
//! before positional arguments anyway. Git runs with an empty environment (no user or
//! system config, no terminal prompt) and with the command-running transports disabled.

use app::domain::service::{
    check_branch, check_repo_url, is_commit_sha, CommitInfo, GitCredentials, GitSource,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use std::path::{Path, PathBuf};
use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("git {step} failed: {output}")]
    Failed { step: &'static str, output: String },
    #[error("could not run git: {0}")]
    Spawn(#[from] std::io::Error),
}

/// A scratch directory for one build: `repo/` (the checkout) and `home/` (git's HOME,
/// and the deploy key when there is one). Removed when dropped.
pub struct Workspace {
    root: tempfile::TempDir,
}

impl Workspace {
    pub fn new(parent: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        let root = tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(parent)?;
        std::fs::create_dir(root.path().join("home"))?;
        Ok(Workspace { root })
    }

    pub fn repo(&self) -> PathBuf {
        self.root.path().join("repo")
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }
}

/// Fetches `commit` (or the head of the branch) of `source` into the workspace, checks it
/// out, and says what it is. `log` gets git's own messages.
pub async fn checkout(
    source: &GitSource,
    commit: Option<&str>,
    ws: &Workspace,
    log: &mut (dyn FnMut(String) + Send),
) -> Result<CommitInfo, GitError> {
    // Checked again here: this is the last line before a process starts.
    check_repo_url(&source.repo).map_err(GitError::Refused)?;
    check_branch(&source.branch).map_err(GitError::Refused)?;
    if commit.is_some_and(|c| !is_commit_sha(c)) {
        return Err(GitError::Refused(
            "the commit id is not a full hexadecimal id",
        ));
    }
    let git = Git::new(source, ws)?;
    let repo = ws.repo();
    git.run("init", &["init", "--quiet", "--"], Some(&repo), None, log)
        .await?;
    let branch_ref = format!("refs/heads/{}", source.branch);
    let wanted = commit.unwrap_or(&branch_ref);
    let fetched = git
        .run(
            "fetch",
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--depth",
                "1",
                "--",
                &source.repo,
                wanted,
            ],
            None,
            Some(&repo),
            log,
        )
        .await;
    if fetched.is_err() && commit.is_some() {
        // A server that refuses to serve a commit by id: fetch the branch, then find it.
        log("Fetching the commit by id was refused; fetching the branch instead.".into());
        git.run(
            "fetch",
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--depth",
                "200",
                "--",
                &source.repo,
                &branch_ref,
            ],
            None,
            Some(&repo),
            log,
        )
        .await?;
    } else {
        fetched?;
    }
    let target = commit.unwrap_or("FETCH_HEAD");
    git.run(
        "checkout",
        // `target` is a validated commit id or FETCH_HEAD.
        &[
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            "--detach",
            target,
        ],
        None,
        Some(&repo),
        log,
    )
    .await?;
    let described = git
        .output(
            &["log", "-1", "--format=%H%x00%an%x00%B", "HEAD", "--"],
            &repo,
        )
        .await?;
    let mut parts = described.splitn(3, '\0');
    let sha = parts.next().unwrap_or_default().trim().to_owned();
    let author = parts.next().map(str::to_owned);
    let message = parts.next().map(|m| m.trim_end().to_owned());
    if !is_commit_sha(&sha) || commit.is_some_and(|c| c != sha) {
        return Err(GitError::Failed {
            step: "checkout",
            output: format!("checked out {sha}, not the commit asked for"),
        });
    }
    Ok(CommitInfo {
        sha,
        message,
        author,
    })
}

/// How git is started for one build: the program, its environment, and its `-c` options.
struct Git {
    env: Vec<(String, String)>,
}

impl Git {
    fn new(source: &GitSource, ws: &Workspace) -> Result<Self, GitError> {
        let home = ws.home();
        let mut env: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
            ),
            ("HOME".into(), home.display().to_string()),
            ("LANG".into(), "C".into()),
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
            ("GIT_ASKPASS".into(), "/bin/false".into()),
            ("SSH_ASKPASS".into(), "/bin/false".into()),
        ];
        // Settings passed through the environment keep secrets off the command line. Only
        // the transports a repository URL may name are allowed (never `ext::` or `fd::`).
        let mut config: Vec<(&str, String)> = vec![
            ("protocol.allow", "never".into()),
            ("protocol.https.allow", "always".into()),
            ("protocol.http.allow", "always".into()),
            ("protocol.ssh.allow", "always".into()),
            ("protocol.file.allow", "always".into()),
            ("core.hooksPath", "/dev/null".into()),
        ];
        match &source.credentials {
            Some(GitCredentials::Token { username, token }) => {
                let basic = STANDARD.encode(format!("{username}:{token}"));
                config.push(("http.extraHeader", format!("Authorization: Basic {basic}")));
            }
            Some(GitCredentials::DeployKey { private_key }) => {
                let key = home.join("deploy_key");
                write_private(&key, private_key)?;
                // A command line of Berth's own paths; nothing in it comes from a request.
                env.push((
                    "GIT_SSH_COMMAND".into(),
                    format!(
                        "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={}",
                        shell_quote(&key),
                        shell_quote(&home.join("known_hosts"))
                    ),
                ));
            }
            None => {}
        }
        env.push(("GIT_CONFIG_COUNT".into(), config.len().to_string()));
        for (i, (k, v)) in config.into_iter().enumerate() {
            env.push((format!("GIT_CONFIG_KEY_{i}"), k.to_owned()));
            env.push((format!("GIT_CONFIG_VALUE_{i}"), v));
        }
        Ok(Git { env })
    }

    fn command(&self, args: &[&str], cwd: Option<&Path>) -> Command {
        let mut cmd = Command::new("git");
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Runs git; `append` is a path added as the last argument (after `--`).
    async fn run(
        &self,
        step: &'static str,
        args: &[&str],
        append: Option<&Path>,
        cwd: Option<&Path>,
        log: &mut (dyn FnMut(String) + Send),
    ) -> Result<(), GitError> {
        let mut cmd = self.command(args, cwd);
        if let Some(path) = append {
            cmd.arg(path);
        }
        let out = cmd.output().await?;
        let text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            log(format!("git: {line}"));
        }
        if out.status.success() {
            Ok(())
        } else {
            Err(GitError::Failed {
                step,
                output: if text.is_empty() {
                    out.status.to_string()
                } else {
                    text
                },
            })
        }
    }

    async fn output(&self, args: &[&str], cwd: &Path) -> Result<String, GitError> {
        let out = self.command(args, Some(cwd)).output().await?;
        if !out.status.success() {
            return Err(GitError::Failed {
                step: "log",
                output: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// A path as one shell word (git runs GIT_SSH_COMMAND through `sh`); the data directory
/// is the operator's, but may hold spaces.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    if !contents.ends_with('\n') {
        file.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_single_shell_words() {
        assert_eq!(shell_quote(Path::new("/data/builds/x")), "'/data/builds/x'");
        assert_eq!(shell_quote(Path::new("/it's here")), r"'/it'\''s here'");
    }

    #[test]
    fn secrets_stay_off_the_command_line() {
        let ws = Workspace::new(&std::env::temp_dir().join("berth-git-unit")).unwrap();
        let source: GitSource = serde_json::from_value(serde_json::json!({
            "repo": "https://example.com/acme/app.git", "branch": "main",
            "credentials": { "kind": "token", "token": "s3cret" }
        }))
        .unwrap();
        let git = Git::new(&source, &ws).unwrap();
        let cmd = git.command(&["fetch"], None);
        let args: Vec<_> = cmd.as_std().get_args().collect();
        assert_eq!(args, [std::ffi::OsStr::new("fetch")]);
        let header = git
            .env
            .iter()
            .find(|(_, v)| v.starts_with("Authorization: Basic "))
            .expect("the token travels as a header in the environment");
        assert!(!header.1.contains("s3cret"), "base64, as HTTP basic auth");
        assert!(git
            .env
            .iter()
            .any(|(k, v)| k.starts_with("GIT_CONFIG_KEY_") && v == "protocol.allow"));
    }
}
