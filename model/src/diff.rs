//! Semantic diff: what changed between two models, in the model's own terms.
//!
//! Entities and attributes are matched by name, ignoring ASCII case. A *change* is one fact
//! about the model ("attribute `member.email` added", "type of `member.name` changed from
//! string(100) to string(200)"), not a line of text. The changes come out in a stable order:
//! entities in the order of the newer model (removed ones where they stood in the older one),
//! and within an entity, attribute changes before key changes.

use super::types::{Attribute, Entity, Index, Model, Relationship};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Which property of an attribute changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeField {
    Type,
    Nullable,
    Default,
    Description,
    Tags,
    /// Whether the database numbers new rows (`Attribute::auto_increment`).
    AutoIncrement,
    /// Whether text compares ignoring case (`Attribute::case_insensitive`).
    CaseInsensitive,
    /// The source dialect's own type (`Attribute::native`), as `dialect:type` or empty.
    NativeType,
}

/// Which property of a relationship changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipField {
    Name,
    Cardinality,
    OnDelete,
}

/// One semantic change from the older model to the newer one.
///
/// Names: a change names things as the *newer* model calls them, except for removed things
/// (and the `from` side of a rename), which carry the older model's names. Renames carry a
/// `confidence` in percent; a pair that looks less than certain is still reported as a rename
/// only when the evidence is strong, and otherwise stays a removal plus an addition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    SummaryChanged {
        from: String,
        to: String,
    },
    NarrativeChanged,
    EntityAdded {
        entity: String,
        attributes: usize,
    },
    EntityRemoved {
        entity: String,
        attributes: usize,
    },
    EntityRenamed {
        from: String,
        to: String,
        /// How sure the rename detection is, in percent.
        confidence: u8,
    },
    EntityDescriptionChanged {
        entity: String,
        from: String,
        to: String,
    },
    EntityTagsChanged {
        entity: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    AttributeAdded {
        entity: String,
        attribute: String,
        data_type: String,
        nullable: bool,
        default: Option<String>,
    },
    AttributeRemoved {
        entity: String,
        attribute: String,
        data_type: String,
    },
    AttributeRenamed {
        entity: String,
        from: String,
        to: String,
        confidence: u8,
    },
    AttributeChanged {
        entity: String,
        attribute: String,
        field: AttributeField,
        from: String,
        to: String,
    },
    PrimaryKeyChanged {
        entity: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    UniqueAdded {
        entity: String,
        attributes: Vec<String>,
    },
    UniqueRemoved {
        entity: String,
        attributes: Vec<String>,
    },
    /// An index that is new, or whose definition changed (then it is also in `IndexRemoved`).
    IndexAdded {
        entity: String,
        index: String,
        attributes: Vec<String>,
        unique: bool,
    },
    IndexRemoved {
        entity: String,
        index: String,
        attributes: Vec<String>,
        unique: bool,
    },
    RelationshipAdded {
        name: String,
        from_entity: String,
        from_attributes: Vec<String>,
        to_entity: String,
        to_attributes: Vec<String>,
    },
    RelationshipRemoved {
        name: String,
        from_entity: String,
        from_attributes: Vec<String>,
        to_entity: String,
        to_attributes: Vec<String>,
    },
    RelationshipChanged {
        name: String,
        from_entity: String,
        to_entity: String,
        field: RelationshipField,
        from: String,
        to: String,
    },
}

/// The list of changes from one model to another.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDiff {
    pub changes: Vec<Change>,
}

/// What kind of change, for grouping and colouring in the UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeClass {
    Added,
    Removed,
    Renamed,
    Changed,
}

impl Change {
    /// Whether the change adds, removes, renames or alters something.
    pub fn class(&self) -> ChangeClass {
        match self {
            Change::EntityAdded { .. }
            | Change::AttributeAdded { .. }
            | Change::UniqueAdded { .. }
            | Change::IndexAdded { .. }
            | Change::RelationshipAdded { .. } => ChangeClass::Added,
            Change::EntityRemoved { .. }
            | Change::AttributeRemoved { .. }
            | Change::UniqueRemoved { .. }
            | Change::IndexRemoved { .. }
            | Change::RelationshipRemoved { .. } => ChangeClass::Removed,
            Change::EntityRenamed { .. } | Change::AttributeRenamed { .. } => ChangeClass::Renamed,
            _ => ChangeClass::Changed,
        }
    }

    /// The entity the change belongs to, if any (for relationships, the referencing entity).
    pub fn entity(&self) -> Option<&str> {
        match self {
            Change::SummaryChanged { .. } | Change::NarrativeChanged => None,
            Change::EntityRenamed { to, .. } => Some(to),
            Change::RelationshipAdded { from_entity, .. }
            | Change::RelationshipRemoved { from_entity, .. }
            | Change::RelationshipChanged { from_entity, .. } => Some(from_entity),
            Change::EntityAdded { entity, .. }
            | Change::EntityRemoved { entity, .. }
            | Change::EntityDescriptionChanged { entity, .. }
            | Change::EntityTagsChanged { entity, .. }
            | Change::AttributeAdded { entity, .. }
            | Change::AttributeRemoved { entity, .. }
            | Change::AttributeRenamed { entity, .. }
            | Change::AttributeChanged { entity, .. }
            | Change::PrimaryKeyChanged { entity, .. }
            | Change::UniqueAdded { entity, .. }
            | Change::UniqueRemoved { entity, .. }
            | Change::IndexAdded { entity, .. }
            | Change::IndexRemoved { entity, .. } => Some(entity),
        }
    }

    /// One sentence that says what changed.
    pub fn describe(&self) -> String {
        match self {
            Change::SummaryChanged { .. } => "summary changed".into(),
            Change::NarrativeChanged => "narrative changed".into(),
            Change::EntityAdded { entity, attributes } => {
                format!("entity `{entity}` added with {attributes} attributes")
            }
            Change::EntityRemoved { entity, attributes } => {
                format!("entity `{entity}` removed with its {attributes} attributes")
            }
            Change::EntityRenamed {
                from,
                to,
                confidence,
            } => format!("entity `{from}` renamed to `{to}` ({confidence}% sure)"),
            Change::EntityDescriptionChanged { entity, .. } => {
                format!("description of entity `{entity}` changed")
            }
            Change::EntityTagsChanged { entity, from, to } => format!(
                "tags of entity `{entity}` changed from [{}] to [{}]",
                from.join(", "),
                to.join(", ")
            ),
            Change::AttributeAdded {
                entity,
                attribute,
                data_type,
                nullable,
                default,
            } => format!(
                "attribute `{entity}.{attribute}` added: {data_type}{}{}",
                if *nullable {
                    ", nullable"
                } else {
                    ", not null"
                },
                default
                    .as_deref()
                    .map(|d| format!(", default {d}"))
                    .unwrap_or_default()
            ),
            Change::AttributeRemoved {
                entity,
                attribute,
                data_type,
            } => {
                format!("attribute `{entity}.{attribute}` removed (was {data_type})")
            }
            Change::AttributeRenamed {
                entity,
                from,
                to,
                confidence,
            } => format!(
                "attribute `{entity}.{from}` renamed to `{entity}.{to}` ({confidence}% sure)"
            ),
            Change::AttributeChanged {
                entity,
                attribute,
                field,
                from,
                to,
            } => {
                let what = match field {
                    AttributeField::Type => "type",
                    AttributeField::Nullable => "nullable",
                    AttributeField::Default => "default",
                    AttributeField::Description => "description",
                    AttributeField::Tags => "tags",
                    AttributeField::AutoIncrement => "auto-numbering",
                    AttributeField::CaseInsensitive => "case-insensitive",
                    AttributeField::NativeType => "native type",
                };
                format!(
                    "{what} of `{entity}.{attribute}` changed from {} to {}",
                    show(from),
                    show(to)
                )
            }
            Change::PrimaryKeyChanged { entity, from, to } => format!(
                "primary key of `{entity}` changed from ({}) to ({})",
                from.join(", "),
                to.join(", ")
            ),
            Change::UniqueAdded { entity, attributes } => {
                format!(
                    "unique constraint ({}) added to `{entity}`",
                    attributes.join(", ")
                )
            }
            Change::UniqueRemoved { entity, attributes } => format!(
                "unique constraint ({}) removed from `{entity}`",
                attributes.join(", ")
            ),
            Change::IndexAdded {
                entity,
                index,
                attributes,
                unique,
            } => format!(
                "{}index `{index}` on `{entity}` ({}) added",
                if *unique { "unique " } else { "" },
                attributes.join(", ")
            ),
            Change::IndexRemoved {
                entity,
                index,
                attributes,
                unique,
            } => format!(
                "{}index `{index}` on `{entity}` ({}) removed",
                if *unique { "unique " } else { "" },
                attributes.join(", ")
            ),
            Change::RelationshipAdded {
                name,
                from_entity,
                to_entity,
                ..
            } => {
                format!("relationship `{name}` added: {from_entity} → {to_entity}")
            }
            Change::RelationshipRemoved {
                name,
                from_entity,
                to_entity,
                ..
            } => {
                format!("relationship `{name}` removed: {from_entity} → {to_entity}")
            }
            Change::RelationshipChanged {
                name,
                field,
                from,
                to,
                ..
            } => {
                let what = match field {
                    RelationshipField::Name => "name",
                    RelationshipField::Cardinality => "cardinality",
                    RelationshipField::OnDelete => "on delete",
                };
                format!(
                    "{what} of relationship `{name}` changed from {} to {}",
                    show(from),
                    show(to)
                )
            }
        }
    }
}

fn show(value: &str) -> String {
    if value.is_empty() {
        "(none)".into()
    } else {
        format!("`{value}`")
    }
}

/// Rename detection reports a pair only when its score reaches this many percent; below it the
/// pair stays a removal plus an addition, so a drop-and-add is never hidden behind a guess.
pub const RENAME_THRESHOLD: u8 = 60;

/// Above this many removed × added entity pairs, entity rename detection is skipped: scoring
/// every pair would cost more than the diff itself, and such a diff is a rewrite, not a rename.
const MAX_ENTITY_PAIRS: usize = 250_000;

/// How the entities and attributes of two models correspond.
///
/// `entities[i]` is the index in the newer model of the older model's entity `i` (by name, or by
/// a detected rename), or `None` when it was removed. `attributes[i][j]` does the same for
/// attribute `j` of old entity `i` within its matched entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matching {
    pub entities: Vec<Option<Matched>>,
    pub attributes: Vec<Vec<Option<Matched>>>,
}

/// One correspondence: the index on the newer side, and the rename confidence when the names
/// differ (`None` for a match by name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matched {
    pub index: usize,
    pub renamed: Option<u8>,
}

impl Matching {
    /// The newer model's name for old entity `old_name`, if it survived.
    pub fn entity_name<'a>(&self, old: &Model, new: &'a Model, old_name: &str) -> Option<&'a str> {
        let i = old
            .entities
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(old_name))?;
        let m = self.entities[i]?;
        Some(new.entities[m.index].name.as_str())
    }

    /// The newer model's name for attribute `attr` of old entity `entity`, if it survived.
    pub fn attribute_name<'a>(
        &self,
        old: &Model,
        new: &'a Model,
        entity: &str,
        attr: &str,
    ) -> Option<&'a str> {
        let ei = old
            .entities
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(entity))?;
        self.attribute_name_at(old, new, ei, attr)
    }

    /// [`Matching::attribute_name`] for the old entity at index `ei`.
    fn attribute_name_at<'a>(
        &self,
        old: &Model,
        new: &'a Model,
        ei: usize,
        attr: &str,
    ) -> Option<&'a str> {
        let em = self.entities[ei]?;
        let ai = old.entities[ei]
            .attributes
            .iter()
            .position(|a| a.name.eq_ignore_ascii_case(attr))?;
        let am = self.attributes[ei][ai]?;
        Some(new.entities[em.index].attributes[am.index].name.as_str())
    }
}

/// Matches the entities and attributes of `old` to those of `new`: by name ignoring ASCII case
/// first, then by rename detection among what is left.
pub fn match_models(old: &Model, new: &Model) -> Matching {
    let new_by_name: HashMap<String, usize> = new
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.to_ascii_lowercase(), i))
        .collect();
    let mut entities: Vec<Option<Matched>> = old
        .entities
        .iter()
        .map(|e| {
            new_by_name
                .get(&e.name.to_ascii_lowercase())
                .map(|&index| Matched {
                    index,
                    renamed: None,
                })
        })
        .collect();
    let mut taken = vec![false; new.entities.len()];
    for m in entities.iter().flatten() {
        taken[m.index] = true;
    }
    let removed: Vec<usize> = (0..old.entities.len())
        .filter(|&i| entities[i].is_none())
        .collect();
    let added: Vec<usize> = (0..new.entities.len()).filter(|&i| !taken[i]).collect();
    if !removed.is_empty() && !added.is_empty() && removed.len() * added.len() <= MAX_ENTITY_PAIRS {
        let mut scored = Vec::new();
        for &o in &removed {
            for &n in &added {
                let score = entity_similarity(&old.entities[o], &new.entities[n]);
                if score >= RENAME_THRESHOLD {
                    scored.push((score, o, n));
                }
            }
        }
        for (score, o, n) in best_pairs(scored) {
            entities[o] = Some(Matched {
                index: n,
                renamed: Some(score),
            });
        }
    }
    let attributes = old
        .entities
        .iter()
        .zip(&entities)
        .map(|(oe, m)| match m {
            Some(m) => match_attributes(oe, &new.entities[m.index]),
            None => vec![None; oe.attributes.len()],
        })
        .collect();
    Matching {
        entities,
        attributes,
    }
}

/// Picks one-to-one pairs from scored candidates, best first; ties go to the earlier old and
/// then the earlier new position, so the result does not depend on hash order.
fn best_pairs(mut scored: Vec<(u8, usize, usize)>) -> Vec<(u8, usize, usize)> {
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_old = HashSet::new();
    let mut used_new = HashSet::new();
    scored
        .into_iter()
        .filter(|&(_, o, n)| {
            if used_old.contains(&o) || used_new.contains(&n) {
                return false;
            }
            used_old.insert(o);
            used_new.insert(n);
            true
        })
        .collect()
}

fn match_attributes(old: &Entity, new: &Entity) -> Vec<Option<Matched>> {
    let mut out: Vec<Option<Matched>> = old
        .attributes
        .iter()
        .map(|a| {
            new.attributes
                .iter()
                .position(|n| n.name.eq_ignore_ascii_case(&a.name))
                .map(|index| Matched {
                    index,
                    renamed: None,
                })
        })
        .collect();
    let mut taken = vec![false; new.attributes.len()];
    for m in out.iter().flatten() {
        taken[m.index] = true;
    }
    let mut scored = Vec::new();
    for (o, slot) in out.iter().enumerate() {
        if slot.is_some() {
            continue;
        }
        for (n, &t) in taken.iter().enumerate() {
            if t {
                continue;
            }
            let score = attribute_similarity(&old.attributes[o], o, &new.attributes[n], n);
            if score >= RENAME_THRESHOLD {
                scored.push((score, o, n));
            }
        }
    }
    for (score, o, n) in best_pairs(scored) {
        out[o] = Some(Matched {
            index: n,
            renamed: Some(score),
        });
    }
    out
}

/// Similarity of two names in 0..=1, by the share of characters in common.
fn name_similarity(a: &str, b: &str) -> f32 {
    let a = a.to_ascii_lowercase();
    let b = b.to_ascii_lowercase();
    similar::TextDiff::from_chars(a.as_str(), b.as_str()).ratio()
}

/// How likely `new` is `old` renamed, in percent: mostly the shared attributes, then the name.
fn entity_similarity(old: &Entity, new: &Entity) -> u8 {
    let names = |e: &Entity| {
        e.attributes
            .iter()
            .map(|a| a.name.to_ascii_lowercase())
            .collect::<HashSet<_>>()
    };
    let (a, b) = (names(old), names(new));
    let union = a.union(&b).count();
    if union == 0 {
        return 0;
    }
    let shared = a.intersection(&b).count() as f32 / union as f32;
    if shared < 0.5 {
        return 0;
    }
    let description = if !old.description.is_empty() && old.description == new.description {
        0.1
    } else {
        0.0
    };
    let score = 0.7 * shared + 0.2 * name_similarity(&old.name, &new.name) + description;
    percent(score)
}

/// How likely attribute `new` (at position `ni`) is `old` (at `oi`) renamed, in percent. The
/// type must match: a rename with a type change is reported as a drop and an add.
fn attribute_similarity(old: &Attribute, oi: usize, new: &Attribute, ni: usize) -> u8 {
    if old.data_type != new.data_type {
        return 0;
    }
    let mut score = 0.4 + 0.25 * name_similarity(&old.name, &new.name);
    if old.nullable == new.nullable {
        score += 0.1;
    }
    if old.default == new.default {
        score += 0.05;
    }
    if !old.description.is_empty() && old.description == new.description {
        score += 0.15;
    }
    if oi == ni {
        score += 0.1;
    }
    percent(score)
}

fn percent(score: f32) -> u8 {
    (score.clamp(0.0, 1.0) * 100.0).round() as u8
}

/// Computes the semantic diff from `old` to `new`.
pub fn diff_models(old: &Model, new: &Model) -> ModelDiff {
    diff_with(old, new, &match_models(old, new))
}

/// Computes the semantic diff from `old` to `new` with a matching already made.
pub fn diff_with(old: &Model, new: &Model, matching: &Matching) -> ModelDiff {
    let mut changes = Vec::new();
    if old.summary != new.summary {
        changes.push(Change::SummaryChanged {
            from: old.summary.clone(),
            to: new.summary.clone(),
        });
    }
    if old.narrative != new.narrative {
        changes.push(Change::NarrativeChanged);
    }
    let mut old_of_new = vec![None; new.entities.len()];
    for (oi, m) in matching.entities.iter().enumerate() {
        match m {
            Some(m) => old_of_new[m.index] = Some(oi),
            None => changes.push(Change::EntityRemoved {
                entity: old.entities[oi].name.clone(),
                attributes: old.entities[oi].attributes.len(),
            }),
        }
    }
    for (ni, new_entity) in new.entities.iter().enumerate() {
        match old_of_new[ni] {
            None => changes.push(Change::EntityAdded {
                entity: new_entity.name.clone(),
                attributes: new_entity.attributes.len(),
            }),
            Some(oi) => {
                let old_entity = &old.entities[oi];
                if let Some(Matched {
                    renamed: Some(confidence),
                    ..
                }) = matching.entities[oi]
                {
                    changes.push(Change::EntityRenamed {
                        from: old_entity.name.clone(),
                        to: new_entity.name.clone(),
                        confidence,
                    });
                }
                diff_entity(
                    old_entity,
                    new_entity,
                    &matching.attributes[oi],
                    &mut changes,
                );
            }
        }
    }
    diff_relationships(old, new, matching, &mut changes);
    ModelDiff { changes }
}

fn lower(names: &[String]) -> Vec<String> {
    names.iter().map(|n| n.to_ascii_lowercase()).collect()
}

fn diff_entity(old: &Entity, new: &Entity, attrs: &[Option<Matched>], changes: &mut Vec<Change>) {
    let entity = new.name.clone();
    if old.description != new.description {
        changes.push(Change::EntityDescriptionChanged {
            entity: entity.clone(),
            from: old.description.clone(),
            to: new.description.clone(),
        });
    }
    if lower(&old.tags) != lower(&new.tags) {
        changes.push(Change::EntityTagsChanged {
            entity: entity.clone(),
            from: old.tags.clone(),
            to: new.tags.clone(),
        });
    }
    let mut old_of_new = vec![None; new.attributes.len()];
    for (oi, m) in attrs.iter().enumerate() {
        match m {
            Some(m) => old_of_new[m.index] = Some(oi),
            None => changes.push(Change::AttributeRemoved {
                entity: entity.clone(),
                attribute: old.attributes[oi].name.clone(),
                data_type: old.attributes[oi].data_type.to_string(),
            }),
        }
    }
    for (ni, new_attr) in new.attributes.iter().enumerate() {
        match old_of_new[ni] {
            None => changes.push(Change::AttributeAdded {
                entity: entity.clone(),
                attribute: new_attr.name.clone(),
                data_type: new_attr.data_type.to_string(),
                nullable: new_attr.nullable,
                default: new_attr.default.clone(),
            }),
            Some(oi) => {
                let old_attr = &old.attributes[oi];
                if let Some(Matched {
                    renamed: Some(confidence),
                    ..
                }) = attrs[oi]
                {
                    changes.push(Change::AttributeRenamed {
                        entity: entity.clone(),
                        from: old_attr.name.clone(),
                        to: new_attr.name.clone(),
                        confidence,
                    });
                }
                diff_attribute(&entity, old_attr, new_attr, changes);
            }
        }
    }
    // Keys, constraints and indexes name attributes: compare the old ones translated into the
    // newer model's names, so that a renamed key column is one rename, not a key change too.
    let renamed = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .map(|n| {
                old.attributes
                    .iter()
                    .position(|a| a.name.eq_ignore_ascii_case(n))
                    .and_then(|oi| attrs[oi])
                    .map_or_else(
                        || n.to_ascii_lowercase(),
                        |m| new.attributes[m.index].name.to_ascii_lowercase(),
                    )
            })
            .collect()
    };
    if renamed(&old.primary_key) != lower(&new.primary_key) {
        changes.push(Change::PrimaryKeyChanged {
            entity: entity.clone(),
            from: old.primary_key.clone(),
            to: new.primary_key.clone(),
        });
    }
    for u in &old.unique {
        let key = renamed(u);
        if !new.unique.iter().any(|n| lower(n) == key) {
            changes.push(Change::UniqueRemoved {
                entity: entity.clone(),
                attributes: u.clone(),
            });
        }
    }
    for u in &new.unique {
        let key = lower(u);
        if !old.unique.iter().any(|o| renamed(o) == key) {
            changes.push(Change::UniqueAdded {
                entity: entity.clone(),
                attributes: u.clone(),
            });
        }
    }
    let same_index = |o: &Index, n: &Index| {
        o.name.eq_ignore_ascii_case(&n.name)
            && o.unique == n.unique
            && renamed(&o.attributes) == lower(&n.attributes)
    };
    for i in &old.indexes {
        if !new.indexes.iter().any(|n| same_index(i, n)) {
            changes.push(Change::IndexRemoved {
                entity: entity.clone(),
                index: i.name.clone(),
                attributes: i.attributes.clone(),
                unique: i.unique,
            });
        }
    }
    for i in &new.indexes {
        if !old.indexes.iter().any(|o| same_index(o, i)) {
            changes.push(Change::IndexAdded {
                entity: entity.clone(),
                index: i.name.clone(),
                attributes: i.attributes.clone(),
                unique: i.unique,
            });
        }
    }
}

fn diff_attribute(entity: &str, old: &Attribute, new: &Attribute, changes: &mut Vec<Change>) {
    // Compare first and render only what differs: most attributes of a big model are unchanged,
    // and rendering every field of every attribute would dominate the diff's cost.
    let mut field = |field: AttributeField, from: String, to: String| {
        changes.push(Change::AttributeChanged {
            entity: entity.to_string(),
            attribute: new.name.clone(),
            field,
            from,
            to,
        });
    };
    if old.data_type != new.data_type {
        field(
            AttributeField::Type,
            old.data_type.to_string(),
            new.data_type.to_string(),
        );
    }
    if old.nullable != new.nullable {
        field(
            AttributeField::Nullable,
            old.nullable.to_string(),
            new.nullable.to_string(),
        );
    }
    if old.default.as_deref().unwrap_or_default() != new.default.as_deref().unwrap_or_default() {
        field(
            AttributeField::Default,
            old.default.clone().unwrap_or_default(),
            new.default.clone().unwrap_or_default(),
        );
    }
    if old.description != new.description {
        field(
            AttributeField::Description,
            old.description.clone(),
            new.description.clone(),
        );
    }
    if old.tags != new.tags {
        field(
            AttributeField::Tags,
            old.tags.join(", "),
            new.tags.join(", "),
        );
    }
    if old.auto_increment != new.auto_increment {
        field(
            AttributeField::AutoIncrement,
            old.auto_increment.to_string(),
            new.auto_increment.to_string(),
        );
    }
    if old.case_insensitive != new.case_insensitive {
        field(
            AttributeField::CaseInsensitive,
            old.case_insensitive.to_string(),
            new.case_insensitive.to_string(),
        );
    }
    let native = |a: &Attribute| {
        a.native
            .as_ref()
            .map(|n| format!("{}:{}", n.dialect, n.name))
            .unwrap_or_default()
    };
    if native(old) != native(new) {
        field(AttributeField::NativeType, native(old), native(new));
    }
}

/// The identity of a relationship: both ends, in lower case.
type RelKey = (String, Vec<String>, String, Vec<String>);

fn rel_key(r: &Relationship) -> RelKey {
    (
        r.from_entity.to_ascii_lowercase(),
        lower(&r.from_attributes),
        r.to_entity.to_ascii_lowercase(),
        lower(&r.to_attributes),
    )
}

fn diff_relationships(old: &Model, new: &Model, matching: &Matching, changes: &mut Vec<Change>) {
    // An old relationship's identity in the newer model's names, through renames. Old entities
    // are looked up through one index, not a scan per relationship.
    let old_index = old.entity_positions();
    let translate = |r: &Relationship| -> RelKey {
        let entity = |e: &str| {
            old_index
                .get(&e.to_ascii_lowercase())
                .and_then(|&i| matching.entities[i])
                .map_or(e, |m| new.entities[m.index].name.as_str())
                .to_ascii_lowercase()
        };
        let attrs = |e: &str, names: &[String]| {
            let ei = old_index.get(&e.to_ascii_lowercase()).copied();
            names
                .iter()
                .map(|a| {
                    ei.and_then(|ei| matching.attribute_name_at(old, new, ei, a))
                        .unwrap_or(a)
                        .to_ascii_lowercase()
                })
                .collect::<Vec<_>>()
        };
        (
            entity(&r.from_entity),
            attrs(&r.from_entity, &r.from_attributes),
            entity(&r.to_entity),
            attrs(&r.to_entity, &r.to_attributes),
        )
    };
    let new_keys: HashMap<RelKey, usize> = new
        .relationships
        .iter()
        .enumerate()
        .map(|(i, r)| (rel_key(r), i))
        .collect();
    let mut matched_new = vec![false; new.relationships.len()];
    let mut changed = Vec::new();
    for rel in &old.relationships {
        match new_keys.get(&translate(rel)) {
            Some(&ni) => {
                matched_new[ni] = true;
                let now = &new.relationships[ni];
                let mut field = |field: RelationshipField, from: String, to: String| {
                    if from != to {
                        changed.push(Change::RelationshipChanged {
                            name: now.name.clone(),
                            from_entity: now.from_entity.clone(),
                            to_entity: now.to_entity.clone(),
                            field,
                            from,
                            to,
                        });
                    }
                };
                field(RelationshipField::Name, rel.name.clone(), now.name.clone());
                field(
                    RelationshipField::Cardinality,
                    rel.cardinality.to_string(),
                    now.cardinality.to_string(),
                );
                field(
                    RelationshipField::OnDelete,
                    rel.on_delete.to_string(),
                    now.on_delete.to_string(),
                );
            }
            None => changes.push(Change::RelationshipRemoved {
                name: rel.name.clone(),
                from_entity: rel.from_entity.clone(),
                from_attributes: rel.from_attributes.clone(),
                to_entity: rel.to_entity.clone(),
                to_attributes: rel.to_attributes.clone(),
            }),
        }
    }
    for (rel, matched) in new.relationships.iter().zip(&matched_new) {
        if !matched {
            changes.push(Change::RelationshipAdded {
                name: rel.name.clone(),
                from_entity: rel.from_entity.clone(),
                from_attributes: rel.from_attributes.clone(),
                to_entity: rel.to_entity.clone(),
                to_attributes: rel.to_attributes.clone(),
            });
        }
    }
    changes.extend(changed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};
    use crate::LogicalType;

    #[test]
    fn identical_models_have_no_changes() {
        assert_eq!(diff_models(&sample(), &sample()), ModelDiff::default());
    }

    #[test]
    fn library_v1_to_v2() {
        let described: Vec<String> = diff_models(&sample(), &v2())
            .changes
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            vec![
                "summary changed",
                "narrative changed",
                "attribute `book.edition` removed (was integer)",
                "type of `member.name` changed from `string(100)` to `string(200)`",
                "attribute `member.email` added: string(320), nullable",
                "entity `audit_log` added with 8 attributes",
            ]
        );
    }

    #[test]
    fn reverse_diff_mirrors_the_forward_one() {
        let changes = diff_models(&v2(), &sample()).changes;
        let classes: Vec<ChangeClass> = changes.iter().map(Change::class).collect();
        assert_eq!(
            classes,
            vec![
                ChangeClass::Changed,
                ChangeClass::Changed,
                ChangeClass::Removed,
                ChangeClass::Added,
                ChangeClass::Removed,
                ChangeClass::Changed,
            ]
        );
        assert_eq!(changes[2].entity(), Some("audit_log"));
    }

    #[test]
    fn keys_indexes_and_relationships() {
        let old = sample();
        let mut new = sample();
        new.entities[3].primary_key = vec!["book_id".into(), "member_id".into()];
        new.entities[3].indexes.clear();
        new.relationships.remove(0);
        let changes = diff_models(&old, &new).changes;
        assert_eq!(
            changes.iter().map(Change::describe).collect::<Vec<_>>(),
            vec![
                "primary key of `loan` changed from (id) to (book_id, member_id)",
                "index `loan_member_open` on `loan` (member_id, returned_at) removed",
                "relationship `book_author` removed: book → author",
            ]
        );
    }

    #[test]
    fn names_match_ignoring_case() {
        let old = sample();
        let mut new = sample();
        new.entities[0].name = "AUTHOR".into();
        new.entities[0].attributes[1].name = "Full_Name".into();
        assert_eq!(diff_models(&old, &new).changes, vec![]);
    }

    #[test]
    fn entity_rename_is_detected_and_relationships_follow() {
        let old = sample();
        let mut new = sample();
        new.entities[2].name = "patron".into();
        for r in &mut new.relationships {
            if r.to_entity == "member" {
                r.to_entity = "patron".into();
            }
        }
        let changes = diff_models(&old, &new).changes;
        assert_eq!(changes.len(), 1, "{changes:?}");
        match &changes[0] {
            Change::EntityRenamed {
                from,
                to,
                confidence,
            } => {
                assert_eq!((from.as_str(), to.as_str()), ("member", "patron"));
                assert!(*confidence >= RENAME_THRESHOLD, "{confidence}");
                assert!(
                    *confidence < 100,
                    "names differ, so not certain: {confidence}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn attribute_rename_keeps_keys_indexes_and_relationships_quiet() {
        let old = sample();
        let mut new = sample();
        // loan.member_id is in an index and a relationship.
        new.entities[3].attributes[2].name = "patron_id".into();
        new.entities[3].indexes[0].attributes[0] = "patron_id".into();
        new.relationships[2].from_attributes = vec!["patron_id".into()];
        let described: Vec<String> = diff_models(&old, &new)
            .changes
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(described.len(), 1, "{described:?}");
        assert!(
            described[0].starts_with("attribute `loan.member_id` renamed to `loan.patron_id` ("),
            "{described:?}"
        );
    }

    #[test]
    fn a_rename_with_a_type_change_stays_a_drop_and_an_add() {
        let old = sample();
        let mut new = sample();
        new.entities[1].attributes[4].name = "edition_label".into();
        new.entities[1].attributes[4].data_type = LogicalType::String(Some(20));
        let described: Vec<String> = diff_models(&old, &new)
            .changes
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            vec![
                "attribute `book.edition` removed (was integer)",
                "attribute `book.edition_label` added: string(20), nullable",
            ]
        );
    }

    #[test]
    fn unrelated_entities_are_not_taken_for_a_rename() {
        let old = sample();
        let mut new = sample();
        new.entities.remove(0); // author
        new.relationships.remove(0);
        let mut shelf = old.entities[2].clone();
        shelf.name = "shelf".into();
        shelf.attributes = vec![shelf.attributes[0].clone()];
        shelf.attributes.push(Attribute {
            name: "aisle".into(),
            data_type: LogicalType::Integer,
            nullable: false,
            default: None,
            description: String::new(),
            tags: vec![],
            auto_increment: false,
            native: None,
            case_insensitive: false,
        });
        new.entities.push(shelf);
        let kinds: Vec<ChangeClass> = diff_models(&old, &new)
            .changes
            .iter()
            .map(Change::class)
            .collect();
        assert_eq!(
            kinds,
            vec![
                ChangeClass::Removed,
                ChangeClass::Added,
                ChangeClass::Removed
            ]
        );
    }

    #[test]
    fn relationship_and_unique_changes() {
        let old = sample();
        let mut new = sample();
        new.relationships[2].on_delete = crate::OnDelete::Restrict;
        new.entities[1]
            .unique
            .push(vec!["title".into(), "author_id".into()]);
        let described: Vec<String> = diff_models(&old, &new)
            .changes
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            vec![
                "unique constraint (title, author_id) added to `book`",
                "on delete of relationship `loan_member` changed from `cascade` to `restrict`",
            ]
        );
    }
}
