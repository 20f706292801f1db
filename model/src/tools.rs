//! The browser's on-demand tools as requests and answers: SQL and JSON import, every export,
//! migration SQL, the narrative's Markdown, the diagram's layout and SVG, and an encrypted share
//! link's page and downloads ([`crate::share`]), behind one JSON call.
//!
//! The SQL parser, the exporters and the migrations are most of the core's code. The browser
//! does not need them to show domains and drafts, so they are compiled into a wasm module of
//! their own (`frontend/tools`) that the app loads the first time the user imports, exports or
//! asks for a migration. The two modules share no memory: the app sends a [`ToolRequest`] as
//! JSON and reads a [`ToolAnswer`] back. Natively (server rendering, tests) the app calls
//! [`run`] directly, so both paths run the same code.

use crate::diagram::svg::{self, SvgOptions};
use crate::diagram::{layout, review_model, Diagram, Highlight, Positions};
use crate::export::{export_with_warnings, ExportFormat, ExportWarning};
use crate::import::{import_json, import_sql, ImportError, Imported};
use crate::migrate::migration_sql;
use crate::share;
use crate::types::Model;
use crate::wire::ShareDoc;
use crate::SqlDialect;
use serde::{Deserialize, Serialize};

/// One call to the tools module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "tool", rename_all = "snake_case")]
pub enum ToolRequest {
    /// Import `text`: `format` is a SQL dialect's id (`postgres`, `mysql`, `sqlite`) or `json`.
    Import { format: String, text: String },
    /// Export `model` in `format`.
    Export { model: Model, format: ExportFormat },
    /// Migration SQL from `old` to `new` in `dialect`.
    Migration {
        old: Model,
        new: Model,
        dialect: SqlDialect,
    },
    /// A narrative's Markdown as safe blocks ([`crate::narrative`]).
    Narrative { text: String },
    /// The diagram of `model` laid out around `priors` ([`crate::diagram::layout`]); with
    /// `compare`, the review of `compare` (older) against `model`: the review model with what
    /// was removed put back, and the highlight of what changed.
    Diagram {
        model: Model,
        #[serde(default)]
        priors: Positions,
        #[serde(default)]
        compare: Option<Model>,
        /// The draft `model` was made from: a table it renamed keeps its kept place.
        #[serde(default)]
        parent: Option<Model>,
    },
    /// The same diagram as a plain SVG document, with an optional title and the legend.
    DiagramSvg {
        model: Model,
        #[serde(default)]
        priors: Positions,
        #[serde(default)]
        compare: Option<Model>,
        #[serde(default)]
        title: Option<String>,
    },
    /// The page of a shared draft or pair ([`share::render_html`]), as an encrypted link's
    /// page shows it: its download links point at `#download-<format>`, which the page's
    /// script answers with [`ToolRequest::ShareDownload`].
    SharePage { doc: ShareDoc },
    /// One download of a shared draft or pair ([`share::download`]).
    ShareDownload { doc: ShareDoc, format: String },
}

/// The answer to a [`ToolRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolAnswer {
    Imported(Imported),
    /// The import failed: the importer's own error, with its code, line and column.
    ImportFailed(ImportError),
    Exported {
        text: String,
        warnings: Vec<ExportWarning>,
    },
    Migration(String),
    Narrative(Vec<crate::narrative::Block>),
    Diagram {
        diagram: Diagram,
        #[serde(default)]
        highlight: Option<Highlight>,
    },
    Svg(String),
    /// A share page: its title (for the document's `<title>`) and its HTML fragment.
    SharePage {
        title: String,
        html: String,
    },
    /// One file to save.
    Download {
        file_name: String,
        media_type: String,
        text: String,
    },
    /// Anything else that went wrong, with a stable code.
    Error {
        code: String,
        message: String,
    },
}

/// Runs one request.
pub fn run(request: ToolRequest) -> ToolAnswer {
    match request {
        ToolRequest::Import { format, text } => {
            let result = match format.parse::<SqlDialect>() {
                Ok(dialect) => import_sql(&text, dialect),
                Err(_) if format == "json" => import_json(&text),
                Err(e) => {
                    return ToolAnswer::Error {
                        code: "TOOLS_UNKNOWN_FORMAT".into(),
                        message: e,
                    }
                }
            };
            match result {
                Ok(imported) => ToolAnswer::Imported(imported),
                Err(e) => ToolAnswer::ImportFailed(e),
            }
        }
        ToolRequest::Export { model, format } => {
            let (text, warnings) = export_with_warnings(&model, format);
            ToolAnswer::Exported { text, warnings }
        }
        ToolRequest::Diagram {
            model,
            priors,
            compare,
            parent,
        } => {
            let priors = carry(priors, parent.as_ref().or(compare.as_ref()), &model);
            let (diagram, highlight) = diagram_of(&model, &priors, compare.as_ref());
            ToolAnswer::Diagram { diagram, highlight }
        }
        ToolRequest::DiagramSvg {
            model,
            priors,
            compare,
            title,
        } => {
            let priors = carry(priors, compare.as_ref(), &model);
            let (diagram, highlight) = diagram_of(&model, &priors, compare.as_ref());
            let options = SvgOptions {
                highlight,
                title,
                legend: true,
            };
            ToolAnswer::Svg(svg::render(&diagram, &options))
        }
        ToolRequest::SharePage { doc } => {
            if let Some(refused) = newer_share(&doc) {
                return refused;
            }
            let href = |d: &share::Download| format!("#download-{}", d.format);
            ToolAnswer::SharePage {
                title: share::title(&doc),
                html: share::render_html(&doc, &href),
            }
        }
        ToolRequest::ShareDownload { doc, format } => {
            if let Some(refused) = newer_share(&doc) {
                return refused;
            }
            match share::download(&doc, &format) {
                Some((d, text)) => ToolAnswer::Download {
                    file_name: d.file_name,
                    media_type: d.media_type.into(),
                    text,
                },
                None => {
                    let offered: Vec<&str> =
                        share::downloads(&doc).iter().map(|d| d.format).collect();
                    ToolAnswer::Error {
                        code: "VAL_FORMAT".into(),
                        message: format!(
                            "this link offers no download `{format}`: ask for one of {}",
                            offered.join(", ")
                        ),
                    }
                }
            }
        }
        ToolRequest::Narrative { text } => ToolAnswer::Narrative(crate::narrative::parse(&text)),
        ToolRequest::Migration { old, new, dialect } => match migration_sql(&old, &new, dialect) {
            Ok(sql) => ToolAnswer::Migration(sql),
            Err(e) => ToolAnswer::Error {
                code: "MIGRATE_UNSUPPORTED".into(),
                message: e.to_string(),
            },
        },
    }
}

/// The refusal of a share doc of another layout than this build reads: the link was made by a
/// newer build (or a damaged one), and a reload fetches the build that made it.
fn newer_share(doc: &ShareDoc) -> Option<ToolAnswer> {
    (doc.version != ShareDoc::VERSION).then(|| ToolAnswer::Error {
        code: "VAL_SHARE_VERSION".into(),
        message: "this link was made by a newer version of Data Modeller; reload the page".into(),
    })
}

/// `priors` with the places of the tables `model` renamed from `old` carried to their new
/// names (the others as they are).
fn carry(priors: Positions, old: Option<&Model>, model: &Model) -> Positions {
    let Some(old) = old else {
        return priors;
    };
    let carried = priors.carried(old, model);
    let mut out = priors;
    for (name, at) in carried.0 {
        out.0.entry(name).or_insert(at);
    }
    out
}

/// The diagram to draw: `model` itself, or the review of `compare` against it. Share pages
/// ([`crate::share`]) draw with it too, so that a page shows what "Export SVG" saves.
pub(crate) fn diagram_of(
    model: &Model,
    priors: &Positions,
    compare: Option<&Model>,
) -> (Diagram, Option<Highlight>) {
    let priors = (!priors.0.is_empty()).then_some(priors);
    match compare {
        None => (layout(model, priors), None),
        Some(old) => {
            let shown = review_model(old, model);
            (
                layout(&shown, priors),
                Some(Highlight::from_diff(old, model)),
            )
        }
    }
}

/// Runs a request given as JSON and answers in JSON: what the wasm module exports. A request
/// that does not parse gets a `TOOLS_BAD_REQUEST` answer, never a panic.
pub fn run_json(request: &str) -> String {
    let answer = match serde_json::from_str::<ToolRequest>(request) {
        Ok(request) => run(request),
        Err(e) => ToolAnswer::Error {
            code: "TOOLS_BAD_REQUEST".into(),
            message: format!("the tools module could not read the request: {e}"),
        },
    };
    serde_json::to_string(&answer).unwrap_or_else(|e| {
        serde_json::json!({ "error": { "code": "TOOLS_BAD_ANSWER", "message": e.to_string() } })
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn answer(json: &str) -> ToolAnswer {
        serde_json::from_str(&run_json(json)).unwrap()
    }

    #[test]
    fn an_import_through_json_gives_the_importers_model_and_its_errors() {
        let request = ToolRequest::Import {
            format: "sqlite".into(),
            text: "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);".into(),
        };
        let ToolAnswer::Imported(imported) = answer(&serde_json::to_string(&request).unwrap())
        else {
            panic!("not imported");
        };
        assert_eq!(
            imported,
            import_sql(
                "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
                SqlDialect::Sqlite
            )
            .unwrap()
        );
        let failed = ToolRequest::Import {
            format: "postgres".into(),
            text: "CREATE TABLE (".into(),
        };
        let ToolAnswer::ImportFailed(e) = answer(&serde_json::to_string(&failed).unwrap()) else {
            panic!("not a failed import");
        };
        assert!(e.code.starts_with("VAL_IMPORT"), "{e:?}");
    }

    #[test]
    fn exports_and_migrations_through_json_equal_the_direct_calls() {
        let old = import_sql(
            "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
            SqlDialect::Postgres,
        )
        .unwrap()
        .model;
        let new = import_sql(
            "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born DATE);",
            SqlDialect::Postgres,
        )
        .unwrap()
        .model;
        for format in [
            ExportFormat::Markdown,
            ExportFormat::Sql(SqlDialect::Mysql),
            ExportFormat::Json,
        ] {
            let request = ToolRequest::Export {
                model: new.clone(),
                format,
            };
            let (text, warnings) = export_with_warnings(&new, format);
            assert_eq!(
                answer(&serde_json::to_string(&request).unwrap()),
                ToolAnswer::Exported { text, warnings }
            );
        }
        let request = ToolRequest::Migration {
            old: old.clone(),
            new: new.clone(),
            dialect: SqlDialect::Postgres,
        };
        assert_eq!(
            answer(&serde_json::to_string(&request).unwrap()),
            ToolAnswer::Migration(migration_sql(&old, &new, SqlDialect::Postgres).unwrap())
        );
    }

    #[test]
    fn a_request_that_does_not_parse_or_names_an_unknown_format_gets_a_coded_error() {
        for (json, code) in [
            ("not json", "TOOLS_BAD_REQUEST"),
            (r#"{"tool":"explode"}"#, "TOOLS_BAD_REQUEST"),
            (
                r#"{"tool":"import","format":"oracle","text":""}"#,
                "TOOLS_UNKNOWN_FORMAT",
            ),
        ] {
            let ToolAnswer::Error { code: got, .. } = answer(json) else {
                panic!("{json}: not an error");
            };
            assert_eq!(got, code, "{json}");
        }
    }

    #[test]
    fn a_diagram_through_json_equals_the_direct_layout() {
        let old: Model =
            serde_json::from_str(include_str!("../tests/data/library-v1.json")).unwrap();
        let new: Model =
            serde_json::from_str(include_str!("../tests/data/library-v2.json")).unwrap();
        let request = ToolRequest::Diagram {
            model: new.clone(),
            priors: Positions::default(),
            compare: None,
            parent: None,
        };
        let ToolAnswer::Diagram { diagram, highlight } =
            answer(&serde_json::to_string(&request).unwrap())
        else {
            panic!("no diagram");
        };
        assert_eq!(diagram, layout(&new, None));
        assert_eq!(highlight, None);
        // A review keeps the positions it is given and highlights the changes.
        let priors = layout(&old, None).positions();
        let request = ToolRequest::Diagram {
            model: new.clone(),
            priors: priors.clone(),
            compare: Some(old.clone()),
            parent: None,
        };
        let ToolAnswer::Diagram { diagram, highlight } =
            answer(&serde_json::to_string(&request).unwrap())
        else {
            panic!("no diagram");
        };
        for (name, at) in &priors.0 {
            let b = diagram.entity(name).unwrap();
            assert_eq!((b.rect.x, b.rect.y), (at.x, at.y), "{name} moved");
        }
        let highlight = highlight.unwrap();
        assert!(
            highlight.added_entities.contains("audit_log"),
            "{highlight:?}"
        );
        let request = ToolRequest::DiagramSvg {
            model: new,
            priors,
            compare: Some(old),
            title: Some("library <v2>".into()),
        };
        let ToolAnswer::Svg(svg) = answer(&serde_json::to_string(&request).unwrap()) else {
            panic!("no svg");
        };
        assert!(
            svg.starts_with("<?xml") || svg.starts_with("<svg"),
            "{}",
            &svg[..80]
        );
        assert!(svg.contains("library &lt;v2&gt;"));
        assert!(!svg.contains("foreignObject"));
    }

    fn share_doc(old: Option<Model>) -> ShareDoc {
        let new: Model =
            serde_json::from_str(include_str!("../tests/data/library-v2.json")).unwrap();
        ShareDoc {
            version: ShareDoc::VERSION,
            positions: Default::default(),
            domain: "library".into(),
            draft: crate::wire::SharedDraft {
                number: 2,
                created_at: 0,
                model: new,
            },
            old: old.map(|model| crate::wire::SharedDraft {
                number: 1,
                created_at: 0,
                model,
            }),
        }
    }

    #[test]
    fn a_share_page_through_json_equals_the_direct_render() {
        let old: Model =
            serde_json::from_str(include_str!("../tests/data/library-v1.json")).unwrap();
        for doc in [share_doc(None), share_doc(Some(old))] {
            let json = serde_json::json!({ "tool": "share_page", "doc": doc }).to_string();
            let raw: serde_json::Value = serde_json::from_str(&run_json(&json)).unwrap();
            let page = &raw["share_page"];
            assert_eq!(page["title"], share::title(&doc));
            let html = share::render_html(&doc, &|d| format!("#download-{}", d.format));
            assert_eq!(page["html"], html);
            assert!(html.contains(r##"href="#download-sql-postgres""##));
            for d in share::downloads(&doc) {
                let json =
                    serde_json::json!({ "tool": "share_download", "doc": doc, "format": d.format })
                        .to_string();
                let raw: serde_json::Value = serde_json::from_str(&run_json(&json)).unwrap();
                let (made, text) = share::download(&doc, d.format).unwrap();
                assert_eq!(
                    raw,
                    serde_json::json!({ "download": {
                        "file_name": made.file_name,
                        "media_type": made.media_type,
                        "text": text,
                    } })
                );
            }
        }
    }

    #[test]
    fn a_share_request_for_another_layout_or_format_gets_a_coded_error() {
        let doc = share_doc(None);
        let ToolAnswer::Error { code, message } = run(ToolRequest::ShareDownload {
            doc: doc.clone(),
            format: "migration-postgres".into(),
        }) else {
            panic!("a pair format on a single draft");
        };
        assert_eq!(code, "VAL_FORMAT");
        assert!(
            message.contains("migration-postgres") && message.contains("sql-sqlite, plantuml"),
            "{message}"
        );
        assert_eq!(message, message.to_lowercase());
        let newer = ShareDoc {
            version: ShareDoc::VERSION + 1,
            ..doc
        };
        for request in [
            ToolRequest::SharePage { doc: newer.clone() },
            ToolRequest::ShareDownload {
                doc: newer,
                format: "json".into(),
            },
        ] {
            let json = serde_json::to_string(&request).unwrap();
            let raw: serde_json::Value = serde_json::from_str(&run_json(&json)).unwrap();
            assert_eq!(raw["error"]["code"], "VAL_SHARE_VERSION", "{raw}");
            assert_eq!(
                raw["error"]["message"],
                "this link was made by a newer version of Data Modeller; reload the page"
            );
        }
    }

    #[test]
    fn a_renamed_table_keeps_its_place_in_the_next_draft() {
        let old: Model =
            serde_json::from_str(include_str!("../tests/data/library-v1.json")).unwrap();
        let mut new = old.clone();
        for e in &mut new.entities {
            if e.name == "member" {
                e.name = "patron".into();
            }
        }
        for r in &mut new.relationships {
            if r.to_entity == "member" {
                r.to_entity = "patron".into();
            }
        }
        let priors = layout(&old, None).positions();
        let request = ToolRequest::Diagram {
            model: new,
            priors: priors.clone(),
            compare: None,
            parent: Some(old),
        };
        let ToolAnswer::Diagram { diagram, .. } = run(request) else {
            panic!("no diagram");
        };
        let patron = diagram.entity("patron").unwrap();
        let was = priors.get("member").unwrap();
        assert_eq!((patron.rect.x, patron.rect.y), (was.x, was.y));
    }
}
