//! Exporters: a model written out in other formats (DESIGN §1 "Export").
//!
//! An *exporter* turns a [`Model`] into the text of another tool's format: a Markdown data
//! dictionary, a PlantUML or Mermaid ER diagram, SQL DDL, DBML, a JSON Schema, or the model's own
//! JSON. Exporters are deterministic (the same model always gives the same bytes, so exports can
//! be diffed and snapshot-tested) and total: they never fail and never panic, whatever the model
//! holds. Names a target cannot spell are quoted or rewritten into identifiers it accepts.
//!
//! A *foreign key* here is an attribute listed in the `from_attributes` of a relationship; its
//! *target* is the attribute at the same position in `to_attributes` of the `to_entity`.
//!
//! An *export warning* ([`ExportWarning`]) is something of the model that an export does not
//! write as the model says, with its place (table, and column when there is one): either
//! *lost* (the target cannot express it: a zone, a length, a default) or *changed* (written
//! differently with the same meaning: a renamed index, a referencing column typed like its
//! key). Only the SQL exporter has warnings so far; the diagram and document formats describe
//! the model rather than reproduce it.

pub mod dbml;
pub mod json_schema;
pub mod markdown;
pub mod mermaid;
pub mod plantuml;
pub mod sql;

use super::dialect::SqlDialect;
use super::types::{Entity, Model};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Every format a model can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// Markdown data dictionary.
    Markdown,
    PlantUml,
    /// Mermaid `erDiagram`.
    Mermaid,
    /// SQL DDL for one dialect.
    Sql(SqlDialect),
    Dbml,
    /// JSON Schema (draft 2020-12) describing one record of each entity.
    JsonSchema,
    /// The model's own JSON format (pretty-printed).
    Json,
}

impl ExportFormat {
    /// The usual file extension of the format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Markdown => "md",
            ExportFormat::PlantUml => "puml",
            ExportFormat::Mermaid => "mmd",
            ExportFormat::Sql(_) => "sql",
            ExportFormat::Dbml => "dbml",
            ExportFormat::JsonSchema => "schema.json",
            ExportFormat::Json => "json",
        }
    }
}

/// Writes `model` in `format`. Exporting never fails: the model is assumed validated, and an
/// exporter writes what it can (an unknown type becomes the target's most general type).
pub fn export(model: &Model, format: ExportFormat) -> String {
    match format {
        ExportFormat::Markdown => markdown::markdown(model),
        ExportFormat::PlantUml => plantuml::plantuml(model),
        ExportFormat::Mermaid => mermaid::mermaid(model),
        ExportFormat::Sql(dialect) => sql::ddl(model, dialect),
        ExportFormat::Dbml => dbml::dbml(model),
        ExportFormat::JsonSchema => json_schema::json_schema(model),
        ExportFormat::Json => model_json(model),
    }
}

/// [`export`] and the warnings of what the output does not carry as the model says, in model
/// order.
pub fn export_with_warnings(model: &Model, format: ExportFormat) -> (String, Vec<ExportWarning>) {
    match format {
        ExportFormat::Sql(dialect) => sql::ddl_with_warnings(model, dialect),
        other => (export(model, other), Vec::new()),
    }
}

/// Something of the model that an export does not write as the model says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportWarning {
    /// The table (entity) it concerns, as the model names it.
    pub table: String,
    /// The column (attribute), when it concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub kind: WarningKind,
    /// What was written instead and why, in a lower-case sentence.
    pub message: String,
}

/// Whether an export warning loses something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The target cannot express it: data, a constraint or a default differs from the model.
    Lost,
    /// Written differently with the same meaning (a name, a type widened to match a key).
    Changed,
}

impl ExportWarning {
    /// `table.column` or `table`, as the warning's place is shown.
    pub fn place(&self) -> String {
        match &self.column {
            Some(column) => format!("{}.{column}", self.table),
            None => self.table.clone(),
        }
    }
}

impl std::fmt::Display for ExportWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            WarningKind::Lost => "lost",
            WarningKind::Changed => "changed",
        };
        write!(f, "{}: {kind}: {}", self.place(), self.message)
    }
}

/// The one-line count of `warnings`: `3 export warnings: 2 lost, 1 changed`, or `None`.
pub fn warning_summary(warnings: &[ExportWarning]) -> Option<String> {
    if warnings.is_empty() {
        return None;
    }
    let lost = warnings
        .iter()
        .filter(|w| w.kind == WarningKind::Lost)
        .count();
    Some(format!(
        "{} export warning{}: {lost} lost, {} changed",
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" },
        warnings.len() - lost
    ))
}

/// The model's own JSON, pretty-printed with a final newline.
fn model_json(model: &Model) -> String {
    // Serializing the model cannot fail (every map key is a string and no field has a fallible
    // `Serialize`), but exporting must never panic, so a failure still yields valid JSON.
    let mut text = serde_json::to_string_pretty(model)
        .unwrap_or_else(|err| serde_json::json!({ "error": err.to_string() }).to_string());
    text.push('\n');
    text
}

/// What the diagram and document exporters look up per attribute and per relationship, found
/// once per export so that writing a model stays linear in its size: entities by name, and the
/// foreign keys of each entity.
pub(crate) struct Lookup<'a> {
    model: &'a Model,
    /// Entity index by name lower-cased; the first entity of a name spelled twice.
    entities: HashMap<String, usize>,
    /// The foreign keys of each entity, by entity name lower-cased: `(attribute, target entity,
    /// target attribute)` in relationship order. An entity has a few, so an exporter finds its
    /// entity's once and then each attribute's targets by a short scan, rather than hashing
    /// every attribute's name into a table of the whole model's foreign keys.
    keys: HashMap<String, Vec<ForeignKey<'a>>>,
}

/// One attribute of a foreign key and its target: `(attribute, target entity, target
/// attribute)`.
pub(crate) type ForeignKey<'a> = (&'a str, &'a str, &'a str);

impl<'a> Lookup<'a> {
    pub(crate) fn new(model: &'a Model) -> Lookup<'a> {
        let mut keys: HashMap<String, Vec<ForeignKey<'a>>> = HashMap::new();
        for r in &model.relationships {
            let of_entity = keys.entry(r.from_entity.to_ascii_lowercase()).or_default();
            for (position, attribute) in r.from_attributes.iter().enumerate() {
                // An attribute listed twice points where its first place says.
                if r.from_attributes[..position]
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(attribute))
                {
                    continue;
                }
                let target = r.to_attributes.get(position).map_or("", String::as_str);
                of_entity.push((attribute.as_str(), r.to_entity.as_str(), target));
            }
        }
        Lookup {
            model,
            entities: model.entity_positions(),
            keys,
        }
    }

    /// The entity named `name`, ignoring ASCII case, as [`Model::entity`] finds it.
    fn entity(&self, name: &str) -> Option<&'a Entity> {
        let model: &'a Model = self.model;
        self.entities
            .get(&name.to_ascii_lowercase())
            .map(|&i| &model.entities[i])
    }

    /// The foreign keys of `entity`, to pass to [`targets_in`] for each of its attributes.
    pub(crate) fn keys(&self, entity: &Entity) -> &[ForeignKey<'a>] {
        self.keys
            .get(&entity.name.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// Where the foreign key `attribute` of `entity` points: `(entity, attribute)` of each
    /// target, in relationship order. Empty when the attribute is no foreign key.
    #[cfg(test)]
    fn targets(&self, entity: &Entity, attribute: &str) -> Vec<(&'a str, &'a str)> {
        targets_in(self.keys(entity), attribute).collect()
    }
}

/// The targets `(entity, attribute)` of `attribute` among an entity's foreign `keys` (from
/// [`Lookup::keys`]), in relationship order; none when it is no foreign key.
pub(crate) fn targets_in<'k, 'a>(
    keys: &'k [ForeignKey<'a>],
    attribute: &'k str,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'k {
    keys.iter()
        .filter(move |(a, _, _)| a.eq_ignore_ascii_case(attribute))
        .map(|&(_, entity, target)| (entity, target))
}

/// True when `attribute` alone is unique in `entity`, by a unique constraint or a unique index
/// on that single attribute.
pub(crate) fn is_unique_alone(entity: &Entity, attribute: &str) -> bool {
    let alone = |attributes: &[String]| {
        attributes.len() == 1 && attributes[0].eq_ignore_ascii_case(attribute)
    };
    entity.unique.iter().any(|u| alone(u))
        || entity
            .indexes
            .iter()
            .any(|i| i.unique && alone(&i.attributes))
}

/// True when every attribute of `names` is nullable in `entity` (unknown names count as not
/// nullable, so that a broken model is drawn as mandatory rather than optional).
fn all_nullable(entity: Option<&Entity>, names: &[String]) -> bool {
    match entity {
        Some(entity) => {
            !names.is_empty()
                && names
                    .iter()
                    .all(|n| entity.attribute(n).is_some_and(|a| a.nullable))
        }
        None => false,
    }
}

/// True when `names` are all part of the primary key of `entity`: the relationship then
/// identifies its rows (the child cannot exist without the parent).
fn within_primary_key(entity: Option<&Entity>, names: &[String]) -> bool {
    match entity {
        Some(entity) => !names.is_empty() && names.iter().all(|n| entity.is_key(n)),
        None => false,
    }
}

/// Rewrites `name` into an identifier `[A-Za-z_][A-Za-z0-9_]*`: other characters become `_`,
/// and a leading digit (or an empty name) gets a `_` in front.
fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// True when `name` is already an identifier `[A-Za-z_][A-Za-z0-9_]*`.
fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Gives every entity one distinct identifier (by default [`identifier`]; a target with reserved
/// words passes its own rewrite), in model order; a clash after rewriting gets a numeric suffix.
/// Names are looked up ignoring ASCII case.
struct Aliases {
    /// Alias by entity name lower-cased; the first entity of a name spelled twice.
    by_name: HashMap<String, String>,
    rewrite: fn(&str) -> String,
}

impl Aliases {
    fn new(model: &Model) -> Aliases {
        Aliases::with(model, identifier)
    }

    fn with(model: &Model, rewrite: fn(&str) -> String) -> Aliases {
        let mut by_name = HashMap::new();
        // Aliases given so far, lower-cased.
        let mut taken: HashSet<String> = HashSet::new();
        for entity in &model.entities {
            let key = entity.name.to_ascii_lowercase();
            if by_name.contains_key(&key) {
                continue;
            }
            let base = rewrite(&entity.name);
            let mut alias = base.clone();
            let mut n = 2;
            while taken.contains(&alias.to_ascii_lowercase()) {
                alias = format!("{base}_{n}");
                n += 1;
            }
            taken.insert(alias.to_ascii_lowercase());
            by_name.insert(key, alias);
        }
        Aliases { by_name, rewrite }
    }

    /// The alias of the entity `name`; a name the model does not define (a dangling relationship)
    /// gets its plain rewritten form.
    fn of(&self, name: &str) -> String {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map_or_else(|| (self.rewrite)(name), String::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::sample;

    #[test]
    fn identifiers() {
        let check = |input: &str, expected: &str| {
            assert_eq!(identifier(input), expected, "identifier({input:?})");
            assert!(is_identifier(&identifier(input)));
        };
        check("book", "book");
        check("Order Details", "Order_Details");
        check("2fa", "_2fa");
        check("", "_");
        check("prix-€", "prix__");
        assert!(!is_identifier("a b"));
        assert!(!is_identifier("9a"));
    }

    #[test]
    fn aliases_stay_distinct() {
        let mut model = sample();
        model.entities[0].name = "a b".into();
        model.entities[1].name = "a_b".into();
        let aliases = Aliases::new(&model);
        assert_eq!(aliases.of("A B"), "a_b");
        assert_eq!(aliases.of("a_b"), "a_b_2");
        assert_eq!(aliases.of("missing one"), "missing_one");
    }

    #[test]
    fn foreign_key_targets() {
        let model = sample();
        let lookup = Lookup::new(&model);
        let loan = model.entity("loan").expect("loan exists");
        assert_eq!(lookup.targets(loan, "MEMBER_ID"), [("member", "id")]);
        assert!(lookup.targets(loan, "due_on").is_empty());
        assert_eq!(lookup.entity("LOAN"), Some(loan));
        assert_eq!(lookup.entity("nowhere"), None);
        let book = model.entity("book").expect("book exists");
        assert!(is_unique_alone(book, "isbn"));
        assert!(!is_unique_alone(book, "title"));
    }

    /// Exporting never panics, even on a model validation would reject: empty names, a
    /// relationship to a missing entity, key lists of different lengths, empty key lists.
    #[test]
    fn broken_models_still_export() {
        let mut broken = sample();
        broken.entities[0].name = String::new();
        broken.entities[1].attributes[0].name = String::new();
        broken.entities[1].primary_key = vec!["missing".into(), String::new()];
        broken.entities[2].unique = vec![vec![], vec!["nope".into()]];
        broken.relationships[0].to_entity = "nowhere at all".into();
        broken.relationships[1].to_attributes.clear();
        broken.relationships[2].from_attributes = vec!["a".into(), "b".into(), "c".into()];
        broken.relationships[2].name = String::new();
        let empty = Model {
            format_version: 1,
            summary: String::new(),
            narrative: String::new(),
            entities: vec![],
            relationships: vec![],
        };
        let formats = [
            ExportFormat::Markdown,
            ExportFormat::PlantUml,
            ExportFormat::Mermaid,
            ExportFormat::Dbml,
            ExportFormat::JsonSchema,
            ExportFormat::Json,
        ];
        for model in [&broken, &empty] {
            for format in formats {
                let text = export(model, format);
                let nothing_to_write = model.entities.is_empty() && format == ExportFormat::Dbml;
                assert!(
                    !text.is_empty() || nothing_to_write,
                    "{format:?} wrote nothing"
                );
                assert_eq!(
                    text,
                    export(model, format),
                    "{format:?} is not deterministic"
                );
            }
        }
        assert_eq!(export(&empty, ExportFormat::Mermaid), "erDiagram\n");
        assert_eq!(
            export(&empty, ExportFormat::PlantUml),
            "@startuml\nhide circle\nskinparam linetype ortho\n@enduml\n"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&export(&broken, ExportFormat::JsonSchema)).expect("valid JSON");
        assert!(schema["$defs"][""].is_object(), "{schema}");
    }

    #[test]
    fn json_is_the_model_itself() {
        let model = sample();
        let text = export(&model, ExportFormat::Json);
        assert!(text.ends_with("}\n"));
        let back: Model = serde_json::from_str(&text).expect("the export parses back");
        assert_eq!(back, model);
    }
}
