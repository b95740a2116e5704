//! Every supported Compose field, read into the spec.

use super::*;

#[test]
fn image_command_and_restart() {
    let s = one(&web(
        "    command: sh -c 'echo \"hi there\"' --x\n    restart: always\n",
    ));
    assert_eq!(s.spec.name, "web");
    assert_eq!(s.spec.image, "nginx:1.27");
    assert_eq!(s.spec.command, ["sh", "-c", "echo \"hi there\"", "--x"]);
    assert_eq!(s.spec.restart_policy, RestartPolicy::Always);
    let listed = one(&web("    command: [\"sleep\", \"60 s\"]\n"));
    assert_eq!(listed.spec.command, ["sleep", "60 s"]);
    // Compose's default restart policy is no; no health check of Berth's own.
    assert_eq!(listed.spec.restart_policy, RestartPolicy::No);
    assert_eq!(listed.spec.health_check, None);
    for (word, policy) in [
        ("\"no\"", RestartPolicy::No),
        ("on-failure", RestartPolicy::OnFailure),
        ("unless-stopped", RestartPolicy::UnlessStopped),
    ] {
        let s = one(&web(&format!("    restart: {word}\n")));
        assert_eq!(s.spec.restart_policy, policy, "{word}");
    }
}

#[test]
fn environment_as_a_list_or_a_map_with_values_from_shared_variables() {
    let shared = vars(&[("SECRET_KEY", "k3y")]);
    let list = ok_with(
        &web("    environment:\n      - A=1\n      - B=x=y\n      - SECRET_KEY\n      - EMPTY=\n"),
        &shared,
    );
    let env: Vec<(&str, &str)> = list.services[0]
        .spec
        .env
        .iter()
        .map(|v| (v.key.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        env,
        [
            ("A", "1"),
            ("B", "x=y"),
            ("SECRET_KEY", "k3y"),
            ("EMPTY", "")
        ]
    );
    let map = ok_with(
        &web("    environment:\n      PORT: 8080\n      DEBUG: false\n      SECRET_KEY:\n"),
        &shared,
    );
    let env: Vec<(&str, &str)> = map.services[0]
        .spec
        .env
        .iter()
        .map(|v| (v.key.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        env,
        [("PORT", "8080"), ("DEBUG", "false"), ("SECRET_KEY", "k3y")]
    );
    assert!(map.services[0].spec.env.iter().all(|v| !v.secret));
}

#[test]
fn ports_publish_and_expose_only_reaches_the_network() {
    let s = one(&web(
        "    ports:\n      - \"8080:80\"\n      - 443\n      - 53/udp\n      - target: 9000\n        published: 9001\n        protocol: udp\n      - target: 7000\n    expose:\n      - \"3000\"\n      - 80\n",
    ));
    let port = |container, host, protocol| PortSpec {
        container,
        host,
        protocol,
    };
    assert_eq!(
        s.spec.ports,
        [
            port(80, Some(8080), Protocol::Tcp),
            port(443, None, Protocol::Tcp),
            port(53, None, Protocol::Udp),
            port(9000, Some(9001), Protocol::Udp),
            port(7000, None, Protocol::Tcp),
            // 80 is under ports already.
            port(3000, None, Protocol::Tcp),
        ]
    );
}

#[test]
fn named_volumes_short_and_long() {
    let s = one(&web(
        "    volumes:\n      - data:/var/lib/data\n      - data:/ro:ro\n      - type: volume\n        source: data\n        target: /long\n        read_only: true\n",
    ));
    let mount = |path: &str, read_only| VolumeMount {
        name: "data".into(),
        path: path.into(),
        read_only,
        shared: false,
    };
    assert_eq!(
        s.spec.volumes,
        [
            mount("/var/lib/data", false),
            mount("/ro", true),
            mount("/long", true)
        ]
    );
    assert_eq!(ok(&web("")).volumes, ["data"]);
}

#[test]
fn depends_on_as_a_list_or_with_conditions() {
    let app = ok("services:
  web: {image: a, depends_on: [api, cache]}
  api:
    image: a
    depends_on:
      db: {condition: service_healthy, required: true}
      cache:
  db: {image: a, healthcheck: {test: [\"CMD\", \"true\"]}}
  cache: {image: a}
");
    let deps = |i: usize| -> Vec<(String, DependsOnCondition)> {
        app.services[i]
            .spec
            .depends_on
            .iter()
            .map(|d| (d.service.clone(), d.condition))
            .collect()
    };
    use DependsOnCondition::*;
    assert_eq!(
        deps(0),
        [
            ("api".into(), ServiceStarted),
            ("cache".into(), ServiceStarted)
        ]
    );
    assert_eq!(
        deps(1),
        [
            ("db".into(), ServiceHealthy),
            ("cache".into(), ServiceStarted)
        ]
    );
    assert!(deps(2).is_empty());
}

#[test]
fn healthcheck_forms_and_timings() {
    let s = one(&web(
        "    healthcheck:\n      test: [\"CMD\", \"wget\", \"-q\", \"localhost\"]\n      interval: 1m30s\n      timeout: 5s\n      retries: 4\n      start_period: 20s\n",
    ));
    let h = s.spec.health_check.unwrap();
    assert_eq!(
        h.probe,
        HealthProbe::Command {
            argv: vec!["wget".into(), "-q".into(), "localhost".into()]
        }
    );
    assert_eq!(
        (h.interval_s, h.timeout_s, h.retries, h.start_period_s),
        (90, 5, 4, 20)
    );
    // A string and CMD-SHELL run through /bin/sh -c, as Docker runs them.
    for test in [
        "curl -f http://localhost/ || exit 1",
        "[\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"]",
    ] {
        let s = one(&web(&format!("    healthcheck:\n      test: {test}\n")));
        let h = s.spec.health_check.unwrap();
        assert_eq!(
            h.probe,
            HealthProbe::Command {
                argv: vec![
                    "/bin/sh".into(),
                    "-c".into(),
                    "curl -f http://localhost/ || exit 1".into()
                ]
            },
            "{test}"
        );
        // Docker's defaults for what is not given.
        assert_eq!(
            (h.interval_s, h.timeout_s, h.retries, h.start_period_s),
            (30, 30, 3, 0)
        );
    }
    for off in ["disable: true", "test: [\"NONE\"]"] {
        let s = one(&web(&format!("    healthcheck:\n      {off}\n")));
        assert_eq!(
            s.spec.health_check.unwrap().probe,
            HealthProbe::None,
            "{off}"
        );
    }
}

#[test]
fn deploy_replicas_and_limits() {
    let s = one(&web(
        "    deploy:\n      mode: replicated\n      replicas: 3\n      resources:\n        limits:\n          cpus: '0.25'\n          memory: 512M\n",
    ));
    assert_eq!(s.spec.replicas, 3);
    assert_eq!(s.spec.cpu_millis, Some(250));
    assert_eq!(s.spec.memory_mb, Some(512));
    let zero = one(&web(
        "    deploy: {replicas: 0, resources: {limits: {cpus: 2, memory: 1gb}}}\n",
    ));
    assert_eq!(
        (
            zero.spec.replicas,
            zero.spec.cpu_millis,
            zero.spec.memory_mb
        ),
        (0, Some(2000), Some(1024))
    );
}

#[test]
fn build_from_the_environments_repository() {
    let shared = vars(&[("FLAG", "on")]);
    let app = ok_with(
        "services:
  api:
    build:
      context: ./services/api/
      dockerfile: docker/Dockerfile
      args:
        VERSION: \"1.2\"
        FLAG:
  worker:
    build: .
",
        &shared,
    );
    let api = &app.services[0];
    let b = api.build.as_ref().unwrap();
    assert_eq!(
        (b.context.as_str(), b.dockerfile.as_str()),
        ("services/api", "docker/Dockerfile")
    );
    let args: Vec<(&str, &str)> = b
        .args
        .iter()
        .map(|a| (a.key.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(args, [("VERSION", "1.2"), ("FLAG", "on")]);
    assert_eq!(api.spec.image, "");
    assert_eq!(api.spec.git, None);
    let worker = app.services[1].build.as_ref().unwrap();
    assert_eq!(
        (worker.context.as_str(), worker.dockerfile.as_str()),
        (".", "Dockerfile")
    );
    let git = worker.git_source("https://git.example.com/shop.git", "main", None);
    assert_eq!((git.context.as_str(), git.branch.as_str()), (".", "main"));
}

#[test]
fn pull_policy_and_the_berth_extension() {
    let s = one(&web("    pull_policy: missing
    environment: {TOKEN: t0k}
    volumes: [\"data:/d\"]
    deploy: {replicas: 2}
    healthcheck: {interval: 7s}
    x-berth:
      http: {domains: [a.example.com], port: 80, www_redirect: true}
      http_check: {path: /healthz, port: 80, host: a.example.com}
      secret_env: [TOKEN]
      shared_volumes: [data]
"));
    assert_eq!(
        s.spec.pull_policy,
        Some(crate::domain::service::PullPolicy::IfMissing)
    );
    let http = s.spec.http.unwrap();
    assert_eq!(
        (
            http.domains.as_slice(),
            http.port,
            http.https_redirect,
            http.www_redirect
        ),
        (&["a.example.com".to_owned()][..], 80, true, true)
    );
    let h = s.spec.health_check.unwrap();
    assert_eq!(
        h.probe,
        HealthProbe::Http {
            path: "/healthz".into(),
            port: 80
        }
    );
    assert_eq!(
        (h.interval_s, h.host.as_deref()),
        (7, Some("a.example.com"))
    );
    assert!(s.spec.env[0].secret);
    assert!(s.spec.volumes[0].shared);
}

#[test]
fn interpolation_from_shared_variables_keeps_berth_references() {
    let shared = vars(&[("TAG", "1.27"), ("HOST_PORT", "8081")]);
    let app = ok_with(
        &web("    environment:\n      DB: \"${{ db.HOST }}:${DB_PORT:-5432}\"\n      PRICE: \"$$5\"\n    ports: [\"${HOST_PORT}:80\"]\n").replace("nginx:1.27", "nginx:${TAG}"),
        &shared,
    );
    let s = &app.services[0].spec;
    assert_eq!(s.image, "nginx:1.27");
    assert_eq!(s.env[0].value, "${{ db.HOST }}:5432");
    assert_eq!(s.env[1].value, "$5");
    assert_eq!(s.ports[0].host, Some(8081));
}

#[test]
fn version_name_and_extensions_are_accepted_and_noted() {
    let app = ok(&format!(
        "version: \"3.9\"\nname: shop\nx-defaults: &d {{restart: always}}\n{}",
        web("    <<: *d\n    x-owner: team-a\n")
    ));
    assert_eq!(app.services[0].spec.restart_policy, RestartPolicy::Always);
    let paths: Vec<&str> = app.notes.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(paths, ["version", "name", "services.web.x-owner"]);
}

#[test]
fn image_next_to_build_is_refused() {
    let problems = refused("services:\n  app:\n    build: .\n    image: me/app:latest\n");
    has(&problems, "services.app.image", "not both");
}

#[test]
fn a_build_from_another_repository() {
    let app = one("services:
  app:
    build: {context: web}
    x-berth:
      git: {repository: \"https://git.example.com/other.git\", branch: release}
");
    let b = app.build.unwrap();
    assert_eq!(
        b.repository,
        Some(BuildRepository {
            repository: "https://git.example.com/other.git".into(),
            branch: "release".into()
        })
    );
    let problems = refused(
        "services:
  app:
    build: .
    x-berth: {git: {repository: \"ext::sh\", branch: \"-x\"}}
  web:
    image: nginx:1
    x-berth: {git: {repository: \"https://git.example.com/a.git\", branch: main}}
",
    );
    has(&problems, "services.app.x-berth.git.repository", "helper");
    has(&problems, "services.app.x-berth.git.branch", "'-'");
    has(&problems, "services.web.x-berth.git", "give build too");
}

#[test]
fn entrypoint_as_a_list_or_a_string_split_like_command() {
    let s = one(&web("    entrypoint: [\"/bin/tini\", \"--\"]\n"));
    assert_eq!(s.spec.entrypoint, ["/bin/tini", "--"]);
    let s = one(&web(
        "    entrypoint: /docker-entrypoint.sh 'a b'\n    command: [serve]\n",
    ));
    assert_eq!(s.spec.entrypoint, ["/docker-entrypoint.sh", "a b"]);
    assert_eq!(s.spec.command, ["serve"]);
    has(
        &refused(&web("    entrypoint: \"sh -c 'unclosed\"\n")),
        "services.web.entrypoint",
        "unclosed quote",
    );
}

#[test]
fn labels_as_a_list_or_a_map_and_reserved_keys_refused_by_path() {
    let s = one(&web(
        "    labels: [\"com.example.team=payments\", \"tier\"]\n",
    ));
    let labels: Vec<(&str, &str)> = s
        .spec
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(labels, [("com.example.team", "payments"), ("tier", "")]);
    let s = one(&web(
        "    labels:\n      com.example.team: payments\n      empty:\n",
    ));
    assert_eq!(s.spec.labels["com.example.team"], "payments");
    assert_eq!(s.spec.labels["empty"], "");
    let problems = refused(&web(
        "    labels:\n      berth.service: x\n      com.docker.compose.project: y\n",
    ));
    has(&problems, "services.web.labels.berth.service", "reserved");
    has(
        &problems,
        "services.web.labels.com.docker.compose.project",
        "reserved",
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
    has(
        &refused(&web("    labels: [\"a=1\", \"a=2\"]\n")),
        "services.web.labels[1]",
        "set twice",
    );
    has(
        &refused(&web("    labels: yes\n")),
        "services.web.labels",
        "list of key=value or a mapping",
    );
}
