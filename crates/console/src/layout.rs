//! A layered (Sugiyama-style) layout of a [`Block`]: cycles broken by a depth-first search
//! from the start, layers by longest path, a dummy vertex wherever an edge crosses a layer,
//! order within layers by barycenter sweeps, x positions as close to the neighbours' as the
//! order allows (isotonic regression, pool-adjacent-violators), and each edge's label at the
//! first spot along the edge that covers no vertex and no label placed before it (right of
//! everything when there is none). Parallel and Map states are laid out from the inside out:
//! their branches first, side by side, and the cluster is then one (large) vertex of its own
//! block.

use crate::graph::{Block, EdgeKind, Node};

/// Gaps and sizes, in SVG user units (pixels).
const NODE_GAP: f64 = 28.0;
const LAYER_GAP: f64 = 56.0;
const DUMMY_WIDTH: f64 = 12.0;
const MIN_WIDTH: f64 = 104.0;
const NAME_HEIGHT: f64 = 34.0;
const LINE: f64 = 14.0;
const PAD: f64 = 14.0;
/// The cluster's title bar.
pub const HEADER: f64 = 26.0;
/// A label's line height, and the font size of its text.
pub const LABEL_LINE: f64 = 15.0;
pub const LABEL_PX: f64 = 11.0;
/// Space kept between a label and the boxes around it.
const LABEL_CLEARANCE: f64 = 3.0;
const BRANCH_GAP: f64 = 24.0;
const MARKER: f64 = 22.0;
const MARGIN: f64 = 16.0;
const SWEEPS: usize = 6;

/// What a laid-out vertex stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vertex {
    /// The block's node with this index.
    State(usize),
    /// The machine's start (root block only).
    Start,
    /// The machine's end (root block only).
    End,
}

/// A vertex with its box (top-left corner and size, relative to its block).
#[derive(Debug, Clone)]
pub struct Placed {
    pub vertex: Vertex,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// A cluster's branches, each laid out, with its offset inside this box.
    pub inner: Vec<(f64, f64, Layout)>,
}

/// An edge as drawn: from a state (or the start) to a state (or the end), through `points`.
#[derive(Debug, Clone)]
pub struct Routed {
    pub from: Vertex,
    pub to: Vertex,
    /// The index of the edge in its node's `edges` (none for the start's and end's edges).
    pub edge: Option<usize>,
    pub points: Vec<(f64, f64)>,
    /// The label's box, for an edge with a label: clear of every vertex and of the other
    /// labels of its block.
    pub label: Option<Rect>,
    /// For a label that found no room beside its edge: the point of the edge it belongs to,
    /// which a line joins it to.
    pub leader: Option<(f64, f64)>,
}

/// A box: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    /// Whether the two boxes share any area (touching edges do not).
    pub fn intersects(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// The box grown by `by` on every side.
    fn grown(&self, by: f64) -> Rect {
        Rect { x: self.x - by, y: self.y - by, w: self.w + 2.0 * by, h: self.h + 2.0 * by }
    }
}

/// A block laid out.
#[derive(Debug, Clone)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub placed: Vec<Placed>,
    pub routes: Vec<Routed>,
}

/// Lay out a whole state machine: its root block with Start and End markers.
pub fn layout(block: &Block) -> Layout {
    lay(block, true)
}

/// About how wide `text` is at `px` pixels (a sans-serif face).
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.6
}

fn simple_size(n: &Node) -> (f64, f64) {
    let mut w = text_width(&n.name, 13.0);
    let mut h = NAME_HEIGHT;
    for line in n.detail.iter().chain(&n.retry) {
        w = w.max(text_width(line, 11.0));
        h += LINE;
    }
    ((w + 2.0 * PAD).max(MIN_WIDTH), h)
}

struct Work {
    /// Vertex sizes; real vertices first, then dummies.
    size: Vec<(f64, f64)>,
    layer: Vec<usize>,
    /// Edges of the acyclic graph between adjacent layers.
    down: Vec<Vec<usize>>,
    up: Vec<Vec<usize>>,
}

/// An edge before layering: endpoints as vertex indices, and what it is.
struct Raw {
    from: usize,
    to: usize,
    edge: Option<usize>,
}

fn lay(block: &Block, root: bool) -> Layout {
    let n = block.nodes.len();
    // Vertices: the nodes, then Start and End for the root.
    let mut vertices: Vec<Vertex> = (0..n).map(Vertex::State).collect();
    let mut size = Vec::with_capacity(n + 2);
    let mut inner_of: Vec<Vec<(f64, f64, Layout)>> = Vec::with_capacity(n);
    for node in &block.nodes {
        if node.kind.is_cluster() && !node.blocks.is_empty() {
            let inner: Vec<Layout> = node.blocks.iter().map(|b| lay(b, false)).collect();
            let title = text_width(&node.name, 13.0) + text_width(node.kind.class(), 11.0) + 3.0 * PAD;
            let extra = node.retry.len() as f64 * LINE;
            let mut x = PAD;
            let mut h: f64 = 0.0;
            let mut offsets = Vec::new();
            for l in inner {
                offsets.push((x, HEADER + extra + PAD / 2.0, l.clone()));
                x += l.width + BRANCH_GAP;
                h = h.max(l.height);
            }
            let w = (x - BRANCH_GAP + PAD).max(title).max(MIN_WIDTH);
            // Centre the branches when the title is wider than they are.
            let spare = (w - (x - BRANCH_GAP + PAD)).max(0.0) / 2.0;
            for o in &mut offsets {
                o.0 += spare;
            }
            size.push((w, HEADER + extra + PAD / 2.0 + h + PAD / 2.0));
            inner_of.push(offsets);
        } else {
            size.push(simple_size(node));
            inner_of.push(Vec::new());
        }
    }
    let mut raw: Vec<Raw> = Vec::new();
    let mut self_loops: Vec<(usize, usize)> = Vec::new();
    for (i, node) in block.nodes.iter().enumerate() {
        for (j, e) in node.edges.iter().enumerate() {
            match block.index_of(&e.to) {
                Some(t) if t == i => self_loops.push((i, j)),
                Some(t) => raw.push(Raw { from: i, to: t, edge: Some(j) }),
                None => {} // dangling: the validator reports it
            }
        }
    }
    let start_vertex = block.index_of(&block.start);
    if root {
        vertices.push(Vertex::Start);
        size.push((MARKER, MARKER));
        if let Some(s) = start_vertex {
            raw.push(Raw { from: n, to: s, edge: None });
        }
        vertices.push(Vertex::End);
        size.push((MARKER, MARKER));
        for (i, node) in block.nodes.iter().enumerate() {
            if node.terminal {
                raw.push(Raw { from: i, to: n + 1, edge: None });
            }
        }
    }
    let count = vertices.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (k, r) in raw.iter().enumerate() {
        out[r.from].push(k);
    }

    // Break cycles: a depth-first search from the start; an edge to a vertex on the stack is
    // reversed. The visit order also seeds the order within layers.
    let mut state = vec![0u8; count]; // 0 new, 1 on stack, 2 done
    let mut reversed = vec![false; raw.len()];
    let mut preorder = vec![usize::MAX; count];
    let mut seen = 0;
    let mut roots: Vec<usize> = Vec::new();
    if root {
        roots.push(n);
    } else if let Some(s) = start_vertex {
        roots.push(s);
    }
    roots.extend(0..count);
    for r in roots {
        if state[r] != 0 {
            continue;
        }
        // Iterative DFS: (vertex, next out-edge to look at).
        let mut stack = vec![(r, 0usize)];
        state[r] = 1;
        preorder[r] = seen;
        seen += 1;
        while let Some(&mut (v, ref mut k)) = stack.last_mut() {
            if let Some(&e) = out[v].get(*k) {
                *k += 1;
                let t = raw[e].to;
                match state[t] {
                    0 => {
                        state[t] = 1;
                        preorder[t] = seen;
                        seen += 1;
                        stack.push((t, 0));
                    }
                    1 => reversed[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<(usize, usize)> =
        raw.iter().zip(&reversed).map(|(r, rev)| if *rev { (r.to, r.from) } else { (r.from, r.to) }).collect();

    // Layers by longest path from the sources (Kahn's order).
    let mut indeg = vec![0usize; count];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(a, b) in &dag {
        indeg[b] += 1;
        succ[a].push(b);
    }
    let mut layer = vec![0usize; count];
    let mut queue: Vec<usize> = (0..count).filter(|v| indeg[*v] == 0).collect();
    let mut qi = 0;
    while qi < queue.len() {
        let v = queue[qi];
        qi += 1;
        for &t in &succ[v] {
            layer[t] = layer[t].max(layer[v] + 1);
            indeg[t] -= 1;
            if indeg[t] == 0 {
                queue.push(t);
            }
        }
    }
    // The end sits below everything.
    if root {
        let deepest = (0..n).map(|v| layer[v]).max().unwrap_or(0);
        layer[n + 1] = deepest + 1;
    }

    // Dummy vertices: each DAG edge becomes a chain between adjacent layers.
    let mut w = Work { size, layer, down: vec![Vec::new(); count], up: vec![Vec::new(); count] };
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(dag.len());
    for &(a, b) in &dag {
        let mut chain = vec![a];
        let mut prev = a;
        for l in w.layer[a] + 1..w.layer[b] {
            let d = w.size.len();
            w.size.push((DUMMY_WIDTH, 0.0));
            w.layer.push(l);
            w.down.push(Vec::new());
            w.up.push(Vec::new());
            preorder.push(preorder[a]);
            w.down[prev].push(d);
            w.up[d].push(prev);
            chain.push(d);
            prev = d;
        }
        w.down[prev].push(b);
        w.up[b].push(prev);
        chain.push(b);
        chains.push(chain);
    }

    // Order within layers: the search's order, then barycenter sweeps.
    let layers = w.layer.iter().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for v in 0..w.size.len() {
        rows[w.layer[v]].push(v);
    }
    for row in &mut rows {
        row.sort_by_key(|v| preorder[*v]);
    }
    let mut pos = vec![0f64; w.size.len()];
    let index = |rows: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                pos[*v] = i as f64;
            }
        }
    };
    index(&rows, &mut pos);
    for sweep in 0..SWEEPS {
        let downward = sweep % 2 == 0;
        let order: Vec<usize> =
            if downward { (1..layers).collect() } else { (0..layers.saturating_sub(1)).rev().collect() };
        for l in order {
            let mut keyed: Vec<(f64, usize)> = rows[l]
                .iter()
                .map(|&v| {
                    let nb = if downward { &w.up[v] } else { &w.down[v] };
                    let key =
                        if nb.is_empty() { pos[v] } else { nb.iter().map(|u| pos[*u]).sum::<f64>() / nb.len() as f64 };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            rows[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, v) in rows[l].iter().enumerate() {
                pos[*v] = i as f64;
            }
        }
    }

    // x: centres packed, then pulled towards their neighbours' centres within the order.
    let mut cx = vec![0f64; w.size.len()];
    for row in &rows {
        let mut x = 0.0;
        for &v in row {
            cx[v] = x + w.size[v].0 / 2.0;
            x += w.size[v].0 + NODE_GAP;
        }
    }
    for sweep in 0..2 * SWEEPS {
        let downward = sweep % 2 == 0;
        let order: Vec<usize> =
            if downward { (1..layers).collect() } else { (0..layers.saturating_sub(1)).rev().collect() };
        for l in order {
            let row = &rows[l];
            let desired: Vec<f64> = row
                .iter()
                .map(|&v| {
                    let nb: Vec<usize> = w.up[v].iter().chain(&w.down[v]).copied().collect();
                    if nb.is_empty() {
                        cx[v]
                    } else {
                        nb.iter().map(|u| cx[*u]).sum::<f64>() / nb.len() as f64
                    }
                })
                .collect();
            let sizes: Vec<f64> = row.iter().map(|v| w.size[*v].0).collect();
            for (v, x) in row.iter().zip(place_in_order(&desired, &sizes)) {
                cx[*v] = x;
            }
        }
    }
    let left = (0..w.size.len()).map(|v| cx[v] - w.size[v].0 / 2.0).fold(f64::INFINITY, f64::min);
    let shift = MARGIN - if left.is_finite() { left } else { 0.0 };
    for x in &mut cx {
        *x += shift;
    }

    // y: one band per layer, as tall as its tallest vertex.
    let mut band_top = vec![0f64; layers];
    let mut band_h = vec![0f64; layers];
    for v in 0..w.size.len() {
        band_h[w.layer[v]] = band_h[w.layer[v]].max(w.size[v].1);
    }
    let mut y = MARGIN;
    for l in 0..layers {
        band_top[l] = y;
        y += band_h[l] + LAYER_GAP;
    }
    let height = y - LAYER_GAP + MARGIN;
    let cy = |v: usize| band_top[w.layer[v]] + band_h[w.layer[v]] / 2.0;
    let mut width: f64 = 0.0;
    let mut placed = Vec::with_capacity(count);
    let mut inner_of = inner_of.into_iter();
    for (v, vertex) in vertices.iter().enumerate() {
        let (vw, vh) = w.size[v];
        width = width.max(cx[v] + vw / 2.0 + MARGIN);
        placed.push(Placed {
            vertex: *vertex,
            x: cx[v] - vw / 2.0,
            y: cy(v) - vh / 2.0,
            w: vw,
            h: vh,
            inner: if v < n { inner_of.next().unwrap_or_default() } else { Vec::new() },
        });
    }
    for x in &cx[count..] {
        width = width.max(x + MARGIN);
    }

    // Routes: bottom of the upper vertex, the dummies, top of the lower one.
    let mut routes = Vec::with_capacity(raw.len() + self_loops.len());
    let mut drawn: Vec<(usize, usize)> = Vec::new();
    for ((r, chain), rev) in raw.iter().zip(&chains).zip(&reversed) {
        let top = chain[0];
        let bottom = chain[chain.len() - 1];
        let mut points = vec![(cx[top], cy(top) + w.size[top].1 / 2.0)];
        for &d in &chain[1..chain.len() - 1] {
            points.push((cx[d], cy(d)));
        }
        points.push((cx[bottom], cy(bottom) - w.size[bottom].1 / 2.0));
        // Parallel edges between the same pair bend apart.
        let pair = (r.from.min(r.to), r.from.max(r.to));
        let twins = drawn.iter().filter(|p| **p == pair).count();
        drawn.push(pair);
        if twins > 0 {
            let bend = 22.0 * twins as f64 * if twins % 2 == 1 { 1.0 } else { -1.0 };
            if points.len() == 2 {
                let (a, b) = (points[0], points[1]);
                points.insert(1, ((a.0 + b.0) / 2.0 + bend, (a.1 + b.1) / 2.0));
            } else {
                let last = points.len() - 1;
                for p in &mut points[1..last] {
                    p.0 += bend;
                }
            }
        }
        if *rev {
            points.reverse();
        }
        routes.push(Routed {
            from: vertices[r.from],
            to: vertices[r.to],
            edge: r.edge,
            points,
            label: None,
            leader: None,
        });
    }
    for (i, j) in self_loops {
        let p = &placed[i];
        let (r, m) = (p.x + p.w, p.y + p.h / 2.0);
        let points = vec![(r, m - 8.0), (r + 26.0, m - 8.0), (r + 26.0, m + 8.0), (r, m + 8.0)];
        width = width.max(r + 26.0 + MARGIN);
        routes.push(Routed {
            from: Vertex::State(i),
            to: Vertex::State(i),
            edge: Some(j),
            points,
            label: None,
            leader: None,
        });
    }
    let mut l = Layout { width, height, placed, routes };
    place_labels(block, &mut l);
    l
}

/// The size of an edge's label box: one line of text, two for a Catch (the console writes the
/// error it took under its names).
pub fn label_size(text: &str, catch: bool) -> (f64, f64) {
    (text_width(text, LABEL_PX) + 8.0, if catch { 2.0 * LABEL_LINE } else { LABEL_LINE })
}

/// Put each label on its edge where it covers no vertex and no label placed before it: the
/// candidates are points along the edge (its middle first, then outwards), the box centred
/// on the point or beside it; when none is free, the label goes to the right of everything,
/// level with its edge's middle, and the layout grows to hold it.
fn place_labels(block: &Block, l: &mut Layout) {
    let mut taken: Vec<Rect> = l.placed.iter().map(|p| Rect { x: p.x, y: p.y, w: p.w, h: p.h }).collect();
    for k in 0..l.routes.len() {
        let r = &l.routes[k];
        let (Vertex::State(i), Some(j)) = (r.from, r.edge) else { continue };
        let e = &block.nodes[i].edges[j];
        let Some(text) = &e.label else { continue };
        let (w, h) = label_size(text, e.kind == EdgeKind::Catch);
        let free = |b: &Rect| {
            let padded = b.grown(LABEL_CLEARANCE);
            b.x >= 0.0 && b.y >= 0.0 && !taken.iter().any(|t| t.intersects(&padded))
        };
        // On the point, then beside it, then a line above or below (and beside).
        let (side, line) = (w / 2.0 + 6.0, LABEL_LINE + 2.0);
        let shifts = [
            (0.0, 0.0),
            (side, 0.0),
            (-side, 0.0),
            (0.0, line),
            (0.0, -line),
            (side, line),
            (-side, line),
            (side, -line),
            (-side, -line),
        ];
        let mut chosen = None;
        'search: for at in along(&r.points) {
            for (dx, dy) in shifts {
                let b = Rect { x: at.0 + dx - w / 2.0, y: at.1 + dy - LABEL_LINE / 2.0, w, h };
                if free(&b) {
                    chosen = Some(b);
                    break 'search;
                }
            }
        }
        let leader = chosen.is_none().then(|| along(&r.points).next()).flatten();
        let b = chosen.unwrap_or_else(|| {
            // Right of every vertex and label: nothing is there but other such labels, which
            // stack downwards.
            let right = taken.iter().map(|t| t.x + t.w).fold(0.0, f64::max) + NODE_GAP / 2.0;
            let mid = along(&r.points).next().unwrap_or((right, MARGIN));
            let mut b = Rect { x: right, y: (mid.1 - LABEL_LINE / 2.0).max(0.0), w, h };
            while !free(&b) {
                b.y += LABEL_LINE;
            }
            b
        });
        l.width = l.width.max(b.x + b.w + MARGIN);
        l.height = l.height.max(b.y + b.h + MARGIN);
        taken.push(b);
        l.routes[k].label = Some(b);
        l.routes[k].leader = leader;
    }
}

/// Points along a polyline at fractions of its length: the middle, then alternately before
/// and after it, out to its ends' neighbourhoods.
fn along(points: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    let lengths: Vec<f64> = points.windows(2).map(|s| (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1)).collect();
    let total: f64 = lengths.iter().sum();
    const FRACTIONS: [f64; 13] = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.1, 0.9, 0.04, 0.96];
    FRACTIONS.into_iter().filter(move |_| !points.is_empty()).map(move |f| {
        let mut left = f * total;
        for (s, len) in points.windows(2).zip(&lengths) {
            if left <= *len && *len > 0.0 {
                let t = left / len;
                return (s[0].0 + (s[1].0 - s[0].0) * t, s[0].1 + (s[1].1 - s[0].1) * t);
            }
            left -= len;
        }
        points[points.len() - 1]
    })
}

/// Centres as close as possible (least squares) to `desired` while keeping the order and
/// the gaps: with `y_i = x_i - offset_i` the gaps become `y` non-decreasing, an isotonic
/// regression that pool-adjacent-violators solves exactly.
fn place_in_order(desired: &[f64], widths: &[f64]) -> Vec<f64> {
    let mut offset = Vec::with_capacity(desired.len());
    let mut acc = 0.0;
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            acc += widths[i - 1] / 2.0 + NODE_GAP + w / 2.0;
        }
        offset.push(acc);
    }
    // Pools of (sum, count) with non-decreasing means.
    let mut pools: Vec<(f64, usize)> = Vec::new();
    for (d, o) in desired.iter().zip(&offset) {
        pools.push((d - o, 1));
        while pools.len() > 1 {
            let (s1, c1) = pools[pools.len() - 1];
            let (s0, c0) = pools[pools.len() - 2];
            if s0 / c0 as f64 <= s1 / c1 as f64 {
                break;
            }
            pools.pop();
            let last = pools.len() - 1;
            pools[last] = (s0 + s1, c0 + c1);
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (s, c) in pools {
        for _ in 0..c {
            out.push(s / c as f64);
        }
    }
    out.iter().zip(&offset).map(|(y, o)| y + o).collect()
}

/// Whether a route ends in a Catch edge (drawn dashed).
pub fn is_catch(block: &Block, r: &Routed) -> bool {
    match (r.from, r.edge) {
        (Vertex::State(i), Some(j)) => block.nodes[i].edges[j].kind == EdgeKind::Catch,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_gaps_hold() {
        let x = place_in_order(&[50.0, 50.0, 50.0], &[20.0, 20.0, 20.0]);
        // Centred on 50, 48 apart (20 wide, 28 gap).
        assert!((x[0] - 2.0).abs() < 1e-9 && (x[1] - 50.0).abs() < 1e-9 && (x[2] - 98.0).abs() < 1e-9, "{x:?}");
        let x = place_in_order(&[0.0, 500.0], &[20.0, 20.0]);
        assert_eq!(x, vec![0.0, 500.0]);
    }

    fn overlaps(a: &Placed, b: &Placed) -> bool {
        a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
    }

    #[test]
    fn a_loop_is_laid_out_without_overlaps() {
        let b = Block::parse(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Next":"B"},
                "B":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":3,"Next":"A"}],"Default":"C"},
                "C":{"Type":"Succeed"}}}"#,
        )
        .expect("parses");
        let l = layout(&b);
        assert_eq!(l.placed.len(), 5); // three states, start and end
        for (i, a) in l.placed.iter().enumerate() {
            for c in &l.placed[i + 1..] {
                assert!(!overlaps(a, c), "{a:?} overlaps {c:?}");
            }
        }
        // A above B above C.
        let y = |i: usize| l.placed[i].y;
        assert!(y(0) < y(1) && y(1) < y(2));
        // The loop back from B to A is drawn from B upwards into A.
        let back = l.routes.iter().find(|r| r.from == Vertex::State(1) && r.to == Vertex::State(0)).expect("B→A");
        assert!(back.points[0].1 > back.points[back.points.len() - 1].1);
    }
}
