//! What the browser test deploys, made before berth starts and removed after it stops: a
//! busybox ticker image and a git repository holding a busybox web app.

use anyhow::{ensure, Context};

/// A test image: static busybox printing a numbered line every second.
pub struct TickerImage {
    /// The image's tag (`berth-e2e/ticker:<n>`).
    pub tag: String,
    /// The name the test gives the service that runs it.
    pub service: String,
}

impl TickerImage {
    /// Builds the image with the docker CLI (`FROM scratch` + static busybox).
    pub fn build() -> anyhow::Result<TickerImage> {
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
            % 1_000_000_000;
        let dir = tempfile::tempdir()?;
        std::fs::copy("/bin/busybox", dir.path().join("busybox"))
            .context("busybox-static is installed by scripts/setup")?;
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT [\"/bin/busybox\"]\n\
             CMD [\"sh\", \"-c\", \"n=0; while true; do n=$((n+1)); echo tick $n; sleep 1; done\"]\n",
        )?;
        let tag = format!("berth-e2e/ticker:{unique}");
        let dir_arg = dir.path().to_string_lossy().into_owned();
        docker(&["build", "-q", "-t", &tag, &dir_arg])?;
        Ok(TickerImage {
            tag,
            service: format!("ticker-{unique}"),
        })
    }

    /// Ids of the service's containers, as the docker CLI sees them.
    pub fn containers(&self) -> anyhow::Result<Vec<String>> {
        let filter = format!("name=berth-{}-", self.service);
        Ok(docker(&["ps", "-aq", "--filter", &filter])?
            .lines()
            .map(str::to_owned)
            .collect())
    }
}

impl Drop for TickerImage {
    fn drop(&mut self) {
        if let Ok(ids) = self.containers() {
            for id in ids {
                let _ = docker(&["rm", "-f", &id]);
            }
        }
        let _ = docker(&["rmi", "-f", &self.tag]);
    }
}

/// The docker CLI, as a person would use it: its trimmed output, or an error with stderr.
pub fn docker(args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new("docker").args(args).output()?;
    ensure!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A git repository on disk (a bare origin reached by a file:// URL) holding a busybox web
/// app; the service built from it, its containers and images are removed when dropped.
pub struct GitRepo {
    dir: tempfile::TempDir,
    /// The name the test gives the service built from it.
    pub service: String,
}

impl GitRepo {
    /// The repository with one commit ("First page") on `main`.
    pub fn new() -> anyhow::Result<GitRepo> {
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
            % 1_000_000_000;
        let dir = tempfile::tempdir()?;
        let work = dir.path().join("work");
        std::fs::create_dir_all(work.join("www"))?;
        std::fs::copy("/bin/busybox", work.join("busybox"))?;
        std::fs::write(
            work.join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nENTRYPOINT [\"/bin/busybox\"]\n\
             CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
        )?;
        git(dir.path(), &["init", "--quiet", "--bare", "origin.git"])?;
        git(&work, &["init", "--quiet"])?;
        let repo = GitRepo {
            dir,
            service: format!("site-{unique}"),
        };
        repo.commit("first page", "First page")?;
        Ok(repo)
    }

    /// The `file://` URL of the bare origin, as a service's git source names it.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().join("origin.git").display())
    }

    /// Commits `body` as the page and pushes it to `main` of the origin.
    pub fn commit(&self, body: &str, message: &str) -> anyhow::Result<()> {
        let work = self.dir.path().join("work");
        std::fs::write(work.join("www/index.html"), body)?;
        git(&work, &["add", "-A"])?;
        git(&work, &["commit", "--quiet", "-m", message])?;
        git(
            &work,
            &[
                "push",
                "--quiet",
                "--force",
                &self.url(),
                "HEAD:refs/heads/main",
            ],
        )?;
        Ok(())
    }
}

impl Drop for GitRepo {
    fn drop(&mut self) {
        let filter = format!("name=berth-{}-", self.service);
        if let Ok(ids) = docker(&["ps", "-aq", "--filter", &filter]) {
            for id in ids.lines() {
                let _ = docker(&["rm", "-f", id]);
            }
        }
        let reference = format!("reference=berth/*/{}", self.service);
        if let Ok(images) = docker(&["images", "-q", "--filter", &reference]) {
            for image in images.lines() {
                let _ = docker(&["rmi", "-f", image]);
            }
        }
    }
}

fn git(dir: &std::path::Path, args: &[&str]) -> anyhow::Result<()> {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Grace Hopper",
            "-c",
            "user.email=grace@example.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()?;
    ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
