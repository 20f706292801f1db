//! Validation: every problem in a model, each with a path and a reason (DESIGN §3).
//!
//! A *path* locates the offending value in the model's JSON form, such as
//! `entities[3].attributes[1].type`. Validation never stops at the first problem: the user (or
//! the LLM, when problems are fed back) sees them all at once. Names compare case-insensitively,
//! because SQL identifiers do.

use super::types::{Cardinality, Entity, Model, OnDelete};
use super::LogicalType;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One problem found in a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

/// How names in the domain must be written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamingConvention {
    /// Any non-empty name is accepted.
    #[default]
    Any,
    /// `lower_snake_case`: ASCII lower-case letters, digits and underscores, starting with a letter.
    SnakeCase,
}

/// The domain's conventions: the naming rule validation enforces, and the modelling
/// guidance (keys, types, time zones, naming of join tables…) every prompt carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conventions {
    pub naming: NamingConvention,
    /// Free text, sent to the LLM as written; empty when the domain has none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guidance: String,
}

/// The longest modelling guidance a domain keeps, in characters.
pub const GUIDANCE_MAX: usize = 4_000;

/// Returns every problem in `model`; an empty list means the model is valid.
pub fn validate(model: &Model, conventions: &Conventions) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut push = |path: String, reason: String| out.push(Problem { path, reason });

    if model.entities.is_empty() {
        push(
            "entities".into(),
            "the model has no entities: add at least one".into(),
        );
    }
    let mut entity_names = HashSet::new();
    for (ei, entity) in model.entities.iter().enumerate() {
        let path = format!("entities[{ei}]");
        check_name(
            &entity.name,
            &format!("{path}.name"),
            conventions,
            &mut push,
        );
        if !entity_names.insert(entity.name.to_ascii_lowercase()) {
            push(
                format!("{path}.name"),
                format!("duplicate entity name `{}`", entity.name),
            );
        }
        check_entity(entity, &path, conventions, &mut push);
    }

    for (ri, rel) in model.relationships.iter().enumerate() {
        let path = format!("relationships[{ri}]");
        let from = model.entity(&rel.from_entity);
        let to = model.entity(&rel.to_entity);
        for (side, name, entity, attrs) in [
            ("from", &rel.from_entity, from, &rel.from_attributes),
            ("to", &rel.to_entity, to, &rel.to_attributes),
        ] {
            match entity {
                None => push(
                    format!("{path}.{side}_entity"),
                    format!("relationship names missing entity `{name}`"),
                ),
                Some(entity) => {
                    for (ai, attr) in attrs.iter().enumerate() {
                        if entity.attribute(attr).is_none() {
                            push(
                                format!("{path}.{side}_attributes[{ai}]"),
                                format!("entity `{}` has no attribute `{attr}`", entity.name),
                            );
                        }
                    }
                }
            }
        }
        if rel.from_attributes.is_empty() {
            push(
                format!("{path}.from_attributes"),
                "relationship lists no attributes".into(),
            );
        }
        if rel.from_attributes.len() != rel.to_attributes.len() {
            push(
                format!("{path}.to_attributes"),
                format!(
                    "relationship pairs {} attributes with {}: list as many on each side",
                    rel.from_attributes.len(),
                    rel.to_attributes.len()
                ),
            );
        }
        if rel.on_delete == OnDelete::SetNull {
            if let Some(from) = from {
                for attr in &rel.from_attributes {
                    if from.attribute(attr).is_some_and(|a| !a.nullable) {
                        push(
                            format!("{path}.on_delete"),
                            format!(
                                "on delete set null needs `{}.{attr}` to be nullable",
                                from.name
                            ),
                        );
                    }
                }
            }
        }
        if rel.cardinality == Cardinality::ManyToMany && rel.from_entity == rel.to_entity {
            push(
                format!("{path}.cardinality"),
                "a many-to-many relationship needs a join entity between two entities".into(),
            );
        }
        if let (Some(from), Some(to)) = (from, to) {
            for (ai, (fa, ta)) in rel
                .from_attributes
                .iter()
                .zip(&rel.to_attributes)
                .enumerate()
            {
                if let (Some(fa), Some(ta)) = (from.attribute(fa), to.attribute(ta)) {
                    if !same_family(&fa.data_type, &ta.data_type) {
                        push(
                            format!("{path}.from_attributes[{ai}]"),
                            format!(
                                "`{}.{}` is {} but it references `{}.{}`, which is {}: give both the same type",
                                from.name, fa.name, fa.data_type, to.name, ta.name, ta.data_type
                            ),
                        );
                    }
                }
            }
        }
    }
    for (ri, cycle) in required_cycles(model) {
        push(
            format!("relationships[{ri}]"),
            format!(
                "the required references {} form a cycle: no row can be inserted first; make one of the referencing attributes nullable",
                cycle.join(" → ")
            ),
        );
    }
    out
}

/// Whether two types can be joined on: the same type, up to length, precision or width.
fn same_family(a: &LogicalType, b: &LogicalType) -> bool {
    use LogicalType as T;
    let family = |t: &LogicalType| match t {
        T::String(_) | T::Text => 0,
        T::Integer | T::BigInt => 1,
        T::Decimal { .. } => 2,
        T::Enum(_) => 3,
        T::Unknown(_) => 4,
        _ => 5,
    };
    match (family(a), family(b)) {
        // Unknown types are reported on their own; do not pile a second problem on them.
        (4, _) | (_, 4) => true,
        (5, 5) => std::mem::discriminant(a) == std::mem::discriminant(b),
        (x, y) => x == y,
    }
}

/// Cycles of *required* references (every referencing attribute NOT NULL), which no insert
/// order can satisfy. Each cycle is reported once, at the relationship that closes it, as the
/// entity names along it.
fn required_cycles(model: &Model) -> Vec<(usize, Vec<String>)> {
    let index: std::collections::HashMap<String, usize> = model
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.to_ascii_lowercase(), i))
        .collect();
    // Edges from referencing entity to referenced entity, with the relationship index.
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); model.entities.len()];
    for (ri, r) in model.relationships.iter().enumerate() {
        let (Some(&f), Some(&t)) = (
            index.get(&r.from_entity.to_ascii_lowercase()),
            index.get(&r.to_entity.to_ascii_lowercase()),
        ) else {
            continue;
        };
        let required = !r.from_attributes.is_empty()
            && r.from_attributes
                .iter()
                .all(|a| model.entities[f].attribute(a).is_some_and(|a| !a.nullable));
        if required {
            edges[f].push((t, ri));
        }
    }
    // Depth-first search with colours; a back edge closes a cycle.
    let mut colour = vec![0u8; model.entities.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mut found = Vec::new();
    fn visit(
        v: usize,
        edges: &[Vec<(usize, usize)>],
        colour: &mut [u8],
        stack: &mut Vec<usize>,
        found: &mut Vec<(usize, Vec<usize>)>,
    ) {
        colour[v] = 1;
        stack.push(v);
        for &(w, ri) in &edges[v] {
            match colour[w] {
                0 => visit(w, edges, colour, stack, found),
                1 => {
                    let start = stack.iter().rposition(|&x| x == w).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(w);
                    found.push((ri, cycle));
                }
                _ => {}
            }
        }
        stack.pop();
        colour[v] = 2;
    }
    for v in 0..model.entities.len() {
        if colour[v] == 0 {
            visit(v, &edges, &mut colour, &mut stack, &mut found);
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(ri, cycle)| {
            (
                ri,
                cycle
                    .into_iter()
                    .map(|i| model.entities[i].name.clone())
                    .collect(),
            )
        })
        .collect()
}

fn check_entity(
    entity: &Entity,
    path: &str,
    conventions: &Conventions,
    push: &mut impl FnMut(String, String),
) {
    if entity.attributes.is_empty() {
        push(
            format!("{path}.attributes"),
            format!("entity `{}` has no attributes", entity.name),
        );
    }
    let mut names = HashSet::new();
    for (ai, attr) in entity.attributes.iter().enumerate() {
        let apath = format!("{path}.attributes[{ai}]");
        check_name(&attr.name, &format!("{apath}.name"), conventions, push);
        if !names.insert(attr.name.to_ascii_lowercase()) {
            push(
                format!("{apath}.name"),
                format!("duplicate attribute name `{}`", attr.name),
            );
        }
        match &attr.data_type {
            LogicalType::Unknown(raw) => push(
                format!("{apath}.type"),
                format!(
                    "unknown type `{raw}`: use one of string(n), text, integer, bigint, \
                     decimal(p,s), float, boolean, date, time, timestamp, timestamptz, uuid, \
                     json, bytes, enum(a,b,...)"
                ),
            ),
            LogicalType::Enum(values) if values.is_empty() => {
                push(format!("{apath}.type"), "enum lists no values".into())
            }
            LogicalType::Decimal { precision, scale } if scale > precision || *precision == 0 => {
                push(
                    format!("{apath}.type"),
                    format!("decimal({precision},{scale}) needs 0 < scale <= precision"),
                )
            }
            LogicalType::String(Some(0)) => {
                push(format!("{apath}.type"), "string(0) can hold nothing".into())
            }
            _ => {}
        }
    }
    if entity.primary_key.is_empty() {
        push(
            format!("{path}.primary_key"),
            format!("entity `{}` has no primary key", entity.name),
        );
    }
    for (ki, key) in entity.primary_key.iter().enumerate() {
        match entity.attribute(key) {
            None => push(
                format!("{path}.primary_key[{ki}]"),
                format!("primary key names missing attribute `{key}`"),
            ),
            Some(attr) if attr.nullable => push(
                format!("{path}.primary_key[{ki}]"),
                format!("primary key attribute `{key}` is nullable"),
            ),
            Some(_) => {}
        }
    }
    for (ui, unique) in entity.unique.iter().enumerate() {
        for (ci, column) in unique.iter().enumerate() {
            if entity.attribute(column).is_none() {
                push(
                    format!("{path}.unique[{ui}][{ci}]"),
                    format!("unique constraint names missing attribute `{column}`"),
                );
            }
        }
    }
    for (ii, index) in entity.indexes.iter().enumerate() {
        if index.attributes.is_empty() && index.expression.is_none() {
            push(
                format!("{path}.indexes[{ii}]"),
                format!("index `{}` lists no attributes", index.name),
            );
        }
        for (ci, column) in index.attributes.iter().enumerate() {
            if entity.attribute(column).is_none() {
                push(
                    format!("{path}.indexes[{ii}].attributes[{ci}]"),
                    format!("index `{}` names missing attribute `{column}`", index.name),
                );
            }
        }
    }
}

fn check_name(
    name: &str,
    path: &str,
    conventions: &Conventions,
    push: &mut impl FnMut(String, String),
) {
    if name.trim().is_empty() {
        push(path.to_string(), "name is empty".into());
        return;
    }
    if conventions.naming == NamingConvention::SnakeCase && !is_snake_case(name) {
        push(
            path.to_string(),
            format!("`{name}` breaks the naming convention: use lower_snake_case"),
        );
    }
}

fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::sample;

    fn problems(json: &str, conventions: &Conventions) -> Vec<(String, String)> {
        let model: Model = serde_json::from_str(json).expect("test model parses");
        validate(&model, conventions)
            .into_iter()
            .map(|p| (p.path, p.reason))
            .collect()
    }

    #[test]
    fn sample_is_valid() {
        let conventions = Conventions {
            naming: NamingConvention::SnakeCase,
            guidance: String::new(),
        };
        assert_eq!(validate(&sample(), &conventions), vec![]);
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let found = problems(
            r#"{"entities":[
                {"name":"Order","attributes":[
                    {"name":"id","type":"uuid"},
                    {"name":"ID","type":"money"},
                    {"name":"state","type":"enum()"}
                ],"primary_key":["id","missing"],"indexes":[{"name":"i","attributes":["nope"]}]},
                {"name":"order","attributes":[{"name":"id","type":"uuid","nullable":true}],"primary_key":["id"]}
            ],"relationships":[
                {"from_entity":"Order","from_attributes":["id"],"to_entity":"ghost","to_attributes":["id"],"cardinality":"N:1"}
            ]}"#,
            &Conventions {
                naming: NamingConvention::SnakeCase,
                guidance: String::new(),
            },
        );
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "entities[0].name",
                "entities[0].attributes[1].name",
                "entities[0].attributes[1].name",
                "entities[0].attributes[1].type",
                "entities[0].attributes[2].type",
                "entities[0].primary_key[1]",
                "entities[0].indexes[0].attributes[0]",
                "entities[1].name",
                "entities[1].primary_key[0]",
                "relationships[0].to_entity",
            ]
        );
        assert!(found[0].1.contains("lower_snake_case"), "{:?}", found[0]);
        assert!(
            found[2].1.contains("duplicate attribute name `ID`"),
            "{:?}",
            found[2]
        );
        assert!(
            found[3].1.starts_with("unknown type `money`"),
            "{:?}",
            found[3]
        );
        assert!(
            found[7].1.contains("duplicate entity name"),
            "{:?}",
            found[7]
        );
        assert!(found[8].1.contains("is nullable"), "{:?}", found[8]);
        assert!(
            found[9].1.contains("missing entity `ghost`"),
            "{:?}",
            found[9]
        );
    }

    #[test]
    fn empty_model_is_reported() {
        let found = problems(r#"{"entities":[]}"#, &Conventions::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "entities");
    }

    #[test]
    fn any_naming_accepts_mixed_case() {
        let found = problems(
            r#"{"entities":[{"name":"OrderLine","attributes":[{"name":"Id","type":"int"}],"primary_key":["Id"]}]}"#,
            &Conventions::default(),
        );
        assert_eq!(found, vec![]);
    }

    #[test]
    fn references_need_matching_types() {
        let mut model = sample();
        model.entities[1].attributes[3].data_type = LogicalType::Integer; // book.author_id
        let found = validate(&model, &Conventions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "relationships[0].from_attributes[0]");
        assert_eq!(
            found[0].reason,
            "`book.author_id` is integer but it references `author.id`, which is uuid: give both the same type"
        );
    }

    #[test]
    fn cycles_of_required_references_are_reported_once() {
        let mut model = sample();
        // author.favourite_book_id NOT NULL → book, and book.author_id NOT NULL → author.
        model.entities[0].attributes.push(crate::Attribute {
            name: "favourite_book_id".into(),
            data_type: LogicalType::Uuid,
            nullable: false,
            default: None,
            description: String::new(),
            tags: vec![],
            auto_increment: false,
            native: None,
            case_insensitive: false,
        });
        model.relationships.push(crate::Relationship {
            name: "author_favourite".into(),
            from_entity: "author".into(),
            from_attributes: vec!["favourite_book_id".into()],
            to_entity: "book".into(),
            to_attributes: vec!["id".into()],
            cardinality: Cardinality::ManyToOne,
            on_delete: OnDelete::NoAction,
        });
        let found = validate(&model, &Conventions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .reason
                .starts_with("the required references author → book → author form a cycle")
                || found[0]
                    .reason
                    .starts_with("the required references book → author → book form a cycle"),
            "{found:?}"
        );
        // Nullable on one side breaks the cycle.
        model.entities[0].attributes[3].nullable = true;
        assert_eq!(validate(&model, &Conventions::default()), vec![]);
    }
}
