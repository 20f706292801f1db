//! The read-only page of a share link, and the files it offers, made from a [`ShareDoc`].
//!
//! A *share doc* is what a link shows: one draft, or a *pair* (the older draft in `old`, the
//! newer in `draft`) for a review. The *page* is an HTML fragment (no `<html>`, `<head>` or
//! `<body>`: the caller wraps it) holding, in this order: the header (title, domain, draft
//! numbers, dates, counts) with the summary; for a pair the *impact report* (every change
//! judged breaking, risky or safe, with its reason, as [`crate::impact::analyze`] gives it);
//! the ER diagram as inline SVG (for a pair the review diagram, changes highlighted); the *data
//! dictionary* (a table of contents, then each table with its columns, keys, constraints,
//! indexes and relationships); the narrative; and the *downloads*, the files the page offers
//! ([`Download`]), each written by the core's own exporters.
//!
//! The same code renders both kinds of link: the server renders a plain link's page
//! (`/s/{token}`, complete without JavaScript), and the tools wasm module renders an encrypted
//! link's page in the reader's browser ([`crate::tools::ToolRequest::SharePage`]), which
//! inserts the HTML as it is. So the HTML is *safe by construction*: every piece of model text
//! is escaped, the only links are the page's own anchors, the download targets the caller
//! gives, and the narrative's links that [`crate::narrative`] kept (absolute `http`, `https`
//! and `mailto`); there is no `<script>`, `<style>`, inline style or event attribute, which the
//! page's Content Security Policy would refuse anyway. Every id and class starts with `share-`
//! so that the fragment cannot collide with the page around it. Elements are written the way
//! XML would read them too (every attribute quoted, void elements closed with `/>`), which
//! lets the tests check the whole fragment with an XML parser.

use crate::changelog::changelog_of;
use crate::diagram::svg::{self, esc, SvgOptions};
use crate::diagram::{Highlight, Mark};
use crate::export::{
    export, export_with_warnings, is_unique_alone, targets_in, warning_summary, ExportFormat,
    ExportWarning, Lookup,
};
use crate::impact::{analyze, AssessedChange, ImpactReport, LineTag, Severity};
use crate::migrate::migration_sql;
use crate::narrative::{self, Block, Inline};
use crate::types::{Entity, Model, Relationship};
use crate::wire::{ShareDoc, SharedDraft};
use crate::SqlDialect;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// One file a share page offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Download {
    /// Stable id used in URLs: "markdown", "sql-postgres", "sql-mysql", "sql-sqlite", "plantuml",
    /// "mermaid", "dbml", "json-schema", "json", "svg"; for a pair also "impact", "changelog",
    /// "migration-postgres", "migration-mysql", "migration-sqlite".
    pub format: &'static str,
    /// What the page shows on the link ("SQL DDL (PostgreSQL)").
    pub label: &'static str,
    /// A safe file name from the domain name and draft number(s) ("billing-draft-3.sql",
    /// "billing-draft-2-to-3-migration-postgres.sql"): ASCII letters, digits, '-', '_' and '.' only.
    pub file_name: String,
    /// MIME type with charset for text ("text/markdown; charset=utf-8", "application/sql; charset=utf-8", "image/svg+xml", "application/json").
    pub media_type: &'static str,
}

/// What a download is made of.
#[derive(Clone, Copy)]
enum Content {
    /// The newer draft exported by the core.
    Export(ExportFormat),
    /// The diagram as an SVG document (for a pair, the review diagram).
    Svg,
    /// The pair's impact report as JSON.
    Impact,
    /// The pair's Markdown changelog.
    Changelog,
    /// Migration SQL from the older draft to the newer.
    Migration(SqlDialect),
}

/// One kind of download: its id, label, media type, what follows the file name's stem (the
/// extension, with the dialect where three files would otherwise share a name), and content.
struct Kind {
    format: &'static str,
    label: &'static str,
    media_type: &'static str,
    suffix: &'static str,
    content: Content,
}

const MARKDOWN: &str = "text/markdown; charset=utf-8";
const SQL: &str = "application/sql; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
const SVG: &str = "image/svg+xml";

/// What every link offers: the newer draft in each format the core writes.
const DRAFT_KINDS: [Kind; 10] = [
    Kind {
        format: "markdown",
        label: "Data dictionary (Markdown)",
        media_type: MARKDOWN,
        suffix: ".md",
        content: Content::Export(ExportFormat::Markdown),
    },
    Kind {
        format: "sql-postgres",
        label: "SQL DDL (PostgreSQL)",
        media_type: SQL,
        suffix: "-postgres.sql",
        content: Content::Export(ExportFormat::Sql(SqlDialect::Postgres)),
    },
    Kind {
        format: "sql-mysql",
        label: "SQL DDL (MySQL / MariaDB)",
        media_type: SQL,
        suffix: "-mysql.sql",
        content: Content::Export(ExportFormat::Sql(SqlDialect::Mysql)),
    },
    Kind {
        format: "sql-sqlite",
        label: "SQL DDL (SQLite)",
        media_type: SQL,
        suffix: "-sqlite.sql",
        content: Content::Export(ExportFormat::Sql(SqlDialect::Sqlite)),
    },
    Kind {
        format: "plantuml",
        label: "PlantUML ER diagram",
        media_type: TEXT,
        suffix: ".puml",
        content: Content::Export(ExportFormat::PlantUml),
    },
    Kind {
        format: "mermaid",
        label: "Mermaid ER diagram",
        media_type: TEXT,
        suffix: ".mmd",
        content: Content::Export(ExportFormat::Mermaid),
    },
    Kind {
        format: "dbml",
        label: "DBML",
        media_type: TEXT,
        suffix: ".dbml",
        content: Content::Export(ExportFormat::Dbml),
    },
    Kind {
        format: "json-schema",
        label: "JSON Schema",
        media_type: JSON,
        suffix: ".schema.json",
        content: Content::Export(ExportFormat::JsonSchema),
    },
    Kind {
        format: "json",
        label: "Model (Data Modeller JSON)",
        media_type: JSON,
        suffix: ".json",
        content: Content::Export(ExportFormat::Json),
    },
    Kind {
        format: "svg",
        label: "Diagram (SVG)",
        media_type: SVG,
        suffix: ".svg",
        content: Content::Svg,
    },
];

/// What a pair offers besides: the review itself. Their files are named after both drafts.
const PAIR_KINDS: [Kind; 5] = [
    Kind {
        format: "impact",
        label: "Impact report (JSON)",
        media_type: JSON,
        suffix: "-impact.json",
        content: Content::Impact,
    },
    Kind {
        format: "changelog",
        label: "Changelog (Markdown)",
        media_type: MARKDOWN,
        suffix: "-changelog.md",
        content: Content::Changelog,
    },
    Kind {
        format: "migration-postgres",
        label: "Migration SQL (PostgreSQL)",
        media_type: SQL,
        suffix: "-migration-postgres.sql",
        content: Content::Migration(SqlDialect::Postgres),
    },
    Kind {
        format: "migration-mysql",
        label: "Migration SQL (MySQL / MariaDB)",
        media_type: SQL,
        suffix: "-migration-mysql.sql",
        content: Content::Migration(SqlDialect::Mysql),
    },
    Kind {
        format: "migration-sqlite",
        label: "Migration SQL (SQLite)",
        media_type: SQL,
        suffix: "-migration-sqlite.sql",
        content: Content::Migration(SqlDialect::Sqlite),
    },
];

/// A pair's SVG is the review diagram the page shows, so its label and name say so.
const REVIEW_SVG_LABEL: &str = "Review diagram (SVG)";
const REVIEW_SVG_SUFFIX: &str = "-review.svg";

/// One download as the page offers it: its kind, the download, and whether it belongs to the
/// review (listed under it) rather than to the newer draft.
struct Offer {
    kind: &'static Kind,
    download: Download,
    review: bool,
}

/// The downloads `doc` offers with their kinds, in the page's order: for a pair the review's
/// first (its files, then its diagram), as the page leads with the review; then the draft's.
fn offered(doc: &ShareDoc) -> Vec<Offer> {
    let stem = file_stem(&doc.domain);
    let draft_stem = format!("{stem}-draft-{}", doc.draft.number);
    let mut out = Vec::new();
    let Some(old) = &doc.old else {
        for kind in &DRAFT_KINDS {
            out.push(Offer {
                kind,
                download: download_of(kind, kind.label, &draft_stem, kind.suffix),
                review: false,
            });
        }
        return out;
    };
    let pair_stem = format!("{stem}-draft-{}-to-{}", old.number, doc.draft.number);
    for kind in &PAIR_KINDS {
        out.push(Offer {
            kind,
            download: download_of(kind, kind.label, &pair_stem, kind.suffix),
            review: true,
        });
    }
    for kind in &DRAFT_KINDS {
        if matches!(kind.content, Content::Svg) {
            out.insert(
                PAIR_KINDS.len(),
                Offer {
                    kind,
                    download: download_of(kind, REVIEW_SVG_LABEL, &pair_stem, REVIEW_SVG_SUFFIX),
                    review: true,
                },
            );
        } else {
            out.push(Offer {
                kind,
                download: download_of(kind, kind.label, &draft_stem, kind.suffix),
                review: false,
            });
        }
    }
    out
}

fn download_of(kind: &Kind, label: &'static str, stem: &str, suffix: &str) -> Download {
    Download {
        format: kind.format,
        label,
        file_name: format!("{stem}{suffix}"),
        media_type: kind.media_type,
    }
}

/// The downloads `doc` offers, in the order the page lists them.
pub fn downloads(doc: &ShareDoc) -> Vec<Download> {
    offered(doc).into_iter().map(|o| o.download).collect()
}

/// The content of one download; `None` for an unknown format or one this doc does not offer
/// (the pair formats on a single draft).
pub fn download(doc: &ShareDoc, format: &str) -> Option<(Download, String)> {
    let Offer { kind, download, .. } =
        offered(doc).into_iter().find(|o| o.kind.format == format)?;
    let model = &doc.draft.model;
    let old = doc.old.as_ref().map(|o| &o.model);
    let text = match (kind.content, old) {
        (Content::Export(format), _) => {
            let text = export(model, format);
            // DBML has nothing to write for a model without tables; an offered file is never
            // empty, so it says so in a DBML comment.
            if text.trim().is_empty() {
                "// the model has no tables\n".to_string()
            } else {
                text
            }
        }
        (Content::Svg, _) => {
            let (diagram, highlight) = crate::tools::diagram_of(model, &doc.positions, old);
            let options = SvgOptions {
                highlight,
                title: Some(title(doc)),
                legend: true,
            };
            svg::render(&diagram, &options)
        }
        (Content::Impact, Some(old)) => {
            let report = analyze(old, model);
            // Serializing the report cannot fail (string keys, plain fields), but a download
            // must never panic, so a failure still gives valid JSON.
            let mut text = serde_json::to_string_pretty(&report)
                .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
            text.push('\n');
            text
        }
        (Content::Changelog, Some(old)) => changelog_of(&analyze(old, model)),
        (Content::Migration(dialect), Some(old)) => match migration_sql(old, model, dialect) {
            Ok(sql) => sql,
            // A migration the dialect cannot express is still a file: a comment saying why,
            // on one line so that no name in the message can end the comment and become SQL.
            Err(e) => format!("-- {}\n", one_line(&e.to_string())),
        },
        // The pair kinds are only offered with an older draft.
        (Content::Impact | Content::Changelog | Content::Migration(_), None) => return None,
    };
    Some((download, text))
}

/// "billing · draft 3", or "billing · draft 2 → 3" for a pair.
pub fn title(doc: &ShareDoc) -> String {
    let domain = one_line(&doc.domain);
    let domain = if domain.is_empty() {
        "Untitled domain".to_string()
    } else {
        domain
    };
    match &doc.old {
        None => format!("{domain} · draft {}", doc.draft.number),
        Some(old) => format!("{domain} · draft {} → {}", old.number, doc.draft.number),
    }
}

/// Longest description, in characters, before it is cut at a word.
const DESCRIPTION_CHARS: usize = 200;

/// One plain-text line for the OpenGraph description: the model's summary (shortened to about 200 chars at a word boundary) or, when empty, "N tables, M relationships".
pub fn description(doc: &ShareDoc) -> String {
    let model = &doc.draft.model;
    let summary = one_line(&model.summary);
    if summary.is_empty() {
        return format!(
            "{}, {}",
            counted(model.entities.len(), "table", "tables"),
            counted(model.relationships.len(), "relationship", "relationships")
        );
    }
    shorten(&summary, DESCRIPTION_CHARS)
}

/// The page's content as an HTML fragment (no `<html>`, `<head>` or `<body>`): safe by
/// construction. `href` gives each download link's target (the server passes
/// `/s/<token>/download/<format>`, the encrypted page passes `#download-<format>`).
pub fn render_html(doc: &ShareDoc, href: &dyn Fn(&Download) -> String) -> String {
    let model = &doc.draft.model;
    let old = doc.old.as_ref();
    let report = old.map(|o| analyze(&o.model, model));
    let (diagram, highlight) =
        crate::tools::diagram_of(model, &doc.positions, old.map(|o| &o.model));
    let ids = TableIds::new(model);

    let blocks = narrative::parse(&model.narrative);

    let mut out = String::with_capacity(16 * 1024 + model.entities.len() * 4096);
    out.push_str("<article class=\"share-doc\">\n");
    header(doc, report.is_some(), !blocks.is_empty(), &mut out);
    if let (Some(report), Some(old)) = (&report, old) {
        impact_section(report, old, &doc.draft, &ids, &mut out);
    }

    out.push_str("<section class=\"share-section\" id=\"share-diagram\">\n<h2>Diagram</h2>\n");
    if model.entities.is_empty() && old.is_none_or(|o| o.model.entities.is_empty()) {
        out.push_str("<p class=\"share-empty\">No tables.</p>\n");
    } else {
        let caption = match old {
            None => "Each box is a table: its columns with key marks (PK, FK, UK), types and \
                     NULL where a column may be empty. Lines join foreign keys to the keys they \
                     reference."
                .to_string(),
            Some(o) => format!(
                "Draft {} with what changed since draft {}: added in green, removed in red, \
                 changed in amber. Removed tables and columns are drawn where they were.",
                doc.draft.number, o.number
            ),
        };
        let options = SvgOptions {
            highlight: highlight.clone(),
            title: None,
            legend: true,
        };
        let _ = write!(
            out,
            "<figure class=\"share-diagram\">\n<div class=\"share-diagram-scroll\" role=\"region\" \
             aria-label=\"ER diagram (scrolls)\" tabindex=\"0\">\n{}</div>\n\
             <figcaption>{}</figcaption>\n</figure>\n",
            svg::render_inline(&diagram, &options),
            esc(&caption)
        );
    }
    out.push_str("</section>\n");

    dictionary(model, &ids, highlight.as_ref(), &mut out);

    if !blocks.is_empty() {
        out.push_str(
            "<section class=\"share-section share-narrative\" id=\"share-narrative\">\n\
             <h2>Narrative</h2>\n<div class=\"share-prose\">\n",
        );
        blocks_html(&blocks, &mut out);
        out.push_str("</div>\n</section>\n");
    }

    downloads_section(doc, href, &mut out);
    out.push_str("</article>\n");
    out
}

/// The header: title, facts, summary and the page's own contents.
fn header(doc: &ShareDoc, pair: bool, has_narrative: bool, out: &mut String) {
    let model = &doc.draft.model;
    out.push_str("<header class=\"share-header\">\n");
    let _ = writeln!(
        out,
        "<p class=\"share-kicker\">{}</p>\n<h1>{}</h1>",
        if pair {
            "Shared review, read only"
        } else {
            "Shared draft, read only"
        },
        esc(&title(doc))
    );
    out.push_str("<dl class=\"share-facts\">\n");
    fact(out, "Domain", &esc(&one_line(&doc.domain)));
    match &doc.old {
        None => {
            fact(out, "Draft", &doc.draft.number.to_string());
            fact(out, "Made", &time(doc.draft.created_at));
        }
        Some(old) => {
            fact(
                out,
                "Drafts",
                &format!("{} → {}", old.number, doc.draft.number),
            );
            fact(
                out,
                "Made",
                &format!("{} → {}", time(old.created_at), time(doc.draft.created_at)),
            );
        }
    }
    let before = doc.old.as_ref().map(|o| &o.model);
    let count = |now: usize, was: Option<usize>| match was {
        Some(was) if was != now => format!("{now} <span class=\"share-was\">(was {was})</span>"),
        _ => now.to_string(),
    };
    fact(
        out,
        "Tables",
        &count(model.entities.len(), before.map(|m| m.entities.len())),
    );
    fact(
        out,
        "Attributes",
        &count(model.attribute_count(), before.map(Model::attribute_count)),
    );
    fact(
        out,
        "Relationships",
        &count(
            model.relationships.len(),
            before.map(|m| m.relationships.len()),
        ),
    );
    out.push_str("</dl>\n");
    let summary = model.summary.trim();
    if !summary.is_empty() {
        let _ = writeln!(out, "<p class=\"share-summary\">{}</p>", esc(summary));
    }
    out.push_str("<nav class=\"share-nav\" aria-label=\"On this page\">\n<ul>\n");
    if pair {
        out.push_str("<li><a href=\"#share-changes\">Changes</a></li>\n");
    }
    out.push_str(
        "<li><a href=\"#share-diagram\">Diagram</a></li>\n\
         <li><a href=\"#share-dictionary\">Data dictionary</a></li>\n",
    );
    if has_narrative {
        out.push_str("<li><a href=\"#share-narrative\">Narrative</a></li>\n");
    }
    out.push_str("<li><a href=\"#share-downloads\">Downloads</a></li>\n</ul>\n</nav>\n");
    out.push_str("</header>\n");
}

/// One term of the header's facts; `html` is already escaped.
fn fact(out: &mut String, term: &str, html: &str) {
    let _ = writeln!(out, "<div><dt>{term}</dt><dd>{html}</dd></div>");
}

/// A draft's date as a `<time>` element.
fn time(ms: i64) -> String {
    let day = date(ms);
    format!("<time datetime=\"{day}\">{day}</time>")
}

/// The impact report: counts, then each severity's changes with reasons and what they touch,
/// then the narrative's line diff.
fn impact_section(
    report: &ImpactReport,
    old: &SharedDraft,
    new: &SharedDraft,
    ids: &TableIds,
    out: &mut String,
) {
    let _ = writeln!(
        out,
        "<section class=\"share-section share-impact\" id=\"share-changes\">\n\
         <h2>Changes from draft {} to draft {}</h2>",
        old.number, new.number
    );
    let narrative_changed = report.narrative.iter().any(|l| l.tag != LineTag::Equal);
    if report.changes.is_empty() && !narrative_changed {
        out.push_str("<p class=\"share-empty\">No changes.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<p class=\"share-impact-counts\">{}: \
         <span class=\"share-sev share-sev-breaking\">{} breaking</span> \
         <span class=\"share-sev share-sev-risky\">{} risky</span> \
         <span class=\"share-sev share-sev-safe\">{} safe</span></p>",
        counted(report.changes.len(), "change", "changes"),
        report.breaking,
        report.risky,
        report.safe
    );
    for (severity, name, heading) in [
        (Severity::Breaking, "breaking", "Breaking"),
        (Severity::Risky, "risky", "Risky"),
        (Severity::Safe, "safe", "Safe"),
    ] {
        let changes: Vec<&AssessedChange> = report
            .changes
            .iter()
            .filter(|c| c.impact.severity == severity)
            .collect();
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h3 class=\"share-sev-heading share-sev-heading-{name}\">{heading} \
             <span class=\"share-count\">{}</span></h3>\n<ul class=\"share-changes\">",
            changes.len()
        );
        for assessed in changes {
            change_item(assessed, name, ids, out);
        }
        out.push_str("</ul>\n");
    }
    if narrative_changed {
        let changed = report
            .narrative
            .iter()
            .filter(|l| l.tag != LineTag::Equal)
            .count();
        let _ = write!(
            out,
            "<details class=\"share-narrative-diff\">\n<summary>Narrative: {} changed</summary>\n\
             <pre><code>",
            counted(changed, "line", "lines")
        );
        // Lines are separated by line breaks inside the `<pre>` (not after `<code>`, which
        // would show as an empty first line), so that copied text keeps them.
        let lines: Vec<String> = report
            .narrative
            .iter()
            .map(|line| {
                let (class, sign) = match line.tag {
                    LineTag::Equal => ("share-line", ' '),
                    LineTag::Delete => ("share-line share-line-del", '-'),
                    LineTag::Insert => ("share-line share-line-ins", '+'),
                };
                format!("<span class=\"{class}\">{sign} {}</span>", esc(&line.text))
            })
            .collect();
        out.push_str(&lines.join("\n"));
        out.push_str("</code></pre>\n</details>\n");
    }
    out.push_str("</section>\n");
}

/// One change: what changed (names as code), why it has its severity, what else it touches,
/// and a link to its table when the newer draft has it.
fn change_item(assessed: &AssessedChange, severity: &str, ids: &TableIds, out: &mut String) {
    let _ = write!(
        out,
        "<li class=\"share-change share-change-{severity}\">\n<p class=\"share-change-text\">{}",
        with_code(&assessed.change.describe())
    );
    if let Some(id) = assessed.change.entity().and_then(|e| ids.get(e)) {
        let _ = write!(out, " <a class=\"share-jump\" href=\"#{id}\">see table</a>");
    }
    out.push_str("</p>\n");
    if let crate::diff::Change::SummaryChanged { from, to }
    | crate::diff::Change::EntityDescriptionChanged { from, to, .. } = &assessed.change
    {
        let _ = writeln!(
            out,
            "<p class=\"share-change-was\">Was: {}</p>\n<p class=\"share-change-now\">Now: {}</p>",
            quoted(from),
            quoted(to)
        );
    }
    if !assessed.impact.reason.trim().is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"share-change-reason\">{}</p>",
            with_code(&assessed.impact.reason)
        );
    }
    if !assessed.impact.affected.is_empty() {
        let affected: Vec<String> = assessed
            .impact
            .affected
            .iter()
            .map(|a| format!("<code>{}</code>", esc(a)))
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"share-change-affected\">Affects: {}</p>",
            affected.join(", ")
        );
    }
    out.push_str("</li>\n");
}

/// Escaped text in which the spans between backticks (how the core's descriptions quote
/// names) become code.
fn with_code(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

fn quoted(text: &str) -> String {
    let text = one_line(text);
    if text.is_empty() {
        "<span class=\"share-none\">(none)</span>".into()
    } else {
        format!("“{}”", esc(&text))
    }
}

/// The data dictionary: the table of contents, then one section per table.
fn dictionary(model: &Model, ids: &TableIds, highlight: Option<&Highlight>, out: &mut String) {
    out.push_str(
        "<section class=\"share-section share-dictionary\" id=\"share-dictionary\">\n\
         <h2>Data dictionary</h2>\n",
    );
    if model.entities.is_empty() {
        out.push_str("<p class=\"share-empty\">No tables.</p>\n</section>\n");
        return;
    }
    out.push_str("<nav class=\"share-toc\" aria-label=\"Tables\">\n<ol>\n");
    for (i, entity) in model.entities.iter().enumerate() {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a>{} <span class=\"share-count\">{}</span></li>",
            ids.of(i),
            esc(&entity.name),
            mark_badge(highlight.and_then(|h| h.entity(&entity.name))),
            counted(entity.attributes.len(), "column", "columns")
        );
    }
    out.push_str("</ol>\n</nav>\n");
    let relationships = RelationshipIndex::new(model);
    let lookup = Lookup::new(model);
    let context = Context {
        model,
        ids,
        relationships: &relationships,
        lookup: &lookup,
        highlight,
    };
    for (i, entity) in model.entities.iter().enumerate() {
        table_section(&context, i, entity, out);
    }
    out.push_str("</section>\n");
}

/// What every table's section looks things up in, found once per page.
struct Context<'a> {
    model: &'a Model,
    ids: &'a TableIds,
    relationships: &'a RelationshipIndex,
    /// Each table's foreign keys (the exporters' own lookup).
    lookup: &'a Lookup<'a>,
    /// For a pair, what changed (names as in the newer draft).
    highlight: Option<&'a Highlight>,
}

/// One table of the dictionary.
fn table_section(context: &Context, index: usize, entity: &Entity, out: &mut String) {
    let Context {
        model,
        ids,
        relationships,
        lookup,
        highlight,
    } = *context;
    let mark = highlight.and_then(|h| h.entity(&entity.name));
    let _ = writeln!(
        out,
        "<section class=\"share-table{}\" id=\"{}\">\n<h3>{}{}</h3>",
        mark_class(mark),
        ids.of(index),
        esc(&entity.name),
        mark_badge(mark)
    );
    if !entity.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"share-description\">{}</p>",
            esc(entity.description.trim())
        );
    }
    if !entity.tags.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"share-tags\">Tags: {}</p>",
            tags(&entity.tags)
        );
    }

    let foreign_keys = lookup.keys(entity);
    let _ = writeln!(
        out,
        "<div class=\"share-scroll\" role=\"region\" aria-label=\"Columns of {}\" tabindex=\"0\">\n\
         <table class=\"share-columns\">\n<thead><tr><th scope=\"col\">Column</th>\
         <th scope=\"col\">Type</th><th scope=\"col\">Null</th><th scope=\"col\">Default</th>\
         <th scope=\"col\">Keys</th><th scope=\"col\">Description</th><th scope=\"col\">Tags</th>\
         </tr></thead>\n<tbody>",
        esc(&entity.name)
    );
    for a in &entity.attributes {
        let row_mark = highlight.and_then(|h| h.attribute(&entity.name, &a.name));
        let mut keys: Vec<String> = Vec::new();
        if entity.is_key(&a.name) {
            keys.push("<abbr class=\"share-key\" title=\"primary key\">PK</abbr>".into());
        }
        for (to_entity, to_attribute) in targets_in(foreign_keys, &a.name) {
            keys.push(format!(
                "<span class=\"share-key\"><abbr title=\"foreign key\">FK</abbr> → {}.{}</span>",
                table_link(to_entity, ids),
                esc(to_attribute)
            ));
        }
        if is_unique_alone(entity, &a.name) {
            keys.push("<abbr class=\"share-key\" title=\"unique\">UK</abbr>".into());
        }
        let mut data_type = format!("<code>{}</code>", esc(&a.data_type.to_string()));
        if a.case_insensitive {
            data_type.push_str(" <span class=\"share-note\">case-insensitive</span>");
        }
        if let Some(native) = &a.native {
            let _ = write!(
                data_type,
                " <span class=\"share-note\">{}: <code>{}</code></span>",
                esc(native.dialect.label()),
                esc(&native.name)
            );
        }
        let default = match (&a.default, a.auto_increment) {
            (Some(d), _) => format!("<code>{}</code>", esc(d)),
            (None, true) => "<span class=\"share-note\">auto-numbered</span>".into(),
            (None, false) => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr{}><th scope=\"row\">{}{}</th><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"share-keys\">{}</td><td>{}</td><td>{}</td></tr>",
            match row_mark {
                Some(m) => format!(" class=\"{}\"", mark_class(Some(m)).trim_start()),
                None => String::new(),
            },
            esc(&a.name),
            mark_badge(row_mark),
            data_type,
            if a.nullable { "yes" } else { "no" },
            default,
            keys.join(" "),
            esc(a.description.trim()),
            tags(&a.tags)
        );
    }
    out.push_str("</tbody>\n</table>\n</div>\n");

    if entity.primary_key.len() > 1 {
        let _ = writeln!(
            out,
            "<p class=\"share-pk\">Primary key: {}</p>",
            column_list(&entity.primary_key)
        );
    }
    if !entity.unique.is_empty() {
        out.push_str("<h4>Unique constraints</h4>\n<ul class=\"share-constraints\">\n");
        for unique in &entity.unique {
            let _ = writeln!(out, "<li>{}</li>", column_list(unique));
        }
        out.push_str("</ul>\n");
    }
    if !entity.indexes.is_empty() {
        out.push_str("<h4>Indexes</h4>\n<ul class=\"share-indexes\">\n");
        for index in &entity.indexes {
            let _ = write!(
                out,
                "<li><code>{}</code>{} on {}",
                esc(&index.name),
                if index.unique { " (unique)" } else { "" },
                column_list(&index.attributes)
            );
            if let Some(expression) = &index.expression {
                let _ = write!(
                    out,
                    ", expression <code>{}</code>",
                    esc(&one_line(expression))
                );
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    let taking_part = relationships.of(entity);
    if !taking_part.is_empty() {
        out.push_str("<h4>Relationships</h4>\n<ul class=\"share-relationships\">\n");
        for &ri in taking_part {
            relationship_item(&model.relationships[ri], entity, ids, out);
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// One relationship seen from `entity`: which way it points, the other table (linked), the
/// link as the core prints it, cardinality, on-delete action and name.
fn relationship_item(r: &Relationship, entity: &Entity, ids: &TableIds, out: &mut String) {
    let from_here = r.from_entity.eq_ignore_ascii_case(&entity.name);
    let to_here = r.to_entity.eq_ignore_ascii_case(&entity.name);
    let direction = match (from_here, to_here) {
        (true, true) => "references itself".to_string(),
        (true, false) => format!("references {}", table_link(&r.to_entity, ids)),
        _ => format!("referenced by {}", table_link(&r.from_entity, ids)),
    };
    let _ = write!(
        out,
        "<li>{direction}: <code>{}</code>, {}, on delete {}",
        esc(&r.link()),
        r.cardinality,
        r.on_delete
    );
    if !r.name.trim().is_empty() {
        let _ = write!(
            out,
            " <span class=\"share-note\">(<code>{}</code>)</span>",
            esc(&r.name)
        );
    }
    out.push_str("</li>\n");
}

/// A link to the table `name` on this page, or its name alone when the draft has no such
/// table (a relationship to a missing entity).
fn table_link(name: &str, ids: &TableIds) -> String {
    match ids.get(name) {
        Some(id) => format!("<a href=\"#{id}\">{}</a>", esc(name)),
        None => esc(name),
    }
}

fn column_list(columns: &[String]) -> String {
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("<code>{}</code>", esc(c)))
        .collect();
    format!("({})", names.join(", "))
}

fn tags(tags: &[String]) -> String {
    tags.iter()
        .map(|t| format!("<span class=\"share-tag\">{}</span>", esc(t)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The class a review mark gives a table or row (with its leading space), or nothing.
fn mark_class(mark: Option<Mark>) -> &'static str {
    match mark {
        None => "",
        Some(Mark::Added) => " share-added",
        Some(Mark::Removed) => " share-removed",
        Some(Mark::Changed) => " share-changed",
    }
}

/// A review mark as a word beside the name, so that it is read as well as seen.
fn mark_badge(mark: Option<Mark>) -> &'static str {
    match mark {
        None => "",
        Some(Mark::Added) => " <span class=\"share-mark share-mark-added\">added</span>",
        Some(Mark::Removed) => " <span class=\"share-mark share-mark-removed\">removed</span>",
        Some(Mark::Changed) => " <span class=\"share-mark share-mark-changed\">changed</span>",
    }
}

/// The downloads list: for a pair the review's files first, then the draft's; each link with
/// its file name, and under the SQL files what the export does not write as the model says.
fn downloads_section(doc: &ShareDoc, href: &dyn Fn(&Download) -> String, out: &mut String) {
    out.push_str(
        "<section class=\"share-section share-downloads\" id=\"share-downloads\">\n\
         <h2>Downloads</h2>\n",
    );
    let all = offered(doc);
    let groups: [(String, Vec<&Offer>); 2] = [
        (
            "The review".to_string(),
            all.iter().filter(|o| o.review).collect(),
        ),
        (
            format!("Draft {}", doc.draft.number),
            all.iter().filter(|o| !o.review).collect(),
        ),
    ];
    for (heading, entries) in groups {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h3>{}</h3>\n<ul class=\"share-download-list\">",
            esc(&heading)
        );
        for Offer {
            kind, download: d, ..
        } in entries
        {
            let _ = write!(
                out,
                "<li><a href=\"{}\" download=\"{}\" data-format=\"{}\">{}</a> \
                 <span class=\"share-file\">{}</span>",
                esc(&safe_target(&href(d))),
                esc(&d.file_name),
                esc(d.format),
                esc(d.label),
                esc(&d.file_name)
            );
            if let Content::Export(format @ ExportFormat::Sql(_)) = kind.content {
                let (_, warnings) = export_with_warnings(&doc.draft.model, format);
                warnings_html(&warnings, out);
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// The warnings of one SQL export, folded under their count (a `<details>` opens without
/// script).
fn warnings_html(warnings: &[ExportWarning], out: &mut String) {
    let Some(summary) = warning_summary(warnings) else {
        return;
    };
    let _ = writeln!(
        out,
        "\n<details class=\"share-warnings\">\n<summary>{}</summary>\n<ul>",
        esc(&summary)
    );
    for w in warnings {
        let kind = match w.kind {
            crate::export::WarningKind::Lost => "lost",
            crate::export::WarningKind::Changed => "changed",
        };
        let _ = writeln!(
            out,
            "<li><code>{}</code> {kind}: {}</li>",
            esc(&w.place()),
            with_code(&w.message)
        );
    }
    out.push_str("</ul>\n</details>\n");
}

/// A download target as the caller gave it when it is a path, a fragment, a query or an
/// `http(s)` address; anything else (a `javascript:` or `data:` address by mistake) becomes
/// `#`, so that the page stays inert whatever the caller passes.
fn safe_target(target: &str) -> String {
    let lower = target.trim_start().to_ascii_lowercase();
    let ok = ["/", "#", "?", "http://", "https://"]
        .iter()
        .any(|p| lower.starts_with(p))
        && !target.chars().any(|c| c.is_control());
    if ok {
        target.to_string()
    } else {
        "#".to_string()
    }
}

/// The narrative's blocks as HTML. Its headings sit under the page's `<h2>Narrative</h2>`, so
/// level 1 becomes `<h3>` and so on down to `<h6>`.
fn blocks_html(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Heading { level, content } => {
                let h = (level.saturating_add(2)).clamp(3, 6);
                let _ = write!(out, "<h{h}>");
                inlines_html(content, false, out);
                let _ = writeln!(out, "</h{h}>");
            }
            Block::Paragraph { content } => {
                out.push_str("<p>");
                inlines_html(content, false, out);
                out.push_str("</p>\n");
            }
            Block::List { start, items } => {
                match start {
                    None => out.push_str("<ul>\n"),
                    Some(1) => out.push_str("<ol>\n"),
                    Some(n) => {
                        let _ = writeln!(out, "<ol start=\"{n}\">");
                    }
                }
                for item in items {
                    out.push_str("<li>");
                    blocks_html(item, out);
                    out.push_str("</li>\n");
                }
                out.push_str(if start.is_some() {
                    "</ol>\n"
                } else {
                    "</ul>\n"
                });
            }
            Block::Quote { blocks } => {
                out.push_str("<blockquote>\n");
                blocks_html(blocks, out);
                out.push_str("</blockquote>\n");
            }
            Block::Code { text } => {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", esc(text));
            }
            Block::Table { head, rows } => {
                out.push_str(
                    "<div class=\"share-scroll\">\n<table class=\"share-prose-table\">\n<thead><tr>",
                );
                for cell in head {
                    out.push_str("<th scope=\"col\">");
                    inlines_html(cell, false, out);
                    out.push_str("</th>");
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str("<td>");
                        inlines_html(cell, false, out);
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n</div>\n");
            }
            Block::Rule => out.push_str("<hr/>\n"),
        }
    }
}

/// Inline content as HTML. A link inside a link (which Markdown does not make, but the tree
/// could hold) keeps only its text: HTML has no nested links.
fn inlines_html(content: &[Inline], in_link: bool, out: &mut String) {
    for inline in content {
        match inline {
            Inline::Text { text } => out.push_str(&esc(text)),
            Inline::Code { text } => {
                let _ = write!(out, "<code>{}</code>", esc(text));
            }
            Inline::Emphasis { content } => {
                out.push_str("<em>");
                inlines_html(content, in_link, out);
                out.push_str("</em>");
            }
            Inline::Strong { content } => {
                out.push_str("<strong>");
                inlines_html(content, in_link, out);
                out.push_str("</strong>");
            }
            Inline::Strike { content } => {
                out.push_str("<s>");
                inlines_html(content, in_link, out);
                out.push_str("</s>");
            }
            Inline::Link { href, content } => {
                // The tree keeps only safe targets; asking again costs nothing and keeps this
                // renderer safe on a tree from anywhere (the JSON of a tools request).
                match href.as_deref().and_then(narrative::safe_href) {
                    Some(href) if !in_link => {
                        let _ = write!(
                            out,
                            "<a href=\"{}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">",
                            esc(&href)
                        );
                        inlines_html(content, true, out);
                        out.push_str("</a>");
                    }
                    _ => inlines_html(content, in_link, out),
                }
            }
            Inline::Break => out.push_str("<br/>\n"),
        }
    }
}

/// Each table's anchor on the page: `share-table-` and its name reduced to ASCII letters,
/// digits, `-` and `_` (lower case), numbered when two names reduce to the same; the first
/// table of a name spelled twice (ignoring case) is the one links go to, as in
/// [`Model::entity`].
struct TableIds {
    /// Id per entity, in model order.
    ids: Vec<String>,
    /// Entity position by lower-cased name.
    by_name: HashMap<String, usize>,
}

impl TableIds {
    fn new(model: &Model) -> TableIds {
        let mut taken = HashSet::new();
        let ids = model
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut base = slug(&e.name, 60, '-').to_ascii_lowercase();
                if base.is_empty() {
                    base = format!("{}", i + 1);
                }
                let base = format!("share-table-{base}");
                let mut id = base.clone();
                let mut n = 2;
                while !taken.insert(id.clone()) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                id
            })
            .collect();
        TableIds {
            ids,
            by_name: model.entity_positions(),
        }
    }

    fn of(&self, index: usize) -> &str {
        self.ids.get(index).map_or("", String::as_str)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map(|&i| self.of(i))
    }
}

/// The relationships each table takes part in (from or to it), in model order, found in one
/// pass over the relationships.
struct RelationshipIndex {
    by_entity: HashMap<String, Vec<usize>>,
}

impl RelationshipIndex {
    fn new(model: &Model) -> RelationshipIndex {
        let mut by_entity: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in model.relationships.iter().enumerate() {
            let from = r.from_entity.to_ascii_lowercase();
            let to = r.to_entity.to_ascii_lowercase();
            by_entity.entry(from.clone()).or_default().push(i);
            if to != from {
                by_entity.entry(to).or_default().push(i);
            }
        }
        RelationshipIndex { by_entity }
    }

    fn of(&self, entity: &Entity) -> &[usize] {
        self.by_entity
            .get(&entity.name.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// A file name's stem from the domain name: lower case, ASCII letters and digits, `_`, and
/// `-` for every run of anything else (spaces, slashes, dots, quotes, other scripts), at most
/// 60 characters; `model` when nothing is left. No dot survives, so the stem cannot climb out
/// of a folder (`..`) or hide a file, and only the suffix gives the extension.
fn file_stem(domain: &str) -> String {
    let stem = slug(domain, 60, '-').to_ascii_lowercase();
    if stem.is_empty() {
        "model".into()
    } else {
        stem
    }
}

/// `text` with ASCII letters, digits and `_` kept and every run of other characters as one
/// `sep`, without `sep` at either end, cut to `max` characters.
fn slug(text: &str, max: usize, sep: char) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(sep) {
            out.push(sep);
        }
    }
    // Only ASCII was pushed, so cutting by bytes cuts by characters.
    out.truncate(max);
    out.trim_end_matches(sep).to_string()
}

/// `text` on one line: every run of whitespace (line breaks included) as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` (one line) cut to at most about `max` characters at a word boundary, ended with `…`.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    // Back to the last space, unless that throws away more than half (one long word).
    let at_word = match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() >= max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    let trimmed = at_word.trim_end_matches([' ', ',', ';', ':', '.', '-', '—', '(']);
    format!("{trimmed}…")
}

/// "1 table", "4 tables".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A time in milliseconds since the epoch as its UTC date, `yyyy-mm-dd` (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian).
fn date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::types::tests::{sample, v2};

    fn doc(domain: &str, old: Option<Model>) -> ShareDoc {
        ShareDoc {
            version: ShareDoc::VERSION,
            positions: Default::default(),
            domain: domain.into(),
            draft: SharedDraft {
                number: 3,
                created_at: 1_764_288_000_000,
                model: v2(),
            },
            old: old.map(|model| SharedDraft {
                number: 2,
                created_at: 1_764_201_600_000,
                model,
            }),
        }
    }

    #[test]
    fn dates_are_utc_days() {
        let check = |ms: i64, expected: &str| assert_eq!(date(ms), expected, "{ms}");
        check(0, "1970-01-01");
        check(86_399_999, "1970-01-01");
        check(86_400_000, "1970-01-02");
        check(-1, "1969-12-31");
        check(951_782_400_000, "2000-02-29");
        check(1_764_288_000_000, "2025-11-28");
        check(1_764_287_999_999, "2025-11-27");
        check(4_102_444_800_000, "2100-01-01");
        // The extremes do not overflow.
        assert!(!date(i64::MIN).is_empty() && !date(i64::MAX).is_empty());
    }

    #[test]
    fn file_stems_are_safe() {
        let check = |domain: &str, expected: &str| assert_eq!(file_stem(domain), expected);
        check("billing", "billing");
        check("Billing & Invoices", "billing-invoices");
        check("../../etc/passwd", "etc-passwd");
        check("a b/c\"d", "a-b-c-d");
        check("..", "model");
        check("", "model");
        check("日本語", "model");
        check("Büro_2", "b-ro_2");
        check("-x-", "x");
        check(&"a".repeat(100), &"a".repeat(60));
        check(&format!("{} b", "a".repeat(59)), &"a".repeat(59));
    }

    #[test]
    fn titles_and_descriptions() {
        assert_eq!(title(&doc("billing", None)), "billing · draft 3");
        assert_eq!(
            title(&doc("billing", Some(sample()))),
            "billing · draft 2 → 3"
        );
        assert_eq!(title(&doc(" two\nlines ", None)), "two lines · draft 3");
        assert_eq!(title(&doc("", None)), "Untitled domain · draft 3");

        let mut d = doc("billing", None);
        assert_eq!(description(&d), one_line(&d.draft.model.summary));
        d.draft.model.summary = "  ".into();
        assert_eq!(description(&d), "5 tables, 3 relationships");
        d.draft.model.entities.truncate(1);
        d.draft.model.relationships.truncate(1);
        assert_eq!(description(&d), "1 table, 1 relationship");

        let check = |text: &str, expected: &str| assert_eq!(shorten(text, 20), expected);
        check("short enough", "short enough");
        check("exactly twenty chars", "exactly twenty chars");
        check("one two three four five six", "one two three four…");
        check("one two three, four five", "one two three, four…");
        check("one two three, fourteen", "one two three…");
        check("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrst…");
        check("éééééééééé ééééééééééé", "éééééééééé…");
        let long = "word ".repeat(100);
        let short = shorten(long.trim(), DESCRIPTION_CHARS);
        assert!(short.chars().count() <= DESCRIPTION_CHARS + 1, "{short}");
        assert!(short.ends_with("word…"), "{short}");
    }

    #[test]
    fn downloads_of_a_draft_and_of_a_pair() {
        let single = doc("billing", None);
        let names: Vec<(&str, String)> = downloads(&single)
            .into_iter()
            .map(|d| (d.format, d.file_name))
            .collect();
        assert_eq!(
            names,
            [
                ("markdown", "billing-draft-3.md"),
                ("sql-postgres", "billing-draft-3-postgres.sql"),
                ("sql-mysql", "billing-draft-3-mysql.sql"),
                ("sql-sqlite", "billing-draft-3-sqlite.sql"),
                ("plantuml", "billing-draft-3.puml"),
                ("mermaid", "billing-draft-3.mmd"),
                ("dbml", "billing-draft-3.dbml"),
                ("json-schema", "billing-draft-3.schema.json"),
                ("json", "billing-draft-3.json"),
                ("svg", "billing-draft-3.svg"),
            ]
            .map(|(f, n)| (f, n.to_string()))
        );
        let pair = doc("billing", Some(sample()));
        let formats: Vec<&str> = downloads(&pair).iter().map(|d| d.format).collect();
        assert_eq!(
            &formats[..6],
            [
                "impact",
                "changelog",
                "migration-postgres",
                "migration-mysql",
                "migration-sqlite",
                "svg"
            ]
        );
        assert_eq!(formats.len(), 15);
        let (d, _) = download(&pair, "migration-postgres").unwrap();
        assert_eq!(d.file_name, "billing-draft-2-to-3-migration-postgres.sql");
        assert_eq!(d.media_type, "application/sql; charset=utf-8");
        let (d, svg) = download(&pair, "svg").unwrap();
        assert_eq!(d.file_name, "billing-draft-2-to-3-review.svg");
        assert!(svg.contains("dm-added"), "the pair's SVG is the review");
        for format in [
            "impact",
            "changelog",
            "migration-postgres",
            "migration-mysql",
            "migration-sqlite",
        ] {
            assert_eq!(download(&single, format), None, "{format}");
        }
        assert_eq!(download(&single, "pdf"), None);
        assert_eq!(download(&single, ""), None);
    }

    #[test]
    fn downloads_are_the_cores_own_output() {
        let pair = doc("billing", Some(sample()));
        let (new, old) = (v2(), sample());
        let check = |format: &str, expected: String| {
            assert_eq!(download(&pair, format).unwrap().1, expected, "{format}");
        };
        check("markdown", export(&new, ExportFormat::Markdown));
        check(
            "sql-mysql",
            export(&new, ExportFormat::Sql(SqlDialect::Mysql)),
        );
        check("json", export(&new, ExportFormat::Json));
        check("changelog", crate::changelog::changelog(&old, &new));
        check(
            "migration-sqlite",
            migration_sql(&old, &new, SqlDialect::Sqlite).unwrap(),
        );
        let (_, impact) = download(&pair, "impact").unwrap();
        let report: ImpactReport = serde_json::from_str(&impact).unwrap();
        assert_eq!(report, analyze(&old, &new));
    }

    /// A migration the dialect refuses is still a file, a one-line SQL comment that no name
    /// can break out of.
    #[test]
    fn a_refused_migration_is_a_comment() {
        let mut pair = doc("billing", Some(sample()));
        pair.draft.model.entities[0].attributes.clear();
        pair.draft.model.entities[0].name = "x\nDROP TABLE book; --".into();
        let (_, text) = download(&pair, "migration-sqlite").unwrap();
        assert!(text.starts_with("-- cannot migrate"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn table_ids_are_safe_and_distinct() {
        let mut model = sample();
        let names = ["Book", "book!", "日本", "", "a\"><b>", "book-2"];
        model.entities = names
            .iter()
            .map(|n| Entity {
                name: n.to_string(),
                ..sample().entities[0].clone()
            })
            .collect();
        let ids = TableIds::new(&model);
        assert_eq!(
            ids.ids,
            [
                "share-table-book",
                "share-table-book-2",
                "share-table-3",
                "share-table-4",
                "share-table-a-b",
                "share-table-book-2-2",
            ]
        );
        // Links go to the first table of a name, ignoring case.
        assert_eq!(ids.get("BOOK"), Some("share-table-book"));
        assert_eq!(ids.get("missing"), None);
    }

    #[test]
    fn download_targets_that_could_run_become_inert() {
        let check = |target: &str, expected: &str| assert_eq!(safe_target(target), expected);
        check("/s/abc/download/json", "/s/abc/download/json");
        check("#download-json", "#download-json");
        check("https://example.com/x", "https://example.com/x");
        check("javascript:alert(1)", "#");
        check(" JavaScript:alert(1)", "#");
        check("data:text/html,x", "#");
        check("/x\ny", "#");
    }

    #[test]
    fn the_inline_svg_has_no_declaration_or_style() {
        let diagram = crate::diagram::layout(&sample(), None);
        let options = SvgOptions::default();
        let inline = svg::render_inline(&diagram, &options);
        assert!(inline.starts_with("<svg "), "{}", &inline[..40]);
        assert!(!inline.contains("<style") && !inline.contains("<?xml"));
        let document = svg::render(&diagram, &options);
        assert!(document.contains("<style"));
        assert!(inline.len() < document.len());
    }
}
