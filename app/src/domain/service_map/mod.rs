//! The service map of an environment: its services as boxes (name, status colour, ready
//! replicas "2/3", first domain) and arrows from a service to the services it uses —
//! solid for variable references, dashed for `depends_on` — drawn as one SVG string on
//! the server (no script, no external asset). Each box links to `/services/{id}`.
//!
//! Wiring: build the [`MapNode`]s from the environment's [`ServiceView`]s
//! ([`MapNode::from_view`]), the edges with [`map_edges`] (variable references and
//! `depends_on`), and put [`render_svg`]'s string into the page as inner HTML; it is
//! escaped throughout, so names and domains cannot inject markup. The same input gives the
//! same bytes, so a live update can skip an unchanged map.
//!
//! Layout: the `layout-rs` crate (ranks, crossing reduction, edges routed around boxes),
//! users above the services they use. Its cost grows quickly with the number of boxes and
//! bends, so large maps get less: crossing reduction up to [`CROSSING_REDUCTION_LIMIT`]
//! laid-out nodes, plain layering up to [`LAYERED_LIMIT`], and beyond (or beyond
//! [`MAX_LAYERED_SERVICES`] services or [`MAX_LAYERED_EDGES`] edges) a grid by name with
//! straight arrows.
//!
//! Styling: every colour is a presentation attribute (the map reads well on its own), and
//! every part has a class a stylesheet can override (CSS beats presentation attributes):
//!
//! ```css
//! svg.service-map { max-width: 100%; height: auto; }
//! .service-map .map-node.running .map-status { fill: #15803d; }  /* deploying, degraded,
//!    crash-looping, stopped, failed, deleting: the words of ServiceHealth::label */
//! .service-map .map-box { fill: var(--surface); stroke: var(--border); }
//! .service-map .map-name, .service-map .map-detail, .service-map .map-domain { fill: currentColor; }
//! .service-map .map-edge.reference { stroke: #64748b; }
//! .service-map .map-edge.depends-on { stroke-dasharray: 6 4; }
//! ```

mod layout;
mod svg;

pub use svg::render_svg;

use super::dependencies::{DependsCondition, DependsOn};
use super::service::{ServiceHealth, ServiceView};
use super::variables::{referenced_services, EnvironmentVariables};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Laid-out nodes (services and the bends of long arrows) up to which crossings are reduced.
pub const CROSSING_REDUCTION_LIMIT: usize = 150;
/// Laid-out nodes up to which the map is layered; a grid beyond.
pub const LAYERED_LIMIT: usize = 1000;
/// Services beyond which the map is a grid without trying a layered layout.
pub const MAX_LAYERED_SERVICES: usize = 250;
/// Edges beyond which the map is a grid without trying a layered layout.
pub const MAX_LAYERED_EDGES: usize = 400;

/// One service on the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapNode {
    pub id: Uuid,
    pub name: String,
    pub health: ServiceHealth,
    pub ready: u32,
    pub desired: u32,
    /// Its first domain, shown under its name.
    pub domain: Option<String>,
}

impl MapNode {
    pub fn from_view(view: &ServiceView) -> Self {
        MapNode {
            id: view.id,
            name: view.name.clone(),
            health: view.status.health,
            ready: view.status.ready,
            desired: view.status.desired,
            domain: view
                .spec
                .http
                .as_ref()
                .and_then(|h| h.domains.first().cloned()),
        }
    }
}

/// Why one service uses another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A variable of `from` refers to `to` (its variables or facts).
    Reference,
    /// `from` depends on `to` (`depends_on`).
    DependsOn(DependsCondition),
}

/// An arrow from the service that uses (`from`) to the service used (`to`), by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEdge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
}

/// The edges of an environment's map: one per service a service's variables refer to
/// ([`referenced_services`]), and one per `depends_on` entry.
pub fn map_edges<'a>(
    env: &EnvironmentVariables,
    depends_on: impl IntoIterator<Item = (&'a str, &'a [DependsOn])>,
) -> Vec<MapEdge> {
    let mut edges = Vec::new();
    for s in &env.services {
        for to in referenced_services(&s.name, env) {
            edges.push(MapEdge {
                from: s.name.clone(),
                to,
                kind: EdgeKind::Reference,
            });
        }
    }
    for (from, deps) in depends_on {
        for d in deps {
            edges.push(MapEdge {
                from: from.to_owned(),
                to: d.service.clone(),
                kind: EdgeKind::DependsOn(d.condition),
            });
        }
    }
    edges
}

/// The arrows drawn: one per (user, used) pair of known services, whatever its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Arrow {
    from: usize,
    to: usize,
    reference: bool,
    /// The strongest condition among its `depends_on` entries.
    depends_on: Option<DependsCondition>,
}

/// Nodes sorted by name (then id), and the arrows between them sorted by their ends;
/// edges to unknown services and a service's edges to itself are left out.
fn arrange(nodes: &[MapNode], edges: &[MapEdge]) -> (Vec<MapNode>, Vec<Arrow>) {
    let mut nodes = nodes.to_vec();
    nodes.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    let mut position: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        position.entry(n.name.as_str()).or_insert(i);
    }
    let mut arrows: BTreeMap<(usize, usize), Arrow> = BTreeMap::new();
    for e in edges {
        let (Some(&from), Some(&to)) = (position.get(e.from.as_str()), position.get(e.to.as_str()))
        else {
            continue;
        };
        if from == to {
            continue;
        }
        let arrow = arrows.entry((from, to)).or_insert(Arrow {
            from,
            to,
            reference: false,
            depends_on: None,
        });
        match e.kind {
            EdgeKind::Reference => arrow.reference = true,
            EdgeKind::DependsOn(c) => {
                arrow.depends_on = Some(match (arrow.depends_on, c) {
                    (Some(DependsCondition::ServiceHealthy), _) => DependsCondition::ServiceHealthy,
                    _ => c,
                })
            }
        }
    }
    (nodes, arrows.into_values().collect())
}

#[cfg(test)]
mod tests;
