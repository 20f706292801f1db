//! Placing the boxes that have no prior position among those that have one.
//!
//! A *fixed* box has a prior position and keeps it exactly. A *new* box linked to a placed box
//! (fixed, or new and placed before it) goes to the free spot nearest to the mean centre of its
//! placed neighbours, searched on a 16-pixel grid in growing rings and kept [`SPACE`] away from
//! every other box; new boxes are taken breadth first from the fixed ones, in node order. New
//! boxes linked to nothing placed (and any beyond the first [`NEAR_LIMIT`], which would make
//! the ring search slow) are laid out together by [`super::sugiyama::arrange`] and the block goes
//! to the right of everything, in free space by construction. Fixed boxes may overlap each other
//! (a box that grew since its position was kept); new boxes never overlap anything.

use super::sugiyama::{arrange, BLOCK_GAP};
use super::{Point, Rect};
use std::collections::{HashMap, VecDeque};

/// Least space between a new box and any other.
const SPACE: f64 = 24.0;
/// Step of the free-spot search.
const STEP: f64 = 16.0;
/// Largest ring searched (about 6,400 pixels out).
const MAX_RING: i64 = 400;
/// Most new boxes placed one by one near their neighbours.
const NEAR_LIMIT: usize = 200;
/// Side of a cell of the occupancy grid.
const CELL: f64 = 256.0;

/// Top-left corners of boxes of `sizes`: `fixed` ones where they are, the others placed.
pub(crate) fn place(
    sizes: &[(f64, f64)],
    links: &[(usize, usize)],
    fixed: &[Option<Point>],
) -> Vec<Point> {
    let n = sizes.len();
    let rect = |v: usize, p: Point| Rect {
        x: p.x,
        y: p.y,
        width: sizes[v].0,
        height: sizes[v].1,
    };
    let mut at: Vec<Option<Point>> = fixed.to_vec();
    let mut grid = Occupancy::default();
    for (v, p) in at.iter().enumerate() {
        if let Some(p) = p {
            grid.insert(rect(v, *p));
        }
    }
    let mut neighbours = vec![Vec::new(); n];
    for &(a, b) in links {
        if a != b {
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
    }
    let mut queued = vec![false; n];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for v in 0..n {
        if at[v].is_none() && neighbours[v].iter().any(|&u| at[u].is_some()) {
            queued[v] = true;
            queue.push_back(v);
        }
    }
    let mut placed_near = 0;
    while let Some(v) = queue.pop_front() {
        if placed_near >= NEAR_LIMIT {
            break;
        }
        let (sum, count) = neighbours[v]
            .iter()
            .filter_map(|&u| at[u].map(|p| (u, p)))
            .fold(((0.0, 0.0), 0usize), |((sx, sy), c), (u, p)| {
                (
                    (sx + p.x + sizes[u].0 / 2.0, sy + p.y + sizes[u].1 / 2.0),
                    c + 1,
                )
            });
        let want = Point {
            x: (sum.0 / count as f64 - sizes[v].0 / 2.0).round(),
            y: (sum.1 / count as f64 - sizes[v].1 / 2.0).round(),
        };
        let Some(spot) = grid.nearest_free(want, sizes[v]) else {
            continue;
        };
        at[v] = Some(spot);
        grid.insert(rect(v, spot));
        placed_near += 1;
        for &u in &neighbours[v] {
            if at[u].is_none() && !queued[u] {
                queued[u] = true;
                queue.push_back(u);
            }
        }
    }
    // The rest: laid out together, to the right of everything placed.
    let rest: Vec<usize> = (0..n).filter(|&v| at[v].is_none()).collect();
    if !rest.is_empty() {
        let mut local = vec![usize::MAX; n];
        for (i, &v) in rest.iter().enumerate() {
            local[v] = i;
        }
        let rest_links: Vec<(usize, usize)> = links
            .iter()
            .filter(|&&(a, b)| local[a] != usize::MAX && local[b] != usize::MAX)
            .map(|&(a, b)| (local[a], local[b]))
            .collect();
        let rest_sizes: Vec<(f64, f64)> = rest.iter().map(|&v| sizes[v]).collect();
        let points = arrange(&rest_sizes, &rest_links);
        let (left, top) = (grid.right + BLOCK_GAP, grid.top);
        for (&v, p) in rest.iter().zip(points) {
            at[v] = Some(Point {
                x: left + p.x,
                y: top + p.y,
            });
        }
    }
    at.into_iter()
        .map(|p| p.unwrap_or(Point { x: 0.0, y: 0.0 }))
        .collect()
}

/// The boxes placed so far, found by grid cell.
struct Occupancy {
    rects: Vec<Rect>,
    cells: HashMap<(i64, i64), Vec<usize>>,
    /// Rightmost and topmost extent of everything placed.
    right: f64,
    top: f64,
}

impl Default for Occupancy {
    fn default() -> Self {
        Occupancy {
            rects: Vec::new(),
            cells: HashMap::new(),
            right: f64::NEG_INFINITY,
            top: f64::INFINITY,
        }
    }
}

impl Occupancy {
    fn cell_range(r: &Rect) -> (i64, i64, i64, i64) {
        (
            (r.x / CELL).floor() as i64,
            (r.y / CELL).floor() as i64,
            (r.right() / CELL).floor() as i64,
            (r.bottom() / CELL).floor() as i64,
        )
    }

    fn insert(&mut self, r: Rect) {
        let i = self.rects.len();
        self.rects.push(r);
        self.right = self.right.max(r.right());
        self.top = self.top.min(r.y);
        let (x0, y0, x1, y1) = Occupancy::cell_range(&r);
        for cx in x0..=x1 {
            for cy in y0..=y1 {
                self.cells.entry((cx, cy)).or_default().push(i);
            }
        }
    }

    /// True when `r`, grown by [`SPACE`] on every side, overlaps nothing placed.
    fn free(&self, r: &Rect) -> bool {
        let grown = Rect {
            x: r.x - SPACE,
            y: r.y - SPACE,
            width: r.width + 2.0 * SPACE,
            height: r.height + 2.0 * SPACE,
        };
        let (x0, y0, x1, y1) = Occupancy::cell_range(&grown);
        for cx in x0..=x1 {
            for cy in y0..=y1 {
                if let Some(list) = self.cells.get(&(cx, cy)) {
                    if list.iter().any(|&i| self.rects[i].overlaps(&grown)) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// The free top-left corner for a box of `size` nearest to `want`, on a [`STEP`] grid
    /// around it; `None` when nothing within [`MAX_RING`] steps is free.
    fn nearest_free(&self, want: Point, size: (f64, f64)) -> Option<Point> {
        let mut best: Option<(i64, Point)> = None;
        for ring in 0..=MAX_RING {
            // A spot on a later ring is at least `ring` steps away.
            if best.is_some_and(|(d, _)| d < ring * ring) {
                break;
            }
            for (dx, dy) in ring_steps(ring) {
                let d = dx * dx + dy * dy;
                if best.is_some_and(|(b, _)| b <= d) {
                    continue;
                }
                let p = Point {
                    x: want.x + dx as f64 * STEP,
                    y: want.y + dy as f64 * STEP,
                };
                let r = Rect {
                    x: p.x,
                    y: p.y,
                    width: size.0,
                    height: size.1,
                };
                if self.free(&r) {
                    best = Some((d, p));
                }
            }
        }
        best.map(|(_, p)| p)
    }
}

/// The grid steps at Chebyshev distance `ring` from the origin, in a fixed order.
fn ring_steps(ring: i64) -> Vec<(i64, i64)> {
    if ring == 0 {
        return vec![(0, 0)];
    }
    let mut out = Vec::with_capacity(8 * ring as usize);
    for dx in -ring..=ring {
        out.push((dx, -ring));
        out.push((dx, ring));
    }
    for dy in -ring + 1..ring {
        out.push((-ring, dy));
        out.push((ring, dy));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_box_goes_beside_its_neighbour_without_touching_it() {
        let sizes = [(100.0, 100.0), (80.0, 60.0)];
        let fixed = [Some(Point { x: 0.0, y: 0.0 }), None];
        let at = place(&sizes, &[(0, 1)], &fixed);
        assert_eq!(at[0], Point { x: 0.0, y: 0.0 });
        let new = Rect {
            x: at[1].x,
            y: at[1].y,
            width: 80.0,
            height: 60.0,
        };
        let old = Rect {
            x: -SPACE,
            y: -SPACE,
            width: 100.0 + 2.0 * SPACE,
            height: 100.0 + 2.0 * SPACE,
        };
        assert!(!new.overlaps(&old), "{new:?}");
        // Near: within a box's size of the neighbour.
        assert!(at[1].x.abs() < 250.0 && at[1].y.abs() < 250.0, "{at:?}");
    }

    #[test]
    fn ring_steps_cover_the_ring_once() {
        let ring = ring_steps(3);
        assert_eq!(ring.len(), 24);
        let mut sorted = ring.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 24);
        assert!(ring.iter().all(|&(x, y)| x.abs().max(y.abs()) == 3));
    }
}
