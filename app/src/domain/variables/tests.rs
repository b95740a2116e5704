//! Unit tests of the variable references.

use super::*;
use crate::domain::service::EnvVar;

fn var(key: &str, value: &str) -> EnvVar {
    EnvVar {
        key: key.into(),
        value: value.into(),
        secret: false,
    }
}

fn secret(key: &str, value: &str) -> EnvVar {
    EnvVar {
        secret: true,
        ..var(key, value)
    }
}

fn service(name: &str, env: Vec<EnvVar>) -> ServiceVariables {
    ServiceVariables {
        name: name.into(),
        env,
        facts: ServiceFacts::default(),
    }
}

fn env(shared: Vec<EnvVar>, services: Vec<ServiceVariables>) -> EnvironmentVariables {
    EnvironmentVariables { shared, services }
}

fn lit(s: &str) -> Segment {
    Segment::Literal(s.into())
}

fn reference(scope: &str, name: &str) -> Segment {
    Segment::Reference(if scope == "shared" {
        Reference::shared(name)
    } else {
        Reference::service(scope, name)
    })
}

/// The issue's example: web → api → db, wired with references.
fn web_api_db() -> EnvironmentVariables {
    let mut web = service(
        "web",
        vec![var("API_URL", "http://${{ api.HOST }}:${{ api.PORT }}")],
    );
    web.facts.url = Some("https://shop.example.com".into());
    web.facts.port = Some(80);
    let mut api = service(
        "api",
        vec![
            var(
                "DATABASE_URL",
                "postgres://app:${{ db.POSTGRES_PASSWORD }}@${{ db.HOST }}:${{db.PORT}}/app",
            ),
            var("PUBLIC_URL", "${{ web.URL }}"),
            var("GREETING", "${{ shared.GREETING }}"),
        ],
    );
    api.facts.port = Some(8080);
    let mut db = service(
        "db",
        vec![
            secret("POSTGRES_PASSWORD", "hunter2"),
            var("POSTGRES_USER", "app"),
        ],
    );
    db.facts.port = Some(5432);
    env(vec![var("GREETING", "hello")], vec![web, api, db])
}

fn resolved(service: &str, e: &EnvironmentVariables) -> Vec<(String, String, bool)> {
    resolve(service, e)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.value, v.secret))
        .collect()
}

fn kinds(problems: &[Problem]) -> Vec<(String, ProblemKind)> {
    problems
        .iter()
        .map(|p| (p.variable.to_string(), p.kind.clone()))
        .collect()
}

// --- syntax -------------------------------------------------------------------------

#[test]
fn references_with_and_without_whitespace() {
    assert_eq!(
        parse("${{ shared.A }}").unwrap(),
        vec![reference("shared", "A")]
    );
    assert_eq!(
        parse("${{db.PASSWORD}}").unwrap(),
        vec![reference("db", "PASSWORD")]
    );
    assert_eq!(
        parse("${{   my-api.port_2 \t}}").unwrap(),
        vec![reference("my-api", "port_2")]
    );
    assert_eq!(
        parse("postgres://u:${{ db.P }}@${{ db.HOST }}:5432").unwrap(),
        vec![
            lit("postgres://u:"),
            reference("db", "P"),
            lit("@"),
            reference("db", "HOST"),
            lit(":5432"),
        ]
    );
    assert_eq!(
        parse("${{ a.X }}${{ b.Y }}").unwrap(),
        vec![reference("a", "X"), reference("b", "Y")]
    );
}

#[test]
fn a_dollar_that_does_not_open_a_reference_stays_literal() {
    for value in [
        "$HOME",
        "${X}",
        "$$",
        "$",
        "a$",
        "$(date)",
        "${ {x}}",
        "price: 5$ {{x}}",
        "{{ db.X }}",
        "$ {{ db.X }}",
        "ünïcødé $ ✓",
    ] {
        assert_eq!(parse(value).unwrap(), vec![lit(value)], "{value}");
    }
    assert_eq!(parse("").unwrap(), vec![]);
}

#[test]
fn a_doubled_dollar_before_braces_is_a_literal_opening() {
    assert_eq!(
        parse("$${{ github.sha }}").unwrap(),
        vec![lit("${{ github.sha }}")]
    );
    assert_eq!(
        parse("x$${{ y ${{ shared.A }}").unwrap(),
        vec![lit("x${{ y "), reference("shared", "A")]
    );
    // `$$` elsewhere stays as it is.
    assert_eq!(parse("$$HOME").unwrap(), vec![lit("$$HOME")]);
}

#[test]
fn an_unterminated_reference_is_refused_with_its_position() {
    assert_eq!(
        parse("ab${{ db.X"),
        Err(SyntaxError::Unterminated { at: 3 })
    );
    assert_eq!(parse("${{"), Err(SyntaxError::Unterminated { at: 1 }));
    // Positions count characters, not bytes.
    assert_eq!(
        parse("é${{ db.X }"),
        Err(SyntaxError::Unterminated { at: 2 })
    );
    let message = parse("ab${{ db.X").unwrap_err().to_string();
    assert!(message.contains("character 3"), "{message}");
    assert!(message.contains("\"}}\""), "{message}");
}

#[test]
fn a_bad_name_is_refused_naming_the_text() {
    for (value, text) in [
        ("${{ db }}", "${{ db }}"),
        ("${{}}", "${{}}"),
        ("${{ .X }}", "${{ .X }}"),
        ("${{ db. }}", "${{ db. }}"),
        ("x ${{ DB.X }} y", "${{ DB.X }}"),
        ("${{ db.1X }}", "${{ db.1X }}"),
        ("${{ db.X-Y }}", "${{ db.X-Y }}"),
        ("${{ db.X.Y }}", "${{ db.X.Y }}"),
        ("${{ -db.X }}", "${{ -db.X }}"),
        ("${{ db . X }}", "${{ db . X }}"),
        ("${{ a.${{ b.C }} }}", "${{ a.${{ b.C }}"),
    ] {
        match parse(value) {
            Err(SyntaxError::BadName { text: t, .. }) => assert_eq!(t, text, "{value}"),
            other => panic!("{value}: {other:?}"),
        }
    }
    let message = parse("${{ db }}").unwrap_err().to_string();
    assert!(message.contains("${{ shared.NAME }}"), "{message}");
}

#[test]
fn references_are_written_back_canonically() {
    assert_eq!(
        Reference::service("db", "HOST").to_string(),
        "${{ db.HOST }}"
    );
    assert_eq!(Reference::shared("A").to_string(), "${{ shared.A }}");
    let refs = references("${{db.A}} and ${{ shared.B }}").unwrap();
    assert_eq!(
        refs,
        vec![Reference::service("db", "A"), Reference::shared("B")]
    );
}

// --- resolve ------------------------------------------------------------------------

#[test]
fn the_issue_example_resolves_with_facts_and_secrets() {
    let e = web_api_db();
    assert!(check(&e).is_empty(), "{:?}", check(&e));
    assert_eq!(
        resolved("api", &e),
        vec![
            (
                "DATABASE_URL".into(),
                "postgres://app:hunter2@db:5432/app".into(),
                true
            ),
            (
                "PUBLIC_URL".into(),
                "https://shop.example.com".into(),
                false
            ),
            ("GREETING".into(), "hello".into(), false),
        ]
    );
    assert_eq!(
        resolved("web", &e),
        vec![("API_URL".into(), "http://api:8080".into(), false)]
    );
    assert_eq!(
        resolved("db", &e),
        vec![
            ("POSTGRES_PASSWORD".into(), "hunter2".into(), true),
            ("POSTGRES_USER".into(), "app".into(), false),
        ]
    );
}

#[test]
fn a_value_using_a_secret_is_shown_masked() {
    let e = web_api_db();
    let api = resolve("api", &e).unwrap();
    assert_eq!(api[0].1.shown(), SECRET_MASK);
    assert!(!api[0].1.shown().contains("hunter2"));
    assert_eq!(api[1].1.shown(), "https://shop.example.com");
}

#[test]
fn secrecy_travels_through_any_number_of_references() {
    let e = env(
        vec![
            secret("TOKEN", "s3cr3t"),
            var("HEADER", "Bearer ${{ shared.TOKEN }}"),
        ],
        vec![
            service("a", vec![var("AUTH", "${{ shared.HEADER }}")]),
            service("b", vec![var("COPY", "${{ a.AUTH }}"), var("PLAIN", "x")]),
            // A secret that uses only plain values stays secret.
            service("c", vec![secret("S", "${{ b.PLAIN }}")]),
        ],
    );
    assert_eq!(
        resolved("b", &e),
        vec![
            ("COPY".into(), "Bearer s3cr3t".into(), true),
            ("PLAIN".into(), "x".into(), false),
        ]
    );
    assert_eq!(resolved("c", &e), vec![("S".into(), "x".into(), true)]);
}

#[test]
fn literal_dollars_reach_the_container_unchanged() {
    let e = env(
        vec![],
        vec![service(
            "a",
            vec![var(
                "A",
                "$HOME ${X} $$ $(id) $${{ not.A_REF }} ${{ a.HOST }}",
            )],
        )],
    );
    assert_eq!(
        resolved("a", &e),
        vec![(
            "A".into(),
            "$HOME ${X} $$ $(id) ${{ not.A_REF }} a".into(),
            false
        )]
    );
}

#[test]
fn facts_win_over_a_variable_of_the_same_name() {
    let mut db = service(
        "db",
        vec![var("HOST", "0.0.0.0"), var("PORT", "1"), var("URL", "x")],
    );
    db.facts.port = Some(5432);
    db.facts.url = Some("https://db.example.com".into());
    let e = env(
        vec![],
        vec![
            service(
                "api",
                vec![var("DB", "${{ db.HOST }}:${{ db.PORT }} ${{ db.URL }}")],
            ),
            db,
        ],
    );
    assert_eq!(
        resolved("api", &e),
        vec![("DB".into(), "db:5432 https://db.example.com".into(), false)]
    );
    // The service's own container still gets its own values.
    assert_eq!(
        resolved("db", &e)[0],
        ("HOST".into(), "0.0.0.0".into(), false)
    );
    // Facts are exact, upper-case names: `host` is an ordinary variable name.
    assert!(Fact::parse("host").is_none());
}

#[test]
fn facts_come_from_the_service_definition() {
    let spec: ServiceSpec = serde_json::from_value(serde_json::json!({
        "name": "web", "image": "nginx",
        "ports": [{"container": 8080}, {"container": 9090}],
        "http": {"domains": ["shop.example.com", "www.shop.example.com"], "port": 80},
        "env": [{"key": "A", "value": "1"}]
    }))
    .unwrap();
    let s = ServiceVariables::from_spec(&spec);
    assert_eq!(s.name, "web");
    assert_eq!(s.env, spec.env);
    assert_eq!(s.facts.port, Some(8080));
    assert_eq!(s.facts.url.as_deref(), Some("https://shop.example.com"));
    // Without published ports, the route's port; without anything, none.
    let routed: ServiceSpec = serde_json::from_value(serde_json::json!({
        "name": "web", "image": "nginx", "http": {"domains": ["a.example.com"], "port": 3000}
    }))
    .unwrap();
    assert_eq!(ServiceVariables::from_spec(&routed).facts.port, Some(3000));
    let bare: ServiceSpec =
        serde_json::from_value(serde_json::json!({"name": "w", "image": "nginx"})).unwrap();
    assert_eq!(
        ServiceVariables::from_spec(&bare).facts,
        ServiceFacts::default()
    );
}

#[test]
fn a_service_may_use_its_own_variables() {
    let e = env(
        vec![],
        vec![service(
            "a",
            vec![var("URL_", "http://${{ a.H }}/"), var("H", "${{ a.HOST }}")],
        )],
    );
    assert_eq!(resolved("a", &e)[0].1, "http://a/");
}

#[test]
fn resolve_names_the_problem_where_it_starts() {
    let e = env(
        vec![var("DSN", "${{ shared.GONE }}")],
        vec![service(
            "api",
            vec![var("A", "${{ shared.DSN }}"), var("B", "ok")],
        )],
    );
    match resolve("api", &e) {
        Err(ResolveError::Problems(p)) => {
            assert_eq!(
                kinds(&p),
                vec![(
                    "shared.DSN".into(),
                    ProblemKind::UnknownShared {
                        reference: Reference::shared("GONE")
                    }
                )]
            );
            assert_eq!(
                ResolveError::Problems(p).to_string(),
                "shared.DSN: ${{ shared.GONE }}: there is no shared variable GONE."
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        resolve("nope", &e),
        Err(ResolveError::UnknownService("nope".into()))
    );
}

#[test]
fn a_value_may_not_grow_past_the_limit() {
    // Each level doubles: 2^17 bytes at the top.
    let mut vars = vec![var("V0", "xx")];
    for i in 1..17 {
        vars.push(var(
            &format!("V{i}"),
            &format!("${{{{ a.V{p} }}}}${{{{ a.V{p} }}}}", p = i - 1),
        ));
    }
    let e = env(vec![], vec![service("a", vars)]);
    let problems = check(&e);
    assert_eq!(
        kinds(&problems),
        vec![(
            "a.V16".into(),
            ProblemKind::TooLong {
                limit: MAX_RESOLVED_BYTES
            }
        )]
    );
    assert_eq!(problems[0].field_error().field, "env[16].value");
    assert!(problems[0].kind.message().contains("64 KiB"));
    assert!(resolve("a", &e).is_err());
}

// --- check --------------------------------------------------------------------------

#[test]
fn unknown_names_are_named() {
    let mut web = service("web", vec![]);
    web.facts.port = None;
    let e = env(
        vec![var("S", "${{ shared.MISSING }}")],
        vec![
            service(
                "api",
                vec![
                    var("OK", "fine"),
                    var(
                        "A",
                        "${{ cache.URL }} ${{ db.NOPE }} ${{ web.PORT }} ${{ web.URL }} ${{ db.X }}",
                    ),
                    var("B", "${{ db.X"),
                    var("C", "${{ db.NOPE }}${{ db.NOPE }}"),
                ],
            ),
            service("db", vec![var("X", "1")]),
            web,
        ],
    );
    let problems = check(&e);
    assert_eq!(
        kinds(&problems),
        vec![
            (
                "shared.S".into(),
                ProblemKind::UnknownShared {
                    reference: Reference::shared("MISSING")
                }
            ),
            (
                "api.A".into(),
                ProblemKind::UnknownService {
                    reference: Reference::service("cache", "URL")
                }
            ),
            (
                "api.A".into(),
                ProblemKind::UnknownVariable {
                    reference: Reference::service("db", "NOPE")
                }
            ),
            (
                "api.A".into(),
                ProblemKind::MissingFact {
                    reference: Reference::service("web", "PORT"),
                    fact: Fact::Port
                }
            ),
            (
                "api.A".into(),
                ProblemKind::MissingFact {
                    reference: Reference::service("web", "URL"),
                    fact: Fact::Url
                }
            ),
            (
                "api.B".into(),
                ProblemKind::Syntax {
                    error: SyntaxError::Unterminated { at: 1 }
                }
            ),
            // A repeated reference is one problem.
            (
                "api.C".into(),
                ProblemKind::UnknownVariable {
                    reference: Reference::service("db", "NOPE")
                }
            ),
        ]
    );
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages[..5],
        [
            "shared.S: ${{ shared.MISSING }}: there is no shared variable MISSING.",
            "api.A: ${{ cache.URL }}: there is no service \"cache\" in this environment.",
            "api.A: ${{ db.NOPE }}: db has no variable NOPE.",
            "api.A: ${{ web.PORT }}: web has no container port.",
            "api.A: ${{ web.URL }}: web has no domain.",
        ]
    );
    assert_eq!(problems[0].field_error().field, "shared[0].value");
    assert_eq!(problems[1].field_error().field, "env[1].value");
    assert_eq!(problems[5].field_error().field, "env[2].value");
}

#[test]
fn a_variable_that_uses_a_broken_one_is_not_reported() {
    let e = env(
        vec![],
        vec![
            service("a", vec![var("A", "${{ b.B }}")]),
            service("b", vec![var("B", "${{ shared.GONE }}")]),
        ],
    );
    assert_eq!(
        kinds(&check(&e)),
        vec![(
            "b.B".into(),
            ProblemKind::UnknownShared {
                reference: Reference::shared("GONE")
            }
        )]
    );
}

fn cycle(path: &[&str]) -> ProblemKind {
    ProblemKind::Cycle {
        path: path
            .iter()
            .map(|p| {
                let (s, k) = p.split_once('.').unwrap();
                if s == "shared" {
                    VariableId::shared(k)
                } else {
                    VariableId::service(s, k)
                }
            })
            .collect(),
    }
}

#[test]
fn a_variable_naming_itself_is_a_cycle() {
    let e = env(vec![], vec![service("a", vec![var("X", "<${{ a.X }}>")])]);
    let problems = check(&e);
    assert_eq!(
        kinds(&problems),
        vec![("a.X".into(), cycle(&["a.X", "a.X"]))]
    );
    assert_eq!(
        problems[0].to_string(),
        "a.X: Its references form a cycle: a.X → a.X."
    );
    assert!(matches!(resolve("a", &e), Err(ResolveError::Problems(_))));
}

#[test]
fn a_cycle_of_two_services_is_reported_to_both() {
    let e = env(
        vec![],
        vec![
            service("a", vec![var("OK", "1"), var("X", "${{ b.Y }}")]),
            service("b", vec![var("Y", "${{ a.X }}")]),
        ],
    );
    let problems = check(&e);
    assert_eq!(
        kinds(&problems),
        vec![
            ("a.X".into(), cycle(&["a.X", "b.Y", "a.X"])),
            ("b.Y".into(), cycle(&["b.Y", "a.X", "b.Y"])),
        ]
    );
    assert_eq!(problems[0].field_error().field, "env[1].value");
    assert!(problems[0].involves(&Scope::Service("b".into())));
    assert!(!problems[0].involves(&Scope::Shared));
    match resolve("a", &e) {
        Err(ResolveError::Problems(p)) => {
            assert!(matches!(p[0].kind, ProblemKind::Cycle { .. }), "{p:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cycle_of_three_through_a_shared_variable() {
    let e = env(
        vec![var("S", "${{ c.Z }}")],
        vec![
            service("a", vec![var("X", "${{ shared.S }}")]),
            service("b", vec![var("Y", "${{ a.X }}")]),
            service(
                "c",
                vec![var("Z", "${{ b.Y }}"), var("FREE", "${{ a.HOST }}")],
            ),
        ],
    );
    assert_eq!(
        kinds(&check(&e)),
        vec![
            (
                "shared.S".into(),
                cycle(&["shared.S", "c.Z", "b.Y", "a.X", "shared.S"])
            ),
            (
                "a.X".into(),
                cycle(&["a.X", "shared.S", "c.Z", "b.Y", "a.X"])
            ),
            (
                "b.Y".into(),
                cycle(&["b.Y", "a.X", "shared.S", "c.Z", "b.Y"])
            ),
            (
                "c.Z".into(),
                cycle(&["c.Z", "b.Y", "a.X", "shared.S", "c.Z"])
            ),
        ]
    );
    // A variable outside the cycle still resolves.
    let c = resolve("c", &e);
    assert!(c.is_err());
    let mut only_free = e.clone();
    only_free.services[2].env.remove(0);
    assert_eq!(
        resolved("c", &only_free),
        vec![("FREE".into(), "a".into(), false)]
    );
}

#[test]
fn a_chain_of_references_is_not_a_cycle() {
    let e = env(
        vec![var("A", "1")],
        vec![service(
            "a",
            vec![
                var("X", "${{ a.Y }}${{ a.Y }}${{ shared.A }}"),
                var("Y", "${{ shared.A }}"),
            ],
        )],
    );
    assert!(check(&e).is_empty());
    assert_eq!(resolved("a", &e)[0].1, "111");
}

#[test]
fn a_long_chain_resolves_without_deep_recursion() {
    let mut vars: Vec<EnvVar> = (0..200)
        .map(|i| var(&format!("V{i}"), &format!("${{{{ b.V{i} }}}}")))
        .collect();
    vars.push(var("V200", "end"));
    let b: Vec<EnvVar> = (0..200)
        .map(|i| var(&format!("V{i}"), &format!("${{{{ a.V{} }}}}", i + 1)))
        .collect();
    let e = env(vec![], vec![service("a", vars), service("b", b)]);
    assert!(check(&e).is_empty());
    assert_eq!(resolved("a", &e)[0].1, "end");
}

#[test]
fn problems_for_the_service_being_saved() {
    let e = env(
        vec![],
        vec![
            service("api", vec![var("A", "${{ db.GONE }}")]),
            service("db", vec![var("B", "${{ shared.GONE }}")]),
        ],
    );
    let api = Scope::Service("api".into());
    let mine: Vec<_> = check(&e).into_iter().filter(|p| p.involves(&api)).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0].field_error(),
        FieldError::new("env[0].value", "${{ db.GONE }}: db has no variable GONE.")
    );
}

// --- dependents ---------------------------------------------------------------------

fn chain_env() -> EnvironmentVariables {
    // shared.DB_URL uses db.PASSWORD; api uses shared.DB_URL; worker uses api.TOKEN
    // which uses the shared URL too; web uses api.HOST only; cron uses nothing.
    env(
        vec![
            var("DB_URL", "postgres://${{ db.HOST }}:${{ db.PASSWORD }}"),
            var("UNUSED", "x"),
        ],
        vec![
            service(
                "api",
                vec![
                    var("DATABASE_URL", "${{ shared.DB_URL }}"),
                    var("TOKEN", "t"),
                ],
            ),
            service("worker", vec![var("T", "${{ api.TOKEN }}")]),
            service("web", vec![var("API", "http://${{ api.HOST }}")]),
            service(
                "db",
                vec![secret("PASSWORD", "p"), var("SELF", "${{ db.PASSWORD }}")],
            ),
            service("cron", vec![var("X", "${{ shared.UNUSED }}")]),
        ],
    )
}

#[test]
fn dependents_of_a_service_variable_are_found_transitively() {
    let e = chain_env();
    let changed = Changed::Variable {
        service: "db".into(),
        key: "PASSWORD".into(),
    };
    // Through shared.DB_URL to api; not worker (api.TOKEN does not change); db itself is
    // redeployed by its own change.
    assert_eq!(dependents(&e, &changed), vec!["api"]);
    let token = Changed::Variable {
        service: "api".into(),
        key: "TOKEN".into(),
    };
    assert_eq!(dependents(&e, &token), vec!["worker"]);
}

#[test]
fn dependents_of_a_shared_variable() {
    let e = chain_env();
    assert_eq!(
        dependents(&e, &Changed::Shared("DB_URL".into())),
        vec!["api"]
    );
    assert_eq!(
        dependents(&e, &Changed::Shared("UNUSED".into())),
        vec!["cron"]
    );
    // A removed shared variable still has the users that named it.
    let mut removed = e.clone();
    removed.shared.remove(1);
    assert_eq!(
        dependents(&removed, &Changed::Shared("UNUSED".into())),
        vec!["cron"]
    );
    assert!(dependents(&e, &Changed::Shared("NOBODY".into())).is_empty());
}

#[test]
fn dependents_of_a_fact_and_of_a_whole_service() {
    let e = chain_env();
    let host = Changed::Fact {
        service: "db".into(),
        fact: Fact::Host,
    };
    assert_eq!(dependents(&e, &host), vec!["api"]);
    let api_host = Changed::Fact {
        service: "api".into(),
        fact: Fact::Host,
    };
    assert_eq!(dependents(&e, &api_host), vec!["web"]);
    let port = Changed::Fact {
        service: "api".into(),
        fact: Fact::Port,
    };
    assert!(dependents(&e, &port).is_empty());
    assert_eq!(
        dependents(&e, &Changed::Service("api".into())),
        vec!["web", "worker"]
    );
    assert_eq!(dependents(&e, &Changed::Service("db".into())), vec!["api"]);
}

#[test]
fn dependents_follow_a_long_chain_across_services() {
    let e = env(
        vec![],
        vec![
            service("a", vec![var("A", "${{ b.B }}")]),
            service("b", vec![var("B", "${{ c.C }}")]),
            service("c", vec![var("C", "${{ d.D }}")]),
            service("d", vec![var("D", "1")]),
        ],
    );
    let changed = Changed::Variable {
        service: "d".into(),
        key: "D".into(),
    };
    assert_eq!(dependents(&e, &changed), vec!["a", "b", "c"]);
}

#[test]
fn referenced_services_are_the_map_edges() {
    let e = chain_env();
    // Through the shared DB_URL to db; not itself.
    assert_eq!(referenced_services("api", &e), vec!["db"]);
    assert_eq!(referenced_services("worker", &e), vec!["api"]);
    assert_eq!(referenced_services("web", &e), vec!["api"]);
    assert!(referenced_services("db", &e).is_empty());
    assert!(referenced_services("cron", &e).is_empty());
    assert!(referenced_services("nope", &e).is_empty());
    let missing = env(
        vec![],
        vec![service("a", vec![var("X", "${{ gone.HOST }}")])],
    );
    assert!(referenced_services("a", &missing).is_empty());
    let e = web_api_db();
    assert_eq!(referenced_services("api", &e), vec!["db", "web"]);
    assert_eq!(referenced_services("web", &e), vec!["api"]);
}

#[test]
fn services_referred_to_come_first() {
    // api (through a shared variable) → db; worker and web → api.
    let e = chain_env();
    assert_eq!(
        referenced_first(&e),
        vec!["db", "api", "worker", "web", "cron"]
    );
    let file_order = env(
        vec![],
        vec![
            service("web", vec![var("U", "http://${{ api.HOST }}")]),
            service("api", vec![var("D", "${{ db.HOST }}")]),
            service("db", vec![]),
        ],
    );
    assert_eq!(referenced_first(&file_order), vec!["db", "api", "web"]);
    // web and api refer to each other (api → web.URL): in their order, after db.
    let cycle = web_api_db();
    assert_eq!(referenced_first(&cycle), vec!["db", "web", "api"]);
}
