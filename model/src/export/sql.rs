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
//! Foreign keys come from N:1 and 1:1 relationships (an N:M relationship lives in its join
//! entity, which carries its own N:1 relationships). Tables are ordered so that a referenced
//! table comes first where the references allow it; a foreign key to a table not created yet (a
//! cycle) is added afterwards with `ALTER TABLE ... ADD CONSTRAINT` in PostgreSQL and MySQL,
//! while SQLite keeps every foreign key inline, since it does not check the target exists when
//! the table is created. Descriptions become `COMMENT ON` (PostgreSQL), `COMMENT '...'` (MySQL)
//! and `-- ` comments (SQLite keeps those inside the stored `CREATE TABLE` text). A primary key
//! column is always `NOT NULL`, whatever the model says, as PostgreSQL and MySQL force it.

use crate::dialect::SqlDialect;
use crate::logical_type::LogicalType;
use crate::types::{Attribute, Cardinality, Entity, Index, Model, OnDelete, Relationship};
use std::collections::HashSet;
use std::fmt::Write as _;

/// The longest derived name: PostgreSQL silently cuts names at 63 bytes and MySQL refuses more
/// than 64 characters, so derived names are cut here, where migration can predict them.
const MAX_DERIVED_NAME: usize = 63;

/// Writes `model` as DDL for `dialect`: enum types, tables with their keys, comments and
/// indexes, and foreign keys. The same model always gives the same text.
pub fn ddl(model: &Model, dialect: SqlDialect) -> String {
    let names = Naming::new(model, dialect);
    let mut out = format!("-- {} schema written by Data Modeller\n", dialect.label());
    let order = table_order(model);
    let ends = fk_ends_all(model);
    let mut created: HashSet<usize> = HashSet::new();
    let mut deferred: Vec<usize> = Vec::new();
    for &ei in &order {
        let entity = &model.entities[ei];
        let mut inline = Vec::new();
        for (ri, end) in ends.iter().enumerate() {
            let Some((from, to)) = *end else {
                continue;
            };
            if from != ei {
                continue;
            }
            if dialect == SqlDialect::Sqlite || to == ei || created.contains(&to) {
                inline.push(ri);
            } else {
                deferred.push(ri);
            }
        }
        out.push('\n');
        out.push_str(&create_table(model, ei, dialect, &names, &inline, None));
        created.insert(ei);
        for index in &entity.indexes {
            out.push_str(&create_index(dialect, entity, index, None));
        }
    }
    if !deferred.is_empty() {
        out.push('\n');
        for ri in deferred {
            out.push_str(&add_foreign_key(model, ri, dialect, &names));
        }
    }
    out
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

/// A string literal: quotes doubled, and backslashes doubled for MySQL, whose default SQL mode
/// reads them as escapes.
pub(crate) fn string_literal(dialect: SqlDialect, value: &str) -> String {
    let mut escaped = value.replace('\'', "''");
    if dialect == SqlDialect::Mysql {
        escaped = escaped.replace('\\', "\\\\");
    }
    format!("'{escaped}'")
}

/// Names this exporter gives to things a model leaves unnamed, computed once per model.
pub(crate) struct Naming {
    /// Constraint name of each relationship's foreign key, by relationship index.
    fk: Vec<String>,
    /// PostgreSQL enum type names: (entity, attribute, type name), names lower-cased.
    enums: Vec<(String, String, String)>,
}

impl Naming {
    pub(crate) fn new(model: &Model, dialect: SqlDialect) -> Naming {
        let mut used: HashSet<String> = HashSet::new();
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
        let mut enums = Vec::new();
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
                        enums.push((
                            entity.name.to_ascii_lowercase(),
                            attr.name.to_ascii_lowercase(),
                            name,
                        ));
                    }
                }
            }
        }
        Naming { fk, enums }
    }

    /// The foreign key constraint name of relationship `index`.
    pub(crate) fn fk(&self, index: usize) -> &str {
        self.fk.get(index).map(String::as_str).unwrap_or("fk")
    }

    /// The PostgreSQL enum type of `entity.attribute`, if it has one.
    pub(crate) fn enum_type(&self, entity: &str, attribute: &str) -> Option<&str> {
        self.enums
            .iter()
            .find(|(e, a, _)| e.eq_ignore_ascii_case(entity) && a.eq_ignore_ascii_case(attribute))
            .map(|(_, _, name)| name.as_str())
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

/// The (from, to) entity indexes of a relationship that becomes a foreign key, or `None` for
/// N:M relationships, relationships without attributes and those naming missing entities.
pub(crate) fn fk_ends(model: &Model, rel: &Relationship) -> Option<(usize, usize)> {
    if rel.cardinality == Cardinality::ManyToMany || rel.from_attributes.is_empty() {
        return None;
    }
    let find = |name: &str| {
        model
            .entities
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(name))
    };
    Some((find(&rel.from_entity)?, find(&rel.to_entity)?))
}

/// [`fk_ends`] of every relationship, in relationship order, with one name lookup table, so
/// that callers looping over tables do not rescan the entities for every relationship.
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
    let n = model.entities.len();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (from, to) in fk_ends_all(model).into_iter().flatten() {
        {
            if from != to {
                deps[from].push(to);
            }
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

/// The type of one column as it appears in `CREATE TABLE`: the PostgreSQL enum type where
/// there is one, else [`column_type`].
pub(crate) fn declared_type(
    dialect: SqlDialect,
    names: &Naming,
    entity: &Entity,
    attr: &Attribute,
) -> String {
    if dialect == SqlDialect::Postgres {
        if let Some(t) = names.enum_type(&entity.name, &attr.name) {
            return quote_ident(dialect, t);
        }
    }
    column_type(dialect, &attr.data_type)
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
    if !attr.nullable || entity.is_key(&attr.name) {
        out.push_str(" NOT NULL");
    } else if dialect == SqlDialect::Mysql && attr.data_type == LogicalType::TimestampTz {
        // With explicit_defaults_for_timestamp off, MySQL makes a bare `timestamp` NOT NULL.
        out.push_str(" NULL");
    }
    if let Some(default) = attr
        .default
        .as_deref()
        .and_then(|d| default_sql(dialect, d, &attr.data_type))
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

/// The list of columns of a key or index, quoted; MySQL indexes `text` and `blob` columns by
/// a 255-character prefix, as it cannot index them whole.
pub(crate) fn key_columns(dialect: SqlDialect, entity: &Entity, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| {
            let quoted = quote_ident(dialect, c);
            let long = entity.attribute(c).is_some_and(|a| {
                matches!(
                    column_type(SqlDialect::Mysql, &a.data_type).as_str(),
                    "text" | "json" | "longblob"
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

fn plain_columns(dialect: SqlDialect, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(dialect, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The unique constraint clause for `columns` of `entity` (without a trailing comma).
pub(crate) fn unique_clause(dialect: SqlDialect, entity: &Entity, columns: &[String]) -> String {
    let name = quote_ident(dialect, &derived_name(&entity.name, columns, "key"));
    let cols = key_columns(dialect, entity, columns);
    match dialect {
        SqlDialect::Mysql => format!("UNIQUE KEY {name} ({cols})"),
        SqlDialect::Postgres | SqlDialect::Sqlite => format!("CONSTRAINT {name} UNIQUE ({cols})"),
    }
}

/// The primary key clause of `entity` (without a trailing comma).
pub(crate) fn primary_key_clause(dialect: SqlDialect, entity: &Entity) -> String {
    let cols = key_columns(dialect, entity, &entity.primary_key);
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
    let target = model
        .entity(&rel.to_entity)
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
    let table = model
        .entity(&rel.from_entity)
        .map(|e| e.name.as_str())
        .unwrap_or(&rel.from_entity);
    format!(
        "ALTER TABLE {} ADD {};\n",
        quote_ident(dialect, table),
        foreign_key_clause(model, ri, dialect, names)
    )
}

/// `CREATE [UNIQUE] INDEX` for one index of `entity`; `table` overrides the table name (the
/// SQLite rebuild creates indexes on the rebuilt table under its final name anyway).
pub(crate) fn create_index(
    dialect: SqlDialect,
    entity: &Entity,
    index: &Index,
    table: Option<&str>,
) -> String {
    format!(
        "CREATE {}INDEX {} ON {} ({});\n",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(dialect, &index.name),
        quote_ident(dialect, table.unwrap_or(&entity.name)),
        key_columns(dialect, entity, &index.attributes)
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
    if !entity.primary_key.is_empty() {
        items.push((primary_key_clause(dialect, entity), None));
    }
    for unique in &entity.unique {
        items.push((unique_clause(dialect, entity, unique), None));
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
    let upper = name.to_ascii_uppercase();
    let list = match dialect {
        SqlDialect::Postgres => POSTGRES_RESERVED,
        SqlDialect::Mysql => MYSQL_RESERVED,
        SqlDialect::Sqlite => SQLITE_KEYWORDS,
    };
    list.split_ascii_whitespace().any(|word| word == upper)
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
