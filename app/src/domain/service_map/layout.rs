//! Where the boxes and arrows go: `layout-rs` lays the map out and draws into
//! [`Recorder`], a render backend that only keeps the geometry; the SVG is written
//! elsewhere. Large maps fall back to a grid (see the module docs for the limits).

use super::{
    Arrow, CROSSING_REDUCTION_LIMIT, LAYERED_LIMIT, MAX_LAYERED_EDGES, MAX_LAYERED_SERVICES,
};
use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow as LayoutArrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;

/// A service box, in pixels.
pub const BOX_WIDTH: f64 = 200.0;
pub const BOX_HEIGHT: f64 = 64.0;
/// The grid's gaps between boxes.
const GRID_GAP_X: f64 = 60.0;
const GRID_GAP_Y: f64 = 80.0;

/// A box's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corner {
    pub x: f64,
    pub y: f64,
}

/// An arrow as a cubic Bézier path: `(start, first control)`, then for each next point
/// `(its control, the point)` (SVG's `M C S S …`, as `layout-rs` gives it).
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub points: Vec<((f64, f64), (f64, f64))>,
    /// Arrow heads at the start and at the end (a reversed edge has its head at the start).
    pub heads: (bool, bool),
}

/// How the map was laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Layered { reduced_crossings: bool },
    Grid,
}

/// The geometry of a map: a corner per node, a curve per arrow (same order as given).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub boxes: Vec<Corner>,
    pub curves: Vec<Curve>,
    pub mode: Mode,
}

/// Lays out `nodes` boxes and the arrows between them.
pub fn place(nodes: usize, arrows: &[Arrow]) -> Placement {
    if nodes == 0 {
        return Placement {
            boxes: Vec::new(),
            curves: Vec::new(),
            mode: Mode::Grid,
        };
    }
    if nodes <= MAX_LAYERED_SERVICES && arrows.len() <= MAX_LAYERED_EDGES {
        // How many nodes the layout will place (services and the bends of arrows that
        // span several ranks): its cost follows that number.
        let mut probe = graph(nodes, arrows);
        probe.to_valid_dag();
        probe.split_text_edges();
        probe.split_long_edges(true);
        let laid_out = probe.num_nodes();
        if laid_out <= LAYERED_LIMIT {
            let reduce = laid_out <= CROSSING_REDUCTION_LIMIT;
            // layout-rs asserts its invariants; should one fail, the grid still shows the map.
            let layered = std::panic::catch_unwind(|| layered(nodes, arrows, reduce));
            if let Ok(Some(placement)) = layered {
                return placement;
            }
        }
    }
    grid(nodes, arrows)
}

/// The graph handed to `layout-rs`, already acyclic and with its edges in topological order
/// of their sources: its reachability test (a depth-first search that forgets what it
/// visited, exponential in the number of paths) then never has far to go, and its
/// self-verification (the same search for every edge) is turned off.
fn graph(nodes: usize, arrows: &[Arrow]) -> VisualGraph {
    let mut g = VisualGraph::new(Orientation::TopToBottom);
    g.dag.set_validate(false);
    let handles: Vec<_> = (0..nodes)
        .map(|i| {
            g.add_node(Element::create_with_properties(
                ShapeKind::Box(String::new()),
                StyleAttr::simple(),
                Orientation::TopToBottom,
                Point::new(BOX_WIDTH, BOX_HEIGHT),
                i.to_string(),
            ))
        })
        .collect();
    for edge in orient(nodes, arrows) {
        let arrow = LayoutArrow::simple_with_properties("", edge.arrow.to_string());
        if edge.reversed {
            // Drawn from the used to the user, with its head at its start.
            g.add_edge(arrow.reverse(), handles[edge.from], handles[edge.to]);
        } else {
            g.add_edge(arrow, handles[edge.from], handles[edge.to]);
        }
    }
    g
}

/// An arrow as laid out: `reversed` when it closes a cycle and runs upwards.
pub(super) struct Oriented {
    pub arrow: usize,
    pub from: usize,
    pub to: usize,
    pub reversed: bool,
}

/// The arrows made acyclic (each arrow back to a node on the current depth-first path is
/// reversed, searching from nodes and successors in index order) and sorted by the
/// topological position of their source, then of their target.
pub(super) fn orient(nodes: usize, arrows: &[Arrow]) -> Vec<Oriented> {
    let mut successors: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nodes];
    for (i, a) in arrows.iter().enumerate() {
        successors[a.from].push((a.to, i));
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        New,
        OnPath,
        Done,
    }
    let mut colour = vec![Colour::New; nodes];
    let mut reversed = vec![false; arrows.len()];
    let mut post_order = Vec::with_capacity(nodes);
    for root in 0..nodes {
        if colour[root] != Colour::New {
            continue;
        }
        colour[root] = Colour::OnPath;
        let mut path = vec![(root, 0usize)];
        while let Some(&(v, next)) = path.last() {
            if let Some(&(w, arrow)) = successors[v].get(next) {
                path.last_mut().expect("a node is on the path").1 += 1;
                match colour[w] {
                    Colour::New => {
                        colour[w] = Colour::OnPath;
                        path.push((w, 0));
                    }
                    Colour::OnPath => reversed[arrow] = true,
                    Colour::Done => {}
                }
            } else {
                colour[v] = Colour::Done;
                post_order.push(v);
                path.pop();
            }
        }
    }
    let mut position = vec![0; nodes];
    for (i, v) in post_order.iter().rev().enumerate() {
        position[*v] = i;
    }
    let mut oriented: Vec<Oriented> = arrows
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (from, to) = if reversed[i] {
                (a.to, a.from)
            } else {
                (a.from, a.to)
            };
            Oriented {
                arrow: i,
                from,
                to,
                reversed: reversed[i],
            }
        })
        .collect();
    oriented.sort_by_key(|e| (position[e.from], position[e.to], e.arrow));
    oriented
}

fn layered(nodes: usize, arrows: &[Arrow], reduce_crossings: bool) -> Option<Placement> {
    let mut g = graph(nodes, arrows);
    let mut recorder = Recorder {
        boxes: vec![None; nodes],
        curves: vec![None; arrows.len()],
    };
    g.do_it(false, !reduce_crossings, false, &mut recorder);
    Some(Placement {
        boxes: recorder.boxes.into_iter().collect::<Option<_>>()?,
        curves: recorder.curves.into_iter().collect::<Option<_>>()?,
        mode: Mode::Layered {
            reduced_crossings: reduce_crossings,
        },
    })
}

/// Boxes in rows of `ceil(sqrt(n))`, in name order; straight arrows between box edges.
fn grid(nodes: usize, arrows: &[Arrow]) -> Placement {
    let columns = (nodes as f64).sqrt().ceil().max(1.0) as usize;
    let boxes: Vec<Corner> = (0..nodes)
        .map(|i| Corner {
            x: (i % columns) as f64 * (BOX_WIDTH + GRID_GAP_X),
            y: (i / columns) as f64 * (BOX_HEIGHT + GRID_GAP_Y),
        })
        .collect();
    let curves = arrows
        .iter()
        .map(|a| {
            let from = centre(boxes[a.from]);
            let to = centre(boxes[a.to]);
            let start = border_towards(from, to);
            let end = border_towards(to, from);
            Curve {
                points: vec![(start, start), (end, end)],
                heads: (false, true),
            }
        })
        .collect();
    Placement {
        boxes,
        curves,
        mode: Mode::Grid,
    }
}

fn centre(c: Corner) -> (f64, f64) {
    (c.x + BOX_WIDTH / 2.0, c.y + BOX_HEIGHT / 2.0)
}

/// Where the line from a box's centre towards `other` leaves the box.
fn border_towards(centre: (f64, f64), other: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (other.0 - centre.0, other.1 - centre.1);
    let tx = if dx == 0.0 {
        f64::INFINITY
    } else {
        (BOX_WIDTH / 2.0) / dx.abs()
    };
    let ty = if dy == 0.0 {
        f64::INFINITY
    } else {
        (BOX_HEIGHT / 2.0) / dy.abs()
    };
    let t = tx.min(ty).min(1.0);
    (centre.0 + dx * t, centre.1 + dy * t)
}

/// Keeps what `layout-rs` draws: the service boxes (their properties carry the node's
/// index) and the arrows (the arrow's index). Labels, debug marks and clips are not used.
struct Recorder {
    boxes: Vec<Option<Corner>>,
    curves: Vec<Option<Curve>>,
}

fn slot(properties: Option<String>, len: usize) -> Option<usize> {
    properties?.parse().ok().filter(|i| *i < len)
}

impl RenderBackend for Recorder {
    fn draw_rect(
        &mut self,
        xy: Point,
        _size: Point,
        _look: &StyleAttr,
        properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        if let Some(i) = slot(properties, self.boxes.len()) {
            self.boxes[i] = Some(Corner { x: xy.x, y: xy.y });
        }
    }

    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_text(&mut self, _: Point, _: &str, _: &StyleAttr) {}

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        if path.len() < 2 {
            return;
        }
        if let Some(i) = slot(properties, self.curves.len()) {
            self.curves[i] = Some(Curve {
                points: path.iter().map(|(a, b)| ((a.x, a.y), (b.x, b.y))).collect(),
                heads: head,
            });
        }
    }

    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}
