//! A Markdown changelog between two drafts.
//!
//! The changelog is the review of `old` → `new` ([`analyze`]) written for people: a heading, the
//! counts per *severity* (breaking, risky, safe), then one section per severity in that order,
//! in which changes are grouped by the entity they belong to (model-wide changes such as the
//! summary come under "Model"). Each change is one bullet with its description, the reason for
//! its severity and what else it *affects*. The narrative's line diff closes the changelog as a
//! fenced `diff` block. Like the exporters it is deterministic and never fails.

use super::diff::Change;
use super::export::markdown::longest_run;
use super::impact::{analyze, AssessedChange, ImpactReport, LineTag, Severity};
use super::types::Model;
use std::fmt::Write;

/// A Markdown changelog from `old` to `new`: changes grouped by impact, then by entity.
pub fn changelog(old: &Model, new: &Model) -> String {
    changelog_of(&analyze(old, new))
}

/// The changelog of a review already made (what [`changelog`] writes after [`analyze`]).
pub fn changelog_of(report: &ImpactReport) -> String {
    let mut out = String::from("# Changelog\n\n");
    let total = report.changes.len();
    if total == 0 && report.narrative.is_empty() {
        out.push_str("No changes.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{total} {}: {} breaking, {} risky, {} safe.\n",
        if total == 1 { "change" } else { "changes" },
        report.breaking,
        report.risky,
        report.safe
    );
    for (severity, title) in [
        (Severity::Breaking, "Breaking"),
        (Severity::Risky, "Risky"),
        (Severity::Safe, "Safe"),
    ] {
        let _ = writeln!(out, "## {title}\n");
        let changes: Vec<&AssessedChange> = report
            .changes
            .iter()
            .filter(|c| c.impact.severity == severity)
            .collect();
        if changes.is_empty() {
            out.push_str("None.\n\n");
            continue;
        }
        // Groups in order of first appearance, which follows the diff's stable order.
        let mut groups: Vec<(Option<&str>, Vec<&AssessedChange>)> = Vec::new();
        for change in changes {
            let entity = change.change.entity();
            let same = |name: &Option<&str>| match (name, entity) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            };
            match groups.iter_mut().find(|(name, _)| same(name)) {
                Some((_, members)) => members.push(change),
                None => groups.push((entity, vec![change])),
            }
        }
        for (entity, members) in groups {
            let _ = writeln!(out, "### {}\n", entity.map_or("Model".to_string(), heading));
            for assessed in members {
                bullet(assessed, &mut out);
            }
            out.push('\n');
        }
    }
    if report.narrative.iter().any(|l| l.tag != LineTag::Equal) {
        out.push_str("## Narrative\n\n");
        let body: Vec<String> = report
            .narrative
            .iter()
            .map(|line| {
                let sign = match line.tag {
                    LineTag::Equal => ' ',
                    LineTag::Delete => '-',
                    LineTag::Insert => '+',
                };
                format!("{sign}{}", line.text)
            })
            .collect();
        // The fence must be longer than any run of backticks in the narrative.
        let longest = body.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let _ = writeln!(out, "{fence}diff\n{}\n{fence}", body.join("\n"));
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// One change: its description, then why it has its severity and what it affects.
fn bullet(assessed: &AssessedChange, out: &mut String) {
    let _ = writeln!(out, "- {}", one_line(&assessed.change.describe()));
    match &assessed.change {
        Change::SummaryChanged { from, to } | Change::EntityDescriptionChanged { from, to, .. } => {
            let _ = writeln!(out, "  - Was: {}", quoted(from));
            let _ = writeln!(out, "  - Now: {}", quoted(to));
        }
        _ => {}
    }
    if !assessed.impact.reason.trim().is_empty() {
        let _ = writeln!(out, "  - Why: {}", one_line(&assessed.impact.reason));
    }
    if !assessed.impact.affected.is_empty() {
        let _ = writeln!(
            out,
            "  - Affects: {}",
            one_line(&assessed.impact.affected.join(", "))
        );
    }
}

/// Text shown inside a bullet: a line break would end it.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn quoted(text: &str) -> String {
    if text.trim().is_empty() {
        "(none)".into()
    } else {
        format!("“{}”", one_line(text))
    }
}

/// A heading's text: one line, and a leading `#` escaped so it does not deepen the heading.
fn heading(text: &str) -> String {
    let line = one_line(text);
    if line.starts_with('#') {
        format!("\\{line}")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};

    #[test]
    fn no_changes() {
        let model = sample();
        assert_eq!(changelog(&model, &model), "# Changelog\n\nNo changes.\n");
    }

    #[test]
    fn library_v1_to_v2() {
        insta::assert_snapshot!(changelog(&sample(), &v2()));
    }

    #[test]
    fn library_v2_to_v1() {
        insta::assert_snapshot!(changelog(&v2(), &sample()));
    }

    #[test]
    fn every_change_is_listed_once_under_its_severity() {
        let (old, new) = (sample(), v2());
        let report = analyze(&old, &new);
        let text = changelog(&old, &new);
        assert!(!report.changes.is_empty());
        for assessed in &report.changes {
            let line = format!("- {}\n", one_line(&assessed.change.describe()));
            assert_eq!(text.matches(&line).count(), 1, "{line} in {text}");
        }
        let breaking = text.find("## Breaking").expect("breaking section");
        let risky = text.find("## Risky").expect("risky section");
        let safe = text.find("## Safe").expect("safe section");
        assert!(breaking < risky && risky < safe);
    }

    #[test]
    fn the_narrative_fence_outlasts_its_backticks() {
        let mut new = sample();
        new.narrative.push_str("\n```sql\nselect 1;\n```\n");
        let text = changelog(&sample(), &new);
        assert!(text.contains("````diff\n"), "{text}");
        assert!(text.ends_with("\n````\n"), "{text}");
        assert!(text.contains("\n+```sql\n"), "{text}");
    }
}
