//! The submodules of a checkout, fetched as the repository itself is: never with
//! `git submodule` (whose clone would follow `.gitmodules` unchecked), but one by one, each
//! URL (a relative one resolved against its parent's URL) judged by the same transport
//! allowlist, private-address rule and local root, its address resolved, checked and
//! pinned, no redirects; fetched shallow at the commit the parent records. The parent's
//! credentials go along only to the parent's origin (scheme, host, port). Every URL is
//! judged before anything is fetched, so a refused one fails the build at once, naming
//! each refused submodule and its path; a build never goes on with an empty folder.

use super::{resolve_target, Git, GitError, Reach, Target, Workspace};
use app::domain::service::{is_commit_sha, repo_origin, submodule_url, GitSource};
use std::collections::HashMap;
use std::path::{Component, Path};

/// A submodule of a submodule of … deeper than this is refused.
const MAX_DEPTH: usize = 3;
/// More submodules than this in one build (all levels) are refused.
const MAX_SUBMODULES: usize = 50;

/// A submodule to fetch, its URL judged.
struct Planned {
    name: String,
    path: String,
    commit: String,
    source: GitSource,
    target: Target,
}

impl Planned {
    fn fail(&self, e: impl std::fmt::Display) -> GitError {
        GitError::Submodule(format!("submodule {} (at {}): {e}", self.name, self.path))
    }
}

/// One build's walk through submodules: what it may reach, where git keeps its home, and
/// how many submodules it met so far (all levels).
pub(super) struct Walk<'a> {
    pub reach: &'a Reach,
    pub ws: &'a Workspace,
    pub fetched: usize,
}

/// Fetches every submodule the checkout in `dir` records (fetched from `source.repo` with
/// `git`), and theirs, at their recorded commits; `depth` is 0 for the repository itself.
pub(super) async fn fetch_all(
    source: &GitSource,
    dir: &Path,
    git: &Git,
    walk: &mut Walk<'_>,
    log: &mut (dyn FnMut(String) + Send),
    depth: usize,
) -> Result<(), GitError> {
    let links = gitlinks(git, dir).await?;
    if links.is_empty() {
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Err(GitError::Submodule(format!(
            "submodules nest deeper than {MAX_DEPTH} levels"
        )));
    }
    walk.fetched += links.len();
    if walk.fetched > MAX_SUBMODULES {
        return Err(GitError::Submodule(format!(
            "more than {MAX_SUBMODULES} submodules"
        )));
    }
    let config = gitmodules(git, dir).await;
    let mut planned = Vec::new();
    let mut refused = Vec::new();
    for (path, commit) in links {
        match plan(source, &config, &path, &commit, dir, walk.reach).await {
            Ok(p) => planned.push(p),
            Err(why) => refused.push(why),
        }
    }
    if !refused.is_empty() {
        return Err(GitError::Submodule(refused.join("; ")));
    }
    for sub in planned {
        let sub_dir = dir.join(&sub.path);
        let sub_git = Git::new(&sub.source, &sub.target, walk.ws).map_err(|e| sub.fail(e))?;
        fetch_one(&sub, &sub_git, &sub_dir, log)
            .await
            .map_err(|e| sub.fail(e))?;
        log(format!(
            "Submodule {} ({}) at {}.",
            sub.name,
            sub.path,
            &sub.commit[..12]
        ));
        Box::pin(fetch_all(
            &sub.source,
            &sub_dir,
            &sub_git,
            walk,
            log,
            depth + 1,
        ))
        .await?;
        // The build context gets the files, not the submodule's repository.
        tokio::fs::remove_dir_all(sub_dir.join(".git"))
            .await
            .map_err(|e| sub.fail(e))?;
    }
    Ok(())
}

/// `(path, commit)` of each submodule the checked-out tree records (git's "gitlinks").
async fn gitlinks(git: &Git, dir: &Path) -> Result<Vec<(String, String)>, GitError> {
    let listed = git.output(&["ls-files", "--stage", "-z"], dir).await?;
    Ok(listed
        .split('\0')
        .filter_map(|entry| {
            let (meta, path) = entry.split_once('\t')?;
            let mut meta = meta.split(' ');
            let (mode, commit) = (meta.next()?, meta.next()?);
            (mode == "160000").then(|| (path.to_owned(), commit.to_owned()))
        })
        .collect())
}

/// The `submodule.*` settings of the committed `.gitmodules` (read from the commit, not
/// the working tree, and without includes); empty when there is none.
async fn gitmodules(git: &Git, dir: &Path) -> HashMap<String, String> {
    let args = [
        "config",
        "--no-includes",
        "--blob",
        "HEAD:.gitmodules",
        "--null",
        "--get-regexp",
        r"^submodule\.",
    ];
    let Ok(listed) = git.output(&args, dir).await else {
        return HashMap::new();
    };
    listed
        .split('\0')
        .filter_map(|entry| entry.split_once('\n'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The submodule at `path`, its URL resolved and judged; or why it cannot be fetched.
async fn plan(
    parent: &GitSource,
    config: &HashMap<String, String>,
    path: &str,
    commit: &str,
    dir: &Path,
    reach: &Reach,
) -> Result<Planned, String> {
    let name = config
        .iter()
        .find(|(k, v)| *v == path && k.starts_with("submodule.") && k.ends_with(".path"))
        .map(|(k, _)| k["submodule.".len()..k.len() - ".path".len()].to_owned());
    let Some(name) = name else {
        return Err(format!("submodule at {path}: no entry in .gitmodules"));
    };
    let named = |why: String| format!("submodule {name} (at {path}): {why}");
    let url = config
        .get(&format!("submodule.{name}.url"))
        .ok_or_else(|| named("no url in .gitmodules".into()))?;
    if !is_commit_sha(commit) {
        return Err(named(format!("{commit} is not a commit id")));
    }
    let inside = Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let folder = tokio::fs::canonicalize(dir.join(path)).await;
    let root = tokio::fs::canonicalize(dir).await;
    match (folder, root) {
        (Ok(f), Ok(r)) if inside && f.starts_with(&r) && f != r && f.is_dir() => {}
        _ => return Err(named("its folder is not inside the repository".into())),
    }
    let url = submodule_url(&parent.repo, url).map_err(|e| named(e.to_owned()))?;
    let target = resolve_target(&url, reach)
        .await
        .map_err(|e| named(format!("{url}: {e}")))?;
    // Credentials are bound to the origin they were given for.
    let credentials = if repo_origin(&url) == repo_origin(&parent.repo) {
        parent.credentials.clone()
    } else {
        None
    };
    Ok(Planned {
        source: GitSource {
            repo: url,
            credentials,
            ..parent.clone()
        },
        name,
        path: path.to_owned(),
        commit: commit.to_owned(),
        target,
    })
}

/// Fetches the submodule's recorded commit (shallow) into its folder and checks it out.
async fn fetch_one(
    sub: &Planned,
    git: &Git,
    dir: &Path,
    log: &mut (dyn FnMut(String) + Send),
) -> Result<(), GitError> {
    git.run("init", &["init", "--quiet", "--"], Some(dir), None, log)
        .await?;
    let url = sub.target.url();
    let by_id = [
        "fetch",
        "--quiet",
        "--no-tags",
        "--depth",
        "1",
        "--",
        url,
        &sub.commit,
    ];
    if git
        .run("fetch", &by_id, None, Some(dir), log)
        .await
        .is_err()
    {
        log(format!(
            "Fetching submodule {} by commit id was refused; fetching its branches instead.",
            sub.name
        ));
        let branches = [
            "fetch",
            "--quiet",
            "--no-tags",
            "--depth",
            "200",
            "--",
            url,
            "+refs/heads/*:refs/remotes/origin/*",
        ];
        git.run("fetch", &branches, None, Some(dir), log).await?;
    }
    let checkout = [
        "-c",
        "advice.detachedHead=false",
        "checkout",
        "--quiet",
        "--detach",
        &sub.commit,
    ];
    git.run("checkout", &checkout, None, Some(dir), log).await
}
