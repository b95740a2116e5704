//! Unit tests of the service map.

use super::layout::{orient, place, Mode};
use super::svg::escape;
use super::*;
use crate::domain::digraph::{cyclic_components, Graph};
use crate::domain::service::EnvVar;
use crate::domain::variables::ServiceVariables;
use std::time::Instant;

fn node(
    name: &str,
    health: ServiceHealth,
    ready: u32,
    desired: u32,
    domain: Option<&str>,
) -> MapNode {
    // A stable id per name, so outputs can be compared.
    let mut bytes = [0u8; 16];
    for (i, b) in name.bytes().enumerate() {
        bytes[i % 16] ^= b.wrapping_add(i as u8);
    }
    MapNode {
        id: Uuid::from_bytes(bytes),
        name: name.into(),
        health,
        ready,
        desired,
        domain: domain.map(Into::into),
    }
}

fn edge(from: &str, to: &str, kind: EdgeKind) -> MapEdge {
    MapEdge {
        from: from.into(),
        to: to.into(),
        kind,
    }
}

fn issue_map() -> (Vec<MapNode>, Vec<MapEdge>) {
    let nodes = vec![
        node(
            "web",
            ServiceHealth::Running,
            2,
            3,
            Some("shop.example.com"),
        ),
        node("api", ServiceHealth::Degraded, 1, 2, None),
        node("db", ServiceHealth::Deploying, 0, 1, None),
    ];
    let edges = vec![
        edge("web", "api", EdgeKind::Reference),
        edge("api", "db", EdgeKind::Reference),
        edge(
            "api",
            "db",
            EdgeKind::DependsOn(DependsCondition::ServiceHealthy),
        ),
        edge(
            "web",
            "api",
            EdgeKind::DependsOn(DependsCondition::ServiceStarted),
        ),
    ];
    (nodes, edges)
}

/// The `y` of a service's box.
fn box_y(svg: &str, name: &str) -> f64 {
    let at = svg
        .find(&format!("data-service=\"{name}\""))
        .unwrap_or_else(|| panic!("{name} is on the map"));
    let rect = &svg[at..][svg[at..].find("<rect class=\"map-box\"").unwrap()..];
    let y = &rect[rect.find(" y=\"").unwrap() + 4..];
    y[..y.find('"').unwrap()].parse().unwrap()
}

/// Every tag is one the map writes (nothing a name or domain could smuggle in), and every
/// element opened is closed.
fn assert_only_map_markup(svg: &str) {
    let allowed = [
        "svg", "title", "defs", "marker", "path", "g", "a", "rect", "text",
    ];
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("tag closed");
        let tag = &rest[..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "closing {name}");
        } else {
            let name = tag.split([' ', '/']).next().unwrap();
            assert!(allowed.contains(&name), "unexpected tag <{name}> in {svg}");
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed {open:?}");
}

#[test]
fn the_issue_map_draws_three_linked_services_top_down() {
    let (nodes, edges) = issue_map();
    let svg = render_svg(&nodes, &edges);
    assert!(svg.starts_with(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"service-map\" viewBox=\"0 0 "
    ));
    assert!(svg.contains(
        "<title id=\"service-map-title\">Service map: 3 services, 2 connections</title>"
    ));
    for n in &nodes {
        assert!(svg.contains(&format!(
            "<a href=\"/services/{}\" class=\"map-node {}\"",
            n.id,
            n.health.label()
        )));
    }
    assert!(svg.contains("<title>web: running, 2/3 ready, shop.example.com</title>"));
    assert!(svg.contains(">running · 2/3</text>"));
    assert!(svg.contains(">degraded · 1/2</text>"));
    assert!(svg.contains(">shop.example.com</text>"));
    // Users above the services they use.
    assert!(box_y(&svg, "web") < box_y(&svg, "api"));
    assert!(box_y(&svg, "api") < box_y(&svg, "db"));
    // One arrow per pair, with both reasons; solid since it is a reference too.
    assert_eq!(svg.matches("<path class=\"map-edge").count(), 2);
    assert!(svg.contains("class=\"map-edge reference depends-on healthy\""));
    assert!(
        svg.contains("<title>api uses db&#39;s variables, and depends on db being healthy</title>")
    );
    assert!(!svg.contains("stroke-dasharray"));
    assert_eq!(
        svg.matches("marker-end=\"url(#service-map-arrow)\"")
            .count(),
        2
    );
    assert_only_map_markup(&svg);
}

#[test]
fn depends_on_alone_is_dashed_and_reference_alone_is_solid() {
    let nodes = vec![
        node("a", ServiceHealth::Running, 1, 1, None),
        node("b", ServiceHealth::Running, 1, 1, None),
        node("c", ServiceHealth::Running, 1, 1, None),
    ];
    let edges = vec![
        edge(
            "a",
            "b",
            EdgeKind::DependsOn(DependsCondition::ServiceStarted),
        ),
        edge("a", "c", EdgeKind::Reference),
    ];
    let svg = render_svg(&nodes, &edges);
    let dashed = svg.find("class=\"map-edge depends-on started\"").unwrap();
    assert!(svg[dashed..svg[dashed..].find("</path>").unwrap() + dashed]
        .contains("stroke-dasharray=\"6 4\""));
    let solid = svg.find("class=\"map-edge reference\"").unwrap();
    assert!(!svg[solid..svg[solid..].find("</path>").unwrap() + solid].contains("stroke-dasharray"));
    assert!(svg.contains("<title>a depends on b being started</title>"));
}

#[test]
fn names_and_domains_cannot_inject_markup() {
    let evil = "<script>alert(1)</script>";
    let domain = "\"><img src=x onerror=alert(1)>&amp;";
    let nodes = vec![
        node(evil, ServiceHealth::Failed, 0, 1, Some(domain)),
        node("ok'\"", ServiceHealth::Stopped, 0, 0, None),
    ];
    let edges = vec![edge(evil, "ok'\"", EdgeKind::Reference)];
    let svg = render_svg(&nodes, &edges);
    assert!(!svg.contains("<script"));
    assert!(!svg.contains("<img"));
    assert!(svg.contains("data-service=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert!(svg.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"));
    assert!(svg.contains("data-service=\"ok&#39;&quot;\""));
    assert_only_map_markup(&svg);
    assert_eq!(escape("a\u{0}b\u{1b}c\td"), "a\u{fffd}b\u{fffd}c\td");
}

#[test]
fn long_names_and_domains_are_shortened_in_the_box_but_whole_in_the_title() {
    let name = "a-very-long-service-name-that-goes-on-and-on";
    let domain = "a-really-long-subdomain.of-a-long-domain.example.com";
    let svg = render_svg(
        &[node(name, ServiceHealth::Running, 1, 1, Some(domain))],
        &[],
    );
    assert!(svg.contains(">a-very-long-service-nam…</text>"));
    assert!(svg.contains(">a-really-long-subdomain.of-…</text>"));
    assert!(svg.contains(&format!(
        "<title>{name}: running, 1/1 ready, {domain}</title>"
    )));
}

#[test]
fn the_same_input_in_any_order_gives_the_same_bytes() {
    let (nodes, edges) = issue_map();
    let first = render_svg(&nodes, &edges);
    assert_eq!(render_svg(&nodes, &edges), first);
    let mut nodes2 = nodes.clone();
    nodes2.reverse();
    let mut edges2 = edges.clone();
    edges2.rotate_left(1);
    assert_eq!(render_svg(&nodes2, &edges2), first);

    let (nodes, edges) = random_map(60, 90, 7);
    let a = render_svg(&nodes, &edges);
    let mut shuffled = nodes.clone();
    shuffled.reverse();
    assert_eq!(render_svg(&shuffled, &edges), a);
}

#[test]
fn edges_to_unknown_services_and_to_itself_are_left_out() {
    let nodes = vec![node("a", ServiceHealth::Running, 1, 1, None)];
    let edges = vec![
        edge("a", "gone", EdgeKind::Reference),
        edge("a", "a", EdgeKind::Reference),
    ];
    let svg = render_svg(&nodes, &edges);
    assert!(!svg.contains("<path class=\"map-edge"));
    assert!(svg.contains("Service map: 1 service, 0 connections"));
    assert_only_map_markup(&svg);
}

#[test]
fn an_empty_environment_is_an_empty_map() {
    let svg = render_svg(&[], &[]);
    assert!(svg.contains("Service map: no services, 0 connections"));
    assert!(svg.contains("viewBox=\"0 0 32 32\""));
    assert_only_map_markup(&svg);
}

#[test]
fn a_cycle_still_draws_every_arrow() {
    let nodes = vec![
        node("a", ServiceHealth::Running, 1, 1, None),
        node("b", ServiceHealth::Running, 1, 1, None),
    ];
    let edges = vec![
        edge("a", "b", EdgeKind::Reference),
        edge("b", "a", EdgeKind::Reference),
    ];
    let svg = render_svg(&nodes, &edges);
    assert_eq!(svg.matches("<path class=\"map-edge").count(), 2);
    // One of them runs against the layout's direction: its head is at its start.
    assert_eq!(svg.matches("marker-start=").count(), 1);
    assert_eq!(svg.matches("marker-end=").count(), 1);
}

#[test]
fn edges_come_from_references_and_depends_on() {
    let var = |k: &str, v: &str| EnvVar {
        key: k.into(),
        value: v.into(),
        secret: false,
    };
    let env = EnvironmentVariables {
        shared: vec![],
        services: vec![
            ServiceVariables {
                name: "web".into(),
                env: vec![var("API", "http://${{ api.HOST }}")],
                facts: Default::default(),
            },
            ServiceVariables {
                name: "api".into(),
                env: vec![],
                facts: Default::default(),
            },
        ],
    };
    let deps = [DependsOn {
        service: "db".into(),
        condition: DependsCondition::ServiceHealthy,
    }];
    let edges = map_edges(&env, [("api", &deps[..])]);
    assert_eq!(
        edges,
        vec![
            edge("web", "api", EdgeKind::Reference),
            edge(
                "api",
                "db",
                EdgeKind::DependsOn(DependsCondition::ServiceHealthy)
            ),
        ]
    );
}

#[test]
fn from_a_service_view() {
    let view: ServiceView = serde_json::from_value(serde_json::json!({
        "id": "4d6f5a52-8d4c-4d4e-9f5e-0d2b8d6a1f00",
        "name": "web",
        "spec": {"name": "web", "image": "nginx", "http": {"domains": ["a.example.com", "b.example.com"], "port": 80}},
        "stopped": false, "deleting": false,
        "status": {"health": "crash_looping", "ready": 0, "desired": 2},
        "live_deployment": null, "latest_deployment": null, "containers": [], "route": null,
        "place": {"project_id": "4d6f5a52-8d4c-4d4e-9f5e-0d2b8d6a1f01", "project": "shop",
                  "environment_id": "4d6f5a52-8d4c-4d4e-9f5e-0d2b8d6a1f02", "environment": "production"},
        "created_at": "2026-11-27T00:00:00Z", "updated_at": "2026-11-27T00:00:00Z"
    }))
    .unwrap();
    let n = MapNode::from_view(&view);
    assert_eq!(n.name, "web");
    assert_eq!(n.health, ServiceHealth::CrashLooping);
    assert_eq!((n.ready, n.desired), (0, 2));
    assert_eq!(n.domain.as_deref(), Some("a.example.com"));
    let svg = render_svg(&[n], &[]);
    assert!(svg.contains("class=\"map-node crash-looping\""));
    assert!(svg.contains("fill=\"#b91c1c\""));
}

/// `n` services, `m` edges between random pairs (cycles included), seeded.
fn random_map(n: usize, m: usize, seed: u64) -> (Vec<MapNode>, Vec<MapEdge>) {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let healths = [
        ServiceHealth::Running,
        ServiceHealth::Degraded,
        ServiceHealth::Deploying,
        ServiceHealth::Failed,
    ];
    let nodes: Vec<MapNode> = (0..n)
        .map(|i| {
            let domain = (i % 3 == 0).then(|| format!("s{i}.example.com"));
            node(
                &format!("svc-{i:03}"),
                healths[i % 4],
                1,
                1,
                domain.as_deref(),
            )
        })
        .collect();
    let edges = (0..m)
        .map(|_| {
            let (a, b) = (next() % n, next() % n);
            let kind = if next() % 2 == 0 {
                EdgeKind::Reference
            } else {
                EdgeKind::DependsOn(DependsCondition::ServiceStarted)
            };
            edge(&nodes[a].name, &nodes[b].name, kind)
        })
        .collect();
    (nodes, edges)
}

/// A microservice-shaped map: tiers of services, each using one or two of the next tier.
fn tiered_map(n: usize) -> (Vec<MapNode>, Vec<MapEdge>) {
    let nodes: Vec<MapNode> = (0..n)
        .map(|i| node(&format!("svc-{i:03}"), ServiceHealth::Running, 1, 1, None))
        .collect();
    let tier = 10;
    let mut edges = Vec::new();
    for i in 0..n.saturating_sub(tier) {
        let next_tier = (i / tier + 1) * tier;
        for j in [next_tier + i % tier, next_tier + (i * 7 + 3) % tier] {
            if j < n {
                edges.push(edge(&nodes[i].name, &nodes[j].name, EdgeKind::Reference));
            }
        }
    }
    (nodes, edges)
}

#[test]
fn fifty_services_render_and_the_time_is_reported() {
    for (label, (nodes, edges)) in [
        ("50 services, tiered", tiered_map(50)),
        ("50 services, 50 random edges", random_map(50, 50, 1)),
        ("50 services, 100 random edges", random_map(50, 100, 2)),
    ] {
        let started = Instant::now();
        let svg = render_svg(&nodes, &edges);
        let took = started.elapsed();
        let (arranged, arrows) = arrange(&nodes, &edges);
        let mode = place(arranged.len(), &arrows).mode;
        eprintln!(
            "service map: {label}: {} arrows, {mode:?}, {} KiB of SVG, rendered in {took:?}",
            arrows.len(),
            svg.len() / 1024
        );
        assert_eq!(svg.matches("<a href=\"/services/").count(), 50);
        assert_eq!(svg.matches("<path class=\"map-edge").count(), arrows.len());
        assert_only_map_markup(&svg);
    }
}

#[test]
fn two_hundred_services_still_render() {
    for (label, (nodes, edges)) in [
        ("200 services, tiered", tiered_map(200)),
        ("200 services, 300 random edges", random_map(200, 300, 3)),
        ("200 services, 2000 random edges", random_map(200, 2000, 4)),
        ("400 services, no edges", random_map(400, 0, 5)),
    ] {
        let started = Instant::now();
        let svg = render_svg(&nodes, &edges);
        let took = started.elapsed();
        let (arranged, arrows) = arrange(&nodes, &edges);
        let mode = place(arranged.len(), &arrows).mode;
        eprintln!(
            "service map: {label}: {} arrows, {mode:?}, {} KiB of SVG, rendered in {took:?}",
            arrows.len(),
            svg.len() / 1024
        );
        assert_eq!(svg.matches("<a href=\"/services/").count(), nodes.len());
        assert_eq!(svg.matches("<path class=\"map-edge").count(), arrows.len());
        assert_only_map_markup(&svg);
    }
    // A deep microservice map is layered, past the limits the map is a grid.
    let (nodes, edges) = tiered_map(200);
    let (arranged, arrows) = arrange(&nodes, &edges);
    assert!(matches!(
        place(arranged.len(), &arrows).mode,
        Mode::Layered { .. }
    ));
    let (nodes, edges) = random_map(200, 2000, 4);
    let (arranged, arrows) = arrange(&nodes, &edges);
    assert_eq!(place(arranged.len(), &arrows).mode, Mode::Grid);
}

#[test]
fn the_layout_gets_an_acyclic_graph_in_topological_order() {
    for (nodes, edges) in [random_map(40, 120, 9), tiered_map(60), issue_map()] {
        let (arranged, arrows) = arrange(&nodes, &edges);
        let oriented = orient(arranged.len(), &arrows);
        assert_eq!(oriented.len(), arrows.len());
        let mut graph: Graph<usize> = (0..arranged.len())
            .map(|i| (i, Default::default()))
            .collect();
        let mut sources_seen = std::collections::BTreeSet::new();
        for e in &oriented {
            let a = &arrows[e.arrow];
            if e.reversed {
                assert_eq!((e.from, e.to), (a.to, a.from));
            } else {
                assert_eq!((e.from, e.to), (a.from, a.to));
            }
            // No edge leaves a node that an earlier edge came from... and none reaches one.
            assert!(
                !sources_seen.contains(&e.to),
                "edges are in topological order"
            );
            sources_seen.insert(e.from);
            graph.get_mut(&e.from).unwrap().insert(e.to);
        }
        assert!(cyclic_components(&graph).is_empty());
    }
    // A two-service cycle has one arrow turned around.
    let nodes = vec![
        node("a", ServiceHealth::Running, 1, 1, None),
        node("b", ServiceHealth::Running, 1, 1, None),
    ];
    let edges = vec![
        edge("a", "b", EdgeKind::Reference),
        edge("b", "a", EdgeKind::Reference),
    ];
    let (arranged, arrows) = arrange(&nodes, &edges);
    let oriented = orient(arranged.len(), &arrows);
    assert_eq!(oriented.iter().filter(|e| e.reversed).count(), 1);
}
