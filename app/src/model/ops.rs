//! Change operations: the contract for LLM drafts after the first (DESIGN §4).
//!
//! Contract (implemented by the lead). A *change set* is what the LLM returns for a later
//! draft: a list of operations against the latest draft, each with a rationale that may cite
//! change notes. [`apply`] applies any chosen subset to a copy of the model and reports, per
//! operation, whether it applied and why not.

use super::logical_type::LogicalType;
use super::parse::ParseError;
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
}

/// The model after applying a selection, and one outcome per proposed change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub model: Model,
    pub outcomes: Vec<Outcome>,
}

/// Reads a change set out of an LLM answer (bare JSON, fenced, or with prose around).
pub fn parse_change_set(text: &str) -> Result<ChangeSet, ParseError> {
    let _ = text;
    todo!("lead")
}

/// Applies the changes whose index is in `selected` (all when `None`) to a copy of `model`,
/// in order; an operation that cannot apply is reported and skipped, never half-applied.
pub fn apply(model: &Model, changes: &[ProposedChange], selected: Option<&[usize]>) -> Applied {
    let _ = (model, changes, selected);
    todo!("lead")
}

/// JSON Schema (2020-12) of a change set, for providers that accept a response schema.
pub fn change_set_schema() -> serde_json::Value {
    todo!("lead")
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
