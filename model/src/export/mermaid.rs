//! Mermaid `erDiagram`: the model as a diagram GitHub, GitLab and most Markdown viewers draw.
//!
//! Mermaid is strict about spelling: an attribute *type* is one word without spaces or
//! parentheses (`string(200)` is written `string_200`, an enum `enum` with its values in the
//! comment), names are identifiers (an entity whose name is not gets an *alias* with the name as
//! its label, `alias["Order Details"]`), and a *comment* is a double-quoted string that cannot
//! hold a double quote. Words Mermaid's lexer takes for keywords in any letter case (`end`,
//! `class`, `style`, `one`, `many`, `to`, `PK` ...) get a `_` appended. Key markers are `PK`, `FK` and `UK`. A relationship is *identifying*
//! (solid `--`) when its foreign key is part of the referencing entity's primary key, and
//! non-identifying (dashed `..`) otherwise; its ends use crow's-foot cardinality (`}o--||`).

use super::super::logical_type::LogicalType;
use super::super::types::{Attribute, Cardinality, Entity, Model};
use super::{
    all_nullable, identifier, is_unique_alone, targets_in, within_primary_key, Aliases, ForeignKey,
    Lookup,
};
use std::fmt::Write;

/// Writes the Mermaid ER diagram of `model`.
pub fn mermaid(model: &Model) -> String {
    let aliases = Aliases::with(model, word);
    let lookup = Lookup::new(model);
    let mut out = String::from("erDiagram\n");
    for entity in &model.entities {
        let alias = aliases.of(&entity.name);
        if alias == entity.name {
            let _ = writeln!(out, "    {alias} {{");
        } else {
            let _ = writeln!(out, "    {alias}[\"{}\"] {{", quoted(&entity.name));
        }
        let foreign_keys = lookup.keys(entity);
        for a in &entity.attributes {
            let _ = writeln!(out, "        {}", attribute(foreign_keys, entity, a));
        }
        out.push_str("    }\n");
    }
    for r in &model.relationships {
        let from = aliases.of(&r.from_entity);
        let to = aliases.of(&r.to_entity);
        let from_entity = lookup.entity(&r.from_entity);
        let optional = all_nullable(from_entity, &r.from_attributes);
        let (left, right) = match r.cardinality {
            Cardinality::ManyToOne => ("}o", if optional { "o|" } else { "||" }),
            Cardinality::OneToOne => ("|o", if optional { "o|" } else { "||" }),
            Cardinality::ManyToMany => ("}o", "o{"),
        };
        let line = if within_primary_key(from_entity, &r.from_attributes) {
            "--"
        } else {
            ".."
        };
        let label = if !r.name.trim().is_empty() {
            r.name.clone()
        } else if !r.from_attributes.is_empty() {
            r.from_attributes.join(", ")
        } else {
            "references".to_string()
        };
        let _ = writeln!(
            out,
            "    {from} {left}{line}{right} {to} : \"{}\"",
            quoted(&label)
        );
    }
    out
}

/// One attribute line: `type name PK, FK "comment"`.
fn attribute(foreign_keys: &[ForeignKey], entity: &Entity, a: &Attribute) -> String {
    let name = word(&a.name);
    let mut line = format!("{} {name}", type_word(&a.data_type));
    let mut keys = Vec::new();
    if entity.is_key(&a.name) {
        keys.push("PK");
    }
    if targets_in(foreign_keys, &a.name).next().is_some() {
        keys.push("FK");
    }
    if is_unique_alone(entity, &a.name) {
        keys.push("UK");
    }
    if !keys.is_empty() {
        line.push(' ');
        line.push_str(&keys.join(", "));
    }
    // The comment carries what Mermaid cannot show otherwise, as short sentences.
    let mut comment = Vec::new();
    if name != a.name {
        comment.push(format!("Name: {}.", a.name));
    }
    if !a.description.trim().is_empty() {
        comment.push(a.description.trim().to_string());
    }
    if let LogicalType::Enum(values) = &a.data_type {
        if !values.is_empty() {
            comment.push(format!("One of: {}.", values.join(", ")));
        }
    }
    if a.nullable {
        comment.push("Nullable.".into());
    }
    if !comment.is_empty() {
        let _ = write!(line, " \"{}\"", quoted(&comment.join(" ")));
    }
    line
}

/// Words of Mermaid's `erDiagram` lexer that cannot name an entity, attribute or type, in lower
/// case (the lexer ignores case). Found by running Mermaid 11's parser on each candidate.
const RESERVED: [&str; 14] = [
    "accdescr",
    "acctitle",
    "class",
    "classdef",
    "end",
    "erdiagram",
    "fk",
    "many",
    "one",
    "pk",
    "style",
    "subgraph",
    "to",
    "uk",
];

/// `name` as a Mermaid word: an identifier that is not a keyword.
fn word(name: &str) -> String {
    let id = identifier(name);
    if RESERVED.contains(&id.to_ascii_lowercase().as_str()) {
        format!("{id}_")
    } else {
        id
    }
}

/// The type as one Mermaid word: `string_200`, `decimal_12_2`, `enum`; an unknown type becomes
/// an identifier of its spelling.
fn type_word(data_type: &LogicalType) -> String {
    match data_type {
        LogicalType::String(Some(n)) => format!("string_{n}"),
        LogicalType::Decimal { precision, scale } => format!("decimal_{precision}_{scale}"),
        LogicalType::Enum(_) => "enum".into(),
        LogicalType::Unknown(raw) => {
            let id = identifier(raw.trim());
            let id = id.trim_end_matches('_');
            if id.is_empty() {
                "_".into()
            } else {
                word(id)
            }
        }
        other => other.to_string(),
    }
}

/// Text inside double quotes: one line, without `"` (Mermaid has no escape for it).
fn quoted(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('"', "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    #[test]
    fn library_v1() {
        insta::assert_snapshot!(mermaid(&sample()));
    }

    #[test]
    fn library_v2() {
        let model = v2();
        insta::assert_snapshot!(mermaid(&model));
    }

    #[test]
    fn types_are_single_words() {
        let check = |raw: &str, expected: &str| {
            assert_eq!(type_word(&LogicalType::parse(raw)), expected, "{raw:?}");
        };
        check("string(200)", "string_200");
        check("string", "string");
        check("decimal(12,2)", "decimal_12_2");
        check("enum(a,b)", "enum");
        check("timestamptz", "timestamptz");
        check("double precision", "float");
        check("geometry(Point, 4326)", "geometry_Point__4326");
        check("%%", "_");
        check("MONEY", "MONEY");
        check("PK", "PK_");
    }

    #[test]
    fn keywords_are_not_names() {
        let check = |input: &str, expected: &str| assert_eq!(word(input), expected, "{input:?}");
        check("End", "End_");
        check("class", "class_");
        check("pk", "pk_");
        check("end_date", "end_date");
        check("classes", "classes");
        let mut model = sample();
        model.entities[0].name = "Style".into();
        model.relationships[0].to_entity = "style".into();
        let text = mermaid(&model);
        assert!(text.contains("    Style_[\"Style\"] {"), "{text}");
        assert!(text.contains("book }o..|| Style_ :"), "{text}");
    }

    #[test]
    fn odd_names_get_an_alias_and_quotes_are_replaced() {
        let mut model = sample();
        model.entities[0].name = "Order Details".into();
        model.entities[0].attributes[1].name = "full name".into();
        model.entities[0].attributes[1].description = "say \"hi\"".into();
        let text = mermaid(&model);
        assert!(
            text.contains("    Order_Details[\"Order Details\"] {"),
            "{text}"
        );
        assert!(
            text.contains("string_200 full_name \"Name: full name. say 'hi'\""),
            "{text}"
        );
    }

    #[test]
    fn identifying_relationships_are_solid() {
        let mut model = sample();
        let loan = model
            .entities
            .iter_mut()
            .find(|e| e.name == "loan")
            .expect("loan exists");
        loan.primary_key = vec!["book_id".into(), "member_id".into()];
        let text = mermaid(&model);
        assert!(text.contains("loan }o--|| book : \"loan_book\""), "{text}");
        assert!(
            text.contains("book }o..|| author : \"book_author\""),
            "{text}"
        );
    }
}
