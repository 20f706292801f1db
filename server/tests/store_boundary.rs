//! The store boundary: every SQL statement of the server lives in `server/src/store/`.
//!
//! A *SQL call* is any use of the `sqlx` crate's paths (`sqlx::query`, `sqlx::query_as`,
//! `sqlx::query_scalar`, `sqlx::Transaction`, a pool or connection type), one of sqlx's
//! statement methods (`query_as(`, `query_scalar(`, `fetch_one(`, `fetch_optional(`,
//! `fetch_all(`), a pool or connection type by its bare name, or a string literal that starts
//! a SQL statement (`"SELECT …`, `"INSERT …`, `"PRAGMA …`, …). This test reads every Rust file
//! under `server/src` outside `store/` and fails, naming file and line, if one holds a SQL
//! call in code (comment lines are skipped, so documentation may name the store's tools).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// What marks a SQL call in code.
const FORBIDDEN: [&str; 12] = [
    "sqlx::",
    "query_as(",
    "query_as::<",
    "query_scalar(",
    "fetch_one(",
    "fetch_optional(",
    "fetch_all(",
    "SqlitePool",
    "SqliteConnection",
    "PgPool",
    "Transaction<",
    "begin_with(",
];

/// The words that open a SQL statement; a string literal starting with one and a space (or a
/// line break) is SQL.
const STATEMENTS: [&str; 12] = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "PRAGMA", "VACUUM", "BEGIN", "CREATE", "ALTER", "DROP",
    "WITH", "REPLACE",
];

/// The SQL calls in `source`, as `(line number, line)`.
fn sql_calls(source: &str) -> Vec<(usize, String)> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| {
            FORBIDDEN.iter().any(|f| line.contains(f))
                || line.match_indices('"').any(|(i, _)| {
                    let after = &line[i + 1..];
                    // A statement's first word is followed by more of it; a lone word
                    // (the HTTP method "DELETE") is not SQL.
                    STATEMENTS.iter().any(|word| {
                        after.starts_with(word)
                            && after[word.len()..]
                                .chars()
                                .next()
                                .is_some_and(char::is_whitespace)
                    })
                })
        })
        .map(|(n, line)| (n + 1, line.trim().to_string()))
        .collect()
}

/// Every `.rs` file under `dir`, depth first.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_detector_finds_sql_calls_and_only_those() {
    let check = |source: &str, found: bool| {
        assert_eq!(!sql_calls(source).is_empty(), found, "{source}");
    };
    check(r#"sqlx::query("SELECT 1").execute(&pool).await?;"#, true);
    check(
        r#"let rows: Vec<Row> = query_as("x").fetch_all(pool).await?;"#,
        true,
    );
    check("let n = sqlx::query_scalar::<_, i64>(q);", true);
    check(
        "let mut tx: sqlx::Transaction<'_, Sqlite> = pool.begin().await?;",
        true,
    );
    check("use sqlx::SqlitePool;", true);
    check("fn f(pool: &SqlitePool) {}", true);
    check(r#"    "DELETE FROM sessions WHERE id = ?","#, true);
    check(r#"let q = "PRAGMA quick_check";"#, true);
    check(
        r#"let q = format!("SELECT {COLUMNS} FROM providers");"#,
        true,
    );
    check(
        r#"    let row = state.store.provider(user, id).await?;"#,
        false,
    );
    check("/// Runs `sqlx::query` in the store, never here.", false);
    check("    // SELECT in a comment is prose", false);
    check(r#"let method = "DELETED"; let s = "Selected";"#, false);
    check(r#"m.http_request("DELETE", route, 204, elapsed);"#, false);
    check(
        r#"r"method="DELETE",route="/api/v1/providers/{id}"""#,
        false,
    );
    check("let q = \"VACUUM INTO ?\";", true);
    check(r#"let url = "http://localhost:11434/v1";"#, false);
}

#[test]
fn no_sql_outside_the_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let store = src.join("store");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let (inside, outside): (Vec<_>, Vec<_>) = files.iter().partition(|f| f.starts_with(&store));
    // The scan sees the files it is about: the routes, and the store with its statements.
    assert!(
        outside.iter().any(|f| f.ends_with("routes/sync.rs")),
        "the scan no longer finds server/src/routes: update this test"
    );
    let store_calls: usize = inside
        .iter()
        .map(|f| sql_calls(&std::fs::read_to_string(f).unwrap()).len())
        .sum();
    assert!(
        store_calls > 20,
        "the store holds only {store_calls} SQL calls: did it move? update this test"
    );
    let mut offences = Vec::new();
    for file in outside {
        let source = std::fs::read_to_string(file).unwrap();
        for (line, text) in sql_calls(&source) {
            let name = file.strip_prefix(&src).unwrap().display();
            offences.push(format!("src/{name}:{line}: {text}"));
        }
    }
    assert!(
        offences.is_empty(),
        "SQL outside server/src/store (move it into a store method):\n{}",
        offences.join("\n")
    );
}
