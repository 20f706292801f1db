//! Replays fuzzing inputs through the functions the fuzz targets in `model/fuzz` exercise.
//!
//! Two kinds of input are replayed: the small hand-made *seeds* of each target
//! (`model/fuzz/seeds/<target>/`), and every *crash input* the fuzzer found, minimised and saved
//! under `model/tests/data/fuzz/<target>/` (its README says how). Each input goes through the
//! same checks as in its fuzz target (no panic, and the target's property holds), so a crash
//! once found stays fixed in an ordinary `cargo test`, without cargo-fuzz or a nightly compiler.

use model::import::import_sql;
use model::ops::parse_change_set;
use model::parse::{extract_json, parse_model};
use model::SqlDialect;
use std::fs;
use std::path::{Path, PathBuf};

/// Every input saved for `target`: its seeds and its crash inputs, sorted by path.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        root.join("fuzz/seeds").join(target),
        root.join("tests/data/fuzz").join(target),
    ] {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("the input folder lists").path();
            let data = fs::read(&path).expect("a saved input reads");
            out.push((path, data));
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "no saved input for the {target} fuzz target"
    );
    out
}

/// The import_sql target: the first byte picks the dialect, the rest is the script.
fn check_import_sql(data: &[u8]) -> Option<bool> {
    let (&first, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let dialect = SqlDialect::ALL[usize::from(first) % SqlDialect::ALL.len()];
    let result = import_sql(text, dialect);
    if let Ok(imported) = &result {
        assert!(
            !imported.model.entities.is_empty(),
            "an import without tables succeeded"
        );
    }
    Some(result.is_ok())
}

fn check_parse_model(data: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(data).ok()?;
    let result = parse_model(text);
    if let Ok(model) = &result {
        let json = serde_json::to_string(model).expect("a parsed model serializes");
        let back = parse_model(&json).expect("a serialized model parses back");
        assert_eq!(&back, model, "the model changed through its JSON form");
    }
    Some(result.is_ok())
}

fn check_parse_change_set(data: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(data).ok()?;
    let result = parse_change_set(text);
    if let Ok(set) = &result {
        let json = serde_json::to_string(set).expect("a parsed change set serializes");
        let back = parse_change_set(&json).expect("a serialized change set parses back");
        assert_eq!(&back, set, "the change set changed through its JSON form");
    }
    Some(result.is_ok())
}

fn check_extract_json(data: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(data).ok()?;
    let result = extract_json(text);
    if let Ok(json) = result {
        assert!(json.starts_with('{'), "extracted {json:?}");
        assert!(
            text.contains(json),
            "extracted text that is not in the input"
        );
    }
    Some(result.is_ok())
}

/// Replays every input of `target` through `check`, naming the input that fails, and returns
/// the file names of the inputs that were read successfully.
fn replay(target: &str, check: fn(&[u8]) -> Option<bool>) -> Vec<String> {
    let mut accepted = Vec::new();
    for (path, data) in inputs(target) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let outcome = std::panic::catch_unwind(|| check(&data));
        match outcome {
            Ok(Some(true)) => accepted.push(name),
            Ok(Some(false) | None) => {}
            Err(_) => panic!("{target} panicked on {}", path.display()),
        }
    }
    accepted.sort();
    accepted
}

#[test]
fn import_sql_inputs() {
    // The three well-formed seeds import; the broken one is an error, not a panic.
    assert_eq!(
        replay("import_sql", check_import_sql),
        ["mysql.sql", "postgres.sql", "sqlite.sql"]
    );
}

#[test]
fn parse_model_inputs() {
    assert_eq!(
        replay("parse_model", check_parse_model),
        ["fenced.txt", "prose.txt"]
    );
}

#[test]
fn parse_change_set_inputs() {
    assert_eq!(
        replay("parse_change_set", check_parse_change_set),
        ["fenced.txt", "list.txt"]
    );
}

#[test]
fn extract_json_inputs() {
    assert_eq!(
        replay("extract_json", check_extract_json),
        ["fence.txt", "prose.txt", "two_fences.txt"]
    );
}
