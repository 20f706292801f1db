//! Importers: SQL DDL (PostgreSQL, MySQL, SQLite) and the JSON model format into a model.
//!
//! An *import* turns text a person brings (a schema dump, a DDL script, an exported model)
//! into a [`Model`] plus the list of what was *skipped*: statements and clauses that the model
//! cannot hold (views, triggers, routines, data, check constraints...), each with the line where
//! it starts and the reason. An import fails with an [`ImportError`] only when nothing usable was
//! found; a single unreadable statement is skipped, never fatal. The SQL importer lives in
//! `sql.rs` (statement splitting in `split.rs`, type mapping in `types.rs`).

mod split;
mod sql;
mod types;

use super::dialect::SqlDialect;
use super::types::{Model, MODEL_FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The result of an import: the model, and what was left out and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub model: Model,
    pub skipped: Vec<Skipped>,
}

/// One statement (or part of one) that the importer did not turn into model content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// 1-based line where the statement starts in the input.
    pub line: usize,
    /// What was skipped, for instance `view customer_list` or `trigger last_updated`.
    pub what: String,
    /// Why, in a sentence: "views are not part of the data model".
    pub reason: String,
}

/// Why an input could not be imported at all.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("line {line}, column {column}: {message}")]
pub struct ImportError {
    /// Stable code, such as `VAL_IMPORT_NO_TABLES` or `VAL_IMPORT_INVALID_JSON`.
    pub code: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Imports SQL DDL written for `dialect`.
///
/// See the `sql` module for what is read and what is skipped. Fails with
/// `VAL_IMPORT_NO_TABLES` when the script defines no table that could be read.
pub fn import_sql(text: &str, dialect: SqlDialect) -> Result<Imported, ImportError> {
    sql::import(text, dialect)
}

/// Imports a model in the JSON model format.
///
/// The text must be one JSON object in the model layout (what the JSON export writes). Errors
/// carry the line and column: `VAL_IMPORT_INVALID_JSON` for text that is not JSON,
/// `VAL_IMPORT_NOT_A_MODEL` for JSON that is not a model, `VAL_IMPORT_NEWER_FORMAT` for a model
/// written by a newer version of the app. Nothing is ever skipped.
pub fn import_json(text: &str) -> Result<Imported, ImportError> {
    let model: Model = serde_json::from_str(text).map_err(|e| {
        let (code, remedy) = match e.classify() {
            serde_json::error::Category::Data => (
                "VAL_IMPORT_NOT_A_MODEL",
                "the JSON is not a data model: export one from the app and import that file",
            ),
            _ => (
                "VAL_IMPORT_INVALID_JSON",
                "the file is not valid JSON: check that it is complete and not an SQL script",
            ),
        };
        // serde_json ends its message with the position, which the error already carries.
        let detail = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let detail = detail.strip_suffix(&suffix).unwrap_or(&detail);
        ImportError {
            code: code.into(),
            line: e.line(),
            column: e.column(),
            message: format!("{remedy} ({detail})"),
        }
    })?;
    if model.format_version > MODEL_FORMAT_VERSION {
        return Err(ImportError {
            code: "VAL_IMPORT_NEWER_FORMAT".into(),
            line: 1,
            column: 1,
            message: format!(
                "the model uses format version {}, newer than this app's {}: update the app",
                model.format_version, MODEL_FORMAT_VERSION
            ),
        });
    }
    Ok(Imported {
        model,
        skipped: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIBRARY: &str = include_str!("../../tests/data/library-v1.json");

    #[test]
    fn json_model_round_trips() {
        let imported = import_json(LIBRARY).expect("the library model imports");
        assert_eq!(imported.model.entities.len(), 4);
        assert!(imported.skipped.is_empty());
        let again = serde_json::to_string(&imported.model).expect("serializes");
        assert_eq!(
            import_json(&again).expect("imports again").model,
            imported.model
        );
    }

    #[test]
    fn json_errors_say_where() {
        let check = |text: &str, code: &str, line: usize, column: usize| {
            let error = import_json(text).expect_err("not importable");
            assert_eq!(
                (error.code.as_str(), error.line, error.column),
                (code, line, column),
                "{text:?}: {error}"
            );
        };
        check(
            "{\n  \"entities\": [,]\n}",
            "VAL_IMPORT_INVALID_JSON",
            2,
            16,
        );
        check("{\"entities\": [", "VAL_IMPORT_INVALID_JSON", 1, 14);
        check("CREATE TABLE t (x int);", "VAL_IMPORT_INVALID_JSON", 1, 1);
        check("{\n\"entities\": 3}", "VAL_IMPORT_NOT_A_MODEL", 2, 13);
        check(
            r#"{"format_version": 99, "entities": []}"#,
            "VAL_IMPORT_NEWER_FORMAT",
            1,
            1,
        );
    }
}
