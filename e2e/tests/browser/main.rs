//! Berth as a person uses it, in real Chromium against the release build: first run,
//! hydration, sign-out, wrong password, sign-in, defining a service, watching one live,
//! real applications (PostgreSQL with a volume, a Host-checking Flask app), inviting a
//! developer who joins and deploys, the audit log; and, on a berth of its own, a project
//! with a cloned environment and a compose file turned into a running application drawn
//! as a service map. Screenshots of every page go to target/e2e-screenshots/.

mod backups;
#[path = "../../../server/tests/common/debian_images.rs"]
mod debian_images;
mod first_run;
mod fixtures;
mod jobs;
mod live;
mod notifications;
mod page;
mod projects;
mod real_apps;
mod service_map;
mod services;
mod team;

use e2e::{Berth, Chromedriver};
use fantoccini::Client;
use first_run::{first_run_sign_out_and_in, without_javascript};
use fixtures::{GitRepo, TickerImage};
use jobs::scheduled_jobs;
use notifications::notifications;
use page::{browser, shot};
use real_apps::{real_applications, RealApps};
use team::team_flow;

/// The first-run owner and their team.
pub const NAME: &str = "Grace Hopper";
pub const EMAIL: &str = "grace@example.com";
pub const PASSWORD: &str = "a compiler is a program";
pub const TEAM: &str = "Harbour Ops";

/// Runs `scenario` in a fresh browser and closes the WebDriver session on every path.
pub async fn in_browser<F, Fut>(
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
    let apps = RealApps::build()?;
    let berth = Berth::start()?;
    let driver = Chromedriver::start()?;
    let base = berth.base.clone();
    let result = async {
        in_browser(&driver, true, |c| async {
            let mut r = first_run_sign_out_and_in(&c, &base, &image, &repo).await;
            if r.is_ok() {
                r = real_applications(&c, &apps).await;
            }
            if r.is_ok() {
                r = backups::backup_and_restore(&c, &apps).await;
            }
            if r.is_ok() {
                r = notifications(&c, &base).await;
            }
            if r.is_ok() {
                r = scheduled_jobs(&c, &image).await;
            }
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

/// Projects on a berth of their own (`cargo test -p e2e projects`): a project with a
/// cloned environment, then a compose file pasted into a new environment, previewed (the
/// draft surviving a re-read of the page), created, its service map turning green, and a
/// service opened from the map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_in_chromium() -> anyhow::Result<()> {
    // Made before berth starts so that it is dropped after berth stops (see above).
    let image = TickerImage::build()?;
    let berth = Berth::start()?;
    let driver = Chromedriver::start()?;
    let base = berth.base.clone();
    let result = in_browser(&driver, true, |c| async {
        let mut r = first_run::owner_signed_in(&c, &base).await;
        if r.is_ok() {
            r = projects::projects(&c, &image).await;
        }
        if r.is_ok() {
            r = service_map::compose_to_map(&c, &image).await;
        }
        if r.is_err() {
            let _ = shot(&c, "failure-projects").await;
        }
        (c, r)
    })
    .await;
    if result.is_err() {
        eprintln!("berth log:\n{}", berth.log());
    }
    result
}
