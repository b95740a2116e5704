//! Unit tests of `validate.rs`.

use super::super::*;

fn spec() -> ServiceSpec {
    serde_json::from_value(serde_json::json!({ "name": "web", "image": "berth-test/httpd:1" }))
        .unwrap()
}

fn fields(s: &ServiceSpec) -> Vec<String> {
    s.validate()
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn a_minimal_spec_is_valid_with_defaults() {
    let s = spec();
    assert_eq!(s.replicas, 1);
    assert_eq!(s.restart_policy, RestartPolicy::UnlessStopped);
    assert!(s.validate().is_ok());
}

#[test]
fn names_are_dns_labels() {
    for good in ["a", "web-1", &"x".repeat(63)] {
        assert!(validate_service_name(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "-web",
        "web-",
        "Web",
        "web_1",
        "web.1",
        "wéb",
        &"x".repeat(64),
        "a b",
        "$(id)",
    ] {
        assert!(validate_service_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn env_keys_are_posix_names_and_values_anything_but_nul() {
    let mut s = spec();
    s.env = vec![
        EnvVar {
            key: "OK_1".into(),
            value: "line1\nline2 \"quoted\" $(id) `id` 'x'".into(),
            secret: false,
        },
        EnvVar {
            key: "1BAD".into(),
            value: String::new(),
            secret: false,
        },
        EnvVar {
            key: "BAD-DASH".into(),
            value: String::new(),
            secret: false,
        },
        EnvVar {
            key: "OK_1".into(),
            value: String::new(),
            secret: true,
        },
        EnvVar {
            key: "NUL".into(),
            value: "a\0b".into(),
            secret: false,
        },
        EnvVar {
            key: "BIG".into(),
            value: "x".repeat(64 * 1024 + 1),
            secret: false,
        },
    ];
    assert_eq!(
        fields(&s),
        [
            "env[1].key",
            "env[2].key",
            "env[3].key",
            "env[4].value",
            "env[5].value"
        ]
    );
}

#[test]
fn ports_limits_and_replicas() {
    let mut s = spec();
    s.replicas = 51;
    s.cpu_millis = Some(5);
    s.memory_mb = Some(4);
    s.ports = vec![
        PortSpec {
            container: 0,
            host: None,
            protocol: Protocol::Tcp,
        },
        PortSpec {
            container: 80,
            host: Some(8080),
            protocol: Protocol::Tcp,
        },
        PortSpec {
            container: 80,
            host: Some(8080),
            protocol: Protocol::Tcp,
        },
        PortSpec {
            container: 80,
            host: None,
            protocol: Protocol::Udp,
        },
    ];
    assert_eq!(
        fields(&s),
        [
            "ports[0].container",
            "ports[1].host",
            "ports[2].container",
            "ports[2].host",
            "replicas",
            "cpu_millis",
            "memory_mb"
        ]
    );
    s.replicas = 1;
    s.cpu_millis = Some(500);
    s.memory_mb = Some(128);
    s.ports.truncate(2);
    s.ports.remove(0);
    assert!(s.validate().is_ok());
}

#[test]
fn health_checks() {
    let mut s = spec();
    s.health_check = Some(HealthCheck {
        probe: HealthProbe::Http {
            path: "healthz".into(),
            port: 0,
        },
        interval_s: 0,
        timeout_s: 5,
        retries: 0,
        start_period_s: 4000,
        host: None,
    });
    assert_eq!(
        fields(&s),
        [
            "health_check.path",
            "health_check.port",
            "health_check.interval_s",
            "health_check.retries",
            "health_check.start_period_s"
        ]
    );
    s.health_check = Some(HealthCheck {
        probe: HealthProbe::Command { argv: vec![] },
        interval_s: 5,
        timeout_s: 2,
        retries: 3,
        start_period_s: 0,
        host: Some("app.example.com".into()),
    });
    assert_eq!(fields(&s), ["health_check.argv", "health_check.host"]);
    s.health_check = Some(HealthCheck {
        probe: HealthProbe::Http {
            path: "/".into(),
            port: 8000,
        },
        interval_s: 5,
        timeout_s: 2,
        retries: 3,
        start_period_s: 0,
        host: Some("App.example.com:80".into()),
    });
    assert_eq!(fields(&s), ["health_check.host"]);
    if let Some(h) = s.health_check.as_mut() {
        h.host = Some("app.example.com".into());
    }
    assert!(s.validate().is_ok());
    s.health_check = Some(HealthCheck {
        probe: HealthProbe::None,
        interval_s: 0,
        timeout_s: 0,
        retries: 0,
        start_period_s: 0,
        host: None,
    });
    // The image's own check turned off: nothing else is read.
    assert!(s.validate().is_ok());
}

#[test]
fn only_named_volumes_at_safe_paths() {
    let mut s = spec();
    let v = |name: &str, path: &str| VolumeMount {
        name: name.into(),
        path: path.into(),
        read_only: false,
        shared: false,
    };
    s.volumes = vec![
        v("/etc", "/data"),
        v("../x", "/b"),
        v("data", "relative"),
        v("data", "/"),
        v("data", "/a/../b"),
        v("db", "/a/"),
        v("db2", "/a"),
    ];
    assert_eq!(
        fields(&s),
        [
            "volumes[0].name",
            "volumes[1].name",
            "volumes[2].path",
            "volumes[3].path",
            "volumes[4].path",
            "volumes[6].path"
        ]
    );
}

#[test]
fn dangerous_options_do_not_exist_and_are_refused_by_name() {
    for extra in [
        "privileged",
        "network_mode",
        "pid_mode",
        "cap_add",
        "binds",
        "devices",
    ] {
        let json = serde_json::json!({ "name": "web", "image": "busybox", extra: true });
        let err = serde_json::from_value::<ServiceSpec>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{extra}: {err}");
    }
}

#[test]
fn lists_have_limits() {
    let mut s = spec();
    s.env = (0..201)
        .map(|i| EnvVar {
            key: format!("K{i}"),
            value: String::new(),
            secret: false,
        })
        .collect();
    s.ports = (1..=21)
        .map(|p| PortSpec {
            container: p,
            host: None,
            protocol: Protocol::Tcp,
        })
        .collect();
    s.volumes = (0..21)
        .map(|i| VolumeMount {
            name: format!("v{i}"),
            path: format!("/v{i}"),
            read_only: false,
            shared: false,
        })
        .collect();
    s.command = vec!["x".into(); 65];
    let errors = s.validate().unwrap_err();
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("command", "At most 64 arguments."),
            ("env", "At most 200 variables."),
            ("ports", "At most 20 ports."),
            ("volumes", "At most 20 volumes."),
        ]
    );
}

#[test]
fn commands_are_lists() {
    let mut s = spec();
    s.command = vec!["".into()];
    assert_eq!(fields(&s), ["command"]);
    s.command = vec!["sh".into(), "-c".into(), "echo $(id); rm -rf /".into()];
    assert!(
        s.validate().is_ok(),
        "a list is passed as-is, no shell involved in Berth"
    );
}

#[test]
fn an_entrypoint_is_a_list_named_by_index() {
    let mut s = spec();
    s.entrypoint = vec!["/bin/sh".into(), "-c".into()];
    assert!(s.validate().is_ok());
    s.entrypoint = vec!["".into(), "ok".into(), "a\0b".into()];
    assert_eq!(fields(&s), ["entrypoint[0]", "entrypoint[2]"]);
    s.entrypoint = vec!["x".into(); 65];
    assert_eq!(fields(&s), ["entrypoint"]);
}

#[test]
fn labels_keep_out_of_reserved_namespaces() {
    let mut s = spec();
    s.labels = [("com.example.team", "payments"), ("tier", "")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(s.validate().is_ok());
    for bad in [
        "berth.service",
        "Berth.managed",
        "com.docker.compose.project",
        "io.docker.x",
        "org.dockerproject.y",
        "",
        "-x",
        "a b",
        &"k".repeat(129),
    ] {
        let mut s = spec();
        s.labels.insert(bad.to_owned(), "v".into());
        assert_eq!(fields(&s), [format!("labels.{bad}")], "{bad:?}");
    }
    let mut s = spec();
    s.labels.insert("big".into(), "v".repeat(1025));
    assert_eq!(fields(&s), ["labels.big"]);
    s.labels = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    assert_eq!(fields(&s), ["labels"]);
}

#[test]
fn depends_on_entries_name_other_services_once() {
    use crate::domain::dependencies::{DependsCondition, DependsOn};
    let on = |name: &str| DependsOn {
        service: name.into(),
        condition: DependsCondition::ServiceHealthy,
    };
    let mut s = spec();
    s.depends_on = vec![on("db"), on("cache")];
    assert!(s.validate().is_ok());
    s.depends_on = vec![on("db"), on("Not A Name"), on("web"), on("db")];
    let errors = s.validate().unwrap_err();
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(got[0].0, "depends_on[1].service");
    assert_eq!(
        got[1..],
        [
            (
                "depends_on[2].service",
                "A service cannot depend on itself."
            ),
            ("depends_on[3].service", "db is listed twice."),
        ]
    );
    s.depends_on = (0..21).map(|i| on(&format!("s{i}"))).collect();
    assert_eq!(fields(&s), ["depends_on"]);
}
