//! Semantic diff: what changed between two models, in the model's own terms.
//!
//! Entities and attributes are matched by name, ignoring ASCII case. A *change* is one fact
//! about the model ("attribute `member.email` added", "type of `member.name` changed from
//! string(100) to string(200)"), not a line of text. The changes come out in a stable order:
//! entities in the order of the newer model (removed ones where they stood in the older one),
//! and within an entity, attribute changes before key changes.

use super::types::{Attribute, Entity, Model, Relationship};
use serde::{Deserialize, Serialize};

/// Which property of an attribute changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeField {
    Type,
    Nullable,
    Default,
    Description,
    Tags,
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

/// Computes the semantic diff from `old` to `new`.
pub fn diff_models(old: &Model, new: &Model) -> ModelDiff {
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
    for old_entity in &old.entities {
        if new.entity(&old_entity.name).is_none() {
            changes.push(Change::EntityRemoved {
                entity: old_entity.name.clone(),
                attributes: old_entity.attributes.len(),
            });
        }
    }
    for new_entity in &new.entities {
        match old.entity(&new_entity.name) {
            None => changes.push(Change::EntityAdded {
                entity: new_entity.name.clone(),
                attributes: new_entity.attributes.len(),
            }),
            Some(old_entity) => diff_entity(old_entity, new_entity, &mut changes),
        }
    }
    let key = |r: &Relationship| {
        (
            r.from_entity.to_ascii_lowercase(),
            r.from_attributes
                .iter()
                .map(|a| a.to_ascii_lowercase())
                .collect::<Vec<_>>(),
            r.to_entity.to_ascii_lowercase(),
            r.to_attributes
                .iter()
                .map(|a| a.to_ascii_lowercase())
                .collect::<Vec<_>>(),
        )
    };
    for rel in &old.relationships {
        if !new.relationships.iter().any(|n| key(n) == key(rel)) {
            changes.push(Change::RelationshipRemoved {
                name: rel.name.clone(),
                from_entity: rel.from_entity.clone(),
                from_attributes: rel.from_attributes.clone(),
                to_entity: rel.to_entity.clone(),
                to_attributes: rel.to_attributes.clone(),
            });
        }
    }
    for rel in &new.relationships {
        if !old.relationships.iter().any(|o| key(o) == key(rel)) {
            changes.push(Change::RelationshipAdded {
                name: rel.name.clone(),
                from_entity: rel.from_entity.clone(),
                from_attributes: rel.from_attributes.clone(),
                to_entity: rel.to_entity.clone(),
                to_attributes: rel.to_attributes.clone(),
            });
        }
    }
    ModelDiff { changes }
}

fn diff_entity(old: &Entity, new: &Entity, changes: &mut Vec<Change>) {
    let entity = new.name.clone();
    if old.description != new.description {
        changes.push(Change::EntityDescriptionChanged {
            entity: entity.clone(),
            from: old.description.clone(),
            to: new.description.clone(),
        });
    }
    for old_attr in &old.attributes {
        if new.attribute(&old_attr.name).is_none() {
            changes.push(Change::AttributeRemoved {
                entity: entity.clone(),
                attribute: old_attr.name.clone(),
                data_type: old_attr.data_type.to_string(),
            });
        }
    }
    for new_attr in &new.attributes {
        match old.attribute(&new_attr.name) {
            None => changes.push(Change::AttributeAdded {
                entity: entity.clone(),
                attribute: new_attr.name.clone(),
                data_type: new_attr.data_type.to_string(),
                nullable: new_attr.nullable,
                default: new_attr.default.clone(),
            }),
            Some(old_attr) => diff_attribute(&entity, old_attr, new_attr, changes),
        }
    }
    let lower = |names: &[String]| {
        names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    if lower(&old.primary_key) != lower(&new.primary_key) {
        changes.push(Change::PrimaryKeyChanged {
            entity: entity.clone(),
            from: old.primary_key.clone(),
            to: new.primary_key.clone(),
        });
    }
    for u in &old.unique {
        if !new.unique.iter().any(|n| lower(n) == lower(u)) {
            changes.push(Change::UniqueRemoved {
                entity: entity.clone(),
                attributes: u.clone(),
            });
        }
    }
    for u in &new.unique {
        if !old.unique.iter().any(|o| lower(o) == lower(u)) {
            changes.push(Change::UniqueAdded {
                entity: entity.clone(),
                attributes: u.clone(),
            });
        }
    }
    for i in &old.indexes {
        if !new.indexes.contains(i) {
            changes.push(Change::IndexRemoved {
                entity: entity.clone(),
                index: i.name.clone(),
                attributes: i.attributes.clone(),
                unique: i.unique,
            });
        }
    }
    for i in &new.indexes {
        if !old.indexes.contains(i) {
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
    let mut field = |field: AttributeField, from: String, to: String| {
        if from != to {
            changes.push(Change::AttributeChanged {
                entity: entity.to_string(),
                attribute: new.name.clone(),
                field,
                from,
                to,
            });
        }
    };
    field(
        AttributeField::Type,
        old.data_type.to_string(),
        new.data_type.to_string(),
    );
    field(
        AttributeField::Nullable,
        old.nullable.to_string(),
        new.nullable.to_string(),
    );
    field(
        AttributeField::Default,
        old.default.clone().unwrap_or_default(),
        new.default.clone().unwrap_or_default(),
    );
    field(
        AttributeField::Description,
        old.description.clone(),
        new.description.clone(),
    );
    field(
        AttributeField::Tags,
        old.tags.join(", "),
        new.tags.join(", "),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::types::tests::sample;

    fn v2() -> Model {
        serde_json::from_str(include_str!("../../tests/data/library-v2.json")).expect("v2 parses")
    }

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
}
