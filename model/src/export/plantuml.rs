//! PlantUML entity-relationship diagram in Information Engineering (IE) notation.
//!
//! Each entity is an `entity` block: primary key attributes above the `--` line, the others
//! below; a `*` marks a *mandatory* (not nullable) attribute, and `<<PK>>`, `<<FK>>` and `<<UQ>>`
//! stereotypes mark keys. Relationships are drawn with crow's-foot ends: the referencing side is
//! "many" (`}o`) for N:1 and N:M and "zero or one" (`|o`) for 1:1; the referenced side is "exactly
//! one" (`||`) when the foreign key is mandatory and "zero or one" (`o|`) when it is nullable.
//! Entities get an *alias* (an identifier) so that any name can be drawn: the name is quoted.

use super::super::types::{Cardinality, Model};
use super::{all_nullable, is_unique_alone, targets_in, Aliases, ForeignKey, Lookup};
use std::fmt::Write;

/// Writes the PlantUML diagram of `model`.
pub fn plantuml(model: &Model) -> String {
    let aliases = Aliases::new(model);
    let lookup = Lookup::new(model);
    let mut out = String::from("@startuml\n");
    // `hide circle` drops the class-diagram "E" badge; ortho lines read better in ER diagrams.
    out.push_str("hide circle\nskinparam linetype ortho\n");
    for entity in &model.entities {
        let alias = aliases.of(&entity.name);
        let _ = writeln!(out, "\nentity \"{}\" as {alias} {{", label(&entity.name));
        let (keys, others): (Vec<_>, Vec<_>) = entity
            .attributes
            .iter()
            .partition(|a| entity.is_key(&a.name));
        let foreign_keys = lookup.keys(entity);
        for a in &keys {
            let _ = writeln!(out, "  {}", field(foreign_keys, entity, a));
        }
        out.push_str("  --\n");
        for a in &others {
            let _ = writeln!(out, "  {}", field(foreign_keys, entity, a));
        }
        out.push_str("}\n");
        if !entity.description.trim().is_empty() {
            let _ = writeln!(
                out,
                "note bottom of {alias}\n  {}\nend note",
                note_text(&entity.description)
            );
        }
    }
    if !model.relationships.is_empty() {
        out.push('\n');
    }
    for r in &model.relationships {
        let from = aliases.of(&r.from_entity);
        let to = aliases.of(&r.to_entity);
        let optional = all_nullable(lookup.entity(&r.from_entity), &r.from_attributes);
        let (left, right) = match r.cardinality {
            Cardinality::ManyToOne => ("}o", if optional { "o|" } else { "||" }),
            Cardinality::OneToOne => ("|o", if optional { "o|" } else { "||" }),
            Cardinality::ManyToMany => ("}o", "o{"),
        };
        let label_text = if r.name.trim().is_empty() {
            r.from_attributes.join(", ")
        } else {
            r.name.clone()
        };
        let _ = writeln!(out, "{from} {left}--{right} {to} : {}", label(&label_text));
    }
    out.push_str("@enduml\n");
    out
}

/// One attribute line: `* name : type <<PK>> <<FK>>`.
fn field(
    foreign_keys: &[ForeignKey],
    entity: &super::super::types::Entity,
    a: &super::super::types::Attribute,
) -> String {
    let mut line = String::new();
    if !a.nullable {
        line.push_str("* ");
    }
    // PlantUML reads a field with parentheses as a method; `string(200)` is still shown as
    // written, only listed with the methods, so the type is printed verbatim.
    let _ = write!(
        line,
        "{} : {}",
        label(&a.name),
        label(&a.data_type.to_string())
    );
    if entity.is_key(&a.name) {
        line.push_str(" <<PK>>");
    }
    if targets_in(foreign_keys, &a.name).next().is_some() {
        line.push_str(" <<FK>>");
    }
    if is_unique_alone(entity, &a.name) {
        line.push_str(" <<UQ>>");
    }
    line
}

/// Text PlantUML shows as is: one line, no double quote (it would end a quoted name).
fn label(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('"', "'")
}

/// Note text: `end note` alone on a line would close the note early.
fn note_text(text: &str) -> String {
    text.trim()
        .lines()
        .map(|l| {
            if l.trim().eq_ignore_ascii_case("end note") {
                format!("~{}", l.trim())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    #[test]
    fn library_v1() {
        insta::assert_snapshot!(plantuml(&sample()));
    }

    #[test]
    fn library_v2() {
        let model = v2();
        insta::assert_snapshot!(plantuml(&model));
    }

    #[test]
    fn crow_feet_follow_cardinality_and_optionality() {
        let check = |cardinality: Cardinality, nullable: bool, expected: &str| {
            let mut model = sample();
            model.relationships.truncate(1);
            model.relationships[0].cardinality = cardinality;
            let book = model.entities.iter_mut().find(|e| e.name == "book");
            let attribute = book
                .and_then(|b| b.attributes.iter_mut().find(|a| a.name == "author_id"))
                .expect("book.author_id exists");
            attribute.nullable = nullable;
            let text = plantuml(&model);
            assert!(
                text.contains(expected),
                "{cardinality:?} {nullable}: {text}"
            );
        };
        check(
            Cardinality::ManyToOne,
            false,
            "book }o--|| author : book_author",
        );
        check(
            Cardinality::ManyToOne,
            true,
            "book }o--o| author : book_author",
        );
        check(Cardinality::OneToOne, false, "book |o--|| author");
        check(Cardinality::ManyToMany, false, "book }o--o{ author");
    }

    #[test]
    fn odd_names_are_quoted_behind_an_alias() {
        let mut model = sample();
        model.entities[0].name = "Order \"Details\"".into();
        model.relationships[0].to_entity = "Order \"Details\"".into();
        let text = plantuml(&model);
        assert!(
            text.contains("entity \"Order 'Details'\" as Order__Details_ {"),
            "{text}"
        );
        assert!(text.contains("book }o--|| Order__Details_ :"), "{text}");
    }
}
