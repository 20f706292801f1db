//! `ops::apply` against the implementation it replaced (issue 13).
//!
//! `apply` copied the whole model for every operation, so that a refused operation left nothing
//! behind; it now copies the model once, checks each operation before performing it, and
//! performs only what passed. The *reference* below is the old implementation, kept verbatim
//! but for its name, and only here: on generated models and change sets, shuffled,
//! repeated, interleaved with refused operations and cut to subsets, both must give the same
//! model and the same outcomes, and a refused operation must leave the model as the operations
//! before it left it.

use model::generate::{generated_change_set, generated_model};
use model::ops::{apply, Applied, Operation, Outcome, ProposedChange};
use model::{Entity, LogicalType, Model, Relationship};

/// A small deterministic generator (SplitMix64): the seeds are the test's only randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, list: &mut [T]) {
        for i in (1..list.len()).rev() {
            list.swap(i, self.below(i + 1));
        }
    }
}

fn change(operation: Operation) -> ProposedChange {
    ProposedChange {
        operation,
        rationale: String::new(),
        notes: vec![],
    }
}

/// Operations that the generated models refuse, each for another reason.
fn refused(model: &Model) -> Vec<ProposedChange> {
    let first = &model.entities[0];
    vec![
        change(Operation::DropEntity {
            entity: "no_such_entity".into(),
        }),
        change(Operation::DropAttribute {
            entity: first.name.clone(),
            attribute: first.primary_key[0].clone(),
        }),
        change(Operation::RenameEntity {
            from: first.name.clone(),
            to: model.entities[1].name.to_uppercase(),
        }),
        change(Operation::AlterAttribute {
            entity: first.name.clone(),
            attribute: first.attributes[1].name.clone(),
            data_type: Some(LogicalType::Unknown("varchar2".into())),
            nullable: Some(true),
            default: None,
            description: None,
            tags: None,
        }),
        change(Operation::DropRelationship {
            from_entity: first.name.clone(),
            to_entity: "no_such_entity".into(),
            name: None,
        }),
    ]
}

/// Change sets of every kind over `model`: one that applies whole, two in a row (the second
/// written for the first's result), those shuffled, repeated (the repeats are mostly refused)
/// and interleaved with refused operations.
fn change_sets(model: &Model, count: usize, rng: &mut Rng) -> Vec<Vec<ProposedChange>> {
    let first = generated_change_set(model, count, rng.next()).changes;
    let after = apply(model, &first, None).model;
    let second = generated_change_set(&after, count, rng.next()).changes;
    let both: Vec<ProposedChange> = first.iter().chain(&second).cloned().collect();
    let mut shuffled = both.clone();
    rng.shuffle(&mut shuffled);
    let repeated: Vec<ProposedChange> = both.iter().chain(&both).cloned().collect();
    let mut mixed = repeated.clone();
    for refusal in refused(model) {
        let at = rng.below(mixed.len() + 1);
        mixed.insert(at, refusal);
    }
    rng.shuffle(&mut mixed[..]);
    vec![first, both, shuffled, repeated, mixed]
}

#[test]
fn apply_gives_what_the_copy_per_operation_gave() {
    // (applied, refused) over every case, to show that both paths were taken.
    let (mut applied, mut refused) = (0, 0);
    for seed in 0..12 {
        let mut rng = Rng(seed);
        let entities = [5, 12, 40, 120][seed as usize % 4];
        let model = generated_model(entities, 6 + seed as usize % 5, seed);
        let before = model.clone();
        for changes in change_sets(&model, entities / 2 + 2, &mut rng) {
            let subset: Vec<usize> = (0..changes.len()).filter(|_| rng.below(3) > 0).collect();
            for selected in [None, Some(subset.as_slice())] {
                let got = apply(&model, &changes, selected);
                let want = reference(&model, &changes, selected);
                assert_eq!(
                    got.outcomes, want.outcomes,
                    "seed {seed}, {entities} entities"
                );
                assert!(
                    got.model == want.model,
                    "seed {seed}, {entities} entities: the models differ"
                );
                for outcome in &got.outcomes {
                    match (outcome.applied, outcome.reason.as_deref()) {
                        (true, _) => applied += 1,
                        (false, Some("not selected")) => {}
                        (false, _) => refused += 1,
                    }
                }
            }
        }
        assert!(model == before, "seed {seed}: apply changed its input");
    }
    assert!(
        applied > 1000 && refused > 1000,
        "{applied} applied, {refused} refused"
    );
}

/// The 50th of 100 operations is refused: it changes nothing, the other 99 apply as they would
/// without it, and the input model is untouched.
#[test]
fn a_refused_fiftieth_operation_leaves_the_model_as_it_was() {
    let model = generated_model(300, 20, 13);
    let before = model.clone();
    let mut changes = generated_change_set(&model, 99, 13).changes;
    assert_eq!(changes.len(), 99);
    let key = &model.entities[0].primary_key[0];
    changes.insert(
        49,
        change(Operation::DropAttribute {
            entity: model.entities[0].name.clone(),
            attribute: key.clone(),
        }),
    );
    let applied = apply(&model, &changes, None);
    assert_eq!(
        applied.outcomes[49],
        Outcome {
            index: 49,
            applied: false,
            reason: Some(format!(
                "`{}.{key}` is part of the primary key: change the primary key first",
                model.entities[0].name
            )),
            notes: vec![],
        }
    );
    let refused: Vec<_> = applied.outcomes.iter().filter(|o| !o.applied).collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    // The same 99 operations without the refused one give the same model.
    let mut without = changes.clone();
    without.remove(49);
    assert!(apply(&model, &without, None).model == applied.model);
    // Only the refused operation, after the 49 before it, gives the model of those 49.
    let first_fifty: Vec<usize> = (0..50).collect();
    let up_to = apply(&model, &changes, Some(&first_fifty));
    assert!(up_to.model == apply(&model, &changes[..49], None).model);
    assert!(model == before, "apply changed its input");
    assert!(reference(&model, &changes, None) == applied);
}

/// `ops::apply` as it was before issue 13: every operation is tried on its own copy of the
/// model, which replaces the model only when the operation applied.
fn reference(model: &Model, changes: &[ProposedChange], selected: Option<&[usize]>) -> Applied {
    let mut model = model.clone();
    let outcomes = changes
        .iter()
        .enumerate()
        .map(|(index, change)| {
            if selected.is_some_and(|s| !s.contains(&index)) {
                return Outcome {
                    index,
                    applied: false,
                    reason: Some("not selected".into()),
                    notes: vec![],
                };
            }
            // Work on a copy so that an operation that fails halfway leaves nothing behind.
            let mut next = model.clone();
            match apply_one(&mut next, &change.operation) {
                Ok(notes) => {
                    model = next;
                    Outcome {
                        index,
                        applied: true,
                        reason: None,
                        notes,
                    }
                }
                Err(reason) => Outcome {
                    index,
                    applied: false,
                    reason: Some(reason),
                    notes: vec![],
                },
            }
        })
        .collect();
    Applied { model, outcomes }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn entity_index(model: &Model, name: &str) -> Result<usize, String> {
    model
        .entities
        .iter()
        .position(|e| eq(&e.name, name))
        .ok_or_else(|| format!("entity `{name}` does not exist in the draft"))
}

fn attribute_index(entity: &Entity, name: &str) -> Result<usize, String> {
    entity
        .attributes
        .iter()
        .position(|a| eq(&a.name, name))
        .ok_or_else(|| {
            format!(
                "attribute `{}.{name}` does not exist in the draft",
                entity.name
            )
        })
}

fn known_type(t: &LogicalType, what: &str) -> Result<(), String> {
    match t {
        LogicalType::Unknown(raw) => Err(format!(
            "unknown type `{raw}` for {what}: use one of string(n), text, integer, bigint, decimal(p,s), float, boolean, date, time, timestamp, timestamptz, uuid, json, bytes, enum(...)"
        )),
        _ => Ok(()),
    }
}

fn check_names(entity: &Entity, names: &[String], what: &str) -> Result<(), String> {
    if names.is_empty() {
        return Err(format!("the {what} names no attribute"));
    }
    for n in names {
        attribute_index(entity, n).map_err(|_| {
            format!(
                "the {what} names `{n}`, which is not an attribute of `{}`",
                entity.name
            )
        })?;
    }
    Ok(())
}

fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| eq(x, y))
}

fn rename_in(list: &mut [String], from: &str, to: &str) {
    for n in list.iter_mut().filter(|n| eq(n, from)) {
        *n = to.to_string();
    }
}

/// The note for a relationship that goes with the entity or attribute it uses.
fn dropped_with_it(r: &Relationship) -> String {
    format!(
        "relationship `{}` ({} → {}) dropped with it",
        r.name, r.from_entity, r.to_entity
    )
}

/// Applies one operation; returns notes on side effects, or why it cannot apply.
fn apply_one(model: &mut Model, op: &Operation) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    match op {
        Operation::AddEntity { entity } => {
            if model.entity(&entity.name).is_some() {
                return Err(format!("entity `{}` already exists", entity.name));
            }
            for a in &entity.attributes {
                known_type(&a.data_type, &format!("`{}.{}`", entity.name, a.name))?;
            }
            if !entity.primary_key.is_empty() {
                check_names(entity, &entity.primary_key, "primary key")?;
            }
            model.entities.push(entity.clone());
        }
        Operation::DropEntity { entity } => {
            let i = entity_index(model, entity)?;
            let name = model.entities.remove(i).name;
            model.relationships.retain(|r| {
                let touches = eq(&r.from_entity, &name) || eq(&r.to_entity, &name);
                if touches {
                    notes.push(dropped_with_it(r));
                }
                !touches
            });
        }
        Operation::RenameEntity { from, to } => {
            let i = entity_index(model, from)?;
            if to.trim().is_empty() {
                return Err("the new entity name is empty".into());
            }
            if model
                .entities
                .iter()
                .enumerate()
                .any(|(j, e)| j != i && eq(&e.name, to))
            {
                return Err(format!("entity `{to}` already exists"));
            }
            let old = std::mem::replace(&mut model.entities[i].name, to.clone());
            for r in &mut model.relationships {
                if eq(&r.from_entity, &old) {
                    r.from_entity = to.clone();
                }
                if eq(&r.to_entity, &old) {
                    r.to_entity = to.clone();
                }
            }
        }
        Operation::SetEntityDescription {
            entity,
            description,
        } => {
            let i = entity_index(model, entity)?;
            model.entities[i].description = description.clone();
        }
        Operation::AddAttribute { entity, attribute } => {
            let i = entity_index(model, entity)?;
            let e = &mut model.entities[i];
            if e.attribute(&attribute.name).is_some() {
                return Err(format!(
                    "attribute `{}.{}` already exists",
                    e.name, attribute.name
                ));
            }
            known_type(
                &attribute.data_type,
                &format!("`{}.{}`", e.name, attribute.name),
            )?;
            e.attributes.push(attribute.clone());
        }
        Operation::AlterAttribute {
            entity,
            attribute,
            data_type,
            nullable,
            default,
            description,
            tags,
        } => {
            let i = entity_index(model, entity)?;
            let e = &mut model.entities[i];
            let j = attribute_index(e, attribute)?;
            if data_type.is_none()
                && nullable.is_none()
                && default.is_none()
                && description.is_none()
                && tags.is_none()
            {
                return Err(format!(
                    "the alteration of `{}.{attribute}` changes nothing: give type, nullable, default, description or tags",
                    e.name
                ));
            }
            if *nullable == Some(true) && e.is_key(attribute) {
                return Err(format!(
                    "`{}.{attribute}` is part of the primary key and cannot be nullable",
                    e.name
                ));
            }
            let a = &mut e.attributes[j];
            if let Some(t) = data_type {
                known_type(t, &format!("`{entity}.{attribute}`"))?;
                a.data_type = t.clone();
            }
            if let Some(n) = nullable {
                a.nullable = *n;
            }
            if let Some(d) = default {
                a.default = d.clone();
            }
            if let Some(d) = description {
                a.description = d.clone();
            }
            if let Some(t) = tags {
                a.tags = t.clone();
            }
        }
        Operation::DropAttribute { entity, attribute } => {
            let i = entity_index(model, entity)?;
            let e = &model.entities[i];
            let j = attribute_index(e, attribute)?;
            let ename = e.name.clone();
            if e.is_key(attribute) {
                return Err(format!(
                    "`{ename}.{attribute}` is part of the primary key: change the primary key first"
                ));
            }
            if e.attributes.len() == 1 {
                return Err(format!(
                    "`{attribute}` is the last attribute of `{ename}`: drop the entity instead"
                ));
            }
            let named = |list: &[String]| list.iter().any(|n| eq(n, attribute));
            model.relationships.retain(|r| {
                let uses = (eq(&r.from_entity, &ename) && named(&r.from_attributes))
                    || (eq(&r.to_entity, &ename) && named(&r.to_attributes));
                if uses {
                    notes.push(dropped_with_it(r));
                }
                !uses
            });
            let e = &mut model.entities[i];
            e.attributes.remove(j);
            e.unique.retain(|u| {
                let uses = named(u);
                if uses {
                    notes.push(format!("unique ({}) dropped with it", u.join(", ")));
                }
                !uses
            });
            e.indexes.retain(|x| {
                let uses = named(&x.attributes);
                if uses {
                    notes.push(format!("index `{}` dropped with it", x.name));
                }
                !uses
            });
        }
        Operation::RenameAttribute { entity, from, to } => {
            let i = entity_index(model, entity)?;
            let e = &mut model.entities[i];
            let j = attribute_index(e, from)?;
            if to.trim().is_empty() {
                return Err("the new attribute name is empty".into());
            }
            if e.attributes
                .iter()
                .enumerate()
                .any(|(k, a)| k != j && eq(&a.name, to))
            {
                return Err(format!("attribute `{}.{to}` already exists", e.name));
            }
            let old = std::mem::replace(&mut e.attributes[j].name, to.clone());
            rename_in(&mut e.primary_key, &old, to);
            for u in &mut e.unique {
                rename_in(u, &old, to);
            }
            for x in &mut e.indexes {
                rename_in(&mut x.attributes, &old, to);
            }
            let ename = e.name.clone();
            for r in &mut model.relationships {
                if eq(&r.from_entity, &ename) {
                    rename_in(&mut r.from_attributes, &old, to);
                }
                if eq(&r.to_entity, &ename) {
                    rename_in(&mut r.to_attributes, &old, to);
                }
            }
        }
        Operation::SetPrimaryKey { entity, attributes } => {
            let i = entity_index(model, entity)?;
            let e = &mut model.entities[i];
            check_names(e, attributes, "primary key")?;
            for n in attributes {
                if let Some(a) = e.attributes.iter_mut().find(|a| eq(&a.name, n)) {
                    if a.nullable {
                        a.nullable = false;
                        notes.push(format!("`{}` made NOT NULL for the key", a.name));
                    }
                }
            }
            e.primary_key = attributes.clone();
        }
        Operation::AddUnique { entity, attributes } => {
            let i = entity_index(model, entity)?;
            let e = &mut model.entities[i];
            check_names(e, attributes, "unique constraint")?;
            if e.unique.iter().any(|u| same_names(u, attributes)) {
                return Err(format!(
                    "`{}` already has unique ({})",
                    e.name,
                    attributes.join(", ")
                ));
            }
            e.unique.push(attributes.clone());
        }
        Operation::DropUnique { entity, attributes } => {
            let i = entity_index(model, entity)?;
            let e = &mut model.entities[i];
            let before = e.unique.len();
            e.unique.retain(|u| !same_names(u, attributes));
            if e.unique.len() == before {
                return Err(format!(
                    "`{}` has no unique constraint on ({})",
                    e.name,
                    attributes.join(", ")
                ));
            }
        }
        Operation::AddIndex { entity, index } => {
            let i = entity_index(model, entity)?;
            if model
                .entities
                .iter()
                .flat_map(|e| &e.indexes)
                .any(|x| eq(&x.name, &index.name))
            {
                return Err(format!("an index named `{}` already exists", index.name));
            }
            let e = &mut model.entities[i];
            check_names(e, &index.attributes, "index")?;
            e.indexes.push(index.clone());
        }
        Operation::DropIndex { entity, index } => {
            let i = entity_index(model, entity)?;
            let e = &mut model.entities[i];
            let before = e.indexes.len();
            e.indexes.retain(|x| !eq(&x.name, index));
            if e.indexes.len() == before {
                return Err(format!("`{}` has no index named `{index}`", e.name));
            }
        }
        Operation::AddRelationship { relationship: r } => {
            let from = &model.entities[entity_index(model, &r.from_entity)?];
            check_names(from, &r.from_attributes, "relationship's from side")?;
            let to = &model.entities[entity_index(model, &r.to_entity)?];
            check_names(to, &r.to_attributes, "relationship's to side")?;
            if r.from_attributes.len() != r.to_attributes.len() {
                return Err(format!(
                    "the relationship links {} attributes to {}: both sides need the same number",
                    r.from_attributes.len(),
                    r.to_attributes.len()
                ));
            }
            if model.relationships.iter().any(|o| {
                eq(&o.from_entity, &r.from_entity)
                    && eq(&o.to_entity, &r.to_entity)
                    && same_names(&o.from_attributes, &r.from_attributes)
                    && same_names(&o.to_attributes, &r.to_attributes)
            }) {
                return Err(format!(
                    "the relationship {} → {} already exists",
                    r.from_entity, r.to_entity
                ));
            }
            model.relationships.push(r.clone());
        }
        Operation::DropRelationship {
            from_entity,
            to_entity,
            name,
        } => {
            let found: Vec<usize> = model
                .relationships
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    eq(&r.from_entity, from_entity)
                        && eq(&r.to_entity, to_entity)
                        && name.as_ref().is_none_or(|n| eq(&r.name, n))
                })
                .map(|(i, _)| i)
                .collect();
            match found.as_slice() {
                [] => {
                    return Err(format!(
                        "there is no relationship {from_entity} → {to_entity}{}",
                        name.as_ref()
                            .map(|n| format!(" named `{n}`"))
                            .unwrap_or_default()
                    ))
                }
                [i] => {
                    model.relationships.remove(*i);
                }
                _ => {
                    return Err(format!(
                        "there are several relationships {from_entity} → {to_entity}: give the name of the one to drop"
                    ))
                }
            }
        }
        Operation::SetSummary { summary } => model.summary = summary.clone(),
        Operation::SetNarrative { narrative } => model.narrative = narrative.clone(),
    }
    Ok(notes)
}
