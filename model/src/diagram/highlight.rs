//! What a review highlights in the diagram: entities and attributes added, removed and changed
//! from one model to the next, taken from the semantic diff ([`crate::diff`]).
//!
//! A review draws the *review model* ([`review_model`]): the newer model with what the older one
//! had and the newer one dropped put back (removed entities at the end, removed attributes at the
//! end of their entity), so that removals can be seen. Names follow the review model: the newer
//! model's names, removed entities under their old names. An entity is *changed* when anything of
//! it or of its attributes, keys, indexes or relationships changed, or it was renamed; an
//! attribute is changed when it was renamed or any of its properties changed.

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
                Change::RelationshipRemoved { from_entity, .. } => {
                    h.changed_entities.insert(now(from_entity));
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

    /// True when nothing is highlighted.
    pub fn is_empty(&self) -> bool {
        self.added_entities.is_empty()
            && self.removed_entities.is_empty()
            && self.changed_entities.is_empty()
            && self.added_attributes.is_empty()
            && self.removed_attributes.is_empty()
            && self.changed_attributes.is_empty()
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
/// entities appended (with their attributes, without their relationships), removed attributes
/// appended to their entity (under its new name when it was renamed).
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
