//! The ER diagram of real schemas and of hostile names: every fixture in
//! `../shared/fixtures/schemas` and `tests/data/schemas` imported, laid out and written as SVG,
//! checked for overlapping boxes, an edge per relationship touching its boxes, and an SVG that an
//! XML parser reads, with no `foreignObject`, script or external reference; names holding
//! markup, entities, quotes, `]]>` and Markdown come out as plain text.

use model::diagram::metric::{self, fit};
use model::diagram::svg::{render, SvgOptions};
use model::diagram::{layout, Diagram, Highlight};
use model::{import_sql, Model, SqlDialect};

/// The shared fixtures, read from beside the repository (they are not the project's to copy).
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/schemas");
/// The project's own real application schemas.
const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schemas");

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

/// Every fixture (path, dialect), sorted by file name.
fn fixtures() -> Vec<(String, SqlDialect)> {
    let mut out = Vec::new();
    for dir in [SHARED, OWN] {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {dir}: {e}")) {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(d) = dialect_of(&name) {
                out.push((format!("{dir}/{name}"), d));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 14, "expected the fixtures, found {out:?}");
    out
}

fn assert_no_overlap(d: &Diagram, what: &str) {
    for (i, a) in d.entities.iter().enumerate() {
        for b in &d.entities[i + 1..] {
            assert!(
                !a.rect.overlaps(&b.rect),
                "{what}: {} {:?} overlaps {} {:?}",
                a.name,
                a.rect,
                b.name,
                b.rect
            );
        }
    }
}

fn assert_edges(model: &Model, d: &Diagram, what: &str) {
    let drawable = model
        .relationships
        .iter()
        .filter(|r| model.entity(&r.from_entity).is_some() && model.entity(&r.to_entity).is_some())
        .count();
    assert_eq!(d.edges.len(), drawable, "{what}: an edge per relationship");
    for e in &d.edges {
        let from = d.entity(&e.from).expect("from box");
        let to = d.entity(&e.to).expect("to box");
        assert!(from.rect.touches(e.points[0]), "{what}: {e:?}");
        assert!(
            to.rect.touches(e.points[e.points.len() - 1]),
            "{what}: {e:?}"
        );
    }
}

/// Parses `svg` and checks that it is plain, inert SVG: returns every text node's content.
fn parse_inert(svg: &str, what: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("{what}: the SVG is not well-formed XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let allowed = [
        "svg", "title", "style", "g", "rect", "text", "path", "circle",
    ];
    let mut texts = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        assert!(allowed.contains(&name), "{what}: element <{name}>");
        for attr in node.attributes() {
            let a = attr.name().to_ascii_lowercase();
            assert!(
                !a.starts_with("on") && a != "href" && attr.namespace().is_none(),
                "{what}: attribute {a} on <{name}>"
            );
        }
        if name == "text" || name == "title" {
            texts.push(node.text().unwrap_or("").to_string());
        }
    }
    assert!(!svg.contains("<foreignObject") && !svg.contains("<script"));
    texts
}

#[test]
fn every_fixture_lays_out_and_renders() {
    for (path, dialect) in fixtures() {
        let text = std::fs::read_to_string(&path).expect("reads the fixture");
        let model = import_sql(&text, dialect)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .model;
        let d = layout(&model, None);
        assert_eq!(d.entities.len(), model.entities.len(), "{path}");
        assert_no_overlap(&d, &path);
        assert_edges(&model, &d, &path);
        let ratio = d.bounds.width / d.bounds.height;
        eprintln!("{path}: {} tables, {ratio:.2}", model.entities.len());
        if model.entities.len() >= 20 {
            assert!((1.0..=2.6).contains(&ratio), "{path}: {:?}", d.bounds);
        }
        let svg = render(
            &d,
            &SvgOptions {
                title: Some(path.clone()),
                legend: true,
                ..SvgOptions::default()
            },
        );
        let texts = parse_inert(&svg, &path);
        for e in &model.entities {
            assert!(texts.contains(&e.name), "{path}: {} not drawn", e.name);
        }
        assert_eq!(layout(&model, None), d, "{path}: not deterministic");
    }
}

#[test]
fn hostile_names_render_inert() {
    let hostile = [
        "<script>alert(1)</script>",
        "a&b \"c\" 'd' ]]> e",
        "[click](javascript:alert(1)) **bold**",
        "<foreignObject>x</foreignObject>",
        "<!-- c --><![CDATA[ x ]]>",
    ];
    let mut json = String::from(r#"{"entities":["#);
    for (i, name) in hostile.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let attr = format!("{name} col");
        json.push_str(&format!(
            r#"{{"name":{},"attributes":[{{"name":"id","type":"uuid"}},{{"name":{},"type":"text","nullable":true}}],"primary_key":["id"]}}"#,
            serde_json::to_string(name).expect("string"),
            serde_json::to_string(&attr).expect("string"),
        ));
    }
    json.push_str(r#"],"relationships":[{"name":"<r>","from_entity":"<script>alert(1)</script>","from_attributes":["id"],"to_entity":"a&b \"c\" 'd' ]]> e","to_attributes":["id"],"cardinality":"N:1"}]}"#);
    let model: Model = serde_json::from_str(&json).expect("the hostile model parses");
    let d = layout(&model, None);
    assert_edges(&model, &d, "hostile");
    let mut highlight = Highlight::default();
    highlight.added_entities.insert(hostile[0].to_string());
    highlight
        .changed_attributes
        .insert((hostile[1].to_string(), format!("{} col", hostile[1])));
    let svg = render(
        &d,
        &SvgOptions {
            highlight: Some(highlight),
            title: Some("<title>&</title>".into()),
            legend: true,
        },
    );
    let texts = parse_inert(&svg, "hostile");
    for name in hostile {
        assert!(texts.iter().any(|t| t == name), "{name} not drawn as text");
        // Attribute names are cut to the metric's limit, the cut text still inert.
        let attr = fit(&format!("{name} col"), metric::MAX_ATTRIBUTE_COLUMNS);
        assert!(texts.contains(&attr), "{attr} not drawn");
    }
    assert!(texts.iter().any(|t| t == "<title>&</title>"));
    assert!(svg.contains("dm-added") && svg.contains("dm-changed"));
}
