//! Unit tests of `git_source.rs`.

use super::*;

#[test]
fn repository_urls() {
    for ok in [
        "https://github.com/acme/app.git",
        "http://gitea.local:3000/acme/app",
        "ssh://git@github.com/acme/app.git",
        "https://x-access-token@github.com/acme/app.git",
        "git@github.com:acme/app.git",
        "file:///srv/git/app.git",
        "/srv/git/app.git",
    ] {
        assert!(check_repo_url(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "ext::sh -c id",
        "ext::sh",
        "fd::3",
        "-oProxyCommand=x",
        "--upload-pack=touch /tmp/x",
        "https://github.com/acme/app.git; id",
        "https://",
        "https://host",
        "ftp://host/app",
        "file://relative/path",
        "/srv/../etc",
        "git@-oProxyCommand=x:app",
        "host:-x",
        "relative/path",
    ] {
        assert!(check_repo_url(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn a_password_in_a_repository_url_is_refused() {
    for bad in [
        "https://x-access-token:ghp_secret@github.com/acme/app.git",
        "ssh://git:secret@github.com/acme/app.git",
    ] {
        let err = check_repo_url(bad).expect_err(bad);
        assert!(err.contains("credentials"), "{bad}: {err}");
    }
}

#[test]
fn branches() {
    for ok in ["main", "feat/#12", "release-1.2", "user/fix_3", "v1+build"] {
        assert!(check_branch(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "main; touch /tmp/x",
        "$(id)",
        "`id`",
        "--upload-pack=x",
        "-x",
        "a..b",
        "a//b",
        "/main",
        "main/",
        "main.",
        ".hidden",
        "a/.b",
        "x.lock",
        "HEAD",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a@{1}",
        "a*",
        "a\\b",
    ] {
        assert!(check_branch(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn commit_ids() {
    assert!(is_commit_sha(&"a".repeat(40)));
    assert!(is_commit_sha(&"0123456789abcdef".repeat(4)));
    assert!(!is_commit_sha(&"A".repeat(40)));
    assert!(!is_commit_sha("abc123"));
    assert!(!is_commit_sha(&format!("{};id", "a".repeat(37))));
    assert!(!is_commit_sha(&"g".repeat(40)));
}

#[test]
fn paths_stay_inside_the_checkout() {
    for ok in [".", "Dockerfile", "docker/web.Dockerfile", "services/api"] {
        assert!(check_repo_path(ok).is_ok(), "{ok}");
    }
    for bad in ["", "/etc/passwd", "../x", "a/../../b", "a\\b"] {
        assert!(check_repo_path(bad).is_err(), "{bad:?} accepted");
    }
}

fn source() -> GitSource {
    serde_json::from_value(serde_json::json!({
        "repo": "https://example.com/acme/app.git", "branch": "main"
    }))
    .unwrap()
}

#[test]
fn defaults_and_checks() {
    let s = source();
    assert_eq!(
        (s.dockerfile.as_str(), s.context.as_str()),
        ("Dockerfile", ".")
    );
    let mut errors = Vec::new();
    s.check(&mut errors);
    assert!(errors.is_empty(), "{errors:?}");

    let mut bad = source();
    bad.build_args.push(BuildArg {
        key: "1X".into(),
        value: "v".into(),
    });
    bad.credentials = Some(GitCredentials::DeployKey {
        private_key: "nope".into(),
    });
    let mut errors = Vec::new();
    bad.check(&mut errors);
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "git.build_args[0].key",
            "git.credentials",
            "git.credentials.private_key"
        ]
    );
}

#[test]
fn image_tags_name_team_service_and_commit() {
    assert_eq!(
        GitSource::image_tag("acme", "web", &"abcdef0123456789".repeat(3)[..40]),
        "berth/acme/web:abcdef012345"
    );
}
