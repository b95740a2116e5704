//! The form's round trips and error placement.

use super::super::{Protocol, ServiceSpec};
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
        placement_constraints: "node.labels.zone=eu".into(),
        placement_spread: "zone".into(),
        placement_max_per_node: "many".into(),
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
            "placement_constraints",
            "placement_max_per_node",
            "placement_spread",
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

/// Values that break a one-item-per-line text: every one must come back unchanged.
const TRICKY: &[&str] = &[
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nq2Ab+/x==\n-----END PRIVATE KEY-----\n",
    "",
    " ",
    "  leading",
    "trailing  ",
    "\"quoted\"",
    "\"",
    "say \"hi\"",
    "a=b=c",
    "# not a comment",
    "back\\slash \\n \\\" \\",
    "\\",
    "line\r\nwith crlf",
    "lone\rcr",
    "\n",
    "\nstarts with a newline",
    "tab\there",
    "ünïcødé ✓",
    "$(id) `id` ${HOME}",
];

/// What a browser sends for the form: textareas with CRLF line ends.
fn as_sent(form: &ServiceForm) -> ServiceForm {
    let value = serde_json::to_value(form).unwrap();
    let sent: serde_json::Map<_, _> = value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().replace('\n', "\r\n").into()))
        .collect();
    serde_json::from_value(sent.into()).unwrap()
}

/// A spec as the API would accept it, with every tricky value in each free-text list.
fn tricky_spec() -> ServiceSpec {
    let env: Vec<_> = TRICKY
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            [
                serde_json::json!({"key": format!("SECRET_{i}"), "value": v, "secret": true}),
                serde_json::json!({"key": format!("PLAIN_{i}"), "value": v}),
            ]
        })
        .collect();
    let args: Vec<_> = std::iter::once("sh")
        .chain(TRICKY.iter().copied())
        .collect();
    let build_args: Vec<_> = TRICKY
        .iter()
        .enumerate()
        .map(|(i, v)| serde_json::json!({"key": format!("ARG_{i}"), "value": v}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "name": "tricky", "image": "",
        "command": args, "env": env, "entrypoint": args,
        "labels": {"com.example.a": TRICKY[0], "com.example.b": TRICKY[TRICKY.len() - 1], "tier": ""},
        "depends_on": [{"service": "db", "condition": "service_healthy"}, {"service": "cache"}],
        "placement": {"constraints": ["node.labels.zone==eu-1", "node.role!=manager"],
                      "spread": "node.labels.rack", "max_per_node": 2},
        "health_check": {"probe": {"kind": "command", "argv": args}, "interval_s": 7},
        "registry_auth": {"username": "ada@example.com", "password": "pw"},
        "volumes": [{"name": "data", "path": "/var/lib/data", "read_only": true},
                    {"name": "both", "path": "/both", "read_only": true, "shared": true},
                    {"name": "uploads", "path": "/uploads", "shared": true}],
        "http": {"domains": ["a.example.com", "b.example.com"], "port": 8080,
                 "https_redirect": false, "www_redirect": true},
        "git": {"repo": "https://example.com/acme/app.git", "branch": "feat/#12",
                "dockerfile": "docker/Dockerfile", "context": "web", "build_args": build_args,
                "credentials": {"kind": "token", "username": "oauth2", "token": "t0ken"}},
        "cpu_millis": 333, "memory_mb": 64, "restart_policy": "on-failure", "replicas": 3
    }))
    .unwrap()
}

#[test]
fn every_value_the_api_accepts_comes_back_from_the_form_unchanged() {
    use super::super::{classify, keep_stored_order, keep_stored_secrets, Change};
    let stored = tricky_spec();
    stored.validate().expect("the API accepts it");
    let form = ServiceForm::from_spec(&stored);
    for secret in TRICKY.iter().filter(|v| v.len() > 3) {
        assert!(
            !form.secret_env.contains(secret),
            "no secret value in the form"
        );
    }
    let mut back = as_sent(&form).parse().expect("the unchanged form is valid");
    assert!(keep_stored_secrets(&mut back, &stored).is_empty());
    keep_stored_order(&mut back, &stored);
    assert_eq!(back.command, stored.command);
    assert_eq!(back.health_check, stored.health_check);
    assert_eq!(back.git, stored.git);
    assert_eq!(back.env, stored.env);
    assert_eq!(back, stored);
    assert_eq!(classify(&stored, &back), Change::None);
    // An image service too (the spec above is a git one).
    let mut image = tricky_spec();
    image.git = None;
    image.image = "registry.example.com/acme/app:1.2".into();
    image.pull_policy = Some(super::super::PullPolicy::IfMissing);
    let mut back = as_sent(&ServiceForm::from_spec(&image)).parse().unwrap();
    let _ = keep_stored_secrets(&mut back, &image);
    keep_stored_order(&mut back, &image);
    assert_eq!(back, image);
}

#[test]
fn each_tricky_value_round_trips_alone() {
    for value in TRICKY {
        let spec: ServiceSpec = serde_json::from_value(serde_json::json!({
            "name": "one", "image": "app:1",
            "command": [value, value],
            "env": [{"key": "V", "value": value}]
        }))
        .unwrap();
        let mut spec = spec;
        spec.command[0] = "run".into();
        let form = ServiceForm::from_spec(&spec);
        let back = as_sent(&form).parse().unwrap();
        assert_eq!(
            back.env, spec.env,
            "env {value:?} written as {:?}",
            form.env
        );
        assert_eq!(
            back.command, spec.command,
            "argument {value:?} written as {:?}",
            form.command
        );
    }
}

#[test]
fn a_pem_key_is_typed_between_quotes_and_a_broken_quote_names_its_line() {
    let f = ServiceForm {
        env: "MODE=prod\nTLS_KEY=\"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\"\nLAST=1".into(),
        command: "sh\n-c\n\"echo one\necho two\"".into(),
        ..form()
    };
    let spec = f.parse().unwrap();
    assert_eq!(
        spec.env[1].value,
        "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    );
    assert_eq!(spec.env[2].key, "LAST");
    assert_eq!(spec.command, ["sh", "-c", "echo one\necho two"]);
    let broken = ServiceForm {
        secret_env: "A=1\nKEY=\"-----BEGIN\nMIIE=".into(),
        ..form()
    };
    let errors = broken.parse().unwrap_err();
    assert_eq!(errors[0].field, "secret_env");
    assert!(errors[0].message.starts_with("Line 2:"), "{errors:?}");
    assert_eq!(
        broken.without_secrets().secret_env,
        "",
        "no line of a broken secret goes into a URL"
    );
    let fine = ServiceForm {
        secret_env: "A=1\nKEY=\"x\ny\"".into(),
        ..form()
    };
    assert_eq!(fine.without_secrets().secret_env, "A=\nKEY=");
}

#[test]
fn the_form_normalises_as_the_api_does() {
    let f = ServiceForm {
        name: " Web ".into(),
        image: " nginx:1.27 ".into(),
        domains: " App.Example.com ".into(),
        http_port: "80".into(),
        ..form()
    };
    let mut api: ServiceSpec = serde_json::from_value(serde_json::json!({
        "name": " Web ", "image": " nginx:1.27 ",
        "http": {"domains": [" App.Example.com "], "port": 80}
    }))
    .unwrap();
    api.normalise();
    assert_eq!(f.parse().unwrap(), api);
    assert_eq!(api.name, "web");
}

#[test]
fn depends_on_lines_name_their_condition_and_a_bad_one_names_its_line() {
    use crate::domain::dependencies::DependsCondition;
    let f = ServiceForm {
        depends_on: "db:healthy\n\n Cache \nqueue:started".into(),
        entrypoint: "/bin/tini\n--".into(),
        labels: "com.example.team=payments".into(),
        ..form()
    };
    let spec = f.parse().unwrap();
    let deps: Vec<_> = spec
        .depends_on
        .iter()
        .map(|d| (d.service.as_str(), d.condition))
        .collect();
    assert_eq!(
        deps,
        [
            ("db", DependsCondition::ServiceHealthy),
            ("cache", DependsCondition::ServiceStarted),
            ("queue", DependsCondition::ServiceStarted)
        ]
    );
    assert_eq!(spec.entrypoint, ["/bin/tini", "--"]);
    assert_eq!(spec.labels["com.example.team"], "payments");
    let bad = ServiceForm {
        depends_on: "db\ndb:ready".into(),
        labels: "berth.service=x".into(),
        ..form()
    };
    let errors = bad.parse().unwrap_err();
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(got[0].0, "depends_on");
    assert!(got[0].1.starts_with("Line 2:"), "{got:?}");
    // A spec rule, placed on its form field.
    assert_eq!(got[1].0, "labels");
}
