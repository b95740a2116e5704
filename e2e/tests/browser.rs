//! Berth as a person uses it, in real Chromium against the release build: first run,
//! hydration, sign-out, wrong password, sign-in, defining a service, watching one live,
//! inviting a developer who joins and deploys, the audit log. Screenshots of every page go
//! to target/e2e-screenshots/.

use anyhow::{ensure, Context};
use e2e::{screenshot_dir, Berth, Chromedriver};
use fantoccini::{Client, ClientBuilder, Locator};
use std::time::Duration;

const NAME: &str = "Grace Hopper";
const EMAIL: &str = "grace@example.com";
const PASSWORD: &str = "a compiler is a program";
const TEAM: &str = "Harbour Ops";

async fn browser(
    driver: &Chromedriver,
    profile: &std::path::Path,
    javascript: bool,
) -> anyhow::Result<Client> {
    ClientBuilder::rustls()?
        .capabilities(Chromedriver::capabilities(profile, javascript))
        .connect(&driver.url)
        .await
        .context("opening a WebDriver session")
}

async fn shot(c: &Client, name: &str) -> anyhow::Result<()> {
    let png = c.screenshot().await?;
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png)?;
    Ok(())
}

async fn path_of(c: &Client) -> anyhow::Result<String> {
    let url = c.current_url().await?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

async fn wait_hydrated(c: &Client) -> anyhow::Result<()> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("body[data-hydrated=true]"))
        .await
        .context("the page never hydrated (release wasm bundle)")?;
    Ok(())
}

async fn fill(c: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let el = c.find(Locator::Css(css)).await?;
    el.clear().await?;
    el.send_keys(text).await?;
    Ok(())
}

async fn wait_for(c: &Client, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))
}

async fn sign_in(c: &Client, password: &str) -> anyhow::Result<()> {
    fill(c, "#email", EMAIL).await?;
    fill(c, "#password", password).await?;
    c.find(Locator::Css("#sign-in")).await?.click().await?;
    Ok(())
}

async fn sign_out(c: &Client) -> anyhow::Result<()> {
    c.find(Locator::Css("#logout")).await?.click().await?;
    wait_for(c, "#signed-out").await?;
    Ok(())
}

async fn text_of(c: &Client, css: &str) -> anyhow::Result<String> {
    Ok(wait_for(c, css).await?.text().await?)
}

async fn first_run_sign_out_and_in(
    c: &Client,
    base: &str,
    image: &TickerImage,
    repo: &GitRepo,
) -> anyhow::Result<()> {
    // Before any user exists, every address leads to the first-run page.
    c.goto(&format!("{base}/services")).await?;
    ensure!(
        path_of(c).await? == "/setup",
        "expected /setup, got {}",
        path_of(c).await?
    );
    wait_hydrated(c).await?;
    shot(c, "01-first-run").await?;

    // Works only once hydrated: the show/hide toggle and the live length hint.
    fill(c, "#password", "short").await?;
    let hint = text_of(c, "#password-hint").await?;
    ensure!(hint.contains("5 more needed"), "live hint: {hint}");
    c.find(Locator::Css(".toggle-password"))
        .await?
        .click()
        .await?;
    let kind = c
        .find(Locator::Css("#password"))
        .await?
        .attr("type")
        .await?;
    ensure!(
        kind.as_deref() == Some("text"),
        "show password: input type is {kind:?}"
    );
    fill(c, "#password", PASSWORD).await?;
    ensure!(text_of(c, "#password-hint").await?.contains("long enough"));
    shot(c, "02-first-run-filled").await?;

    fill(c, "#name", NAME).await?;
    fill(c, "#email", EMAIL).await?;
    fill(c, "#team_name", TEAM).await?;
    c.find(Locator::Css("#create-owner")).await?.click().await?;
    wait_for(c, "#current-user").await?;
    ensure!(
        path_of(c).await? == "/",
        "after first run: {}",
        path_of(c).await?
    );
    let who = text_of(c, "#current-user").await?;
    ensure!(
        who.contains(NAME) && who.to_lowercase().contains("owner"),
        "top bar shows {who:?}"
    );
    ensure!(text_of(c, ".team").await? == TEAM);
    wait_hydrated(c).await?;
    let docker = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#docker-status[data-reachable=true]"))
        .await
        .context("the dashboard should show the Docker engine as reachable")?;
    ensure!(
        docker.text().await?.contains("API 1."),
        "engine line: {}",
        docker.text().await?
    );
    c.find(Locator::Css("#check-status")).await?.click().await?;
    shot(c, "03-overview").await?;

    // Client-side navigation (hydrated router) to a placeholder page.
    c.find(Locator::LinkText("Services")).await?.click().await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//h1[text()='Services']"))
        .await?;
    ensure!(path_of(c).await? == "/services");
    shot(c, "04-services").await?;

    // The first-run page is gone for good.
    c.goto(&format!("{base}/setup")).await?;
    ensure!(
        path_of(c).await? == "/",
        "setup after first run: {}",
        path_of(c).await?
    );

    sign_out(c).await?;
    ensure!(path_of(c).await? == "/login?notice=signed_out");
    shot(c, "05-signed-out").await?;
    c.goto(&format!("{base}/")).await?;
    ensure!(
        path_of(c).await? == "/login",
        "signed-out visit to /: {}",
        path_of(c).await?
    );

    // Wrong password: a clear message, the email kept.
    wait_hydrated(c).await?;
    sign_in(c, "not the password").await?;
    let banner = text_of(c, ".banner.error").await?;
    ensure!(
        banner == "Wrong email or password.",
        "wrong password banner: {banner:?}"
    );
    let kept = c.find(Locator::Css("#email")).await?.prop("value").await?;
    ensure!(kept.as_deref() == Some(EMAIL), "email kept: {kept:?}");
    shot(c, "06-wrong-password").await?;

    sign_in(c, PASSWORD).await?;
    wait_for(c, "#current-user").await?;
    ensure!(path_of(c).await? == "/");
    shot(c, "07-signed-in").await?;
    define_a_service(c).await?;
    live_service(c, image).await?;
    git_service(c, repo).await
}

/// The service form: inline errors for bad fields, then a service whose image cannot be
/// pulled (no registry here), whose page says so.
async fn define_a_service(c: &Client) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?.click().await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    fill(c, "input[name='form[name]']", "Bad Name").await?;
    fill(
        c,
        "input[name='form[image]']",
        "registry.invalid/berth/demo:1",
    )
    .await?;
    fill(c, "textarea[name='form[ports]']", "eighty").await?;
    fill(
        c,
        "textarea[name='form[domains]']",
        "https://demo.example.com",
    )
    .await?;
    fill(c, "input[name='form[http_port]']", "8080").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    let name_error = text_of(c, ".field-error[data-field=name]").await?;
    ensure!(name_error.contains("lowercase"), "name error: {name_error}");
    let ports_error = text_of(c, ".field-error[data-field=ports]").await?;
    ensure!(ports_error.contains("Line 1"), "ports error: {ports_error}");
    let domain_error = text_of(c, ".field-error[data-field=domains]").await?;
    ensure!(
        domain_error.contains("scheme"),
        "domain error: {domain_error}"
    );
    ensure!(path_of(c).await? == "/services/new", "stays on the form");
    shot(c, "09-service-form-errors").await?;

    fill(c, "input[name='form[name]']", "demo").await?;
    fill(c, "textarea[name='form[ports]']", "8080").await?;
    fill(c, "textarea[name='form[domains]']", "Demo.Example.com").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == "demo");
    // The domain is kept (lowercased); this berth has no edge proxy, and says so.
    let domains = text_of(c, "#domains").await?;
    ensure!(domains.contains("demo.example.com"), "{domains}");
    ensure!(domains.contains("not routed"), "{domains}");
    ensure!(path_of(c).await?.starts_with("/services/"));
    // The page refreshes itself: the failed pull appears without a reload.
    let failed = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#deployments tr[data-state=failed]"))
        .await
        .context("the deployment should fail: no registry is reachable")?;
    let row = failed.text().await?;
    ensure!(
        row.contains("could not pull image registry.invalid/berth/demo:1"),
        "{row}"
    );
    shot(c, "10-service-failed-pull").await?;
    Ok(())
}

/// A test image: static busybox printing a numbered line every second.
struct TickerImage {
    tag: String,
    service: String,
}

impl TickerImage {
    fn build() -> anyhow::Result<TickerImage> {
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
    fn containers(&self) -> anyhow::Result<Vec<String>> {
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

fn docker(args: &[&str]) -> anyhow::Result<String> {
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
struct GitRepo {
    dir: tempfile::TempDir,
    service: String,
}

impl GitRepo {
    fn new() -> anyhow::Result<GitRepo> {
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

    fn url(&self) -> String {
        format!("file://{}", self.dir.path().join("origin.git").display())
    }

    fn commit(&self, body: &str, message: &str) -> anyhow::Result<()> {
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

/// A service built from git, created in the form: it builds and goes live by itself; a
/// webhook secret is generated and shown once; after a new commit, "Deploy now" builds and
/// rolls it out, and the history names both commits.
async fn git_service(c: &Client, repo: &GitRepo) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?.click().await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    fill(c, "input[name='form[name]']", &repo.service).await?;
    fill(c, "input[name='form[git_repo]']", &repo.url()).await?;
    fill(c, "input[name='form[git_branch]']", "main").await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == repo.service);
    ensure!(text_of(c, "#git-repo").await? == repo.url());
    let live = c
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css(
            "#deployments tr[data-state=succeeded][data-number='1']",
        ))
        .await
        .context("the first build should go live")?;
    let row = live.text().await?;
    ensure!(
        row.contains("First page") && row.contains("Grace Hopper"),
        "{row}"
    );
    shot(c, "15-git-service-built").await?;

    scroll_to(c, "git-source").await?;
    c.find(Locator::Css("#rotate-webhook"))
        .await?
        .click()
        .await?;
    let secret = text_of(c, "#webhook-secret").await?;
    ensure!(
        secret.len() == 64 && secret.chars().all(|ch| ch.is_ascii_hexdigit()),
        "secret shown once: {secret:?}"
    );
    let urls = text_of(c, "#webhook-urls").await?;
    ensure!(
        urls.contains("/hooks/github/") && urls.contains("/hooks/gitea/"),
        "{urls}"
    );
    shot(c, "16-git-webhook-secret").await?;

    repo.commit("second page", "Second page")?;
    c.find(Locator::Css("#deploy-now")).await?.click().await?;
    let second = c
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css(
            "#deployments tr[data-state=succeeded][data-number='2']",
        ))
        .await
        .context("deploy now should build the new commit and roll it out")?;
    let row = second.text().await?;
    ensure!(
        row.contains("Second page") && row.contains("deploy now"),
        "{row}"
    );
    shot(c, "17-git-deploy-now").await?;
    Ok(())
}

/// The page keeps a mark set by script for as long as it is not reloaded.
async fn mark_page(c: &Client) -> anyhow::Result<()> {
    c.execute("window.berthNotReloaded = true;", vec![]).await?;
    Ok(())
}

async fn still_marked(c: &Client) -> anyhow::Result<bool> {
    let v = c
        .execute("return window.berthNotReloaded === true;", vec![])
        .await?;
    Ok(v.as_bool() == Some(true))
}

/// A service created by typing and clicking goes live on its page without a reload; a
/// container killed from outside shows within a second, then its repair; the log view
/// shows lines printed after the page opened.
async fn live_service(c: &Client, image: &TickerImage) -> anyhow::Result<()> {
    c.find(Locator::LinkText("Services")).await?.click().await?;
    wait_for(c, "#new-service").await?.click().await?;
    wait_for(c, "#service-form").await?;
    wait_hydrated(c).await?;
    fill(c, "input[name='form[name]']", &image.service).await?;
    fill(c, "input[name='form[image]']", &image.tag).await?;
    c.find(Locator::Css("#save-service")).await?.click().await?;
    ensure!(text_of(c, "#service-name").await? == image.service);
    wait_hydrated(c).await?;
    mark_page(c).await?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(".page-header .badge[data-health=running]"))
        .await
        .context("the badge should turn to running by itself")?;
    wait_for(c, "#deployment-steps li[data-step=live][data-state=done]").await?;
    shot(c, "11-service-running-live").await?;

    // Logs: a tick printed after the page opened arrives.
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#container-log .log-line"))
        .await
        .context("the log view shows the last lines")?;
    let seen = log_lines(c).await?.last().map_or(0, |l| tick_number(l));
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&format!(
            "//div[contains(@class,'log-line')][substring-after(., 'tick ') = '{}']",
            seen + 2
        )))
        .await
        .context("a line printed after the page opened shows up")?;
    scroll_to(c, "logs").await?;
    shot(c, "12-service-logs-live").await?;

    // Kill the container from outside: the page shows it within a second, no reload.
    let ids = image.containers()?;
    ensure!(ids.len() == 1, "one container: {ids:?}");
    wait_for(c, "#containers tr[data-replica='0']").await?;
    let before = replica_row(c).await?;
    ensure!(before.0 == "running", "before the kill: {before:?}");
    docker(&["kill", &ids[0]])?;
    let killed = std::time::Instant::now();
    let mut shown = false;
    while killed.elapsed() < Duration::from_millis(1000) {
        // Any difference: not running, restarted, or another container.
        if replica_row(c).await? != before {
            shown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = killed.elapsed();
    shot(c, "13-service-container-killed").await?;
    ensure!(shown, "the kill did not show within 1 s");
    eprintln!("kill shown on the page after {took:?}");
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(
            "#containers tr[data-replica='0'][data-state=running]",
        ))
        .await
        .context("the container runs again")?;
    wait_for(c, ".page-header .badge[data-health=running]").await?;
    wait_for(
        c,
        "#timeline li[data-kind=crash], #timeline li[data-kind=restart]",
    )
    .await?;
    ensure!(still_marked(c).await?, "the page was reloaded");
    shot(c, "14-service-repaired").await?;
    // The restarted container's output joins the log after what was already shown, once.
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "(//div[contains(@class,'log-line')][substring-after(., 'tick ') = '2'])[2]",
        ))
        .await
        .context("the restarted container's lines join the log")?;
    let lines = log_lines(c).await?;
    ensure!(
        lines.windows(2).all(|w| w[0] != w[1]),
        "no line shown twice: {lines:?}"
    );
    scroll_to(c, "timeline").await?;
    shot(c, "15-service-timeline").await?;
    // CPU and memory charts fill in as samples arrive.
    let memory = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#mem-now"))
        .await
        .context("memory samples appear on the page")?
        .text()
        .await?;
    ensure!(memory.ends_with("MiB"), "memory figure: {memory}");
    wait_for(c, "#metrics svg.chart polyline").await?;
    scroll_to(c, "metrics").await?;
    shot(c, "16-service-metrics").await?;
    Ok(())
}

/// The log view's lines, read in one go (the list re-renders as lines arrive, so element
/// handles would go stale).
async fn log_lines(c: &Client) -> anyhow::Result<Vec<String>> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('#container-log .log-line')).map(e => e.textContent);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Replica 0's row as the page shows it now: (state, restarts, container id).
async fn replica_row(c: &Client) -> anyhow::Result<(String, String, String)> {
    let v = c
        .execute(
            "const r = document.querySelector(\"#containers tr[data-replica='0']\"); \
             return r ? [r.dataset.state, r.dataset.restarts, r.dataset.id] : ['', '', ''];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

async fn scroll_to(c: &Client, id: &str) -> anyhow::Result<()> {
    c.execute(
        // Below the sticky top bar.
        "document.getElementById(arguments[0]).scrollIntoView(); window.scrollBy(0, -80);",
        vec![serde_json::json!(id)],
    )
    .await?;
    Ok(())
}

fn tick_number(line: &str) -> u64 {
    line.rsplit(' ')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

const DEV_NAME: &str = "Ada Lovelace";
const DEV_EMAIL: &str = "dev@example.com";
const DEV_PASSWORD: &str = "analytical engine 1843";

/// The team console end to end: the owner invites a developer; the developer, in a second
/// browser of their own, accepts the link, lands signed in and redeploys a service through
/// the UI; the owner's audit log names both steps with the developer as actor.
async fn team_flow(
    owner: &Client,
    driver: &Chromedriver,
    base: &str,
    image: &TickerImage,
) -> anyhow::Result<()> {
    owner.goto(&format!("{base}/team")).await?;
    wait_hydrated(owner).await?;
    // The section's own mark: set once its form is interactive.
    wait_for(owner, "#invitations[data-ready=true] #invite-form").await?;
    fill(owner, "#invite-email", DEV_EMAIL).await?;
    owner
        .find(Locator::Css("#invite-role option[value=developer]"))
        .await?
        .click()
        .await?;
    owner
        .find(Locator::Css("#invite-submit"))
        .await?
        .click()
        .await?;
    // The page reads its lists again once the invitation is made (and draws its sections
    // anew): wait for that before reading the link shown once.
    wait_for(owner, &format!("tr.invitation[data-email='{DEV_EMAIL}']")).await?;
    let url = text_of(owner, "#new-invitation-url").await?;
    ensure!(
        url.starts_with(base) && url.contains("/invite/"),
        "invitation link: {url:?}"
    );
    shot(owner, "18-team-invitation-link").await?;

    in_browser(driver, true, |dev| async {
        let r = developer_joins_and_redeploys(&dev, base, &url, image).await;
        if r.is_err() {
            let _ = shot(&dev, "failure-developer").await;
        }
        (dev, r)
    })
    .await?;

    // The owner sees the new member and, in the audit log, what the developer did.
    owner.goto(&format!("{base}/team")).await?;
    wait_for(
        owner,
        &format!("tr.member[data-email='{DEV_EMAIL}'][data-role=developer]"),
    )
    .await?;
    shot(owner, "23-team-members").await?;
    owner.goto(&format!("{base}/audit")).await?;
    wait_for(owner, "tr.audit-entry").await?;
    let rows = audit_rows(owner).await?;
    ensure!(
        rows.iter().any(|(action, actor)| {
            (action == "invitation.accept" || action == "member.add") && actor.contains(DEV_EMAIL)
        }),
        "the audit log names the developer joining: {rows:?}"
    );
    ensure!(
        rows.iter()
            .any(|(action, actor)| action == "service.redeploy" && actor.contains(DEV_EMAIL)),
        "the audit log names the developer's redeploy: {rows:?}"
    );
    shot(owner, "24-audit-log").await?;

    // The filters are a plain GET form.
    fill(owner, "#audit-actor", DEV_EMAIL).await?;
    fill(owner, "#audit-action", "service.").await?;
    owner
        .find(Locator::Css("#audit-filter"))
        .await?
        .click()
        .await?;
    wait_for(owner, "tr.audit-entry[data-action='service.redeploy']").await?;
    ensure!(
        path_of(owner).await?.contains("action=service."),
        "filtered: {}",
        path_of(owner).await?
    );
    let rows = audit_rows(owner).await?;
    ensure!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|(action, actor)| action.starts_with("service.") && actor.contains(DEV_EMAIL)),
        "filtered rows: {rows:?}"
    );
    shot(owner, "25-audit-log-filtered").await?;
    Ok(())
}

async fn developer_joins_and_redeploys(
    dev: &Client,
    base: &str,
    url: &str,
    image: &TickerImage,
) -> anyhow::Result<()> {
    dev.goto(url).await?;
    wait_for(dev, "#accept-form").await?;
    wait_hydrated(dev).await?;
    ensure!(text_of(dev, "#invite-team").await? == TEAM);
    ensure!(text_of(dev, "#invite-role-name").await? == "developer");
    ensure!(text_of(dev, "#invite-for").await? == DEV_EMAIL);
    fill(dev, "#accept-name", DEV_NAME).await?;
    fill(dev, "#accept-password", DEV_PASSWORD).await?;
    shot(dev, "19-invitation-page").await?;
    dev.find(Locator::Css("#accept-submit"))
        .await?
        .click()
        .await?;
    let who = text_of(dev, "#current-user").await?;
    ensure!(
        who.contains(DEV_NAME) && who.to_lowercase().contains("developer"),
        "top bar shows {who:?}"
    );
    ensure!(
        path_of(dev).await? == "/",
        "after accepting: {}",
        path_of(dev).await?
    );
    ensure!(text_of(dev, ".team").await? == TEAM);
    ensure!(
        dev.find(Locator::LinkText("Audit")).await.is_err(),
        "a developer has no audit link"
    );
    shot(dev, "20-developer-signed-in").await?;

    // The developer redeploys the ticker service from its page.
    wait_hydrated(dev).await?;
    dev.find(Locator::LinkText("Services"))
        .await?
        .click()
        .await?;
    wait_for(dev, &format!("tr[data-service='{}'] a", image.service))
        .await?
        .click()
        .await?;
    ensure!(text_of(dev, "#service-name").await? == image.service);
    wait_hydrated(dev).await?;
    dev.find(Locator::Css("#redeploy-service"))
        .await?
        .click()
        .await?;
    dev.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::XPath(&format!(
            "//table[@id='deployments']//tr[@data-state='succeeded'][contains(., '{DEV_NAME}')]"
        )))
        .await
        .context("the developer's redeploy should go live")?;
    shot(dev, "21-developer-redeployed").await?;

    // The audit log is not for developers, and the page says so.
    dev.goto(&format!("{base}/audit")).await?;
    let refused = text_of(dev, "#audit-refused").await?;
    ensure!(refused.contains("developer"), "{refused}");
    ensure!(
        dev.find(Locator::Css("tr.audit-entry")).await.is_err(),
        "no entries for a developer"
    );
    shot(dev, "22-developer-audit-refused").await?;
    Ok(())
}

/// (action, actor) of every row of the audit table.
async fn audit_rows(c: &Client) -> anyhow::Result<Vec<(String, String)>> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('tr.audit-entry')).map(r => \
             [r.querySelector('td.action').textContent.trim(), r.querySelector('td.actor').textContent.trim()]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// With JavaScript off the forms still post and redirect.
async fn without_javascript(c: &Client, base: &str) -> anyhow::Result<()> {
    c.goto(&format!("{base}/login")).await?;
    sign_in(c, PASSWORD).await?;
    wait_for(c, "#current-user").await?;
    ensure!(path_of(c).await? == "/");
    let hydrated = c.find(Locator::Css("body[data-hydrated]")).await.is_ok();
    ensure!(!hydrated, "JavaScript was meant to be off");
    shot(c, "08-no-javascript-dashboard").await?;
    sign_out(c).await
}

/// Runs `scenario` in a fresh browser and closes the WebDriver session on every path.
async fn in_browser<F, Fut>(
    driver: &Chromedriver,
    javascript: bool,
    scenario: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = (Client, anyhow::Result<()>)>,
{
    let profile = tempfile::tempdir()?;
    let client = browser(driver, profile.path(), javascript).await?;
    let (client, outcome) = scenario(client).await;
    let closed = client.close().await;
    outcome?;
    closed?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_login_logout_in_chromium() -> anyhow::Result<()> {
    // Made before berth starts so that it is dropped after berth stops: its clean-up then
    // removes the service's containers for good (a running berth would repair them).
    let image = TickerImage::build()?;
    let repo = GitRepo::new()?;
    let berth = Berth::start()?;
    let driver = Chromedriver::start()?;
    let base = berth.base.clone();
    let result = async {
        in_browser(&driver, true, |c| async {
            let mut r = first_run_sign_out_and_in(&c, &base, &image, &repo).await;
            if r.is_ok() {
                r = team_flow(&c, &driver, &base, &image).await;
            }
            if r.is_err() {
                let _ = shot(&c, "failure").await;
            }
            (c, r)
        })
        .await?;
        in_browser(&driver, false, |c| async {
            let r = without_javascript(&c, &base).await;
            if r.is_err() {
                let _ = shot(&c, "failure-no-javascript").await;
            }
            (c, r)
        })
        .await
    }
    .await;
    if result.is_err() {
        eprintln!("berth log:\n{}", berth.log());
    }
    result
}
