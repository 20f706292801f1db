//! Change operations: the contract for LLM drafts after the first (DESIGN §4).
//!
//! A *change set* is what the LLM returns for a later
//! draft: a list of operations against the latest draft, each with a rationale that may cite
//! change notes. [`apply`] applies any chosen subset to a copy of the model and reports, per
//! operation, whether it applied and why not.

use super::logical_type::LogicalType;
use super::parse::{balanced_end, extract_json, fenced_blocks, parse_json_as, ParseError};
use super::types::{Attribute, Entity, Index, Model, Relationship};
use serde::{Deserialize, Serialize};

/// One change to a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    AddEntity {
        entity: Entity,
    },
    DropEntity {
        entity: String,
    },
    RenameEntity {
        from: String,
        to: String,
    },
    SetEntityDescription {
        entity: String,
        description: String,
    },
    AddAttribute {
        entity: String,
        attribute: Attribute,
    },
    /// Changes the given properties of an attribute; absent ones stay as they are.
    AlterAttribute {
        entity: String,
        attribute: String,
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        data_type: Option<LogicalType>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nullable: Option<bool>,
        /// `Some(None)` (JSON `null`) removes the default.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        default: Option<Option<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tags: Option<Vec<String>>,
    },
    DropAttribute {
        entity: String,
        attribute: String,
    },
    RenameAttribute {
        entity: String,
        from: String,
        to: String,
    },
    SetPrimaryKey {
        entity: String,
        attributes: Vec<String>,
    },
    AddUnique {
        entity: String,
        attributes: Vec<String>,
    },
    DropUnique {
        entity: String,
        attributes: Vec<String>,
    },
    AddIndex {
        entity: String,
        index: Index,
    },
    DropIndex {
        entity: String,
        index: String,
    },
    AddRelationship {
        relationship: Relationship,
    },
    /// Drops the relationship from `from_entity` to `to_entity` (by `name` when several).
    DropRelationship {
        from_entity: String,
        to_entity: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    SetSummary {
        summary: String,
    },
    SetNarrative {
        narrative: String,
    },
}

/// One proposed operation with the LLM's reason for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposedChange {
    #[serde(flatten)]
    pub operation: Operation,
    #[serde(default)]
    pub rationale: String,
    /// Ids (or quoted text) of the change notes the operation answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What the LLM returns for a later draft.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub changes: Vec<ProposedChange>,
}

/// Whether one operation applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub index: usize,
    pub applied: bool,
    /// Why it did not apply (or was not selected).
    pub reason: Option<String>,
    /// Side effects of an applied operation, such as an index dropped with its attribute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The model after applying a selection, and one outcome per proposed change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub model: Model,
    pub outcomes: Vec<Outcome>,
}

/// Reads a change set out of an LLM answer (bare JSON, fenced, or with prose around). The
/// answer may be `{"changes": [...]}` or the bare list `[...]`. Fenced blocks are tried first,
/// then the first object in the text, then the first list; the error reported is the one of the
/// first candidate, which is the one the model most likely meant.
pub fn parse_change_set(text: &str) -> Result<ChangeSet, ParseError> {
    let shape = |line, column, message| ParseError::NotAChangeSet {
        line,
        column,
        message,
    };
    let read = |json: &str| -> Result<ChangeSet, ParseError> {
        if json.starts_with('[') {
            parse_json_as::<Vec<ProposedChange>>(json, shape).map(|changes| ChangeSet { changes })
        } else {
            parse_json_as::<ChangeSet>(json, shape)
        }
    };
    let mut candidates: Vec<Result<&str, ParseError>> = fenced_blocks(text)
        .filter(|b| b.starts_with('{') || b.starts_with('['))
        .map(Ok)
        .collect();
    candidates.push(extract_json(text));
    if let Some(i) = text.find('[') {
        candidates.push(
            balanced_end(&text[i..])
                .map(|end| &text[i..i + end])
                .ok_or(ParseError::Unterminated),
        );
    }
    let mut first_error = None;
    for candidate in candidates {
        match candidate.and_then(read) {
            Ok(set) => return Ok(set),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(ParseError::NoJson))
}

/// Applies the changes whose index is in `selected` (all when `None`) to a copy of `model`,
/// in order; an operation that cannot apply is reported and skipped, never half-applied.
///
/// The copy is made once. Each operation is first *checked* against the model as the operations
/// before it left it (`check`, which only reads), and only an operation that passes is
/// *performed* (`perform`, which cannot fail): so a refused operation has changed nothing,
/// without copying the model for every operation.
pub fn apply(model: &Model, changes: &[ProposedChange], selected: Option<&[usize]>) -> Applied {
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
            match check(&model, &change.operation) {
                Ok(at) => Outcome {
                    index,
                    applied: true,
                    reason: None,
                    notes: perform(&mut model, &change.operation, at),
                },
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

/// Where a checked operation applies: the positions [`check`] found, for [`perform`]. A
/// position the operation does not name stays 0 and is not read.
#[derive(Clone, Copy, Debug, Default)]
struct Target {
    entity: usize,
    attribute: usize,
    relationship: usize,
}

impl Target {
    fn entity(entity: usize) -> Target {
        Target {
            entity,
            ..Target::default()
        }
    }

    fn attribute(entity: usize, attribute: usize) -> Target {
        Target {
            entity,
            attribute,
            ..Target::default()
        }
    }
}

/// Whether `op` can apply to `model`, and where; or why not. Reads only: every reason an
/// operation is refused is found here, before [`perform`] changes anything.
fn check(model: &Model, op: &Operation) -> Result<Target, String> {
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
            Ok(Target::default())
        }
        Operation::DropEntity { entity } | Operation::SetEntityDescription { entity, .. } => {
            entity_index(model, entity).map(Target::entity)
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
            Ok(Target::entity(i))
        }
        Operation::AddAttribute { entity, attribute } => {
            let i = entity_index(model, entity)?;
            let e = &model.entities[i];
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
            Ok(Target::entity(i))
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
            let e = &model.entities[i];
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
            if let Some(t) = data_type {
                known_type(t, &format!("`{entity}.{attribute}`"))?;
            }
            Ok(Target::attribute(i, j))
        }
        Operation::DropAttribute { entity, attribute } => {
            let i = entity_index(model, entity)?;
            let e = &model.entities[i];
            let j = attribute_index(e, attribute)?;
            if e.is_key(attribute) {
                return Err(format!(
                    "`{}.{attribute}` is part of the primary key: change the primary key first",
                    e.name
                ));
            }
            if e.attributes.len() == 1 {
                return Err(format!(
                    "`{attribute}` is the last attribute of `{}`: drop the entity instead",
                    e.name
                ));
            }
            Ok(Target::attribute(i, j))
        }
        Operation::RenameAttribute { entity, from, to } => {
            let i = entity_index(model, entity)?;
            let e = &model.entities[i];
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
            Ok(Target::attribute(i, j))
        }
        Operation::SetPrimaryKey { entity, attributes } => {
            let i = entity_index(model, entity)?;
            check_names(&model.entities[i], attributes, "primary key")?;
            Ok(Target::entity(i))
        }
        Operation::AddUnique { entity, attributes } => {
            let i = entity_index(model, entity)?;
            let e = &model.entities[i];
            check_names(e, attributes, "unique constraint")?;
            if e.unique.iter().any(|u| same_names(u, attributes)) {
                return Err(format!(
                    "`{}` already has unique ({})",
                    e.name,
                    attributes.join(", ")
                ));
            }
            Ok(Target::entity(i))
        }
        Operation::DropUnique { entity, attributes } => {
            let i = entity_index(model, entity)?;
            let e = &model.entities[i];
            if !e.unique.iter().any(|u| same_names(u, attributes)) {
                return Err(format!(
                    "`{}` has no unique constraint on ({})",
                    e.name,
                    attributes.join(", ")
                ));
            }
            Ok(Target::entity(i))
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
            check_names(&model.entities[i], &index.attributes, "index")?;
            Ok(Target::entity(i))
        }
        Operation::DropIndex { entity, index } => {
            let i = entity_index(model, entity)?;
            let e = &model.entities[i];
            if !e.indexes.iter().any(|x| eq(&x.name, index)) {
                return Err(format!("`{}` has no index named `{index}`", e.name));
            }
            Ok(Target::entity(i))
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
            Ok(Target::default())
        }
        Operation::DropRelationship {
            from_entity,
            to_entity,
            name,
        } => {
            let mut found = model.relationships.iter().enumerate().filter(|(_, r)| {
                eq(&r.from_entity, from_entity)
                    && eq(&r.to_entity, to_entity)
                    && name.as_ref().is_none_or(|n| eq(&r.name, n))
            });
            match (found.next(), found.next()) {
                (None, _) => Err(format!(
                    "there is no relationship {from_entity} → {to_entity}{}",
                    name.as_ref()
                        .map(|n| format!(" named `{n}`"))
                        .unwrap_or_default()
                )),
                (Some((i, _)), None) => Ok(Target {
                    relationship: i,
                    ..Target::default()
                }),
                (Some(_), Some(_)) => Err(format!(
                    "there are several relationships {from_entity} → {to_entity}: give the name of the one to drop"
                )),
            }
        }
        Operation::SetSummary { .. } | Operation::SetNarrative { .. } => Ok(Target::default()),
    }
}

/// Performs `op`, which [`check`] accepted on this very `model` and found at `at`; returns
/// notes on side effects. Cannot fail: whatever could refuse the operation was checked.
fn perform(model: &mut Model, op: &Operation, at: Target) -> Vec<String> {
    let mut notes = Vec::new();
    match op {
        Operation::AddEntity { entity } => model.entities.push(entity.clone()),
        Operation::DropEntity { .. } => {
            let name = model.entities.remove(at.entity).name;
            model.relationships.retain(|r| {
                let touches = eq(&r.from_entity, &name) || eq(&r.to_entity, &name);
                if touches {
                    notes.push(dropped_with_it(r));
                }
                !touches
            });
        }
        Operation::RenameEntity { to, .. } => {
            let old = std::mem::replace(&mut model.entities[at.entity].name, to.clone());
            for r in &mut model.relationships {
                if eq(&r.from_entity, &old) {
                    r.from_entity = to.clone();
                }
                if eq(&r.to_entity, &old) {
                    r.to_entity = to.clone();
                }
            }
        }
        Operation::SetEntityDescription { description, .. } => {
            model.entities[at.entity].description = description.clone();
        }
        Operation::AddAttribute { attribute, .. } => {
            model.entities[at.entity].attributes.push(attribute.clone());
        }
        Operation::AlterAttribute {
            data_type,
            nullable,
            default,
            description,
            tags,
            ..
        } => {
            let a = &mut model.entities[at.entity].attributes[at.attribute];
            if let Some(t) = data_type {
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
        Operation::DropAttribute { attribute, .. } => {
            let ename = model.entities[at.entity].name.clone();
            let named = |list: &[String]| list.iter().any(|n| eq(n, attribute));
            model.relationships.retain(|r| {
                let uses = (eq(&r.from_entity, &ename) && named(&r.from_attributes))
                    || (eq(&r.to_entity, &ename) && named(&r.to_attributes));
                if uses {
                    notes.push(dropped_with_it(r));
                }
                !uses
            });
            let e = &mut model.entities[at.entity];
            e.attributes.remove(at.attribute);
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
        Operation::RenameAttribute { to, .. } => {
            let e = &mut model.entities[at.entity];
            let old = std::mem::replace(&mut e.attributes[at.attribute].name, to.clone());
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
        Operation::SetPrimaryKey { attributes, .. } => {
            let e = &mut model.entities[at.entity];
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
        Operation::AddUnique { attributes, .. } => {
            model.entities[at.entity].unique.push(attributes.clone());
        }
        Operation::DropUnique { attributes, .. } => {
            model.entities[at.entity]
                .unique
                .retain(|u| !same_names(u, attributes));
        }
        Operation::AddIndex { index, .. } => {
            model.entities[at.entity].indexes.push(index.clone());
        }
        Operation::DropIndex { index, .. } => {
            model.entities[at.entity]
                .indexes
                .retain(|x| !eq(&x.name, index));
        }
        Operation::AddRelationship { relationship } => {
            model.relationships.push(relationship.clone());
        }
        Operation::DropRelationship { .. } => {
            model.relationships.remove(at.relationship);
        }
        Operation::SetSummary { summary } => model.summary = summary.clone(),
        Operation::SetNarrative { narrative } => model.narrative = narrative.clone(),
    }
    notes
}

impl Operation {
    /// One sentence that says what the operation does.
    pub fn describe(&self) -> String {
        match self {
            Operation::AddEntity { entity } => format!(
                "add entity `{}` with {} attributes",
                entity.name,
                entity.attributes.len()
            ),
            Operation::DropEntity { entity } => format!("drop entity `{entity}`"),
            Operation::RenameEntity { from, to } => format!("rename entity `{from}` to `{to}`"),
            Operation::SetEntityDescription { entity, .. } => {
                format!("describe entity `{entity}`")
            }
            Operation::AddAttribute { entity, attribute } => format!(
                "add attribute `{entity}.{}`: {}{}",
                attribute.name,
                attribute.data_type,
                if attribute.nullable {
                    ", nullable"
                } else {
                    ", not null"
                }
            ),
            Operation::AlterAttribute {
                entity,
                attribute,
                data_type,
                nullable,
                default,
                description,
                tags,
            } => {
                let mut parts = Vec::new();
                if let Some(t) = data_type {
                    parts.push(format!("type {t}"));
                }
                if let Some(n) = nullable {
                    parts.push(if *n {
                        "nullable".into()
                    } else {
                        "not null".into()
                    });
                }
                match default {
                    Some(Some(d)) => parts.push(format!("default {d}")),
                    Some(None) => parts.push("no default".into()),
                    None => {}
                }
                if description.is_some() {
                    parts.push("description".into());
                }
                if let Some(t) = tags {
                    parts.push(format!("tags [{}]", t.join(", ")));
                }
                format!("alter `{entity}.{attribute}`: {}", parts.join(", "))
            }
            Operation::DropAttribute { entity, attribute } => {
                format!("drop attribute `{entity}.{attribute}`")
            }
            Operation::RenameAttribute { entity, from, to } => {
                format!("rename attribute `{entity}.{from}` to `{entity}.{to}`")
            }
            Operation::SetPrimaryKey { entity, attributes } => {
                format!(
                    "set the primary key of `{entity}` to ({})",
                    attributes.join(", ")
                )
            }
            Operation::AddUnique { entity, attributes } => {
                format!("add unique ({}) to `{entity}`", attributes.join(", "))
            }
            Operation::DropUnique { entity, attributes } => {
                format!("drop unique ({}) from `{entity}`", attributes.join(", "))
            }
            Operation::AddIndex { entity, index } => format!(
                "add {}index `{}` on `{entity}` ({})",
                if index.unique { "unique " } else { "" },
                index.name,
                index.attributes.join(", ")
            ),
            Operation::DropIndex { entity, index } => {
                format!("drop index `{index}` of `{entity}`")
            }
            Operation::AddRelationship { relationship: r } => format!(
                "add relationship `{}`: {} ({}, on delete {})",
                r.name,
                r.link(),
                r.cardinality,
                r.on_delete
            ),
            Operation::DropRelationship {
                from_entity,
                to_entity,
                name,
            } => format!(
                "drop relationship {from_entity} → {to_entity}{}",
                name.as_ref()
                    .map(|n| format!(" (`{n}`)"))
                    .unwrap_or_default()
            ),
            Operation::SetSummary { .. } => "rewrite the summary".into(),
            Operation::SetNarrative { .. } => "rewrite the narrative".into(),
        }
    }
}

/// JSON Schema (2020-12) of a change set, for providers that accept a response schema.
///
/// Written by hand rather than derived from [`Operation`] (with `schemars`, say), because it is
/// deliberately tighter than what serde's derive would describe, and each tightening is what a
/// provider's structured output needs: every branch lists the change's `rationale` and `notes`
/// next to the operation's fields and closes itself with `additionalProperties: false` (a derived
/// schema of the flattened, internally tagged enum cannot do both without
/// `unevaluatedProperties`, which providers do not take); a change must give a `rationale` and an
/// entity its `primary_key` although the parser defaults them; attribute lists have `minItems: 1`;
/// a logical type is a string with the pattern of the types the parser knows. Nor would deriving
/// give OpenAI's `strict: true` for free: strict mode wants every property required (optional
/// ones as `null`-able), `anyOf` instead of `oneOf` and no `pattern`, which is another contract
/// that the parser would have to accept too. The tests in `schema_contract` below hold this
/// schema to the type field by field, both ways, so that it cannot drift from it.
pub fn change_set_schema() -> serde_json::Value {
    use serde_json::json;
    let names = json!({"type": "array", "items": {"type": "string"}, "minItems": 1});
    let text = json!({"type": "string"});
    let attribute = json!({
        "type": "object",
        "required": ["name", "type"],
        "properties": {
            "name": text, "type": {"$ref": "#/$defs/logical_type"}, "nullable": {"type": "boolean"},
            "default": {"type": ["string", "null"]}, "description": text,
            "tags": {"type": "array", "items": text}, "auto_increment": {"type": "boolean"},
            "native": {
                "type": "object",
                "required": ["dialect", "type"],
                "properties": {
                    "dialect": {"enum": ["postgres", "mysql", "sqlite"]}, "type": text,
                    "approximate": {"type": "boolean"}
                },
                "additionalProperties": false
            },
            "case_insensitive": {"type": "boolean"}
        },
        "additionalProperties": false
    });
    let index = json!({
        "type": "object",
        "required": ["name", "attributes"],
        "properties": {
            "name": text, "attributes": names, "unique": {"type": "boolean"}, "expression": text
        },
        "additionalProperties": false
    });
    let entity = json!({
        "type": "object",
        "required": ["name", "attributes", "primary_key"],
        "properties": {
            "name": text, "description": text,
            "attributes": {"type": "array", "items": {"$ref": "#/$defs/attribute"}},
            "primary_key": names,
            "unique": {"type": "array", "items": names},
            "indexes": {"type": "array", "items": {"$ref": "#/$defs/index"}},
            "tags": {"type": "array", "items": text}
        },
        "additionalProperties": false
    });
    let relationship = json!({
        "type": "object",
        "required": ["from_entity", "from_attributes", "to_entity", "to_attributes", "cardinality"],
        "properties": {
            "name": text, "from_entity": text, "from_attributes": names, "to_entity": text,
            "to_attributes": names, "cardinality": {"enum": ["1:1", "N:1", "N:M"]},
            "on_delete": {"enum": ["no_action", "restrict", "cascade", "set_null"]}
        },
        "additionalProperties": false
    });
    // One branch per operation: its fields, plus the rationale and cited notes every change has.
    let op = |name: &str, required: &[&str], fields: serde_json::Value| {
        let mut properties = fields.as_object().cloned().unwrap_or_default();
        properties.insert("op".into(), json!({"const": name}));
        properties.insert("rationale".into(), json!({"type": "string"}));
        properties.insert(
            "notes".into(),
            json!({"type": "array", "items": {"type": "string"}}),
        );
        let mut req = vec!["op", "rationale"];
        req.extend_from_slice(required);
        json!({
            "type": "object",
            "required": req,
            "properties": properties,
            "additionalProperties": false
        })
    };
    let branches = vec![
        op(
            "add_entity",
            &["entity"],
            json!({"entity": {"$ref": "#/$defs/entity"}}),
        ),
        op("drop_entity", &["entity"], json!({"entity": text})),
        op(
            "rename_entity",
            &["from", "to"],
            json!({"from": text, "to": text}),
        ),
        op(
            "set_entity_description",
            &["entity", "description"],
            json!({"entity": text, "description": text}),
        ),
        op(
            "add_attribute",
            &["entity", "attribute"],
            json!({"entity": text, "attribute": {"$ref": "#/$defs/attribute"}}),
        ),
        op(
            "alter_attribute",
            &["entity", "attribute"],
            json!({
                "entity": text, "attribute": text, "type": {"$ref": "#/$defs/logical_type"},
                "nullable": {"type": "boolean"}, "default": {"type": ["string", "null"]},
                "description": text, "tags": {"type": "array", "items": text}
            }),
        ),
        op(
            "drop_attribute",
            &["entity", "attribute"],
            json!({"entity": text, "attribute": text}),
        ),
        op(
            "rename_attribute",
            &["entity", "from", "to"],
            json!({"entity": text, "from": text, "to": text}),
        ),
        op(
            "set_primary_key",
            &["entity", "attributes"],
            json!({"entity": text, "attributes": names}),
        ),
        op(
            "add_unique",
            &["entity", "attributes"],
            json!({"entity": text, "attributes": names}),
        ),
        op(
            "drop_unique",
            &["entity", "attributes"],
            json!({"entity": text, "attributes": names}),
        ),
        op(
            "add_index",
            &["entity", "index"],
            json!({"entity": text, "index": {"$ref": "#/$defs/index"}}),
        ),
        op(
            "drop_index",
            &["entity", "index"],
            json!({"entity": text, "index": text}),
        ),
        op(
            "add_relationship",
            &["relationship"],
            json!({"relationship": {"$ref": "#/$defs/relationship"}}),
        ),
        op(
            "drop_relationship",
            &["from_entity", "to_entity"],
            json!({"from_entity": text, "to_entity": text, "name": text}),
        ),
        op("set_summary", &["summary"], json!({"summary": text})),
        op("set_narrative", &["narrative"], json!({"narrative": text})),
    ];
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://data-modeller.dev/schemas/change-set.json",
        "title": "Data Modeller change set",
        "type": "object",
        "required": ["changes"],
        "properties": {
            "changes": {"type": "array", "items": {"oneOf": branches}}
        },
        "additionalProperties": false,
        "$defs": {
            "logical_type": {
                "type": "string",
                "pattern": "^(string(\\([0-9]+\\))?|text|integer|bigint|decimal\\([0-9]+(,[0-9]+)?\\)|float|boolean|date|time|timestamp|timestamptz|uuid|json|bytes|enum\\(.+\\))$"
            },
            "attribute": attribute,
            "index": index,
            "entity": entity,
            "relationship": relationship
        }
    })
}

mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Option<String>>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{diff_models, Change};
    use crate::types::tests::sample;
    use crate::validate::{validate, Conventions};

    const CHANGES: &str = r#"{"changes": [
      {"op": "rename_entity", "from": "member", "to": "patron", "rationale": "note 2 asks for it", "notes": ["n2"]},
      {"op": "add_attribute", "entity": "patron", "attribute": {"name": "email", "type": "string(320)", "nullable": true}, "rationale": "contact"},
      {"op": "alter_attribute", "entity": "book", "attribute": "title", "type": "string(500)", "rationale": "long titles"},
      {"op": "drop_attribute", "entity": "loan", "attribute": "returned_at", "rationale": "moved to returns"},
      {"op": "rename_attribute", "entity": "loan", "from": "member_id", "to": "patron_id", "rationale": "follows the entity"},
      {"op": "drop_entity", "entity": "no_such_thing", "rationale": "cleanup"}
    ]}"#;

    #[test]
    fn parses_object_list_fenced_and_with_prose() {
        let list = r#"[{"op": "set_summary", "summary": "s", "rationale": "r"}]"#;
        for text in [
            CHANGES.to_string(),
            format!("Here you go:\n```json\n{CHANGES}\n```\nDone."),
            list.to_string(),
            format!("The changes [two of them]:\n```\n{list}\n```"),
        ] {
            let set = parse_change_set(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(!set.changes.is_empty());
        }
    }

    #[test]
    fn precise_parse_errors() {
        let err = parse_change_set(r#"{"changes": [{"op": "explode", "rationale": ""}]}"#)
            .expect_err("unknown op");
        assert_eq!(err.code(), "VAL_LLM_NOT_A_CHANGE_SET");
        assert!(
            err.to_string().contains("unknown variant `explode`"),
            "{err}"
        );
        let err = parse_change_set(r#"{"changes": [{"op": "drop_entity"}]}"#).expect_err("field");
        assert!(err.to_string().contains("missing field `entity`"), "{err}");
        assert_eq!(
            parse_change_set("I could not do it")
                .expect_err("none")
                .code(),
            "VAL_LLM_NO_JSON"
        );
        assert_eq!(
            parse_change_set(r#"{"changes": [{"op": "#)
                .expect_err("cut")
                .code(),
            "VAL_LLM_TRUNCATED"
        );
    }

    #[test]
    fn applies_in_order_and_reports_each() {
        let set = parse_change_set(CHANGES).expect("parses");
        let applied = apply(&sample(), &set.changes, None);
        let report: Vec<(bool, Option<String>, Vec<String>)> = applied
            .outcomes
            .iter()
            .map(|o| (o.applied, o.reason.clone(), o.notes.clone()))
            .collect();
        assert_eq!(
            report,
            vec![
                (true, None, vec![]),
                (true, None, vec![]),
                (true, None, vec![]),
                (
                    true,
                    None,
                    vec!["index `loan_member_open` dropped with it".to_string()]
                ),
                (true, None, vec![]),
                (
                    false,
                    Some("entity `no_such_thing` does not exist in the draft".to_string()),
                    vec![]
                ),
            ]
        );
        let model = &applied.model;
        assert!(model.entity("patron").is_some() && model.entity("member").is_none());
        assert_eq!(model.relationships[2].to_entity, "patron");
        assert_eq!(model.relationships[2].from_attributes, vec!["patron_id"]);
        assert!(validate(model, &Conventions::default()).is_empty());
        // The diff of the result reads as the operations did.
        let kinds: Vec<String> = diff_models(&sample(), model)
            .changes
            .iter()
            .map(Change::describe)
            .collect();
        assert!(
            kinds
                .iter()
                .any(|k| k.starts_with("entity `member` renamed to `patron`")),
            "{kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|k| k.starts_with("attribute `loan.member_id` renamed")),
            "{kinds:?}"
        );
    }

    #[test]
    fn a_subset_applies_alone() {
        let set = parse_change_set(CHANGES).expect("parses");
        let applied = apply(&sample(), &set.changes, Some(&[2]));
        assert_eq!(applied.outcomes[0].reason.as_deref(), Some("not selected"));
        assert!(applied.outcomes[2].applied);
        let mut expected = sample();
        expected.entities[1].attributes[2].data_type = LogicalType::String(Some(500));
        assert_eq!(applied.model, expected);
    }

    /// `check(operation JSON, reason)`: the operation is refused, and the model is untouched.
    fn check(op: &str, reason: &str) {
        let set = parse_change_set(&format!(r#"{{"changes": [{op}]}}"#)).expect("parses");
        let applied = apply(&sample(), &set.changes, None);
        assert_eq!(applied.outcomes[0].reason.as_deref(), Some(reason), "{op}");
        assert_eq!(applied.model, sample());
    }

    #[test]
    fn refusals_say_why() {
        check(
            r#"{"op": "add_attribute", "entity": "book", "attribute": {"name": "ISBN", "type": "text"}}"#,
            "attribute `book.ISBN` already exists",
        );
        check(
            r#"{"op": "add_attribute", "entity": "book", "attribute": {"name": "x", "type": "varchar2"}}"#,
            "unknown type `varchar2` for `book.x`: use one of string(n), text, integer, bigint, decimal(p,s), float, boolean, date, time, timestamp, timestamptz, uuid, json, bytes, enum(...)",
        );
        check(
            r#"{"op": "drop_attribute", "entity": "book", "attribute": "id"}"#,
            "`book.id` is part of the primary key: change the primary key first",
        );
        check(
            r#"{"op": "alter_attribute", "entity": "book", "attribute": "title"}"#,
            "the alteration of `book.title` changes nothing: give type, nullable, default, description or tags",
        );
        check(
            r#"{"op": "rename_entity", "from": "book", "to": "Member"}"#,
            "entity `Member` already exists",
        );
        check(
            r#"{"op": "set_primary_key", "entity": "loan", "attributes": ["book_id", "nope"]}"#,
            "the primary key names `nope`, which is not an attribute of `loan`",
        );
        check(
            r#"{"op": "add_relationship", "relationship": {"from_entity": "loan", "from_attributes": ["book_id"], "to_entity": "book", "to_attributes": ["id"], "cardinality": "N:1"}}"#,
            "the relationship loan → book already exists",
        );
        check(
            r#"{"op": "drop_index", "entity": "book", "index": "nope"}"#,
            "`book` has no index named `nope`",
        );
        check(
            r#"{"op": "drop_relationship", "from_entity": "book", "to_entity": "member"}"#,
            "there is no relationship book → member",
        );
    }

    #[test]
    fn dropping_an_entity_takes_its_relationships() {
        let set =
            parse_change_set(r#"[{"op": "drop_entity", "entity": "member"}]"#).expect("parses");
        let applied = apply(&sample(), &set.changes, None);
        assert_eq!(
            applied.outcomes[0].notes,
            vec!["relationship `loan_member` (loan → member) dropped with it"]
        );
        assert!(validate(&applied.model, &Conventions::default()).is_empty());
    }

    #[test]
    fn serialization_round_trips_and_the_schema_names_every_operation() {
        let set = parse_change_set(CHANGES).expect("parses");
        let json = serde_json::to_string(&set).expect("serializes");
        assert_eq!(parse_change_set(&json).expect("parses again"), set);
        let schema = change_set_schema();
        let branches = schema["properties"]["changes"]["items"]["oneOf"]
            .as_array()
            .expect("branches");
        let ops: Vec<&str> = branches
            .iter()
            .filter_map(|b| b["properties"]["op"]["const"].as_str())
            .collect();
        assert_eq!(ops.len(), 17);
        // Every operation this build can parse is in the schema, and only those.
        for op in &ops {
            let probe = format!(r#"[{{"op": "{op}"}}]"#);
            let err = parse_change_set(&probe)
                .expect_err("fields are missing")
                .to_string();
            assert!(err.contains("missing field"), "{op}: {err}");
        }
    }
}

#[cfg(test)]
mod library_tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    /// The demo change set (what the fake provider answers to "add an audit log") turns
    /// library v1 into exactly library v2.
    #[test]
    fn the_demo_change_set_turns_v1_into_v2() {
        let set = parse_change_set(include_str!("../tests/data/library-v2-changes.json"))
            .expect("the demo change set parses");
        let applied = apply(&sample(), &set.changes, None);
        assert!(
            applied.outcomes.iter().all(|o| o.applied),
            "{:?}",
            applied.outcomes
        );
        assert_eq!(applied.model, v2());
    }
}

#[cfg(test)]
mod frozen {
    use super::*;

    /// The change-set layout is a contract with the LLM (the prompt and the JSON Schema describe
    /// it) and with local storage (kept proposals): this pins it.
    #[test]
    fn frozen_serialization() {
        let set = ChangeSet {
            changes: vec![
                ProposedChange {
                    operation: Operation::RenameAttribute {
                        entity: "loan".into(),
                        from: "member_id".into(),
                        to: "patron_id".into(),
                    },
                    rationale: "r".into(),
                    notes: vec!["n1".into()],
                },
                ProposedChange {
                    operation: Operation::AlterAttribute {
                        entity: "book".into(),
                        attribute: "title".into(),
                        data_type: Some(LogicalType::String(Some(500))),
                        nullable: None,
                        default: Some(None),
                        description: None,
                        tags: None,
                    },
                    rationale: String::new(),
                    notes: vec![],
                },
            ],
        };
        assert_eq!(
            serde_json::to_string(&set).expect("serializes"),
            r#"{"changes":[{"op":"rename_attribute","entity":"loan","from":"member_id","to":"patron_id","rationale":"r","notes":["n1"]},{"op":"alter_attribute","entity":"book","attribute":"title","type":"string(500)","default":null,"rationale":""}]}"#
        );
    }
}

/// The hand-written [`change_set_schema`] checked against the types it describes, field by field
/// and both ways: a field added to, removed from or renamed in an operation (or in an entity,
/// attribute, index or relationship), or an operation added, removed or renamed, fails here until
/// the schema follows.
#[cfg(test)]
mod schema_contract {
    use super::*;
    use crate::types::{Cardinality, OnDelete};
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};
    use std::collections::BTreeSet;

    /// How many variants [`Operation`] has: [`variant_number`] gives each its number.
    const VARIANTS: usize = 17;

    /// A number per variant. The match has no wildcard, so a new variant does not compile until
    /// it has a number here, and then [`every_variant_is_built`] fails until
    /// [`every_operation`] builds one.
    fn variant_number(op: &Operation) -> usize {
        match op {
            Operation::AddEntity { .. } => 0,
            Operation::DropEntity { .. } => 1,
            Operation::RenameEntity { .. } => 2,
            Operation::SetEntityDescription { .. } => 3,
            Operation::AddAttribute { .. } => 4,
            Operation::AlterAttribute { .. } => 5,
            Operation::DropAttribute { .. } => 6,
            Operation::RenameAttribute { .. } => 7,
            Operation::SetPrimaryKey { .. } => 8,
            Operation::AddUnique { .. } => 9,
            Operation::DropUnique { .. } => 10,
            Operation::AddIndex { .. } => 11,
            Operation::DropIndex { .. } => 12,
            Operation::AddRelationship { .. } => 13,
            Operation::DropRelationship { .. } => 14,
            Operation::SetSummary { .. } => 15,
            Operation::SetNarrative { .. } => 16,
        }
    }

    /// Every [`Cardinality`] and [`OnDelete`]: the matches stop compiling when one is added.
    fn every_cardinality() -> Vec<Cardinality> {
        let all = vec![
            Cardinality::OneToOne,
            Cardinality::ManyToOne,
            Cardinality::ManyToMany,
        ];
        for c in &all {
            match c {
                Cardinality::OneToOne | Cardinality::ManyToOne | Cardinality::ManyToMany => {}
            }
        }
        all
    }

    fn every_on_delete() -> Vec<OnDelete> {
        let all = vec![
            OnDelete::NoAction,
            OnDelete::Restrict,
            OnDelete::Cascade,
            OnDelete::SetNull,
        ];
        for d in &all {
            match d {
                OnDelete::NoAction | OnDelete::Restrict | OnDelete::Cascade | OnDelete::SetNull => {
                }
            }
        }
        all
    }

    // Fully populated instances: every `Option` is `Some` and every list has an element, so that
    // serde writes every field (struct literals make a new field impossible to forget; give it
    // a value that serializes).

    fn full_attribute() -> Attribute {
        Attribute {
            name: "price".into(),
            data_type: LogicalType::Decimal {
                precision: 10,
                scale: 2,
            },
            nullable: true,
            default: Some("0".into()),
            description: "what it costs".into(),
            tags: vec!["money".into()],
            auto_increment: true,
            native: Some(crate::types::NativeType {
                dialect: crate::SqlDialect::Postgres,
                name: "money".into(),
                approximate: true,
            }),
            case_insensitive: true,
        }
    }

    fn full_index() -> Index {
        Index {
            name: "book_price".into(),
            attributes: vec!["price".into()],
            unique: true,
            expression: Some("round(price)".into()),
        }
    }

    fn full_entity() -> Entity {
        Entity {
            name: "book".into(),
            description: "a book".into(),
            attributes: vec![full_attribute()],
            primary_key: vec!["price".into()],
            unique: vec![vec!["price".into()]],
            indexes: vec![full_index()],
            tags: vec!["catalogue".into()],
        }
    }

    fn full_relationship() -> Relationship {
        Relationship {
            name: "loan_book".into(),
            from_entity: "loan".into(),
            from_attributes: vec!["book_id".into()],
            to_entity: "book".into(),
            to_attributes: vec!["id".into()],
            cardinality: Cardinality::ManyToOne,
            on_delete: OnDelete::Cascade,
        }
    }

    fn every_operation() -> Vec<Operation> {
        let names = || vec!["a".to_string(), "b".to_string()];
        vec![
            Operation::AddEntity {
                entity: full_entity(),
            },
            Operation::DropEntity { entity: "e".into() },
            Operation::RenameEntity {
                from: "f".into(),
                to: "t".into(),
            },
            Operation::SetEntityDescription {
                entity: "e".into(),
                description: "d".into(),
            },
            Operation::AddAttribute {
                entity: "e".into(),
                attribute: full_attribute(),
            },
            Operation::AlterAttribute {
                entity: "e".into(),
                attribute: "a".into(),
                data_type: Some(LogicalType::Text),
                nullable: Some(false),
                default: Some(Some("'x'".into())),
                description: Some("d".into()),
                tags: Some(vec!["PII".into()]),
            },
            Operation::DropAttribute {
                entity: "e".into(),
                attribute: "a".into(),
            },
            Operation::RenameAttribute {
                entity: "e".into(),
                from: "f".into(),
                to: "t".into(),
            },
            Operation::SetPrimaryKey {
                entity: "e".into(),
                attributes: names(),
            },
            Operation::AddUnique {
                entity: "e".into(),
                attributes: names(),
            },
            Operation::DropUnique {
                entity: "e".into(),
                attributes: names(),
            },
            Operation::AddIndex {
                entity: "e".into(),
                index: full_index(),
            },
            Operation::DropIndex {
                entity: "e".into(),
                index: "i".into(),
            },
            Operation::AddRelationship {
                relationship: full_relationship(),
            },
            Operation::DropRelationship {
                from_entity: "f".into(),
                to_entity: "t".into(),
                name: Some("n".into()),
            },
            Operation::SetSummary {
                summary: "s".into(),
            },
            Operation::SetNarrative {
                narrative: "n".into(),
            },
        ]
    }

    fn full_change(operation: Operation) -> Value {
        serde_json::to_value(ProposedChange {
            operation,
            rationale: "r".into(),
            notes: vec!["n1".into()],
        })
        .expect("a change serializes")
    }

    fn keys(object: &Value) -> BTreeSet<String> {
        object
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn strings(list: &Value) -> BTreeSet<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The fields serde cannot do without: those whose absence makes the instance fail to parse.
    fn required_by_serde<T: DeserializeOwned>(instance: &Value) -> BTreeSet<String> {
        keys(instance)
            .into_iter()
            .filter(|key| {
                let mut without = instance.clone();
                without.as_object_mut().map(|o| o.remove(key));
                serde_json::from_value::<T>(without).is_err()
            })
            .collect()
    }

    /// The keywords [`conforms`] understands; `pattern` it leaves to Ajv (`tests/consumers.rs`).
    const KEYWORDS: [&str; 15] = [
        "$schema",
        "$id",
        "title",
        "$defs",
        "$ref",
        "type",
        "const",
        "enum",
        "pattern",
        "items",
        "minItems",
        "properties",
        "required",
        "additionalProperties",
        "oneOf",
    ];

    /// Whether `value` conforms to `schema`, for the keywords in [`KEYWORDS`]; `oneOf` is
    /// resolved by the caller, which knows the branch.
    fn conforms(value: &Value, schema: &Value, defs: &Value, path: &str) -> Result<(), String> {
        if let Some(name) = schema["$ref"].as_str() {
            let name = name
                .strip_prefix("#/$defs/")
                .expect("only local references");
            return conforms(value, &defs[name], defs, path);
        }
        if let Some(c) = schema.get("const") {
            if value != c {
                return Err(format!("{path}: {value} is not {c}"));
            }
        }
        if let Some(values) = schema["enum"].as_array() {
            if !values.contains(value) {
                return Err(format!("{path}: {value} is not one of {values:?}"));
            }
        }
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                other => other.as_str().into_iter().collect(),
            };
            let actual = match value {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            if !types.contains(&actual) {
                return Err(format!("{path}: {value} is not of type {types:?}"));
            }
        }
        if let Some(items) = value.as_array() {
            if let Some(min) = schema["minItems"].as_u64() {
                if (items.len() as u64) < min {
                    return Err(format!("{path}: fewer than {min} items"));
                }
            }
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    conforms(v, item, defs, &format!("{path}[{i}]"))?;
                }
            }
        }
        if let (Some(object), Some(properties)) = (value.as_object(), schema.get("properties")) {
            for (key, v) in object {
                match properties.get(key) {
                    Some(s) => conforms(v, s, defs, &format!("{path}.{key}"))?,
                    None if schema["additionalProperties"] == json!(false) => {
                        return Err(format!("{path}: `{key}` is not in the schema"))
                    }
                    None => {}
                }
            }
            for key in strings(&schema["required"]) {
                if !object.contains_key(&key) {
                    return Err(format!("{path}: `{key}` is required"));
                }
            }
        }
        Ok(())
    }

    /// `check(what, full instance, its schema, fields the schema requires though serde
    /// defaults them)`: the instance has exactly the schema's properties, the schema requires
    /// exactly what serde requires plus those, and every value conforms.
    fn check<T: DeserializeOwned>(
        what: &str,
        instance: &Value,
        schema: &Value,
        tightened: &[&str],
    ) {
        let defs = change_set_schema()["$defs"].clone();
        assert_eq!(
            keys(instance),
            keys(&schema["properties"]),
            "{what}: the serialized fields (left) and the schema's properties (right) differ"
        );
        let mut required = required_by_serde::<T>(instance);
        required.extend(tightened.iter().map(|s| s.to_string()));
        assert_eq!(
            required,
            strings(&schema["required"]),
            "{what}: what serde requires, and the tightenings (left), and the schema's `required` (right) differ"
        );
        assert_eq!(schema["additionalProperties"], json!(false), "{what}");
        if let Err(e) = conforms(instance, schema, &defs, what) {
            panic!("{e}");
        }
    }

    fn branches() -> Vec<Value> {
        change_set_schema()["properties"]["changes"]["items"]["oneOf"]
            .as_array()
            .expect("one branch per operation")
            .clone()
    }

    #[test]
    fn every_variant_is_built() {
        let numbers: BTreeSet<usize> = every_operation().iter().map(variant_number).collect();
        assert_eq!(numbers, (0..VARIANTS).collect());
        assert_eq!(every_operation().len(), VARIANTS);
    }

    /// The `op` tags of the type and the schema's branches are the same set, one branch each.
    #[test]
    fn the_schema_has_a_branch_per_operation_and_no_other() {
        let tags: BTreeSet<String> = every_operation()
            .into_iter()
            .map(|op| full_change(op)["op"].as_str().expect("a tag").to_string())
            .collect();
        let branch_tags: Vec<String> = branches()
            .iter()
            .map(|b| {
                b["properties"]["op"]["const"]
                    .as_str()
                    .expect("a const tag")
                    .to_string()
            })
            .collect();
        assert_eq!(branch_tags.len(), VARIANTS, "{branch_tags:?}");
        assert_eq!(tags, branch_tags.into_iter().collect::<BTreeSet<_>>());
    }

    /// Each operation, fully populated, has exactly its branch's fields, the branch requires
    /// exactly what the parser requires (plus the rationale, which the prompt demands), and each
    /// value has the branch's type.
    #[test]
    fn every_branch_matches_its_operation_field_by_field() {
        let branches = branches();
        for op in every_operation() {
            let change = full_change(op);
            let tag = change["op"].as_str().expect("a tag");
            let branch = branches
                .iter()
                .find(|b| b["properties"]["op"]["const"] == tag)
                .unwrap_or_else(|| panic!("no branch for `{tag}`"));
            check::<ProposedChange>(tag, &change, branch, &["rationale"]);
        }
    }

    /// The shared definitions match the model types the same way; an entity must name its key.
    #[test]
    fn every_definition_matches_its_type_field_by_field() {
        let schema = change_set_schema();
        let defs = &schema["$defs"];
        let value = |v: Result<Value, serde_json::Error>| v.expect("serializes");
        check::<Entity>(
            "entity",
            &value(serde_json::to_value(full_entity())),
            &defs["entity"],
            &["primary_key"],
        );
        check::<Attribute>(
            "attribute",
            &value(serde_json::to_value(full_attribute())),
            &defs["attribute"],
            &[],
        );
        check::<Index>(
            "index",
            &value(serde_json::to_value(full_index())),
            &defs["index"],
            &[],
        );
        check::<Relationship>(
            "relationship",
            &value(serde_json::to_value(full_relationship())),
            &defs["relationship"],
            &[],
        );
        let set =
            json!({ "changes": [full_change(Operation::SetSummary { summary: "s".into() })] });
        check::<ChangeSet>("change set", &set, &schema, &[]);
        // The enums, both ways.
        let spelled = |v: Vec<Value>| -> BTreeSet<String> {
            v.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        let cardinalities = every_cardinality()
            .into_iter()
            .map(|c| value(serde_json::to_value(c)))
            .collect();
        assert_eq!(
            spelled(cardinalities),
            strings(&defs["relationship"]["properties"]["cardinality"]["enum"])
        );
        let on_delete = every_on_delete()
            .into_iter()
            .map(|d| value(serde_json::to_value(d)))
            .collect();
        assert_eq!(
            spelled(on_delete),
            strings(&defs["relationship"]["properties"]["on_delete"]["enum"])
        );
    }

    /// The checks above understand every keyword the schema uses, so none is skipped silently.
    #[test]
    fn the_schema_uses_only_keywords_the_checks_understand() {
        fn walk(schema: &Value, path: &str) {
            let Some(object) = schema.as_object() else {
                return;
            };
            for (key, value) in object {
                assert!(KEYWORDS.contains(&key.as_str()), "{path}: keyword `{key}`");
                match key.as_str() {
                    "properties" | "$defs" => {
                        for (name, sub) in value.as_object().into_iter().flatten() {
                            walk(sub, &format!("{path}.{key}.{name}"));
                        }
                    }
                    "items" => walk(value, &format!("{path}.items")),
                    "oneOf" => {
                        for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                            walk(sub, &format!("{path}.oneOf[{i}]"));
                        }
                    }
                    _ => {}
                }
            }
        }
        walk(&change_set_schema(), "#");
    }
}
