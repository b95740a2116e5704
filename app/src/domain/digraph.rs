//! Small directed-graph routines over ordered node names, for the variable references and
//! the `depends_on` order: which nodes lie on a cycle, and a cycle to name in an error.
//! Deterministic: nodes and edges are visited in their `Ord` order, so the same graph
//! always gives the same answer. Iterative (no recursion), so a long chain cannot
//! overflow the stack.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Every node is a key; its value is the set of nodes it has an edge to. Edges to nodes
/// that are not keys are ignored.
pub type Graph<N> = BTreeMap<N, BTreeSet<N>>;

/// Strongly connected components that contain a cycle (more than one node, or one node
/// with an edge to itself), each sorted, in the order of their smallest node.
pub fn cyclic_components<N: Ord + Clone>(graph: &Graph<N>) -> Vec<Vec<N>> {
    let nodes: Vec<&N> = graph.keys().collect();
    let position: BTreeMap<&N, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            graph[*n]
                .iter()
                .filter_map(|m| position.get(m).copied())
                .collect()
        })
        .collect();

    // Tarjan's algorithm with an explicit call stack of (node, next successor).
    let n = nodes.len();
    let mut index: Vec<Option<usize>> = vec![None; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut counter = 0;
    let mut components = Vec::new();
    for root in 0..n {
        if index[root].is_some() {
            continue;
        }
        let mut calls = vec![(root, 0usize)];
        index[root] = Some(counter);
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&(v, next)) = calls.last() {
            if let Some(&w) = succ[v].get(next) {
                calls.last_mut().expect("a call is open").1 += 1;
                match index[w] {
                    None => {
                        index[w] = Some(counter);
                        low[w] = counter;
                        counter += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        calls.push((w, 0));
                    }
                    Some(iw) if on_stack[w] => low[v] = low[v].min(iw),
                    Some(_) => {}
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if Some(low[v]) == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 || succ[v].contains(&v) {
                    component.sort_unstable();
                    components.push(component);
                }
            }
        }
    }
    components.sort_unstable_by_key(|c| c[0]);
    components
        .into_iter()
        .map(|c| c.into_iter().map(|i| nodes[i].clone()).collect())
        .collect()
}

/// Components larger than this get a cycle through a fixed node of theirs (two searches per
/// component) instead of the shortest cycle through each node (one search per node).
const SHORTEST_CYCLE_LIMIT: usize = 200;

/// For each node of a cyclic component (from [`cyclic_components`]), a cycle through it:
/// `[node, …, node]`, the shortest one for components of up to 200 nodes; for larger ones
/// a closed walk through the component's smallest node (which may repeat nodes).
pub fn cycles_through<N: Ord + Clone>(graph: &Graph<N>, component: &[N]) -> Vec<(N, Vec<N>)> {
    let within: BTreeSet<&N> = component.iter().collect();
    let successors = |n: &N| -> Vec<N> {
        graph
            .get(n)
            .into_iter()
            .flatten()
            .filter(|m| within.contains(m))
            .cloned()
            .collect()
    };
    if component.len() <= SHORTEST_CYCLE_LIMIT {
        return component
            .iter()
            .map(|start| {
                let path = shortest_path(start, start, &successors)
                    .expect("every node of a cyclic component is on a cycle");
                (start.clone(), path)
            })
            .collect();
    }
    let root = &component[0];
    let mut reverse: Graph<N> = component
        .iter()
        .map(|n| (n.clone(), BTreeSet::new()))
        .collect();
    for n in component {
        for m in successors(n) {
            reverse
                .get_mut(&m)
                .expect("m is in the component")
                .insert(n.clone());
        }
    }
    let predecessors = |n: &N| -> Vec<N> { reverse[n].iter().cloned().collect() };
    let from_root = search_tree(root, &successors);
    let to_root = search_tree(root, &predecessors);
    component
        .iter()
        .map(|n| {
            if n == root {
                let cycle = shortest_path(root, root, &successors)
                    .expect("every node of a cyclic component is on a cycle");
                return (n.clone(), cycle);
            }
            // n → … → root (a predecessor tree's parents lead forward), then root → … → n.
            let mut cycle = trace(&to_root, n);
            let mut back = trace(&from_root, n);
            back.reverse();
            cycle.extend(back.into_iter().skip(1));
            (n.clone(), cycle)
        })
        .collect()
}

/// The shortest path `from → … → to` with at least one edge (so `from == to` finds a
/// cycle), breadth first in node order.
pub fn shortest_path<N: Ord + Clone>(
    from: &N,
    to: &N,
    successors: &dyn Fn(&N) -> Vec<N>,
) -> Option<Vec<N>> {
    let mut parent: BTreeMap<N, N> = BTreeMap::new();
    let mut queue = VecDeque::from([from.clone()]);
    while let Some(u) = queue.pop_front() {
        for w in successors(&u) {
            if &w == to {
                let mut path = vec![to.clone(), u.clone()];
                let mut at = u;
                while &at != from {
                    at = parent[&at].clone();
                    path.push(at.clone());
                }
                path.reverse();
                return Some(path);
            }
            if &w != from && !parent.contains_key(&w) {
                parent.insert(w.clone(), u.clone());
                queue.push_back(w);
            }
        }
    }
    None
}

/// Breadth-first parents from `root` (the root maps to itself).
fn search_tree<N: Ord + Clone>(root: &N, next: &dyn Fn(&N) -> Vec<N>) -> BTreeMap<N, N> {
    let mut parent = BTreeMap::from([(root.clone(), root.clone())]);
    let mut queue = VecDeque::from([root.clone()]);
    while let Some(u) = queue.pop_front() {
        for w in next(&u) {
            if !parent.contains_key(&w) {
                parent.insert(w.clone(), u.clone());
                queue.push_back(w);
            }
        }
    }
    parent
}

/// `[n, parent(n), …, root]` in a tree from [`search_tree`].
fn trace<N: Ord + Clone>(parent: &BTreeMap<N, N>, n: &N) -> Vec<N> {
    let mut path = vec![n.clone()];
    let mut at = n.clone();
    while parent[&at] != at {
        at = parent[&at].clone();
        path.push(at.clone());
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(
        edges: &[(&'static str, &'static str)],
        nodes: &[&'static str],
    ) -> Graph<&'static str> {
        let mut g: Graph<&str> = nodes.iter().map(|n| (*n, BTreeSet::new())).collect();
        for (a, b) in edges {
            g.entry(a).or_default().insert(b);
            g.entry(b).or_default();
        }
        g
    }

    #[test]
    fn components_with_cycles_only() {
        let g = graph(&[("a", "b"), ("b", "a"), ("c", "c"), ("d", "e")], &["f"]);
        assert_eq!(cyclic_components(&g), vec![vec!["a", "b"], vec!["c"]]);
        assert!(cyclic_components(&graph(&[("a", "b"), ("b", "c")], &[])).is_empty());
    }

    #[test]
    fn shortest_cycle_through_each_node() {
        // a → b → c → a, and a shortcut b → a.
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("b", "a")], &[]);
        let comps = cyclic_components(&g);
        let cycles = cycles_through(&g, &comps[0]);
        assert_eq!(cycles[0], ("a", vec!["a", "b", "a"]));
        assert_eq!(cycles[1], ("b", vec!["b", "a", "b"]));
        assert_eq!(cycles[2], ("c", vec!["c", "a", "b", "c"]));
        let self_loop = graph(&[("x", "x")], &[]);
        assert_eq!(
            cycles_through(&self_loop, &["x"]),
            vec![("x", vec!["x", "x"])]
        );
    }

    #[test]
    fn a_large_cycle_is_walked_through_its_smallest_node() {
        let names: Vec<String> = (0..500).map(|i| format!("n{i:03}")).collect();
        let mut g: Graph<String> = Graph::new();
        for (i, n) in names.iter().enumerate() {
            let next = names[(i + 1) % names.len()].clone();
            g.insert(n.clone(), BTreeSet::from([next]));
        }
        let comps = cyclic_components(&g);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].len(), 500);
        let cycles = cycles_through(&g, &comps[0]);
        assert_eq!(cycles.len(), 500);
        for (n, cycle) in &cycles {
            assert_eq!(cycle.first(), Some(n));
            assert_eq!(cycle.last(), Some(n));
            assert_eq!(cycle.len(), 501);
            for pair in cycle.windows(2) {
                assert!(g[&pair[0]].contains(&pair[1]), "{pair:?} is an edge");
            }
        }
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let mut g: Graph<u32> = Graph::new();
        for i in 0..100_000u32 {
            g.insert(i, BTreeSet::from([i + 1]));
        }
        g.insert(100_000, BTreeSet::from([0]));
        assert_eq!(cyclic_components(&g)[0].len(), 100_001);
    }
}
