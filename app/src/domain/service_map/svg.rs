//! Writing the map as SVG text. Everything that comes from a person (names, domains) is
//! escaped; everything else is numbers and fixed words.

use super::layout::{place, Corner, Curve, Placement, BOX_HEIGHT, BOX_WIDTH};
use super::{arrange, Arrow, MapEdge, MapNode};
use crate::domain::dependencies::DependsCondition;
use crate::domain::service::ServiceHealth;
use std::fmt::Write;

/// Space around the drawing, in pixels.
const MARGIN: f64 = 16.0;
/// Characters of a name or domain shown in a box (the full text is in its `<title>`).
const NAME_CHARS: usize = 24;
const DOMAIN_CHARS: usize = 28;

/// The map as an `<svg>` element: `class="service-map"`, a `viewBox` and a pixel size
/// that fit the drawing, a `<title>` (its accessible name), and per service an
/// `<a href="/services/{id}" class="map-node {status}" data-service="{name}">` with its own
/// `<title>`. Deterministic: the same nodes and edges (in any order) give the same string.
pub fn render_svg(nodes: &[MapNode], edges: &[MapEdge]) -> String {
    let (nodes, arrows) = arrange(nodes, edges);
    let placement = place(nodes.len(), &arrows);
    write_svg(&nodes, &arrows, &placement)
}

fn write_svg(nodes: &[MapNode], arrows: &[Arrow], placement: &Placement) -> String {
    let (min, max) = bounds(placement);
    let (dx, dy) = (MARGIN - min.0, MARGIN - min.1);
    let width = max.0 - min.0 + 2.0 * MARGIN;
    let height = max.1 - min.1 + 2.0 * MARGIN;

    let mut out = String::with_capacity(1024 + nodes.len() * 900 + arrows.len() * 300);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="service-map" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="service-map-title" font-family="system-ui, sans-serif">"##,
        w = num(width),
        h = num(height),
    );
    let services = match nodes.len() {
        0 => "no services".to_owned(),
        1 => "1 service".to_owned(),
        n => format!("{n} services"),
    };
    let connections = match arrows.len() {
        1 => "1 connection".to_owned(),
        n => format!("{n} connections"),
    };
    let _ = write!(
        out,
        r##"<title id="service-map-title">Service map: {services}, {connections}</title>"##
    );
    out.push_str(concat!(
        r##"<defs><marker id="service-map-arrow" viewBox="0 0 10 10" refX="10" refY="5" "##,
        r##"markerWidth="8" markerHeight="8" orient="auto-start-reverse">"##,
        r##"<path class="map-arrow" d="M0 0L10 5L0 10z" fill="#64748b"/></marker></defs>"##,
    ));

    out.push_str(r#"<g class="map-edges">"#);
    for (arrow, curve) in arrows.iter().zip(&placement.curves) {
        write_edge(&mut out, nodes, arrow, curve, (dx, dy));
    }
    out.push_str("</g>");

    out.push_str(r#"<g class="map-nodes">"#);
    for (node, corner) in nodes.iter().zip(&placement.boxes) {
        let corner = Corner {
            x: corner.x + dx,
            y: corner.y + dy,
        };
        write_node(&mut out, node, corner);
    }
    out.push_str("</g></svg>");
    out
}

fn write_edge(
    out: &mut String,
    nodes: &[MapNode],
    arrow: &Arrow,
    curve: &Curve,
    shift: (f64, f64),
) {
    let from = &nodes[arrow.from].name;
    let to = &nodes[arrow.to].name;
    let mut classes = vec!["map-edge"];
    let mut reasons = Vec::new();
    if arrow.reference {
        classes.push("reference");
        reasons.push(format!("uses {to}'s variables"));
    }
    if let Some(condition) = arrow.depends_on {
        classes.push("depends-on");
        let state = match condition {
            DependsCondition::ServiceStarted => {
                classes.push("started");
                "started"
            }
            DependsCondition::ServiceHealthy => {
                classes.push("healthy");
                "healthy"
            }
        };
        reasons.push(format!("depends on {to} being {state}"));
    }
    let title = format!("{from} {}", reasons.join(", and "));
    let dash = if arrow.reference {
        ""
    } else {
        r#" stroke-dasharray="6 4""#
    };
    let (start, end) = curve.heads;
    let marker_start = if start {
        r#" marker-start="url(#service-map-arrow)""#
    } else {
        ""
    };
    let marker_end = if end {
        r#" marker-end="url(#service-map-arrow)""#
    } else {
        ""
    };
    let _ = write!(
        out,
        r##"<path class="{}" d="{}" fill="none" stroke="#64748b" stroke-width="1.5"{dash}{marker_start}{marker_end}><title>{}</title></path>"##,
        classes.join(" "),
        path_data(curve, shift),
        escape(&title),
    );
}

/// `M x y C c1, c2 p S c p …` from the curve's points.
fn path_data(curve: &Curve, (dx, dy): (f64, f64)) -> String {
    let p = |(x, y): (f64, f64)| format!("{} {}", num(x + dx), num(y + dy));
    let pts = &curve.points;
    let mut d = format!(
        "M {} C {}, {}, {}",
        p(pts[0].0),
        p(pts[0].1),
        p(pts[1].0),
        p(pts[1].1)
    );
    for (control, point) in &pts[2..] {
        let _ = write!(d, " S {}, {}", p(*control), p(*point));
    }
    d
}

fn write_node(out: &mut String, node: &MapNode, at: Corner) {
    let status = node.health.label();
    let colour = status_colour(node.health);
    let replicas = format!("{}/{}", node.ready, node.desired);
    let mut title = format!("{}: {status}, {replicas} ready", node.name);
    if let Some(d) = &node.domain {
        let _ = write!(title, ", {d}");
    }
    let (x, y) = (at.x, at.y);
    let _ = write!(
        out,
        r##"<a href="/services/{id}" class="map-node {status}" data-service="{name}" data-status="{status}"><title>{title}</title>"##,
        id = node.id,
        name = escape(&node.name),
        title = escape(&title),
    );
    let _ = write!(
        out,
        r##"<rect class="map-box" x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="#ffffff" stroke="#cbd5e1" stroke-width="1"/>"##,
        x = num(x),
        y = num(y),
        w = num(BOX_WIDTH),
        h = num(BOX_HEIGHT),
    );
    let _ = write!(
        out,
        r##"<rect class="map-status" x="{x}" y="{y}" width="6" height="{h}" rx="3" fill="{colour}"/>"##,
        x = num(x),
        y = num(y),
        h = num(BOX_HEIGHT),
    );
    let text_x = num(x + 16.0);
    let _ = write!(
        out,
        r##"<text class="map-name" x="{text_x}" y="{}" font-size="14" font-weight="600" fill="#0f172a">{}</text>"##,
        num(y + 22.0),
        escape(&shorten(&node.name, NAME_CHARS)),
    );
    let _ = write!(
        out,
        r##"<text class="map-detail" x="{text_x}" y="{}" font-size="12" fill="#475569">{status} · {replicas}</text>"##,
        num(y + 40.0),
    );
    if let Some(domain) = &node.domain {
        let _ = write!(
            out,
            r##"<text class="map-domain" x="{text_x}" y="{}" font-size="12" fill="#475569">{}</text>"##,
            num(y + 56.0),
            escape(&shorten(domain, DOMAIN_CHARS)),
        );
    }
    out.push_str("</a>");
}

/// The badge colours of the dashboard's stylesheet, as defaults.
fn status_colour(health: ServiceHealth) -> &'static str {
    match health {
        ServiceHealth::Running => "#15803d",
        ServiceHealth::Deploying => "#2563eb",
        ServiceHealth::Degraded => "#b45309",
        ServiceHealth::CrashLooping | ServiceHealth::Failed => "#b91c1c",
        ServiceHealth::Stopped | ServiceHealth::Deleting => "#6b7280",
    }
}

/// The smallest and largest x and y the drawing uses (boxes and curves).
fn bounds(placement: &Placement) -> ((f64, f64), (f64, f64)) {
    let mut min = (f64::INFINITY, f64::INFINITY);
    let mut max = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut take = |x: f64, y: f64| {
        if x.is_finite() && y.is_finite() {
            min = (min.0.min(x), min.1.min(y));
            max = (max.0.max(x), max.1.max(y));
        }
    };
    for c in &placement.boxes {
        take(c.x, c.y);
        take(c.x + BOX_WIDTH, c.y + BOX_HEIGHT);
    }
    for curve in &placement.curves {
        for (a, b) in &curve.points {
            take(a.0, a.1);
            take(b.0, b.1);
        }
    }
    if min.0 > max.0 {
        return ((0.0, 0.0), (0.0, 0.0));
    }
    (min, max)
}

/// A coordinate with one decimal at most (`12`, `12.5`).
fn num(v: f64) -> String {
    let v = (v * 10.0).round() / 10.0;
    if v == v.trunc() {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// At most `chars` characters, the last one an ellipsis when cut.
fn shorten(s: &str, chars: usize) -> String {
    if s.chars().count() <= chars {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(chars - 1).collect();
    cut.push('…');
    cut
}

/// Text safe in SVG element content and attribute values.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
