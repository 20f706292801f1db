//! The model core: everything the product knows about data models, in plain Rust.
//!
//! A *model* is the structured content of one draft (entities, attributes, keys, relationships, a
//! summary and a Markdown narrative). This module tree defines the model types and their logical
//! types, validates a model, computes the semantic diff between two models, assembles the LLM
//! prompt that asks for a new draft, and parses the LLM's answer back into a model.
//!
//! Nothing here depends on Leptos, the browser, the server or a database: the same code runs in
//! the wasm front end, natively on the server, in tests and in benchmarks.

pub mod diff;
pub mod logical_type;
pub mod parse;
pub mod prompt;
pub mod types;
pub mod validate;

pub use diff::{diff_models, Change, ModelDiff};
pub use logical_type::LogicalType;
pub use parse::{parse_model, ParseError};
pub use types::{Attribute, Cardinality, Entity, Index, Model, OnDelete, Relationship};
pub use validate::{validate, Conventions, NamingConvention, Problem};
