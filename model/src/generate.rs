//! Synthetic models for benchmarks, fuzzing seeds and property tests.
//!
//! A *generated model* is a made-up but realistic model of any size: snake_case entity names
//! such as `customer_0042`, attributes of every logical type (bounded strings, decimals, enums,
//! timestamps, nullable ones and ones with defaults), a primary key on every entity (some
//! composite), unique constraints, indexes, and relationships that always point at entities
//! earlier in the list through foreign-key attributes that exist. A *mutated model* is a later
//! draft of a model: about `percent` % of its entities are touched the way a person (or an LLM)
//! revises a draft. Both are *deterministic*: a small hand-written PRNG (splitmix64) seeded by
//! the caller drives every choice, so the same arguments always give the same model on every
//! platform, and benchmark runs compare like with like. Both results pass [`validate`] with the
//! snake_case convention.
//!
//! [`validate`]: super::validate::validate

use super::logical_type::LogicalType;
use super::ops::{ChangeSet, Operation, ProposedChange};
use super::types::{
    Attribute, Cardinality, Entity, Index, Model, OnDelete, Relationship, MODEL_FORMAT_VERSION,
};
use std::collections::HashSet;

/// splitmix64 (Steele, Lea and Flood): tiny, fast, and good enough to pick names and shapes.
/// The core has no `rand` dependency and needs none for this.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be zero. The modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `numerator / denominator`.
    fn chance(&mut self, numerator: usize, denominator: usize) -> bool {
        self.below(denominator) < numerator
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Nouns for entity names; the running number after them keeps every name unique.
const NOUNS: &[&str] = &[
    "customer",
    "invoice",
    "order",
    "product",
    "supplier",
    "shipment",
    "warehouse",
    "payment",
    "account",
    "employee",
    "department",
    "project",
    "task",
    "contract",
    "address",
    "category",
    "review",
    "ticket",
    "subscription",
    "booking",
];

/// One kind of ordinary (non-key) attribute: its name, type, whether it is usually nullable,
/// its default, and tags.
struct AttrKind {
    name: &'static str,
    data_type: fn() -> LogicalType,
    nullable: bool,
    default: Option<&'static str>,
    tags: &'static [&'static str],
}

const fn kind(
    name: &'static str,
    data_type: fn() -> LogicalType,
    nullable: bool,
    default: Option<&'static str>,
    tags: &'static [&'static str],
) -> AttrKind {
    AttrKind {
        name,
        data_type,
        nullable,
        default,
        tags,
    }
}

const PII: &[&str] = &["PII"];

const ATTR_KINDS: &[AttrKind] = &[
    kind("name", || LogicalType::String(Some(120)), false, None, &[]),
    kind("code", || LogicalType::String(Some(32)), false, None, &[]),
    kind("email", || LogicalType::String(Some(255)), false, None, PII),
    kind("phone", || LogicalType::String(Some(40)), true, None, PII),
    kind("title", || LogicalType::String(Some(200)), false, None, &[]),
    kind("description", || LogicalType::Text, true, None, &[]),
    kind("notes", || LogicalType::Text, true, None, &[]),
    kind(
        "status",
        || LogicalType::Enum(vec!["draft".into(), "active".into(), "archived".into()]),
        false,
        Some("'draft'"),
        &[],
    ),
    kind(
        "tier",
        || LogicalType::Enum(vec!["standard".into(), "premium".into(), "internal".into()]),
        false,
        Some("'standard'"),
        &[],
    ),
    kind(
        "amount",
        || LogicalType::Decimal {
            precision: 12,
            scale: 2,
        },
        false,
        Some("0"),
        &[],
    ),
    kind(
        "unit_price",
        || LogicalType::Decimal {
            precision: 10,
            scale: 4,
        },
        true,
        None,
        &[],
    ),
    kind("quantity", || LogicalType::Integer, false, Some("0"), &[]),
    kind("position", || LogicalType::Integer, true, None, &[]),
    kind("total_count", || LogicalType::BigInt, false, Some("0"), &[]),
    kind("score", || LogicalType::Float, true, None, &[]),
    kind(
        "is_active",
        || LogicalType::Boolean,
        false,
        Some("true"),
        &[],
    ),
    kind(
        "is_deleted",
        || LogicalType::Boolean,
        false,
        Some("false"),
        &[],
    ),
    kind("birth_date", || LogicalType::Date, true, None, PII),
    kind("opens_at", || LogicalType::Time, true, None, &[]),
    kind(
        "created_at",
        || LogicalType::TimestampTz,
        false,
        Some("CURRENT_TIMESTAMP"),
        &[],
    ),
    kind("updated_at", || LogicalType::TimestampTz, true, None, &[]),
    kind("recorded_at", || LogicalType::Timestamp, false, None, &[]),
    kind("external_id", || LogicalType::Uuid, true, None, &[]),
    kind("payload", || LogicalType::Json, true, None, &[]),
    kind("checksum", || LogicalType::Bytes, true, None, &[]),
    kind(
        "country_code",
        || LogicalType::String(Some(2)),
        true,
        None,
        &[],
    ),
    kind(
        "currency",
        || LogicalType::String(Some(3)),
        false,
        Some("'EUR'"),
        &[],
    ),
];

const ON_DELETE: [OnDelete; 3] = [OnDelete::NoAction, OnDelete::Restrict, OnDelete::Cascade];

fn attribute(name: String, data_type: LogicalType, nullable: bool) -> Attribute {
    Attribute {
        name,
        data_type,
        nullable,
        default: None,
        description: String::new(),
        tags: vec![],
        auto_increment: false,
        native: None,
        case_insensitive: false,
    }
}

/// A name built from `base` that no attribute of `entity` has yet: `base`, then `base_2`, ...
fn free_attribute_name(entity: &Entity, base: &str) -> String {
    if entity.attribute(base).is_none() {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|name| entity.attribute(name).is_none())
        .unwrap_or_else(|| base.to_string())
}

/// Appends up to `count` ordinary attributes to `entity`, each of a kind picked at random.
fn add_ordinary_attributes(entity: &mut Entity, count: usize, rng: &mut Rng) {
    for _ in 0..count {
        let kind = rng.pick(ATTR_KINDS);
        let name = free_attribute_name(entity, kind.name);
        // Most attributes follow their kind; one in eight flips nullability for variety, but
        // an attribute with a default stays not null, as it usually is in real schemas.
        let nullable = if kind.default.is_none() && rng.chance(1, 8) {
            !kind.nullable
        } else {
            kind.nullable
        };
        let description = if rng.chance(1, 3) {
            format!("the {} of the {}", kind.name.replace('_', " "), entity.name)
        } else {
            String::new()
        };
        entity.attributes.push(Attribute {
            name,
            data_type: (kind.data_type)(),
            nullable,
            default: kind.default.map(str::to_string),
            description,
            tags: kind.tags.iter().map(|t| t.to_string()).collect(),
            auto_increment: false,
            native: None,
            case_insensitive: false,
        });
    }
}

/// [`generated_model`] with the physical properties of issue 12 spread over it: every
/// single-column integer primary key numbers its rows (`auto_increment`), and every other string
/// or text attribute compares ignoring case (`case_insensitive`), keys and references included.
pub fn decorated_model(entities: usize, attributes: usize, seed: u64) -> Model {
    let mut model = generated_model(entities, attributes, seed);
    for entity in &mut model.entities {
        let single_key = (entity.primary_key.len() == 1).then(|| entity.primary_key[0].clone());
        for (i, attr) in entity.attributes.iter_mut().enumerate() {
            let key = single_key.as_deref() == Some(attr.name.as_str());
            if key && matches!(attr.data_type, LogicalType::Integer | LogicalType::BigInt) {
                attr.auto_increment = true;
            }
            if i % 2 == 1 && matches!(attr.data_type, LogicalType::String(_) | LogicalType::Text) {
                attr.case_insensitive = true;
            }
        }
    }
    model
}

/// A deterministic model of `entities` entities with `attributes` attributes each, with keys,
/// indexes and relationships; the same arguments always give the same model.
///
/// Every entity has exactly `attributes` attributes (at least one). Its key is an `id` (uuid or
/// bigint), or a composite `(id, revision)`, or, for a join entity, the two foreign keys to the
/// entities it links. Relationships only point at earlier entities, to their whole primary key,
/// through foreign-key attributes of the same types; most are N:1, some 1:1 (with a unique
/// constraint on the foreign key), with every `on_delete` action (`set_null` only on nullable
/// foreign keys).
pub fn generated_model(entities: usize, attributes: usize, seed: u64) -> Model {
    let mut rng = Rng::new(seed);
    let attributes = attributes.max(1);
    let mut model = Model {
        format_version: MODEL_FORMAT_VERSION,
        summary: format!(
            "A generated model of {entities} entities with {attributes} attributes each \
             (seed {seed})."
        ),
        narrative: narrative(entities, seed),
        entities: Vec::with_capacity(entities),
        relationships: Vec::new(),
    };
    for i in 0..entities {
        let noun = *rng.pick(NOUNS);
        let name = format!("{noun}_{i:04}");
        let entity = generated_entity(&model, name, attributes, &mut rng);
        model.entities.push(entity.0);
        model.relationships.extend(entity.1);
    }
    model
}

/// The Markdown narrative of a generated model: a few paragraphs, so that the narrative's line
/// diff has something to work on.
fn narrative(entities: usize, seed: u64) -> String {
    let mut text = format!(
        "# Generated model\n\nThis model has {entities} entities. It was generated with seed \
         {seed} for benchmarks and tests.\n\n## Decisions\n\n"
    );
    for n in 1..=5 {
        text.push_str(&format!(
            "- Decision {n}: keys are surrogate unless an entity links two others.\n"
        ));
    }
    text.push_str("\n## Open questions\n\n- Should archived rows be moved out?\n");
    text
}

/// One entity named `name` for a model that already holds `model.entities`, and the
/// relationships it starts.
fn generated_entity(
    model: &Model,
    name: String,
    attributes: usize,
    rng: &mut Rng,
) -> (Entity, Vec<Relationship>) {
    let mut entity = Entity {
        name,
        description: String::new(),
        attributes: Vec::with_capacity(attributes),
        primary_key: Vec::new(),
        unique: Vec::new(),
        indexes: Vec::new(),
        tags: Vec::new(),
    };
    entity.description = format!("One row per {}.", entity.name.replace('_', " "));
    let mut relationships = Vec::new();
    let earlier = model.entities.len();

    // A join entity links two earlier entities that have single-attribute keys; its key is the
    // pair of foreign keys.
    let join_targets = if earlier >= 2 && attributes >= 2 && rng.chance(1, 10) {
        let a = rng.below(earlier);
        let b = rng.below(earlier);
        let single = |i: usize| model.entities[i].primary_key.len() == 1;
        (a != b && single(a) && single(b)).then_some((a, b))
    } else {
        None
    };
    if let Some((a, b)) = join_targets {
        for target in [a, b] {
            let rel = foreign_key(&mut entity, &model.entities[target], false, rng);
            entity
                .primary_key
                .extend(rel.from_attributes.iter().cloned());
            relationships.push(rel);
        }
        entity.tags.push("join".into());
    } else {
        let id_type = if rng.chance(1, 2) {
            LogicalType::Uuid
        } else {
            LogicalType::BigInt
        };
        entity
            .attributes
            .push(attribute("id".into(), id_type, false));
        entity.primary_key.push("id".into());
        if attributes >= 3 && rng.chance(1, 10) {
            entity
                .attributes
                .push(attribute("revision".into(), LogicalType::Integer, false));
            entity.primary_key.push("revision".into());
        }
    }

    // Up to two foreign keys to earlier entities, while the attribute budget allows.
    if earlier > 0 {
        for _ in 0..rng.below(3) {
            let target = &model.entities[rng.below(earlier)];
            let room = attributes.saturating_sub(entity.attributes.len());
            if target.primary_key.len() > room
                || relationships
                    .iter()
                    .any(|r: &Relationship| r.to_entity == target.name)
            {
                continue;
            }
            let nullable = rng.chance(1, 3);
            relationships.push(foreign_key(&mut entity, target, nullable, rng));
        }
    }

    let room = attributes.saturating_sub(entity.attributes.len());
    add_ordinary_attributes(&mut entity, room, rng);

    // Unique constraints and indexes on ordinary attributes.
    let ordinary: Vec<String> = entity
        .attributes
        .iter()
        .filter(|a| !entity.is_key(&a.name))
        .map(|a| a.name.clone())
        .collect();
    if !ordinary.is_empty() && rng.chance(1, 3) {
        let column = rng.pick(&ordinary).clone();
        if ordinary.len() >= 2 && rng.chance(1, 3) {
            let other = rng.pick(&ordinary).clone();
            if other != column {
                entity.unique.push(vec![column, other]);
            }
        } else {
            entity.unique.push(vec![column]);
        }
    }
    for rel in &relationships {
        // Foreign keys are indexed, as every real schema ends up doing; a key prefix already is.
        if !entity.primary_key.starts_with(&rel.from_attributes) && rng.chance(2, 3) {
            let index = index_for(&entity, &rel.from_attributes, false);
            entity.indexes.push(index);
        }
    }
    if !ordinary.is_empty() && rng.chance(1, 2) {
        let column = rng.pick(&ordinary).clone();
        let unique = rng.chance(1, 5);
        let index = index_for(&entity, &[column], unique);
        if !entity.indexes.iter().any(|i| i.name == index.name) {
            entity.indexes.push(index);
        }
    }
    (entity, relationships)
}

/// An index of `entity` on `columns`, named `<entity>_<columns>_idx`.
fn index_for(entity: &Entity, columns: &[String], unique: bool) -> Index {
    Index {
        name: format!("{}_{}_idx", entity.name, columns.join("_")),
        attributes: columns.to_vec(),
        unique,
        expression: None,
    }
}

/// Adds to `entity` the foreign-key attributes that reference the whole key of `target`, and
/// returns the relationship. A nullable foreign key may be `set_null` on delete; a not-null one
/// never is, so that the relationship validates.
fn foreign_key(
    entity: &mut Entity,
    target: &Entity,
    nullable: bool,
    rng: &mut Rng,
) -> Relationship {
    let mut from_attributes = Vec::with_capacity(target.primary_key.len());
    for key in &target.primary_key {
        let data_type = target
            .attribute(key)
            .map_or(LogicalType::BigInt, |a| a.data_type.clone());
        let name = free_attribute_name(entity, &format!("{}_{key}", target.name));
        entity
            .attributes
            .push(attribute(name.clone(), data_type, nullable));
        from_attributes.push(name);
    }
    let cardinality = if rng.chance(1, 6) {
        entity.unique.push(from_attributes.clone());
        Cardinality::OneToOne
    } else {
        Cardinality::ManyToOne
    };
    let on_delete = if nullable && rng.chance(1, 2) {
        OnDelete::SetNull
    } else {
        *rng.pick(&ON_DELETE)
    };
    Relationship {
        name: format!("{}_{}", entity.name, from_attributes.join("_")),
        from_entity: entity.name.clone(),
        from_attributes,
        to_entity: target.name.clone(),
        to_attributes: target.primary_key.clone(),
        cardinality,
        on_delete,
    }
}

/// The attributes of entity `name` that some relationship names, on either side.
fn related_attributes(model: &Model, name: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for rel in &model.relationships {
        if rel.from_entity.eq_ignore_ascii_case(name) {
            out.extend(rel.from_attributes.iter().map(|a| a.to_ascii_lowercase()));
        }
        if rel.to_entity.eq_ignore_ascii_case(name) {
            out.extend(rel.to_attributes.iter().map(|a| a.to_ascii_lowercase()));
        }
    }
    out
}

/// A changed copy of `model`: about `percent` % of entities touched (attributes added, removed,
/// renamed, retyped; entities added, removed, renamed; indexes and relationships changed).
///
/// Each touched entity gets one to three edits. Edits leave keys and the attributes that
/// relationships use alone (except that a relationship may be added or dropped), keep unique
/// constraints and indexes in step with renamed and removed attributes, and carry entity renames
/// into relationships, so a valid model stays valid. `percent` above 100 counts as 100.
pub fn mutated_model(model: &Model, percent: u8, seed: u64) -> Model {
    let mut rng = Rng::new(seed ^ 0x6D75_7461_7465_2121);
    let mut out = model.clone();
    let total = out.entities.len();
    let percent = usize::from(percent.min(100));
    if total == 0 || percent == 0 {
        return out;
    }
    let touched = ((total * percent + 50) / 100).max(1);
    // A partial Fisher-Yates shuffle picks the touched entities; they are then edited by name,
    // because adding and removing entities moves positions.
    let mut order: Vec<usize> = (0..total).collect();
    for i in 0..touched {
        let j = i + rng.below(total - i);
        order.swap(i, j);
    }
    let mut names: Vec<String> = order[..touched]
        .iter()
        .map(|&i| out.entities[i].name.clone())
        .collect();
    names.sort_by_key(|n| {
        model
            .entities
            .iter()
            .position(|e| &e.name == n)
            .unwrap_or(usize::MAX)
    });
    let mut next_number = total;
    for name in names {
        let edits = 1 + rng.below(3);
        let mut name = name;
        for _ in 0..edits {
            match mutate_entity(&mut out, &name, &mut next_number, &mut rng) {
                Mutation::Renamed(new_name) => name = new_name,
                Mutation::Removed => break,
                Mutation::Done => {}
            }
        }
    }
    out.summary = format!("{} (revised)", model.summary);
    // A revised draft usually says why in its narrative: one line changed, one added.
    out.narrative = out
        .narrative
        .replacen("Decision 2:", "Decision 2 (revised):", 1);
    out.narrative.push_str(&format!(
        "- Revised {touched} of {total} entities (seed {seed}).\n"
    ));
    out
}

enum Mutation {
    Done,
    Renamed(String),
    Removed,
}

/// One random edit around entity `name` of `model`.
fn mutate_entity(
    model: &mut Model,
    name: &str,
    next_number: &mut usize,
    rng: &mut Rng,
) -> Mutation {
    let Some(position) = model
        .entities
        .iter()
        .position(|e| e.name.eq_ignore_ascii_case(name))
    else {
        return Mutation::Removed;
    };
    let related = related_attributes(model, name);
    // Ordinary attributes: neither key nor used by a relationship, so free to change.
    let ordinary: Vec<usize> = {
        let entity = &model.entities[position];
        (0..entity.attributes.len())
            .filter(|&i| {
                let a = &entity.attributes[i].name;
                !entity.is_key(a) && !related.contains(&a.to_ascii_lowercase())
            })
            .collect()
    };
    match rng.below(24) {
        0..=4 => add_attribute(&mut model.entities[position], rng),
        5..=7 if ordinary.len() >= 2 => {
            let i = *rng.pick(&ordinary);
            remove_attribute(&mut model.entities[position], i);
        }
        8..=10 if !ordinary.is_empty() => {
            let i = *rng.pick(&ordinary);
            let attr = &mut model.entities[position].attributes[i];
            attr.data_type = retyped(&attr.data_type, rng);
            // A new type may not fit the old default (an enum literal in an integer column).
            attr.default = None;
        }
        11..=12 if !ordinary.is_empty() => {
            let i = *rng.pick(&ordinary);
            rename_attribute(&mut model.entities[position], i, rng);
        }
        13..=15 if !ordinary.is_empty() => {
            let i = *rng.pick(&ordinary);
            let attr = &mut model.entities[position].attributes[i];
            attr.nullable = !attr.nullable;
        }
        16..=17 => change_indexes(&mut model.entities[position], &ordinary, rng),
        18 => {
            let to = rename_entity(model, position, rng);
            return Mutation::Renamed(to);
        }
        19 if model.entities.len() > 1 => {
            let removed = model.entities.remove(position);
            model.relationships.retain(|r| {
                !r.from_entity.eq_ignore_ascii_case(&removed.name)
                    && !r.to_entity.eq_ignore_ascii_case(&removed.name)
            });
            return Mutation::Removed;
        }
        20 => add_entity(model, position, next_number, rng),
        21 => add_relationship(model, position, rng),
        22 => {
            let candidates: Vec<usize> = (0..model.relationships.len())
                .filter(|&r| {
                    model.relationships[r]
                        .from_entity
                        .eq_ignore_ascii_case(name)
                })
                .collect();
            if candidates.is_empty() {
                add_attribute(&mut model.entities[position], rng);
            } else {
                model.relationships.remove(*rng.pick(&candidates));
            }
        }
        _ => {
            let entity = &mut model.entities[position];
            entity.description = format!("{} Revised.", entity.description);
        }
    }
    Mutation::Done
}

fn add_attribute(entity: &mut Entity, rng: &mut Rng) {
    add_ordinary_attributes(entity, 1, rng);
    // A new attribute on existing rows must be nullable or have a default to be addable.
    if let Some(attr) = entity.attributes.last_mut() {
        if attr.default.is_none() {
            attr.nullable = true;
        }
    }
}

fn remove_attribute(entity: &mut Entity, i: usize) {
    let removed = entity.attributes.remove(i).name;
    let mentions = |cols: &[String]| cols.iter().any(|c| c.eq_ignore_ascii_case(&removed));
    entity.unique.retain(|u| !mentions(u));
    entity.indexes.retain(|x| !mentions(&x.attributes));
}

fn rename_attribute(entity: &mut Entity, i: usize, rng: &mut Rng) {
    const SUFFIXES: &[&str] = &["value", "text", "code", "new", "main"];
    let old = entity.attributes[i].name.clone();
    let new = free_attribute_name(entity, &format!("{old}_{}", rng.pick(SUFFIXES)));
    entity.attributes[i].name = new.clone();
    let rename = |cols: &mut Vec<String>| {
        for c in cols.iter_mut() {
            if c.eq_ignore_ascii_case(&old) {
                *c = new.clone();
            }
        }
    };
    entity.unique.iter_mut().for_each(rename);
    entity
        .indexes
        .iter_mut()
        .for_each(|x| rename(&mut x.attributes));
}

/// A different but plausible type for an attribute of type `from`.
fn retyped(from: &LogicalType, rng: &mut Rng) -> LogicalType {
    match from {
        LogicalType::String(Some(n)) if rng.chance(1, 2) => {
            LogicalType::String(Some(n.saturating_mul(2).max(2)))
        }
        LogicalType::String(_) => LogicalType::Text,
        LogicalType::Integer => LogicalType::BigInt,
        LogicalType::BigInt => LogicalType::Decimal {
            precision: 20,
            scale: 0,
        },
        LogicalType::Decimal { precision, scale } => LogicalType::Decimal {
            precision: precision.saturating_add(2),
            scale: *scale,
        },
        LogicalType::Enum(values) => {
            let mut values = values.clone();
            values.push(format!("extra_{}", values.len()));
            LogicalType::Enum(values)
        }
        LogicalType::Timestamp => LogicalType::TimestampTz,
        LogicalType::TimestampTz => LogicalType::Timestamp,
        LogicalType::Text => LogicalType::String(Some(4000)),
        LogicalType::Float => LogicalType::Decimal {
            precision: 18,
            scale: 6,
        },
        LogicalType::Boolean => LogicalType::Integer,
        LogicalType::Date => LogicalType::Timestamp,
        LogicalType::Time => LogicalType::String(Some(8)),
        LogicalType::Uuid => LogicalType::String(Some(36)),
        LogicalType::Json => LogicalType::Text,
        LogicalType::Bytes => LogicalType::Text,
        LogicalType::Unknown(_) => LogicalType::Text,
    }
}

fn change_indexes(entity: &mut Entity, ordinary: &[usize], rng: &mut Rng) {
    if !entity.indexes.is_empty() && rng.chance(1, 2) {
        let i = rng.below(entity.indexes.len());
        entity.indexes.remove(i);
    } else if !ordinary.is_empty() {
        let column = entity.attributes[*rng.pick(ordinary)].name.clone();
        let index = index_for(entity, &[column], false);
        if !entity.indexes.iter().any(|x| x.name == index.name) {
            entity.indexes.push(index);
        }
    }
}

/// Renames the entity at `position` (another noun, same number where that is free) and carries
/// the new name into relationships; returns the new name.
fn rename_entity(model: &mut Model, position: usize, rng: &mut Rng) -> String {
    let old = model.entities[position].name.clone();
    let number = old.rsplit('_').next().unwrap_or("0").to_string();
    let taken = |m: &Model, n: &str| m.entity(n).is_some();
    let mut new = format!("{}_{number}", rng.pick(NOUNS));
    if taken(model, &new) {
        new = format!("{old}_renamed");
    }
    let mut n = 2;
    while taken(model, &new) {
        new = format!("{old}_renamed_{n}");
        n += 1;
    }
    model.entities[position].name = new.clone();
    for rel in &mut model.relationships {
        if rel.from_entity.eq_ignore_ascii_case(&old) {
            rel.from_entity = new.clone();
        }
        if rel.to_entity.eq_ignore_ascii_case(&old) {
            rel.to_entity = new.clone();
        }
    }
    new
}

/// Adds a new entity that references the entity at `position`.
fn add_entity(model: &mut Model, position: usize, next_number: &mut usize, rng: &mut Rng) {
    let attributes = model.entities[position].attributes.len().max(1);
    let mut name = format!("{}_{:04}", rng.pick(NOUNS), *next_number);
    *next_number += 1;
    while model.entity(&name).is_some() {
        name = format!("{name}_new");
    }
    // Built against an empty model, the new entity starts no relationship of its own; the one
    // to the touched entity is added below.
    let empty = empty_like(model);
    let (mut entity, _) = generated_entity(&empty, name, attributes, rng);
    let target = model.entities[position].clone();
    if has_usable_key(&target) {
        let rel = foreign_key(&mut entity, &target, true, rng);
        model.relationships.push(rel);
    }
    model.entities.push(entity);
}

/// Adds a relationship from the entity at `position` to another entity, with new foreign-key
/// attributes.
/// A model with no entities, of the same format version as `model`: generating an entity
/// against it starts no relationship of its own.
fn empty_like(model: &Model) -> Model {
    Model {
        format_version: model.format_version,
        summary: String::new(),
        narrative: String::new(),
        entities: Vec::new(),
        relationships: Vec::new(),
    }
}

fn add_relationship(model: &mut Model, position: usize, rng: &mut Rng) {
    let target_position = rng.below(model.entities.len());
    let target = model.entities[target_position].clone();
    if !has_usable_key(&target) {
        return;
    }
    let nullable = rng.chance(1, 2);
    let entity = &mut model.entities[position];
    let mut rel = foreign_key(entity, &target, nullable, rng);
    if target_position == position {
        // A self-reference: give it a name that says so.
        rel.name = format!("{}_parent", rel.name);
    }
    model.relationships.push(rel);
}

/// True when `entity` has a primary key whose attributes all exist, so it can be referenced.
fn has_usable_key(entity: &Entity) -> bool {
    !entity.primary_key.is_empty()
        && entity
            .primary_key
            .iter()
            .all(|k| entity.attribute(k).is_some())
}

/// A deterministic change set of `count` operations that all apply to `model` in order, as an
/// LLM would propose for a later draft: attributes added, altered and renamed, indexes added
/// and dropped, descriptions set, entities renamed and added, relationships dropped. Each
/// operation targets a different entity, so that none depends on another; fewer than `count`
/// come out when the model has fewer entities.
pub fn generated_change_set(model: &Model, count: usize, seed: u64) -> ChangeSet {
    let mut rng = Rng::new(seed ^ 0x6F70_7321_6F70_7321);
    let total = model.entities.len();
    let count = count.min(total);
    let mut order: Vec<usize> = (0..total).collect();
    for i in 0..count {
        let j = i + rng.below(total - i);
        order.swap(i, j);
    }
    let mut renamed: HashSet<String> = HashSet::new();
    let mut changes = Vec::with_capacity(count);
    let mut next_number = total;
    for &position in &order[..count] {
        let entity = &model.entities[position];
        let related = related_attributes(model, &entity.name);
        let ordinary: Vec<&Attribute> = entity
            .attributes
            .iter()
            .filter(|a| !entity.is_key(&a.name) && !related.contains(&a.name.to_ascii_lowercase()))
            .collect();
        let operation = match rng.below(9) {
            0 | 1 => {
                let mut probe = entity.clone();
                add_attribute(&mut probe, &mut rng);
                match probe.attributes.pop() {
                    Some(attribute) => Operation::AddAttribute {
                        entity: entity.name.clone(),
                        attribute,
                    },
                    None => continue,
                }
            }
            2 if !ordinary.is_empty() => {
                let attr = *rng.pick(&ordinary);
                Operation::AlterAttribute {
                    entity: entity.name.clone(),
                    attribute: attr.name.clone(),
                    data_type: Some(retyped(&attr.data_type, &mut rng)),
                    nullable: Some(true),
                    default: Some(None),
                    description: None,
                    tags: None,
                }
            }
            3 if !ordinary.is_empty() => {
                let attr = *rng.pick(&ordinary);
                let mut probe = entity.clone();
                let i = probe
                    .attributes
                    .iter()
                    .position(|a| a.name == attr.name)
                    .unwrap_or(0);
                rename_attribute(&mut probe, i, &mut rng);
                Operation::RenameAttribute {
                    entity: entity.name.clone(),
                    from: attr.name.clone(),
                    to: probe.attributes[i].name.clone(),
                }
            }
            4 if !ordinary.is_empty() => {
                let attr = *rng.pick(&ordinary);
                let index = index_for(entity, std::slice::from_ref(&attr.name), false);
                if entity.indexes.iter().any(|x| x.name == index.name) {
                    Operation::DropIndex {
                        entity: entity.name.clone(),
                        index: index.name,
                    }
                } else {
                    Operation::AddIndex {
                        entity: entity.name.clone(),
                        index,
                    }
                }
            }
            5 => {
                let mut probe = model.clone();
                let to = rename_entity(&mut probe, position, &mut rng);
                renamed.insert(entity.name.to_ascii_lowercase());
                Operation::RenameEntity {
                    from: entity.name.clone(),
                    to,
                }
            }
            6 => {
                let empty = empty_like(model);
                let mut name = format!("{}_{next_number:04}", rng.pick(NOUNS));
                next_number += 1;
                while model.entity(&name).is_some() {
                    name = format!("{name}_new");
                }
                let (new_entity, _) =
                    generated_entity(&empty, name, entity.attributes.len().max(1), &mut rng);
                Operation::AddEntity { entity: new_entity }
            }
            7 => {
                let droppable = model.relationships.iter().find(|r| {
                    r.from_entity.eq_ignore_ascii_case(&entity.name)
                        && !renamed.contains(&r.to_entity.to_ascii_lowercase())
                });
                match droppable {
                    Some(rel) => Operation::DropRelationship {
                        from_entity: rel.from_entity.clone(),
                        to_entity: rel.to_entity.clone(),
                        name: Some(rel.name.clone()),
                    },
                    None => Operation::SetEntityDescription {
                        entity: entity.name.clone(),
                        description: format!("{} Kept as is.", entity.description),
                    },
                }
            }
            _ => Operation::SetEntityDescription {
                entity: entity.name.clone(),
                description: format!("{} Clarified after review.", entity.description),
            },
        };
        let n = changes.len() + 1;
        changes.push(ProposedChange {
            operation,
            rationale: format!("Change {n}: asked for in the review of the previous draft."),
            notes: if rng.chance(1, 3) {
                vec![format!("note-{n}")]
            } else {
                vec![]
            },
        });
    }
    ChangeSet { changes }
}

/// `json` as an LLM tends to answer: a sentence, a fenced `json` block, and a closing remark.
pub fn llm_answer(json: &str) -> String {
    format!(
        "Here is the result you asked for.\n\n```json\n{json}\n```\n\nLet me know if you want \
         any of these changes done differently."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::sample;
    use crate::validate::{validate, Conventions, NamingConvention};

    fn snake() -> Conventions {
        Conventions {
            naming: NamingConvention::SnakeCase,
            guidance: String::new(),
        }
    }

    fn assert_valid(model: &Model, what: &str) {
        let problems = validate(model, &snake());
        assert!(problems.is_empty(), "{what}: {problems:#?}");
    }

    #[test]
    fn generated_models_validate() {
        for (entities, attributes, seed) in [
            (1, 1, 0),
            (2, 2, 1),
            (10, 3, 2),
            (10, 20, 3),
            (100, 20, 4),
            (300, 8, 5),
            (1000, 20, 6),
        ] {
            let model = generated_model(entities, attributes, seed);
            assert_valid(
                &model,
                &format!("generated_model({entities}, {attributes}, {seed})"),
            );
            assert_eq!(model.entities.len(), entities);
            for entity in &model.entities {
                assert_eq!(entity.attributes.len(), attributes, "{}", entity.name);
            }
        }
    }

    #[test]
    fn generated_model_is_deterministic() {
        assert_eq!(generated_model(50, 12, 7), generated_model(50, 12, 7));
        assert_ne!(generated_model(50, 12, 7), generated_model(50, 12, 8));
    }

    /// The generator covers what benchmarks and exporters need to exercise, not only ids.
    #[test]
    fn generated_model_has_the_promised_variety() {
        let model = generated_model(200, 20, 42);
        let types: HashSet<String> = model
            .entities
            .iter()
            .flat_map(|e| &e.attributes)
            .map(|a| match &a.data_type {
                LogicalType::String(_) => "string".to_string(),
                LogicalType::Decimal { .. } => "decimal".to_string(),
                LogicalType::Enum(_) => "enum".to_string(),
                other => other.to_string(),
            })
            .collect();
        for expected in [
            "string",
            "text",
            "integer",
            "bigint",
            "decimal",
            "float",
            "boolean",
            "date",
            "time",
            "timestamp",
            "timestamptz",
            "uuid",
            "json",
            "bytes",
            "enum",
        ] {
            assert!(types.contains(expected), "no {expected} attribute");
        }
        let attrs = || model.entities.iter().flat_map(|e| &e.attributes);
        assert!(attrs().any(|a| a.nullable));
        assert!(attrs().any(|a| a.default.is_some()));
        assert!(model.entities.iter().any(|e| e.primary_key.len() > 1));
        assert!(model.entities.iter().any(|e| !e.unique.is_empty()));
        assert!(model.entities.iter().any(|e| !e.indexes.is_empty()));
        let rels = &model.relationships;
        assert!(
            rels.len() > model.entities.len() / 2,
            "{} relationships",
            rels.len()
        );
        assert!(rels.iter().any(|r| r.cardinality == Cardinality::OneToOne));
        assert!(rels.iter().any(|r| r.cardinality == Cardinality::ManyToOne));
        for on_delete in [
            OnDelete::NoAction,
            OnDelete::Restrict,
            OnDelete::Cascade,
            OnDelete::SetNull,
        ] {
            assert!(
                rels.iter().any(|r| r.on_delete == on_delete),
                "{on_delete:?}"
            );
        }
        // Relationships point at earlier entities only.
        let position = |name: &str| model.entities.iter().position(|e| e.name == name);
        for rel in rels {
            assert!(
                position(&rel.to_entity) < position(&rel.from_entity),
                "{rel:?}"
            );
        }
        assert_eq!(
            model.entities[42].name,
            format!(
                "{}_0042",
                model.entities[42].name.split('_').next().unwrap_or("")
            )
        );
    }

    #[test]
    fn mutated_models_validate() {
        let base = generated_model(200, 20, 11);
        for (percent, seed) in [(1, 0), (10, 1), (10, 2), (50, 3), (100, 4), (255, 5)] {
            let mutated = mutated_model(&base, percent, seed);
            assert_valid(&mutated, &format!("mutated_model(_, {percent}, {seed})"));
        }
        for seed in 0..20 {
            assert_valid(
                &mutated_model(&sample(), 100, seed),
                &format!("sample, seed {seed}"),
            );
        }
    }

    #[test]
    fn mutated_model_is_deterministic_and_proportionate() {
        let base = generated_model(500, 20, 3);
        assert_eq!(mutated_model(&base, 10, 9), mutated_model(&base, 10, 9));
        assert_ne!(mutated_model(&base, 10, 9), mutated_model(&base, 10, 10));
        assert_eq!(mutated_model(&base, 0, 9), base);
        // About `percent` % of entities differ: count those whose JSON changed or vanished.
        let changed = |percent: u8| {
            let mutated = mutated_model(&base, percent, 9);
            base.entities
                .iter()
                .filter(|e| mutated.entities.iter().all(|m| m != *e))
                .count()
        };
        let ten = changed(10);
        assert!(
            (30..=60).contains(&ten),
            "10% touched {ten} of 500 entities"
        );
        let fifty = changed(50);
        assert!(
            (180..=280).contains(&fifty),
            "50% touched {fifty} of 500 entities"
        );
    }

    #[test]
    fn mutated_model_makes_every_kind_of_edit() {
        let base = generated_model(300, 20, 5);
        let mutated = mutated_model(&base, 30, 5);
        let old_names: HashSet<&str> = base.entities.iter().map(|e| e.name.as_str()).collect();
        let new_names: HashSet<&str> = mutated.entities.iter().map(|e| e.name.as_str()).collect();
        assert!(
            new_names.difference(&old_names).count() >= 2,
            "no entity added or renamed"
        );
        assert!(
            old_names.difference(&new_names).count() >= 2,
            "no entity removed or renamed"
        );
        let same = |e: &Entity| base.entities.iter().find(|o| o.name == e.name);
        let mut kinds = HashSet::new();
        for entity in &mutated.entities {
            let Some(old) = same(entity) else { continue };
            if entity.attributes.len() > old.attributes.len() {
                kinds.insert("added attribute");
            }
            if entity.attributes.len() < old.attributes.len() {
                kinds.insert("removed attribute");
            }
            if entity.indexes != old.indexes {
                kinds.insert("indexes");
            }
            for attr in &entity.attributes {
                match old.attribute(&attr.name) {
                    None => {}
                    Some(o) if o.data_type != attr.data_type => {
                        kinds.insert("retyped");
                    }
                    Some(o) if o.nullable != attr.nullable => {
                        kinds.insert("nullability");
                    }
                    Some(_) => {}
                }
            }
            if old
                .attributes
                .iter()
                .any(|a| entity.attribute(&a.name).is_none())
                && entity.attributes.len() == old.attributes.len()
            {
                kinds.insert("renamed attribute");
            }
        }
        let mut expected = vec![
            "added attribute",
            "removed attribute",
            "indexes",
            "retyped",
            "nullability",
            "renamed attribute",
        ];
        expected.retain(|k| !kinds.contains(k));
        assert!(expected.is_empty(), "missing edits: {expected:?}");
        assert_ne!(base.relationships, mutated.relationships);
        assert_ne!(base.narrative, mutated.narrative);
    }

    #[test]
    fn change_set_is_deterministic_and_targets_existing_things() {
        let model = generated_model(100, 20, 1);
        let set = generated_change_set(&model, 30, 2);
        assert_eq!(set, generated_change_set(&model, 30, 2));
        assert_eq!(set.changes.len(), 30);
        for change in &set.changes {
            match &change.operation {
                Operation::AddEntity { entity } => assert!(model.entity(&entity.name).is_none()),
                Operation::AddAttribute { entity, attribute } => {
                    let e = model.entity(entity).expect("entity exists");
                    assert!(e.attribute(&attribute.name).is_none());
                }
                Operation::AlterAttribute {
                    entity, attribute, ..
                }
                | Operation::RenameAttribute {
                    entity,
                    from: attribute,
                    ..
                } => {
                    let e = model.entity(entity).expect("entity exists");
                    assert!(e.attribute(attribute).is_some());
                }
                Operation::RenameEntity { from, to } => {
                    assert!(model.entity(from).is_some());
                    assert!(model.entity(to).is_none());
                }
                _ => {}
            }
        }
        let answer = llm_answer(&serde_json::to_string(&set).expect("serializes"));
        assert!(answer.contains("```json\n{\"changes\":["), "{answer}");
        assert_eq!(generated_change_set(&model, 500, 2).changes.len(), 100);
    }

    /// The generated change set is what the benchmarks apply: every operation must apply, and
    /// the result must still validate.
    #[test]
    fn change_set_applies_and_keeps_the_model_valid() {
        for (entities, count, seed) in [(10, 5, 0), (100, 30, 1), (300, 100, 2)] {
            let model = generated_model(entities, 20, seed);
            let set = generated_change_set(&model, count, seed);
            let applied = crate::ops::apply(&model, &set.changes, None);
            let failed: Vec<_> = applied.outcomes.iter().filter(|o| !o.applied).collect();
            assert!(failed.is_empty(), "{entities} entities: {failed:#?}");
            assert_valid(
                &applied.model,
                &format!("{entities} entities after the change set"),
            );
            assert_ne!(applied.model, model);
        }
    }
}
