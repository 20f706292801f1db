//! The model core: everything the product knows about data models, in plain Rust.
//!
//! A *model* is the structured content of one draft (entities, attributes, keys, relationships, a
//! summary and a Markdown narrative). This module tree defines the model types and their logical
//! types, validates a model, computes the semantic diff between two models and its impact,
//! applies change operations, lays out and draws the ER diagram, assembles the LLM prompt, parses
//! the LLM's answer, and exports and imports models in other formats.
//!
//! Nothing here depends on Leptos, the browser, the server or a database: the same code runs in
//! the wasm front end, natively on the server, in tests and in benchmarks.

pub mod changelog;
pub mod diagram;
pub mod dialect;
pub mod diff;
pub mod export;
#[cfg(any(test, feature = "testkit"))]
pub mod generate;
pub mod impact;
pub mod import;
pub mod logical_type;
pub mod migrate;
pub mod narrative;
pub mod ops;
pub mod parse;
pub mod prompt;
pub mod share;
pub mod sync;
pub mod tools;
pub mod types;
pub mod validate;
pub mod wire;

pub use diagram::{layout, Diagram, Positions};
pub use dialect::SqlDialect;
pub use diff::{diff_models, Change, ModelDiff};
pub use export::{
    export, export_with_warnings, warning_summary, ExportFormat, ExportWarning, WarningKind,
};
pub use impact::{analyze, ImpactReport, Severity};
pub use import::{import_json, import_sql, ImportError, Imported, Skipped};
pub use logical_type::LogicalType;
pub use ops::{apply, parse_change_set, ChangeSet, Operation, ProposedChange};
pub use parse::{parse_model, ParseError};
pub use types::{Attribute, Cardinality, Entity, Index, Model, NativeType, OnDelete, Relationship};
pub use validate::{validate, Conventions, NamingConvention, Problem};
