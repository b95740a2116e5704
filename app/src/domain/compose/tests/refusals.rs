//! Everything refused is named by its path, all at once, and nothing is returned.

use super::*;

#[test]
fn unsafe_keys_are_refused_by_name() {
    let cases = [
        ("privileged: true", "privileged", "privileged"),
        ("network_mode: host", "network_mode", "own network"),
        ("networks: [front]", "networks", "one private network"),
        ("cap_add: [NET_ADMIN]", "cap_add", "capabilities"),
        ("env_file: .env", "env_file", "environment"),
        ("devices: [\"/dev/fuse:/dev/fuse\"]", "devices", "devices"),
        ("pid: host", "pid", "namespaces"),
        ("ipc: host", "ipc", "namespaces"),
        (
            "security_opt: [\"seccomp:unconfined\"]",
            "security_opt",
            "Security options",
        ),
        ("extends: {service: base}", "extends", "in full"),
        ("secrets: [token]", "secrets", "secret variable"),
        ("configs: [conf]", "configs", "shared variable"),
        ("user: root", "user", "does not support"),
        ("imagee: typo", "imagee", "Not a Compose service key"),
    ];
    for (line, key, words) in cases {
        let problems = refused(&web(&format!("    {line}\n")));
        has(&problems, &format!("services.web.{key}"), words);
        assert_eq!(problems.len(), 1, "{line}: {problems:#?}");
    }
}

#[test]
fn bind_mounts_and_anonymous_volumes_are_refused() {
    let problems = refused(&web("    volumes:
      - ./site:/usr/share/nginx/html
      - /var/run/docker.sock:/var/run/docker.sock
      - ~/cache:/cache
      - /anonymous
      - type: bind
        source: /srv
        target: /srv
      - type: tmpfs
        target: /tmp
      - missing:/m
      - data:/d:z
"));
    for i in 0..3 {
        has(
            &problems,
            &format!("services.web.volumes[{i}]"),
            "bind mount",
        );
    }
    has(&problems, "services.web.volumes[3]", "anonymous volume");
    has(&problems, "services.web.volumes[4].type", "bind mount");
    has(&problems, "services.web.volumes[5].type", "not tmpfs");
    has(&problems, "services.web.volumes[6]", "not declared");
    has(&problems, "services.web.volumes[7]", "option z");
}

#[test]
fn unknown_keys_at_every_level() {
    let problems = refused(
        "servicez: {}
services:
  web:
    image: a
    healthcheck: {test: [\"CMD\", \"true\"], start_interval: 1s, color: red}
    deploy: {placement: {constraints: []}, resources: {reservations: {cpus: 1}, limits: {pids: 5}}}
    build: {context: ., target: prod}
    depends_on: {db: {restart: true}}
    ports: [{target: 80, host_ip: 127.0.0.1}]
  db: {image: a}
volumes:
  data: {driver: local}
",
    );
    for (path, words) in [
        ("servicez", "Not a Compose key"),
        ("services.web.healthcheck.start_interval", "healthcheck"),
        ("services.web.healthcheck.color", "healthcheck"),
        ("services.web.deploy.placement", "deploy"),
        ("services.web.deploy.resources.reservations", "limits only"),
        ("services.web.deploy.resources.limits.pids", "limits"),
        ("services.web.build.target", "build"),
        ("services.web.depends_on.db.restart", "depends_on"),
        ("services.web.ports[0].host_ip", "a port"),
        ("volumes.data.driver", "creates named volumes itself"),
        ("services.web.image", "not both"),
    ] {
        has(&problems, path, words);
    }
    assert_eq!(problems.len(), 11, "{problems:#?}");
}

#[test]
fn wrong_types_are_named() {
    let problems = refused(&web("    ports: \"80\"
    environment: [[A]]
    command: {run: x}
    deploy: {replicas: many}
    restart: sometimes
    healthcheck: {test: [\"CMD\", \"true\"], interval: 10, retries: 0}
"));
    has(&problems, "services.web.ports", "A list is expected");
    has(
        &problems,
        "services.web.environment[0]",
        "A string is expected, not a list",
    );
    has(
        &problems,
        "services.web.command",
        "A list is expected, not a mapping",
    );
    has(&problems, "services.web.deploy.replicas", "from 0 to 50");
    has(&problems, "services.web.restart", "unless-stopped");
    has(&problems, "services.web.healthcheck.interval", "duration");
    has(
        &problems,
        "services.web.healthcheck.retries",
        "from 1 to 100",
    );
    assert_eq!(problems.len(), 7, "{problems:#?}");
}

#[test]
fn network_mode_host_privileged_and_a_bind_mount_together() {
    // The list: every problem is reported, not only the first.
    let problems = refused(
        "services:
  web:
    image: nginx
    privileged: true
    network_mode: host
    volumes: [\"./html:/usr/share/nginx/html\"]
    colour: blue
",
    );
    has(&problems, "services.web.privileged", "privileged");
    has(&problems, "services.web.network_mode", "network");
    has(&problems, "services.web.volumes[0]", "bind mount");
    has(
        &problems,
        "services.web.colour",
        "Not a Compose service key",
    );
    assert_eq!(problems.len(), 4);
}

#[test]
fn a_cycle_and_a_missing_service_in_depends_on() {
    let problems = refused(
        "services:
  web: {image: a, depends_on: [api]}
  api: {image: a, depends_on: [db, queue]}
  db: {image: a, depends_on: {web: {condition: service_started}}}
  solo: {image: a, depends_on: [solo]}
",
    );
    has(
        &problems,
        "services.api.depends_on.queue",
        "queue is not a service of this file",
    );
    has(
        &problems,
        "services.web.depends_on",
        "cycle: web → api → db → web",
    );
    // Waiting for itself is a rule of the service alone.
    has(
        &problems,
        "services.solo.depends_on",
        "A service cannot depend on itself.",
    );
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn conditions_berth_cannot_wait_for() {
    let problems = refused(
        "services:
  web: {image: a, depends_on: {migrate: {condition: service_completed_successfully}, db: {required: false}}}
  migrate: {image: a}
  db: {image: a}
",
    );
    has(
        &problems,
        "services.web.depends_on.migrate.condition",
        "scheduled job",
    );
    has(&problems, "services.web.depends_on.db.required", "required");
}

#[test]
fn two_megabytes_are_refused_before_parsing() {
    let mut yaml = web("");
    yaml.push_str("x-padding: \"");
    yaml.push_str(&"a".repeat(2 * 1024 * 1024));
    yaml.push_str("\"\n");
    let problems = refused(&yaml);
    assert_eq!(problems.len(), 1);
    has(&problems, "", "at most 1048576 (1 MiB)");
}

#[test]
fn an_alias_bomb_is_refused_without_expanding_it() {
    // Nine levels of ten aliases each: 10^9 strings if expanded.
    let mut yaml = String::from("x-a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    for i in 1..9 {
        let p = i - 1;
        yaml.push_str(&format!(
            "x-a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    yaml.push_str(&web(""));
    let started = std::time::Instant::now();
    let problems = refused(&yaml);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("alias bomb"), "{problems:?}");
    assert!(problems[0].path.starts_with("x-a"), "{problems:?}");
    // A few ordinary aliases are fine.
    ok(&format!(
        "x-env: &env {{A: \"1\"}}\n{}",
        web("    environment: *env\n")
    ));
}

#[test]
fn deep_nesting_and_broken_yaml_are_refused() {
    let deep = format!(
        "x-deep: {}{}\n{}",
        "[".repeat(100),
        "]".repeat(100),
        web("")
    );
    let problems = refused(&deep);
    assert!(
        problems[0].message.contains("nested more than 32"),
        "{problems:?}"
    );
    let problems = refused("services:\n  web: {image: a\n");
    assert_eq!(problems[0].path, "");
    assert!(
        problems[0].message.contains("Not valid YAML"),
        "{problems:?}"
    );
    let problems = refused("services:\n  web: {image: a}\n---\nservices: {}\n");
    assert!(problems[0].message.contains("more than one YAML document"));
    let problems = refused("services:\n  web: {image: a}\n  web: {image: b}\n");
    has(&problems, "services.web", "given twice");
    has(&refused(""), "", "empty");
    has(&refused("- a\n"), "", "A mapping with services is expected");
    has(&refused("volumes: {}\n"), "services", "defines services");
    has(
        &refused(&web("    command: !!str x\n    tag: !reset null\n")),
        "services.web.tag",
        "tag !reset",
    );
}

#[test]
fn unknown_variables_are_named_where_they_are_used() {
    let problems = refused(&web(
        "    environment:\n      URL: http://${HOST}/\n      COST: 5$\n",
    ));
    has(
        &problems,
        "services.web.environment.URL",
        "${HOST} is not a shared variable",
    );
    has(&problems, "services.web.environment.COST", "$$");
}

#[test]
fn the_apis_rules_are_reported_at_the_compose_path() {
    let problems = refused(
        "services:
  Web_1:
    image: \"NOT AN IMAGE\"
  db:
    image: postgres
    environment: {1BAD: x}
    ports: [\"5432:5432\"]
    volumes: [\"data:/var/lib/postgresql/data\"]
    deploy: {replicas: 2, resources: {limits: {memory: 1m, cpus: \"0.001\"}}}
    healthcheck: {test: [\"CMD\"], interval: 2h}
  api:
    build: {context: ../outside}
    x-berth:
      http: {domains: [\"not a domain\"], port: 80}
volumes: {data: }
",
    );
    for (path, words) in [
        ("services.Web_1", "lowercase"),
        ("services.Web_1.image", ""),
        ("services.db.environment.1BAD", "variable name"),
        ("services.db.ports[0]", "one replica"),
        ("services.db.deploy.replicas", "The volume data is writable"),
        ("services.db.deploy.resources.limits.memory", "6 MB"),
        ("services.db.deploy.resources.limits.cpus", "0.01 core"),
        ("services.db.healthcheck.test", "program"),
        ("services.db.healthcheck.interval", "Between 1 and 3600"),
        ("services.api.build.context", "'..'"),
    ] {
        has(&problems, path, words);
    }
    assert!(
        problems
            .iter()
            .any(|p| p.path.starts_with("services.api.x-berth.http")),
        "{problems:#?}"
    );
}

#[test]
fn ports_berth_cannot_publish() {
    let problems = refused(&web("    ports: [\"127.0.0.1:80:80\", \"9000-9002:9000-9002\", \"80/sctp\"]\n    expose: [\"80:80\"]\n    restart: on-failure:3\n    pull_policy: build\n"));
    has(&problems, "services.web.ports[0]", "host address");
    has(&problems, "services.web.ports[1]", "ranges");
    has(&problems, "services.web.ports[2]", "sctp");
    has(&problems, "services.web.expose[0]", "container ports only");
    has(&problems, "services.web.restart", "restart attempts");
    has(&problems, "services.web.pull_policy", "always, missing");
}

#[test]
fn a_service_needs_an_image_or_a_build_and_timings_need_a_test() {
    let problems =
        refused("services:\n  web:\n    command: [x]\n    healthcheck: {interval: 5s}\n");
    has(&problems, "services.web", "Give an image");
    has(&problems, "services.web.healthcheck", "Give a test");
}

#[test]
fn top_level_keys_berth_does_not_support() {
    let problems = refused(&format!(
        "{}networks: {{front: {{}}}}\nsecrets: {{}}\ninclude: [a.yml]\n",
        web("")
    ));
    has(&problems, "networks", "one private network");
    has(&problems, "secrets", "shared variables");
    has(&problems, "include", "one file");
}
