//! Share pages (`model::share`) as the server and the tools module render them: the library
//! sample's page for a draft and for a pair pinned by snapshots, every page read by an XML parser
//! and found inert (no script, style, event attribute or unsafe link, hostile names shown as
//! text), every offered download made, and the real schemas in `../shared/fixtures/schemas`
//! rendered with every table in the dictionary and in the diagram.

use model::diagram::metric::{fit, MAX_ENTITY_COLUMNS};
use model::diagram::svg::{render_inline, SvgOptions};
use model::diagram::{layout, review_model, Highlight};
use model::share::{download, downloads, render_html, title, Download};
use model::wire::{ShareDoc, SharedDraft};
use model::{import_sql, Model, SqlDialect};

/// The shared fixtures, read from beside the repository (they are not the project's to copy).
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/schemas");

fn library(version: u8) -> Model {
    let text = match version {
        1 => include_str!("data/library-v1.json"),
        _ => include_str!("data/library-v2.json"),
    };
    serde_json::from_str(text).expect("the sample parses")
}

fn draft(number: u32, created_at: i64, model: Model) -> SharedDraft {
    SharedDraft {
        number,
        created_at,
        model,
    }
}

fn single(domain: &str, model: Model) -> ShareDoc {
    ShareDoc {
        version: ShareDoc::VERSION,
        positions: Default::default(),
        domain: domain.into(),
        draft: draft(3, 1_764_288_000_000, model),
        old: None,
    }
}

fn pair(domain: &str, old: Model, new: Model) -> ShareDoc {
    ShareDoc {
        old: Some(draft(2, 1_764_201_600_000, old)),
        ..single(domain, new)
    }
}

/// What the server passes.
fn server_href(d: &Download) -> String {
    format!("/s/tok3n/download/{}", d.format)
}

/// The page with its inline diagram cut out: the diagram is the core's SVG renderer's, pinned
/// by its own tests, and a layout change should not rewrite these snapshots.
fn without_svg(html: &str) -> String {
    let start = html.find("<svg ").expect("an inline diagram");
    let end = html.find("</svg>\n").expect("the diagram's end") + "</svg>\n".len();
    format!(
        "{}<svg><!-- model::diagram::svg::render_inline --></svg>\n{}",
        &html[..start],
        &html[end..]
    )
}

/// Reads `html` as XML (the renderer closes every element and quotes every attribute) and
/// checks that it is inert: only the elements a share page uses, no event or style attribute,
/// links only to the page's anchors, the download routes and safe narrative addresses. Returns
/// the document's text nodes.
fn inert(html: &str, what: &str) -> Vec<String> {
    let wrapped = format!("<div>{html}</div>");
    let doc = roxmltree::Document::parse(&wrapped)
        .unwrap_or_else(|e| panic!("{what}: the page does not read as XML: {e}"));
    let html_elements = [
        "div",
        "article",
        "header",
        "nav",
        "section",
        "figure",
        "figcaption",
        "details",
        "summary",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "p",
        "dl",
        "dt",
        "dd",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "span",
        "code",
        "pre",
        "abbr",
        "time",
        "em",
        "strong",
        "s",
        "blockquote",
        "hr",
        "br",
    ];
    let svg_elements = ["svg", "title", "g", "rect", "text", "path", "circle"];
    let mut texts = Vec::new();
    for node in doc.descendants() {
        if node.is_text() {
            texts.push(node.text().unwrap_or("").to_string());
            continue;
        }
        if !node.is_element() {
            continue;
        }
        let name = node.tag_name().name();
        let in_svg = node.tag_name().namespace() == Some("http://www.w3.org/2000/svg");
        assert!(
            if in_svg {
                svg_elements.contains(&name)
            } else {
                html_elements.contains(&name)
            },
            "{what}: element <{name}>"
        );
        for attr in node.attributes() {
            let a = attr.name().to_ascii_lowercase();
            assert!(
                !a.starts_with("on") && a != "style" && a != "src" && !a.contains("href")
                    || a == "href" && !in_svg,
                "{what}: attribute {a} on <{name}>"
            );
            if a == "href" {
                let v = attr.value();
                assert!(
                    v.starts_with('#')
                        || v.starts_with("/s/tok3n/download/")
                        || v.starts_with("https://")
                        || v.starts_with("http://")
                        || v.starts_with("mailto:"),
                    "{what}: href {v:?}"
                );
            }
            if a == "id" {
                assert!(attr.value().starts_with("share-"), "{what}: id {attr:?}");
            }
        }
        if name == "a"
            && node
                .attribute("href")
                .is_some_and(|h| h.starts_with("http"))
        {
            assert_eq!(
                node.attribute("rel"),
                Some("noopener noreferrer nofollow"),
                "{what}: an outside link without rel"
            );
        }
    }
    assert!(!html.contains("<script") && !html.contains("<style") && !html.contains("<img"));
    texts
}

#[test]
fn library_draft_page() {
    let doc = single("library", library(1));
    let html = render_html(&doc, &server_href);
    inert(&html, "library");
    let svg = render_inline(
        &layout(&doc.draft.model, None),
        &SvgOptions {
            legend: true,
            ..SvgOptions::default()
        },
    );
    assert!(html.contains(&svg), "the core's diagram, inline");
    insta::assert_snapshot!(without_svg(&html));
}

/// The diagram is the owner's picture: the domain's kept positions place the boxes, on the
/// page and in the SVG download.
#[test]
fn kept_positions_place_the_diagram() {
    let mut doc = single("library", library(1));
    let mut kept = model::diagram::Positions::default();
    kept.0.insert(
        "author".into(),
        model::diagram::Point {
            x: 2_000.0,
            y: 1_500.0,
        },
    );
    doc.positions = kept.clone();
    let svg = render_inline(
        &layout(&doc.draft.model, Some(&kept)),
        &SvgOptions {
            legend: true,
            ..SvgOptions::default()
        },
    );
    let html = render_html(&doc, &server_href);
    assert!(
        html.contains(&svg),
        "the diagram laid out around the kept positions"
    );
    let plain = render_html(&single("library", library(1)), &server_href);
    assert_ne!(without_svg(&html), html);
    assert_ne!(html, plain, "kept positions change the picture");
    let (_, file) = download(&doc, "svg").expect("an SVG download");
    assert!(
        file.contains(r#"x="2000""#),
        "the download keeps the author's place"
    );
}

#[test]
fn library_review_page() {
    let (old, new) = (library(1), library(2));
    let doc = pair("library", old.clone(), new.clone());
    let html = render_html(&doc, &|d| format!("#download-{}", d.format));
    inert(&html, "library review");
    let svg = render_inline(
        &layout(&review_model(&old, &new), None),
        &SvgOptions {
            highlight: Some(Highlight::from_diff(&old, &new)),
            title: None,
            legend: true,
        },
    );
    assert!(html.contains(&svg), "the core's review diagram, inline");
    // The impact report comes first, before the diagram and the dictionary.
    let impact = html
        .find("id=\"share-changes\"")
        .expect("the impact report");
    assert!(impact < html.find("id=\"share-diagram\"").expect("the diagram"));
    assert!(html.contains("share-change-breaking") || html.contains("share-change-risky"));
    insta::assert_snapshot!(without_svg(&html));
}

/// A model in which every piece of text a page shows is hostile.
fn hostile() -> (String, Model) {
    let script = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(1)>";
    let mut model = library(1);
    model.summary = format!("{script} {img}");
    model.narrative = format!(
        "# {script}\n\n[click](javascript:alert(1)) [also](  JAVASCRIPT:alert(1)) \
         <a href=\"javascript:alert(1)\">raw</a> {img}\n\n![x](javascript:alert(1))\n\n\
         [ok](https://example.com/?q=\"><script>)\n\n| {img} |\n|---|\n| {script} |\n"
    );
    let book = &mut model.entities[1];
    book.name = script.into();
    book.description = img.into();
    book.tags = vec![img.into()];
    book.attributes[2].name = img.into();
    book.attributes[2].description = script.into();
    book.attributes[2].default = Some(img.into());
    book.attributes[2].tags = vec![script.into()];
    book.indexes.push(model::Index {
        name: img.into(),
        attributes: vec![img.into()],
        unique: true,
        expression: Some(script.into()),
    });
    for r in &mut model.relationships {
        if r.to_entity == "book" {
            r.to_entity = script.into();
        }
        if r.from_entity == "book" {
            r.from_entity = script.into();
        }
        r.name = img.into();
    }
    (format!("{script}{img}../../etc/passwd"), model)
}

#[test]
fn hostile_text_cannot_escape() {
    let (domain, new) = hostile();
    let mut old = library(1);
    old.entities[3].name = "<b>loan</b>".into();
    for doc in [single(&domain, new.clone()), pair(&domain, old, new)] {
        let what = if doc.old.is_some() { "pair" } else { "draft" };
        for href in [
            &server_href as &dyn Fn(&Download) -> String,
            &|d: &Download| format!("#download-{}", d.format),
        ] {
            let html = render_html(&doc, href);
            let texts = inert(&html, what);
            let all = texts.concat();
            // Shown as the text it is.
            assert!(all.contains("<script>alert(1)</script>"), "{what}");
            assert!(all.contains("\"><img src=x onerror=alert(1)>"), "{what}");
            // `javascript:` is shown as text where the narrative wrote raw HTML, never kept
            // as a target (`inert` checks every href).
            assert!(
                !html.to_ascii_lowercase().contains("href=\"javascript"),
                "{what}"
            );
            assert!(
                !html.to_ascii_lowercase().contains("href=\" javascript"),
                "{what}"
            );
            assert!(html.contains("href=\"https://example.com/?q=&quot;&gt;&lt;script&gt;\""));
        }
        assert!(!title(&doc).contains('\n'));
        for d in downloads(&doc) {
            let name = &d.file_name;
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                    && !name.starts_with('.')
                    && !name.contains(".."),
                "{name}"
            );
            assert!(
                name.starts_with("script-alert-1-script-img-src-x-onerror"),
                "{name}"
            );
        }
    }
}

#[test]
fn file_names_are_safe_for_any_domain() {
    for domain in [
        "../../etc/passwd",
        "a b/c\"d",
        "..",
        "",
        "C:\\Windows\\system32",
        "日本語のモデル",
        "\u{0}\n\t",
        "con",
    ] {
        for doc in [
            single(domain, library(1)),
            pair(domain, library(1), library(2)),
        ] {
            for d in downloads(&doc) {
                let name = &d.file_name;
                assert!(
                    name.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                        && !name.starts_with(['.', '-'])
                        && !name.contains(".."),
                    "{domain:?}: {name}"
                );
            }
        }
    }
}

#[test]
fn every_offered_download_is_made_and_not_empty() {
    let (domain, hostile_model) = hostile();
    let empty = Model {
        format_version: 1,
        summary: String::new(),
        narrative: String::new(),
        entities: vec![],
        relationships: vec![],
    };
    let docs = [
        single("library", library(1)),
        pair("library", library(1), library(2)),
        pair("library", library(2), library(1)),
        single(&domain, hostile_model.clone()),
        pair(&domain, library(1), hostile_model),
        single("empty", empty.clone()),
        pair("empty", library(1), empty),
    ];
    for doc in &docs {
        let offered = downloads(doc);
        assert_eq!(offered.len(), if doc.old.is_some() { 15 } else { 10 });
        for d in offered {
            let (made, text) = download(doc, d.format)
                .unwrap_or_else(|| panic!("{}: {} not made", title(doc), d.format));
            assert_eq!(made, d);
            assert!(
                !text.trim().is_empty(),
                "{}: {} is empty",
                title(doc),
                d.format
            );
            if d.media_type == "application/json" {
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", d.format));
            }
        }
        // The page of each renders inert too.
        inert(&render_html(doc, &server_href), &title(doc));
    }
}

fn dialect_of(name: &str) -> Option<SqlDialect> {
    if name.ends_with(".postgres.sql") {
        Some(SqlDialect::Postgres)
    } else if name.ends_with(".mysql.sql") {
        Some(SqlDialect::Mysql)
    } else if name.ends_with(".sqlite.sql") {
        Some(SqlDialect::Sqlite)
    } else {
        None
    }
}

/// Every shared real schema as a page: every table has its section in the dictionary, its
/// entry in the contents and its box in the diagram.
#[test]
fn real_schemas_render_every_table() {
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(SHARED)
        .unwrap_or_else(|e| panic!("cannot read {SHARED}: {e}"))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string());
        let Some(dialect) = name.as_deref().and_then(dialect_of) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("reads the fixture");
        let model = import_sql(&text, dialect)
            .unwrap_or_else(|e| panic!("{path:?}: {e}"))
            .model;
        let what = format!("{path:?}");
        let html = render_html(&single("fixture", model.clone()), &server_href);
        let wrapped = format!("<div>{html}</div>");
        inert(&html, &what);
        let doc = roxmltree::Document::parse(&wrapped).expect("reads as XML");
        let text_of = |n: roxmltree::Node| {
            n.descendants()
                .filter(|d| d.is_text())
                .map(|d| d.text().unwrap_or(""))
                .collect::<String>()
        };
        let has_class = |n: &roxmltree::Node, class: &str| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|c| c == class))
        };
        let headings: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("section") && has_class(n, "share-table"))
            .filter_map(|n| n.children().find(|c| c.has_tag_name("h3")))
            .map(text_of)
            .collect();
        let contents: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("nav") && has_class(n, "share-toc"))
            .flat_map(|n| n.descendants().filter(|a| a.has_tag_name("a")))
            .map(text_of)
            .collect();
        let boxes: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && has_class(n, "dm-name"))
            .map(text_of)
            .collect();
        assert_eq!(headings.len(), model.entities.len(), "{what}");
        for e in &model.entities {
            assert!(
                headings.contains(&e.name),
                "{what}: no section for {}",
                e.name
            );
            assert!(
                contents.contains(&e.name),
                "{what}: {} not in the contents",
                e.name
            );
            let label = fit(&e.name, MAX_ENTITY_COLUMNS);
            assert!(
                boxes.contains(&label),
                "{what}: {} not in the diagram",
                e.name
            );
        }
        seen += 1;
    }
    assert!(seen >= 8, "expected the shared fixtures, found {seen}");
}
