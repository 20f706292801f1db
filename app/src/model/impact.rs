//! Impact analysis: how risky each change of a diff is, and what else it touches.
//!
//! Contract (implemented by the lead): `analyze` diffs two models and classifies every change.

use super::diff::Change;
use super::types::Model;
use serde::{Deserialize, Serialize};

/// How a change affects existing data, readers and writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Existing readers or writers fail, or data is lost.
    Breaking,
    /// Works for some data or some clients and not others (a migration may fail).
    Risky,
    /// Existing data, readers and writers keep working.
    Safe,
}

/// The judgement on one change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    pub severity: Severity,
    /// Why, in one sentence: "dropping a column breaks every reader of it".
    pub reason: String,
    /// What else the change touches: `relationship loan_member`, `index loan_member_open`,
    /// `primary key of loan`.
    pub affected: Vec<String>,
}

/// One change with its impact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedChange {
    pub change: Change,
    pub impact: Impact,
}

/// One line of the narrative's line diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NarrativeLine {
    pub tag: LineTag,
    pub text: String,
}

/// Whether a narrative line is kept, removed or added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineTag {
    Equal,
    Delete,
    Insert,
}

/// The whole review of `old` → `new`: every change with its impact, counts per severity and
/// the narrative's line diff (empty when the narrative did not change).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactReport {
    pub changes: Vec<AssessedChange>,
    pub breaking: usize,
    pub risky: usize,
    pub safe: usize,
    pub narrative: Vec<NarrativeLine>,
}

/// Diffs `old` and `new` and assesses every change.
pub fn analyze(old: &Model, new: &Model) -> ImpactReport {
    let _ = (old, new);
    todo!("lead")
}
