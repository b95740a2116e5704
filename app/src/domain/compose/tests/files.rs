//! Whole files as people write them (fixtures/).

use super::*;

const THREE: &str = include_str!("../fixtures/three-services.yml");
const POSTGRES_APP: &str = include_str!("../fixtures/postgres-app.yml");

#[test]
fn the_issues_three_services_web_api_db() {
    let app = ok_with(THREE, &vars(&[("DB_PASSWORD", "s3cret")]));
    let names: Vec<&str> = app.services.iter().map(|s| s.spec.name.as_str()).collect();
    assert_eq!(names, ["web", "api", "db"]);
    assert_eq!(app.volumes, ["pgdata"]);
    let (web, api, db) = (&app.services[0], &app.services[1], &app.services[2]);
    // References are kept for deploy time; ${VAR} came from the shared variables.
    assert_eq!(
        web.spec.env[0].value,
        "http://${{ api.HOST }}:${{ api.PORT }}"
    );
    assert_eq!(api.spec.env[2].value, "${{ db.POSTGRES_PASSWORD }}");
    assert_eq!(db.spec.env[0].value, "s3cret");
    assert_eq!(
        web.spec.http.as_ref().unwrap().domains,
        ["shop.example.com"]
    );
    assert_eq!(web.spec.ports[0].host, None);
    assert_eq!(api.spec.ports[0].container, 9000);
    let dep = |s: &ComposeService| -> Vec<(String, DependsOnCondition)> {
        s.spec
            .depends_on
            .iter()
            .map(|d| (d.service.clone(), d.condition))
            .collect()
    };
    assert_eq!(
        dep(web),
        [("api".to_owned(), DependsOnCondition::ServiceStarted)]
    );
    assert_eq!(
        dep(api),
        [("db".to_owned(), DependsOnCondition::ServiceHealthy)]
    );
    assert!(dep(db).is_empty());
    assert_eq!(db.spec.volumes[0].name, "pgdata");
    assert_eq!(db.spec.volumes[0].path, "/var/lib/postgresql/data");
    let h = db.spec.health_check.as_ref().unwrap();
    assert_eq!(
        (h.interval_s, h.timeout_s, h.retries, h.start_period_s),
        (5, 3, 10, 10)
    );
    assert_eq!(
        db.spec.stop_first_reason().unwrap(),
        "stop-first: the volume pgdata is writable and cannot be opened by two replicas"
    );
    // The file needs DB_PASSWORD: without it, it is refused naming the place.
    let problems = import(THREE, &vars(&[])).unwrap_err();
    has(
        &problems,
        "services.db.environment.POSTGRES_PASSWORD",
        "${DB_PASSWORD}",
    );
    assert_eq!(problems.len(), 1);
}

#[test]
fn a_typical_postgres_and_app_file() {
    let shared = vars(&[("POSTGRES_PASSWORD", "pw"), ("SECRET_KEY", "sk")]);
    // Compose tags what it builds with `image`; Berth refuses the pair (see translate).
    let problems = import(POSTGRES_APP, &shared).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    has(&problems, "services.app.image", "not both");
    let file = POSTGRES_APP.replace("    image: mycompany/app:latest\n", "");
    let app = ok_with(&file, &shared);
    let (db, web) = (&app.services[0], &app.services[1]);
    assert_eq!(db.spec.image, "postgres:16-alpine");
    assert_eq!(db.spec.restart_policy, RestartPolicy::UnlessStopped);
    assert_eq!(web.spec.restart_policy, RestartPolicy::UnlessStopped);
    assert_eq!(
        (db.spec.cpu_millis, db.spec.memory_mb),
        (Some(1500), Some(1024))
    );
    assert_eq!(
        db.spec.health_check.as_ref().unwrap().probe,
        HealthProbe::Command {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                "pg_isready -U app -d app".into()
            ]
        }
    );
    let build = web.build.as_ref().unwrap();
    assert_eq!(
        (build.context.as_str(), build.dockerfile.as_str()),
        ("app", "Dockerfile.prod")
    );
    assert_eq!(build.args[0].value, "3.12");
    assert_eq!(
        web.spec.command,
        [
            "gunicorn",
            "app.wsgi",
            "--bind",
            "0.0.0.0:8000",
            "--workers",
            "3"
        ]
    );
    let env: Vec<(&str, &str)> = web
        .spec
        .env
        .iter()
        .map(|v| (v.key.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        env,
        [
            ("DATABASE_URL", "postgres://app:pw@db:5432/app"),
            ("DEBUG", "false"),
            ("SECRET_KEY", "sk"),
        ]
    );
    assert_eq!(web.spec.ports[0].host, Some(8000));
    assert_eq!(
        web.spec.depends_on[0].condition,
        DependsOnCondition::ServiceHealthy
    );
    let noted: Vec<&str> = app.notes.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(noted, ["version"]);
}

#[test]
fn compose_reads_berths_export_and_berth_reads_composes_normal_form() {
    // fixtures/exported.yml is export()'s file (references replaced: `${{` is Berth's);
    // docker-compose 1.29 accepted it, and its `config` output is the second file.
    let exported = include_str!("../fixtures/exported.yml");
    let normalised = include_str!("../fixtures/exported-compose-config.yml");
    let shared = vars(&[
        ("WEB_TOKEN", "a"),
        ("API_V2_KEY", "b"),
        ("DB_POSTGRES_PASSWORD", "c"),
    ]);
    // Compose sorts services and variables; their order carries no meaning.
    let sorted = |mut app: ComposeApp| {
        app.services.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        for s in &mut app.services {
            s.spec.env.sort_by(|a, b| a.key.cmp(&b.key));
        }
        app
    };
    let ours = sorted(ok_with(exported, &shared));
    let theirs = sorted(ok(normalised));
    assert_eq!(ours.services, theirs.services);
    assert_eq!(ours.volumes, theirs.volumes);
    assert_eq!(theirs.notes[0].path, "version");
}
