//! The model command line: `convert`, `diff`, `migrate-sql` and `validate`, the subcommands of
//! the `dm` binary, which run the model core on files, with no server, database or network.
//!
//! An *input* is a model file in one of the importable formats (SQL DDL for PostgreSQL, MySQL or
//! SQLite, or the JSON model format), or `-` for standard input. Its *format* comes from
//! `--from`, or else from its extension: `.json` is the JSON model format, while `.sql` needs
//! `--from` to name the dialect. A *skipped statement* is DDL the importer left out of the model
//! (a view, a trigger); each one is a warning on stderr, naming the file, the line and the reason,
//! unless `--quiet` is given. An *export warning* is something of the model that `convert`'s
//! SQL output does not write as the model says, with its table and column: *lost* when the
//! dialect cannot express it, *changed* when it is written differently with the same meaning;
//! each is a warning on stderr, followed by their count. With `--strict`, `convert` writes
//! nothing and exits 1 when anything was lost: a skipped statement or a lost export warning.
//! Results go to stdout, diagnostics to stderr.
//!
//! The *outcome* of a command is its exit code, a contract for scripts (see [`EXIT_CODES`]):
//! 0 ok, 1 problems found, 2 usage error, 3 unreadable input, 4 output impossible. Every failure
//! is one lower-case line on stderr that says what went wrong and what to do about it.

use clap::{Args, Subcommand, ValueEnum};
use model::diagram::{
    self,
    svg::{self, SvgOptions},
};
use model::{
    analyze, changelog::changelog, export_with_warnings, import_json, import_sql,
    migrate::migration_sql, validate, warning_summary, Conventions, ExportFormat, ImportError,
    Imported, Model, NamingConvention, SqlDialect, WarningKind,
};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The exit-code table shown in `--help`.
pub const EXIT_CODES: &str = "\
Exit codes (convert, diff, migrate-sql, validate):
  0  ok
  1  problems found (validate), the diff reaches the --fail-on level (diff), or something
     was lost in the conversion (convert --strict; nothing is written)
  2  usage error: unknown flag, missing argument, input format not known
  3  an input cannot be read or parsed (the message names file:line:column)
  4  the output cannot be produced (for instance an impossible migration)";

/// The model subcommands of `dm`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Convert a model file to another format, written to stdout.
    #[command(after_help = EXIT_CODES)]
    Convert(ConvertArgs),
    /// Compare two models: every change with its impact (breaking, risky, safe).
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Print the SQL that migrates a database made from OLD into one made from NEW.
    #[command(after_help = EXIT_CODES)]
    MigrateSql(MigrateSqlArgs),
    /// Check a model and print each problem as `FILE: path: reason`.
    #[command(after_help = EXIT_CODES)]
    Validate(ValidateArgs),
}

/// Arguments of `convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The model file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Format of FILE; by default `.json` files are JSON (SQL files need a dialect).
    #[arg(long, value_enum)]
    pub from: Option<InputFormat>,
    /// Format to write.
    #[arg(long, value_enum)]
    pub to: OutputFormat,
    /// Do not warn about skipped statements and export warnings.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write nothing and exit 1 when anything is lost: a statement skipped on import, or
    /// something the output format cannot express.
    #[arg(long)]
    pub strict: bool,
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older model file; `-` reads standard input.
    pub old: PathBuf,
    /// The newer model file; `-` reads standard input.
    pub new: PathBuf,
    /// Format of both files; by default `.json` files are JSON (SQL files need a dialect).
    #[arg(long, value_enum)]
    pub from: Option<InputFormat>,
    /// How to write the report: a Markdown changelog or the impact report as JSON.
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
    /// Exit with 1 when some change is at least this severe.
    #[arg(long, value_enum, default_value_t = FailOn::None)]
    pub fail_on: FailOn,
    /// Do not warn about skipped statements.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `migrate-sql`.
#[derive(Debug, Args)]
pub struct MigrateSqlArgs {
    /// The model the database was made from; `-` reads standard input.
    pub old: PathBuf,
    /// The model to migrate to; `-` reads standard input.
    pub new: PathBuf,
    /// The database to write migration SQL for.
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// Format of both files; by default `.json` files are JSON (SQL files need a dialect).
    #[arg(long, value_enum)]
    pub from: Option<InputFormat>,
    /// Do not warn about skipped statements.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The model file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Format of FILE; by default `.json` files are JSON (SQL files need a dialect).
    #[arg(long, value_enum)]
    pub from: Option<InputFormat>,
    /// How entity and attribute names must be written.
    #[arg(long, value_enum, default_value_t = Naming::Any)]
    pub naming: Naming,
    /// Do not warn about skipped statements.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A format the model can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// PostgreSQL DDL.
    #[value(alias = "postgresql", alias = "pg")]
    Postgres,
    /// MySQL or MariaDB DDL.
    #[value(alias = "mariadb")]
    Mysql,
    /// SQLite DDL.
    #[value(alias = "sqlite3")]
    Sqlite,
    /// The JSON model format.
    Json,
}

/// A format the model can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Markdown data dictionary.
    #[value(alias = "md")]
    Markdown,
    /// PlantUML entity diagram.
    Plantuml,
    /// Mermaid erDiagram.
    Mermaid,
    /// PostgreSQL DDL.
    #[value(alias = "postgresql", alias = "pg")]
    Postgres,
    /// MySQL DDL.
    #[value(alias = "mariadb")]
    Mysql,
    /// SQLite DDL.
    #[value(alias = "sqlite3")]
    Sqlite,
    /// DBML (dbdiagram.io).
    Dbml,
    /// JSON Schema of one record of each entity.
    JsonSchema,
    /// The JSON model format.
    Json,
    /// The ER diagram as plain SVG 1.1 (auto layout, with a legend).
    Svg,
}

impl OutputFormat {
    /// The core's export format, or `None` for the diagram, which is drawn rather than exported.
    fn export_format(self) -> Option<ExportFormat> {
        Some(match self {
            OutputFormat::Markdown => ExportFormat::Markdown,
            OutputFormat::Plantuml => ExportFormat::PlantUml,
            OutputFormat::Mermaid => ExportFormat::Mermaid,
            OutputFormat::Postgres => ExportFormat::Sql(SqlDialect::Postgres),
            OutputFormat::Mysql => ExportFormat::Sql(SqlDialect::Mysql),
            OutputFormat::Sqlite => ExportFormat::Sql(SqlDialect::Sqlite),
            OutputFormat::Dbml => ExportFormat::Dbml,
            OutputFormat::JsonSchema => ExportFormat::JsonSchema,
            OutputFormat::Json => ExportFormat::Json,
            OutputFormat::Svg => return None,
        })
    }
}

/// A database dialect for migration SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    #[value(alias = "postgresql", alias = "pg")]
    Postgres,
    #[value(alias = "mariadb")]
    Mysql,
    #[value(alias = "sqlite3")]
    Sqlite,
}

impl From<Dialect> for SqlDialect {
    fn from(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Postgres => SqlDialect::Postgres,
            Dialect::Mysql => SqlDialect::Mysql,
            Dialect::Sqlite => SqlDialect::Sqlite,
        }
    }
}

/// How `diff` writes its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A changelog grouped by impact, then by entity.
    Markdown,
    /// The impact report: every change with severity, reason and what it affects.
    Json,
}

/// The severity from which `diff` exits with 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail when a change is breaking.
    Breaking,
    /// Fail when a change is breaking or risky.
    Risky,
    /// Never fail because of the changes.
    None,
}

/// Naming convention for `validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Naming {
    /// Any non-empty name.
    Any,
    /// lower_snake_case names.
    #[value(name = "snake_case", alias = "snake-case")]
    SnakeCase,
}

/// How a command ended; [`Outcome::code`] is its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done, nothing to report.
    Ok,
    /// The command ran and found problems (invalid model, diff over the `--fail-on` level).
    Problems,
    /// The command line does not say enough (clap reports its own usage errors with the same
    /// code).
    Usage,
    /// An input could not be read or parsed.
    Input,
    /// The output could not be produced or written.
    Output,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Problems => 1,
            Outcome::Usage => 2,
            Outcome::Input => 3,
            Outcome::Output => 4,
        }
    }
}

/// A command that could not finish: the outcome and the line to print on stderr.
#[derive(Debug)]
struct Failure {
    outcome: Outcome,
    message: String,
}

impl Failure {
    fn usage(message: String) -> Self {
        Failure {
            outcome: Outcome::Usage,
            message: format!("error: {message}"),
        }
    }

    /// An input failure starts with its location (`file:line:column: `, as compilers write
    /// it) when there is one, so `message` comes complete.
    fn input(message: String) -> Self {
        Failure {
            outcome: Outcome::Input,
            message,
        }
    }

    fn output(message: String) -> Self {
        Failure {
            outcome: Outcome::Output,
            message: format!("error: {message}"),
        }
    }
}

/// The streams a command talks to, so that tests can run commands in process.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

/// Runs `command` on the process's standard streams.
pub fn run_stdio(command: &ModelCommand) -> Outcome {
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    run(
        command,
        &mut Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        },
    )
}

/// Runs `command`: the result on `io.stdout`, warnings and the failure (if any) on `io.stderr`.
pub fn run(command: &ModelCommand, io: &mut Io<'_>) -> Outcome {
    let result = match command {
        ModelCommand::Convert(args) => convert(args, io),
        ModelCommand::Diff(args) => diff(args, io),
        ModelCommand::MigrateSql(args) => migrate_sql(args, io),
        ModelCommand::Validate(args) => validate_command(args, io),
    };
    match result {
        Ok(outcome) => outcome,
        Err(failure) => {
            // Nothing sensible is left to do if stderr itself is gone.
            let _ = writeln!(io.stderr, "{}", failure.message);
            let _ = io.stderr.flush();
            failure.outcome
        }
    }
}

fn convert(args: &ConvertArgs, io: &mut Io<'_>) -> Result<Outcome, Failure> {
    let format = input_format(&args.file, args.from)?;
    let imported = load_imported(&args.file, format, args.quiet, io)?;
    let name = display_name(&args.file);
    let (text, warnings) = match args.to.export_format() {
        Some(format) => export_with_warnings(&imported.model, format),
        None => (diagram_svg(&imported.model, &name), Vec::new()),
    };
    if !args.quiet {
        for warning in &warnings {
            let _ = writeln!(io.stderr, "{name}: warning: export: {warning}");
        }
        if let Some(summary) = warning_summary(&warnings) {
            let _ = writeln!(io.stderr, "{name}: warning: {summary}");
        }
    }
    let skipped = imported.skipped.len();
    let lost = warnings
        .iter()
        .filter(|w| w.kind == WarningKind::Lost)
        .count();
    if args.strict && skipped + lost > 0 {
        let _ = writeln!(
            io.stderr,
            "error: --strict: {skipped} statement(s) skipped on import and {lost} thing(s) \
             lost on export: see the warnings (without --quiet), or convert without --strict"
        );
        return Ok(Outcome::Problems);
    }
    write_out(io, &text)?;
    Ok(Outcome::Ok)
}

fn diff(args: &DiffArgs, io: &mut Io<'_>) -> Result<Outcome, Failure> {
    let (old, new) = load_pair(&args.old, &args.new, args.from, args.quiet, io)?;
    let report = analyze(&old, &new);
    let text = match args.format {
        ReportFormat::Markdown => changelog(&old, &new),
        ReportFormat::Json => serde_json::to_string_pretty(&report).map_err(|e| {
            Failure::output(format!(
                "cannot write the impact report as JSON: {e}: use --format markdown"
            ))
        })?,
    };
    write_out(io, &text)?;
    let (over, level) = match args.fail_on {
        FailOn::Breaking => (report.breaking, "breaking"),
        FailOn::Risky => (report.breaking + report.risky, "risky"),
        FailOn::None => (0, "none"),
    };
    if over == 0 {
        return Ok(Outcome::Ok);
    }
    let _ = writeln!(
        io.stderr,
        "error: {} breaking and {} risky change(s) reach --fail-on {level}: review them, or \
         raise the level",
        report.breaking, report.risky
    );
    Ok(Outcome::Problems)
}

fn migrate_sql(args: &MigrateSqlArgs, io: &mut Io<'_>) -> Result<Outcome, Failure> {
    let (old, new) = load_pair(&args.old, &args.new, args.from, args.quiet, io)?;
    // The core's message already names the remedy.
    let sql = migration_sql(&old, &new, args.dialect.into())
        .map_err(|e| Failure::output(e.to_string()))?;
    write_out(io, &sql)?;
    Ok(Outcome::Ok)
}

fn validate_command(args: &ValidateArgs, io: &mut Io<'_>) -> Result<Outcome, Failure> {
    let format = input_format(&args.file, args.from)?;
    let model = load(&args.file, format, args.quiet, io)?;
    let conventions = Conventions {
        naming: match args.naming {
            Naming::Any => NamingConvention::Any,
            Naming::SnakeCase => NamingConvention::SnakeCase,
        },
        guidance: String::new(),
    };
    let problems = validate(&model, &conventions);
    let name = display_name(&args.file);
    let mut text = String::new();
    for problem in &problems {
        text.push_str(&format!("{name}: {}: {}\n", problem.path, problem.reason));
    }
    write_out(io, &text)?;
    Ok(if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

/// Reads the two inputs of `diff` and `migrate-sql`; both formats are settled before either
/// file is read, so that a usage error wins over an unreadable file.
fn load_pair(
    old: &Path,
    new: &Path,
    from: Option<InputFormat>,
    quiet: bool,
    io: &mut Io<'_>,
) -> Result<(Model, Model), Failure> {
    if is_stdin(old) && is_stdin(new) {
        return Err(Failure::usage(
            "only one input can come from standard input: name a file for the other".into(),
        ));
    }
    let old_format = input_format(old, from)?;
    let new_format = input_format(new, from)?;
    let old = load(old, old_format, quiet, io)?;
    let new = load(new, new_format, quiet, io)?;
    Ok((old, new))
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How a path is named in messages.
fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".into()
    } else {
        path.display().to_string()
    }
}

/// The model's ER diagram as SVG, laid out anew, titled with the input's name, with a legend.
fn diagram_svg(model: &Model, title: &str) -> String {
    let options = SvgOptions {
        title: Some(title.to_string()),
        legend: true,
        ..SvgOptions::default()
    };
    svg::render(&diagram::layout(model, None), &options)
}

/// The format of `path`: `--from` if given, else what its extension says.
fn input_format(path: &Path, from: Option<InputFormat>) -> Result<InputFormat, Failure> {
    if let Some(format) = from {
        return Ok(format);
    }
    if is_stdin(path) {
        return Err(Failure::usage(
            "cannot tell the format of standard input: pass --from postgres, mysql, sqlite \
             or json"
                .into(),
        ));
    }
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("json") => Ok(InputFormat::Json),
        Some("sql") => Err(Failure::usage(format!(
            "{} is SQL: name its dialect with --from postgres, mysql or sqlite",
            path.display()
        ))),
        _ => Err(Failure::usage(format!(
            "cannot tell the format of {} from its name: pass --from postgres, mysql, sqlite \
             or json",
            path.display()
        ))),
    }
}

/// Reads and imports one input, printing its skipped statements as warnings.
fn load(path: &Path, format: InputFormat, quiet: bool, io: &mut Io<'_>) -> Result<Model, Failure> {
    load_imported(path, format, quiet, io).map(|imported| imported.model)
}

/// [`load`], keeping what was skipped.
fn load_imported(
    path: &Path,
    format: InputFormat,
    quiet: bool,
    io: &mut Io<'_>,
) -> Result<Imported, Failure> {
    let name = display_name(path);
    let text = read_text(path, &name, io)?;
    let imported = import(&text, format).map_err(|e| import_failure(&name, &e))?;
    if !quiet {
        for skipped in &imported.skipped {
            let _ = writeln!(
                io.stderr,
                "{name}:{}: warning: skipped {}: {}",
                skipped.line, skipped.what, skipped.reason
            );
        }
    }
    Ok(imported)
}

fn import(text: &str, format: InputFormat) -> Result<Imported, ImportError> {
    match format {
        InputFormat::Json => import_json(text),
        InputFormat::Postgres => import_sql(text, SqlDialect::Postgres),
        InputFormat::Mysql => import_sql(text, SqlDialect::Mysql),
        InputFormat::Sqlite => import_sql(text, SqlDialect::Sqlite),
    }
}

fn import_failure(name: &str, error: &ImportError) -> Failure {
    Failure::input(format!(
        "{name}:{}:{}: {} [{}]",
        error.line, error.column, error.message, error.code
    ))
}

/// The whole input as text. A UTF-8 byte order mark is dropped, because editors on Windows
/// add one and no importer expects it.
fn read_text(path: &Path, name: &str, io: &mut Io<'_>) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let read = if is_stdin(path) {
        io.stdin.read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.map_err(|e| {
        Failure::input(format!(
            "error: cannot read {name}: {}: check the path and its permissions",
            io_reason(&e)
        ))
    })?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .map_or(bytes.as_slice(), |rest| rest);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let (line, column) = position(&bytes[..e.valid_up_to()]);
            Err(Failure::input(format!(
                "{name}:{line}:{column}: the file is not UTF-8 text: save it as UTF-8"
            )))
        }
    }
}

/// Line and column (both 1-based, the column in characters) just after `prefix`, which is
/// valid UTF-8 by construction.
fn position(prefix: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(prefix);
    let line = text.matches('\n').count() + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    (line, last.chars().count() + 1)
}

/// An I/O error in words, lower case like every other message.
fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => {
            let text = error.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// Writes the command's result, ending it with a newline. A reader that went away (`| head`)
/// is not a failure: it has all it wanted.
fn write_out(io: &mut Io<'_>, text: &str) -> Result<(), Failure> {
    let mut result = io.stdout.write_all(text.as_bytes());
    if result.is_ok() && !text.is_empty() && !text.ends_with('\n') {
        result = io.stdout.write_all(b"\n");
    }
    match result.and_then(|()| io.stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::output(format!(
            "cannot write the output: {}: check the disk or the pipe",
            io_reason(&e)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_format_follows_from_then_extension() {
        fn check(path: &str, from: Option<InputFormat>, expected: Result<InputFormat, &str>) {
            let got = input_format(Path::new(path), from).map_err(|f| f.message);
            match (got, expected) {
                (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{path}"),
                (Err(got), Err(expected)) => assert!(got.contains(expected), "{path}: {got}"),
                (got, expected) => panic!("{path}: got {got:?}, expected {expected:?}"),
            }
        }
        check("m.json", None, Ok(InputFormat::Json));
        check("M.JSON", None, Ok(InputFormat::Json));
        check("m.sql", Some(InputFormat::Mysql), Ok(InputFormat::Mysql));
        check("m.json", Some(InputFormat::Sqlite), Ok(InputFormat::Sqlite));
        check("-", Some(InputFormat::Json), Ok(InputFormat::Json));
        check(
            "m.sql",
            None,
            Err("m.sql is SQL: name its dialect with --from"),
        );
        check("-", None, Err("cannot tell the format of standard input"));
        check(
            "model",
            None,
            Err("cannot tell the format of model from its name"),
        );
    }

    #[test]
    fn position_counts_lines_and_characters() {
        fn check(prefix: &str, expected: (usize, usize)) {
            assert_eq!(position(prefix.as_bytes()), expected, "{prefix:?}");
        }
        check("", (1, 1));
        check("abc", (1, 4));
        check("a\n", (2, 1));
        check("a\nbé", (2, 3));
        check("\n\n\nxy", (4, 3));
    }

    #[test]
    fn exit_codes_are_stable() {
        let codes: Vec<u8> = [
            Outcome::Ok,
            Outcome::Problems,
            Outcome::Usage,
            Outcome::Input,
            Outcome::Output,
        ]
        .into_iter()
        .map(Outcome::code)
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn invalid_utf8_is_an_input_error_with_its_position() {
        let mut stdin: &[u8] = b"{\n  \"a\": \"\xff\"\n}";
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let command = ModelCommand::Validate(ValidateArgs {
            file: PathBuf::from("-"),
            from: Some(InputFormat::Json),
            naming: Naming::Any,
            quiet: false,
        });
        let outcome = run(
            &command,
            &mut Io {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
            },
        );
        assert_eq!(outcome, Outcome::Input);
        assert_eq!(
            String::from_utf8_lossy(&stderr),
            "<stdin>:2:9: the file is not UTF-8 text: save it as UTF-8\n"
        );
        assert!(stdout.is_empty());
    }
}
