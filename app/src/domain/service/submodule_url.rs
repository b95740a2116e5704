//! Where a git submodule is fetched from: the URL in `.gitmodules`, with a relative one
//! (`../lib.git`, `./vendor.git`) resolved against the URL of the repository that holds
//! it, as git itself does. The answer is then judged like any repository URL.

/// The URL of a submodule whose `.gitmodules` URL is `url`, in a repository fetched from
/// `base`: `url` itself unless it starts with `./` or `../`; then each leading `../` drops
/// one path segment of `base` (never its scheme, host or root) and the rest is appended.
/// `https://host/acme/app.git` + `../lib.git` → `https://host/acme/lib.git`;
/// `git@host:acme/app.git` + `../lib.git` → `git@host:acme/lib.git`; `/srv/git/app.git` +
/// `../lib.git` → `/srv/git/lib.git`. Errors when `url` climbs above the path's root.
pub fn submodule_url(base: &str, url: &str) -> Result<String, &'static str> {
    if !(url.starts_with("./") || url.starts_with("../")) {
        return Ok(url.to_owned());
    }
    let base = base.trim_end_matches('/');
    // `head` is kept as it is; `path` is the part `../` climbs in; `join` goes between them.
    let (head, path, join) =
        if let Some(scheme_end) = base.find("://") {
            let after = scheme_end + 3;
            match base[after..].find('/') {
                Some(slash) => (&base[..after + slash], &base[after + slash + 1..], "/"),
                None => (base, "", "/"),
            }
        } else if let Some(rest) = base.strip_prefix('/') {
            ("", rest, "/")
        } else {
            match base.split_once(':') {
                Some((host, path)) => (&base[..host.len() + 1], path, ""),
                None => return Err(
                    "The repository's URL has no path to resolve a relative submodule URL against.",
                ),
            }
        };
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut rest = url;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            segments
                .pop()
                .ok_or("The relative submodule URL climbs above the repository's host.")?;
            rest = r;
        } else {
            break;
        }
    }
    segments.extend(rest.split('/').filter(|s| !s.is_empty()));
    Ok(format!("{head}{join}{}", segments.join("/")))
}

#[cfg(test)]
mod tests {
    use super::submodule_url;

    #[test]
    fn relative_urls_resolve_as_git_resolves_them() {
        let cases = [
            (
                "https://git.example.com/acme/app.git",
                "../lib.git",
                "https://git.example.com/acme/lib.git",
            ),
            (
                "https://git.example.com/acme/app.git/",
                "./sub.git",
                "https://git.example.com/acme/app.git/sub.git",
            ),
            (
                "https://git.example.com:8443/acme/app",
                "../../other/lib",
                "https://git.example.com:8443/other/lib",
            ),
            (
                "ssh://git@example.com:2222/acme/app.git",
                "../lib.git",
                "ssh://git@example.com:2222/acme/lib.git",
            ),
            (
                "git@example.com:acme/app.git",
                "../lib.git",
                "git@example.com:acme/lib.git",
            ),
            (
                "git@example.com:app.git",
                "../lib.git",
                "git@example.com:lib.git",
            ),
            ("/srv/git/app.git", "../lib.git", "/srv/git/lib.git"),
            (
                "file:///srv/git/app.git",
                "../../other/lib.git",
                "file:///srv/other/lib.git",
            ),
            (
                "https://git.example.com/acme/app.git",
                "https://elsewhere.example/x.git",
                "https://elsewhere.example/x.git",
            ),
            (
                "https://git.example.com/acme/app.git",
                "ext::sh -c id",
                "ext::sh -c id",
            ),
        ];
        for (base, url, want) in cases {
            assert_eq!(
                submodule_url(base, url).as_deref(),
                Ok(want),
                "{base} + {url}"
            );
        }
    }

    #[test]
    fn climbing_above_the_root_is_refused() {
        assert!(submodule_url("https://git.example.com/app.git", "../../x.git").is_err());
        assert!(submodule_url("/app.git", "../../etc").is_err());
        assert!(submodule_url("git@example.com:app.git", "../../x.git").is_err());
    }
}
