//! The form's round trips and error placement.

use super::super::Protocol;
use super::*;

fn form() -> ServiceForm {
    ServiceForm {
        name: "web".into(),
        image: "berth-test/httpd:1".into(),
        ..Default::default()
    }
}

#[test]
fn a_full_form_round_trips_through_a_spec() {
    let f = ServiceForm {
        command: "httpd\n-f\n-p\n8080".into(),
        env: "GREETING=hello = world\nEMPTY=".into(),
        secret_env: "TOKEN=s3cret".into(),
        ports: "8080\n9000:9001/udp".into(),
        replicas: "1".into(),
        cpu: "0.5".into(),
        memory_mb: "64".into(),
        health_kind: "http".into(),
        health_path: "/healthz".into(),
        health_port: "8080".into(),
        health_host: "app.example.com".into(),
        health_interval_s: "2".into(),
        restart_policy: "always".into(),
        volumes: "data:/var/data\ncache:/cache:ro\nuploads:/up:shared".into(),
        domains: "App.Example.com\n\nexample.com".into(),
        http_port: "8080".into(),
        www_redirect: "on".into(),
        ..form()
    };
    let spec = f.parse().unwrap();
    let route = spec.http.clone().unwrap();
    assert_eq!(route.domains, ["app.example.com", "example.com"]);
    assert!(route.https_redirect && route.www_redirect);
    assert_eq!(route.port, 8080);
    assert_eq!(spec.command, ["httpd", "-f", "-p", "8080"]);
    assert_eq!(spec.env[0].value, "hello = world");
    assert_eq!(spec.env[1].value, "");
    assert!(spec.env[2].secret);
    assert_eq!(spec.ports[1].host, Some(9000));
    assert_eq!(spec.ports[1].protocol, Protocol::Udp);
    assert_eq!(spec.cpu_millis, Some(500));
    assert!(spec.volumes[1].read_only);
    assert!(spec.volumes[2].shared && !spec.volumes[2].read_only);
    assert!(!spec.volumes[0].shared);
    let back = ServiceForm::from_spec(&spec);
    assert_eq!(
        back.secret_env, "TOKEN=",
        "secret values are not put back in the form"
    );
    assert_eq!(back.ports, f.ports);
    assert_eq!(back.volumes, f.volumes);
    assert_eq!(back.parse().unwrap().health_check, spec.health_check);
    assert_eq!(
        spec.health_check.and_then(|h| h.host).as_deref(),
        Some("app.example.com")
    );
    assert_eq!(back.parse().unwrap().http, spec.http);
}

#[test]
fn the_images_own_check_can_be_disabled_from_the_form() {
    let f = ServiceForm {
        health_kind: "disabled".into(),
        ..form()
    };
    let spec = f.parse().unwrap();
    let probe = spec.health_check.as_ref().map(|h| h.probe.clone());
    assert_eq!(probe, Some(super::super::HealthProbe::None));
    assert_eq!(ServiceForm::from_spec(&spec).health_kind, "disabled");
}

#[test]
fn a_git_source_round_trips_without_its_secret() {
    let f = ServiceForm {
        image: "ignored:1".into(),
        git_repo: "https://example.com/acme/app.git".into(),
        git_branch: "feat/#12".into(),
        git_context: "web".into(),
        git_build_args: "VERSION=1.2\nMODE=prod".into(),
        git_credentials: "token".into(),
        git_secret: "t0ken".into(),
        ..form()
    };
    let spec = f.parse().unwrap();
    assert_eq!(spec.image, "", "a git service's image is Berth's to set");
    let git = spec.git.clone().unwrap();
    assert_eq!(
        (git.dockerfile.as_str(), git.context.as_str()),
        ("Dockerfile", "web")
    );
    assert_eq!(git.build_args[1].key, "MODE");
    let back = ServiceForm::from_spec(&spec.masked());
    assert_eq!(back.git_branch, "feat/#12");
    assert_eq!(back.git_credentials, "token");
    assert_eq!(
        back.git_secret, "",
        "the token is never put back in the form"
    );

    let bad = ServiceForm {
        git_repo: "ext::sh -c id".into(),
        git_branch: "$(id)".into(),
        git_context: "../etc".into(),
        ..form()
    };
    let fields: Vec<String> = bad
        .parse()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["git_repo", "git_branch", "git_context"]);
}

#[test]
fn route_fields_are_checked() {
    let only_port = ServiceForm {
        http_port: "8080".into(),
        ..form()
    };
    assert_eq!(only_port.parse().unwrap_err()[0].field, "domains");
    let no_port = ServiceForm {
        domains: "app.example.com".into(),
        ..form()
    };
    assert_eq!(no_port.parse().unwrap_err()[0].field, "http_port");
    let bad = ServiceForm {
        domains: "app.example.com\nhttp://x.example.com".into(),
        http_port: "8080".into(),
        http_plain: "on".into(),
        ..form()
    };
    let errors = bad.parse().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "domains");
    assert!(errors[0].message.contains("http://x.example.com"));
}

#[test]
fn errors_name_the_form_field() {
    let f = ServiceForm {
        name: "Bad Name".into(),
        image: "nginx; rm -rf /".into(),
        env: "NOEQUALS".into(),
        secret_env: "1BAD=x".into(),
        ports: "eighty".into(),
        replicas: "51".into(),
        cpu: "lots".into(),
        health_kind: "http".into(),
        health_path: "no-slash".into(),
        health_port: "8080".into(),
        volumes: "/etc:/host".into(),
        ..form()
    };
    let mut fields: Vec<String> = f
        .parse()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    fields.sort();
    fields.dedup();
    assert_eq!(
        fields,
        [
            "cpu",
            "env",
            "health_path",
            "image",
            "name",
            "ports",
            "replicas",
            "secret_env",
            "volumes"
        ]
    );
}

#[test]
fn blank_numbers_take_defaults_and_words_are_refused() {
    let spec = form().parse().unwrap();
    assert_eq!(spec.replicas, 1);
    assert_eq!(spec.cpu_millis, None);
    let f = ServiceForm {
        replicas: "two".into(),
        ..form()
    };
    assert_eq!(f.parse().unwrap_err()[0].field, "replicas");
}

#[test]
fn the_pull_policy_round_trips_and_an_unknown_one_is_marked() {
    let f = ServiceForm {
        pull_policy: "if-missing".into(),
        ..form()
    };
    let spec = f.parse().unwrap();
    assert_eq!(spec.pull_policy, Some(super::super::PullPolicy::IfMissing));
    assert_eq!(ServiceForm::from_spec(&spec).pull_policy, "if-missing");
    assert_eq!(
        form().parse().unwrap().pull_policy,
        None,
        "empty: the default"
    );
    let errors = ServiceForm {
        pull_policy: "sometimes".into(),
        ..form()
    }
    .parse()
    .unwrap_err();
    assert_eq!(errors[0].field, "pull_policy");
    let git = ServiceForm {
        image: String::new(),
        git_repo: "https://example.com/r.git".into(),
        pull_policy: "always".into(),
        ..form()
    };
    let errors = git.parse().unwrap_err();
    assert!(
        errors.iter().any(|e| e.field == "pull_policy"),
        "{errors:?}"
    );
}
