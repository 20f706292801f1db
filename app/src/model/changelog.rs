//! A Markdown changelog between two drafts.
//!
//! OWNED BY THE EXPORTERS HELPER: contract only, to be implemented.

use super::types::Model;

/// A Markdown changelog from `old` to `new`: changes grouped by impact, then by entity.
pub fn changelog(old: &Model, new: &Model) -> String {
    let _ = (old, new);
    todo!("exporters helper")
}
