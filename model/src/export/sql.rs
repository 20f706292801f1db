//! SQL DDL export: a model as `CREATE TABLE` statements for PostgreSQL, MySQL/MariaDB or SQLite.
//!
//! Terms: a *column type* is the dialect's spelling of a logical type ([`column_type`]); an
//! identifier is *quoted* only when the dialect needs it ([`quote_ident`]): a reserved word,
//! upper case in PostgreSQL (which folds unquoted names to lower case), or a character outside
//! letters, digits and `_`. *Derived names* are the names this exporter gives to things the
//! model does not name: the primary key `<table>_pkey`, a unique constraint
//! `<table>_<columns>_key`, a foreign key without a relationship name `<table>_<columns>_fkey`,
//! and a PostgreSQL enum type `<table>_<column>`. Migration SQL (`model::migrate`) relies on the
//! same names, so that a migrated database and a freshly created one look alike.
//!
//! Choices, per logical type (PostgreSQL / MySQL / SQLite):
//! - `string(n)` is `varchar(n)`; `string` without a length is `varchar` / `varchar(255)` (MySQL
//!   needs a length, and a key over `text` needs a prefix) / `varchar`.
//! - `float` is `double precision` / `double` / `real`; `decimal(p,s)` is `numeric(p,s)` /
//!   `decimal(p,s)` / `numeric(p,s)`.
//! - `timestamp` is `timestamp` / `datetime` / `timestamp`. `timestamptz` is `timestamptz` in
//!   PostgreSQL; in MySQL it is `timestamp`, which stores an instant in UTC like timestamptz
//!   but only covers 1970 to 2038, and no zone is kept; SQLite has no date types and keeps the
//!   declared name `timestamptz` (numeric affinity).
//! - `uuid` is `uuid` / `char(36)` / `text`; `json` is `jsonb` / `json` (a `longtext` with a
//!   `json_valid` check in MariaDB) / `text`; `bytes` is `bytea` / `longblob` / `blob`.
//! - `enum(a,b)` is a `CREATE TYPE <table>_<column> AS ENUM` in PostgreSQL (a `CHECK` would come
//!   back from `pg_dump` rewritten as `= ANY (ARRAY[...])`, while an enum type reads back as
//!   itself), `ENUM('a','b')` in MySQL and `text` with `CHECK (column IN ('a', 'b'))` in SQLite.
//! - An unknown type becomes `text`, the most general type each dialect has.
//!
//! What an engine needs beyond the model's words (`Naming` decides it once per model, and
//! [`ddl_with_warnings`] reports it, lost or changed, with its table and column):
//! - a referencing column is typed like the column it references (MySQL refuses an `int`
//!   referencing a `bigint`, PostgreSQL a `text` referencing an `integer`);
//! - MySQL keys only a prefix of a `text`, `json` or `blob`, and a prefix key lets values that
//!   differ after it collide, so such a column in a primary, unique or referenced key is
//!   `varchar(n)` (`varbinary(n)`), `n` as long as InnoDB's 3,072-byte key allows (768
//!   four-byte characters alone, shared in a composite key): longer values are refused, never
//!   silently equal. Plain indexes keep the 255-character prefix, which loses nothing, and
//!   give it to a `varchar` over 255 characters too when the whole key would pass 3,072 bytes;
//! - a `varchar` longer than MariaDB's 16,383 `utf8mb4` characters is `mediumtext` (or
//!   `longtext`), which does not limit the length;
//! - index names are per table in MySQL but per schema in PostgreSQL and SQLite (where they
//!   also share names with tables and, in PostgreSQL, with key constraints): a taken name
//!   becomes `<table>_<name>`;
//! - defaults are converted: a boolean `0`/`1`/`'t'`/`b'1'` is `false`/`true` in PostgreSQL
//!   and `0`/`1` elsewhere; a timestamp with a zone offset is the same instant in UTC for
//!   MySQL, which refuses offsets; MySQL's zero date is left out elsewhere (and warned).
//!
//! Foreign keys come from N:1 and 1:1 relationships (an N:M relationship lives in its join
//! entity, which carries its own N:1 relationships). Tables are ordered so that a referenced
//! table comes first where the references allow it; a foreign key to a table not created yet (a
//! cycle) is added afterwards with `ALTER TABLE ... ADD CONSTRAINT` in PostgreSQL and MySQL,
//! while SQLite keeps every foreign key inline, since it does not check the target exists when
//! the table is created. Descriptions become `COMMENT ON` (PostgreSQL), `COMMENT '...'` (MySQL)
//! and `-- ` comments (SQLite keeps those inside the stored `CREATE TABLE` text). A primary key
//! column is always `NOT NULL`, whatever the model says, as PostgreSQL and MySQL force it.

use super::{ExportWarning, WarningKind};
use crate::dialect::SqlDialect;
use crate::logical_type::LogicalType;
use crate::types::{Attribute, Cardinality, Entity, Index, Model, OnDelete};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::OnceLock;

/// The longest derived name: PostgreSQL silently cuts names at 63 bytes and MySQL refuses more
/// than 64 characters, so derived names are cut here, where migration can predict them.
const MAX_DERIVED_NAME: usize = 63;

/// InnoDB's longest key, in bytes (row format DYNAMIC, the default of MySQL 5.7+ and MariaDB
/// 10.2+); a `utf8mb4` character counts four bytes.
const MYSQL_MAX_KEY_BYTES: u32 = 3072;

/// The longest `varchar` a MySQL key can cover whole: 3072 bytes of four-byte characters.
const MYSQL_MAX_KEY_CHARS: u32 = MYSQL_MAX_KEY_BYTES / 4;

/// Writes `model` as DDL for `dialect`: enum types, tables with their keys, comments and
/// indexes, and foreign keys. The same model always gives the same text.
pub fn ddl(model: &Model, dialect: SqlDialect) -> String {
    ddl_with_warnings(model, dialect).0
}

/// [`ddl`] and the warnings of what the DDL does not write as the model says (see
/// [`ExportWarning`]): lost where `dialect` cannot express it, changed where it is written
/// differently so that the engine accepts it.
pub fn ddl_with_warnings(model: &Model, dialect: SqlDialect) -> (String, Vec<ExportWarning>) {
    let names = Naming::new(model, dialect);
    let mut out = format!("-- {} schema written by Data Modeller\n", dialect.label());
    let order = order_from_ends(model.entities.len(), &names.ends);
    // Each table's foreign keys, in relationship order, found in one pass rather than by
    // scanning every relationship for every table.
    let mut by_table: Vec<Vec<(usize, usize)>> = vec![Vec::new(); model.entities.len()];
    for (ri, end) in names.ends.iter().enumerate() {
        if let Some((from, to)) = *end {
            by_table[from].push((ri, to));
        }
    }
    let mut created = vec![false; model.entities.len()];
    let mut deferred: Vec<usize> = Vec::new();
    for &ei in &order {
        let entity = &model.entities[ei];
        let mut inline = Vec::new();
        for &(ri, to) in &by_table[ei] {
            if dialect == SqlDialect::Sqlite || to == ei || created[to] {
                inline.push(ri);
            } else {
                deferred.push(ri);
            }
        }
        out.push('\n');
        out.push_str(&create_table(model, ei, dialect, &names, &inline, None));
        created[ei] = true;
        for index in &entity.indexes {
            out.push_str(&create_index(dialect, &names, entity, index, None));
        }
    }
    if !deferred.is_empty() {
        out.push('\n');
        for ri in deferred {
            out.push_str(&add_foreign_key(model, ri, dialect, &names));
        }
    }
    (out, names.warnings)
}

/// Quotes `name` for `dialect` when it must be: a reserved word, a character other than an
/// ASCII letter, digit or `_`, a leading digit, or (PostgreSQL) an upper-case letter. A name
/// longer than 63 bytes is cut to 63 first, as PostgreSQL does silently and as MySQL (which
/// refuses names over 64 characters) needs.
pub fn quote_ident(dialect: SqlDialect, name: &str) -> String {
    let cut_name = cut(name);
    let name = cut_name.as_str();
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| match dialect {
            SqlDialect::Postgres => c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
            SqlDialect::Mysql | SqlDialect::Sqlite => c.is_ascii_alphanumeric() || c == '_',
        })
        && !is_reserved(dialect, name);
    if plain {
        return name.to_string();
    }
    match dialect {
        SqlDialect::Mysql => format!("`{}`", name.replace('`', "``")),
        SqlDialect::Postgres | SqlDialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The dialect's column type for a logical type (see the module documentation for the
/// choices). For a PostgreSQL enum this is `text`: the real type is the enum type that
/// [`ddl`] creates, whose name depends on the table and column.
pub fn column_type(dialect: SqlDialect, data_type: &LogicalType) -> String {
    use LogicalType as T;
    use SqlDialect::{Mysql, Postgres, Sqlite};
    match (dialect, data_type) {
        (Mysql, T::String(Some(n))) if *n > MYSQL_MAX_VARCHAR => mysql_long_text(*n).into(),
        (_, T::String(Some(n))) => format!("varchar({n})"),
        (Mysql, T::String(None)) => "varchar(255)".into(),
        (_, T::String(None)) => "varchar".into(),
        (_, T::Text) => "text".into(),
        (Mysql, T::Integer) => "int".into(),
        (_, T::Integer) => "integer".into(),
        (_, T::BigInt) => "bigint".into(),
        (Mysql, T::Decimal { precision, scale }) => format!("decimal({precision},{scale})"),
        (_, T::Decimal { precision, scale }) => format!("numeric({precision},{scale})"),
        (Postgres, T::Float) => "double precision".into(),
        (Mysql, T::Float) => "double".into(),
        (Sqlite, T::Float) => "real".into(),
        (_, T::Boolean) => "boolean".into(),
        (_, T::Date) => "date".into(),
        (_, T::Time) => "time".into(),
        (Mysql, T::Timestamp) => "datetime".into(),
        (_, T::Timestamp) => "timestamp".into(),
        (Mysql, T::TimestampTz) => "timestamp".into(),
        (_, T::TimestampTz) => "timestamptz".into(),
        (Postgres, T::Uuid) => "uuid".into(),
        (Mysql, T::Uuid) => "char(36)".into(),
        (Sqlite, T::Uuid) => "text".into(),
        (Postgres, T::Json) => "jsonb".into(),
        (Mysql, T::Json) => "json".into(),
        (Sqlite, T::Json) => "text".into(),
        (Postgres, T::Bytes) => "bytea".into(),
        (Mysql, T::Bytes) => "longblob".into(),
        (Sqlite, T::Bytes) => "blob".into(),
        (Mysql, T::Enum(values)) if !values.is_empty() => format!(
            "enum({})",
            values
                .iter()
                .map(|v| string_literal(dialect, v))
                .collect::<Vec<_>>()
                .join(",")
        ),
        (_, T::Enum(_)) => "text".into(),
        (_, T::Unknown(_)) => "text".into(),
    }
}

/// The longest `varchar` MariaDB accepts in `utf8mb4`: 65,535 bytes a row, four a character.
const MYSQL_MAX_VARCHAR: u32 = 16_383;

/// The MySQL text type for a string longer than [`MYSQL_MAX_VARCHAR`] characters: `mediumtext`
/// (16 MiB) when it holds `n` four-byte characters, else `longtext`.
fn mysql_long_text(n: u32) -> &'static str {
    if u64::from(n) * 4 <= 16_777_215 {
        "mediumtext"
    } else {
        "longtext"
    }
}

/// A string literal: quotes doubled, and backslashes doubled for MySQL, whose default SQL mode
/// reads them as escapes.
pub(crate) fn string_literal(dialect: SqlDialect, value: &str) -> String {
    let mut escaped = value.replace('\'', "''");
    if dialect == SqlDialect::Mysql {
        escaped = escaped.replace('\\', "\\\\");
    }
    format!("'{escaped}'")
}

/// What this exporter decides for a model beyond the model's own words, computed once per
/// model and dialect: the names it gives to things a model leaves unnamed, index names made
/// unique where the engine needs it, column types that differ from [`column_type`] so that the
/// engine accepts the keys, and the warnings that say so.
pub(crate) struct Naming {
    /// [`fk_ends_all`] of the model, found once for every step that needs it.
    pub(crate) ends: Vec<Option<(usize, usize)>>,
    /// Constraint name of each relationship's foreign key, by relationship index.
    fk: Vec<String>,
    /// PostgreSQL enum type names by (entity, attribute); the first of a name that the model
    /// spells twice.
    enums: ColumnMap,
    /// Index names changed to be unique in the schema, by (entity, index name).
    indexes: ColumnMap,
    /// Unique constraint names, by (entity lower-cased, position in `Entity::unique`).
    uniques: HashMap<(String, usize), String>,
    /// Column types other than [`column_type`]'s, by (entity, attribute).
    types: ColumnMap,
    /// What the DDL does not write as the model says, in model order.
    pub(crate) warnings: Vec<ExportWarning>,
}

impl Naming {
    pub(crate) fn new(model: &Model, dialect: SqlDialect) -> Naming {
        let uniques = unique_constraint_names(model);
        // A table's constraints share one namespace (PostgreSQL), and a name cut to 63 bytes
        // may lose the suffix that told a foreign key from a unique key.
        let mut used: HashSet<String> = uniques.values().map(|n| n.to_ascii_lowercase()).collect();
        used.extend(
            model
                .entities
                .iter()
                .map(|e| pk_name(&e.name).to_ascii_lowercase()),
        );
        let mut fk = Vec::new();
        for rel in &model.relationships {
            let base = if rel.name.trim().is_empty() {
                derived_name(&rel.from_entity, &rel.from_attributes, "fkey")
            } else {
                rel.name.clone()
            };
            // Names are cut before they are made unique: two long names may share 63 bytes.
            let base = cut(&base);
            let mut name = base.clone();
            let mut n = 2;
            while !used.insert(name.to_ascii_lowercase()) {
                let suffix = format!("_{n}");
                name = format!("{}{suffix}", cut_to(&base, MAX_DERIVED_NAME - suffix.len()));
                n += 1;
            }
            fk.push(name);
        }
        let mut enums = ColumnMap::default();
        if dialect == SqlDialect::Postgres {
            // Types share a namespace with tables (every table has a row type of its name).
            let mut taken: HashSet<String> = model
                .entities
                .iter()
                .map(|e| e.name.to_ascii_lowercase())
                .collect();
            for entity in &model.entities {
                for attr in &entity.attributes {
                    if matches!(attr.data_type, LogicalType::Enum(_)) {
                        let base = cut(&format!("{}_{}", entity.name, attr.name));
                        let mut name = base.clone();
                        let mut n = 1;
                        while !taken.insert(name.to_ascii_lowercase()) {
                            let suffix = if n == 1 {
                                "_enum".to_string()
                            } else {
                                format!("_enum{n}")
                            };
                            name = format!(
                                "{}{suffix}",
                                cut_to(&base, MAX_DERIVED_NAME - suffix.len())
                            );
                            n += 1;
                        }
                        enums.insert_first(&entity.name, &attr.name, name);
                    }
                }
            }
        }
        let mut names = Naming {
            ends: fk_ends_all(model),
            fk,
            enums,
            indexes: ColumnMap::default(),
            uniques,
            types: ColumnMap::default(),
            warnings: Vec::new(),
        };
        let mut notes = Notes::default();
        names.unique_index_names(model, dialect, &mut notes);
        if dialect == SqlDialect::Mysql {
            names.mysql_key_types(model, &mut notes);
        }
        if dialect == SqlDialect::Sqlite {
            // SQLite numbers rows only in a column declared `INTEGER` (64 bits, like bigint).
            for (ei, entity) in model.entities.iter().enumerate() {
                if !sqlite_inline_key(dialect, entity) {
                    continue;
                }
                for (ai, attr) in entity.attributes.iter().enumerate() {
                    if !matches!(auto_increment_clause(dialect, entity, attr), Ok(Some(_))) {
                        continue;
                    }
                    if attr.data_type == LogicalType::BigInt {
                        notes.push(
                            ei,
                            Some(ai),
                            WarningKind::Changed,
                            "bigint is INTEGER (64 bits) in SQLite, which numbers rows only in \
                             an INTEGER PRIMARY KEY"
                                .into(),
                        );
                    }
                    names
                        .types
                        .insert(&entity.name, &attr.name, "integer".into());
                }
            }
        }
        names.referencing_types(model, dialect, &mut notes);
        column_losses(&names, model, dialect, &mut notes);
        names.warnings = notes.sorted(model);
        names
    }

    /// The entity named `name` at one end of relationship `ri` (`end` picks the end), as
    /// [`Model::entity`] finds it, but from the ends found once instead of a scan of the
    /// entities; `model` must be the model these names were made for, else it scans.
    fn end_entity<'m>(
        &self,
        model: &'m Model,
        ri: usize,
        end: fn((usize, usize)) -> usize,
        name: &str,
    ) -> Option<&'m Entity> {
        let known = self
            .ends
            .get(ri)
            .copied()
            .flatten()
            .and_then(|ends| model.entities.get(end(ends)))
            .filter(|e| e.name.eq_ignore_ascii_case(name));
        known.or_else(|| model.entity(name))
    }

    /// The foreign key constraint name of relationship `index`.
    pub(crate) fn fk(&self, index: usize) -> &str {
        self.fk.get(index).map(String::as_str).unwrap_or("fk")
    }

    /// The PostgreSQL enum type of `entity.attribute`, if it has one.
    pub(crate) fn enum_type(&self, entity: &str, attribute: &str) -> Option<&str> {
        self.enums.get(entity, attribute)
    }

    /// The name index `index` of `entity` is created under.
    pub(crate) fn index_name<'a>(&'a self, entity: &str, index: &'a str) -> &'a str {
        self.indexes.get(entity, index).unwrap_or(index)
    }

    /// The name of unique constraint `position` of entity `ei`.
    fn unique_at(&self, ei: usize, model: &Model, position: usize) -> String {
        let Some(entity) = model.entities.get(ei) else {
            return String::new();
        };
        self.uniques
            .get(&(entity.name.to_ascii_lowercase(), position))
            .cloned()
            .unwrap_or_else(|| {
                derived_name(
                    &entity.name,
                    entity.unique.get(position).map_or(&[][..], Vec::as_slice),
                    "key",
                )
            })
    }

    /// The constraint name of the unique key over `columns` of `entity` (its first such key).
    pub(crate) fn unique_name(&self, entity: &Entity, columns: &[String]) -> String {
        let position = entity.unique.iter().position(|u| {
            u.len() == columns.len()
                && u.iter()
                    .zip(columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        });
        position
            .and_then(|p| {
                self.uniques
                    .get(&(entity.name.to_ascii_lowercase(), p))
                    .cloned()
            })
            .unwrap_or_else(|| derived_name(&entity.name, columns, "key"))
    }

    /// MySQL keeps index names per table, shared with its unique keys and `PRIMARY`: an index
    /// whose name one of those has gets `<name>_idx`, then a number.
    fn mysql_index_names(&mut self, model: &Model, notes: &mut Notes) {
        for (ei, entity) in model.entities.iter().enumerate() {
            let mut taken: HashSet<String> = (0..entity.unique.len())
                .map(|ui| self.unique_at(ei, model, ui).to_ascii_lowercase())
                .collect();
            taken.insert("primary".into());
            for index in entity.indexes.iter().filter(|i| i.expression.is_none()) {
                if taken.insert(cut(&index.name).to_ascii_lowercase()) {
                    continue;
                }
                let name = free_name(cut(&format!("{}_idx", index.name)), &mut taken);
                notes.push(
                    ei,
                    None,
                    WarningKind::Changed,
                    format!(
                        "index {} is named {name}: a key of the table has its name, and MySQL \
                         keeps index and key names together",
                        index.name
                    ),
                );
                self.indexes.insert(&entity.name, &index.name, name);
            }
        }
    }

    /// The column type chosen for `entity.attribute` when it is not [`column_type`]'s.
    fn type_override(&self, entity: &str, attribute: &str) -> Option<&str> {
        self.types.get(entity, attribute)
    }

    /// PostgreSQL and SQLite keep index names per schema, MySQL per table: an index whose name
    /// is taken (by a table, a key's index or an earlier index) gets `<table>_<name>`, then a
    /// number.
    fn unique_index_names(&mut self, model: &Model, dialect: SqlDialect, notes: &mut Notes) {
        if dialect == SqlDialect::Mysql {
            return self.mysql_index_names(model, notes);
        }
        let mut taken: HashSet<String> = HashSet::new();
        for (ei, entity) in model.entities.iter().enumerate() {
            taken.insert(cut(&entity.name).to_ascii_lowercase());
            if dialect == SqlDialect::Postgres {
                // Each key constraint is backed by an index of its name.
                if !entity.primary_key.is_empty() {
                    taken.insert(pk_name(&entity.name).to_ascii_lowercase());
                }
                for ui in 0..entity.unique.len() {
                    taken.insert(self.unique_at(ei, model, ui).to_ascii_lowercase());
                }
            }
        }
        for (ei, entity) in model.entities.iter().enumerate() {
            for index in &entity.indexes {
                let wanted = cut(&index.name);
                if taken.insert(wanted.to_ascii_lowercase()) {
                    continue;
                }
                let name = free_name(cut(&format!("{}_{}", entity.name, index.name)), &mut taken);
                notes.push(
                    ei,
                    None,
                    WarningKind::Changed,
                    format!(
                        "index {} is named {name}: {} keeps index names per schema, and the \
                         name is taken",
                        index.name,
                        dialect.label()
                    ),
                );
                self.indexes.insert(&entity.name, &index.name, name);
            }
        }
    }

    /// MySQL cannot make a primary key, unique key or foreign key of a whole `text`, `json` or
    /// `blob` column, only of a prefix, and a prefix key lets two values that differ after the
    /// prefix collide. Such a column of a primary, unique or referenced key is written as
    /// `varchar(n)` (`varbinary(n)` for bytes) with the longest `n` its keys leave room for, so
    /// that a key covers whole values and a longer value is refused rather than silently
    /// colliding; a warning says so. A referencing column then takes the same type (see
    /// `referencing_types`), and a column and the one it references share the narrower `n`.
    fn mysql_key_types(&mut self, model: &Model, notes: &mut Notes) {
        let dialect = SqlDialect::Mysql;
        let mut keys: Vec<(usize, &[String])> = Vec::new();
        for (ei, entity) in model.entities.iter().enumerate() {
            keys.push((ei, &entity.primary_key));
            keys.extend(entity.unique.iter().map(|u| (ei, u.as_slice())));
            keys.extend(
                entity
                    .indexes
                    .iter()
                    .filter(|i| i.unique && i.expression.is_none())
                    .map(|i| (ei, i.attributes.as_slice())),
            );
        }
        // A referenced column is a key; a referencing column only takes the referenced type
        // (in `referencing_types`), which loses nothing the reference allows.
        for (rel, ends) in model.relationships.iter().zip(&self.ends) {
            if let Some((_, to)) = *ends {
                keys.push((to, &rel.to_attributes));
            }
        }
        // The narrowest width each unbounded column gets over the keys it is in.
        let mut widths: HashMap<(usize, usize), u32> = HashMap::new();
        for (ei, columns) in keys {
            let entity = &model.entities[ei];
            let attrs: Vec<usize> = columns
                .iter()
                .filter_map(|c| {
                    entity
                        .attributes
                        .iter()
                        .position(|a| a.name.eq_ignore_ascii_case(c))
                })
                .collect();
            // A MySQL native type (`varbinary(16)`) is written as the source had it.
            let unbounded: Vec<usize> = attrs
                .iter()
                .copied()
                .filter(|&ai| {
                    let attr = &entity.attributes[ai];
                    mysql_unbounded(&attr.data_type) && same_dialect_native(dialect, attr).is_none()
                })
                .collect();
            if unbounded.is_empty() {
                continue;
            }
            let fixed: u32 = attrs
                .iter()
                .filter(|ai| !unbounded.contains(ai))
                .map(|&ai| mysql_key_bytes(&column_type(dialect, &entity.attributes[ai].data_type)))
                .sum();
            let share = MYSQL_MAX_KEY_BYTES.saturating_sub(fixed) / unbounded.len() as u32;
            for ai in unbounded {
                let width = if entity.attributes[ai].data_type == LogicalType::Bytes {
                    share.clamp(1, MYSQL_MAX_KEY_BYTES)
                } else {
                    (share / 4).clamp(1, MYSQL_MAX_KEY_CHARS)
                };
                let slot = widths.entry((ei, ai)).or_insert(width);
                *slot = (*slot).min(width);
            }
        }
        // A referencing column and the column it references must be the same type: both take
        // the narrower width, until every pair agrees (a chain settles one link per round).
        let pairs: Vec<((usize, usize), (usize, usize))> = model
            .relationships
            .iter()
            .zip(&self.ends)
            .filter_map(|(rel, ends)| Some((rel, (*ends)?)))
            .flat_map(|(rel, (from, to))| {
                let position = |ei: usize, name: &String| {
                    model.entities[ei]
                        .attributes
                        .iter()
                        .position(|a| a.name.eq_ignore_ascii_case(name))
                };
                rel.from_attributes
                    .iter()
                    .zip(&rel.to_attributes)
                    .filter_map(move |(f, t)| {
                        Some(((from, position(from, f)?), (to, position(to, t)?)))
                    })
            })
            .collect();
        for _ in 0..=pairs.len().min(16) {
            let mut changed = false;
            for (a, b) in &pairs {
                if let (Some(&wa), Some(&wb)) = (widths.get(a), widths.get(b)) {
                    if wa != wb {
                        widths.insert(*a, wa.min(wb));
                        widths.insert(*b, wa.min(wb));
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut sorted: Vec<((usize, usize), u32)> = widths.into_iter().collect();
        sorted.sort();
        for ((ei, ai), width) in sorted {
            let entity = &model.entities[ei];
            let attr = &entity.attributes[ai];
            let written = if attr.data_type == LogicalType::Bytes {
                format!("varbinary({width})")
            } else {
                format!("varchar({width})")
            };
            notes.push(
                ei,
                Some(ai),
                WarningKind::Lost,
                format!(
                    "{} in a key is {written} in MySQL, which keys only a prefix of unbounded \
                     values: longer values are refused",
                    type_words(&attr.data_type)
                ),
            );
            self.types.insert(&entity.name, &attr.name, written);
        }
    }

    /// A referencing column is typed like the column it references (MySQL refuses an `int`
    /// referencing a `bigint`, PostgreSQL a `text` referencing an `integer`), following chains
    /// of references; a warning says where the model's type was not the key's.
    fn referencing_types(&mut self, model: &Model, dialect: SqlDialect, notes: &mut Notes) {
        // Taken out for the loops below, which change `self`, and put back at the end.
        let ends = std::mem::take(&mut self.ends);
        // A chain a → b → c settles in as many rounds as it is long; a cycle stops anyway.
        for _ in 0..=model.relationships.len().min(16) {
            let mut changed = false;
            for (rel, end) in model.relationships.iter().zip(&ends) {
                let Some((from, to)) = *end else { continue };
                let (from_entity, to_entity) = (&model.entities[from], &model.entities[to]);
                for (f, t) in rel.from_attributes.iter().zip(&rel.to_attributes) {
                    let (Some(fa), Some(ta)) = (from_entity.attribute(f), to_entity.attribute(t))
                    else {
                        continue;
                    };
                    let want = self.column_type_of(dialect, to_entity, ta);
                    if self.column_type_of(dialect, from_entity, fa) == want {
                        continue;
                    }
                    self.types.insert(&from_entity.name, &fa.name, want);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // What each referencing column references, `entity.attribute`: the first foreign key
        // (in relationship order) of its table that lists it, at its first place there. Found
        // once, by (table, column lower-cased), rather than by a scan of the relationships for
        // every retyped column.
        let mut targets: HashMap<(usize, String), String> = HashMap::new();
        if !self.types.is_empty() {
            for (rel, end) in model.relationships.iter().zip(&ends) {
                let Some((from, to)) = *end else { continue };
                for (i, attribute) in rel.from_attributes.iter().enumerate() {
                    targets
                        .entry((from, attribute.to_ascii_lowercase()))
                        .or_insert_with(|| {
                            format!(
                                "{}.{}",
                                model.entities[to].name,
                                rel.to_attributes.get(i).map_or("", String::as_str)
                            )
                        });
                }
            }
        }
        for (ei, entity) in model.entities.iter().enumerate() {
            for (ai, attr) in entity.attributes.iter().enumerate() {
                let Some(written) = self.type_override(&entity.name, &attr.name) else {
                    continue;
                };
                let Some(target) = targets.get(&(ei, attr.name.to_ascii_lowercase())) else {
                    continue;
                };
                // A key column MySQL sized is already reported as lost.
                if notes.has(ei, ai) {
                    continue;
                }
                notes.push(
                    ei,
                    Some(ai),
                    WarningKind::Changed,
                    format!(
                        "{} is written as {written}, the type of {target}, which it references",
                        type_words(&attr.data_type)
                    ),
                );
            }
        }
        self.ends = ends;
    }

    /// The type `attr` is declared with: a chosen type, the PostgreSQL enum type, or
    /// [`column_type`].
    pub(crate) fn column_type_of(
        &self,
        dialect: SqlDialect,
        entity: &Entity,
        attr: &Attribute,
    ) -> String {
        if let Some(t) = self.type_override(&entity.name, &attr.name) {
            return t.to_string();
        }
        if let Some(native) = same_dialect_native(dialect, attr) {
            return native.to_string();
        }
        if dialect == SqlDialect::Postgres {
            if let Some(t) = self.enum_type(&entity.name, &attr.name) {
                return quote_ident(dialect, t);
            }
        }
        column_type(dialect, &attr.data_type)
    }
}

/// A name per `(table, column)` (or `(table, index)`), both ignoring ASCII case. Every column
/// of a script is looked up, several times: names already in lower case (most are) are looked
/// up as they are, without the two lower-cased copies a key of two strings would need, and an
/// empty map answers without looking at the names.
#[derive(Default)]
struct ColumnMap(HashMap<String, HashMap<String, String>>);

impl ColumnMap {
    fn get(&self, table: &str, column: &str) -> Option<&str> {
        if self.0.is_empty() {
            return None;
        }
        self.0
            .get(lower(table).as_ref())?
            .get(lower(column).as_ref())
            .map(String::as_str)
    }

    fn insert(&mut self, table: &str, column: &str, value: String) {
        self.0
            .entry(table.to_ascii_lowercase())
            .or_default()
            .insert(column.to_ascii_lowercase(), value);
    }

    /// [`ColumnMap::insert`], unless the place has a value already.
    fn insert_first(&mut self, table: &str, column: &str, value: String) {
        self.0
            .entry(table.to_ascii_lowercase())
            .or_default()
            .entry(column.to_ascii_lowercase())
            .or_insert(value);
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `name` lower-cased (ASCII), copied only when it has an upper-case letter.
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Derived unique constraint names, `<table>_<columns>_key`, cut to 63 bytes and then made
/// distinct, by (entity lower-cased, position in `Entity::unique`): PostgreSQL keeps them per
/// schema (each is an index), and two long column lists may share their first 63 bytes. Table
/// and primary key names are taken first.
fn unique_constraint_names(model: &Model) -> HashMap<(String, usize), String> {
    let mut taken: HashSet<String> = HashSet::new();
    for entity in &model.entities {
        taken.insert(cut(&entity.name).to_ascii_lowercase());
        taken.insert(pk_name(&entity.name).to_ascii_lowercase());
    }
    let mut names = HashMap::new();
    for entity in &model.entities {
        for (ui, columns) in entity.unique.iter().enumerate() {
            let base = derived_name(&entity.name, columns, "key");
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.to_ascii_lowercase()) {
                let suffix = format!("_{n}");
                name = format!("{}{suffix}", cut_to(&base, MAX_DERIVED_NAME - suffix.len()));
                n += 1;
            }
            names.insert((entity.name.to_ascii_lowercase(), ui), name);
        }
    }
    names
}

/// Warnings in the making, with the positions they are sorted by, and the columns that have
/// one (so that asking costs no scan of all the warnings).
#[derive(Default)]
struct Notes(
    Vec<(usize, Option<usize>, WarningKind, String)>,
    HashSet<(usize, usize)>,
);

impl Notes {
    fn push(
        &mut self,
        entity: usize,
        attribute: Option<usize>,
        kind: WarningKind,
        message: String,
    ) {
        if let Some(attribute) = attribute {
            self.1.insert((entity, attribute));
        }
        self.0.push((entity, attribute, kind, message));
    }

    /// True when column `attribute` of table `entity` has a warning already.
    fn has(&self, entity: usize, attribute: usize) -> bool {
        self.1.contains(&(entity, attribute))
    }

    /// The warnings in model order: by table, the table's own first, then by column.
    fn sorted(mut self, model: &Model) -> Vec<ExportWarning> {
        // A stable sort keeps the order in which one place's warnings were found.
        self.0
            .sort_by_key(|(e, a, _, _)| (*e, a.map_or(0, |a| a + 1)));
        self.0
            .into_iter()
            .filter_map(|(ei, ai, kind, message)| {
                let entity = model.entities.get(ei)?;
                Some(ExportWarning {
                    table: entity.name.clone(),
                    column: ai
                        .and_then(|ai| entity.attributes.get(ai))
                        .map(|a| a.name.clone()),
                    kind,
                    message,
                })
            })
            .collect()
    }
}

/// The attribute's native type when it was written for `dialect` (see [`Attribute::native`]).
fn same_dialect_native(dialect: SqlDialect, attr: &Attribute) -> Option<&str> {
    attr.native
        .as_ref()
        .filter(|n| n.dialect == dialect && !n.name.trim().is_empty())
        .map(|n| n.name.as_str())
}

/// A logical type as a warning names it; a column without a type says so.
fn type_words(data_type: &LogicalType) -> String {
    match data_type {
        LogicalType::Unknown(raw) if raw.trim().is_empty() => "a column without a type".into(),
        other => other.to_string(),
    }
}

/// True when MySQL stores `data_type` without a length its keys could cover whole.
fn mysql_unbounded(data_type: &LogicalType) -> bool {
    matches!(
        column_type(SqlDialect::Mysql, data_type).as_str(),
        "text" | "json" | "longblob"
    )
}

/// Roughly how many bytes a MySQL column of `column_type` takes in a key: four per character
/// of a `varchar` or `char` (`utf8mb4`), the length of a `varbinary`, 16 for anything else.
fn mysql_key_bytes(column_type: &str) -> u32 {
    let length = column_type
        .split_once('(')
        .and_then(|(_, rest)| rest.trim_end_matches(')').parse::<u32>().ok());
    match (column_type.split('(').next(), length) {
        (Some("varchar" | "char"), Some(n)) => n.saturating_mul(4),
        (Some("varbinary"), Some(n)) => n,
        _ => 16,
    }
}

/// What `dialect` cannot express of each column: an unknown type (unless the column is
/// typed like the key it references, or sized for a MySQL key, already warned), a zone, a
/// length, a default, a long description.
fn column_losses(names: &Naming, model: &Model, dialect: SqlDialect, notes: &mut Notes) {
    for (ei, entity) in model.entities.iter().enumerate() {
        for (ai, attr) in entity.attributes.iter().enumerate() {
            let retyped = names.type_override(&entity.name, &attr.name).is_some();
            let native = same_dialect_native(dialect, attr).is_some();
            let mut lost = |message: String| notes.push(ei, Some(ai), WarningKind::Lost, message);
            match (&attr.data_type, dialect) {
                (LogicalType::Unknown(_), _) if retyped || native => {}
                _ if native => {}
                (data_type, _)
                    if data_type.is_known()
                        && attr.native.as_ref().is_some_and(|n| n.approximate) =>
                {
                    if let Some(n) = &attr.native {
                        lost(format!(
                            "the {} type {} is written as {}",
                            n.dialect.label(),
                            n.name,
                            names.column_type_of(dialect, entity, attr)
                        ));
                    }
                }
                (LogicalType::Unknown(raw), _) if raw.trim().is_empty() => lost(format!(
                    "a column without a type is written as {}",
                    column_type(dialect, &attr.data_type)
                )),
                (LogicalType::Unknown(raw), _) => lost(format!(
                    "type {raw} is not a type the model knows: written as {}",
                    column_type(dialect, &attr.data_type)
                )),
                (LogicalType::TimestampTz, SqlDialect::Mysql) => lost(
                    "timestamptz is timestamp in MySQL: stored in UTC without the zone, and \
                     only from 1970 to 2038"
                        .into(),
                ),
                (LogicalType::String(Some(n)), SqlDialect::Mysql)
                    if *n > MYSQL_MAX_VARCHAR && !retyped =>
                {
                    lost(format!(
                        "string({n}) is longer than MySQL's varchar allows ({MYSQL_MAX_VARCHAR} \
                         characters): written as {}, which does not limit the length",
                        mysql_long_text(*n)
                    ))
                }
                (LogicalType::String(None), SqlDialect::Mysql) => lost(
                    "string without a length is varchar(255) in MySQL, which needs a length".into(),
                ),
                (LogicalType::Enum(values), SqlDialect::Mysql) if values.is_empty() => {
                    lost("an enum without values is text".into())
                }
                _ => {}
            }
            if attr.case_insensitive && !is_case_insensitive_text(attr) {
                lost("case-insensitive comparison applies to text only: left out".into());
            }
            let numbering = auto_increment_clause(dialect, entity, attr);
            if let Err(reason) = numbering {
                lost(format!("auto-numbering is left out: {reason}"));
            }
            if let Some(raw) = attr.default.as_deref() {
                if !raw.trim().is_empty() && matches!(numbering, Ok(Some(_))) {
                    lost(format!(
                        "default {} is left out: the column numbers its rows",
                        raw.trim()
                    ));
                } else if !raw.trim().is_empty()
                    && default_sql(dialect, raw, &attr.data_type).is_none()
                {
                    lost(format!(
                        "default {} has no {} equivalent: left out",
                        raw.trim(),
                        dialect.label()
                    ));
                }
            }
            if dialect == SqlDialect::Mysql && attr.description.chars().count() > 1024 {
                lost("the description is cut to MySQL's 1024 characters".into());
            }
        }
        if dialect == SqlDialect::Mysql {
            for index in entity.indexes.iter().filter(|i| i.expression.is_some()) {
                notes.push(
                    ei,
                    None,
                    WarningKind::Lost,
                    format!(
                        "index {} over {} is left out: MariaDB cannot index expressions",
                        index.name,
                        index.expression.as_deref().unwrap_or_default()
                    ),
                );
            }
        }
        if dialect == SqlDialect::Mysql && entity.description.chars().count() > 2048 {
            notes.push(
                ei,
                None,
                WarningKind::Lost,
                "the description is cut to MySQL's 2048 characters".into(),
            );
        }
    }
}

/// `<table>_<col1>_<col2>_<suffix>`, cut to the longest name every dialect keeps.
pub(crate) fn derived_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut name = table.to_string();
    for c in columns {
        name.push('_');
        name.push_str(c);
    }
    name.push('_');
    name.push_str(suffix);
    cut(&name)
}

/// The primary key constraint name of `table`.
pub(crate) fn pk_name(table: &str) -> String {
    cut(&format!("{table}_pkey"))
}

/// `base`, or `base` cut short with `_2`, `_3`, … until the name (ignoring case) is not in
/// `taken`; the name returned is added to `taken`.
fn free_name(base: String, taken: &mut HashSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.to_ascii_lowercase()) {
        let suffix = format!("_{n}");
        name = format!("{}{suffix}", cut_to(&base, MAX_DERIVED_NAME - suffix.len()));
        n += 1;
    }
    name
}

fn cut(name: &str) -> String {
    cut_to(name, MAX_DERIVED_NAME)
}

/// `name` cut to at most `max` bytes, on a character boundary.
fn cut_to(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let mut end = max;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// The (from, to) entity indexes of every relationship that becomes a foreign key, in
/// relationship order; `None` for N:M relationships, relationships without attributes and those
/// naming missing entities. One name lookup table serves them all, so that callers looping over
/// tables do not rescan the entities for every relationship.
pub(crate) fn fk_ends_all(model: &Model) -> Vec<Option<(usize, usize)>> {
    let index = model.entity_positions();
    model
        .relationships
        .iter()
        .map(|rel| {
            if rel.cardinality == Cardinality::ManyToMany || rel.from_attributes.is_empty() {
                return None;
            }
            Some((
                *index.get(&rel.from_entity.to_ascii_lowercase())?,
                *index.get(&rel.to_entity.to_ascii_lowercase())?,
            ))
        })
        .collect()
}

/// Entity indexes in creation order: each table after the tables it references, in model
/// order otherwise; a cycle is broken at the first table of it in model order.
pub(crate) fn table_order(model: &Model) -> Vec<usize> {
    order_from_ends(model.entities.len(), &fk_ends_all(model))
}

/// [`table_order`] of `n` entities from their foreign keys' ends. At each step the first table
/// (in model order) whose referenced tables are all created comes next; when none is (a cycle),
/// the first table not created yet. Kept linear: each table counts the references it still
/// waits for, and the tables that wait for none sit in a heap, smallest index first.
fn order_from_ends(n: usize, ends: &[Option<(usize, usize)>]) -> Vec<usize> {
    // `waiting[i]`: references of table i to tables not created yet (one per foreign key);
    // `referrers[t]`: the tables referencing t, once per foreign key.
    let mut waiting = vec![0usize; n];
    let mut referrers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(from, to) in ends.iter().flatten() {
        if from != to {
            waiting[from] += 1;
            referrers[to].push(from);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
    let mut done = vec![false; n];
    // Every table before this one is created: where a cycle is broken.
    let mut first_open = 0;
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = loop {
            match ready.pop() {
                // A table created to break a cycle may become ready later: skip it.
                Some(Reverse(i)) if done[i] => continue,
                Some(Reverse(i)) => break i,
                None => {
                    while done[first_open] {
                        first_open += 1;
                    }
                    break first_open;
                }
            }
        };
        done[next] = true;
        order.push(next);
        for &r in &referrers[next] {
            waiting[r] -= 1;
            if waiting[r] == 0 {
                ready.push(Reverse(r));
            }
        }
    }
    order
}

/// The type of one column as it appears in `CREATE TABLE`: a type chosen for its keys (see
/// [`Naming`]), the PostgreSQL enum type where there is one, else [`column_type`].
pub(crate) fn declared_type(
    dialect: SqlDialect,
    names: &Naming,
    entity: &Entity,
    attr: &Attribute,
) -> String {
    names.column_type_of(dialect, entity, attr)
}

/// `CREATE TYPE ... AS ENUM` statements for `entity`'s enum columns (PostgreSQL only).
pub(crate) fn create_enum_types(dialect: SqlDialect, names: &Naming, entity: &Entity) -> String {
    let mut out = String::new();
    if dialect != SqlDialect::Postgres {
        return out;
    }
    for attr in &entity.attributes {
        if let (LogicalType::Enum(values), Some(t)) =
            (&attr.data_type, names.enum_type(&entity.name, &attr.name))
        {
            out.push_str(&create_enum_type(t, values));
        }
    }
    out
}

/// One PostgreSQL `CREATE TYPE name AS ENUM (...)`.
pub(crate) fn create_enum_type(name: &str, values: &[String]) -> String {
    format!(
        "CREATE TYPE {} AS ENUM ({});\n",
        quote_ident(SqlDialect::Postgres, name),
        values
            .iter()
            .map(|v| string_literal(SqlDialect::Postgres, v))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The column definition after the column name: type, `NOT NULL`, default, check, comment.
pub(crate) fn column_definition(
    dialect: SqlDialect,
    names: &Naming,
    entity: &Entity,
    attr: &Attribute,
) -> String {
    let mut out = format!(
        "{} {}",
        quote_ident(dialect, &attr.name),
        declared_type(dialect, names, entity, attr)
    );
    if is_case_insensitive_text(attr) {
        out.push_str(match dialect {
            SqlDialect::Postgres => " COLLATE case_insensitive",
            SqlDialect::Mysql => " COLLATE utf8mb4_unicode_ci",
            SqlDialect::Sqlite => " COLLATE NOCASE",
        });
    }
    if !attr.nullable || entity.is_key(&attr.name) {
        out.push_str(" NOT NULL");
    } else if dialect == SqlDialect::Mysql && attr.data_type == LogicalType::TimestampTz {
        // With explicit_defaults_for_timestamp off, MySQL makes a bare `timestamp` NOT NULL.
        out.push_str(" NULL");
    }
    let numbering = auto_increment_clause(dialect, entity, attr).ok().flatten();
    if let Some(clause) = numbering {
        out.push_str(clause);
    }
    // An auto-numbered column takes no default (PostgreSQL refuses both); warned as lost.
    if let Some(default) = attr
        .default
        .as_deref()
        .and_then(|d| default_sql(dialect, d, &attr.data_type))
        .filter(|_| numbering.is_none())
    {
        let _ = write!(out, " DEFAULT {default}");
    }
    if dialect == SqlDialect::Sqlite {
        if let LogicalType::Enum(values) = &attr.data_type {
            let _ = write!(
                out,
                " CHECK ({} IN ({}))",
                quote_ident(dialect, &attr.name),
                values
                    .iter()
                    .map(|v| string_literal(dialect, v))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if dialect == SqlDialect::Mysql && !attr.description.is_empty() {
        let _ = write!(
            out,
            " COMMENT {}",
            string_literal(dialect, &limit_chars(&attr.description, 1024))
        );
    }
    out
}

/// True when `attr` is text that compares ignoring case (a collation applies to text only).
fn is_case_insensitive_text(attr: &Attribute) -> bool {
    attr.case_insensitive && matches!(attr.data_type, LogicalType::String(_) | LogicalType::Text)
}

/// PostgreSQL's case-insensitive collation (ICU, not deterministic, so that keys compare
/// ignoring case too), created before the first table that uses it; `IF NOT EXISTS` lets every
/// such table, and a migration, carry it.
const PG_CASE_INSENSITIVE: &str = "CREATE COLLATION IF NOT EXISTS case_insensitive \
    (provider = icu, locale = 'und-u-ks-level2', deterministic = false);\n";

/// How `dialect` numbers the rows of `attr`: `Ok(None)` when the model does not ask for it,
/// `Ok(Some(clause))` to add after the type and `NOT NULL`, `Err(reason)` when the dialect
/// cannot do it for this column.
pub(crate) fn auto_increment_clause(
    dialect: SqlDialect,
    entity: &Entity,
    attr: &Attribute,
) -> Result<Option<&'static str>, &'static str> {
    if !attr.auto_increment {
        return Ok(None);
    }
    if !matches!(attr.data_type, LogicalType::Integer | LogicalType::BigInt) {
        return Err("only an integer column can number rows");
    }
    let same = |c: &String| c.eq_ignore_ascii_case(&attr.name);
    match dialect {
        SqlDialect::Postgres => Ok(Some(" GENERATED BY DEFAULT AS IDENTITY")),
        SqlDialect::Mysql => {
            let first_auto = entity.attributes.iter().find(|a| {
                a.auto_increment
                    && matches!(a.data_type, LogicalType::Integer | LogicalType::BigInt)
            });
            let starts_key = entity.primary_key.first().is_some_and(same)
                || entity.unique.iter().any(|u| u.first().is_some_and(same))
                || entity
                    .indexes
                    .iter()
                    .filter(|i| i.expression.is_none())
                    .any(|i| i.attributes.first().is_some_and(same));
            if starts_key && first_auto.is_some_and(|a| same(&a.name)) {
                Ok(Some(" AUTO_INCREMENT"))
            } else {
                Err("MySQL numbers rows only in one column a table, and it must start a key")
            }
        }
        SqlDialect::Sqlite => {
            if entity.primary_key.len() == 1 && same(&entity.primary_key[0]) {
                Ok(Some(" PRIMARY KEY AUTOINCREMENT"))
            } else {
                Err("SQLite numbers rows only in a single-column INTEGER PRIMARY KEY")
            }
        }
    }
}

/// True when SQLite's primary key of `entity` is written inline, as `INTEGER PRIMARY KEY
/// AUTOINCREMENT`, which is the only place SQLite accepts auto-numbering.
fn sqlite_inline_key(dialect: SqlDialect, entity: &Entity) -> bool {
    dialect == SqlDialect::Sqlite
        && entity
            .attributes
            .iter()
            .any(|a| matches!(auto_increment_clause(dialect, entity, a), Ok(Some(_))))
}

/// MySQL refuses comments longer than 1024 (column) or 2048 (table) characters.
fn limit_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The default clause's value for `dialect`, from the model's SQL-ish default, or `None` when
/// the dialect has no equivalent (a generated UUID in SQLite).
///
/// Known expressions are spelled the dialect's way (`now()` is `CURRENT_TIMESTAMP` in MySQL
/// and SQLite); numbers, quoted strings, `true`/`false` and `null` are literals; any other
/// expression with parentheses is kept as written, parenthesised where MySQL and SQLite need
/// it; a bare word is taken as a string (an LLM writes `default: active` for an enum).
pub(crate) fn default_sql(
    dialect: SqlDialect,
    raw: &str,
    data_type: &LogicalType,
) -> Option<String> {
    use SqlDialect::{Mysql, Postgres, Sqlite};
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if *data_type == LogicalType::Boolean {
        if let Some(value) = boolean_value(&lower) {
            return Some(match (dialect, value) {
                (Postgres, true) => "true".into(),
                (Postgres, false) => "false".into(),
                (Mysql | Sqlite, true) => "1".into(),
                (Mysql | Sqlite, false) => "0".into(),
            });
        }
    }
    if matches!(
        data_type,
        LogicalType::Timestamp | LogicalType::TimestampTz | LogicalType::Date
    ) && text.starts_with('\'')
    {
        if is_zero_date(text) {
            // MySQL's "zero date" is no date: PostgreSQL refuses it, SQLite would keep a string.
            return (dialect == Mysql).then(|| text.to_string());
        }
        if dialect == Mysql {
            if let Some(utc) = utc_literal(text) {
                return Some(utc);
            }
        }
    }
    let spelled = match lower.as_str() {
        "now()" | "current_timestamp" | "current_timestamp()" | "localtimestamp" => {
            Some(match dialect {
                Postgres => text.to_string(),
                Mysql | Sqlite => "CURRENT_TIMESTAMP".into(),
            })
        }
        "current_date" | "current_date()" | "curdate()" => Some(match dialect {
            Postgres => "CURRENT_DATE".into(),
            Mysql => "(curdate())".into(),
            Sqlite => "CURRENT_DATE".into(),
        }),
        "current_time" | "current_time()" | "curtime()" => Some(match dialect {
            Postgres => "CURRENT_TIME".into(),
            Mysql => "(curtime())".into(),
            Sqlite => "CURRENT_TIME".into(),
        }),
        "gen_random_uuid()" | "uuid()" | "uuid_generate_v4()" => match dialect {
            Postgres => Some("gen_random_uuid()".into()),
            Mysql => Some("(uuid())".into()),
            Sqlite => return None,
        },
        "true" | "false" => Some(match dialect {
            Postgres => lower.clone(),
            Mysql | Sqlite => if lower == "true" { "1" } else { "0" }.into(),
        }),
        "null" => Some("NULL".into()),
        _ => None,
    };
    if spelled.is_some() {
        return spelled;
    }
    let numeric = text
        .strip_prefix('-')
        .unwrap_or(text)
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().any(|c| c.is_ascii_digit());
    if numeric || (text.starts_with('\'') && text.ends_with('\'') && text.len() >= 2) {
        return Some(text.to_string());
    }
    if text.contains('(') {
        return Some(match dialect {
            Postgres => text.to_string(),
            Mysql | Sqlite => format!("({text})"),
        });
    }
    let bare_is_value = matches!(
        data_type,
        LogicalType::Integer
            | LogicalType::BigInt
            | LogicalType::Decimal { .. }
            | LogicalType::Float
            | LogicalType::Boolean
    );
    Some(if bare_is_value {
        text.to_string()
    } else {
        string_literal(dialect, text)
    })
}

/// The truth value of a boolean default in any dialect's spelling (`true`, `1`, `'t'`,
/// `b'1'`...), or `None` for an expression.
fn boolean_value(lower: &str) -> Option<bool> {
    match lower.trim_matches('\'') {
        _ if lower.starts_with("b'") => boolean_value(&lower[1..]),
        "true" | "1" | "t" | "y" | "yes" | "on" => Some(true),
        "false" | "0" | "f" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// True for MySQL's zero date, `'0000-00-00'` with or without a time.
fn is_zero_date(text: &str) -> bool {
    text.trim_matches('\'').starts_with("0000-00-00")
}

/// A quoted date and time with a zone offset (`'2000-01-01 00:00:00+02:00'`, `...Z`) as the
/// same instant in UTC without the offset, which MySQL refuses in a default; `None` when the
/// literal has no offset or is not a date and time.
fn utc_literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?.trim();
    let (date, time) = inner.split_once([' ', 'T'])?;
    let (clock, offset_minutes) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
        let (hours, minutes) = match digits.len() {
            2 => (digits.parse::<i64>().ok()?, 0),
            4 => (
                digits[..2].parse::<i64>().ok()?,
                digits[2..].parse::<i64>().ok()?,
            ),
            _ => return None,
        };
        (clock, sign * (hours * 60 + minutes))
    };
    let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    let mut parts = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute) = (parts.next()??, parts.next()??);
    let second = parts.next().flatten().unwrap_or(0);
    let minutes = days_from_civil(year, month, day) * 1440 + hour * 60 + minute - offset_minutes;
    let (y, m, d) = civil_from_days(minutes.div_euclid(1440));
    let of_day = minutes.rem_euclid(1440);
    let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
    Some(format!(
        "'{y:04}-{m:02}-{d:02} {:02}:{:02}:{second:02}{fraction}'",
        of_day / 60,
        of_day % 60
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day number from [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The list of columns of a key or index, quoted. MySQL indexes a `text`, `json` or `blob`
/// column by a 255-character prefix, as it cannot index them whole; a column in a primary,
/// unique or foreign key is never one of those, since [`Naming`] gives it a `varchar`.
pub(crate) fn key_columns(
    dialect: SqlDialect,
    names: &Naming,
    entity: &Entity,
    columns: &[String],
) -> String {
    columns
        .iter()
        .map(|c| {
            let quoted = quote_ident(dialect, c);
            let long = entity.attribute(c).is_some_and(|a| {
                let declared = names
                    .column_type_of(dialect, entity, a)
                    .to_ascii_lowercase();
                let base = declared.split(['(', ' ']).next().unwrap_or("");
                matches!(
                    base,
                    "text"
                        | "tinytext"
                        | "mediumtext"
                        | "longtext"
                        | "json"
                        | "blob"
                        | "tinyblob"
                        | "mediumblob"
                        | "longblob"
                )
            });
            if dialect == SqlDialect::Mysql && long {
                format!("{quoted}(255)")
            } else {
                quoted
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key parts of a MySQL index that is not unique: [`key_columns`], and when the parts
/// need more than InnoDB's 3,072 bytes, each `varchar` longer than 255 characters cut to the
/// same 255-character prefix as a `text`. A plain index only finds rows, so a prefix loses
/// nothing; a unique one is sized by `Naming` instead.
fn mysql_plain_index_columns(names: &Naming, entity: &Entity, columns: &[String]) -> String {
    let dialect = SqlDialect::Mysql;
    let long_varchar = |c: &String| {
        entity.attribute(c).and_then(|a| {
            let declared = names
                .column_type_of(dialect, entity, a)
                .to_ascii_lowercase();
            let bytes = mysql_key_bytes(&declared);
            (declared.starts_with("varchar(") && bytes > 255 * 4).then_some(bytes)
        })
    };
    let whole = key_columns(dialect, names, entity, columns);
    let bytes: u32 = columns
        .iter()
        .map(|c| match long_varchar(c) {
            Some(bytes) => bytes,
            None if key_columns(dialect, names, entity, std::slice::from_ref(c))
                .ends_with("(255)") =>
            {
                255 * 4
            }
            None => entity.attribute(c).map_or(16, |a| {
                mysql_key_bytes(&names.column_type_of(dialect, entity, a))
            }),
        })
        .fold(0, u32::saturating_add);
    if bytes <= 3072 {
        return whole;
    }
    columns
        .iter()
        .map(|c| match long_varchar(c) {
            Some(_) => format!("{}(255)", quote_ident(dialect, c)),
            None => key_columns(dialect, names, entity, std::slice::from_ref(c)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn plain_columns(dialect: SqlDialect, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(dialect, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The unique constraint clause for `columns` of `entity` (without a trailing comma).
pub(crate) fn unique_clause(
    dialect: SqlDialect,
    names: &Naming,
    entity: &Entity,
    columns: &[String],
) -> String {
    let name = quote_ident(dialect, &names.unique_name(entity, columns));
    let cols = key_columns(dialect, names, entity, columns);
    match dialect {
        SqlDialect::Mysql => format!("UNIQUE KEY {name} ({cols})"),
        SqlDialect::Postgres | SqlDialect::Sqlite => format!("CONSTRAINT {name} UNIQUE ({cols})"),
    }
}

/// The primary key clause of `entity` (without a trailing comma).
pub(crate) fn primary_key_clause(dialect: SqlDialect, names: &Naming, entity: &Entity) -> String {
    let cols = key_columns(dialect, names, entity, &entity.primary_key);
    match dialect {
        SqlDialect::Postgres => format!(
            "CONSTRAINT {} PRIMARY KEY ({cols})",
            quote_ident(dialect, &pk_name(&entity.name))
        ),
        SqlDialect::Mysql | SqlDialect::Sqlite => format!("PRIMARY KEY ({cols})"),
    }
}

/// The foreign key clause of relationship `ri` (without a trailing comma).
pub(crate) fn foreign_key_clause(
    model: &Model,
    ri: usize,
    dialect: SqlDialect,
    names: &Naming,
) -> String {
    let Some(rel) = model.relationships.get(ri) else {
        return String::new();
    };
    let target = names
        .end_entity(model, ri, |(_, to)| to, &rel.to_entity)
        .map(|e| e.name.as_str())
        .unwrap_or(&rel.to_entity);
    let mut out = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        quote_ident(dialect, names.fk(ri)),
        plain_columns(dialect, &rel.from_attributes),
        quote_ident(dialect, target),
        plain_columns(dialect, &rel.to_attributes)
    );
    out.push_str(match rel.on_delete {
        OnDelete::NoAction => "",
        OnDelete::Restrict => " ON DELETE RESTRICT",
        OnDelete::Cascade => " ON DELETE CASCADE",
        OnDelete::SetNull => " ON DELETE SET NULL",
    });
    out
}

/// `ALTER TABLE ... ADD` of relationship `ri`'s foreign key (PostgreSQL and MySQL).
pub(crate) fn add_foreign_key(
    model: &Model,
    ri: usize,
    dialect: SqlDialect,
    names: &Naming,
) -> String {
    let Some(rel) = model.relationships.get(ri) else {
        return String::new();
    };
    let table = names
        .end_entity(model, ri, |(from, _)| from, &rel.from_entity)
        .map(|e| e.name.as_str())
        .unwrap_or(&rel.from_entity);
    format!(
        "ALTER TABLE {} ADD {};\n",
        quote_ident(dialect, table),
        foreign_key_clause(model, ri, dialect, names)
    )
}

/// `CREATE [UNIQUE] INDEX` for one index of `entity`, under the name [`Naming`] gives it;
/// `table` overrides the table name (the SQLite rebuild creates indexes on the rebuilt table
/// under its final name anyway).
pub(crate) fn create_index(
    dialect: SqlDialect,
    names: &Naming,
    entity: &Entity,
    index: &Index,
    table: Option<&str>,
) -> String {
    let key = match (&index.expression, dialect) {
        // MariaDB cannot index an expression (warned as lost by `Naming`).
        (Some(_), SqlDialect::Mysql) => return String::new(),
        (Some(expression), _) => expression.clone(),
        (None, SqlDialect::Mysql) if !index.unique => {
            mysql_plain_index_columns(names, entity, &index.attributes)
        }
        (None, _) => key_columns(dialect, names, entity, &index.attributes),
    };
    format!(
        "CREATE {}INDEX {} ON {} ({key});\n",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(dialect, names.index_name(&entity.name, &index.name)),
        quote_ident(dialect, table.unwrap_or(&entity.name)),
    )
}

/// The whole `CREATE TABLE` of entity `ei` with the foreign keys `inline` (relationship
/// indexes), preceded by its PostgreSQL enum types and followed by its comments. `table`
/// overrides the table name, for the SQLite rebuild's temporary table.
pub(crate) fn create_table(
    model: &Model,
    ei: usize,
    dialect: SqlDialect,
    names: &Naming,
    inline: &[usize],
    table: Option<&str>,
) -> String {
    let Some(entity) = model.entities.get(ei) else {
        return String::new();
    };
    let name = quote_ident(dialect, table.unwrap_or(&entity.name));
    let mut out = create_enum_types(dialect, names, entity);
    if dialect == SqlDialect::Postgres && entity.attributes.iter().any(is_case_insensitive_text) {
        out.push_str(PG_CASE_INSENSITIVE);
    }
    if dialect == SqlDialect::Sqlite && !entity.description.is_empty() {
        let _ = writeln!(out, "-- {}", one_line(&entity.description));
    }
    // Each item is (definition, comment); SQLite comments go after the separating comma.
    let mut items: Vec<(String, Option<String>)> = Vec::new();
    for attr in &entity.attributes {
        let comment = (dialect == SqlDialect::Sqlite && !attr.description.is_empty())
            .then(|| one_line(&attr.description));
        items.push((column_definition(dialect, names, entity, attr), comment));
    }
    if !entity.primary_key.is_empty() && !sqlite_inline_key(dialect, entity) {
        items.push((primary_key_clause(dialect, names, entity), None));
    }
    for (ui, unique) in entity.unique.iter().enumerate() {
        // A second unique key over the same columns adds nothing, and MySQL refuses its name.
        let same = |earlier: &Vec<String>| {
            earlier.len() == unique.len()
                && earlier
                    .iter()
                    .zip(unique)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        };
        if !entity.unique[..ui].iter().any(same) {
            items.push((unique_clause(dialect, names, entity, unique), None));
        }
    }
    for &ri in inline {
        items.push((foreign_key_clause(model, ri, dialect, names), None));
    }
    let _ = writeln!(out, "CREATE TABLE {name} (");
    let last = items.len().saturating_sub(1);
    for (i, (item, comment)) in items.iter().enumerate() {
        out.push_str("    ");
        out.push_str(item);
        if i != last {
            out.push(',');
        }
        if let Some(comment) = comment {
            let _ = write!(out, " -- {comment}");
        }
        out.push('\n');
    }
    out.push(')');
    if dialect == SqlDialect::Mysql {
        out.push_str(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        if !entity.description.is_empty() {
            let _ = write!(
                out,
                " COMMENT={}",
                string_literal(dialect, &limit_chars(&entity.description, 2048))
            );
        }
    }
    out.push_str(";\n");
    if dialect == SqlDialect::Postgres {
        out.push_str(&pg_comments(entity, table));
    }
    out
}

/// PostgreSQL `COMMENT ON` statements for a table and its columns.
pub(crate) fn pg_comments(entity: &Entity, table: Option<&str>) -> String {
    let dialect = SqlDialect::Postgres;
    let name = quote_ident(dialect, table.unwrap_or(&entity.name));
    let mut out = String::new();
    if !entity.description.is_empty() {
        let _ = writeln!(
            out,
            "COMMENT ON TABLE {name} IS {};",
            string_literal(dialect, &entity.description)
        );
    }
    for attr in &entity.attributes {
        if !attr.description.is_empty() {
            let _ = writeln!(
                out,
                "COMMENT ON COLUMN {name}.{} IS {};",
                quote_ident(dialect, &attr.name),
                string_literal(dialect, &attr.description)
            );
        }
    }
    out
}

/// A description on one line, for a `-- ` comment.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_reserved(dialect: SqlDialect, name: &str) -> bool {
    // Every identifier of a script is checked: the lists are read into sets once, rather than
    // split and scanned word by word for each identifier.
    static WORDS: OnceLock<[HashSet<&'static str>; 3]> = OnceLock::new();
    let words = WORDS.get_or_init(|| {
        [POSTGRES_RESERVED, MYSQL_RESERVED, SQLITE_KEYWORDS]
            .map(|list| list.split_ascii_whitespace().collect())
    });
    let list = match dialect {
        SqlDialect::Postgres => &words[0],
        SqlDialect::Mysql => &words[1],
        SqlDialect::Sqlite => &words[2],
    };
    list.contains(name.to_ascii_uppercase().as_str())
}

/// PostgreSQL's reserved key words (the "reserved" and "reserved (can be function or type)"
/// rows of the manual's key word appendix).
const POSTGRES_RESERVED: &str = "\
    ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC AUTHORIZATION BINARY BOTH CASE CAST \
    CHECK COLLATE COLLATION COLUMN CONCURRENTLY CONSTRAINT CREATE CROSS CURRENT_CATALOG \
    CURRENT_DATE CURRENT_ROLE CURRENT_SCHEMA CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER \
    DEFAULT DEFERRABLE DESC DISTINCT DO ELSE END EXCEPT FALSE FETCH FOR FOREIGN FREEZE FROM \
    FULL GRANT GROUP HAVING ILIKE IN INITIALLY INNER INTERSECT INTO IS ISNULL JOIN LATERAL \
    LEADING LEFT LIKE LIMIT LOCALTIME LOCALTIMESTAMP NATURAL NOT NOTNULL NULL OFFSET ON ONLY \
    OR ORDER OUTER OVERLAPS PLACING PRIMARY REFERENCES RETURNING RIGHT SELECT SESSION_USER \
    SIMILAR SOME SYMMETRIC SYSTEM_USER TABLE TABLESAMPLE THEN TO TRAILING TRUE UNION UNIQUE \
    USER USING VARIADIC VERBOSE WHEN WHERE WINDOW WITH";

/// MySQL 8 and MariaDB reserved words.
const MYSQL_RESERVED: &str = "\
    ACCESSIBLE ADD ALL ALTER ANALYZE AND AS ASC ASENSITIVE BEFORE BETWEEN BIGINT BINARY BLOB \
    BOTH BY CALL CASCADE CASE CHANGE CHAR CHARACTER CHECK COLLATE COLUMN CONDITION CONSTRAINT \
    CONTINUE CONVERT CREATE CROSS CUBE CUME_DIST CURRENT_DATE CURRENT_ROLE CURRENT_TIME \
    CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DATABASES DAY_HOUR DAY_MICROSECOND \
    DAY_MINUTE DAY_SECOND DEC DECIMAL DECLARE DEFAULT DELAYED DELETE DELETE_DOMAIN_ID \
    DENSE_RANK DESC DESCRIBE DETERMINISTIC DISTINCT DISTINCTROW DIV DOUBLE DO_DOMAIN_IDS DROP \
    DUAL EACH ELSE ELSEIF EMPTY ENCLOSED ESCAPED EXCEPT EXISTS EXIT EXPLAIN FALSE FETCH \
    FIRST_VALUE FLOAT FLOAT4 FLOAT8 FOR FORCE FOREIGN FROM FULLTEXT FUNCTION GENERAL GENERATED \
    GET GRANT GROUP GROUPING GROUPS HAVING HIGH_PRIORITY HOUR_MICROSECOND HOUR_MINUTE \
    HOUR_SECOND IF IGNORE IGNORE_DOMAIN_IDS IGNORE_SERVER_IDS IN INDEX INFILE INNER INOUT \
    INSENSITIVE INSERT INT INT1 INT2 INT3 INT4 INT8 INTEGER INTERSECT INTERVAL INTO \
    IO_AFTER_GTIDS IO_BEFORE_GTIDS IS ITERATE JOIN JSON_TABLE KEY KEYS KILL LAG LAST_VALUE \
    LATERAL LEAD LEADING LEAVE LEFT LIKE LIMIT LINEAR LINES LOAD LOCALTIME LOCALTIMESTAMP LOCK \
    LONG LONGBLOB LONGTEXT LOOP LOW_PRIORITY MASTER_BIND MASTER_HEARTBEAT_PERIOD \
    MASTER_SSL_VERIFY_SERVER_CERT MATCH MAXVALUE MEDIUMBLOB MEDIUMINT MEDIUMTEXT MIDDLEINT \
    MINUTE_MICROSECOND MINUTE_SECOND MOD MODIFIES NATURAL NOT NO_WRITE_TO_BINLOG NTH_VALUE \
    NTILE NULL NUMERIC OF OFFSET ON OPTIMIZE OPTIMIZER_COSTS OPTION OPTIONALLY OR ORDER OUT \
    OUTER OUTFILE OVER PAGE_CHECKSUM PARSE_VCOL_EXPR PARTITION PERCENT_RANK POSITION PRECISION \
    PRIMARY PROCEDURE PURGE RANGE RANK READ READS READ_WRITE REAL RECURSIVE REFERENCES \
    REF_SYSTEM_ID REGEXP RELEASE RENAME REPEAT REPLACE REQUIRE RESIGNAL RESTRICT RETURN \
    RETURNING REVOKE RIGHT RLIKE ROW ROWNUM ROWS ROW_NUMBER SCHEMA SCHEMAS SECOND_MICROSECOND \
    SELECT SENSITIVE SEPARATOR SET SHOW SIGNAL SLOW SMALLINT SPATIAL SPECIFIC SQL SQLEXCEPTION \
    SQLSTATE SQLWARNING SQL_BIG_RESULT SQL_CALC_FOUND_ROWS SQL_SMALL_RESULT SSL STARTING \
    STATS_AUTO_RECALC STATS_PERSISTENT STATS_SAMPLE_PAGES STORED STRAIGHT_JOIN SYSTEM TABLE \
    TERMINATED THEN TINYBLOB TINYINT TINYTEXT TO TRAILING TRIGGER TRUE UNDO UNION UNIQUE \
    UNLOCK UNSIGNED UPDATE USAGE USE USING UTC_DATE UTC_TIME UTC_TIMESTAMP VALUES VARBINARY \
    VARCHAR VARCHARACTER VARYING VIRTUAL WHEN WHERE WHILE WINDOW WITH WRITE XOR YEAR_MONTH \
    ZEROFILL";

/// SQLite's key words (all of them: SQLite lets some be names, but only in some places).
const SQLITE_KEYWORDS: &str = "\
    ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE \
    BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE \
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE \
    DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE \
    EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP \
    GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD \
    INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT \
    NOTHING NOTNULL NULL NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA \
    PRECEDING PRIMARY QUERY RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME \
    REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP \
    TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM \
    VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};
    use crate::types::Relationship;

    #[test]
    fn reserved_word_lists_are_upper_case_words() {
        for list in [POSTGRES_RESERVED, MYSQL_RESERVED, SQLITE_KEYWORDS] {
            assert!(list.split_ascii_whitespace().count() > 90);
            for word in list.split_ascii_whitespace() {
                assert!(
                    word.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                    "{word}"
                );
            }
        }
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        use SqlDialect::{Mysql, Postgres, Sqlite};
        let check = |dialect: SqlDialect, name: &str, expected: &str| {
            assert_eq!(quote_ident(dialect, name), expected, "{dialect} {name}");
        };
        check(Postgres, "book", "book");
        check(Postgres, "Book", "\"Book\"");
        check(Postgres, "user", "\"user\"");
        check(Postgres, "order", "\"order\"");
        check(Postgres, "name", "name");
        check(Postgres, "before", "before");
        check(Postgres, "a\"b", "\"a\"\"b\"");
        check(Postgres, "1st", "\"1st\"");
        check(Postgres, "", "\"\"");
        check(Mysql, "Book", "Book");
        check(Mysql, "before", "`before`");
        check(Mysql, "key", "`key`");
        check(Mysql, "a`b c", "`a``b c`");
        check(Sqlite, "Book", "Book");
        check(Sqlite, "action", "\"action\"");
        check(Sqlite, "after", "\"after\"");
        check(Sqlite, "full name", "\"full name\"");
        check(Sqlite, "née", "\"née\"");
        check(Postgres, &"a".repeat(70), &"a".repeat(63));
    }

    #[test]
    fn column_types_per_dialect() {
        let check = |raw: &str, pg: &str, my: &str, lite: &str| {
            let t = LogicalType::parse(raw);
            assert_eq!(column_type(SqlDialect::Postgres, &t), pg, "postgres {raw}");
            assert_eq!(column_type(SqlDialect::Mysql, &t), my, "mysql {raw}");
            assert_eq!(column_type(SqlDialect::Sqlite, &t), lite, "sqlite {raw}");
        };
        check("string(40)", "varchar(40)", "varchar(40)", "varchar(40)");
        check("string", "varchar", "varchar(255)", "varchar");
        check("text", "text", "text", "text");
        check("integer", "integer", "int", "integer");
        check("bigint", "bigint", "bigint", "bigint");
        check(
            "decimal(12,2)",
            "numeric(12,2)",
            "decimal(12,2)",
            "numeric(12,2)",
        );
        check("float", "double precision", "double", "real");
        check("boolean", "boolean", "boolean", "boolean");
        check("date", "date", "date", "date");
        check("time", "time", "time", "time");
        check("timestamp", "timestamp", "datetime", "timestamp");
        check("timestamptz", "timestamptz", "timestamp", "timestamptz");
        check("uuid", "uuid", "char(36)", "text");
        check("json", "jsonb", "json", "text");
        check("bytes", "bytea", "longblob", "blob");
        check("enum(a,it's)", "text", "enum('a','it''s')", "text");
        check("geometry", "text", "text", "text");
    }

    #[test]
    fn defaults_per_dialect() {
        let check =
            |raw: &str, ty: &str, pg: Option<&str>, my: Option<&str>, lite: Option<&str>| {
                let t = LogicalType::parse(ty);
                assert_eq!(
                    default_sql(SqlDialect::Postgres, raw, &t).as_deref(),
                    pg,
                    "pg {raw}"
                );
                assert_eq!(
                    default_sql(SqlDialect::Mysql, raw, &t).as_deref(),
                    my,
                    "mysql {raw}"
                );
                assert_eq!(
                    default_sql(SqlDialect::Sqlite, raw, &t).as_deref(),
                    lite,
                    "sqlite {raw}"
                );
            };
        let s = Some;
        check(
            "now()",
            "timestamptz",
            s("now()"),
            s("CURRENT_TIMESTAMP"),
            s("CURRENT_TIMESTAMP"),
        );
        check(
            "CURRENT_TIMESTAMP",
            "timestamp",
            s("CURRENT_TIMESTAMP"),
            s("CURRENT_TIMESTAMP"),
            s("CURRENT_TIMESTAMP"),
        );
        check(
            "current_date",
            "date",
            s("CURRENT_DATE"),
            s("(curdate())"),
            s("CURRENT_DATE"),
        );
        check(
            "gen_random_uuid()",
            "uuid",
            s("gen_random_uuid()"),
            s("(uuid())"),
            None,
        );
        check("true", "boolean", s("true"), s("1"), s("1"));
        // MySQL and SQLite write booleans as numbers; PostgreSQL refuses a number.
        check("0", "boolean", s("false"), s("0"), s("0"));
        check("'1'", "boolean", s("true"), s("1"), s("1"));
        check("b'1'", "boolean", s("true"), s("1"), s("1"));
        check("'f'", "boolean", s("false"), s("0"), s("0"));
        // MySQL refuses a zone offset in a default: the same instant in UTC.
        check(
            "'2000-01-01 01:30:00+02:00'",
            "timestamptz",
            s("'2000-01-01 01:30:00+02:00'"),
            s("'1999-12-31 23:30:00'"),
            s("'2000-01-01 01:30:00+02:00'"),
        );
        check(
            "'2000-01-01 00:00:00'",
            "timestamp",
            s("'2000-01-01 00:00:00'"),
            s("'2000-01-01 00:00:00'"),
            s("'2000-01-01 00:00:00'"),
        );
        check(
            "'0000-00-00 00:00:00'",
            "timestamp",
            None,
            s("'0000-00-00 00:00:00'"),
            None,
        );
        check("0", "integer", s("0"), s("0"), s("0"));
        check("-1.5", "float", s("-1.5"), s("-1.5"), s("-1.5"));
        check("'new'", "string(10)", s("'new'"), s("'new'"), s("'new'"));
        check(
            "active",
            "enum(active,closed)",
            s("'active'"),
            s("'active'"),
            s("'active'"),
        );
        check(
            "lower('X')",
            "text",
            s("lower('X')"),
            s("(lower('X'))"),
            s("(lower('X'))"),
        );
        check("  ", "text", None, None, None);
    }

    #[test]
    fn zone_offsets_become_utc() {
        let check = |input: &str, expected: Option<&str>| {
            assert_eq!(utc_literal(input).as_deref(), expected, "{input}");
        };
        check("'2000-01-01 00:00:00+00:00'", Some("'2000-01-01 00:00:00'"));
        check("'2000-03-01T00:30:00Z'", Some("'2000-03-01 00:30:00'"));
        check("'2000-03-01 00:30:00+01'", Some("'2000-02-29 23:30:00'"));
        check(
            "'2023-12-31 22:00:00.25-0230'",
            Some("'2024-01-01 00:30:00.25'"),
        );
        check("'2000-01-01 00:00:00'", None);
        check("'2000-01-01'", None);
        check("'soon'", None);
        for days in [-719468, -1, 0, 11016, 2932896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    /// The warnings as `place: kind: message` lines.
    fn warnings(model: &Model, dialect: SqlDialect) -> Vec<String> {
        ddl_with_warnings(model, dialect)
            .1
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn model_of(json: &str) -> Model {
        serde_json::from_str(json).expect("the test model parses")
    }

    #[test]
    fn index_names_are_made_unique_per_schema() {
        let model = model_of(
            r#"{"entities":[
                {"name":"a","attributes":[{"name":"u","type":"integer"}],
                 "indexes":[{"name":"u_idx","attributes":["u"]}]},
                {"name":"b","attributes":[{"name":"u","type":"integer"}],
                 "indexes":[{"name":"u_idx","attributes":["u"]},{"name":"a","attributes":["u"]}]}]}"#,
        );
        let pg = ddl(&model, SqlDialect::Postgres);
        assert!(pg.contains("CREATE INDEX u_idx ON a (u);"), "{pg}");
        assert!(pg.contains("CREATE INDEX b_u_idx ON b (u);"), "{pg}");
        assert!(pg.contains("CREATE INDEX b_a ON b (u);"), "{pg}");
        assert_eq!(
            warnings(&model, SqlDialect::Sqlite),
            [
                "b: changed: index u_idx is named b_u_idx: SQLite keeps index names per schema, and the name is taken",
                "b: changed: index a is named b_a: SQLite keeps index names per schema, and the name is taken",
            ]
        );
        // MySQL keeps index names per table.
        assert!(ddl(&model, SqlDialect::Mysql).contains("CREATE INDEX u_idx ON b (u);"));
        assert!(warnings(&model, SqlDialect::Mysql).is_empty());
    }

    #[test]
    fn mysql_text_keys_are_sized_to_fit() {
        let model = model_of(
            r#"{"entities":[
                {"name":"r","attributes":[{"name":"id","type":"text"}],"primary_key":["id"]},
                {"name":"pair","attributes":[{"name":"a","type":"text"},{"name":"b","type":"text"},
                  {"name":"n","type":"bigint"},{"name":"blob","type":"bytes"},{"name":"notes","type":"text"}],
                 "unique":[["a","b","n"],["blob"]],
                 "indexes":[{"name":"pair_notes","attributes":["notes"]}]},
                {"name":"s","attributes":[{"name":"r_id","type":"text"}]}],
              "relationships":[{"from_entity":"s","from_attributes":["r_id"],"to_entity":"r",
                "to_attributes":["id"],"cardinality":"N:1"}]}"#,
        );
        let my = ddl(&model, SqlDialect::Mysql);
        for line in [
            "    id varchar(768) NOT NULL,",
            // (3072 - 16 bytes of the bigint) / 2 columns / 4 bytes a character.
            "    a varchar(382) NOT NULL,",
            "    b varchar(382) NOT NULL,",
            "    `blob` varbinary(3072) NOT NULL,",
            "    notes text NOT NULL,",
            "    r_id varchar(768) NOT NULL,",
            "CREATE INDEX pair_notes ON pair (notes(255));",
            "    PRIMARY KEY (id)",
        ] {
            assert!(my.contains(line), "{line}\n{my}");
        }
        assert_eq!(
            warnings(&model, SqlDialect::Mysql),
            [
                "r.id: lost: text in a key is varchar(768) in MySQL, which keys only a prefix of unbounded values: longer values are refused",
                "pair.a: lost: text in a key is varchar(382) in MySQL, which keys only a prefix of unbounded values: longer values are refused",
                "pair.b: lost: text in a key is varchar(382) in MySQL, which keys only a prefix of unbounded values: longer values are refused",
                "pair.blob: lost: bytes in a key is varbinary(3072) in MySQL, which keys only a prefix of unbounded values: longer values are refused",
                "s.r_id: changed: text is written as varchar(768), the type of r.id, which it references",
            ]
        );
        assert!(warnings(&model, SqlDialect::Postgres).is_empty());
    }

    #[test]
    fn referencing_columns_follow_chains_of_keys() {
        let model = model_of(
            r#"{"entities":[
                {"name":"a","attributes":[{"name":"id","type":"bigint"}],"primary_key":["id"]},
                {"name":"b","attributes":[{"name":"a_id","type":"integer"}],"primary_key":["a_id"]},
                {"name":"c","attributes":[{"name":"b_id","type":"string(10)"}]}],
              "relationships":[
                {"from_entity":"c","from_attributes":["b_id"],"to_entity":"b","to_attributes":["a_id"],"cardinality":"N:1"},
                {"from_entity":"b","from_attributes":["a_id"],"to_entity":"a","to_attributes":["id"],"cardinality":"1:1"}]}"#,
        );
        let my = ddl(&model, SqlDialect::Mysql);
        assert!(my.contains("    a_id bigint NOT NULL,"), "{my}");
        assert!(my.contains("    b_id bigint NOT NULL,"), "{my}");
        assert_eq!(
            warnings(&model, SqlDialect::Mysql),
            [
                "b.a_id: changed: integer is written as bigint, the type of a.id, which it references",
                "c.b_id: changed: string(10) is written as bigint, the type of b.a_id, which it references",
            ]
        );
    }

    /// PowerDNS declares `VARCHAR(64000)` (MySQL, latin1) and `VARCHAR(65535)` (PostgreSQL,
    /// SQLite); MariaDB refuses a `utf8mb4` varchar over 16,383 characters (ERROR 1074).
    #[test]
    fn regression_mysql_varchar_longer_than_a_row_is_a_text_type() {
        let model = model_of(
            r#"{"entities":[{"name":"t","attributes":[
                {"name":"fits","type":"string(16383)"},
                {"name":"content","type":"string(65535)"},
                {"name":"huge","type":"string(5000000)"}]}]}"#,
        );
        let sql = ddl(&model, SqlDialect::Mysql);
        assert!(sql.contains("fits varchar(16383)"), "{sql}");
        assert!(sql.contains("content mediumtext"), "{sql}");
        assert!(sql.contains("huge longtext"), "{sql}");
        assert_eq!(
            warnings(&model, SqlDialect::Mysql),
            [
                "t.content: lost: string(65535) is longer than MySQL's varchar allows (16383 characters): written as mediumtext, which does not limit the length",
                "t.huge: lost: string(5000000) is longer than MySQL's varchar allows (16383 characters): written as longtext, which does not limit the length",
            ]
        );
        for dialect in [SqlDialect::Postgres, SqlDialect::Sqlite] {
            assert!(ddl(&model, dialect).contains("content varchar(65535)"));
            assert!(warnings(&model, dialect).is_empty());
        }
    }

    /// A mutated Synapse schema indexed `(origin text, message_id varchar(4000))`: MariaDB
    /// refused the index (ERROR 1071, key longer than 3,072 bytes).
    #[test]
    fn regression_mysql_plain_index_over_long_varchar_is_a_prefix() {
        let model = model_of(
            r#"{"entities":[{"name":"inbox","attributes":[
                {"name":"origin","type":"text"},
                {"name":"message_id","type":"string(4000)"},
                {"name":"code","type":"string(300)"}],
              "indexes":[
                {"name":"inbox_sender","attributes":["origin","message_id"]},
                {"name":"inbox_code","attributes":["code"]}]}]}"#,
        );
        let sql = ddl(&model, SqlDialect::Mysql);
        assert!(
            sql.contains("inbox_sender ON inbox (origin(255), message_id(255))"),
            "{sql}"
        );
        assert!(sql.contains("inbox_code ON inbox (code)"), "{sql}");
    }

    #[test]
    fn what_a_dialect_cannot_express_is_a_lost_warning() {
        let model = model_of(
            r#"{"entities":[{"name":"t","attributes":[
                {"name":"at","type":"timestamptz"},
                {"name":"code","type":"string"},
                {"name":"shape","type":"cube"},
                {"name":"id","type":"uuid","default":"gen_random_uuid()"}]}]}"#,
        );
        assert_eq!(
            warnings(&model, SqlDialect::Mysql),
            [
                "t.at: lost: timestamptz is timestamp in MySQL: stored in UTC without the zone, and only from 1970 to 2038",
                "t.code: lost: string without a length is varchar(255) in MySQL, which needs a length",
                "t.shape: lost: type cube is not a type the model knows: written as text",
            ]
        );
        assert_eq!(
            warnings(&model, SqlDialect::Sqlite),
            [
                "t.shape: lost: type cube is not a type the model knows: written as text",
                "t.id: lost: default gen_random_uuid() has no SQLite equivalent: left out",
            ]
        );
        let summary =
            crate::export::warning_summary(&ddl_with_warnings(&model, SqlDialect::Mysql).1);
        assert_eq!(
            summary.as_deref(),
            Some("3 export warnings: 3 lost, 0 changed")
        );
        assert_eq!(crate::export::warning_summary(&[]), None);
    }

    #[test]
    fn auto_numbering_per_dialect() {
        let model = model_of(
            r#"{"entities":[
                {"name":"t","attributes":[{"name":"id","type":"bigint","auto_increment":true},
                  {"name":"n","type":"integer","auto_increment":true,"default":"0"}],
                 "primary_key":["id"]},
                {"name":"c","attributes":[{"name":"a","type":"integer"},
                  {"name":"b","type":"integer","auto_increment":true}],"primary_key":["a","b"]}]}"#,
        );
        let pg = ddl(&model, SqlDialect::Postgres);
        assert!(
            pg.contains("    id bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY,"),
            "{pg}"
        );
        assert!(
            pg.contains("    n integer NOT NULL GENERATED BY DEFAULT AS IDENTITY,"),
            "{pg}"
        );
        let my = ddl(&model, SqlDialect::Mysql);
        assert!(
            my.contains("    id bigint NOT NULL AUTO_INCREMENT,"),
            "{my}"
        );
        assert!(my.contains("    n int NOT NULL DEFAULT 0,"), "{my}");
        assert!(my.contains("    b int NOT NULL,"), "{my}");
        let lite = ddl(&model, SqlDialect::Sqlite);
        assert!(
            lite.contains("    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,"),
            "{lite}"
        );
        assert!(!lite.contains("PRIMARY KEY (id)"), "{lite}");
        assert_eq!(
            warnings(&model, SqlDialect::Postgres),
            ["t.n: lost: default 0 is left out: the column numbers its rows"]
        );
        assert_eq!(
            warnings(&model, SqlDialect::Mysql),
            [
                "t.n: lost: auto-numbering is left out: MySQL numbers rows only in one column a table, and it must start a key",
                "c.b: lost: auto-numbering is left out: MySQL numbers rows only in one column a table, and it must start a key",
            ]
        );
        assert_eq!(
            warnings(&model, SqlDialect::Sqlite),
            [
                "t.id: changed: bigint is INTEGER (64 bits) in SQLite, which numbers rows only in an INTEGER PRIMARY KEY",
                "t.n: lost: auto-numbering is left out: SQLite numbers rows only in a single-column INTEGER PRIMARY KEY",
                "c.b: lost: auto-numbering is left out: SQLite numbers rows only in a single-column INTEGER PRIMARY KEY",
            ]
        );
    }

    /// Found by the longer cross-dialect run (seeds 25, 30): a unique key and a foreign key over
    /// the same long column list were both cut to the same 63 bytes.
    #[test]
    fn long_unique_and_foreign_key_names_stay_distinct() {
        let long = "a_rather_long_column_name_that_repeats";
        let model = model_of(&format!(
            r#"{{"entities":[
                {{"name":"target","attributes":[{{"name":"id","type":"integer"}},{{"name":"id2","type":"integer"}}],
                  "primary_key":["id","id2"]}},
                {{"name":"source_table","attributes":[{{"name":"{long}_1","type":"integer"}},{{"name":"{long}_2","type":"integer"}}],
                  "unique":[["{long}_1","{long}_2"]]}}],
              "relationships":[{{"from_entity":"source_table","from_attributes":["{long}_1","{long}_2"],
                "to_entity":"target","to_attributes":["id","id2"],"cardinality":"1:1"}}]}}"#
        ));
        let pg = ddl(&model, SqlDialect::Postgres);
        let unique = format!("CONSTRAINT source_table_{long}_1_{long}_2_key");
        let cut_unique = cut(&unique["CONSTRAINT ".len()..]);
        assert!(
            pg.contains(&format!("CONSTRAINT {cut_unique} UNIQUE")),
            "{pg}"
        );
        let fk_line = pg
            .lines()
            .find(|l| l.contains("FOREIGN KEY"))
            .unwrap_or_default();
        assert!(
            !fk_line.contains(&format!("CONSTRAINT {cut_unique} ")),
            "{pg}"
        );
    }

    /// Found by the longer cross-dialect run (seed 39): the same unique key twice, which MySQL
    /// refused by its name; and an index named like a unique key of its table.
    #[test]
    fn duplicate_unique_keys_are_written_once_and_index_names_avoid_key_names() {
        let model = model_of(
            r#"{"entities":[{"name":"t","attributes":[{"name":"c","type":"integer"}],
                "unique":[["c"],["C"]],"indexes":[{"name":"t_c_key","attributes":["c"]}]}]}"#,
        );
        let my = ddl(&model, SqlDialect::Mysql);
        assert_eq!(my.matches("UNIQUE KEY").count(), 1, "{my}");
        assert!(my.contains("CREATE INDEX t_c_key_idx ON t (c);"), "{my}");
        assert_eq!(
            warnings(&model, SqlDialect::Mysql),
            ["t: changed: index t_c_key is named t_c_key_idx: a key of the table has its name, and MySQL keeps index and key names together"]
        );
        let pg = ddl(&model, SqlDialect::Postgres);
        assert_eq!(pg.matches(" UNIQUE (").count(), 1, "{pg}");
        assert!(pg.contains("CREATE INDEX t_t_c_key ON t (c);"), "{pg}");
    }

    #[test]
    fn referenced_tables_come_first_and_cycles_are_broken() {
        let mut model = sample();
        model.entities.reverse(); // loan, member, book, author
        let order: Vec<&str> = table_order(&model)
            .into_iter()
            .map(|i| model.entities[i].name.as_str())
            .collect();
        assert_eq!(order, vec!["member", "author", "book", "loan"]);

        // author → book → author: PostgreSQL defers the forward foreign key, SQLite inlines it.
        let mut cyclic = sample();
        cyclic.relationships.push(Relationship {
            name: String::new(),
            from_entity: "author".into(),
            from_attributes: vec!["born_on".into()],
            to_entity: "book".into(),
            to_attributes: vec!["published_on".into()],
            cardinality: Cardinality::OneToOne,
            on_delete: OnDelete::SetNull,
        });
        let pg = ddl(&cyclic, SqlDialect::Postgres);
        assert!(pg.contains(
            "ALTER TABLE author ADD CONSTRAINT author_born_on_fkey FOREIGN KEY (born_on) REFERENCES book (published_on) ON DELETE SET NULL;"
        ), "{pg}");
        let lite = ddl(&cyclic, SqlDialect::Sqlite);
        assert!(lite.contains(
            "    CONSTRAINT author_born_on_fkey FOREIGN KEY (born_on) REFERENCES book (published_on) ON DELETE SET NULL\n"
        ), "{lite}");
        assert!(!lite.contains("ALTER TABLE"));
    }

    /// The table order as first written: at each step, a scan for the first table whose
    /// referenced tables are created, else the first table not created. Quadratic, so kept
    /// here only as the reference the linear [`order_from_ends`] must agree with.
    fn table_order_by_scans(n: usize, ends: &[Option<(usize, usize)>]) -> Vec<usize> {
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(from, to) in ends.iter().flatten() {
            if from != to {
                deps[from].push(to);
            }
        }
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let next = (0..n)
                .find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]))
                .or_else(|| (0..n).find(|&i| !done[i]));
            let Some(i) = next else { break };
            done[i] = true;
            order.push(i);
        }
        order
    }

    #[test]
    fn table_order_agrees_with_the_scans_on_cycles_self_references_and_repeats() {
        // A small linear congruential generator: references in both directions, so cycles of
        // every length, self-references, the same reference twice, and ends left out.
        let mut state: u64 = 2026;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % n
        };
        for n in [0, 1, 2, 3, 5, 8, 13, 40, 120] {
            for density in [0, 1, 2, 4] {
                let ends: Vec<Option<(usize, usize)>> = (0..n * density)
                    .map(|_| (next(5) != 0).then(|| (next(n), next(n))))
                    .collect();
                assert_eq!(
                    order_from_ends(n, &ends),
                    table_order_by_scans(n, &ends),
                    "{n} tables, {ends:?}"
                );
            }
        }
    }

    #[test]
    fn derived_names_are_cut_and_deduplicated() {
        let long = "x".repeat(80);
        assert_eq!(pk_name(&long).len(), MAX_DERIVED_NAME);
        assert_eq!(cut(&"é".repeat(40)).len(), 62);
        let mut model = sample();
        let first = model.relationships[0].clone();
        model.relationships.push(first);
        let names = Naming::new(&model, SqlDialect::Mysql);
        assert_eq!(names.fk(0), "book_author");
        assert_eq!(names.fk(3), "book_author_2");
        let long = format!("{}_x", "r".repeat(70));
        model.relationships[0].name = long.clone();
        model.relationships[1].name = format!("{long}y");
        let names = Naming::new(&model, SqlDialect::Mysql);
        assert_eq!(names.fk(0), "r".repeat(63));
        assert_eq!(names.fk(1), format!("{}_2", "r".repeat(61)));
    }

    #[test]
    fn enum_type_names_avoid_table_names() {
        let mut model = v2();
        model.entities.push(Entity {
            name: "audit_log_action".into(),
            description: String::new(),
            attributes: vec![],
            primary_key: vec![],
            unique: vec![],
            indexes: vec![],
            tags: vec![],
        });
        let names = Naming::new(&model, SqlDialect::Postgres);
        assert_eq!(
            names.enum_type("audit_log", "action"),
            Some("audit_log_action_enum")
        );
        assert_eq!(
            Naming::new(&model, SqlDialect::Mysql).enum_type("audit_log", "action"),
            None
        );
    }

    #[test]
    fn library_v1_postgres() {
        insta::assert_snapshot!(ddl(&sample(), SqlDialect::Postgres));
    }

    #[test]
    fn library_v1_mysql() {
        insta::assert_snapshot!(ddl(&sample(), SqlDialect::Mysql));
    }

    #[test]
    fn library_v1_sqlite() {
        insta::assert_snapshot!(ddl(&sample(), SqlDialect::Sqlite));
    }

    #[test]
    fn library_v2_postgres() {
        insta::assert_snapshot!(ddl(&v2(), SqlDialect::Postgres));
    }

    #[test]
    fn library_v2_mysql() {
        insta::assert_snapshot!(ddl(&v2(), SqlDialect::Mysql));
    }

    #[test]
    fn library_v2_sqlite() {
        insta::assert_snapshot!(ddl(&v2(), SqlDialect::Sqlite));
    }
}
