//! The inheritance graph: cycle detection (petgraph) and resolution order.

use std::collections::VecDeque;

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use policy_syntax::{Code, Diagnostic, SourceFile};

use crate::model::{Role, RoleId};

/// Builds the inheritance graph (an edge from each role to each parent),
/// reports every cycle as `P0301` with each edge labelled in order, removes
/// the edges inside cycles, and returns an order in which every role comes
/// after all of its parents.
pub(crate) fn order_roles(
    roles: &mut [Role],
    source: &SourceFile,
    diags: &mut Vec<Diagnostic>,
) -> Vec<RoleId> {
    let mut graph: DiGraph<RoleId, ()> = DiGraph::with_capacity(roles.len(), roles.len());
    for i in 0..roles.len() {
        graph.add_node(RoleId(i as u32));
    }
    for (i, role) in roles.iter().enumerate() {
        for p in &role.parents {
            graph.add_edge(NodeIndex::new(i), NodeIndex::new(p.role.index()), ());
        }
    }
    let mut sccs: Vec<Vec<usize>> = kosaraju_scc(&graph)
        .into_iter()
        .map(|c| {
            let mut c: Vec<usize> = c.into_iter().map(|n| n.index()).collect();
            c.sort_unstable();
            c
        })
        .filter(|c| {
            c.len() > 1
                || c.first().is_some_and(|&r| {
                    roles
                        .get(r)
                        .is_some_and(|role| role.parents.iter().any(|p| p.role.index() == r))
                })
        })
        .collect();
    sccs.sort_unstable();
    let mut component = vec![usize::MAX; roles.len()];
    for (ci, scc) in sccs.iter().enumerate() {
        for &r in scc {
            if let Some(c) = component.get_mut(r) {
                *c = ci;
            }
        }
        if let Some(d) = cycle_diagnostic(roles, scc, &component, ci, source) {
            diags.push(d);
        }
    }
    // Drop the edges inside cycles so that resolution sees a DAG.
    for (i, role) in roles.iter_mut().enumerate() {
        let ci = component.get(i).copied().unwrap_or(usize::MAX);
        if ci != usize::MAX {
            role.parents
                .retain(|p| component.get(p.role.index()).copied() != Some(ci));
        }
    }
    topological(roles)
}

/// Kahn's algorithm, parents first, ties by declaration order.
fn topological(roles: &[Role]) -> Vec<RoleId> {
    let n = roles.len();
    let mut pending: Vec<usize> = roles.iter().map(|r| r.parents.len()).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in roles.iter().enumerate() {
        for p in &r.parents {
            if let Some(c) = children.get_mut(p.role.index()) {
                c.push(i);
            }
        }
    }
    let mut queue: VecDeque<usize> = (0..n)
        .filter(|&i| pending.get(i).copied() == Some(0))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(r) = queue.pop_front() {
        order.push(RoleId(r as u32));
        for &c in children.get(r).map(|v| v.as_slice()).unwrap_or(&[]) {
            if let Some(p) = pending.get_mut(c) {
                *p -= 1;
                if *p == 0 {
                    queue.push_back(c);
                }
            }
        }
    }
    order
}

/// Finds the shortest cycle through the first role of `scc` and renders it.
fn cycle_diagnostic(
    roles: &[Role],
    scc: &[usize],
    component: &[usize],
    ci: usize,
    source: &SourceFile,
) -> Option<Diagnostic> {
    let start = *scc.first()?;
    // BFS over parent edges inside the component, back to `start`.
    let mut prev: Vec<Option<(usize, usize)>> = vec![None; roles.len()];
    let mut queue = VecDeque::from([start]);
    let mut closing: Option<(usize, usize)> = None;
    'bfs: while let Some(r) = queue.pop_front() {
        for (pi, p) in roles.get(r)?.parents.iter().enumerate() {
            let t = p.role.index();
            if component.get(t).copied() != Some(ci) {
                continue;
            }
            if t == start {
                closing = Some((r, pi));
                break 'bfs;
            }
            if prev.get(t).is_some_and(|x| x.is_none()) {
                if let Some(slot) = prev.get_mut(t) {
                    *slot = Some((r, pi));
                }
                queue.push_back(t);
            }
        }
    }
    let (last, last_edge) = closing?;
    // Edges from start to last, then the closing edge.
    let mut edges = vec![(last, last_edge)];
    let mut cur = last;
    while cur != start {
        let (from, pi) = (*prev.get(cur)?)?;
        edges.push((from, pi));
        cur = from;
    }
    edges.reverse();
    let name = |r: usize| roles.get(r).map_or("?", |x| x.id.as_str());
    let mut path = vec![format!("`{}`", name(start))];
    for (from, pi) in &edges {
        let to = roles.get(*from)?.parents.get(*pi)?.role.index();
        path.push(format!("`{}`", name(to)));
    }
    let mut d = Diagnostic::new(
        Code::InheritanceCycle,
        format!(
            "roles inherit from each other in a cycle: {}",
            path.join(" → ")
        ),
    )
    .with_source(source)
    .help("inheritance must go one way; remove one of these `inherits` edges");
    // The labels are numbered down the file (the order a reader meets
    // them in the snippet), not in the order of the path above.
    let mut labelled = Vec::with_capacity(edges.len());
    for (from, pi) in &edges {
        labelled.push((*from, roles.get(*from)?.parents.get(*pi)?));
    }
    labelled.sort_by_key(|(_, parent)| parent.span.start);
    for (k, (from, parent)) in labelled.iter().enumerate() {
        let msg = format!(
            "{}. `{}` inherits `{}`",
            k + 1,
            name(*from),
            name(parent.role.index())
        );
        d = if k == 0 {
            d.primary(parent.span, msg)
        } else {
            d.secondary(parent.span, msg)
        };
    }
    Some(d)
}
