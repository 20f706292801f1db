//! Migration SQL: the statements that turn a database made from one draft into the next.
//!
//! OWNED BY THE EXPORTERS HELPER: contract only, to be implemented.

use super::dialect::SqlDialect;
use super::types::Model;
use thiserror::Error;

/// A change the dialect cannot express as a migration.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("cannot migrate: {0}")]
pub struct MigrateError(pub String);

/// Migration SQL from `old` to `new` for `dialect` (PostgreSQL and SQLite; MySQL as well where
/// the helper supports it, otherwise a [`MigrateError`]).
pub fn migration_sql(
    old: &Model,
    new: &Model,
    dialect: SqlDialect,
) -> Result<String, MigrateError> {
    let _ = (old, new, dialect);
    todo!("exporters helper")
}
