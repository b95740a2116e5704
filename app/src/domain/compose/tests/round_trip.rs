//! Export writes what import reads back; the preview of a re-import says what changes.

use super::*;
use crate::domain::service::{Change, ServiceSpec};

fn spec(v: serde_json::Value) -> ServiceSpec {
    serde_json::from_value(v).unwrap()
}

/// Services using every field export can write.
fn environment() -> Vec<DefinedService> {
    let web = spec(serde_json::json!({
        "name": "web",
        "image": "registry.example.com:5000/shop/web:1.4",
        "command": ["httpd", "-f", "-p", "8080", "quote\"d", "dollar $HOME ${X} $$", "${{ api.HOST }}"],
        "env": [
            {"key": "API", "value": "http://${{ api.HOST }}:${{ api.PORT }}"},
            {"key": "MULTI", "value": "line one\nline \"two\"\ttab: yes # not a comment"},
            {"key": "TOKEN", "value": "s3cr3t", "secret": true},
            {"key": "NO", "value": ""},
            {"key": "ON", "value": "true"}
        ],
        "ports": [{"container": 8080}, {"container": 8081, "protocol": "udp"}],
        "replicas": 3,
        "cpu_millis": 250,
        "memory_mb": 384,
        "health_check": {"probe": {"kind": "http", "path": "/healthz", "port": 8080},
            "interval_s": 7, "timeout_s": 2, "retries": 4, "start_period_s": 11,
            "host": "shop.example.com"},
        "restart_policy": "always",
        "volumes": [{"name": "assets", "path": "/srv/assets", "read_only": true},
                    {"name": "uploads", "path": "/srv/uploads", "shared": true}],
        "registry_auth": {"username": "ci", "password": "hunter2"},
        "pull_policy": "if-missing",
        "http": {"domains": ["shop.example.com", "api.shop.example.com"], "port": 8080,
                 "https_redirect": false, "www_redirect": true}
    }));
    let api = spec(serde_json::json!({
        "name": "api-v2",
        "image": "",
        "git": {"repo": "https://git.example.com/shop.git", "branch": "main",
                "context": "services/api", "dockerfile": "docker/Dockerfile",
                "build_args": [{"key": "VERSION", "value": "2.0"}]},
        "env": [{"key": "DB_PASSWORD", "value": "${{ db.POSTGRES_PASSWORD }}"},
                {"key": "KEY", "value": "p@ss$word", "secret": true}],
        "health_check": {"probe": {"kind": "command", "argv": ["/bin/sh", "-c", "wget -q -O- localhost:9000 || exit 1"]},
            "interval_s": 30, "timeout_s": 30, "retries": 3, "start_period_s": 0},
        "restart_policy": "on-failure",
        "replicas": 0
    }));
    let db = spec(serde_json::json!({
        "name": "db",
        "image": "postgres:16@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "env": [{"key": "POSTGRES_PASSWORD", "value": "pw", "secret": true}],
        "volumes": [{"name": "pgdata", "path": "/var/lib/postgresql/data"}],
        "ports": [{"container": 5432, "host": 15432}, {"container": 53, "host": 5353, "protocol": "udp"}],
        "health_check": {"probe": {"kind": "none"}, "interval_s": 60, "timeout_s": 5,
                         "retries": 3, "start_period_s": 0},
        "restart_policy": "no",
        "pull_policy": "never"
    }));
    let on = |service: &str, condition| crate::domain::dependencies::DependsOn {
        service: service.into(),
        condition,
    };
    let mut web = web;
    web.depends_on = vec![on("api-v2", DependsOnCondition::ServiceStarted)];
    web.entrypoint = vec!["/bin/tini".into(), "--".into(), "with space".into()];
    web.labels = [
        ("com.example.team", "shop"),
        ("com.example/quoted", "a: \"b\" $HOME"),
        ("empty", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut api = api;
    api.depends_on = vec![on("db", DependsOnCondition::ServiceHealthy)];
    vec![
        DefinedService { spec: web },
        DefinedService { spec: api },
        DefinedService { spec: db },
    ]
}

/// The environment's repository, which `api-v2` builds from.
fn shop_repository() -> BuildRepository {
    BuildRepository {
        repository: "https://git.example.com/shop.git".into(),
        branch: "main".into(),
    }
}

/// The shared variables an import of the export needs: one per secret.
fn secrets() -> BTreeMap<String, String> {
    vars(&[
        ("WEB_TOKEN", "s3cr3t"),
        ("API_V2_KEY", "p@ss$word"),
        ("DB_POSTGRES_PASSWORD", "pw"),
    ])
}

#[test]
fn export_then_import_gives_the_same_definitions() {
    let services = environment();
    let yaml = export(&services, Some(&shop_repository()));
    let app = ok_with(&yaml, &secrets());
    assert_eq!(app.services.len(), 3);
    assert_eq!(app.volumes, ["assets", "pgdata", "uploads"]);
    assert!(app.notes.is_empty(), "{:?}", app.notes);
    for (old, new) in services.iter().zip(&app.services) {
        // What Compose cannot hold comes from the stored service (registry password, git
        // repository): as an import over them would store it.
        assert_eq!(as_stored(new, &old.spec), old.spec, "\n{yaml}");
    }
    assert_eq!(
        diff(&services, &app),
        services
            .iter()
            .map(|s| ImportChange::Unchanged {
                service: s.spec.name.clone()
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn export_never_writes_a_secret_and_says_how_to_give_them() {
    let yaml = export(&environment(), Some(&shop_repository()));
    for secret in ["s3cr3t", "p@ss", "hunter2"] {
        assert!(!yaml.contains(secret), "{secret} in\n{yaml}");
    }
    assert!(yaml.contains("TOKEN: \"${WEB_TOKEN}\""), "{yaml}");
    assert!(yaml.starts_with("# Exported from Berth."));
    assert!(yaml.contains("#   WEB_TOKEN (web TOKEN)\n"));
    assert!(yaml.contains("#   API_V2_KEY (api-v2 KEY)\n"));
    assert!(yaml.contains("Registry credentials are not written"));
    // Without the placeholders' values, the import names each one.
    let problems = import(&yaml, &vars(&[])).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    has(&problems, "services.web.environment.TOKEN", "${WEB_TOKEN}");
}

#[test]
fn a_plain_export_reads_as_plain_compose() {
    // No Berth-only field: no x-berth, and the file is what a person would write.
    let s = DefinedService {
        spec: spec(
            serde_json::json!({"name": "cache", "image": "redis:7", "ports": [{"container": 6379}]}),
        ),
    };
    let yaml = export(&[s], None);
    assert!(!yaml.contains("x-berth:"), "{yaml}");
    assert!(
        yaml.contains("  cache:\n    image: \"redis:7\"\n    ports:\n      - \"6379\"\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    restart: \"unless-stopped\"\n"), "{yaml}");
    assert!(!yaml.contains("volumes:"), "{yaml}");
}

#[test]
fn the_preview_of_a_re_import() {
    let existing = environment();
    let mut yaml = export(&existing, Some(&shop_repository()));
    yaml = yaml.replace("\"postgres:16@sha256:", "\"postgres:17@sha256:");
    yaml = yaml.replace("      replicas: 3\n", "      replicas: 5\n");
    yaml = yaml.replace(
        "\n  api-v2:\n",
        "\n  worker:\n    image: \"shop/worker:1\"\n  api-v2:\n",
    );
    let app = ok_with(&yaml, &secrets());
    let mut with_extra = existing.clone();
    with_extra.push(DefinedService {
        spec: spec(serde_json::json!({"name": "legacy", "image": "old:1"})),
    });
    let changes = diff(&with_extra, &app);
    assert_eq!(
        changes,
        [
            ImportChange::Update {
                service: "web".into(),
                fields: vec!["replicas".into()],
                change: Change::Scale
            },
            ImportChange::Create {
                service: "worker".into()
            },
            ImportChange::Unchanged {
                service: "api-v2".into()
            },
            ImportChange::Update {
                service: "db".into(),
                fields: vec!["image".into()],
                change: Change::Rollout
            },
            ImportChange::NotInFile {
                service: "legacy".into()
            },
        ]
    );
    // A changed secret is an update of env; a changed dependency is named too, and
    // replaces no container.
    let mut other = existing.clone();
    other[2].spec.env[0].value = "old".into();
    other[0].spec.depends_on.clear();
    let changes = diff(&other, &app);
    assert!(
        changes.contains(&ImportChange::Update {
            service: "db".into(),
            fields: vec!["env".into(), "image".into()],
            change: Change::Rollout
        }),
        "{changes:#?}"
    );
    assert_eq!(
        changes[0],
        ImportChange::Update {
            service: "web".into(),
            fields: vec!["depends_on".into(), "replicas".into()],
            change: Change::Reroute
        }
    );
}

#[test]
fn a_build_from_another_repository_travels_in_x_berth() {
    let services = environment();
    // The environment builds from another repository (or has none): api-v2 names its own.
    for repository in [
        None,
        Some(BuildRepository {
            repository: "https://git.example.com/x.git".into(),
            branch: "main".into(),
        }),
    ] {
        let yaml = export(&services, repository.as_ref());
        assert!(
            yaml.contains("      git:\n        repository: \"https://git.example.com/shop.git\"\n        branch: \"main\"\n"),
            "{yaml}"
        );
        let app = ok_with(&yaml, &secrets());
        let api = &app.services[1];
        assert_eq!(
            api.build
                .as_ref()
                .unwrap()
                .repository
                .as_ref()
                .unwrap()
                .repository,
            "https://git.example.com/shop.git"
        );
        assert_eq!(
            as_stored(api, &services[1].spec),
            services[1].spec,
            "\n{yaml}"
        );
    }
    // From the environment's own repository: a plain build, no x-berth.git.
    let yaml = export(&services, Some(&shop_repository()));
    assert!(!yaml.contains("      git:\n"), "{yaml}");
}
