//! Exporters: a model written out in other formats (DESIGN §1 "Export").
//!
//! OWNED BY THE EXPORTERS HELPER: contract only, to be implemented.

use super::dialect::SqlDialect;
use super::types::Model;
use serde::{Deserialize, Serialize};

/// Every format a model can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// Markdown data dictionary.
    Markdown,
    PlantUml,
    /// Mermaid `erDiagram`.
    Mermaid,
    /// SQL DDL for one dialect.
    Sql(SqlDialect),
    Dbml,
    /// JSON Schema (draft 2020-12) describing one record of each entity.
    JsonSchema,
    /// The model's own JSON format (pretty-printed).
    Json,
}

/// Writes `model` in `format`. Exporting never fails: the model is assumed validated, and an
/// exporter writes what it can (an unknown type becomes the target's most general type).
pub fn export(model: &Model, format: ExportFormat) -> String {
    let _ = (model, format);
    todo!("exporters helper")
}
