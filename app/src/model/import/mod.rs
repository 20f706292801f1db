//! Importers: SQL DDL (PostgreSQL, MySQL, SQLite) and the JSON model format into a model.
//!
//! OWNED BY THE IMPORTERS HELPER: contract only, to be implemented.

use super::dialect::SqlDialect;
use super::types::Model;
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
pub fn import_sql(text: &str, dialect: SqlDialect) -> Result<Imported, ImportError> {
    let _ = (text, dialect);
    todo!("importers helper")
}

/// Imports a model in the JSON model format.
pub fn import_json(text: &str) -> Result<Imported, ImportError> {
    let _ = text;
    todo!("importers helper")
}
