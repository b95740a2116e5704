//! Checking out exactly one commit with the `git` program. Arguments only, never a shell
//! string; every URL, ref and commit id was validated before it gets here, and `--` stands
//! before positional arguments anyway. Git runs with an empty environment (no user or
//! system config, no terminal prompt) and with the command-running transports disabled.
//! Submodules are fetched the same way, each judged as the repository is (see
//! [`submodules`]).

mod submodules;

use app::commands::outbound::{checked_address, TargetError};
use app::domain::service::{
    check_branch, check_repo_url, is_commit_sha, CommitInfo, GitCredentials, GitSource, RepoHost,
    RepoLocation,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("refused: {0}")]
    Unreachable(String),
    #[error("git {step} failed: {output}")]
    Failed { step: &'static str, output: String },
    #[error("could not run git: {0}")]
    Spawn(#[from] std::io::Error),
    /// Submodules that cannot be fetched, each named with its path.
    #[error("{0}")]
    Submodule(String),
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

/// What a build may reach: internal addresses only when the instance owner allows private
/// targets; local repositories only below `local_root` (canonical; `None`: none).
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub allow_private: bool,
    pub local_root: Option<String>,
}

/// Where git is sent, checked: the address a network repository resolves to is judged and
/// the connection pinned to it (so the name cannot resolve elsewhere in between); a local
/// repository is its resolved path below the allowed root.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Fetch `url`; `pin` is curl's `host:port:address` when `url` names a host.
    Http {
        url: String,
        pin: Option<String>,
    },
    /// Fetch `url` with ssh connecting to `pin.0`, checking the host key of `pin.1`.
    Ssh {
        url: String,
        pin: Option<(IpAddr, String)>,
    },
    Local {
        path: String,
    },
}

async fn resolve_target(repo: &str, reach: &Reach) -> Result<Target, GitError> {
    let location = check_repo_url(repo).map_err(GitError::Refused)?;
    if let RepoLocation::Local { path } = &location {
        let Some(root) = reach.local_root.as_deref() else {
            return Err(GitError::Unreachable(
                "local repositories are turned off (BERTH_GIT_LOCAL_ROOT is not set)".into(),
            ));
        };
        let resolved = tokio::fs::canonicalize(path)
            .await
            .map_err(|e| GitError::Unreachable(format!("cannot open {path}: {e}")))?;
        let root = tokio::fs::canonicalize(root)
            .await
            .unwrap_or_else(|_| PathBuf::from(root));
        if !resolved.starts_with(&root) {
            return Err(GitError::Unreachable(format!(
                "{path} is not below {} (BERTH_GIT_LOCAL_ROOT)",
                root.display()
            )));
        }
        return Ok(Target::Local {
            path: resolved.display().to_string(),
        });
    }
    let (host, port) = location.host_port().expect("a network repository");
    // The same resolve-and-check as every other outbound connection (notifications).
    let literal = match host {
        RepoHost::Ip(ip) => ip.to_string(),
        RepoHost::Name(name) => name.clone(),
    };
    let addr = checked_address(&literal, port, reach.allow_private)
        .await
        .map_err(|e| match e {
            TargetError::Refused(why) => GitError::Unreachable(why),
            TargetError::Unresolved(name) => {
                GitError::Unreachable(format!("cannot resolve {name}"))
            }
        })?
        .ip();
    let name = match host {
        RepoHost::Name(name) => Some(name.clone()),
        RepoHost::Ip(_) => None,
    };
    Ok(match location {
        RepoLocation::Http { url, .. } => Target::Http {
            url,
            pin: name.map(|n| match addr {
                IpAddr::V6(v6) => format!("{n}:{port}:[{v6}]"),
                IpAddr::V4(v4) => format!("{n}:{port}:{v4}"),
            }),
        },
        _ => Target::Ssh {
            url: repo.to_owned(),
            pin: name.map(|n| (addr, n)),
        },
    })
}

impl Target {
    fn url(&self) -> &str {
        match self {
            Target::Http { url, .. } | Target::Ssh { url, .. } => url,
            Target::Local { path } => path,
        }
    }
}

/// Fetches `commit` (or the head of the branch) of `source` into the workspace, checks it
/// out, and says what it is. `log` gets git's own messages.
pub async fn checkout(
    source: &GitSource,
    commit: Option<&str>,
    reach: &Reach,
    ws: &Workspace,
    log: &mut (dyn FnMut(String) + Send),
) -> Result<CommitInfo, GitError> {
    // Checked again here: this is the last line before a process starts.
    check_branch(&source.branch).map_err(GitError::Refused)?;
    if commit.is_some_and(|c| !is_commit_sha(c)) {
        return Err(GitError::Refused(
            "the commit id is not a full hexadecimal id",
        ));
    }
    let target = resolve_target(&source.repo, reach).await?;
    let git = Git::new(source, &target, ws)?;
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
                target.url(),
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
                target.url(),
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
    let wanted = commit.unwrap_or("FETCH_HEAD");
    git.run(
        "checkout",
        // `target` is a validated commit id or FETCH_HEAD.
        &[
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            "--detach",
            wanted,
        ],
        None,
        Some(&repo),
        log,
    )
    .await?;
    let mut walk = submodules::Walk {
        reach,
        ws,
        fetched: 0,
    };
    submodules::fetch_all(source, &repo, &git, &mut walk, log, 0).await?;
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
    fn new(source: &GitSource, target: &Target, ws: &Workspace) -> Result<Self, GitError> {
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
            ("core.hooksPath", "/dev/null".into()),
        ];
        if let Target::Local { .. } = target {
            // Only a repository resolved below BERTH_GIT_LOCAL_ROOT is read from disk.
            config.push(("protocol.file.allow", "always".into()));
        }
        if let Target::Http { pin, .. } = target {
            // A redirect could lead anywhere: the checked address is the only one reached.
            config.push(("http.followRedirects", "false".into()));
            if let Some(pin) = pin {
                config.push(("http.curloptResolve", pin.clone()));
            }
        }
        if let Some(GitCredentials::Token { username, token }) = &source.credentials {
            let basic = STANDARD.encode(format!("{username}:{token}"));
            config.push(("http.extraHeader", format!("Authorization: Basic {basic}")));
        }
        if let Target::Ssh { pin, .. } = target {
            // A command line of Berth's own paths and a checked address and host name (DNS
            // characters only); nothing else in it comes from a request.
            let mut ssh = format!(
                "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={}",
                shell_quote(&home.join("known_hosts"))
            );
            if let Some(GitCredentials::DeployKey { private_key }) = &source.credentials {
                let key = home.join("deploy_key");
                // Submodules on the same host use the same key, written once.
                if !key.exists() {
                    write_private(&key, private_key)?;
                }
                ssh.push_str(&format!(" -i {} -o IdentitiesOnly=yes", shell_quote(&key)));
            }
            if let Some((addr, alias)) = pin {
                ssh.push_str(&format!(
                    " -o HostName={addr} -o HostKeyAlias={}",
                    shell_quote(Path::new(alias))
                ));
            }
            env.push(("GIT_SSH_COMMAND".into(), ssh));
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
        let target = Target::Http {
            url: source.repo.clone(),
            pin: Some("example.com:443:93.184.215.14".into()),
        };
        let git = Git::new(&source, &target, &ws).unwrap();
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

    #[tokio::test]
    async fn internal_addresses_are_refused_unless_allowed_and_names_are_pinned() {
        let closed = Reach::default();
        for repo in [
            "http://127.0.0.1:9/a.git",
            "http://[::1]/x",
            "http://169.254.169.254/x",
            "http://10.0.0.1/x",
            "http://localhost/x",
            "ssh://git@[::ffff:127.0.0.1]/x",
            "git@192.168.0.1:x.git",
        ] {
            let e = resolve_target(repo, &closed).await.unwrap_err();
            assert!(matches!(e, GitError::Unreachable(_)), "{repo}: {e}");
        }
        let open = Reach {
            allow_private: true,
            local_root: None,
        };
        match resolve_target("http://localhost:8080/a.git", &open)
            .await
            .unwrap()
        {
            Target::Http { url, pin } => {
                assert_eq!(url, "http://localhost:8080/a.git");
                assert!(pin.unwrap().starts_with("localhost:8080:"), "pinned");
            }
            other => panic!("{other:?}"),
        }
        assert!(resolve_target("/srv/git/a.git", &open).await.is_err());
    }

    #[tokio::test]
    async fn local_repositories_resolve_below_the_root_only() {
        let root = tempfile::tempdir().unwrap();
        let inside = root.path().join("a.git");
        std::fs::create_dir(&inside).unwrap();
        let outside = tempfile::tempdir().unwrap();
        let link = root.path().join("link.git");
        std::os::unix::fs::symlink(outside.path(), &link).unwrap();
        let reach = Reach {
            allow_private: false,
            local_root: Some(root.path().display().to_string()),
        };
        let url = format!("file://{}", inside.display());
        assert!(matches!(
            resolve_target(&url, &reach).await.unwrap(),
            Target::Local { .. }
        ));
        let e = resolve_target(&link.display().to_string(), &reach).await;
        assert!(e.is_err(), "a symbolic link out of the root is refused");
    }
}
