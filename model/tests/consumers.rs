//! Exports checked by the real tools that consume them.
//!
//! A *case* is one model: the library sample (v1 and v2), an awkward model written to trip the
//! exporters up, and every public schema in `shared/fixtures/schemas` imported with `import_sql`. Each test writes the exports of every
//! case to a temporary folder and hands them to the consumer's own parser, started from here:
//! PlantUML itself (rendering to SVG, which also lays the diagram out with Graphviz), Mermaid's
//! parser in headless Chromium, `@dbml/core`, and Ajv's draft 2020-12 build in strict mode, which
//! also validates sample records (valid ones and ones each definition must reject). Every
//! checker is also given a deliberately broken input, so that a checker that passes everything
//! fails the test. The Node checkers live in `end2end/checkers/` and need `npm install` in
//! `end2end` (with `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1`), Node, `/usr/bin/chromium` and
//! `plantuml` on the `PATH`. Set `KEEP_EXPORTS=1` to keep the exports (their folder is printed).

use model::{export, import_json, import_sql, ExportFormat, LogicalType, Model, SqlDialect};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/schemas");
const END2END: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end");

/// One model to export, with a file-name-safe label.
struct Case {
    label: String,
    model: Model,
}

fn library(version: &str) -> Case {
    let path = format!(
        "{}/tests/data/library-{version}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    Case {
        label: format!("library-{version}"),
        model: serde_json::from_str(&text).expect("the library sample parses"),
    }
}

/// A model written to trip exporters up: names with spaces, quotes and leading digits, names that
/// are keywords of the targets (`end`, `class`, `pk`, `Style`, `note`), every logical type
/// including unknown ones and an empty enum, SQL-style defaults, composite keys and a composite
/// foreign key, a self-reference, pipes, percent signs, backquotes and line breaks in text.
const AWKWARD: &str = r##"{
  "summary": "Awkward names: quotes \" ' `, pipes |, percent %% and\nline breaks.",
  "narrative": "# Notes\n\n```\n# not a heading\n```\nText with ''' triple quotes and \\ a backslash.\n",
  "entities": [
    {
      "name": "Order Details",
      "description": "Has a space; \"quoted\" | piped\nand two lines.",
      "tags": ["PII", "x|y"],
      "attributes": [
        { "name": "order id", "type": "integer", "description": "Part of a composite key." },
        { "name": "line", "type": "integer" },
        { "name": "end", "type": "string(0)", "nullable": true, "default": "''" },
        { "name": "class", "type": "decimal(12,2)", "default": "-1.5" },
        { "name": "pk", "type": "enum(in progress,done,it's)", "default": "'done'" },
        { "name": "note", "type": "text", "nullable": true, "default": "'a ''quoted'' value'" },
        { "name": "2fa", "type": "boolean", "default": "TRUE", "tags": ["security"] },
        { "name": "weird type", "type": "geometry(Point, 4326)", "nullable": true },
        { "name": "money", "type": "money", "nullable": true },
        { "name": "empty enum", "type": "enum()", "nullable": true },
        { "name": "at", "type": "time", "default": "current_time" },
        { "name": "stamp", "type": "timestamp", "nullable": true },
        { "name": "big", "type": "bigint", "nullable": true },
        { "name": "ratio", "type": "float", "nullable": true },
        { "name": "blob", "type": "bytes", "nullable": true },
        { "name": "label", "type": "string", "nullable": true },
        { "name": "doc", "type": "json", "nullable": true, "description": "`code` and %% percent" }
      ],
      "primary_key": ["order id", "line"],
      "unique": [["pk", "class"], ["2fa"]],
      "indexes": [{ "name": "by note", "attributes": ["note"], "unique": true }]
    },
    {
      "name": "Style",
      "description": "A keyword of Mermaid as an entity name.",
      "attributes": [
        { "name": "id", "type": "uuid" },
        { "name": "parent", "type": "uuid", "nullable": true },
        { "name": "order id", "type": "integer", "nullable": true },
        { "name": "line", "type": "integer", "nullable": true },
        { "name": "on", "type": "date" }
      ],
      "primary_key": ["id"]
    }
  ],
  "relationships": [
    { "name": "", "from_entity": "Style", "from_attributes": ["order id", "line"], "to_entity": "Order Details", "to_attributes": ["order id", "line"], "cardinality": "N:1", "on_delete": "set_null" },
    { "name": "self ref", "from_entity": "Style", "from_attributes": ["parent"], "to_entity": "Style", "to_attributes": ["id"], "cardinality": "1:1", "on_delete": "cascade" },
    { "name": "many", "from_entity": "Order Details", "from_attributes": ["line"], "to_entity": "Style", "to_attributes": ["id"], "cardinality": "N:M" }
  ]
}"##;

/// The library samples, the awkward model and every fixture schema, imported.
fn cases() -> Vec<Case> {
    let mut cases = vec![library("v1"), library("v2")];
    cases.push(Case {
        label: "awkward".into(),
        model: serde_json::from_str(AWKWARD).expect("the awkward model parses"),
    });
    let mut fixtures: Vec<(String, SqlDialect)> = std::fs::read_dir(FIXTURES)
        .expect("the fixtures folder exists beside the repository")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_string_lossy().to_string();
            let stem = name.strip_suffix(".sql")?;
            let dialect = stem.rsplit('.').next()?.parse::<SqlDialect>().ok()?;
            Some((name, dialect))
        })
        .collect();
    fixtures.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        fixtures.len() >= 8,
        "expected the eight fixtures, found {fixtures:?}"
    );
    for (name, dialect) in fixtures {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}"))
            .unwrap_or_else(|e| panic!("cannot read fixture {name}: {e}"));
        let imported = import_sql(&text, dialect)
            .unwrap_or_else(|e| panic!("fixture {name} does not import: {e}"));
        assert!(
            !imported.model.entities.is_empty(),
            "{name} imports no entity"
        );
        cases.push(Case {
            label: name.trim_end_matches(".sql").to_string(),
            model: imported.model,
        });
    }
    cases
}

/// A temporary folder for one test, kept (and named on stderr) when `KEEP_EXPORTS` is set.
fn folder() -> tempfile::TempDir {
    let mut dir = tempfile::tempdir().expect("temp dir");
    if std::env::var_os("KEEP_EXPORTS").is_some() {
        eprintln!("exports kept in {}", dir.path().display());
        dir.disable_cleanup(true);
    }
    dir
}

/// Writes the `format` export of every case into `dir`, returning the paths.
fn write_exports(dir: &Path, cases: &[Case], format: ExportFormat) -> Vec<PathBuf> {
    cases
        .iter()
        .map(|case| {
            let path = dir.join(format!("{}.{}", case.label, format.extension()));
            std::fs::write(&path, export(&case.model, format)).expect("writes the export");
            path
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writes the file");
    path
}

/// Runs `node end2end/checkers/<checker> <args>` in `end2end`, so that its packages resolve.
fn node(checker: &str, args: &[PathBuf]) -> Output {
    let end2end = Path::new(END2END);
    assert!(
        end2end.join("node_modules/mermaid").is_dir(),
        "the checkers' packages are missing: run `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install` in end2end"
    );
    Command::new("node")
        .arg(end2end.join("checkers").join(checker))
        .args(args)
        .current_dir(end2end)
        .output()
        .expect("node runs: install Node.js to run the consumer checks")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that the checker passed every file, naming each in an `ok` line.
fn assert_passes(output: &Output, files: &[PathBuf]) {
    let report = text(output);
    assert!(output.status.success(), "the checker failed:\n{report}");
    for file in files {
        let line = format!("ok {}", file.display());
        assert!(report.contains(&line), "no `{line}` in:\n{report}");
    }
}

/// Asserts that the checker failed and blamed `file`.
fn assert_rejects(output: &Output, file: &Path) {
    let report = text(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected a rejection:\n{report}"
    );
    let line = format!("error {}", file.display());
    assert!(report.contains(&line), "no `{line}` in:\n{report}");
}

/// Starts PlantUML on `files`, rendering SVGs into `out`.
fn plantuml(files: &[PathBuf], out: &Path) -> std::process::Child {
    Command::new("plantuml")
        .args(["-tsvg", "-failfast2", "-nbthread", "2", "-o"])
        .arg(out)
        .args(files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("plantuml runs: install it (Debian package `plantuml`) to run the consumer checks")
}

#[test]
fn plantuml_renders_every_diagram() {
    let dir = folder();
    let files = write_exports(dir.path(), &cases(), ExportFormat::PlantUml);
    let broken = write(
        dir.path(),
        "broken.puml",
        "@startuml\nentity \"a\" as a {\n  * id : uuid\n}\na }o--|| : missing target\n@enduml\n",
    );
    // Both runs start at once: most of a run is the JVM starting.
    let good_run = plantuml(&files, &dir.path().join("svg"));
    let broken_run = plantuml(&[broken], &dir.path().join("broken"));

    let output = good_run.wait_with_output().expect("plantuml ends");
    assert!(
        output.status.success(),
        "plantuml failed:\n{}",
        text(&output)
    );
    for file in &files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let svg = std::fs::read_to_string(dir.path().join("svg").join(format!("{stem}.svg")))
            .unwrap_or_else(|e| panic!("no SVG for {}: {e}", file.display()));
        assert!(svg.contains("<svg"), "{stem}.svg is no SVG");
        assert!(
            !svg.contains("Syntax Error"),
            "{stem}.svg shows a syntax error"
        );
    }

    let output = broken_run.wait_with_output().expect("plantuml ends");
    assert!(
        !output.status.success(),
        "plantuml accepted a broken diagram:\n{}",
        text(&output)
    );
}

#[test]
fn mermaid_parses_every_diagram() {
    let dir = folder();
    let files = write_exports(dir.path(), &cases(), ExportFormat::Mermaid);
    assert_passes(&node("mermaid.mjs", &files), &files);

    // `string(10)` parses in Mermaid 11, so the broken diagram lacks its closing brace instead.
    let broken = write(
        dir.path(),
        "broken.mmd",
        "erDiagram\n    a {\n        uuid id PK\n",
    );
    let output = node("mermaid.mjs", &[files[0].clone(), broken.clone()]);
    assert_rejects(&output, &broken);
}

#[test]
fn dbml_core_parses_every_export() {
    let dir = folder();
    let files = write_exports(dir.path(), &cases(), ExportFormat::Dbml);
    assert_passes(&node("dbml.mjs", &files), &files);

    let broken = write(dir.path(), "broken.dbml", "Table a {\n  id int [pk\n}\n");
    let output = node("dbml.mjs", &[files[0].clone(), broken.clone()]);
    assert_rejects(&output, &broken);
}

#[test]
fn ajv_compiles_every_schema_and_judges_samples() {
    let dir = folder();
    let cases = cases();
    let files = write_exports(dir.path(), &cases, ExportFormat::JsonSchema);
    for (case, file) in cases.iter().zip(&files) {
        let samples_path = samples_path(file);
        let samples = serde_json::to_string_pretty(&samples(&case.model)).expect("serializes");
        std::fs::write(samples_path, samples).expect("writes the samples");
    }
    assert_passes(&node("json_schema.mjs", &files), &files);

    // A schema Ajv's strict mode refuses: `maxLength` on an integer.
    let broken = write(
        dir.path(),
        "broken.schema.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {"a": {"type": "integer", "maxLength": 3}}}"#,
    );
    let output = node("json_schema.mjs", &[files[0].clone(), broken.clone()]);
    assert_rejects(&output, &broken);

    // A sample the schema accepts but that is marked as one it must reject.
    let schema = write(
        dir.path(),
        "lax.schema.json",
        &export(&cases[0].model, ExportFormat::JsonSchema),
    );
    let entity = &cases[0].model.entities[0];
    let lie = json!([{ "def": entity.name, "valid": false, "instance": record(entity, true) }]);
    std::fs::write(samples_path(&schema), lie.to_string()).expect("writes the samples");
    assert_rejects(
        &node("json_schema.mjs", std::slice::from_ref(&schema)),
        &schema,
    );
}

#[test]
fn json_export_imports_back_unchanged() {
    for case in cases() {
        let text = export(&case.model, ExportFormat::Json);
        let back = import_json(&text)
            .unwrap_or_else(|e| panic!("{}: the JSON export does not import: {e}", case.label));
        assert_eq!(back.model, case.model, "{}", case.label);
    }
}

/// `x.schema.json` → `x.samples.json`, where the JSON Schema checker looks for samples.
fn samples_path(schema: &Path) -> PathBuf {
    let name = schema
        .file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 name");
    schema.with_file_name(name.replace(".schema.json", ".samples.json"))
}

/// Sample records of every entity, each marked with whether the schema must accept it: a full
/// record, a minimal one, one with every nullable attribute null, then rejects (a missing
/// required attribute, an unknown attribute, a value of the wrong shape).
fn samples(model: &Model) -> Value {
    let mut out = Vec::new();
    for entity in &model.entities {
        let sample = |valid: bool, instance: Value| json!({ "def": entity.name, "valid": valid, "instance": instance });
        out.push(sample(true, record(entity, true)));
        out.push(sample(true, record(entity, false)));
        let mut nulls = record(entity, false);
        for a in entity.attributes.iter().filter(|a| a.nullable) {
            nulls[&a.name] = Value::Null;
        }
        out.push(sample(true, nulls));
        if let Some(required) = entity.attributes.iter().find(|a| !a.nullable) {
            let mut missing = record(entity, true);
            if let Value::Object(map) = &mut missing {
                map.remove(&required.name);
            }
            out.push(sample(false, missing));
        }
        let mut extra = record(entity, true);
        extra["__not_an_attribute__"] = json!(1);
        out.push(sample(false, extra));
        for a in &entity.attributes {
            if let Some(wrong) = wrong_value(&a.data_type) {
                let mut bad = record(entity, true);
                bad[&a.name] = wrong;
                out.push(sample(false, bad));
            }
        }
    }
    Value::Array(out)
}

/// A record of `entity`: every attribute when `full`, else only the non-nullable ones.
fn record(entity: &model::Entity, full: bool) -> Value {
    let mut map = serde_json::Map::new();
    for a in entity.attributes.iter().filter(|a| full || !a.nullable) {
        map.insert(a.name.clone(), good_value(&a.data_type));
    }
    Value::Object(map)
}

fn good_value(data_type: &LogicalType) -> Value {
    match data_type {
        LogicalType::String(Some(n)) => json!("abc".chars().take(*n as usize).collect::<String>()),
        LogicalType::String(None) | LogicalType::Text => json!("some text"),
        LogicalType::Integer => json!(-2_147_483_648_i64),
        LogicalType::BigInt => json!(9_007_199_254_740_991_i64),
        LogicalType::Decimal { .. } => json!(1234.5),
        LogicalType::Float => json!(-0.25),
        LogicalType::Boolean => json!(true),
        LogicalType::Date => json!("2024-02-29"),
        LogicalType::Time => json!("13:45:30Z"),
        LogicalType::Timestamp | LogicalType::TimestampTz => json!("2024-02-29T13:45:30+01:00"),
        LogicalType::Uuid => json!("123e4567-e89b-12d3-a456-426614174000"),
        LogicalType::Json => json!({ "any": ["json", 1, null] }),
        LogicalType::Bytes => json!("aGVsbG8="),
        LogicalType::Enum(values) => json!(values.last().cloned().unwrap_or_else(|| "x".into())),
        LogicalType::Unknown(_) => json!(["anything", 1]),
    }
}

/// A value the attribute's schema must reject, when the type constrains values at all.
fn wrong_value(data_type: &LogicalType) -> Option<Value> {
    Some(match data_type {
        LogicalType::String(Some(n)) => json!("x".repeat(*n as usize + 1)),
        LogicalType::String(None) | LogicalType::Text | LogicalType::Bytes => json!(12),
        LogicalType::Integer => json!(2_147_483_648_i64),
        LogicalType::BigInt => json!(1.5),
        LogicalType::Decimal { .. } | LogicalType::Float => json!("1.5"),
        LogicalType::Boolean => json!("yes"),
        LogicalType::Date => json!("2023-02-29"),
        LogicalType::Time => json!("25:00:00Z"),
        LogicalType::Timestamp | LogicalType::TimestampTz => json!("2024-02-29 13:45"),
        LogicalType::Uuid => json!("not-a-uuid"),
        LogicalType::Enum(values) if !values.is_empty() => {
            json!(format!("not {}", values.join("")))
        }
        LogicalType::Enum(_) | LogicalType::Json | LogicalType::Unknown(_) => return None,
    })
}

/// The change-set schema sent to providers compiles under Ajv's strict 2020-12 build, accepts the
/// demo change set and a serialized one, and rejects an unknown operation and a missing field.
#[test]
fn ajv_accepts_the_change_set_schema() {
    let dir = folder();
    let mut schema = model::ops::change_set_schema();
    // The checker validates samples against `$defs` entries: name the root as one.
    schema["$defs"]["change_set"] = json!({ "$ref": "#" });
    let file = write(
        dir.path(),
        "change-set.schema.json",
        &serde_json::to_string_pretty(&schema).expect("serializes"),
    );
    let demo: Value = serde_json::from_str(include_str!("data/library-v2-changes.json"))
        .expect("the demo change set is JSON");
    let parsed = model::parse_change_set(&demo.to_string()).expect("parses");
    let samples = json!([
        { "def": "change_set", "valid": true, "instance": demo },
        { "def": "change_set", "valid": true, "instance": serde_json::to_value(&parsed).expect("serializes") },
        { "def": "change_set", "valid": false, "instance": { "changes": [{ "op": "explode", "rationale": "" }] } },
        { "def": "change_set", "valid": false, "instance": { "changes": [{ "op": "drop_entity", "rationale": "" }] } },
        { "def": "change_set", "valid": false, "instance": { "changes": [{ "op": "add_attribute", "entity": "a", "rationale": "", "attribute": { "name": "x", "type": "money" } }] } },
    ]);
    std::fs::write(samples_path(&file), samples.to_string()).expect("writes the samples");
    assert_passes(
        &node("json_schema.mjs", std::slice::from_ref(&file)),
        &[file],
    );
}
