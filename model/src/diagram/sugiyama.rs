//! The automatic layout: boxes of given sizes and the links between them, placed without
//! overlap on a canvas of roughly 16:10.
//!
//! Nodes are numbered `0..n` and a *link* `(a, b)` puts `a` (the referenced entity) above `b`.
//! Each *component* (nodes joined by links) gets a layered layout in the manner of Sugiyama:
//! cycles are broken by reversing the back edges of a depth-first search; *ranks* (layers) are
//! longest paths from the top, with each source then pulled down to just above its highest
//! child; links spanning several layers get *dummy* nodes, one per layer crossed; the order
//! within each layer comes from alternating barycenter sweeps down and up, keeping the order with
//! the fewest crossings (counted exactly, Barth–Mutzel–Jünger); a layer wider than the
//! component's target width (the square root of its area times 1.6) wraps into several rows, so
//! that a wide model does not become one endless line; x coordinates come from three passes
//! (down, up, down) that pull each box towards the mean centre of its linked boxes, solved per row
//! exactly as an isotonic regression (pool adjacent violators) under the no-overlap constraint.
//! Each component is laid out both top-down and left-to-right (the same algorithm on the boxes
//! turned a quarter), and the one nearer to 16:10 is kept: a deep chain of tables reads better
//! across, a wide tree down. Components are then packed on shelves, tallest first, into a width that makes the whole
//! roughly 16:10; nodes without links are packed in rows after them.
//!
//! Everything runs in node order with sorted inputs and no hash-map iteration, so the same
//! input gives the same coordinates; coordinates are whole pixels.

use super::Point;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Horizontal space between boxes of a row: room for the markers at both ends of an edge and
/// a few lanes of vertical segments between them.
pub(crate) const H_GAP: f64 = 72.0;
/// Vertical space between rows.
pub(crate) const V_GAP: f64 = 56.0;
/// Space between packed components.
pub(crate) const BLOCK_GAP: f64 = 96.0;
/// Width over height that layouts aim for.
pub(crate) const ASPECT: f64 = 1.6;
/// Gaps and aim of one orientation of the layered layout, in its own frame: layers are rows
/// going down, and a left-to-right layout is computed as a top-down one of the boxes turned a
/// quarter, then turned back.
struct Orientation {
    /// Between boxes of a row.
    along: f64,
    /// Between rows.
    across: f64,
    /// Width over height aimed at, in this frame.
    aspect: f64,
}

/// Referenced entities above the ones that reference them.
const TOP_DOWN: Orientation = Orientation {
    along: H_GAP,
    across: V_GAP,
    aspect: ASPECT,
};

/// Referenced entities left of the ones that reference them: columns of boxes with wide gaps
/// between columns, where the edges run.
const LEFT_RIGHT: Orientation = Orientation {
    along: 32.0,
    across: 120.0,
    aspect: 1.0 / ASPECT,
};

/// Crossing-reduction sweeps (alternately down and up).
const SWEEPS: usize = 12;

/// Top-left corners for boxes of `sizes` (width, height) linked by `links` (`(above, below)`,
/// sorted and without duplicates), with the drawing's top-left at the origin.
pub(crate) fn arrange(sizes: &[(f64, f64)], links: &[(usize, usize)]) -> Vec<Point> {
    let n = sizes.len();
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], mut x: usize) -> usize {
        while root[x] != x {
            root[x] = root[root[x]];
            x = root[x];
        }
        x
    }
    for &(a, b) in links {
        if a != b {
            let (ra, rb) = (find(&mut root, a), find(&mut root, b));
            // The smallest node is the root, so groups come out in node order.
            root[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut group_of = vec![usize::MAX; n];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for v in 0..n {
        let r = find(&mut root, v);
        if group_of[r] == usize::MAX {
            group_of[r] = groups.len();
            groups.push(Vec::new());
        }
        groups[group_of[r]].push(v);
    }
    let mut local = vec![0; n];
    let mut group_links: Vec<Vec<(usize, usize)>> = vec![Vec::new(); groups.len()];
    for group in &groups {
        for (i, &v) in group.iter().enumerate() {
            local[v] = i;
        }
    }
    for &(a, b) in links {
        if a != b {
            group_links[group_of[find(&mut root, a)]].push((local[a], local[b]));
        }
    }
    // Laid-out components and the loose nodes.
    let mut blocks: Vec<(Vec<usize>, Vec<Point>, f64, f64)> = Vec::new();
    let mut loose: Vec<usize> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        if group.len() == 1 {
            loose.push(group[0]);
            continue;
        }
        let local_sizes: Vec<(f64, f64)> = group.iter().map(|&v| sizes[v]).collect();
        let (points, w, h) = oriented(&local_sizes, &group_links[g]);
        blocks.push((group.clone(), points, w, h));
    }
    blocks.sort_by(|a, b| {
        b.3.total_cmp(&a.3)
            .then(b.2.total_cmp(&a.2))
            .then(a.0[0].cmp(&b.0[0]))
    });
    // The canvas width that makes everything about 16:10; the loose boxes fill rows of it.
    // Shelves waste some space, so the width is corrected a few times from the shape obtained,
    // keeping the shape nearest to 16:10.
    let block_area: f64 = blocks
        .iter()
        .map(|b| (b.2 + BLOCK_GAP) * (b.3 + BLOCK_GAP))
        .sum();
    let loose_sizes: Vec<(f64, f64)> = loose.iter().map(|&v| sizes[v]).collect();
    let loose_area: f64 = loose_sizes
        .iter()
        .map(|s| (s.0 + H_GAP) * (s.1 + V_GAP))
        .sum();
    let widest = blocks.iter().map(|b| b.2).fold(0.0, f64::max);
    let mut canvas = widest.max(((block_area + loose_area) * ASPECT).sqrt());
    let mut best: Option<(f64, Vec<Point>, Vec<Point>)> = None;
    for _ in 0..4 {
        let (loose_points, lw, lh) = shelves(&loose_sizes, H_GAP, V_GAP, Some(canvas));
        let mut block_sizes: Vec<(f64, f64)> = blocks.iter().map(|b| (b.2, b.3)).collect();
        if !loose.is_empty() {
            block_sizes.push((lw, lh));
        }
        let (origins, w, h) = shelves(&block_sizes, BLOCK_GAP, BLOCK_GAP, Some(canvas));
        let ratio = if h > 0.0 { w / h } else { ASPECT };
        let miss = (ratio / ASPECT).ln().abs();
        if best.as_ref().is_none_or(|b| miss < b.0) {
            best = Some((miss, origins, loose_points));
        }
        if miss < 0.1 {
            break;
        }
        canvas = (canvas * (ASPECT / ratio).sqrt()).max(widest);
    }
    let (_, origins, loose_points) = best.unwrap_or_default();
    if !loose.is_empty() {
        blocks.push((loose, loose_points, 0.0, 0.0));
    }
    let mut out = vec![Point { x: 0.0, y: 0.0 }; n];
    for (block, origin) in blocks.iter().zip(origins) {
        for (&v, p) in block.0.iter().zip(&block.1) {
            out[v] = Point {
                x: origin.x + p.x,
                y: origin.y + p.y,
            };
        }
    }
    out
}

/// Packs boxes in the given order on shelves (rows) no wider than `width`, or by default than
/// what makes the whole about [`ASPECT`]: top-left corners, total width and height.
fn shelves(
    sizes: &[(f64, f64)],
    h_gap: f64,
    v_gap: f64,
    width: Option<f64>,
) -> (Vec<Point>, f64, f64) {
    let widest = sizes.iter().map(|s| s.0).fold(0.0, f64::max);
    let area: f64 = sizes.iter().map(|s| (s.0 + h_gap) * (s.1 + v_gap)).sum();
    let target = widest.max(width.unwrap_or_else(|| (area * ASPECT).sqrt()));
    let mut out = Vec::with_capacity(sizes.len());
    let (mut x, mut y, mut shelf, mut width) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    for &(w, h) in sizes {
        if x > 0.0 && x + w > target {
            y += shelf + v_gap;
            x = 0.0;
            shelf = 0.0;
        }
        out.push(Point { x, y });
        width = width.max(x + w);
        shelf = shelf.max(h);
        x += w + h_gap;
    }
    (out, width, if sizes.is_empty() { 0.0 } else { y + shelf })
}

/// The layered layout of one connected component, top-down or left-to-right, whichever comes
/// nearer to [`ASPECT`] (top-down when they are as near): top-left corners (the component's
/// top-left at the origin), width and height.
fn oriented(sizes: &[(f64, f64)], links: &[(usize, usize)]) -> (Vec<Point>, f64, f64) {
    let miss = |w: f64, h: f64| ((w / h.max(1.0)) / ASPECT).ln().abs();
    let down = layered(sizes, links, &TOP_DOWN);
    let turned: Vec<(f64, f64)> = sizes.iter().map(|&(w, h)| (h, w)).collect();
    let (points, w, h) = layered(&turned, links, &LEFT_RIGHT);
    if miss(h, w) + 0.05 < miss(down.1, down.2) {
        let points = points
            .into_iter()
            .map(|p| Point { x: p.y, y: p.x })
            .collect();
        (points, h, w)
    } else {
        down
    }
}

/// The layered layout of one connected component in the frame of `o`: top-left corners (the
/// component's top-left at the origin), width and height.
fn layered(
    sizes: &[(f64, f64)],
    links: &[(usize, usize)],
    o: &Orientation,
) -> (Vec<Point>, f64, f64) {
    let n = sizes.len();
    let dag = acyclic(n, links);
    let mut preds = vec![Vec::new(); n];
    let mut succs = vec![Vec::new(); n];
    for &(a, b) in &dag {
        succs[a].push(b);
        preds[b].push(a);
    }
    let rank = ranks(n, &preds, &succs);
    let layers_count = rank.iter().max().map_or(0, |r| r + 1);

    // The layered graph: real nodes, then one dummy per layer crossed by a long link.
    let mut layer_of: Vec<usize> = rank.clone();
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &dag {
        let mut prev = a;
        for r in rank[a] + 1..rank[b] {
            let d = layer_of.len();
            layer_of.push(r);
            up.push(vec![prev]);
            down.push(Vec::new());
            down[prev].push(d);
            prev = d;
        }
        down[prev].push(b);
        up[b].push(prev);
    }
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layers_count];
    for (v, &r) in layer_of.iter().enumerate() {
        layers[r].push(v);
    }
    order_layers(&mut layers, &up, &down);

    // Rows: each layer's boxes in order, wrapped at the target width.
    let area: f64 = sizes
        .iter()
        .map(|s| (s.0 + o.along) * (s.1 + o.across))
        .sum();
    let widest = sizes.iter().map(|s| s.0).fold(0.0, f64::max);
    let target = widest.max((area * o.aspect).sqrt());
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for layer in &layers {
        let mut row: Vec<usize> = Vec::new();
        let mut width = 0.0;
        for &v in layer.iter().filter(|&&v| v < n) {
            let w = sizes[v].0;
            if !row.is_empty() && width + o.along + w > target {
                rows.push(std::mem::take(&mut row));
                width = 0.0;
            }
            width += if row.is_empty() { w } else { o.along + w };
            row.push(v);
        }
        if !row.is_empty() {
            rows.push(row);
        }
    }
    let mut row_of = vec![0; n];
    let mut ys = vec![0.0; n];
    let mut y = 0.0;
    for (ri, row) in rows.iter().enumerate() {
        let height = row.iter().map(|&v| sizes[v].1).fold(0.0, f64::max);
        for &v in row {
            row_of[v] = ri;
            ys[v] = y;
        }
        y += height + o.across;
    }
    // Start with each row packed and centred, then pull boxes towards their links.
    let mut xs = vec![0.0; n];
    for row in &rows {
        let width: f64 =
            row.iter().map(|&v| sizes[v].0).sum::<f64>() + o.along * (row.len() - 1) as f64;
        let mut x = ((target - width) / 2.0).round();
        for &v in row {
            xs[v] = x;
            x += sizes[v].0 + o.along;
        }
    }
    let neighbours: Vec<Vec<usize>> = (0..n)
        .map(|v| preds[v].iter().chain(&succs[v]).copied().collect())
        .collect();
    for pass in 0..3 {
        let order: Vec<usize> = if pass == 1 {
            (0..rows.len()).rev().collect()
        } else {
            (0..rows.len()).collect()
        };
        for ri in order {
            let row = &rows[ri];
            let mut desired = Vec::with_capacity(row.len());
            let mut weights = Vec::with_capacity(row.len());
            for &v in row {
                let pulling = neighbours[v].iter().filter(|&&u| match pass {
                    0 => row_of[u] < ri,
                    1 => row_of[u] > ri,
                    _ => row_of[u] != ri,
                });
                let (sum, count) = pulling.fold((0.0, 0usize), |(s, c), &u| {
                    (s + xs[u] + sizes[u].0 / 2.0, c + 1)
                });
                if count > 0 {
                    desired.push(sum / count as f64 - sizes[v].0 / 2.0);
                    weights.push(1.0);
                } else {
                    desired.push(xs[v]);
                    weights.push(0.01);
                }
            }
            let widths: Vec<f64> = row.iter().map(|&v| sizes[v].0).collect();
            for (&v, x) in row
                .iter()
                .zip(isotonic(&widths, &desired, &weights, o.along))
            {
                xs[v] = x;
            }
        }
    }
    let left = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let mut points = Vec::with_capacity(n);
    let (mut width, mut height) = (0.0_f64, 0.0_f64);
    for v in 0..n {
        let p = Point {
            x: xs[v] - left,
            y: ys[v],
        };
        width = width.max(p.x + sizes[v].0);
        height = height.max(p.y + sizes[v].1);
        points.push(p);
    }
    (points, width, height)
}

/// The links with the back edges of a depth-first search (in node order) reversed: a graph
/// without cycles, sorted and without duplicates or self-links.
fn acyclic(n: usize, links: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut succs = vec![Vec::new(); n];
    for &(a, b) in links {
        if a != b {
            succs[a].push(b);
        }
    }
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; n];
    let mut dag = Vec::with_capacity(links.len());
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        state[start] = 1;
        let mut stack = vec![(start, 0usize)];
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if next < succs[v].len() {
                top.1 += 1;
                let w = succs[v][next];
                match state[w] {
                    0 => {
                        dag.push((v, w));
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => dag.push((w, v)),
                    _ => dag.push((v, w)),
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    dag.sort_unstable();
    dag.dedup();
    dag
}

/// Layer of each node: the longest path from a source, then each source moved down to just
/// above its highest successor (so a table referenced only from deep down sits near it).
fn ranks(n: usize, preds: &[Vec<usize>], succs: &[Vec<usize>]) -> Vec<usize> {
    let mut missing: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&v| missing[v] == 0).map(Reverse).collect();
    let mut rank = vec![0usize; n];
    let mut topo = Vec::with_capacity(n);
    while let Some(Reverse(v)) = ready.pop() {
        topo.push(v);
        for &s in &succs[v] {
            rank[s] = rank[s].max(rank[v] + 1);
            missing[s] -= 1;
            if missing[s] == 0 {
                ready.push(Reverse(s));
            }
        }
    }
    for &v in topo.iter().rev() {
        if preds[v].is_empty() {
            if let Some(lowest) = succs[v].iter().map(|&s| rank[s]).min() {
                rank[v] = lowest - 1;
            }
        }
    }
    rank
}

/// Orders each layer to reduce crossings: barycenter sweeps, alternately down and up, keeping
/// the best order seen.
fn order_layers(layers: &mut [Vec<usize>], up: &[Vec<usize>], down: &[Vec<usize>]) {
    let total = up.len();
    let mut pos = vec![0usize; total];
    let index = |layers: &[Vec<usize>], pos: &mut [usize]| {
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    index(layers, &mut pos);
    let mut best = crossings(layers, down, &pos);
    let mut best_layers = layers.to_vec();
    for sweep in 0..SWEEPS {
        if best == 0 {
            break;
        }
        let downwards = sweep % 2 == 0;
        let count = layers.len();
        for step in 1..count {
            let (li, adjacent, neighbours) = if downwards {
                (step, step - 1, up)
            } else {
                (count - 1 - step, count - step, down)
            };
            let adjacent_len = layers[adjacent].len().max(1) as f64;
            let own_len = layers[li].len().max(1) as f64;
            let mut keyed: Vec<(f64, usize, usize)> = layers[li]
                .iter()
                .map(|&v| {
                    let nb = &neighbours[v];
                    let key = if nb.is_empty() {
                        (pos[v] as f64 + 0.5) / own_len
                    } else {
                        nb.iter().map(|&u| pos[u] as f64 + 0.5).sum::<f64>()
                            / nb.len() as f64
                            / adjacent_len
                    };
                    (key, pos[v], v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for (i, &(_, _, v)) in keyed.iter().enumerate() {
                layers[li][i] = v;
                pos[v] = i;
            }
        }
        let c = crossings(layers, down, &pos);
        if c < best {
            best = c;
            best_layers.clone_from_slice(layers);
        }
    }
    layers.clone_from_slice(&best_layers);
}

/// Number of edge crossings between consecutive layers (Barth, Mutzel and Jünger's
/// accumulator-tree count of inversions).
fn crossings(layers: &[Vec<usize>], down: &[Vec<usize>], pos: &[usize]) -> u64 {
    let mut total = 0;
    for pair in layers.windows(2) {
        let mut ends: Vec<(usize, usize)> = pair[0]
            .iter()
            .flat_map(|&u| down[u].iter().map(move |&v| (pos[u], pos[v])))
            .collect();
        ends.sort_unstable();
        let size = pair[1].len() + 1;
        let mut tree = vec![0u64; size + 1];
        for (seen, (_, p)) in ends.into_iter().enumerate() {
            // Earlier edges that end to the right of this one cross it.
            let mut not_after = 0;
            let mut i = p + 1;
            while i > 0 {
                not_after += tree[i];
                i &= i - 1;
            }
            total += seen as u64 - not_after;
            let mut i = p + 1;
            while i <= size {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}

/// Left sides for boxes of `widths` in a row, in that order with at least `gap` between them,
/// as close to `desired` as possible (least squares, weighted by `weights`): pool adjacent
/// violators on the positions with the boxes' offsets taken out. Whole pixels.
fn isotonic(widths: &[f64], desired: &[f64], weights: &[f64], gap: f64) -> Vec<f64> {
    let mut offsets = Vec::with_capacity(widths.len());
    let mut o = 0.0;
    for w in widths {
        offsets.push(o);
        o += w + gap;
    }
    // Blocks of (weight, weighted sum, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for i in 0..widths.len() {
        blocks.push((weights[i], weights[i] * (desired[i] - offsets[i]), 1));
        while blocks.len() >= 2 {
            let b = blocks[blocks.len() - 1];
            let a = blocks[blocks.len() - 2];
            if a.1 / a.0 > b.1 / b.0 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(widths.len());
    for (weight, sum, count) in blocks {
        let s = (sum / weight).round();
        for _ in 0..count {
            out.push(s + offsets[out.len()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_keeps_order_and_gaps() {
        // Two boxes that both want x = 0 share the overlap; a third far right stays put.
        let x = isotonic(&[100.0, 100.0, 50.0], &[0.0, 0.0, 1000.0], &[1.0; 3], 10.0);
        assert_eq!(x, vec![-55.0, 55.0, 1000.0]);
    }

    #[test]
    fn crossings_are_counted() {
        // a b above, c d below; a-d and b-c cross once.
        let layers = vec![vec![0, 1], vec![2, 3]];
        let down = vec![vec![3], vec![2], vec![], vec![]];
        let pos = vec![0, 1, 0, 1];
        assert_eq!(crossings(&layers, &down, &pos), 1);
        let down = vec![vec![2], vec![3], vec![], vec![]];
        assert_eq!(crossings(&layers, &down, &pos), 0);
    }

    #[test]
    fn cycles_are_broken() {
        let dag = acyclic(3, &[(0, 1), (1, 2), (2, 0)]);
        assert_eq!(dag, vec![(0, 1), (0, 2), (1, 2)]);
    }

    #[test]
    fn sources_sit_just_above_their_children() {
        // 0 -> 1 -> 2 -> 3, and 4 -> 3: 4 goes to layer 2, not 0.
        let links = [(0, 1), (1, 2), (2, 3), (4, 3)];
        let mut preds = vec![Vec::new(); 5];
        let mut succs = vec![Vec::new(); 5];
        for &(a, b) in &links {
            succs[a].push(b);
            preds[b].push(a);
        }
        assert_eq!(ranks(5, &preds, &succs), vec![0, 1, 2, 3, 2]);
    }
}
