//! A real git repository for push-to-deploy tests: a bare "origin" on disk (reached by a
//! file:// URL) and a working copy whose commits are pushed to it, each holding a small
//! web app (`FROM scratch` + static busybox serving `www/index.html` on port 8080).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Repo {
    dir: tempfile::TempDir,
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Ada Lovelace",
            "-c",
            "user.email=ada@example.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The Dockerfile of the test app; `extra` lines go before CMD (e.g. a slow RUN).
pub fn dockerfile(extra: &str) -> String {
    format!(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n{extra}ENTRYPOINT [\"/bin/busybox\"]\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
    )
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(work.join("www")).unwrap();
        git(dir.path(), &["init", "--quiet", "--bare", "origin.git"]);
        git(&work, &["init", "--quiet"]);
        std::fs::copy(super::images::BUSYBOX, work.join("busybox")).unwrap();
        Repo { dir }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The URL a service's git source uses.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().join("origin.git").display())
    }

    /// Checks out `branch` in the working copy (a new orphan branch before the first commit).
    fn switch_to(&self, branch: &str) {
        let work = self.work();
        let has_commits = Command::new("git")
            .current_dir(&work)
            .args(["rev-parse", "--verify", "--quiet", "HEAD"])
            .output()
            .unwrap()
            .status
            .success();
        if has_commits {
            git(&work, &["checkout", "--quiet", "-B", branch]);
        } else {
            git(&work, &["checkout", "--quiet", "--orphan", branch]);
        }
    }

    /// Commits `body` as the page (and `dockerfile` as the Dockerfile) on `branch`, pushes
    /// it, and returns the commit id.
    pub fn commit(&self, branch: &str, body: &str, dockerfile: &str, message: &str) -> String {
        let work = self.work();
        self.switch_to(branch);
        std::fs::write(work.join("www/index.html"), body).unwrap();
        std::fs::write(work.join("Dockerfile"), dockerfile).unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "--quiet", "-m", message]);
        let refspec = format!("HEAD:refs/heads/{branch}");
        git(
            &work,
            &["push", "--quiet", "--force", &self.url(), &refspec],
        );
        git(&work, &["rev-parse", "HEAD"])
    }

    /// Commits exactly `files` (`(path, contents)`; other files removed) on `branch`,
    /// pushes it, and returns the commit id.
    pub fn commit_files(&self, branch: &str, files: &[(String, String)], message: &str) -> String {
        let work = self.work();
        self.switch_to(branch);
        for entry in std::fs::read_dir(&work).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n != ".git") {
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
        }
        for (path, contents) in files {
            let at = work.join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, contents).unwrap();
        }
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "--quiet", "-m", message]);
        let refspec = format!("HEAD:refs/heads/{branch}");
        git(
            &work,
            &["push", "--quiet", "--force", &self.url(), &refspec],
        );
        git(&work, &["rev-parse", "HEAD"])
    }
}
