//! The model types of one draft (DESIGN §3) and their serialized form.
//!
//! The JSON form of [`Model`] is a versioned contract: it is what the LLM is asked to produce,
//! what IndexedDB and SQLite store, and what sync sends. `format_version` names the layout; a
//! frozen-serialization test pins it. Fields that may be absent in LLM output have defaults so
//! that a model missing, say, `tags` still parses, and validation then judges the content.

use super::dialect::SqlDialect;
use super::logical_type::LogicalType;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Version of the serialized model layout written by this build.
pub const MODEL_FORMAT_VERSION: u32 = 1;

fn format_version_default() -> u32 {
    MODEL_FORMAT_VERSION
}

/// One immutable version of a data model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    #[serde(default = "format_version_default")]
    pub format_version: u32,
    /// One paragraph that says what the model covers.
    #[serde(default)]
    pub summary: String,
    /// Markdown narrative: design decisions, open questions.
    #[serde(default)]
    pub narrative: String,
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub relationships: Vec<Relationship>,
}

/// A table-like thing with attributes and keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub attributes: Vec<Attribute>,
    /// Attribute names of the primary key, in key order; several for a composite key.
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// Unique constraints, each a list of attribute names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Free-form labels such as `PII`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A column-like property of an entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: LogicalType,
    #[serde(default)]
    pub nullable: bool,
    /// Default value as an SQL-ish literal or expression (`0`, `'new'`, `now()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The database numbers new rows itself: an identity or `serial` column in PostgreSQL,
    /// `AUTO_INCREMENT` in MySQL, `INTEGER PRIMARY KEY AUTOINCREMENT` in SQLite. Absent from
    /// the JSON when false, so models written before it read and write as they did.
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto_increment: bool,
    /// The source dialect's own type, kept where the logical type does not say all of it
    /// (`bigint unsigned`, `longtext`, `binary(32)`, `text[]`, `cube`): written as it is for
    /// that dialect, as the logical type (warned when approximate) for the others. Absent from
    /// the JSON when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeType>,
    /// Text compares ignoring case, in keys too ('Foo' and 'foo' are one value): SQLite's
    /// `COLLATE NOCASE`, a `_ci` collation in MySQL, `citext` or a nondeterministic collation in
    /// PostgreSQL. Absent from the JSON when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub case_insensitive: bool,
}

/// A column type in one dialect's own spelling (see [`Attribute::native`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeType {
    pub dialect: SqlDialect,
    /// The type as the source wrote it, such as `bigint unsigned`.
    #[serde(rename = "type")]
    pub name: String,
    /// True when the logical type only approximates it, so that another dialect gets less
    /// (an unsigned range, an array, an unknown type): exports to them warn.
    #[serde(default, skip_serializing_if = "is_false")]
    pub approximate: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A secondary index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    /// The indexed attributes in key order; for an index over expressions, the attributes
    /// the expressions read (so that validation and renames still see them).
    pub attributes: Vec<String>,
    #[serde(default)]
    pub unique: bool,
    /// The key as SQL expressions, as in `CREATE INDEX ... (lower(email))`, when the index is
    /// over expressions rather than plain attributes; casts of the source dialect removed.
    /// Absent from the JSON when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// A reference from attributes of one entity to (usually key) attributes of another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    #[serde(default)]
    pub name: String,
    pub from_entity: String,
    pub from_attributes: Vec<String>,
    pub to_entity: String,
    pub to_attributes: Vec<String>,
    pub cardinality: Cardinality,
    #[serde(default)]
    pub on_delete: OnDelete,
}

/// How many rows on each side of a relationship may be linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cardinality {
    #[serde(rename = "1:1")]
    OneToOne,
    /// Many rows of `from_entity` point at one row of `to_entity`.
    #[serde(rename = "N:1", alias = "1:N", alias = "n:1", alias = "1:n")]
    ManyToOne,
    /// Through a join entity, which is itself part of the model.
    #[serde(rename = "N:M", alias = "n:m", alias = "M:N")]
    ManyToMany,
}

/// What happens to referencing rows when the referenced row is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
}

impl Model {
    /// Looks an entity up by name, ignoring ASCII case as SQL identifiers usually do.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// Total number of attributes over all entities.
    pub fn attribute_count(&self) -> usize {
        self.entities.iter().map(|e| e.attributes.len()).sum()
    }
}

impl Model {
    /// Entity positions by lower-cased name, for callers that look many names up: one table
    /// instead of a scan per name. Of entities whose names differ only in case the first wins,
    /// as in [`Model::entity`].
    pub(crate) fn entity_positions(&self) -> HashMap<String, usize> {
        self.entities
            .iter()
            .enumerate()
            .rev()
            .map(|(i, e)| (e.name.to_ascii_lowercase(), i))
            .collect()
    }
}

impl Relationship {
    /// The link as people read it: `loan.book_id → book.id`, several columns joined by commas.
    pub fn link(&self) -> String {
        format!(
            "{}.{} → {}.{}",
            self.from_entity,
            self.from_attributes.join(","),
            self.to_entity,
            self.to_attributes.join(",")
        )
    }
}

impl Entity {
    /// Looks an attribute up by name, ignoring ASCII case.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// True when `name` is part of the primary key.
    pub fn is_key(&self, name: &str) -> bool {
        self.primary_key
            .iter()
            .any(|k| k.eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Cardinality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cardinality::OneToOne => "1:1",
            Cardinality::ManyToOne => "N:1",
            Cardinality::ManyToMany => "N:M",
        })
    }
}

impl std::fmt::Display for OnDelete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OnDelete::NoAction => "no action",
            OnDelete::Restrict => "restrict",
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set null",
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small but complete model used by tests across the core.
    pub(crate) fn sample() -> Model {
        serde_json::from_str(include_str!("../tests/data/library-v1.json"))
            .expect("the sample model parses")
    }

    /// The sample's next version (library v2: what the demo change set makes of it).
    pub(crate) fn v2() -> Model {
        serde_json::from_str(include_str!("../tests/data/library-v2.json"))
            .expect("the sample's v2 parses")
    }

    /// The serialized layout is a contract with IndexedDB, SQLite and sync: this pins it.
    #[test]
    fn frozen_serialization() {
        let model = Model {
            format_version: MODEL_FORMAT_VERSION,
            summary: "s".into(),
            narrative: "n".into(),
            entities: vec![Entity {
                name: "book".into(),
                description: "a book".into(),
                attributes: vec![
                    Attribute {
                        name: "id".into(),
                        data_type: LogicalType::Uuid,
                        nullable: false,
                        default: None,
                        description: String::new(),
                        tags: vec![],
                        auto_increment: false,
                        native: None,
                        case_insensitive: false,
                    },
                    Attribute {
                        name: "price".into(),
                        data_type: LogicalType::Decimal {
                            precision: 10,
                            scale: 2,
                        },
                        nullable: true,
                        default: Some("0".into()),
                        description: "list price".into(),
                        tags: vec!["finance".into()],
                        auto_increment: false,
                        native: None,
                        case_insensitive: false,
                    },
                ],
                primary_key: vec!["id".into()],
                unique: vec![vec!["price".into()]],
                indexes: vec![Index {
                    name: "book_price".into(),
                    attributes: vec!["price".into()],
                    unique: false,
                    expression: None,
                }],
                tags: vec![],
            }],
            relationships: vec![Relationship {
                name: "r".into(),
                from_entity: "book".into(),
                from_attributes: vec!["id".into()],
                to_entity: "book".into(),
                to_attributes: vec!["id".into()],
                cardinality: Cardinality::ManyToOne,
                on_delete: OnDelete::SetNull,
            }],
        };
        let json = serde_json::to_string(&model).expect("serializes");
        assert_eq!(
            json,
            r#"{"format_version":1,"summary":"s","narrative":"n","entities":[{"name":"book","description":"a book","attributes":[{"name":"id","type":"uuid","nullable":false,"description":""},{"name":"price","type":"decimal(10,2)","nullable":true,"default":"0","description":"list price","tags":["finance"]}],"primary_key":["id"],"unique":[["price"]],"indexes":[{"name":"book_price","attributes":["price"],"unique":false}]}],"relationships":[{"name":"r","from_entity":"book","from_attributes":["id"],"to_entity":"book","to_attributes":["id"],"cardinality":"N:1","on_delete":"set_null"}]}"#
        );
        let back: Model = serde_json::from_str(&json).expect("parses back");
        assert_eq!(back, model);
    }

    /// Fields added after the first layout are absent when unset (the frozen form above does
    /// not change) and read back when set.
    #[test]
    fn later_attribute_fields_round_trip() {
        let json = r#"{"name":"id","type":"bigint","nullable":false,"description":"","auto_increment":true}"#;
        let attr: Attribute = serde_json::from_str(json).expect("parses");
        assert!(attr.auto_increment);
        assert_eq!(serde_json::to_string(&attr).expect("serializes"), json);
        let json = r#"{"name":"v","type":"text","nullable":false,"description":"","native":{"dialect":"mysql","type":"LONGTEXT"}}"#;
        let attr: Attribute = serde_json::from_str(json).expect("parses");
        assert_eq!(
            attr.native.as_ref().map(|n| n.dialect),
            Some(SqlDialect::Mysql)
        );
        assert_eq!(serde_json::to_string(&attr).expect("serializes"), json);
        let json = r#"{"name":"name","type":"text","nullable":false,"description":"","case_insensitive":true}"#;
        let attr: Attribute = serde_json::from_str(json).expect("parses");
        assert!(attr.case_insensitive);
        assert_eq!(serde_json::to_string(&attr).expect("serializes"), json);
        let json = r#"{"name":"u_lower","attributes":["email"],"unique":true,"expression":"lower(email)"}"#;
        let index: Index = serde_json::from_str(json).expect("parses");
        assert_eq!(index.expression.as_deref(), Some("lower(email)"));
        assert_eq!(serde_json::to_string(&index).expect("serializes"), json);
    }

    #[test]
    fn missing_optional_fields_take_defaults() {
        let model: Model = serde_json::from_str(
            r#"{"entities":[{"name":"a","attributes":[{"name":"x","type":"int"}]}]}"#,
        )
        .expect("parses");
        assert_eq!(model.format_version, MODEL_FORMAT_VERSION);
        assert!(!model.entities[0].attributes[0].nullable);
        assert!(model.relationships.is_empty());
    }

    #[test]
    fn sample_model_is_complete() {
        let model = sample();
        assert_eq!(model.entities.len(), 4);
        assert!(model.entity("LOAN").is_some());
    }
}
