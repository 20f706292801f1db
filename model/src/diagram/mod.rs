//! The ER diagram of a model: where each entity's box goes, how each relationship is drawn, and
//! an SVG rendering of it (issue 14).
//!
//! A *box* is an entity drawn as a rectangle: a header with the entity's name, then one *row*
//! per attribute with its key *marks* (`PK` primary key, `FK` foreign key, `UK` unique alone),
//! its name, its type and `NULL` when it is nullable. Boxes are sized from their text with the
//! fixed metric of [`metric`]. An *edge* is a relationship drawn as an orthogonal polyline from
//! the side of the referencing box, at the row of its first foreign-key attribute, to the side
//! of the referenced box, at the row of the first referenced attribute; each *end* carries the
//! relationship's cardinality on that side ([`EndKind`], drawn as crow's-foot notation).
//!
//! [`layout`] computes a [`Diagram`], the one source of geometry: the browser draws it and
//! [`svg::render`] writes it. It is deterministic and independent of the order of entities and
//! relationships in the model (everything is processed in the order of entity names), so the
//! same model always gives the same coordinates, in the browser, on the server and in the CLI.
//! *Positions* ([`Positions`]) are the top-left corners of boxes by entity name: what the app
//! keeps per domain (from a layout, or dragged by hand) and passes back as *priors*. An entity
//! with a prior keeps it exactly; only the others are placed (module `place`), near the entities
//! they relate to when there are any, in free space otherwise, never overlapping another box.
//! Without priors (a first draft, or "arrange again") the whole model is laid out by module
//! `sugiyama`.

pub mod highlight;
pub mod metric;
mod place;
mod sugiyama;
pub mod svg;

use crate::types::{Cardinality, Entity, Model};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

pub use highlight::{review_model, Highlight, Link, Mark};

/// Horizontal length of an edge's end segments, where the cardinality markers are drawn.
pub const STUB: f64 = 24.0;
/// Empty space kept around the drawing, inside [`Diagram::bounds`].
pub const MARGIN: f64 = 24.0;

/// A point in diagram coordinates (pixels, y downwards).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// An axis-aligned rectangle: top-left corner and size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.width
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }

    /// True when the two rectangles share some area (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// True when `p` lies on the rectangle's outline (within a thousandth of a pixel).
    pub fn touches(&self, p: Point) -> bool {
        const E: f64 = 1e-3;
        let within_x = p.x >= self.x - E && p.x <= self.right() + E;
        let within_y = p.y >= self.y - E && p.y <= self.bottom() + E;
        let on_vertical = (p.x - self.x).abs() < E || (p.x - self.right()).abs() < E;
        let on_horizontal = (p.y - self.y).abs() < E || (p.y - self.bottom()).abs() < E;
        within_x && within_y && (on_vertical || on_horizontal)
    }
}

/// Top-left corners of entity boxes by entity name: the positions the app keeps per domain.
///
/// Its JSON form is an object from entity name to `{"x": .., "y": ..}`, keys in name order; it
/// is a stored contract (IndexedDB, sync), pinned by a frozen-serialization test.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Positions(pub BTreeMap<String, Point>);

impl Positions {
    /// The position kept for `name`: its exact spelling first, else the first name equal to it
    /// ignoring ASCII case (entity names are matched so across the core).
    pub fn get(&self, name: &str) -> Option<Point> {
        if let Some(p) = self.0.get(name) {
            return Some(*p);
        }
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, p)| *p)
    }

    /// Sets the position of `name` (a box dragged by hand).
    pub fn set(&mut self, name: &str, at: Point) {
        self.0.insert(name.to_string(), at);
    }

    /// The positions of `old`'s entities carried over to `new`: an entity that `new` renamed
    /// (as the diff detects renames, [`crate::diff::match_models`]) keeps its box's place under
    /// its new name; positions of entities `new` dropped are left out, and positions that name
    /// no entity of `old` (kept by hand for another draft) are kept as they are.
    pub fn carried(&self, old: &Model, new: &Model) -> Positions {
        let matching = crate::diff::match_models(old, new);
        let mut out = Positions::default();
        for (name, at) in &self.0 {
            let Some(i) = old
                .entities
                .iter()
                .position(|e| e.name.eq_ignore_ascii_case(name))
            else {
                out.0.insert(name.clone(), *at);
                continue;
            };
            if let Some(m) = matching.entities[i] {
                out.0.insert(new.entities[m.index].name.clone(), *at);
            }
        }
        out
    }
}

/// The geometry of a model's diagram: what the browser draws and the SVG renderer writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diagram {
    /// One box per entity, in model order.
    pub entities: Vec<EntityBox>,
    /// One edge per relationship whose two entities exist, in model order.
    pub edges: Vec<Edge>,
    /// Everything drawn (boxes and edges) with [`MARGIN`] around it.
    pub bounds: Rect,
}

/// One entity's box.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityBox {
    /// The entity's name as the model spells it.
    pub name: String,
    /// The header text: the name, cut to [`metric::MAX_ENTITY_COLUMNS`].
    pub label: String,
    pub rect: Rect,
    /// Left edges of the row's text columns, relative to `rect.x`.
    pub columns: Columns,
    /// One row per attribute, in the entity's order.
    pub rows: Vec<Row>,
}

/// Left edges of a box's text columns, relative to the box's left side. A column no row uses
/// (no key marks, nothing nullable) has no width, and the next starts where it would have.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Columns {
    pub marks: f64,
    pub name: f64,
    pub data_type: f64,
    pub null: f64,
}

/// One attribute's row in a box.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The attribute's name as the model spells it.
    pub attribute: String,
    /// Top of the row, absolute; the row is [`metric::ROW_HEIGHT`] high.
    pub y: f64,
    /// `PK`, `FK`, `UK` or several of them separated by spaces, or empty.
    pub marks: String,
    /// The name, cut to [`metric::MAX_ATTRIBUTE_COLUMNS`].
    pub label: String,
    /// The logical type, cut to [`metric::MAX_TYPE_COLUMNS`].
    pub type_label: String,
    pub nullable: bool,
}

/// One relationship's line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Index of the relationship in the model.
    pub relationship: usize,
    /// The referencing entity (`from_entity`) and the referenced one (`to_entity`).
    pub from: String,
    pub to: String,
    /// The relationship's attributes on each side, as the model lists them.
    pub from_attributes: Vec<String>,
    pub to_attributes: Vec<String>,
    /// The polyline, from a point on the referencing box's outline to a point on the
    /// referenced box's outline; segments are horizontal or vertical.
    pub points: Vec<Point>,
    /// The end at the referencing box (the first point).
    pub from_end: EdgeEnd,
    /// The end at the referenced box (the last point).
    pub to_end: EdgeEnd,
}

/// One end of an edge: where it meets its box, which way it leaves it, and its cardinality.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeEnd {
    pub at: Point,
    /// +1 when the edge leaves the box to the right, -1 to the left.
    pub direction: f64,
    pub kind: EndKind,
}

/// How many rows on this end may be linked to one row on the other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    /// Exactly one (`||`).
    One,
    /// Zero or one (`o|`).
    ZeroOrOne,
    /// Zero or more (`o<`, crow's foot).
    ZeroOrMany,
}

impl Diagram {
    /// The boxes' top-left corners by entity name: what to keep after a layout.
    pub fn positions(&self) -> Positions {
        Positions(
            self.entities
                .iter()
                .map(|b| {
                    (
                        b.name.clone(),
                        Point {
                            x: b.rect.x,
                            y: b.rect.y,
                        },
                    )
                })
                .collect(),
        )
    }

    /// What a viewport shows: indices of the boxes and of the edges that reach into `view`
    /// (an edge by the bounding box of its points), in diagram order. For drawing only what is
    /// on screen.
    pub fn visible(&self, view: &Rect) -> (Vec<usize>, Vec<usize>) {
        let reaches = |r: &Rect| {
            r.x <= view.right()
                && view.x <= r.right()
                && r.y <= view.bottom()
                && view.y <= r.bottom()
        };
        let boxes = (0..self.entities.len())
            .filter(|&i| reaches(&self.entities[i].rect))
            .collect();
        let edges = (0..self.edges.len())
            .filter(|&i| {
                let points = &self.edges[i].points;
                let (mut x0, mut y0) = (f64::INFINITY, f64::INFINITY);
                let (mut x1, mut y1) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
                for p in points {
                    x0 = x0.min(p.x);
                    y0 = y0.min(p.y);
                    x1 = x1.max(p.x);
                    y1 = y1.max(p.y);
                }
                reaches(&Rect {
                    x: x0,
                    y: y0,
                    width: x1 - x0,
                    height: y1 - y0,
                })
            })
            .collect();
        (boxes, edges)
    }

    /// The box of the entity `name` (ASCII case ignored).
    pub fn entity(&self, name: &str) -> Option<&EntityBox> {
        self.entities
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(name))
    }
}

/// Lays `model` out: entities with a position in `priors` keep it exactly, the others are
/// placed without overlapping any box; with no priors (or none that names an entity of the
/// model) the whole model is arranged anew. Deterministic and independent of the order of the
/// model's entities and relationships.
pub fn layout(model: &Model, priors: Option<&Positions>) -> Diagram {
    // Referencing attributes by entity, lower-cased, found once for all boxes.
    let mut foreign: HashMap<String, HashSet<String>> = HashMap::new();
    for r in &model.relationships {
        foreign
            .entry(r.from_entity.to_ascii_lowercase())
            .or_default()
            .extend(r.from_attributes.iter().map(|a| a.to_ascii_lowercase()));
    }
    let no_keys = HashSet::new();
    let sized: Vec<EntityBox> = model
        .entities
        .iter()
        .map(|e| {
            let keys = foreign
                .get(&e.name.to_ascii_lowercase())
                .unwrap_or(&no_keys);
            sized_box(e, keys)
        })
        .collect();
    // Canonical order: by name (lower-cased, then as spelled, then model position for equal
    // names), so the layout does not depend on the order of the model.
    let mut order: Vec<usize> = (0..sized.len()).collect();
    order.sort_by_cached_key(|&i| {
        let name = &model.entities[i].name;
        (name.to_ascii_lowercase(), name.clone(), i)
    });
    let mut canonical = vec![0; sized.len()];
    for (c, &i) in order.iter().enumerate() {
        canonical[i] = c;
    }
    let by_name = name_index(model);
    let mut links: Vec<(usize, usize)> = model
        .relationships
        .iter()
        .filter_map(|r| {
            let from = *by_name.get(&r.from_entity.to_ascii_lowercase())?;
            let to = *by_name.get(&r.to_entity.to_ascii_lowercase())?;
            // Referenced entities go above the ones that reference them.
            Some((canonical[to], canonical[from]))
        })
        .collect();
    links.sort_unstable();
    links.dedup();
    let sizes: Vec<(f64, f64)> = order
        .iter()
        .map(|&i| (sized[i].rect.width, sized[i].rect.height))
        .collect();
    let fixed: Vec<Option<Point>> = order
        .iter()
        .map(|&i| priors.and_then(|p| p.get(&model.entities[i].name)))
        .collect();
    let placed = if fixed.iter().all(Option::is_none) {
        sugiyama::arrange(&sizes, &links)
    } else {
        place::place(&sizes, &links, &fixed)
    };
    let mut boxes = sized;
    for (c, &i) in order.iter().enumerate() {
        move_box(&mut boxes[i], placed[c]);
    }
    let grid = BoxGrid::new(&boxes);
    let mut edges = model
        .relationships
        .iter()
        .enumerate()
        .filter_map(|(index, r)| {
            let from = *by_name.get(&r.from_entity.to_ascii_lowercase())?;
            let to = *by_name.get(&r.to_entity.to_ascii_lowercase())?;
            Some(route(index, &boxes, &grid, (from, to), model))
        })
        .collect::<Vec<_>>();
    spread_lanes(&mut edges);
    let bounds = bounds(&boxes, &edges);
    Diagram {
        entities: boxes,
        edges,
        bounds,
    }
}

/// Entity index by lower-cased name; the first entity of a name spelled twice.
fn name_index(model: &Model) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for (i, e) in model.entities.iter().enumerate() {
        map.entry(e.name.to_ascii_lowercase()).or_insert(i);
    }
    map
}

/// The box of `entity` at the origin, sized from its text; `foreign` holds its referencing
/// attributes, lower-cased.
fn sized_box(entity: &Entity, foreign: &HashSet<String>) -> EntityBox {
    use metric::*;
    let unique_alone = |name: &str| {
        let alone = |attrs: &[String]| attrs.len() == 1 && attrs[0].eq_ignore_ascii_case(name);
        entity.unique.iter().any(|u| alone(u))
            || entity
                .indexes
                .iter()
                .any(|i| i.unique && alone(&i.attributes))
    };
    let mut rows: Vec<Row> = entity
        .attributes
        .iter()
        .map(|a| {
            let key = entity.is_key(&a.name);
            let mut marks = Vec::new();
            if key {
                marks.push("PK");
            }
            if foreign.contains(&a.name.to_ascii_lowercase()) {
                marks.push("FK");
            }
            if !key && unique_alone(&a.name) {
                marks.push("UK");
            }
            Row {
                attribute: a.name.clone(),
                y: 0.0,
                marks: marks.join(" "),
                label: fit(&a.name, MAX_ATTRIBUTE_COLUMNS),
                type_label: fit(&a.data_type.to_string(), MAX_TYPE_COLUMNS),
                nullable: a.nullable,
            }
        })
        .collect();
    let widest = |f: &dyn Fn(&Row) -> usize| rows.iter().map(f).max().unwrap_or(0);
    let marks = widest(&|r| text_columns(&r.marks));
    let names = widest(&|r| text_columns(&r.label));
    let types = widest(&|r| text_columns(&r.type_label));
    let nulls = if rows.iter().any(|r| r.nullable) {
        4
    } else {
        0
    };
    // Each used column is followed by a gap, the last one excepted.
    let step = |columns: usize| {
        if columns == 0 {
            0.0
        } else {
            columns_width(columns) + COLUMN_GAP
        }
    };
    let columns = Columns {
        marks: PADDING_X,
        name: PADDING_X + step(marks),
        data_type: PADDING_X + step(marks) + step(names),
        null: PADDING_X + step(marks) + step(names) + step(types),
    };
    let content = columns.null + columns_width(nulls) + PADDING_X;
    let label = fit(&entity.name, MAX_ENTITY_COLUMNS);
    let width = content
        .max(columns_width(text_columns(&label)) + 2.0 * PADDING_X)
        .max(MIN_WIDTH)
        .ceil();
    for (i, row) in rows.iter_mut().enumerate() {
        row.y = HEADER_HEIGHT + i as f64 * ROW_HEIGHT;
    }
    let height = HEADER_HEIGHT + rows.len() as f64 * ROW_HEIGHT + BOTTOM_PADDING;
    EntityBox {
        name: entity.name.clone(),
        label,
        rect: Rect {
            x: 0.0,
            y: 0.0,
            width,
            height,
        },
        columns,
        rows,
    }
}

/// Moves a box (and its rows) so that its top-left corner is `to`.
fn move_box(b: &mut EntityBox, to: Point) {
    let dy = to.y - b.rect.y;
    b.rect.x = to.x;
    b.rect.y = to.y;
    for row in &mut b.rows {
        row.y += dy;
    }
}

/// The y of the middle of the row of the first of `attributes`, or of the header.
fn attach_y(b: &EntityBox, attributes: &[String]) -> f64 {
    attributes
        .first()
        .and_then(|a| b.rows.iter().find(|r| r.attribute.eq_ignore_ascii_case(a)))
        .map_or(b.rect.y + metric::HEADER_HEIGHT / 2.0, |r| {
            r.y + metric::ROW_HEIGHT / 2.0
        })
}

/// The edge of relationship `index` from box `from` (referencing) to box `to` (referenced).
fn route(
    index: usize,
    boxes: &[EntityBox],
    grid: &BoxGrid,
    (from, to): (usize, usize),
    model: &Model,
) -> Edge {
    let r = &model.relationships[index];
    let (a, b) = (&boxes[from], &boxes[to]);
    let same = from == to;
    let ya = attach_y(a, &r.from_attributes);
    let mut yb = attach_y(b, &r.to_attributes);
    let (ra, rb) = (&a.rect, &b.rect);
    if same && (ya - yb).abs() < 1e-9 {
        // A self-reference from a key to itself: come back in at the header.
        yb = rb.y + metric::HEADER_HEIGHT / 2.0;
    }
    // Candidate routes: which side each end leaves from, and the x of the vertical segment.
    // Facing sides when there is room for both markers between the boxes, else (or besides)
    // both ends on the left or both on the right, outside both boxes.
    let mut candidates: Vec<(f64, f64, f64, f64, f64)> = Vec::with_capacity(3);
    if same {
        candidates.push((ra.right(), 1.0, rb.right(), 1.0, ra.right() + STUB));
    } else {
        if ra.right() + 2.0 * STUB <= rb.x {
            let xm = ((ra.right() + rb.x) / 2.0).round();
            candidates.push((ra.right(), 1.0, rb.x, -1.0, xm));
        } else if rb.right() + 2.0 * STUB <= ra.x {
            let xm = ((rb.right() + ra.x) / 2.0).round();
            candidates.push((ra.x, -1.0, rb.right(), 1.0, xm));
        }
        let left = ra.x.min(rb.x) - STUB;
        let right = ra.right().max(rb.right()) + STUB;
        candidates.push((ra.x, -1.0, rb.x, -1.0, left));
        candidates.push((ra.right(), 1.0, rb.right(), 1.0, right));
    }
    // The route that crosses the fewest boxes, then the shortest, then the first.
    let polyline = |&(xa, _, xb, _, xm): &(f64, f64, f64, f64, f64)| {
        [
            Point { x: xa, y: ya },
            Point { x: xm, y: ya },
            Point { x: xm, y: yb },
            Point { x: xb, y: yb },
        ]
    };
    let mut best: Option<((usize, f64), usize)> = None;
    for (i, c) in candidates.iter().enumerate() {
        let points = polyline(c);
        let crossed = grid.crossed(&points, boxes);
        let length = (points[1].x - points[0].x).abs()
            + (points[2].y - points[1].y).abs()
            + (points[3].x - points[2].x).abs();
        let score = (crossed, length);
        if best.is_none_or(|(b, _)| score.0 < b.0 || (score.0 == b.0 && score.1 < b.1)) {
            best = Some((score, i));
        }
    }
    let chosen = candidates[best.map_or(0, |(_, i)| i)];
    let (xa, da, xb, db, _) = chosen;
    let points = polyline(&chosen).to_vec();
    let from_entity = &model.entities[from];
    let optional = !r.from_attributes.is_empty()
        && r.from_attributes
            .iter()
            .all(|n| from_entity.attribute(n).is_some_and(|a| a.nullable));
    let parent = if optional {
        EndKind::ZeroOrOne
    } else {
        EndKind::One
    };
    let (from_kind, to_kind) = match r.cardinality {
        Cardinality::ManyToOne => (EndKind::ZeroOrMany, parent),
        Cardinality::OneToOne => (EndKind::ZeroOrOne, parent),
        Cardinality::ManyToMany => (EndKind::ZeroOrMany, EndKind::ZeroOrMany),
    };
    Edge {
        relationship: index,
        from: a.name.clone(),
        to: b.name.clone(),
        from_attributes: r.from_attributes.clone(),
        to_attributes: r.to_attributes.clone(),
        points,
        from_end: EdgeEnd {
            at: Point { x: xa, y: ya },
            direction: da,
            kind: from_kind,
        },
        to_end: EdgeEnd {
            at: Point { x: xb, y: yb },
            direction: db,
            kind: to_kind,
        },
    }
}

/// The boxes by the cells of a coarse grid, to find the boxes a route crosses.
struct BoxGrid {
    cells: HashMap<(i64, i64), Vec<usize>>,
}

/// Side of a [`BoxGrid`] cell.
const GRID_CELL: f64 = 256.0;

impl BoxGrid {
    fn new(boxes: &[EntityBox]) -> BoxGrid {
        let mut cells: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (i, b) in boxes.iter().enumerate() {
            let (x0, y0, x1, y1) =
                BoxGrid::span(b.rect.x, b.rect.y, b.rect.right(), b.rect.bottom());
            for cx in x0..=x1 {
                for cy in y0..=y1 {
                    cells.entry((cx, cy)).or_default().push(i);
                }
            }
        }
        BoxGrid { cells }
    }

    fn span(x0: f64, y0: f64, x1: f64, y1: f64) -> (i64, i64, i64, i64) {
        let cell = |v: f64| (v / GRID_CELL).floor() as i64;
        (cell(x0), cell(y0), cell(x1), cell(y1))
    }

    /// How many boxes the polyline's segments pass through (running along or ending on an
    /// outline does not count).
    fn crossed(&self, points: &[Point], boxes: &[EntityBox]) -> usize {
        let mut hit: Vec<usize> = Vec::new();
        for pair in points.windows(2) {
            let (p, q) = (pair[0], pair[1]);
            let (x0, x1) = (p.x.min(q.x), p.x.max(q.x));
            let (y0, y1) = (p.y.min(q.y), p.y.max(q.y));
            let (cx0, cy0, cx1, cy1) = BoxGrid::span(x0, y0, x1, y1);
            for cx in cx0..=cx1 {
                for cy in cy0..=cy1 {
                    for &i in self.cells.get(&(cx, cy)).map_or(&[][..], Vec::as_slice) {
                        let r = &boxes[i].rect;
                        // Segments are horizontal or vertical: one crosses a box when it
                        // runs through its inside, not along or up to its outline.
                        let crosses = if x0 == x1 {
                            x0 > r.x && x0 < r.right() && y0 < r.bottom() && y1 > r.y
                        } else {
                            y0 > r.y && y0 < r.bottom() && x0 < r.right() && x1 > r.x
                        };
                        if crosses && !hit.contains(&i) {
                            hit.push(i);
                        }
                    }
                }
            }
        }
        hit.len()
    }
}

/// Space between the vertical segments of edges that would otherwise run on one line.
const LANE: f64 = 5.0;
/// Length of a marker along its edge, plus one pixel: a bend never comes closer to a box.
const MARKER_ROOM: f64 = 22.0;

/// Moves apart the vertical segments of edges that share one x, so that each can be followed:
/// an edge between facing sides moves within the room its markers leave, an edge outside both
/// boxes moves further out. Edges sharing an x are taken by the top of their vertical segment,
/// then by relationship.
fn spread_lanes(edges: &mut [Edge]) {
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, e) in edges.iter().enumerate() {
        groups
            .entry(e.points[1].x.round() as i64)
            .or_default()
            .push(i);
    }
    for (_, mut group) in groups {
        if group.len() < 2 {
            continue;
        }
        let top = |e: &Edge| e.points[1].y.min(e.points[2].y);
        group.sort_by(|&a, &b| {
            top(&edges[a])
                .total_cmp(&top(&edges[b]))
                .then(edges[a].relationship.cmp(&edges[b].relationship))
        });
        let middle = (group.len() - 1) as f64 / 2.0;
        for (lane, &i) in group.iter().enumerate() {
            let e = &mut edges[i];
            let xm = e.points[1].x;
            let shift = if e.from_end.direction != e.to_end.direction {
                let room =
                    ((xm - e.from_end.at.x).abs()).min((xm - e.to_end.at.x).abs()) - MARKER_ROOM;
                ((lane as f64 - middle) * LANE).clamp(-room.max(0.0), room.max(0.0))
            } else {
                e.from_end.direction * lane as f64 * LANE
            };
            e.points[1].x = xm + shift;
            e.points[2].x = xm + shift;
        }
    }
}

/// Everything drawn, with [`MARGIN`] around it; an empty diagram is a margin-sized square.
fn bounds(boxes: &[EntityBox], edges: &[Edge]) -> Rect {
    let mut min = (f64::INFINITY, f64::INFINITY);
    let mut max = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut add = |x: f64, y: f64| {
        min = (min.0.min(x), min.1.min(y));
        max = (max.0.max(x), max.1.max(y));
    };
    for b in boxes {
        add(b.rect.x, b.rect.y);
        add(b.rect.right(), b.rect.bottom());
    }
    for e in edges {
        for p in &e.points {
            add(p.x, p.y);
        }
    }
    if boxes.is_empty() {
        return Rect {
            x: 0.0,
            y: 0.0,
            width: 2.0 * MARGIN,
            height: 2.0 * MARGIN,
        };
    }
    Rect {
        x: min.0 - MARGIN,
        y: min.1 - MARGIN,
        width: max.0 - min.0 + 2.0 * MARGIN,
        height: max.1 - min.1 + 2.0 * MARGIN,
    }
}

#[cfg(test)]
mod tests;
