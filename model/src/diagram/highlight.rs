//! What a review highlights in the diagram: entities, attributes and relationships added,
//! removed and changed from one model to the next, taken from the semantic diff ([`crate::diff`]).
//!
//! A review draws the *review model* ([`review_model`]): the newer model with what the older one
//! had and the newer one dropped put back (removed entities at the end, removed attributes at the
//! end of their entity, removed relationships at the end), so that removals can be seen. Names
//! follow the review model: the newer model's names, removed entities under their old names. An
//! entity is *changed* when anything of it or of its attributes, keys, indexes or relationships
//! changed, or it was renamed; an attribute is changed when it was renamed or any of its
//! properties changed; a relationship is changed when its name, cardinality or on-delete action
//! changed.

use super::Edge;
use crate::diff::{diff_models, Change};
use crate::types::Model;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Entities and attributes to draw as added, removed or changed. Attributes are `(entity,
/// attribute)` pairs. Names are compared ignoring ASCII case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlight {
    pub added_entities: BTreeSet<String>,
    pub removed_entities: BTreeSet<String>,
    pub changed_entities: BTreeSet<String>,
    pub added_attributes: BTreeSet<(String, String)>,
    pub removed_attributes: BTreeSet<(String, String)>,
    pub changed_attributes: BTreeSet<(String, String)>,
    #[serde(default)]
    pub added_relationships: BTreeSet<Link>,
    #[serde(default)]
    pub removed_relationships: BTreeSet<Link>,
    #[serde(default)]
    pub changed_relationships: BTreeSet<Link>,
}

/// A relationship as a highlight names it: its two entities and the referencing attributes
/// (empty: any relationship between the two, as the diff names a changed one).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link {
    pub from_entity: String,
    pub from_attributes: Vec<String>,
    pub to_entity: String,
}

impl Link {
    /// True when the link names the edge `e` (ASCII case ignored).
    fn names(&self, e: &Edge) -> bool {
        self.from_entity.eq_ignore_ascii_case(&e.from)
            && self.to_entity.eq_ignore_ascii_case(&e.to)
            && (self.from_attributes.is_empty()
                || (self.from_attributes.len() == e.from_attributes.len()
                    && self
                        .from_attributes
                        .iter()
                        .zip(&e.from_attributes)
                        .all(|(a, b)| a.eq_ignore_ascii_case(b))))
    }
}

/// How one entity or attribute is highlighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Added,
    Removed,
    Changed,
}

impl Mark {
    /// The CSS class of the mark in the SVG (`dm-added`, ...).
    pub fn class(self) -> &'static str {
        match self {
            Mark::Added => "dm-added",
            Mark::Removed => "dm-removed",
            Mark::Changed => "dm-changed",
        }
    }
}

impl Highlight {
    /// What changed from `old` to `new`, named as in [`review_model`]`(old, new)`.
    pub fn from_diff(old: &Model, new: &Model) -> Highlight {
        let changes = diff_models(old, new).changes;
        let renamed = renames(&changes);
        let now = |entity: &str| -> String {
            renamed
                .get(&entity.to_ascii_lowercase())
                .cloned()
                .unwrap_or_else(|| entity.to_string())
        };
        let mut h = Highlight::default();
        for change in &changes {
            match change {
                Change::SummaryChanged { .. } | Change::NarrativeChanged => {}
                Change::EntityAdded { entity, .. } => {
                    h.added_entities.insert(entity.clone());
                }
                Change::EntityRemoved { entity, .. } => {
                    h.removed_entities.insert(entity.clone());
                }
                Change::EntityRenamed { to, .. } => {
                    h.changed_entities.insert(to.clone());
                }
                Change::AttributeAdded {
                    entity, attribute, ..
                } => {
                    h.added_attributes
                        .insert((entity.clone(), attribute.clone()));
                    h.changed_entities.insert(entity.clone());
                }
                Change::AttributeRemoved {
                    entity, attribute, ..
                } => {
                    h.removed_attributes
                        .insert((now(entity), attribute.clone()));
                    h.changed_entities.insert(now(entity));
                }
                Change::AttributeRenamed { entity, to, .. } => {
                    h.changed_attributes.insert((entity.clone(), to.clone()));
                    h.changed_entities.insert(entity.clone());
                }
                Change::AttributeChanged {
                    entity, attribute, ..
                } => {
                    h.changed_attributes
                        .insert((entity.clone(), attribute.clone()));
                    h.changed_entities.insert(entity.clone());
                }
                Change::RelationshipAdded {
                    from_entity,
                    from_attributes,
                    to_entity,
                    ..
                } => {
                    h.added_relationships.insert(Link {
                        from_entity: from_entity.clone(),
                        from_attributes: from_attributes.clone(),
                        to_entity: to_entity.clone(),
                    });
                    h.changed_entities.insert(from_entity.clone());
                }
                Change::RelationshipRemoved {
                    from_entity,
                    from_attributes,
                    to_entity,
                    ..
                } => {
                    h.removed_relationships.insert(Link {
                        from_entity: now(from_entity),
                        from_attributes: from_attributes.clone(),
                        to_entity: now(to_entity),
                    });
                    h.changed_entities.insert(now(from_entity));
                }
                Change::RelationshipChanged {
                    from_entity,
                    to_entity,
                    ..
                } => {
                    h.changed_relationships.insert(Link {
                        from_entity: from_entity.clone(),
                        from_attributes: Vec::new(),
                        to_entity: to_entity.clone(),
                    });
                    h.changed_entities.insert(from_entity.clone());
                }
                other => {
                    if let Some(entity) = other.entity() {
                        h.changed_entities.insert(entity.to_string());
                    }
                }
            }
        }
        let (added, removed) = (h.added_entities.clone(), h.removed_entities.clone());
        h.changed_entities
            .retain(|e| !added.contains(e) && !removed.contains(e));
        h
    }

    /// The mark of the entity `name`, if any.
    pub fn entity(&self, name: &str) -> Option<Mark> {
        let has = |set: &BTreeSet<String>| set.iter().any(|e| e.eq_ignore_ascii_case(name));
        if has(&self.added_entities) {
            Some(Mark::Added)
        } else if has(&self.removed_entities) {
            Some(Mark::Removed)
        } else if has(&self.changed_entities) {
            Some(Mark::Changed)
        } else {
            None
        }
    }

    /// The mark of the attribute `attribute` of `entity`, if any.
    pub fn attribute(&self, entity: &str, attribute: &str) -> Option<Mark> {
        let has = |set: &BTreeSet<(String, String)>| {
            set.iter()
                .any(|(e, a)| e.eq_ignore_ascii_case(entity) && a.eq_ignore_ascii_case(attribute))
        };
        if has(&self.added_attributes) {
            Some(Mark::Added)
        } else if has(&self.removed_attributes) {
            Some(Mark::Removed)
        } else if has(&self.changed_attributes) {
            Some(Mark::Changed)
        } else {
            None
        }
    }

    /// The mark of the edge `e`, if any; a removed relationship outranks an added one between
    /// the same attributes (a relationship dropped and made again shows as removed and added
    /// only in the list of changes).
    pub fn relationship(&self, e: &Edge) -> Option<Mark> {
        let has = |set: &BTreeSet<Link>| set.iter().any(|l| l.names(e));
        if has(&self.removed_relationships) && !has(&self.added_relationships) {
            Some(Mark::Removed)
        } else if has(&self.added_relationships) {
            Some(Mark::Added)
        } else if has(&self.changed_relationships) || has(&self.removed_relationships) {
            Some(Mark::Changed)
        } else {
            None
        }
    }

    /// True when nothing is highlighted.
    pub fn is_empty(&self) -> bool {
        self.added_entities.is_empty()
            && self.removed_entities.is_empty()
            && self.changed_entities.is_empty()
            && self.added_attributes.is_empty()
            && self.removed_attributes.is_empty()
            && self.changed_attributes.is_empty()
            && self.added_relationships.is_empty()
            && self.removed_relationships.is_empty()
            && self.changed_relationships.is_empty()
    }
}

/// New entity name by old name lower-cased, for the entities the diff says were renamed.
fn renames(changes: &[Change]) -> HashMap<String, String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::EntityRenamed { from, to, .. } => Some((from.to_ascii_lowercase(), to.clone())),
            _ => None,
        })
        .collect()
}

/// `new` with what `old` had and `new` dropped put back, for drawing a review: removed
/// entities appended with their attributes, removed attributes appended to their entity, and
/// removed relationships appended (under the entities' new names when they were renamed).
pub fn review_model(old: &Model, new: &Model) -> Model {
    let changes = diff_models(old, new).changes;
    let renamed = renames(&changes);
    let mut model = new.clone();
    for change in &changes {
        match change {
            Change::EntityRemoved { entity, .. } => {
                if let Some(e) = old.entity(entity) {
                    if model.entity(&e.name).is_none() {
                        model.entities.push(e.clone());
                    }
                }
            }
            Change::AttributeRemoved {
                entity, attribute, ..
            } => {
                let Some(attr) = old.entity(entity).and_then(|e| e.attribute(attribute)) else {
                    continue;
                };
                let target = renamed
                    .get(&entity.to_ascii_lowercase())
                    .map_or(entity.as_str(), String::as_str);
                if let Some(e) = model
                    .entities
                    .iter_mut()
                    .find(|e| e.name.eq_ignore_ascii_case(target))
                {
                    if e.attribute(attribute).is_none() {
                        e.attributes.push(attr.clone());
                    }
                }
            }
            _ => {}
        }
    }
    // Relationships last, once every entity they may join is back.
    for change in &changes {
        if let Change::RelationshipRemoved {
            from_entity,
            from_attributes,
            to_entity,
            ..
        } = change
        {
            let Some(r) = old.relationships.iter().find(|r| {
                r.from_entity.eq_ignore_ascii_case(from_entity)
                    && r.to_entity.eq_ignore_ascii_case(to_entity)
                    && r.from_attributes == *from_attributes
            }) else {
                continue;
            };
            let mut r = r.clone();
            for name in [&mut r.from_entity, &mut r.to_entity] {
                if let Some(new_name) = renamed.get(&name.to_ascii_lowercase()) {
                    *name = new_name.clone();
                }
            }
            if model.entity(&r.from_entity).is_some() && model.entity(&r.to_entity).is_some() {
                model.relationships.push(r);
            }
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    #[test]
    fn library_review_marks_what_changed() {
        let (old, new) = (sample(), v2());
        let h = Highlight::from_diff(&old, &new);
        assert!(!h.is_empty());
        let review = review_model(&old, &new);
        // Every highlighted thing exists in the review model, so it can be drawn.
        for e in h
            .added_entities
            .iter()
            .chain(&h.removed_entities)
            .chain(&h.changed_entities)
        {
            assert!(review.entity(e).is_some(), "{e} is not in the review model");
        }
        for (e, a) in h
            .added_attributes
            .iter()
            .chain(&h.removed_attributes)
            .chain(&h.changed_attributes)
        {
            let entity = review.entity(e).unwrap_or_else(|| panic!("{e} missing"));
            assert!(entity.attribute(a).is_some(), "{e}.{a} missing");
        }
        // The review model holds all of the new model and nothing is lost from the old one.
        for e in &new.entities {
            assert!(review.entity(&e.name).is_some());
        }
        assert!(review.entities.len() >= new.entities.len());
    }

    #[test]
    fn relationships_dropped_added_and_changed_are_marked_on_their_edges() {
        let old = sample();
        let mut new = old.clone();
        let dropped = new.relationships.remove(0);
        let mut added = dropped.clone();
        added.from_entity = old.relationships[1].from_entity.clone();
        added.from_attributes = old.relationships[1].from_attributes.clone();
        added.name = "added".into();
        new.relationships.push(added.clone());
        new.relationships[0].on_delete = match new.relationships[0].on_delete {
            crate::types::OnDelete::Cascade => crate::types::OnDelete::Restrict,
            _ => crate::types::OnDelete::Cascade,
        };
        let changed = new.relationships[0].clone();
        let h = Highlight::from_diff(&old, &new);
        let review = review_model(&old, &new);
        assert_eq!(review.relationships.len(), new.relationships.len() + 1);
        let d = crate::diagram::layout(&review, None);
        let mark_of = |r: &crate::types::Relationship| {
            let e = d
                .edges
                .iter()
                .find(|e| {
                    let x = &review.relationships[e.relationship];
                    x.from_entity == r.from_entity
                        && x.to_entity == r.to_entity
                        && x.from_attributes == r.from_attributes
                        && x.name == r.name
                })
                .expect("an edge");
            h.relationship(e)
        };
        assert_eq!(mark_of(&dropped), Some(Mark::Removed));
        assert_eq!(mark_of(&added), Some(Mark::Added));
        assert_eq!(mark_of(&changed), Some(Mark::Changed));
        let untouched = review
            .relationships
            .iter()
            .find(|r| {
                ![&dropped.name, &added.name, &changed.name].contains(&&r.name)
                    && r.from_entity != changed.from_entity
            })
            .map(mark_of);
        assert!(matches!(untouched, None | Some(None)), "{untouched:?}");
    }

    #[test]
    fn a_dropped_attribute_and_entity_come_back_marked_removed() {
        let old = sample();
        let mut new = old.clone();
        let gone = new.entities.remove(0);
        new.relationships
            .retain(|r| r.from_entity != gone.name && r.to_entity != gone.name);
        let last = new.entities[0].attributes.len() - 1;
        let dropped = new.entities[0].attributes.remove(last);
        let entity = new.entities[0].name.clone();
        let h = Highlight::from_diff(&old, &new);
        assert_eq!(h.entity(&gone.name), Some(Mark::Removed));
        assert_eq!(h.attribute(&entity, &dropped.name), Some(Mark::Removed));
        assert_eq!(h.entity(&entity), Some(Mark::Changed));
        let review = review_model(&old, &new);
        assert!(review.entity(&gone.name).is_some());
        assert!(review
            .entity(&entity)
            .and_then(|e| e.attribute(&dropped.name))
            .is_some());
    }
}
