//! Impact analysis: how risky each change of a diff is, and what else it touches.
//!
//! A change is *breaking* when existing readers or writers fail or data is lost, *risky* when it
//! works for some data or clients and not others (the migration itself may fail on existing
//! rows), and *safe* otherwise. Each judgement carries its reason and the other parts of the
//! model the change touches (keys, constraints, indexes, relationships), so a reviewer sees why.

use super::diff::{diff_with, match_models, AttributeField, Change, Matching, RelationshipField};
use super::logical_type::LogicalType;
use super::types::{Model, Relationship};
use serde::{Deserialize, Serialize};

/// How a change affects existing data, readers and writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Existing readers or writers fail, or data is lost.
    Breaking,
    /// Works for some data or some clients and not others (a migration may fail).
    Risky,
    /// Existing data, readers and writers keep working.
    Safe,
}

/// The judgement on one change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    pub severity: Severity,
    /// Why, in one sentence: "dropping a column breaks every reader of it".
    pub reason: String,
    /// What else the change touches: `relationship loan_member`, `index loan_member_open`,
    /// `primary key of loan`.
    pub affected: Vec<String>,
}

/// One change with its impact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedChange {
    pub change: Change,
    pub impact: Impact,
}

/// One line of the narrative's line diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NarrativeLine {
    pub tag: LineTag,
    pub text: String,
}

/// Whether a narrative line is kept, removed or added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineTag {
    Equal,
    Delete,
    Insert,
}

/// The whole review of `old` → `new`: every change with its impact, counts per severity and
/// the narrative's line diff (empty when the narrative did not change).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactReport {
    pub changes: Vec<AssessedChange>,
    pub breaking: usize,
    pub risky: usize,
    pub safe: usize,
    pub narrative: Vec<NarrativeLine>,
}

/// Diffs `old` and `new` and assesses every change.
pub fn analyze(old: &Model, new: &Model) -> ImpactReport {
    let matching = match_models(old, new);
    let diff = diff_with(old, new, &matching);
    let changes: Vec<AssessedChange> = diff
        .changes
        .into_iter()
        .map(|change| {
            let impact = assess_with(old, new, &matching, &change);
            AssessedChange { change, impact }
        })
        .collect();
    let count = |s: Severity| changes.iter().filter(|c| c.impact.severity == s).count();
    ImpactReport {
        breaking: count(Severity::Breaking),
        risky: count(Severity::Risky),
        safe: count(Severity::Safe),
        narrative: narrative_diff(&old.narrative, &new.narrative),
        changes,
    }
}

/// The line diff of two narratives; empty when they are equal.
pub fn narrative_diff(old: &str, new: &str) -> Vec<NarrativeLine> {
    if old == new {
        return Vec::new();
    }
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| NarrativeLine {
            tag: match c.tag() {
                similar::ChangeTag::Equal => LineTag::Equal,
                similar::ChangeTag::Delete => LineTag::Delete,
                similar::ChangeTag::Insert => LineTag::Insert,
            },
            text: c.value().trim_end_matches(['\r', '\n']).to_string(),
        })
        .collect()
}

fn impact(severity: Severity, reason: impl Into<String>, affected: Vec<String>) -> Impact {
    Impact {
        severity,
        reason: reason.into(),
        affected,
    }
}

/// Judges one change of the diff from `old` to `new`, given the matching the diff was made from.
pub fn assess_with(old: &Model, new: &Model, matching: &Matching, change: &Change) -> Impact {
    use Severity::{Breaking, Risky, Safe};
    match change {
        Change::SummaryChanged { .. } | Change::NarrativeChanged => {
            impact(Safe, "documentation only", vec![])
        }
        Change::EntityDescriptionChanged { .. } => impact(Safe, "documentation only", vec![]),
        Change::EntityTagsChanged { from, to, .. } => {
            tags_impact(from.iter().map(String::as_str), to.iter().map(String::as_str))
        }
        Change::EntityAdded { .. } => impact(
            Safe,
            "a new table: nothing reads or writes it yet",
            vec![],
        ),
        Change::EntityRemoved { entity, .. } => impact(
            Breaking,
            "dropping a table loses its rows and breaks every reader and writer of it",
            uses_of_entity(old, entity),
        ),
        Change::EntityRenamed { from, to, confidence } => impact(
            Breaking,
            format!(
                "renaming a table breaks every reader and writer that uses the old name; \
                 if `{to}` is not `{from}` renamed ({confidence}% sure), `{from}` is dropped with its rows"
            ),
            uses_of_entity(old, from),
        ),
        Change::AttributeAdded {
            nullable, default, ..
        } => {
            if *nullable {
                impact(Safe, "adding a nullable column is safe: existing rows get NULL", vec![])
            } else if default.is_some() {
                impact(
                    Safe,
                    "adding a NOT NULL column with a default is safe: existing rows get the default",
                    vec![],
                )
            } else {
                impact(
                    Risky,
                    "adding a NOT NULL column without a default fails on a table with rows and breaks writers that do not set it",
                    vec![],
                )
            }
        }
        Change::AttributeRemoved {
            entity, attribute, ..
        } => {
            let entity = old_entity_name(old, new, matching, entity);
            impact(
                Breaking,
                "dropping a column loses its data and breaks every reader of it",
                uses_of_attribute(old, &entity, attribute),
            )
        }
        Change::AttributeRenamed {
            entity,
            from,
            to,
            confidence,
        } => {
            let old_entity = old_entity_name(old, new, matching, entity);
            impact(
                Breaking,
                format!(
                    "renaming a column breaks readers and writers that use the old name; \
                     if `{to}` is not `{from}` renamed ({confidence}% sure), `{from}` is dropped with its data"
                ),
                uses_of_attribute(old, &old_entity, from),
            )
        }
        Change::AttributeChanged {
            entity,
            attribute,
            field,
            from,
            to,
        } => {
            let affected = uses_of_attribute(new, entity, attribute);
            match field {
                AttributeField::Type => {
                    let (severity, reason) =
                        type_change(&LogicalType::parse(from), &LogicalType::parse(to));
                    impact(severity, reason, affected)
                }
                AttributeField::Nullable if to == "false" => {
                    let has_default = new
                        .entity(entity)
                        .and_then(|e| e.attribute(attribute))
                        .is_some_and(|a| a.default.is_some());
                    impact(
                        Risky,
                        if has_default {
                            "making a column NOT NULL fails while rows hold NULL (the default covers new rows only) and breaks writers that send NULL"
                        } else {
                            "making a column NOT NULL fails while rows hold NULL and breaks writers that send NULL or omit it"
                        },
                        affected,
                    )
                }
                AttributeField::Nullable => impact(
                    Risky,
                    "making a column nullable keeps writers working, but readers must now handle NULL",
                    affected,
                ),
                AttributeField::Default => {
                    let required = new
                        .entity(entity)
                        .and_then(|e| e.attribute(attribute))
                        .is_some_and(|a| !a.nullable);
                    if to.is_empty() && required {
                        impact(
                            Risky,
                            "removing the default of a NOT NULL column breaks writers that omit it",
                            affected,
                        )
                    } else {
                        impact(
                            Safe,
                            "a default only affects new rows whose writers omit the column",
                            vec![],
                        )
                    }
                }
                AttributeField::Description => impact(Safe, "documentation only", vec![]),
                // The change carries the tags joined with ", " (see `diff::diff_attribute`).
                AttributeField::Tags => tags_impact(from.split(", "), to.split(", ")),
                AttributeField::AutoIncrement if to == "false" => impact(
                    Breaking,
                    "writers that leave the column out to get a number now fail",
                    affected,
                ),
                AttributeField::AutoIncrement => impact(
                    Safe,
                    "writers may now leave the column out; values they send are kept",
                    vec![],
                ),
                AttributeField::CaseInsensitive => impact(
                    Risky,
                    "comparisons, sorting and unique keys change: rows that differ only in case \
                     become duplicates (or stop being)",
                    affected,
                ),
                AttributeField::NativeType => impact(
                    Risky,
                    "the column's type in its own database changes: check the range and length \
                     of stored values",
                    affected,
                ),
            }
        }
        Change::PrimaryKeyChanged { entity, .. } => impact(
            Breaking,
            "changing the primary key changes row identity: references to this table, upserts and caches keyed on it break, and duplicates make the migration fail",
            references_to(new, entity),
        ),
        Change::UniqueAdded { .. } => impact(
            Risky,
            "a new unique constraint fails while duplicates exist and rejects writers that insert them",
            vec![],
        ),
        Change::UniqueRemoved { entity, attributes } => impact(
            Risky,
            "readers that rely on these values being unique may now see duplicates",
            references_by_target(new, entity, attributes),
        ),
        Change::IndexAdded { unique: true, .. } => impact(
            Risky,
            "a new unique index fails while duplicates exist and rejects writers that insert them",
            vec![],
        ),
        Change::IndexAdded { .. } => impact(
            Safe,
            "a new index speeds up reads; building it takes time on a big table",
            vec![],
        ),
        Change::IndexRemoved { unique: true, .. } => impact(
            Risky,
            "dropping a unique index lets duplicates in and may slow down the queries that used it",
            vec![],
        ),
        Change::IndexRemoved { .. } => impact(
            Safe,
            "queries that used the index may get slower; data and clients are unaffected",
            vec![],
        ),
        Change::RelationshipAdded { .. } => impact(
            Risky,
            "a new foreign key fails while rows reference missing targets and rejects writers that insert them",
            vec![],
        ),
        Change::RelationshipRemoved { .. } => impact(
            Safe,
            "the reference is no longer enforced: data stays, integrity is up to the writers",
            vec![],
        ),
        Change::RelationshipChanged { field, .. } => match field {
            RelationshipField::Name => impact(
                Safe,
                "the constraint name changes; only tools that refer to it by name notice",
                vec![],
            ),
            RelationshipField::Cardinality => impact(
                Risky,
                "the cardinality changed: code that assumes one or many related rows must follow",
                vec![],
            ),
            RelationshipField::OnDelete => impact(
                Risky,
                "deletes now behave differently: rows may be removed, kept or nulled where they were not before",
                vec![],
            ),
        },
    }
}

/// A change of tags: risky when the PII tag comes or goes, labels only otherwise.
fn tags_impact<'a>(
    from: impl IntoIterator<Item = &'a str>,
    to: impl IntoIterator<Item = &'a str>,
) -> Impact {
    fn pii<'a>(tags: impl IntoIterator<Item = &'a str>) -> bool {
        tags.into_iter().any(|t| t.eq_ignore_ascii_case("pii"))
    }
    if pii(from) != pii(to) {
        impact(
            Severity::Risky,
            "the PII tag changed: data-protection handling (masking, retention, access) must follow",
            vec![],
        )
    } else {
        impact(Severity::Safe, "labels only", vec![])
    }
}

/// Whether a type change keeps existing values and clients working.
fn type_change(from: &LogicalType, to: &LogicalType) -> (Severity, &'static str) {
    use LogicalType as T;
    use Severity::{Breaking, Risky, Safe};
    const WIDER: &str = "the new type holds every old value: readers and writers keep working";
    const NARROWER: &str =
        "narrowing a type breaks writers that send values that no longer fit, and existing values may not convert";
    const CONVERT: &str = "the values convert, but readers get another type and must follow";
    const FAMILY: &str =
        "changing the type family needs a conversion: existing values may not convert and every reader and writer must change";
    match (from, to) {
        (T::String(Some(a)), T::String(Some(b))) => {
            if b >= a {
                (Safe, WIDER)
            } else {
                (Breaking, NARROWER)
            }
        }
        (T::String(_) | T::Text, T::String(None) | T::Text) => (Safe, WIDER),
        (T::String(None) | T::Text, T::String(Some(_))) => (Breaking, NARROWER),
        (T::Integer, T::BigInt) => (Safe, WIDER),
        (T::BigInt, T::Integer) => (Breaking, NARROWER),
        (
            T::Decimal {
                precision: p1,
                scale: s1,
            },
            T::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => {
            if s2 >= s1 && p2 - s2.min(p2) >= p1 - s1.min(p1) {
                (Safe, WIDER)
            } else {
                (Breaking, NARROWER)
            }
        }
        (T::Integer | T::BigInt, T::Decimal { precision, scale }) => {
            let digits = if matches!(from, T::Integer) { 10 } else { 19 };
            if precision.saturating_sub(*scale) >= digits {
                (Risky, CONVERT)
            } else {
                (Breaking, NARROWER)
            }
        }
        (T::Integer | T::BigInt | T::Decimal { .. }, T::Float) => (
            Risky,
            "floating point loses exactness: sums and equality on this column change",
        ),
        (T::Enum(a), T::Enum(b)) => {
            let removed = a
                .iter()
                .any(|v| !b.iter().any(|w| w.eq_ignore_ascii_case(v)));
            if removed {
                (
                    Breaking,
                    "values were removed from the enum: rows holding them no longer convert and writers that send them fail",
                )
            } else {
                (
                    Risky,
                    "values were added to the enum: writers keep working, readers must handle the new values",
                )
            }
        }
        (T::Enum(_), T::String(None) | T::Text) => (Risky, CONVERT),
        (T::Date, T::Timestamp | T::TimestampTz) => (Risky, CONVERT),
        (T::Timestamp, T::TimestampTz) | (T::TimestampTz, T::Timestamp) => (
            Risky,
            "the time-zone handling changes: existing values are reinterpreted and readers see shifted times",
        ),
        (_, T::Text | T::String(None)) => (Risky, CONVERT),
        _ => (Breaking, FAMILY),
    }
}

/// The older model's name of an entity named `name` in the newer one.
fn old_entity_name(old: &Model, new: &Model, matching: &Matching, name: &str) -> String {
    new.entities
        .iter()
        .position(|e| e.name.eq_ignore_ascii_case(name))
        .and_then(|ni| {
            matching
                .entities
                .iter()
                .position(|m| m.is_some_and(|m| m.index == ni))
        })
        .map_or_else(|| name.to_string(), |oi| old.entities[oi].name.clone())
}

fn rel_label(r: &Relationship) -> String {
    let name = if r.name.is_empty() {
        format!("{}_{}", r.from_entity, r.to_entity)
    } else {
        r.name.clone()
    };
    format!("relationship `{name}` ({})", r.link())
}

/// Relationships that touch `entity` from either end.
fn uses_of_entity(model: &Model, entity: &str) -> Vec<String> {
    model
        .relationships
        .iter()
        .filter(|r| {
            r.from_entity.eq_ignore_ascii_case(entity) || r.to_entity.eq_ignore_ascii_case(entity)
        })
        .map(rel_label)
        .collect()
}

/// Relationships pointing at `entity`.
fn references_to(model: &Model, entity: &str) -> Vec<String> {
    model
        .relationships
        .iter()
        .filter(|r| r.to_entity.eq_ignore_ascii_case(entity))
        .map(rel_label)
        .collect()
}

/// Relationships pointing at exactly `attributes` of `entity`.
fn references_by_target(model: &Model, entity: &str, attributes: &[String]) -> Vec<String> {
    model
        .relationships
        .iter()
        .filter(|r| {
            r.to_entity.eq_ignore_ascii_case(entity)
                && r.to_attributes.len() == attributes.len()
                && r.to_attributes
                    .iter()
                    .zip(attributes)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
        .map(rel_label)
        .collect()
}

/// Everything in `model` that names attribute `attr` of `entity`: the primary key, unique
/// constraints, indexes and relationships (from either end).
fn uses_of_attribute(model: &Model, entity: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let names = |list: &[String]| list.iter().any(|a| a.eq_ignore_ascii_case(attr));
    if let Some(e) = model.entity(entity) {
        if names(&e.primary_key) {
            out.push(format!("primary key of `{}`", e.name));
        }
        for u in e.unique.iter().filter(|u| names(u)) {
            out.push(format!("unique ({}) of `{}`", u.join(", "), e.name));
        }
        for i in e.indexes.iter().filter(|i| names(&i.attributes)) {
            out.push(format!("index `{}` of `{}`", i.name, e.name));
        }
    }
    for r in &model.relationships {
        let from = r.from_entity.eq_ignore_ascii_case(entity) && names(&r.from_attributes);
        let to = r.to_entity.eq_ignore_ascii_case(entity) && names(&r.to_attributes);
        if from || to {
            out.push(rel_label(r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};
    use crate::Attribute;

    fn severities(report: &ImpactReport) -> Vec<(String, Severity)> {
        report
            .changes
            .iter()
            .map(|c| (c.change.describe(), c.impact.severity))
            .collect()
    }

    #[test]
    fn library_v1_to_v2() {
        let report = analyze(&sample(), &v2());
        use Severity::*;
        assert_eq!(
            severities(&report),
            vec![
                ("summary changed".to_string(), Safe),
                ("narrative changed".to_string(), Safe),
                (
                    "attribute `book.edition` removed (was integer)".to_string(),
                    Breaking
                ),
                (
                    "type of `member.name` changed from `string(100)` to `string(200)`".to_string(),
                    Safe
                ),
                (
                    "attribute `member.email` added: string(320), nullable".to_string(),
                    Safe
                ),
                (
                    "entity `audit_log` added with 8 attributes".to_string(),
                    Safe
                ),
            ]
        );
        assert_eq!((report.breaking, report.risky, report.safe), (1, 0, 5));
        assert!(report.narrative.iter().any(|l| l.tag == LineTag::Insert));
        assert!(report.narrative.iter().any(|l| l.tag == LineTag::Equal));
    }

    /// `check(change the sample, expected severity, words in the reason, affected)`.
    fn check(edit: impl FnOnce(&mut Model), severity: Severity, reason: &str, affected: &[&str]) {
        let old = sample();
        let mut new = sample();
        edit(&mut new);
        let report = analyze(&old, &new);
        assert_eq!(report.changes.len(), 1, "{:?}", severities(&report));
        let impact = &report.changes[0].impact;
        assert_eq!(impact.severity, severity, "{impact:?}");
        assert!(impact.reason.contains(reason), "{impact:?}");
        assert_eq!(impact.affected, affected, "{impact:?}");
    }

    fn column(name: &str, nullable: bool, default: Option<&str>) -> Attribute {
        Attribute {
            name: name.into(),
            data_type: LogicalType::Integer,
            nullable,
            default: default.map(str::to_string),
            description: String::new(),
            tags: vec![],
            auto_increment: false,
            native: None,
            case_insensitive: false,
        }
    }

    #[test]
    fn rules() {
        use Severity::*;
        check(
            |m| {
                m.entities[3]
                    .attributes
                    .push(column("renewals", true, None))
            },
            Safe,
            "nullable column is safe",
            &[],
        );
        check(
            |m| {
                m.entities[3]
                    .attributes
                    .push(column("renewals", false, Some("0")))
            },
            Safe,
            "with a default",
            &[],
        );
        check(
            |m| {
                m.entities[3]
                    .attributes
                    .push(column("renewals", false, None))
            },
            Risky,
            "NOT NULL column without a default",
            &[],
        );
        check(
            |m| {
                m.entities[3].attributes.remove(5);
            },
            Breaking,
            "dropping a column",
            &["index `loan_member_open` of `loan`"],
        );
        check(
            |m| m.entities[2].attributes[1].data_type = LogicalType::String(Some(50)),
            Breaking,
            "narrowing",
            &[],
        );
        check(
            |m| m.entities[1].attributes[4].data_type = LogicalType::BigInt,
            Safe,
            "holds every old value",
            &[],
        );
        check(
            |m| m.entities[1].attributes[1].data_type = LogicalType::Integer,
            Breaking,
            "type family",
            &["unique (isbn) of `book`"],
        );
        check(
            |m| m.entities[0].attributes[2].nullable = false,
            Risky,
            "NOT NULL",
            &[],
        );
        check(
            |m| m.entities[1].primary_key = vec!["isbn".into()],
            Breaking,
            "row identity",
            &["relationship `loan_book` (loan.book_id → book.id)"],
        );
        check(
            |m| m.relationships[2].on_delete = crate::OnDelete::Restrict,
            Risky,
            "deletes now behave differently",
            &[],
        );
        check(
            |m| m.entities[2].tags = vec!["PII".into()],
            Risky,
            "PII",
            &[],
        );
        // Issue 12's physical properties are changes too.
        check(
            |m| m.entities[1].attributes[4].auto_increment = true,
            Safe,
            "leave the column out",
            &[],
        );
        check(
            |m| m.entities[1].attributes[1].case_insensitive = true,
            Risky,
            "differ only in case",
            &["unique (isbn) of `book`"],
        );
        check(
            |m| {
                m.entities[1].attributes[4].native = Some(crate::types::NativeType {
                    dialect: crate::SqlDialect::Mysql,
                    name: "smallint unsigned".into(),
                    approximate: true,
                })
            },
            Risky,
            "range and length",
            &[],
        );
    }

    #[test]
    fn removing_an_entity_names_its_relationships() {
        let old = sample();
        let mut new = sample();
        new.entities.remove(2);
        new.relationships.remove(2);
        let report = analyze(&old, &new);
        let removed = report
            .changes
            .iter()
            .find(|c| matches!(c.change, Change::EntityRemoved { .. }))
            .expect("entity removed");
        assert_eq!(removed.impact.severity, Severity::Breaking);
        assert_eq!(
            removed.impact.affected,
            vec!["relationship `loan_member` (loan.member_id → member.id)"]
        );
    }

    #[test]
    fn a_rename_says_what_it_would_lose_if_it_is_not_one() {
        let old = sample();
        let mut new = sample();
        new.entities[3].attributes[4].name = "due_date".into();
        let report = analyze(&old, &new);
        let impact = &report.changes[0].impact;
        assert_eq!(impact.severity, Severity::Breaking);
        assert!(
            impact.reason.contains("is dropped with its data"),
            "{impact:?}"
        );
    }
}
