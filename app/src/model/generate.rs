//! Synthetic models for benchmarks, fuzzing seeds and property tests.
//!
//! OWNED BY THE BENCHMARKS HELPER: contract only, to be implemented.

use super::types::Model;

/// A deterministic model of `entities` entities with `attributes` attributes each, with keys,
/// indexes and relationships; the same arguments always give the same model.
pub fn generated_model(entities: usize, attributes: usize, seed: u64) -> Model {
    let _ = (entities, attributes, seed);
    todo!("benchmarks helper")
}

/// A changed copy of `model`: about `percent` % of entities touched (attributes added, removed,
/// renamed, retyped; entities added, removed, renamed; indexes and relationships changed).
pub fn mutated_model(model: &Model, percent: u8, seed: u64) -> Model {
    let _ = (model, percent, seed);
    todo!("benchmarks helper")
}
