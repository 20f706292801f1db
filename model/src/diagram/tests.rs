//! The layout's promises on generated models: deterministic and order-independent, no two boxes
//! overlapping, an edge per relationship touching its boxes, priors kept exactly; and snapshots
//! of a small diagram's SVG.

use super::svg::{render, SvgOptions};
use super::*;
use crate::generate::generated_model;
use crate::types::tests::{sample, v2};
use crate::types::{Attribute, Relationship};
use crate::LogicalType;

/// A small deterministic generator (xorshift) for the extra links.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below.max(1) as u64) as usize
    }
}

/// `generated_model` with attribute counts cut to vary box heights, and about `n / 4` extra
/// relationships between random entities (cycles and self-references included).
fn random_model(n: usize, seed: u64) -> Model {
    let mut model = generated_model(n, 12, seed);
    let mut rng = Lcg(seed | 1);
    for e in &mut model.entities {
        let keep = 1 + rng.next(12);
        // Keep key and referencing attributes (the first ones) so that edges still attach.
        e.attributes.truncate(keep.max(e.primary_key.len() + 2));
    }
    for k in 0..n / 4 {
        let (a, b) = (rng.next(n), rng.next(n));
        let from = &model.entities[a];
        let to = &model.entities[b];
        model.relationships.push(Relationship {
            name: format!("extra_{k}"),
            from_entity: from.name.clone(),
            from_attributes: vec![from.attributes[0].name.clone()],
            to_entity: to.name.clone(),
            to_attributes: vec![to.attributes[0].name.clone()],
            cardinality: if k % 3 == 0 {
                Cardinality::OneToOne
            } else {
                Cardinality::ManyToOne
            },
            on_delete: Default::default(),
        });
    }
    model
}

/// Fails with the names of the first two boxes that overlap.
fn assert_no_overlap(d: &Diagram, what: &str) {
    let mut boxes: Vec<&EntityBox> = d.entities.iter().collect();
    boxes.sort_by(|a, b| a.rect.x.total_cmp(&b.rect.x));
    // Sorted by left side: only boxes starting before this one's right side can overlap it.
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            if b.rect.x >= a.rect.right() {
                break;
            }
            assert!(
                !a.rect.overlaps(&b.rect),
                "{what}: {} {:?} overlaps {} {:?}",
                a.name,
                a.rect,
                b.name,
                b.rect
            );
        }
    }
}

/// Every relationship between existing entities has one edge, orthogonal, whose ends lie on
/// the outlines of its two boxes, inside the bounds.
pub(crate) fn assert_edges(model: &Model, d: &Diagram, what: &str) {
    let drawable = model
        .relationships
        .iter()
        .filter(|r| model.entity(&r.from_entity).is_some() && model.entity(&r.to_entity).is_some())
        .count();
    assert_eq!(d.edges.len(), drawable, "{what}: an edge per relationship");
    for e in &d.edges {
        let from = d.entity(&e.from).expect("from box");
        let to = d.entity(&e.to).expect("to box");
        let (first, last) = (e.points[0], e.points[e.points.len() - 1]);
        assert!(from.rect.touches(first), "{what}: {e:?} leaves {from:?}");
        assert!(to.rect.touches(last), "{what}: {e:?} reaches {to:?}");
        assert_eq!(e.from_end.at, first);
        assert_eq!(e.to_end.at, last);
        for pair in e.points.windows(2) {
            assert!(
                pair[0].x == pair[1].x || pair[0].y == pair[1].y,
                "{what}: {e:?} has a slanted segment"
            );
        }
        for p in &e.points {
            let b = d.bounds;
            assert!(p.x >= b.x && p.x <= b.right() && p.y >= b.y && p.y <= b.bottom());
        }
    }
}

#[test]
fn same_model_same_coordinates_whatever_the_order() {
    let model = random_model(100, 7);
    let first = layout(&model, None);
    assert_eq!(first, layout(&model, None));
    // The same model with entities and relationships in another order.
    let mut shuffled = model.clone();
    shuffled.entities.reverse();
    shuffled.entities.rotate_left(17);
    shuffled.relationships.reverse();
    let second = layout(&shuffled, None);
    assert_eq!(first.positions(), second.positions());
    assert_eq!(first.bounds, second.bounds);
}

#[test]
fn no_overlap_at_every_size() {
    for (n, seed) in [(1, 1), (10, 2), (100, 3), (500, 4)] {
        let model = random_model(n, seed);
        let d = layout(&model, None);
        assert_eq!(d.entities.len(), n);
        assert_no_overlap(&d, &format!("random {n}"));
        assert_edges(&model, &d, &format!("random {n}"));
        let model = generated_model(n, 20, seed);
        let d = layout(&model, None);
        assert_no_overlap(&d, &format!("generated {n}"));
        assert_edges(&model, &d, &format!("generated {n}"));
    }
}

#[test]
fn a_large_model_is_roughly_sixteen_by_ten() {
    let d = layout(&generated_model(500, 20, 5), None);
    let ratio = d.bounds.width / d.bounds.height;
    assert!((0.8..=3.2).contains(&ratio), "{ratio} for {:?}", d.bounds);
}

#[test]
fn boxes_fit_their_text() {
    let model = sample();
    let d = layout(&model, None);
    for b in &d.entities {
        let e = model.entity(&b.name).expect("entity");
        assert_eq!(b.rows.len(), e.attributes.len());
        assert!(
            b.rect.width
                >= metric::columns_width(metric::text_columns(&b.label)) + 2.0 * metric::PADDING_X
        );
        for row in &b.rows {
            let right =
                b.columns.data_type + metric::columns_width(metric::text_columns(&row.type_label));
            assert!(right <= b.rect.width, "{} type overflows", row.attribute);
            assert!(row.y >= b.rect.y + metric::HEADER_HEIGHT);
            assert!(row.y + metric::ROW_HEIGHT <= b.rect.bottom());
        }
    }
    let loan = d.entity("loan").expect("loan");
    let member_id = loan
        .rows
        .iter()
        .find(|r| r.attribute == "member_id")
        .expect("member_id row");
    assert_eq!(member_id.marks, "FK");
    assert_eq!(loan.rows[0].marks, "PK");
}

#[test]
fn long_names_are_cut_to_the_metric() {
    let mut model = sample();
    model.entities[0].name = "x".repeat(10_000);
    model.entities[0].attributes[0].name = "y".repeat(500);
    let d = layout(&model, None);
    let b = &d.entities[0];
    assert_eq!(metric::text_columns(&b.label), metric::MAX_ENTITY_COLUMNS);
    assert!(b.label.ends_with('…'));
    assert!(b.rect.width < 600.0, "{:?}", b.rect);
}

#[test]
fn cardinality_at_both_ends() {
    let model = sample();
    let d = layout(&model, None);
    for e in &d.edges {
        let r = &model.relationships[e.relationship];
        match r.cardinality {
            Cardinality::ManyToOne => assert_eq!(e.from_end.kind, EndKind::ZeroOrMany),
            Cardinality::OneToOne => assert_eq!(e.from_end.kind, EndKind::ZeroOrOne),
            Cardinality::ManyToMany => assert_eq!(e.to_end.kind, EndKind::ZeroOrMany),
        }
        let nullable = model
            .entity(&r.from_entity)
            .and_then(|x| x.attribute(&r.from_attributes[0]))
            .expect("fk")
            .nullable;
        if r.cardinality != Cardinality::ManyToMany {
            let expected = if nullable {
                EndKind::ZeroOrOne
            } else {
                EndKind::One
            };
            assert_eq!(e.to_end.kind, expected, "{}", r.link());
        }
    }
}

#[test]
fn self_references_and_dangling_relationships() {
    let mut model = sample();
    let name = model.entities[0].name.clone();
    let key = model.entities[0].attributes[0].name.clone();
    model.relationships.push(Relationship {
        name: "self".into(),
        from_entity: name.clone(),
        from_attributes: vec![key.clone()],
        to_entity: name.clone(),
        to_attributes: vec![key],
        cardinality: Cardinality::ManyToOne,
        on_delete: Default::default(),
    });
    model.relationships.push(Relationship {
        name: "dangling".into(),
        from_entity: name,
        from_attributes: vec![],
        to_entity: "nowhere".into(),
        to_attributes: vec![],
        cardinality: Cardinality::ManyToOne,
        on_delete: Default::default(),
    });
    let d = layout(&model, None);
    assert_edges(&model, &d, "self reference");
    assert!(d.edges.iter().all(|e| e.to != "nowhere"));
    let empty = Model {
        entities: vec![],
        relationships: vec![],
        ..sample()
    };
    let d = layout(&empty, None);
    assert!(d.entities.is_empty() && d.edges.is_empty());
    assert!(render(&d, &SvgOptions::default()).contains("<svg"));
}

/// The parent's tables plus ten new ones, each referencing a parent table.
fn child_of(parent: &Model) -> Model {
    let mut child = parent.clone();
    let n = parent.entities.len();
    for k in 0..10 {
        let target = &parent.entities[(k * 37 + 11) % n];
        let name = format!("new_table_{k}");
        let mut entity = target.clone();
        entity.name = name.clone();
        entity.attributes.truncate(3);
        entity.attributes.push(Attribute {
            name: "parent_ref".into(),
            data_type: LogicalType::Uuid,
            nullable: false,
            default: None,
            description: String::new(),
            tags: vec![],
            auto_increment: false,
            native: None,
            case_insensitive: false,
        });
        entity.primary_key = vec![entity.attributes[0].name.clone()];
        entity.unique.clear();
        entity.indexes.clear();
        child.entities.push(entity);
        child.relationships.push(Relationship {
            name: format!("new_{k}"),
            from_entity: name,
            from_attributes: vec!["parent_ref".into()],
            to_entity: target.name.clone(),
            to_attributes: vec![target.primary_key[0].clone()],
            cardinality: Cardinality::ManyToOne,
            on_delete: Default::default(),
        });
    }
    child
}

#[test]
fn a_child_draft_keeps_its_parents_positions() {
    for n in [10, 100, 500] {
        let parent = random_model(n, 11);
        let parent_diagram = layout(&parent, None);
        let priors = parent_diagram.positions();
        let child = child_of(&parent);
        let d = layout(&child, Some(&priors));
        let moved = parent
            .entities
            .iter()
            .filter(|e| {
                let was = parent_diagram.entity(&e.name).expect("in parent").rect;
                let now = d.entity(&e.name).expect("in child").rect;
                (was.x, was.y) != (now.x, now.y)
            })
            .count();
        assert_eq!(moved, 0, "{n}: parent tables moved");
        assert_no_overlap(&d, &format!("child of {n}"));
        assert_edges(&child, &d, &format!("child of {n}"));
        // Each new table lands near the table it references.
        for r in &child.relationships[parent.relationships.len()..] {
            let a = d.entity(&r.from_entity).expect("new").rect;
            let b = d.entity(&r.to_entity).expect("target").rect;
            let gap_x = (a.x - b.right()).max(b.x - a.right()).max(0.0);
            let gap_y = (a.y - b.bottom()).max(b.y - a.bottom()).max(0.0);
            assert!(
                gap_x.max(gap_y) < 600.0,
                "{n}: {} is {gap_x},{gap_y} from {}",
                r.from_entity,
                r.to_entity
            );
        }
    }
}

#[test]
fn dragged_positions_are_kept_and_arrange_again_resets() {
    let model = random_model(30, 3);
    let auto = layout(&model, None);
    let mut positions = auto.positions();
    let dragged = model.entities[4].name.clone();
    positions.set(&dragged, Point { x: -5000.0, y: 7.5 });
    let d = layout(&model, Some(&positions));
    let b = d.entity(&dragged).expect("dragged box");
    assert_eq!((b.rect.x, b.rect.y), (-5000.0, 7.5));
    assert_eq!(d.positions(), positions);
    // Priors naming nothing of the model count as none.
    let mut stale = Positions::default();
    stale.set("gone", Point { x: 1.0, y: 1.0 });
    assert_eq!(layout(&model, Some(&stale)), auto);
    assert_eq!(layout(&model, None), auto);
}

#[test]
fn priors_for_few_tables_place_all_others_without_overlap() {
    let model = random_model(200, 9);
    let mut priors = Positions::default();
    priors.set(&model.entities[0].name, Point { x: 0.0, y: 0.0 });
    priors.set(&model.entities[1].name, Point { x: 400.0, y: 0.0 });
    let d = layout(&model, Some(&priors));
    assert_no_overlap(&d, "few priors");
    assert_edges(&model, &d, "few priors");
    assert_eq!(layout(&model, Some(&priors)), d);
}

/// The positions' JSON is a stored contract.
#[test]
fn positions_frozen_serialization() {
    let mut p = Positions::default();
    p.set("book", Point { x: 10.0, y: -2.5 });
    p.set("Author", Point { x: 0.0, y: 300.0 });
    let json = serde_json::to_string(&p).expect("serializes");
    assert_eq!(
        json,
        r#"{"Author":{"x":0.0,"y":300.0},"book":{"x":10.0,"y":-2.5}}"#
    );
    let back: Positions = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, p);
    assert_eq!(back.get("BOOK"), Some(Point { x: 10.0, y: -2.5 }));
    let ints: Positions = serde_json::from_str(r#"{"a":{"x":1,"y":2}}"#).expect("integers");
    assert_eq!(ints.get("a"), Some(Point { x: 1.0, y: 2.0 }));
}

#[test]
fn library_svg_snapshot() {
    let d = layout(&sample(), None);
    let svg = render(
        &d,
        &SvgOptions {
            highlight: None,
            title: Some("library v1".into()),
            legend: true,
        },
    );
    insta::assert_snapshot!(svg);
}

#[test]
fn library_review_svg_snapshot() {
    let (old, new) = (sample(), v2());
    let review = review_model(&old, &new);
    let priors = layout(&old, None).positions();
    let d = layout(&review, Some(&priors));
    let svg = render(
        &d,
        &SvgOptions {
            highlight: Some(Highlight::from_diff(&old, &new)),
            title: Some("library v1 → v2".into()),
            legend: true,
        },
    );
    assert!(svg.contains("dm-added") && svg.contains("dm-changed"));
    insta::assert_snapshot!(svg);
}

#[test]
fn a_viewport_shows_what_reaches_into_it() {
    let d = layout(&random_model(100, 5), None);
    let (all_boxes, all_edges) = d.visible(&d.bounds);
    assert_eq!(all_boxes.len(), d.entities.len());
    assert_eq!(all_edges.len(), d.edges.len());
    let first = d.entities[0].rect;
    let view = Rect {
        x: first.x + 1.0,
        y: first.y + 1.0,
        width: 10.0,
        height: 10.0,
    };
    let (boxes, edges) = d.visible(&view);
    assert!(boxes.contains(&0));
    assert!(boxes.len() < d.entities.len() / 4, "{boxes:?}");
    assert!(edges.len() < d.edges.len());
    for i in boxes {
        assert!(d.entities[i].rect.x <= view.right() && d.entities[i].rect.right() >= view.x);
    }
}

#[test]
fn a_renamed_table_keeps_its_place() {
    let old = sample();
    let mut new = old.clone();
    let before = new.entities[1].name.clone();
    let after = format!("{before}s");
    new.entities[1].name = after.clone();
    for r in &mut new.relationships {
        for name in [&mut r.from_entity, &mut r.to_entity] {
            if *name == before {
                *name = after.clone();
            }
        }
    }
    let drawn = layout(&old, None);
    let mut kept = drawn.positions();
    kept.set("drawn for another draft", Point { x: 1.0, y: 2.0 });
    let carried = kept.carried(&old, &new);
    assert_eq!(carried.get(&after), drawn.positions().get(&before));
    assert_eq!(carried.get(&before), None);
    assert_eq!(
        carried.get("drawn for another draft"),
        Some(Point { x: 1.0, y: 2.0 })
    );
    let d = layout(&new, Some(&carried));
    assert_eq!(d.entity(&after).map(|b| (b.rect.x, b.rect.y)), {
        let p = drawn.positions().get(&before).expect("placed");
        Some((p.x, p.y))
    });
    // Without a match an entity is dropped from the positions.
    let mut smaller = old.clone();
    let gone = smaller.entities.pop().expect("an entity").name;
    smaller
        .relationships
        .retain(|r| r.from_entity != gone && r.to_entity != gone);
    assert_eq!(drawn.positions().carried(&old, &smaller).get(&gone), None);
}
