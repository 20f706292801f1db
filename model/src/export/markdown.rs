//! Markdown data dictionary: the model as a document people read.
//!
//! Layout: a title, the summary, a table of contents, one section per entity (description, tags,
//! a table of its attributes, then its indexes and unique constraints), a relationships section
//! and the narrative. *Key markers* in the attribute table are `PK` (part of the primary key),
//! `UQ` (unique on its own) and `FK→entity.attribute` (a foreign key and its target). A *cell* is
//! one table cell: `|` is escaped and line breaks become `<br>` so that a cell never ends the row.

use super::super::types::{Entity, Model, OnDelete};
use super::{is_unique_alone, targets_in, Lookup};
use std::collections::HashMap;
use std::fmt::Write;

/// Writes the data dictionary of `model`.
pub fn markdown(model: &Model) -> String {
    let mut out = String::new();
    let mut anchors = Anchors::default();
    out.push_str("# Data dictionary\n\n");
    if !model.summary.trim().is_empty() {
        out.push_str(model.summary.trim());
        out.push_str("\n\n");
    }

    // Anchors are computed in document order so that duplicates get GitHub's `-1`, `-2` suffixes.
    let entity_anchors: Vec<String> = model
        .entities
        .iter()
        .map(|e| anchors.next(&e.name))
        .collect();
    let relationships_anchor = anchors.next("Relationships");
    let narrative_anchor = anchors.next("Narrative");
    let has_narrative = !model.narrative.trim().is_empty();

    out.push_str("## Contents\n\n");
    for (entity, anchor) in model.entities.iter().zip(&entity_anchors) {
        let _ = writeln!(out, "- [{}](#{anchor})", link_text(&entity.name));
    }
    let _ = writeln!(out, "- [Relationships](#{relationships_anchor})");
    if has_narrative {
        let _ = writeln!(out, "- [Narrative](#{narrative_anchor})");
    }
    out.push('\n');

    let lookup = Lookup::new(model);
    for entity in &model.entities {
        entity_section(&lookup, entity, &mut out);
    }

    out.push_str("## Relationships\n\n");
    if model.relationships.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("| Name | From | To | Cardinality | On delete |\n");
        out.push_str("|---|---|---|---|---|\n");
        for r in &model.relationships {
            let _ = writeln!(
                out,
                "| {} | {} ({}) | {} ({}) | {} | {} |",
                cell(&r.name),
                cell(&r.from_entity),
                cell(&r.from_attributes.join(", ")),
                cell(&r.to_entity),
                cell(&r.to_attributes.join(", ")),
                r.cardinality,
                on_delete(r.on_delete)
            );
        }
        out.push('\n');
    }

    if has_narrative {
        out.push_str("## Narrative\n\n");
        out.push_str(&demote_headings(model.narrative.trim()));
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn entity_section(lookup: &Lookup, entity: &Entity, out: &mut String) {
    let _ = writeln!(out, "## {}\n", heading_text(&entity.name));
    if !entity.description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", entity.description.trim());
    }
    if !entity.tags.is_empty() {
        let _ = writeln!(out, "Tags: {}\n", code_list(&entity.tags));
    }
    out.push_str("| Attribute | Type | Null | Default | Keys | Description | Tags |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    let foreign_keys = lookup.keys(entity);
    for a in &entity.attributes {
        let mut keys: Vec<String> = Vec::new();
        if entity.is_key(&a.name) {
            keys.push("PK".into());
        }
        if is_unique_alone(entity, &a.name) {
            keys.push("UQ".into());
        }
        for (to_entity, to_attribute) in targets_in(foreign_keys, &a.name) {
            keys.push(format!("FK→{to_entity}.{to_attribute}"));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&a.name),
            code_cell(&a.data_type.to_string()),
            if a.nullable { "yes" } else { "no" },
            a.default.as_deref().map(code_cell).unwrap_or_default(),
            cell(&keys.join(" ")),
            cell(&a.description),
            cell(&a.tags.join(", "))
        );
    }
    out.push('\n');
    if entity.primary_key.len() > 1 {
        let _ = writeln!(out, "Primary key: ({})\n", code_list(&entity.primary_key));
    }
    if !entity.indexes.is_empty() {
        out.push_str("Indexes:\n\n");
        for index in &entity.indexes {
            let _ = writeln!(
                out,
                "- {}{} ({})",
                if index.unique { "unique " } else { "" },
                inline(&index.name),
                code_list(&index.attributes)
            );
        }
        out.push('\n');
    }
    if !entity.unique.is_empty() {
        out.push_str("Unique constraints:\n\n");
        for unique in &entity.unique {
            let _ = writeln!(out, "- ({})", code_list(unique));
        }
        out.push('\n');
    }
}

fn on_delete(value: OnDelete) -> &'static str {
    match value {
        OnDelete::NoAction => "no action",
        OnDelete::Restrict => "restrict",
        OnDelete::Cascade => "cascade",
        OnDelete::SetNull => "set null",
    }
}

/// One table cell: a `|` would end the cell and a line break the row.
fn cell(text: &str) -> String {
    text.trim()
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

/// A table cell holding a code span: GitHub's tables need `\|` even inside code, while other
/// backslash escapes would show literally there.
fn code_cell(text: &str) -> String {
    inline(text.trim()).replace('|', "\\|")
}

/// Text in a code span, with a fence longer than any run of backticks inside it.
fn inline(text: &str) -> String {
    let longest = longest_run(text, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!(
        "{fence}{pad}{}{pad}{fence}",
        text.replace(['\n', '\r'], " ")
    )
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|t| inline(t))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A heading's text on one line; a leading `#` would otherwise deepen the heading.
fn heading_text(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    if one_line.starts_with('#') {
        format!("\\{one_line}")
    } else {
        one_line
    }
}

/// Link text: brackets would end the link early.
fn link_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(['\n', '\r'], " ")
}

/// The longest run of `c` in `text`: a code span or fence around the text must be longer.
pub(crate) fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// Moves the narrative's ATX headings two levels down so that they nest under `## Narrative`
/// (up to level 6, the deepest Markdown has). Lines inside fenced code blocks are left alone.
fn demote_headings(narrative: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in narrative.lines() {
        let trimmed = line.trim_start();
        let marker: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        match &fence {
            Some(open) => {
                if marker.len() >= open.len() && marker.starts_with(&open[..1]) {
                    fence = None;
                }
                out.push_str(line);
            }
            None if marker.len() >= 3 => {
                fence = Some(marker);
                out.push_str(line);
            }
            None => {
                let level = trimmed.chars().take_while(|&c| c == '#').count();
                let is_heading = (1..=6).contains(&level)
                    && matches!(trimmed[level..].chars().next(), None | Some(' ' | '\t'));
                if is_heading && line.len() == trimmed.len() {
                    let deeper = (level + 2).min(6);
                    out.push_str(&"#".repeat(deeper));
                    out.push_str(&trimmed[level..]);
                } else {
                    out.push_str(line);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// GitHub-style heading anchors: lower case, spaces to `-`, other punctuation dropped, and a
/// `-n` suffix for the n-th repeat of the same anchor.
#[derive(Default)]
struct Anchors {
    /// How many headings gave each base anchor so far.
    seen: HashMap<String, usize>,
}

impl Anchors {
    fn next(&mut self, heading: &str) -> String {
        let base: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let count = self.seen.entry(base.clone()).or_insert(0);
        let repeats = *count;
        *count += 1;
        if repeats == 0 {
            base
        } else {
            format!("{base}-{repeats}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    #[test]
    fn library_v1() {
        insta::assert_snapshot!(markdown(&sample()));
    }

    #[test]
    fn library_v2() {
        let model = v2();
        insta::assert_snapshot!(markdown(&model));
    }

    #[test]
    fn cells_escape_pipes_and_line_breaks() {
        let check = |input: &str, expected: &str| assert_eq!(cell(input), expected, "{input:?}");
        check("a | b", "a \\| b");
        check("one\ntwo\r\nthree", "one<br>two<br>three");
        check("back\\slash", "back\\\\slash");
        check("  padded  ", "padded");
        assert_eq!(code_cell("a|b\\c"), "`a\\|b\\c`");
        assert_eq!(code_cell("`x`"), "`` `x` ``");
    }

    #[test]
    fn a_pipe_in_a_description_keeps_the_row_whole() {
        let mut model = sample();
        model.entities[0].attributes[0].description = "left | right\nnext line".into();
        let text = markdown(&model);
        let row = text
            .lines()
            .find(|l| l.starts_with("| id | `uuid`"))
            .expect("the id row is there");
        assert_eq!(row.matches(" | ").count(), 6, "{row}");
        assert!(row.contains("left \\| right<br>next line"), "{row}");
    }

    #[test]
    fn narrative_headings_nest_under_the_section() {
        let check = |input: &str, expected: &str| {
            assert_eq!(demote_headings(input), expected, "{input:?}");
        };
        check("# A\ntext", "### A\ntext\n");
        check("##### deep", "###### deep\n");
        check("#hashtag", "#hashtag\n");
        check(
            "```\n# not a heading\n```\n## B",
            "```\n# not a heading\n```\n#### B\n",
        );
        check("    # indented code", "    # indented code\n");
    }

    #[test]
    fn anchors_follow_github() {
        let mut anchors = Anchors::default();
        assert_eq!(anchors.next("Order Details"), "order-details");
        assert_eq!(anchors.next("relationships"), "relationships");
        assert_eq!(anchors.next("Relationships"), "relationships-1");
        assert_eq!(anchors.next("a.b (c)"), "ab-c");
    }
}
