//! The model command line, tested through the real binary: `convert`, `diff`, `migrate-sql` and
//! `validate` on the public fixture schemas and the library models, each asserting stdout, the
//! messages on stderr and the exit code (the contract scripts rely on).

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/schemas");
const LIBRARY_V1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../model/tests/data/library-v1.json"
);
const LIBRARY_V2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../model/tests/data/library-v2.json"
);

/// What one run of the binary produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs the `dm` binary with `args` in `dir`, feeding `stdin` when given.
fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dm"))
        .args(args)
        .current_dir(dir)
        .env_remove("DM_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let run = Run {
        // A signal (a crash) has no code; -1 fails every assertion on codes.
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "{args:?} panicked:\n{}",
        run.stderr
    );
    run
}

/// A scratch directory for input files; the binary runs inside it.
struct Scratch(TempDir);

impl Scratch {
    fn new() -> Self {
        Scratch(tempfile::tempdir().unwrap())
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Run {
        run_in(self.0.path(), args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_in(self.0.path(), args, Some(stdin))
    }
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// Each fixture, its dialect, a table it defines, and whether it defines views (which the
/// importer must skip, with a warning).
const SCHEMAS: [(&str, &str, &str, bool); 8] = [
    ("chinook.postgres.sql", "postgres", "album", false),
    ("chinook.mysql.sql", "mysql", "album", false),
    ("chinook.sqlite.sql", "sqlite", "album", false),
    ("employees.mysql.sql", "mysql", "dept_manager", true),
    (
        "northwind.postgres.sql",
        "postgres",
        "customer_demographics",
        false,
    ),
    ("pagila.postgres.sql", "postgres", "film_actor", true),
    ("sakila.mysql.sql", "mysql", "film_actor", true),
    ("sakila.sqlite.sql", "sqlite", "film_actor", true),
];

/// Checks that `output`, written as `format`, is that format and names `table`.
fn check_export(format: &str, output: &str, table: &str, context: &str) {
    assert!(!output.trim().is_empty(), "{context}: empty output");
    assert!(
        output.to_lowercase().contains(table),
        "{context}: no `{table}` in:\n{output}"
    );
    let trimmed = output.trim_start();
    match format {
        "markdown" => assert!(
            trimmed.starts_with('#'),
            "{context}: not a Markdown heading"
        ),
        "plantuml" => assert!(
            trimmed.starts_with("@startuml") && output.trim_end().ends_with("@enduml"),
            "{context}: not a PlantUML document"
        ),
        "mermaid" => assert!(
            output.lines().any(|l| l.trim() == "erDiagram"),
            "{context}: no erDiagram"
        ),
        "postgres" | "mysql" | "sqlite" => assert!(
            output.to_uppercase().contains("CREATE TABLE"),
            "{context}: no CREATE TABLE"
        ),
        "dbml" => assert!(
            output.lines().any(|l| l.starts_with("Table ")),
            "{context}: no DBML table"
        ),
        "json-schema" => {
            let schema: Value = serde_json::from_str(output).unwrap();
            assert!(
                schema["$schema"]
                    .as_str()
                    .is_some_and(|s| s.contains("2020-12")),
                "{context}: no draft 2020-12 $schema"
            );
        }
        "json" => {
            let model: Value = serde_json::from_str(output).unwrap();
            assert!(
                model["entities"].as_array().is_some_and(|e| !e.is_empty()),
                "{context}: no entities"
            );
        }
        "svg" => {
            let doc = roxmltree::Document::parse(output)
                .unwrap_or_else(|e| panic!("{context}: not well-formed XML: {e}"));
            assert_eq!(doc.root_element().tag_name().name(), "svg", "{context}");
            assert!(!output.contains("<foreignObject"), "{context}");
        }
        other => panic!("unknown format {other}"),
    }
}

const OUTPUT_FORMATS: [&str; 10] = [
    "markdown",
    "plantuml",
    "mermaid",
    "postgres",
    "mysql",
    "sqlite",
    "dbml",
    "json-schema",
    "json",
    "svg",
];

#[test]
fn convert_every_fixture_to_every_format() {
    let scratch = Scratch::new();
    for (file, dialect, table, has_views) in SCHEMAS {
        let path = fixture(file);
        for format in OUTPUT_FORMATS {
            let run = scratch.run(&["convert", "--from", dialect, &path, "--to", format]);
            let context = format!("{file} --to {format}");
            assert_eq!(run.code, 0, "{context}: {}", run.stderr);
            check_export(format, &run.stdout, table, &context);
            // Every stderr line is a skipped-statement warning that names file and line, or
            // an export warning (and their count) that names the file and the place.
            for line in run.stderr.lines() {
                if let Some(rest) = line.strip_prefix(&format!("{path}: warning: ")) {
                    let export = rest
                        .strip_prefix("export: ")
                        .is_some_and(|w| w.contains(": lost: ") || w.contains(": changed: "));
                    assert!(
                        export || rest.contains(" export warning"),
                        "{context}: unexpected stderr line {line:?}"
                    );
                    continue;
                }
                let (location, rest) = line
                    .split_once(": warning: skipped ")
                    .unwrap_or_else(|| panic!("{context}: unexpected stderr line {line:?}"));
                let (name, number) = location.rsplit_once(':').unwrap();
                assert_eq!(name, path, "{context}: {line}");
                assert!(number.parse::<usize>().unwrap() > 0, "{context}: {line}");
                assert!(rest.contains(": "), "{context}: no reason in {line:?}");
            }
            if has_views {
                assert!(run.stderr.contains("view"), "{context}: {:?}", run.stderr);
            }
        }
        let quiet = scratch.run(&["convert", "--from", dialect, &path, "--to", "json", "-q"]);
        assert_eq!(quiet.code, 0, "{file} --quiet");
        assert_eq!(quiet.stderr, "", "{file} --quiet");
    }
}

#[test]
fn skipped_views_are_warned_with_their_line() {
    let scratch = Scratch::new();
    let sql = "create table t (id integer primary key);\n\ncreate view v as select id from t;\n";
    let path = scratch.file("views.sql", sql.as_bytes());
    let run = scratch.run(&[
        "convert",
        "--from",
        "sqlite",
        path.to_str().unwrap(),
        "--to",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let prefix = format!("{}:3: warning: skipped ", path.display());
    assert!(
        run.stderr.starts_with(&prefix) && run.stderr.contains("view"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// Issue 12, reproducer 2: text keys lose their unbounded length in MySQL. `convert` says so
/// with the place, counts the warnings, and `--strict` refuses the conversion.
#[test]
fn strict_refuses_a_conversion_that_loses_something() {
    let scratch = Scratch::new();
    let sql = "CREATE TABLE r (id text PRIMARY KEY);\n\
               CREATE TABLE s (r_id text NOT NULL REFERENCES r(id));\n";
    let path = scratch.file("keys.sql", sql.as_bytes());
    let path = path.to_str().unwrap();
    let convert = |to: &str, extra: &[&str]| {
        let mut args = vec!["convert", "--from", "postgres", path, "--to", to];
        args.extend_from_slice(extra);
        scratch.run(&args)
    };

    let lossy = convert("mysql", &[]);
    assert_eq!(lossy.code, 0, "{}", lossy.stderr);
    assert!(
        lossy.stdout.contains("id varchar(768) NOT NULL"),
        "{}",
        lossy.stdout
    );
    let lines: Vec<&str> = lossy.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", lossy.stderr);
    assert!(
        lines[0].starts_with(&format!(
            "{path}: warning: export: r.id: lost: text in a key is varchar(768)"
        )),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with(&format!("{path}: warning: export: s.r_id: changed: ")));
    assert_eq!(
        lines[2],
        format!("{path}: warning: 2 export warnings: 1 lost, 1 changed")
    );

    let strict = convert("mysql", &["--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert_eq!(strict.stdout, "", "nothing is written under --strict");
    let last = strict.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: --strict: 0 statement(s) skipped on import and 1 thing(s) lost"),
        "{last}"
    );
    let quiet = convert("mysql", &["--strict", "-q"]);
    assert_eq!(quiet.code, 1);
    assert_eq!(quiet.stderr.lines().count(), 1, "{}", quiet.stderr);

    // The same keys lose nothing in PostgreSQL and SQLite.
    for to in ["postgres", "sqlite", "json"] {
        let clean = convert(to, &["--strict"]);
        assert_eq!(clean.code, 0, "{to}: {}", clean.stderr);
        assert_eq!(clean.stderr, "", "{to}");
    }

    // A statement skipped on import is something lost too.
    let view = scratch.file(
        "view.sql",
        b"create table t (id integer primary key);\ncreate view v as select id from t;\n",
    );
    let run = scratch.run(&[
        "convert",
        "--from",
        "sqlite",
        view.to_str().unwrap(),
        "--to",
        "json",
        "--strict",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: --strict: 1 statement(s) skipped"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_to_postgres_and_back() {
    let scratch = Scratch::new();
    let run = scratch.run(&["convert", LIBRARY_V1, "--to", "postgres"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let ddl = run.stdout.to_lowercase();
    for table in ["author", "book", "member", "loan"] {
        assert!(ddl.contains("create table"), "{ddl}");
        assert!(ddl.contains(table), "no {table} in {ddl}");
    }
    assert!(ddl.contains("references"), "no foreign key in {ddl}");
    // A model command starts nothing of the server: no data directory appears.
    assert!(!scratch.0.path().join("data").exists());

    // The DDL reads back (from stdin) into the same entities.
    let back = scratch.run_stdin(
        &["convert", "--from", "postgres", "-", "--to", "json"],
        &run.stdout,
    );
    assert_eq!(back.code, 0, "{}", back.stderr);
    let mut names: Vec<String> = back.json()["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["author", "book", "loan", "member"]);
}

#[test]
fn json_to_svg_draws_every_table_the_same_way_twice() {
    let scratch = Scratch::new();
    let run = scratch.run(&["convert", LIBRARY_V1, "--to", "svg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    check_export("svg", &run.stdout, "loan", "library --to svg");
    let doc = roxmltree::Document::parse(&run.stdout).unwrap();
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for table in ["author", "book", "member", "loan"] {
        assert!(texts.contains(&table), "no {table} box in {texts:?}");
    }
    // The legend is there, and the title is the input's name.
    assert!(texts.contains(&"zero or many"), "{texts:?}");
    assert!(texts.iter().any(|t| t.ends_with("library-v1.json")));
    // Same input, same bytes; standard input gives the same drawing under another title.
    let again = scratch.run(&["convert", LIBRARY_V1, "--to", "svg"]);
    assert_eq!(again.stdout, run.stdout);
    let json = std::fs::read_to_string(LIBRARY_V1).unwrap();
    let piped = scratch.run_stdin(&["convert", "--from", "json", "-", "--to", "svg"], &json);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    let body = |svg: &str| svg.split("<style").nth(1).map(str::to_owned);
    let without_title = |svg: &str| {
        body(svg)
            .unwrap()
            .lines()
            .filter(|l| !l.contains("dm-title"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_title(&piped.stdout), without_title(&run.stdout));
}

#[test]
fn diff_reports_changes_with_severities() {
    let scratch = Scratch::new();
    let run = scratch.run(&["diff", LIBRARY_V1, LIBRARY_V2, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let changes = report["changes"].as_array().unwrap();
    let severity_of = |kind: &str, field: &str, value: &str| -> String {
        changes
            .iter()
            .find(|c| c["change"]["kind"] == kind && c["change"][field] == value)
            .unwrap_or_else(|| panic!("no {kind} {value} in {report:#}"))["impact"]["severity"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        severity_of("attribute_removed", "attribute", "edition"),
        "breaking"
    );
    assert_eq!(severity_of("entity_added", "entity", "audit_log"), "safe");
    assert_eq!(severity_of("attribute_added", "attribute", "email"), "safe");
    let count = |severity: &str| {
        changes
            .iter()
            .filter(|c| c["impact"]["severity"] == severity)
            .count() as u64
    };
    for severity in ["breaking", "risky", "safe"] {
        assert_eq!(report[severity], count(severity), "{severity} count");
    }

    let markdown = scratch.run(&["diff", LIBRARY_V1, LIBRARY_V2]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert!(
        markdown.stdout.trim_start().starts_with('#'),
        "{}",
        markdown.stdout
    );
    for name in ["edition", "audit_log", "email"] {
        assert!(
            markdown.stdout.contains(name),
            "no {name} in {}",
            markdown.stdout
        );
    }
}

#[test]
fn diff_fail_on_sets_the_exit_code() {
    let scratch = Scratch::new();
    // (old, new, --fail-on, expected exit code)
    let cases = [
        (LIBRARY_V1, LIBRARY_V2, "breaking", 1),
        (LIBRARY_V1, LIBRARY_V2, "risky", 1),
        (LIBRARY_V1, LIBRARY_V2, "none", 0),
        (LIBRARY_V1, LIBRARY_V1, "risky", 0),
        (LIBRARY_V1, LIBRARY_V1, "breaking", 0),
    ];
    for (old, new, level, expected) in cases {
        let run = scratch.run(&["diff", old, new, "--format", "json", "--fail-on", level]);
        assert_eq!(run.code, expected, "--fail-on {level}: {}", run.stderr);
        // The report is written whatever the verdict.
        let report = run.json();
        if expected == 1 {
            assert!(
                run.stderr.contains(&format!("reach --fail-on {level}")),
                "{}",
                run.stderr
            );
        } else {
            assert_eq!(run.stderr, "");
        }
        if old == new {
            assert_eq!(report["changes"], Value::Array(vec![]));
        }
    }
}

#[test]
fn migrate_sql_from_v1_to_v2() {
    let scratch = Scratch::new();
    for dialect in ["postgres", "sqlite"] {
        let run = scratch.run(&["migrate-sql", LIBRARY_V1, LIBRARY_V2, "--dialect", dialect]);
        assert_eq!(run.code, 0, "{dialect}: {}", run.stderr);
        let sql = run.stdout.to_lowercase();
        assert!(
            sql.contains("create table") && sql.contains("audit_log"),
            "{dialect}: {sql}"
        );
        assert!(sql.contains("email"), "{dialect}: {sql}");
    }
    let postgres = scratch.run(&[
        "migrate-sql",
        LIBRARY_V1,
        LIBRARY_V2,
        "--dialect",
        "postgres",
    ]);
    let sql = postgres.stdout.to_lowercase();
    assert!(
        sql.contains("drop column") && sql.contains("edition"),
        "{sql}"
    );
}

#[test]
fn impossible_migration_exits_4() {
    let scratch = Scratch::new();
    // SQLite cannot hold a table without columns.
    scratch.file(
        "empty.json",
        br#"{"entities": [{"name": "book", "attributes": []}]}"#,
    );
    let run = scratch.run(&[
        "migrate-sql",
        LIBRARY_V1,
        "empty.json",
        "--dialect",
        "sqlite",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("error: cannot migrate: entity `book` has no attributes"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn validate_lists_every_problem_with_its_path() {
    let scratch = Scratch::new();
    let broken = r#"{
      "entities": [
        { "name": "book", "attributes": [{ "name": "id", "type": "uuid" }], "primary_key": ["id"] },
        { "name": "Book", "attributes": [] }
      ],
      "relationships": [
        { "name": "book_shelf", "from_entity": "book", "from_attributes": ["shelf_id"],
          "to_entity": "shelf", "to_attributes": ["id"], "cardinality": "N:1" }
      ]
    }"#;
    scratch.file("broken.json", broken.as_bytes());
    let run = scratch.run(&["validate", "broken.json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let paths: Vec<&str> = run
        .stdout
        .lines()
        .map(|line| {
            let rest = line.strip_prefix("broken.json: ").unwrap();
            rest.split_once(": ").unwrap().0
        })
        .collect();
    for path in [
        "entities[1].name",
        "entities[1].attributes",
        "relationships[0].from_attributes[0]",
        "relationships[0].to_entity",
    ] {
        assert!(paths.contains(&path), "no {path} in\n{}", run.stdout);
    }

    let valid = scratch.run(&["validate", LIBRARY_V1]);
    assert_eq!(
        (valid.code, valid.stdout.as_str()),
        (0, ""),
        "{}",
        valid.stderr
    );

    scratch.file(
        "camel.json",
        br#"{"entities": [{"name": "BookCopy",
        "attributes": [{"name": "id", "type": "uuid"}], "primary_key": ["id"]}]}"#,
    );
    let any = scratch.run(&["validate", "camel.json"]);
    assert_eq!((any.code, any.stdout.as_str()), (0, ""), "{}", any.stderr);
    let snake = scratch.run(&["validate", "camel.json", "--naming", "snake_case"]);
    assert_eq!(snake.code, 1, "{}", snake.stderr);
    assert!(
        snake.stdout.starts_with("camel.json: entities[0].name: "),
        "{}",
        snake.stdout
    );
}

#[test]
fn unreadable_input_exits_3_with_its_position() {
    let scratch = Scratch::new();
    scratch.file(
        "bad.json",
        b"{\n  \"entities\": [\n    { \"name\": }\n  ]\n}\n",
    );
    scratch.file(
        "bad.sql",
        b"-- the only table\n\ncreate table t (\n  id integer primary key\n  name text\n);\n",
    );
    scratch.file("latin1.json", b"{\"summary\": \"caf\xe9\"}");
    // (arguments, start of the one stderr line)
    let cases: [(&[&str], &str); 5] = [
        (&["validate", "bad.json"], "bad.json:3:"),
        (&["convert", "bad.json", "--to", "dbml"], "bad.json:3:"),
        (
            &["convert", "--from", "postgres", "bad.sql", "--to", "json"],
            "bad.sql:5:3:",
        ),
        (&["diff", "bad.json", "latin1.json"], "bad.json:3:"),
        (
            &["validate", "latin1.json"],
            "latin1.json:1:17: the file is not UTF-8 text",
        ),
    ];
    for (args, start) in cases {
        let run = scratch.run(args);
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with(start), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        // file:line:column: reason
        let mut parts = run.stderr.splitn(4, ':');
        let (_, line, column) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        assert!(
            line.parse::<usize>().is_ok() && column.parse::<usize>().is_ok(),
            "{}",
            run.stderr
        );
        assert!(parts.next().is_some_and(|r| r.len() > 2), "{}", run.stderr);
    }

    let missing = scratch.run(&["convert", "missing.json", "--to", "json"]);
    assert_eq!(missing.code, 3);
    assert_eq!(
        missing.stderr,
        "error: cannot read missing.json: no such file: check the path and its permissions\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    let scratch = Scratch::new();
    // (arguments, a piece of the message)
    let cases: [(&[&str], &str); 7] = [
        (
            &["convert", LIBRARY_V1, "--to", "json", "--bogus"],
            "--bogus",
        ),
        (&["convert", LIBRARY_V1, "--to", "excel"], "excel"),
        (&["convert", LIBRARY_V1], "--to"),
        (&["diff", LIBRARY_V1], "<NEW>"),
        (
            &["migrate-sql", LIBRARY_V1, LIBRARY_V2, "--dialect", "oracle"],
            "oracle",
        ),
        (
            &["convert", "model.sql", "--to", "json"],
            "model.sql is SQL: name its dialect with --from",
        ),
        (
            &["diff", "-", "-"],
            "only one input can come from standard input",
        ),
    ];
    for (args, message) in cases {
        let run = scratch.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn version_and_bare_invocation() {
    let scratch = Scratch::new();
    let version = scratch.run(&["--version"]);
    assert_eq!(version.code, 0, "{}", version.stderr);
    assert_eq!(
        version.stdout,
        format!("dm {}\n", env!("CARGO_PKG_VERSION")),
        "--version names the binary and the crate's version"
    );
    // No command is a usage error that lists the commands, on stderr.
    let bare = scratch.run(&[]);
    assert_eq!(bare.code, 2, "{}", bare.stderr);
    assert_eq!(bare.stdout, "");
    for command in ["convert", "diff", "migrate-sql", "validate"] {
        assert!(bare.stderr.contains(command), "{}", bare.stderr);
    }
    // The server's operations are not commands of dm.
    let serve = scratch.run(&["serve"]);
    assert_eq!(serve.code, 2, "{}", serve.stderr);
}

#[test]
fn help_documents_the_exit_codes() {
    let scratch = Scratch::new();
    for command in ["convert", "diff", "migrate-sql", "validate"] {
        let run = scratch.run(&[command, "--help"]);
        assert_eq!(run.code, 0, "{command}");
        for row in [
            "0  ok",
            "1  problems found",
            "2  usage error",
            "3  an input cannot",
            "4  the output",
        ] {
            assert!(run.stdout.contains(row), "{command} --help lacks {row:?}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn unwritable_output_exits_4() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dm"))
        .args(["convert", LIBRARY_V1, "--to", "json"])
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot write the output: "),
        "{stderr}"
    );
}
