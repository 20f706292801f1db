//! Importing the real public schemas in `shared/fixtures/schemas` and the project's own in
//! `tests/data/schemas` (sources in `SOURCES.md` there).
//!
//! Every fixture must import with every table, primary key and foreign key it declares. The
//! expected figures are not written down here: [`scan`] reads them from the dump with plain text
//! scanning, independently of the importer (dumps of these styles start each `CREATE TABLE` and
//! `ALTER TABLE` at the beginning of a line and end it at the first `;`; statements inside
//! routine bodies are indented, so they are not counted). Each fixture also has a few facts
//! checked by hand, and the imported models must pass validation (but for one cycle of required
//! references that is Sakila's own design). A failing test prints the
//! importer's skipped list, which usually says what went wrong.

use model::{
    import_sql, validate, Cardinality, Conventions, Imported, LogicalType, Model, OnDelete,
    SqlDialect,
};
use std::collections::{BTreeMap, BTreeSet};

/// The shared fixtures, read from beside the repository (they are not the project's to copy).
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/schemas");
/// The project's own real application schemas, with their sources in `SOURCES.md` there.
const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schemas");

/// A fixture's text, from whichever of the two folders holds it.
fn fixture(name: &str) -> String {
    let own = format!("{OWN}/{name}");
    let path = if std::path::Path::new(&own).exists() {
        own
    } else {
        format!("{SHARED}/{name}")
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read fixture {path}: {e}"))
}

fn dialect_of(name: &str) -> Option<SqlDialect> {
    if name.ends_with(".postgres.sql") {
        Some(SqlDialect::Postgres)
    } else if name.ends_with(".mysql.sql") {
        Some(SqlDialect::Mysql)
    } else if name.ends_with(".sqlite.sql") {
        Some(SqlDialect::Sqlite)
    } else {
        None
    }
}

/// The fixture files of one folder with their dialects, sorted by name.
fn schemas_in(dir: &str) -> Vec<(String, SqlDialect)> {
    let mut out: Vec<(String, SqlDialect)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the schemas in {dir}: {e}"))
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().to_string();
            dialect_of(&name).map(|d| (name, d))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every fixture file with its dialect: the shared ones, then the project's own.
fn fixtures() -> Vec<(String, SqlDialect)> {
    let shared = schemas_in(SHARED);
    assert!(
        shared.len() >= 8,
        "expected the eight shared fixtures, found {shared:?}"
    );
    let own = schemas_in(OWN);
    assert!(
        own.len() >= 6,
        "expected the project's own schemas, found {own:?}"
    );
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (name, _) in shared.iter().chain(&own) {
        assert!(names.insert(name), "{name} is in both folders");
    }
    shared.into_iter().chain(own).collect()
}

/// What a dump declares, read by text scanning.
#[derive(Debug, Default)]
struct Declared {
    tables: BTreeSet<String>,
    /// Table -> primary key columns, all lower case.
    primary_keys: BTreeMap<String, Vec<String>>,
    /// `(from table, to table)` of every foreign key, lower case, sorted.
    foreign_keys: Vec<(String, String)>,
}

/// A name as written in these dumps, without schema, quotes or brackets, lower case.
fn bare(name: &str) -> String {
    let name = name.trim_matches(|c: char| c == ',' || c == ';');
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
        .to_lowercase()
}

/// Statements that start with `prefix` at the beginning of a line, up to the first `;`, with
/// `--` comments removed.
fn statements(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if current.is_none() && line.starts_with(prefix) {
            current = Some(String::new());
        }
        if let Some(statement) = current.as_mut() {
            let code = line.split("--").next().unwrap_or("");
            statement.push_str(code);
            statement.push('\n');
            if code.contains(';') {
                out.extend(current.take());
            }
        }
    }
    out
}

/// The column list in parentheses at the start of `text`, lower case.
fn column_list(text: &str) -> Vec<String> {
    let text = text.trim_start();
    let Some(inner) = text.strip_prefix('(') else {
        return Vec::new();
    };
    let inner = inner.split(')').next().unwrap_or("");
    inner.split(',').map(|c| bare(c.trim())).collect()
}

/// The first word of the last column definition in `before`: the text after the last `(` or
/// `,` that is not inside parentheses (a type's `(10,2)` is).
fn definition_start(before: &str) -> &str {
    let mut depth = 0u32;
    let mut start = 0;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' | ',' => {
                start = i + 1;
                break;
            }
            _ => {}
        }
    }
    before[start..].split_whitespace().next().unwrap_or("")
}

fn scan(text: &str) -> Declared {
    let mut declared = Declared::default();
    let scan_keys = |table: &str, statement: &str, declared: &mut Declared| {
        for (at, _) in statement.match_indices("PRIMARY KEY") {
            let after = &statement[at + "PRIMARY KEY".len()..];
            let columns = if after.trim_start().starts_with('(') {
                column_list(after)
            } else {
                // Inline: the column is the first word of the definition that declares it,
                // which starts after the `(` or `,` before it outside parentheses (a
                // one-line `CREATE TABLE` declares several).
                vec![bare(definition_start(&statement[..at]))]
            };
            declared.primary_keys.insert(table.to_string(), columns);
        }
        for (at, _) in statement.match_indices("REFERENCES") {
            let after = &statement[at + "REFERENCES".len()..];
            let target = after
                .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
                .find(|w| !w.is_empty())
                .unwrap_or("");
            declared
                .foreign_keys
                .push((table.to_string(), bare(target)));
        }
    };
    for statement in statements(text, "CREATE TABLE") {
        let rest = statement["CREATE TABLE".len()..].trim_start();
        let rest = rest
            .strip_prefix("IF NOT EXISTS")
            .unwrap_or(rest)
            .trim_start();
        let name = rest
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("");
        let table = bare(name);
        declared.tables.insert(table.clone());
        scan_keys(&table, &statement, &mut declared);
    }
    for statement in statements(text, "ALTER TABLE") {
        let rest = statement["ALTER TABLE".len()..].trim_start();
        let rest = rest.strip_prefix("ONLY").unwrap_or(rest).trim_start();
        let table = bare(rest.split_whitespace().next().unwrap_or(""));
        scan_keys(&table, &statement, &mut declared);
    }
    declared.foreign_keys.sort();
    declared
}

fn skipped_list(imported: &Imported) -> String {
    imported
        .skipped
        .iter()
        .map(|s| format!("  line {}: {} ({})", s.line, s.what, s.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

fn import(name: &str) -> Imported {
    let dialect = dialect_of(name).expect("a fixture name ends with its dialect");
    import_sql(&fixture(name), dialect).unwrap_or_else(|e| panic!("{name} does not import: {e}"))
}

/// Checks one fixture against its scan and returns the figures for the summary.
fn check_fixture(name: &str) -> (usize, usize, usize, usize) {
    let text = fixture(name);
    let declared = scan(&text);
    let imported = import(name);
    let model = &imported.model;
    let context = format!("{name}; skipped:\n{}", skipped_list(&imported));

    let tables: BTreeSet<String> = model
        .entities
        .iter()
        .map(|e| e.name.to_lowercase())
        .collect();
    assert_eq!(model.entities.len(), declared.tables.len(), "{context}");
    assert_eq!(tables, declared.tables, "{context}");
    assert!(!declared.primary_keys.is_empty(), "{context}");
    for (table, columns) in &declared.primary_keys {
        let entity = model
            .entity(table)
            .unwrap_or_else(|| panic!("no entity {table}: {context}"));
        let key: Vec<String> = entity
            .primary_key
            .iter()
            .map(|k| k.to_lowercase())
            .collect();
        assert_eq!(&key, columns, "primary key of {table}: {context}");
    }
    let mut relationships: Vec<(String, String)> = model
        .relationships
        .iter()
        .map(|r| (r.from_entity.to_lowercase(), r.to_entity.to_lowercase()))
        .collect();
    relationships.sort();
    assert_eq!(relationships, declared.foreign_keys, "{context}");

    // Sakila's store and staff reference each other through NOT NULL columns (its dumps turn
    // foreign key checks off to load): validation rightly reports that cycle, which is the
    // source's design, not an import fault. So is a table without a primary key where the
    // source declares none (PowerDNS's `supermasters` in SQLite has only a unique index, and
    // many of Synapse's tables have no key). Any other problem is.
    let keyless = |reason: &str| {
        model.entities.iter().any(|e| {
            e.primary_key.is_empty()
                && !declared.primary_keys.contains_key(&e.name.to_lowercase())
                && reason == format!("entity `{}` has no primary key", e.name)
        })
    };
    let problems: Vec<_> = validate(model, &Conventions::default())
        .into_iter()
        .filter(|p| !keyless(&p.reason))
        .collect();
    let (cycles, others): (Vec<_>, Vec<_>) = problems
        .into_iter()
        .partition(|p| p.reason.contains("form a cycle"));
    assert!(others.is_empty(), "{others:#?}\n{context}");
    let expected_cycles: &[&str] = if name.starts_with("sakila.") {
        &["staff", "store"]
    } else {
        &[]
    };
    let cycle_tables: BTreeSet<&str> = cycles
        .iter()
        .flat_map(|p| {
            [
                "staff",
                "store",
                "address",
                "customer",
                "rental",
                "payment",
                "inventory",
            ]
            .into_iter()
            .filter(|t| p.reason.contains(&format!(" {t} ")))
        })
        .collect();
    assert_eq!(
        cycles.len(),
        usize::from(!expected_cycles.is_empty()),
        "{cycles:#?}"
    );
    assert_eq!(
        cycle_tables.into_iter().collect::<Vec<_>>(),
        expected_cycles,
        "{cycles:#?}"
    );

    let with_key = model
        .entities
        .iter()
        .filter(|e| !e.primary_key.is_empty())
        .count();
    eprintln!(
        "{name}: declared {} tables, {} primary keys, {} references",
        declared.tables.len(),
        declared.primary_keys.len(),
        declared.foreign_keys.len()
    );
    (
        model.entities.len(),
        with_key,
        model.relationships.len(),
        imported.skipped.len(),
    )
}

#[test]
fn every_fixture_keeps_every_table_key_and_reference() {
    let mut summary = Vec::new();
    for (name, _) in fixtures() {
        let (tables, keys, fks, skipped) = check_fixture(&name);
        summary.push(format!(
            "{name}: {tables} tables, {keys} primary keys, {fks} foreign keys, {skipped} skipped"
        ));
    }
    // Shown with `--nocapture`; the figures go into the report of the change.
    eprintln!("{}", summary.join("\n"));
}

fn attribute_type(model: &Model, table: &str, column: &str) -> LogicalType {
    model
        .entity(table)
        .and_then(|e| e.attribute(column))
        .unwrap_or_else(|| panic!("no column {table}.{column}"))
        .data_type
        .clone()
}

fn default_of(model: &Model, table: &str, column: &str) -> Option<String> {
    model
        .entity(table)
        .and_then(|e| e.attribute(column))
        .unwrap_or_else(|| panic!("no column {table}.{column}"))
        .default
        .clone()
}

fn relationship<'a>(model: &'a Model, from: &str, from_column: &str) -> &'a model::Relationship {
    model
        .relationships
        .iter()
        .find(|r| {
            r.from_entity.eq_ignore_ascii_case(from)
                && r.from_attributes
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(from_column))
        })
        .unwrap_or_else(|| panic!("no relationship from {from}.{from_column}"))
}

fn key(model: &Model, table: &str) -> Vec<String> {
    model
        .entity(table)
        .unwrap_or_else(|| panic!("no table {table}"))
        .primary_key
        .clone()
}

fn has_skipped(imported: &Imported, what: &str) -> bool {
    imported.skipped.iter().any(|s| s.what == what)
}

#[test]
fn sakila_mysql_facts() {
    let imported = import("sakila.mysql.sql");
    let m = &imported.model;
    let context = skipped_list(&imported);
    assert_eq!(key(m, "film_actor"), ["actor_id", "film_id"], "{context}");
    let to_actor = relationship(m, "film_actor", "actor_id");
    assert_eq!(
        (to_actor.to_entity.as_str(), to_actor.name.as_str()),
        ("actor", "fk_film_actor_actor")
    );
    assert_eq!(to_actor.on_delete, OnDelete::Restrict);
    assert_eq!(to_actor.cardinality, Cardinality::ManyToOne);
    assert_eq!(relationship(m, "film_actor", "film_id").to_entity, "film");
    assert_eq!(
        relationship(m, "payment", "rental_id").on_delete,
        OnDelete::SetNull
    );
    // `manager_staff_id` is unique, so a store has one manager and a manager one store.
    assert_eq!(
        relationship(m, "store", "manager_staff_id").cardinality,
        Cardinality::OneToOne
    );
    assert_eq!(
        attribute_type(m, "film", "rating"),
        LogicalType::Enum(vec![
            "G".into(),
            "PG".into(),
            "PG-13".into(),
            "R".into(),
            "NC-17".into()
        ])
    );
    assert_eq!(
        attribute_type(m, "film", "rental_rate"),
        LogicalType::Decimal {
            precision: 4,
            scale: 2
        }
    );
    assert_eq!(
        default_of(m, "film", "rental_rate").as_deref(),
        Some("4.99")
    );
    assert_eq!(
        default_of(m, "actor", "last_update").as_deref(),
        Some("CURRENT_TIMESTAMP")
    );
    assert_eq!(
        attribute_type(m, "film", "release_year"),
        LogicalType::Integer
    );
    assert_eq!(
        attribute_type(m, "customer", "active"),
        LogicalType::Boolean
    );
    // Regression: `password VARCHAR(40) BINARY` once cost the column.
    assert_eq!(
        attribute_type(m, "staff", "password"),
        LogicalType::String(Some(40))
    );
    // The version-conditional column is real on every MySQL since 5.7.5.
    assert_eq!(attribute_type(m, "address", "location"), LogicalType::Bytes);
    assert!(
        has_skipped(&imported, "trigger ins_film on film"),
        "{context}"
    );
    assert!(has_skipped(&imported, "view actor_info"), "{context}");
    assert!(
        has_skipped(&imported, "procedure rewards_report"),
        "{context}"
    );
    assert!(
        has_skipped(&imported, "function inventory_in_stock"),
        "{context}"
    );
    let index = m
        .entity("actor")
        .and_then(|e| e.indexes.iter().find(|i| i.name == "idx_actor_last_name"))
        .expect("KEY idx_actor_last_name is an index");
    assert_eq!(index.attributes, ["last_name"]);
}

#[test]
fn sakila_sqlite_facts() {
    let imported = import("sakila.sqlite.sql");
    let m = &imported.model;
    let context = skipped_list(&imported);
    assert_eq!(key(m, "film_actor"), ["actor_id", "film_id"], "{context}");
    assert_eq!(attribute_type(m, "film", "description"), LogicalType::Text);
    assert_eq!(default_of(m, "customer", "active").as_deref(), Some("'Y'"));
    assert!(
        has_skipped(&imported, "check constraint CHECK_special_rating on film"),
        "{context}"
    );
    assert!(
        has_skipped(&imported, "trigger actor_trigger_ai on actor"),
        "{context}"
    );
    let inventory = m.entity("inventory").expect("inventory");
    assert!(inventory
        .indexes
        .iter()
        .any(|i| i.name == "idx_fk_film_id_store_id" && i.attributes == ["store_id", "film_id"]));
}

#[test]
fn pagila_postgres_facts() {
    let imported = import("pagila.postgres.sql");
    let m = &imported.model;
    let context = skipped_list(&imported);
    assert_eq!(key(m, "film_actor"), ["actor_id", "film_id"], "{context}");
    assert_eq!(
        relationship(m, "film_actor", "actor_id").name,
        "film_actor_actor_id_fkey"
    );
    assert_eq!(
        attribute_type(m, "film", "rating"),
        LogicalType::Enum(vec![
            "G".into(),
            "PG".into(),
            "PG-13".into(),
            "R".into(),
            "NC-17".into()
        ])
    );
    assert_eq!(default_of(m, "film", "rating").as_deref(), Some("'G'"));
    // Domains resolve to their base types.
    assert_eq!(
        attribute_type(m, "film", "release_year"),
        LogicalType::Integer
    );
    // Serial columns keep no default: the sequence call is not a value.
    assert_eq!(default_of(m, "actor", "actor_id"), None);
    assert_eq!(
        default_of(m, "actor", "last_update").as_deref(),
        Some("now()")
    );
    assert_eq!(
        attribute_type(m, "actor", "last_update"),
        LogicalType::TimestampTz
    );
    // A partition has the key of the partitioned table it is attached to.
    assert_eq!(key(m, "payment_p2022_01"), ["payment_date", "payment_id"]);
    let store = m.entity("store").expect("store");
    assert!(store
        .indexes
        .iter()
        .any(|i| i.name == "idx_unq_manager_staff_id" && i.unique));
    assert!(
        has_skipped(&imported, "materialized view rental_by_category"),
        "{context}"
    );
    assert!(
        has_skipped(&imported, "aggregate group_concat"),
        "{context}"
    );
    assert!(has_skipped(&imported, "function last_updated"), "{context}");
    assert!(
        imported
            .skipped
            .iter()
            .any(|s| s.what.starts_with("ownership changes (")),
        "{context}"
    );
}

#[test]
fn northwind_postgres_facts() {
    let imported = import("northwind.postgres.sql");
    let m = &imported.model;
    assert_eq!(key(m, "order_details"), ["order_id", "product_id"]);
    // `REFERENCES customers` without columns means the customers primary key.
    let to_customers = relationship(m, "orders", "customer_id");
    assert_eq!(to_customers.to_attributes, ["customer_id"]);
    let boss = relationship(m, "employees", "reports_to");
    assert_eq!(
        (boss.to_entity.as_str(), boss.to_attributes.as_slice()),
        ("employees", ["employee_id".to_string()].as_slice())
    );
    assert_eq!(
        attribute_type(m, "customers", "company_name"),
        LogicalType::String(Some(40))
    );
    assert_eq!(
        attribute_type(m, "categories", "picture"),
        LogicalType::Bytes
    );
    assert_eq!(
        attribute_type(m, "order_details", "discount"),
        LogicalType::Float
    );
}

#[test]
fn chinook_facts_in_three_dialects() {
    for (name, playlist_track, invoice_line) in [
        ("chinook.postgres.sql", "playlist_track", "invoice_line"),
        ("chinook.mysql.sql", "PlaylistTrack", "InvoiceLine"),
        ("chinook.sqlite.sql", "PlaylistTrack", "InvoiceLine"),
    ] {
        let imported = import(name);
        let m = &imported.model;
        // Names keep their case and lose their quotes, backticks or brackets.
        let entity = m.entity(playlist_track).expect("playlist track table");
        assert_eq!(entity.name, playlist_track, "{name}");
        assert_eq!(entity.primary_key.len(), 2, "{name}");
        let to_invoice = m
            .relationships
            .iter()
            .filter(|r| r.from_entity == invoice_line)
            .count();
        assert_eq!(
            to_invoice, 2,
            "{name}: invoice lines reference invoice and track"
        );
    }
}

#[test]
fn employees_mysql_facts() {
    let imported = import("employees.mysql.sql");
    let m = &imported.model;
    assert_eq!(
        attribute_type(m, "employees", "gender"),
        LogicalType::Enum(vec!["M".into(), "F".into()])
    );
    assert_eq!(key(m, "dept_emp"), ["emp_no", "dept_no"]);
    assert_eq!(key(m, "titles"), ["emp_no", "title", "from_date"]);
    assert_eq!(
        relationship(m, "salaries", "emp_no").on_delete,
        OnDelete::Cascade
    );
    assert_eq!(
        m.entity("departments").expect("departments").unique,
        [["dept_name".to_string()]]
    );
    assert!(has_skipped(&imported, "view current_dept_emp"));
}

/// Cut points spread over a text, on character boundaries.
fn cut_points(text: &str, count: usize) -> Vec<usize> {
    let step = (text.len() / count).max(1);
    (0..text.len())
        .step_by(step)
        .filter(|&i| text.is_char_boundary(i))
        .collect()
}

/// No prefix of a real dump makes the importer panic, in its own dialect or another one: a
/// cut-short upload gives a model or an error with a code.
#[test]
fn truncated_fixtures_never_panic() {
    let mut runs = 0;
    for (name, dialect) in fixtures() {
        let text = fixture(&name);
        for cut in cut_points(&text, 150) {
            let prefix = &text[..cut];
            match import_sql(prefix, dialect) {
                Ok(imported) => assert!(!imported.model.entities.is_empty()),
                Err(error) => assert_eq!(error.code, "VAL_IMPORT_NO_TABLES", "{name} at {cut}"),
            }
            runs += 1;
        }
        for other in SqlDialect::ALL {
            let _ = import_sql(&text, other);
        }
    }
    assert!(runs > 1000, "only {runs} prefixes were tried");
}
