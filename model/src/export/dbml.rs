//! DBML (the Database Markup Language of dbdiagram.io and dbdocs).
//!
//! Each entity is a `Table` with its columns and their *settings* (`pk`, `not null`, `unique`,
//! `default`, `note`); composite keys, unique constraints and secondary indexes go in the table's
//! `indexes` block (`(a, b) [pk]`); each enum type becomes an `Enum` block named
//! `<entity>_<attribute>`; each relationship a `Ref` line (`>` many-to-one, `-` one-to-one, `<>`
//! many-to-many) with its `delete` action. The summary and narrative become the project's note.
//! A *name* that is not an identifier is written in double quotes; DBML has no escape for a
//! double quote inside one, so such a quote becomes `'`. A *string* is single-quoted with `\'` and
//! `\\` escapes, triple-quoted when it spans lines.

use super::super::logical_type::LogicalType;
use super::super::types::{Attribute, Cardinality, Entity, Model, OnDelete};
use super::{identifier, is_identifier};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// Writes `model` as DBML.
pub fn dbml(model: &Model) -> String {
    let mut out = String::new();
    let project_note = [model.summary.trim(), model.narrative.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    if !project_note.is_empty() {
        let _ = writeln!(
            out,
            "Project data_model {{\n  Note: {}\n}}\n",
            string(&project_note)
        );
    }
    let enums = Enums::new(model);
    for entity in &model.entities {
        table(entity, &enums, &mut out);
    }
    for (name, values) in &enums.blocks {
        let _ = writeln!(out, "Enum {} {{", name);
        for value in values {
            let _ = writeln!(out, "  {}", quote_name(value));
        }
        out.push_str("}\n\n");
    }
    for r in &model.relationships {
        let arrow = match r.cardinality {
            Cardinality::ManyToOne => ">",
            Cardinality::OneToOne => "-",
            Cardinality::ManyToMany => "<>",
        };
        let delete = match r.on_delete {
            OnDelete::NoAction => "no action",
            OnDelete::Restrict => "restrict",
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set null",
        };
        let name = if r.name.trim().is_empty() {
            String::new()
        } else {
            format!(" {}", quote_name(&r.name))
        };
        let _ = writeln!(
            out,
            "Ref{name}: {}.{} {arrow} {}.{} [delete: {delete}]",
            quote_name(&r.from_entity),
            columns(&r.from_attributes),
            quote_name(&r.to_entity),
            columns(&r.to_attributes)
        );
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn table(entity: &Entity, enums: &Enums, out: &mut String) {
    let _ = writeln!(out, "Table {} {{", quote_name(&entity.name));
    let single_key = entity.primary_key.len() == 1;
    for a in &entity.attributes {
        let mut settings: Vec<String> = Vec::new();
        if single_key && entity.is_key(&a.name) {
            settings.push("pk".into());
        }
        if !a.nullable {
            settings.push("not null".into());
        }
        if entity
            .unique
            .iter()
            .any(|u| u.len() == 1 && u[0].eq_ignore_ascii_case(&a.name))
        {
            settings.push("unique".into());
        }
        if let Some(default) = &a.default {
            settings.push(format!("default: {}", default_value(default)));
        }
        let note = note_of(a);
        if !note.is_empty() {
            settings.push(format!("note: {}", string(&note)));
        }
        let settings = if settings.is_empty() {
            String::new()
        } else {
            format!(" [{}]", settings.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} {}{settings}",
            quote_name(&a.name),
            column_type(entity, a, enums)
        );
    }
    let mut index_lines: Vec<String> = Vec::new();
    if entity.primary_key.len() > 1 {
        index_lines.push(format!("{} [pk]", columns(&entity.primary_key)));
    }
    for unique in entity.unique.iter().filter(|u| u.len() > 1) {
        index_lines.push(format!("{} [unique]", columns(unique)));
    }
    for index in &entity.indexes {
        let mut settings = vec![format!("name: {}", string(&index.name))];
        if index.unique {
            settings.push("unique".into());
        }
        index_lines.push(format!(
            "{} [{}]",
            columns(&index.attributes),
            settings.join(", ")
        ));
    }
    if !index_lines.is_empty() {
        out.push_str("\n  indexes {\n");
        for line in index_lines {
            let _ = writeln!(out, "    {line}");
        }
        out.push_str("  }\n");
    }
    if !entity.description.trim().is_empty() || !entity.tags.is_empty() {
        let mut note = entity.description.trim().to_string();
        if !entity.tags.is_empty() {
            if !note.is_empty() {
                note.push(' ');
            }
            let _ = write!(note, "Tags: {}.", entity.tags.join(", "));
        }
        let _ = writeln!(out, "\n  Note: {}", string(&note));
    }
    out.push_str("}\n\n");
}

/// The column note: the description, then the tags (DBML has no tags on columns).
fn note_of(a: &Attribute) -> String {
    let mut note = a.description.trim().to_string();
    if !a.tags.is_empty() {
        if !note.is_empty() {
            note.push(' ');
        }
        let _ = write!(note, "Tags: {}.", a.tags.join(", "));
    }
    note
}

/// The DBML spelling of a logical type: SQL's usual names, an enum's block name, and an unknown
/// type verbatim (quoted when DBML could not read it bare).
fn column_type(entity: &Entity, a: &Attribute, enums: &Enums) -> String {
    match &a.data_type {
        LogicalType::String(Some(n)) => format!("varchar({n})"),
        LogicalType::String(None) => "varchar".into(),
        LogicalType::Text => "text".into(),
        LogicalType::Integer => "integer".into(),
        LogicalType::BigInt => "bigint".into(),
        LogicalType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        LogicalType::Float => "float".into(),
        LogicalType::Boolean => "boolean".into(),
        LogicalType::Date => "date".into(),
        LogicalType::Time => "time".into(),
        LogicalType::Timestamp => "timestamp".into(),
        LogicalType::TimestampTz => "timestamptz".into(),
        LogicalType::Uuid => "uuid".into(),
        LogicalType::Json => "json".into(),
        LogicalType::Bytes => "blob".into(),
        LogicalType::Enum(_) => enums.name_of(&entity.name, &a.name),
        LogicalType::Unknown(raw) => {
            let raw = raw.trim();
            let bare = match raw.split_once('(') {
                Some((head, args)) => {
                    is_identifier(head)
                        && args.strip_suffix(')').is_some_and(|inner| {
                            inner.split(',').all(|n| {
                                !n.trim().is_empty() && n.trim().bytes().all(|b| b.is_ascii_digit())
                            })
                        })
                }
                None => is_identifier(raw),
            };
            if bare {
                raw.to_string()
            } else {
                format!("\"{}\"", raw.replace('"', "'"))
            }
        }
    }
}

/// A default as DBML reads it: numbers, `true`/`false`/`null` bare, SQL string literals as DBML
/// strings, anything else as a backquoted expression.
fn default_value(raw: &str) -> String {
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    if matches!(lower.as_str(), "true" | "false" | "null") {
        return lower;
    }
    if is_number(raw) {
        return raw.to_string();
    }
    if let Some(inner) = raw
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .filter(|_| raw.len() >= 2)
    {
        return string(&inner.replace("''", "'"));
    }
    // A backquote cannot be escaped inside a DBML expression.
    format!("`{}`", raw.replace('`', "'"))
}

fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A DBML string: single-quoted, or triple-quoted when it spans lines.
fn string(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('\'', "\\'");
    if text.contains('\n') {
        format!("'''{escaped}'''")
    } else {
        format!("'{escaped}'")
    }
}

/// A table, column or enum value name: bare when it is an identifier, else double-quoted.
fn quote_name(name: &str) -> String {
    if is_identifier(name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "'").replace(['\n', '\r'], " "))
    }
}

/// Column references: `a` for one column, `(a, b)` for several.
fn columns(names: &[String]) -> String {
    if names.len() == 1 {
        quote_name(&names[0])
    } else {
        let quoted: Vec<String> = names.iter().map(|n| quote_name(n)).collect();
        format!("({})", quoted.join(", "))
    }
}

/// The enum blocks of a model: one per enum-typed attribute, named `<entity>_<attribute>` as an
/// identifier, with a numeric suffix when two would share a name.
struct Enums {
    /// `(entity, attribute)` → block name; the first of an attribute spelled twice.
    names: HashMap<(String, String), String>,
    /// Block names given so far, lower-cased.
    taken: HashSet<String>,
    blocks: Vec<(String, Vec<String>)>,
}

impl Enums {
    fn new(model: &Model) -> Enums {
        let mut enums = Enums {
            names: HashMap::new(),
            taken: HashSet::new(),
            blocks: Vec::new(),
        };
        for entity in &model.entities {
            for a in &entity.attributes {
                // An enum without values cannot be an `Enum` block (DBML wants at least one
                // value), so its column falls back to `varchar` in `name_of`.
                let LogicalType::Enum(values) = &a.data_type else {
                    continue;
                };
                if values.is_empty() {
                    continue;
                }
                let base = identifier(&format!("{}_{}", entity.name, a.name));
                let mut name = base.clone();
                let mut n = 2;
                while enums.taken.contains(&name.to_ascii_lowercase()) {
                    name = format!("{base}_{n}");
                    n += 1;
                }
                let mut distinct: Vec<String> = Vec::new();
                for value in values {
                    if !distinct.contains(value) {
                        distinct.push(value.clone());
                    }
                }
                enums.taken.insert(name.to_ascii_lowercase());
                enums
                    .names
                    .entry((entity.name.clone(), a.name.clone()))
                    .or_insert_with(|| name.clone());
                enums.blocks.push((name, distinct));
            }
        }
        enums
    }

    fn name_of(&self, entity: &str, attribute: &str) -> String {
        self.names
            .get(&(entity.to_string(), attribute.to_string()))
            .map_or_else(|| "varchar".to_string(), String::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    #[test]
    fn library_v1() {
        insta::assert_snapshot!(dbml(&sample()));
    }

    #[test]
    fn library_v2() {
        let model = v2();
        insta::assert_snapshot!(dbml(&model));
    }

    #[test]
    fn defaults() {
        let check = |raw: &str, expected: &str| assert_eq!(default_value(raw), expected, "{raw:?}");
        check("0", "0");
        check("-1.5", "-1.5");
        check("1e3", "`1e3`");
        check("TRUE", "true");
        check("'new'", "'new'");
        check("'it''s'", "'it\\'s'");
        check("'", "`'`");
        check("now()", "`now()`");
        check("a`b", "`a'b`");
    }

    #[test]
    fn strings_and_names() {
        assert_eq!(string("it's a \\ b"), "'it\\'s a \\\\ b'");
        assert_eq!(string("two\nlines"), "'''two\nlines'''");
        assert_eq!(quote_name("book"), "book");
        assert_eq!(quote_name("Order \"Details\""), "\"Order 'Details'\"");
        assert_eq!(columns(&["a".into(), "b c".into()]), "(a, \"b c\")");
    }

    #[test]
    fn composite_keys_go_to_indexes() {
        let mut model = sample();
        let loan = model
            .entities
            .iter_mut()
            .find(|e| e.name == "loan")
            .expect("loan exists");
        loan.primary_key = vec!["book_id".into(), "member_id".into()];
        loan.unique = vec![vec!["book_id".into(), "lent_at".into()]];
        let text = dbml(&model);
        assert!(text.contains("    (book_id, member_id) [pk]\n"), "{text}");
        assert!(text.contains("    (book_id, lent_at) [unique]\n"), "{text}");
        assert!(text.contains("  book_id uuid [not null, note:"), "{text}");
    }
}
