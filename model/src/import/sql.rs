//! Importing SQL DDL: from a script's statements to entities, keys and relationships.
//!
//! The script is first cut into statements ([`super::split`]); each statement is then looked at
//! on its own. Statements that define the model (`CREATE TABLE`, `ALTER TABLE ... ADD
//! CONSTRAINT`, `CREATE [UNIQUE] INDEX`, `COMMENT ON`, `CREATE TYPE ... AS ENUM`,
//! `CREATE DOMAIN`) are parsed with sqlparser; everything else (views, triggers, routines,
//! sequences, grants, session settings, data) is recognised by its leading keywords and
//! reported as *skipped*, with the line where it starts and why. Skipped items that come in
//! bulk (data rows, ownership changes, grants, session settings) are counted into one item
//! each, so the list stays readable for a real dump. A statement the parser cannot read is
//! skipped too; only a script with no usable table at all fails.
//!
//! Foreign keys are collected while reading and resolved at the end, because dumps often
//! declare them before the referenced table or in `ALTER TABLE` statements after every table.
//! A foreign key without a column list refers to the primary key of its target.
//!
//! Auto-numbering (`AUTO_INCREMENT`, SQLite's `AUTOINCREMENT`, `serial`, an identity column, a
//! `nextval(...)` default) sets the attribute's `auto_increment` and leaves no default, since a
//! sequence call is not a value. What the model cannot hold is dropped on purpose: a generated
//! column's expression is reported as skipped, and so are `ON UPDATE` clauses (a column's
//! value set on update, a foreign key's update rule other than the default); character sets and storage options are ignored silently; a collation sets
//! `case_insensitive` when it says whether case counts (`NOCASE`, `..._ci`, `..._bin`) and is
//! reported as skipped otherwise; `CHECK`
//! constraints (but SQLite's `CHECK (v IN ('a', 'b'))` on a text column, which is how an enum
//! is written there and reads back as one), full-text and
//! spatial indexes, partial indexes and keys over expressions are reported as skipped. A
//! `CREATE INDEX` over expressions is kept, as the expression without `::` casts
//! (`Index::expression`); a call in an index is a MySQL prefix (`title(10)`) only in MySQL and
//! only with one number, never a column named after the function.

use super::split::{lex, split, Piece, PieceKind, Tok, TokKind};
use super::types::{map_type, native_type, TypeContext};
use super::{ImportError, Imported, Skipped};
use crate::dialect::SqlDialect;
use crate::logical_type::LogicalType;
use crate::types::{
    Attribute, Cardinality, Entity, Index, Model, OnDelete, Relationship, MODEL_FORMAT_VERSION,
};
use sqlparser::ast::helpers::stmt_create_table::CreateTableBuilder;
use sqlparser::ast::Ident;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, CastKind, ColumnDef, ColumnOption, CommentDef,
    CommentObject, CreateTable, Expr, IndexColumn, ObjectName, ReferentialAction, SqlOption,
    Statement, TableConstraint, UserDefinedTypeRepresentation, Value,
};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use std::collections::HashMap;

/// Imports an SQL script written for `dialect`.
pub(crate) fn import(text: &str, dialect: SqlDialect) -> Result<Imported, ImportError> {
    let mut importer = Importer::new(dialect);
    for piece in split(text, dialect) {
        importer.statement(&piece);
    }
    importer.finish()
}

/// A foreign key read from the script, resolved once every table is known.
struct PendingFk {
    line: usize,
    name: Option<String>,
    from: String,
    from_columns: Vec<String>,
    to: String,
    to_columns: Vec<String>,
    on_delete: Option<ReferentialAction>,
}

/// Skipped statements counted into one item: `data for actor (200 rows)`.
struct Group {
    line: usize,
    label: String,
    unit: (&'static str, &'static str),
    count: usize,
    reason: String,
}

struct Importer {
    dialect: SqlDialect,
    parser_dialect: Box<dyn Dialect>,
    entities: Vec<Entity>,
    fks: Vec<PendingFk>,
    types: TypeContext,
    skipped: Vec<Skipped>,
    groups: Vec<Group>,
    group_index: HashMap<String, usize>,
    /// `(parent, partition, line)` from `ATTACH PARTITION` and `PARTITION OF`.
    partitions: Vec<(String, String, usize)>,
    /// Where the first `CREATE TABLE` that could not be read starts, for the no-tables error.
    first_failure: Option<(usize, usize, String)>,
}

/// The last part of a possibly schema-qualified name, without quotes.
fn object_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(|ident| ident.value.clone())
        .unwrap_or_else(|| name.to_string())
}

fn referential(action: Option<&ReferentialAction>) -> OnDelete {
    match action {
        Some(ReferentialAction::Cascade) => OnDelete::Cascade,
        Some(ReferentialAction::Restrict) => OnDelete::Restrict,
        Some(ReferentialAction::SetNull) => OnDelete::SetNull,
        Some(ReferentialAction::NoAction | ReferentialAction::SetDefault) | None => {
            OnDelete::NoAction
        }
    }
}

/// The column an index or key part names, or `None` for an expression.
fn index_column(column: &IndexColumn, dialect: SqlDialect) -> Option<String> {
    match &column.column.expr {
        Expr::Identifier(ident) => Some(ident.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|ident| ident.value.clone()),
        // MySQL prefix indexes, `KEY (title(10))`, read as a call with one number: the column
        // is still indexed. Anything else that looks like a call is one, `lower(email)`.
        Expr::Function(function)
            if dialect == SqlDialect::Mysql
                && function.name.0.len() == 1
                && is_prefix_length(&function.args) =>
        {
            Some(object_name(&function.name))
        }
        _ => None,
    }
}

/// True when a call's arguments are one number, as in MySQL's prefix `title(10)`.
fn is_prefix_length(args: &sqlparser::ast::FunctionArguments) -> bool {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    match args {
        FunctionArguments::List(list) => {
            list.args.len() == 1
                && matches!(
                    &list.args[0],
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))
                        if matches!(v.value, Value::Number(..))
                )
        }
        _ => false,
    }
}

fn index_columns(columns: &[IndexColumn], dialect: SqlDialect) -> Option<Vec<String>> {
    columns.iter().map(|c| index_column(c, dialect)).collect()
}

/// Whether a collation compares ignoring case: `Some(true)` for SQLite's `NOCASE`, MySQL's
/// `..._ci` and the export's own PostgreSQL `case_insensitive`; `Some(false)` for the binary,
/// case-sensitive and default ones; `None` for any other, which the model cannot say.
fn collation_case(collation: &ObjectName) -> Option<bool> {
    let name = object_name(collation).to_ascii_lowercase();
    if name == "nocase" || name.ends_with("_ci") || name == "case_insensitive" {
        Some(true)
    } else if name.ends_with("_bin")
        || name.ends_with("_cs")
        || matches!(name.as_str(), "binary" | "c" | "posix" | "default")
    {
        Some(false)
    } else {
        None
    }
}

/// The values of `column IN ('a', 'b', ...)`, a check that makes a text column an enum.
fn enum_check(expr: &Expr, column: &str) -> Option<Vec<String>> {
    let Expr::InList {
        expr,
        list,
        negated: false,
    } = expr
    else {
        return None;
    };
    let named = match expr.as_ref() {
        Expr::Identifier(ident) => ident.value.eq_ignore_ascii_case(column),
        _ => false,
    };
    if !named || list.is_empty() {
        return None;
    }
    list.iter()
        .map(|item| match item {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(text) => Some(text.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// True for PostgreSQL's auto-numbered types: `serial`, `bigserial`, `smallserial`.
fn is_serial(data_type: &sqlparser::ast::DataType) -> bool {
    let name = data_type.to_string().to_ascii_lowercase();
    matches!(
        name.rsplit('.').next(),
        Some("serial" | "serial2" | "serial4" | "serial8" | "bigserial" | "smallserial")
    )
}

/// True for a sequence call, `nextval('t_id_seq'::regclass)`: the column numbers its rows.
fn is_sequence_call(expr: &Expr) -> bool {
    let mut expr = expr;
    while let Expr::Cast { expr: inner, .. } | Expr::Nested(inner) = expr {
        expr = inner;
    }
    matches!(expr, Expr::Function(f) if object_name(&f.name).eq_ignore_ascii_case("nextval"))
}

/// `text` without PostgreSQL's `::type` casts, which other dialects cannot read: `::`, the type
/// name (a word, or the words of `character varying` and the like), its `(n)` and `[]`.
/// Quoted strings are copied as they are.
fn without_casts(text: &str) -> String {
    const TYPE_WORDS: [&str; 6] = ["varying", "precision", "with", "without", "time", "zone"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let end = rest[1..].find('\'').map_or(rest.len(), |i| i + 2);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if let Some(after) = rest.strip_prefix("::") {
            let mut r = after.trim_start();
            let word_end = |s: &str| {
                s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"'))
                    .unwrap_or(s.len())
            };
            r = &r[word_end(r)..];
            loop {
                let t = r.trim_start();
                let w = &t[..word_end(t)];
                if !w.is_empty() && TYPE_WORDS.iter().any(|k| k.eq_ignore_ascii_case(w)) {
                    r = &t[w.len()..];
                } else {
                    break;
                }
            }
            if r.starts_with('(') {
                r = r.find(')').map_or("", |i| &r[i + 1..]);
            }
            while let Some(t) = r.strip_prefix("[]") {
                r = t;
            }
            rest = r;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// A default as SQL text, or `None` when it is no value (NULL, a sequence call).
fn default_text(expr: &Expr) -> Option<String> {
    let mut expr = expr;
    loop {
        match expr {
            // PostgreSQL dumps write `'G'::public.mpaa_rating`: the cast adds nothing to the value.
            Expr::Cast {
                kind: CastKind::DoubleColon,
                expr: inner,
                ..
            } => expr = inner,
            Expr::Nested(inner) => expr = inner,
            _ => break,
        }
    }
    match expr {
        Expr::Value(value) if matches!(value.value, Value::Null) => None,
        Expr::Function(function) if object_name(&function.name).eq_ignore_ascii_case("nextval") => {
            None
        }
        other => Some(other.to_string()),
    }
}

/// Where sqlparser located an error (`... at Line: 3, Column: 5`), relative to the statement.
fn error_position(message: &str) -> Option<(usize, usize)> {
    let at = message.rfind("Line: ")?;
    let rest = &message[at + "Line: ".len()..];
    let (line, rest) = rest.split_once(',')?;
    let column = rest.trim().strip_prefix("Column: ")?;
    let column: String = column.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

/// The error text without sqlparser's own position, which is relative to the statement.
fn error_message(message: &str) -> String {
    let message = message
        .strip_prefix("sql parser error: ")
        .unwrap_or(message);
    match message.rfind(" at Line: ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Lower-case words of the statement's head, for classification.
fn words(toks: &[Tok]) -> Vec<String> {
    toks.iter()
        .map(|t| match t.kind {
            TokKind::Word => t.raw.to_ascii_lowercase(),
            _ => t.raw.clone(),
        })
        .collect()
}

/// The name after position `i`: a dotted name's last part, without quotes.
fn name_at(toks: &[Tok], mut i: usize) -> Option<(String, usize)> {
    let mut name = None;
    while let Some(tok) = toks.get(i) {
        if !matches!(tok.kind, TokKind::Word | TokKind::Quoted | TokKind::Str) {
            break;
        }
        name = Some(tok.name());
        i += 1;
        if toks.get(i).is_some_and(|t| t.is_punct('.')) {
            i += 1;
        } else {
            break;
        }
    }
    name.map(|n| (n, i))
}

/// Position after `IF [NOT] EXISTS` at `i`, or `i`.
fn skip_if_exists(toks: &[Tok], i: usize) -> usize {
    let mut j = i;
    if toks.get(j).is_some_and(|t| t.is_word("if")) {
        j += 1;
        if toks.get(j).is_some_and(|t| t.is_word("not")) {
            j += 1;
        }
        if toks.get(j).is_some_and(|t| t.is_word("exists")) {
            return j + 1;
        }
        return i;
    }
    i
}

const OBJECT_KINDS: &[&str] = &[
    "table",
    "view",
    "index",
    "trigger",
    "function",
    "procedure",
    "aggregate",
    "sequence",
    "type",
    "domain",
    "extension",
    "schema",
    "database",
    "event",
    "role",
    "user",
    "rule",
    "policy",
    "operator",
    "cast",
    "collation",
    "server",
    "publication",
    "subscription",
    "statistics",
    "conversion",
    "language",
    "tablespace",
];

impl Importer {
    fn new(dialect: SqlDialect) -> Self {
        let parser_dialect: Box<dyn Dialect> = match dialect {
            SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
            SqlDialect::Mysql => Box::new(MySqlDialect {}),
            SqlDialect::Sqlite => Box::new(SQLiteDialect {}),
        };
        Importer {
            dialect,
            parser_dialect,
            entities: Vec::new(),
            fks: Vec::new(),
            types: TypeContext::default(),
            skipped: Vec::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            partitions: Vec::new(),
            first_failure: None,
        }
    }

    fn skip(&mut self, line: usize, what: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            line,
            what: what.into(),
            reason: reason.into(),
        });
    }

    /// Counts `count` more into the group `label`, creating it at `line`.
    fn group(
        &mut self,
        line: usize,
        label: &str,
        unit: (&'static str, &'static str),
        count: usize,
        reason: &str,
    ) {
        let key = label.to_lowercase();
        match self.group_index.get(&key) {
            Some(&i) => self.groups[i].count += count,
            None => {
                self.group_index.insert(key, self.groups.len());
                self.groups.push(Group {
                    line,
                    label: label.to_string(),
                    unit,
                    count,
                    reason: reason.to_string(),
                });
            }
        }
    }

    fn statements_group(&mut self, line: usize, label: &str, reason: &str) {
        self.group(line, label, ("statement", "statements"), 1, reason);
    }

    fn parse(&self, text: &str) -> Result<Vec<Statement>, String> {
        Parser::parse_sql(self.parser_dialect.as_ref(), text).map_err(|e| e.to_string())
    }

    /// A parse failure as a skipped item, located in the whole script.
    fn skip_unreadable(&mut self, piece: &Piece, what: String, error: &str) {
        let (line, column) = match error_position(error) {
            Some((1, c)) => (piece.line, piece.column + c.saturating_sub(1)),
            Some((l, c)) => (piece.line + l - 1, c),
            None => (piece.line, piece.column),
        };
        let reason = format!(
            "the SQL parser could not read it (line {line}, column {column}): {}",
            error_message(error)
        );
        self.skip(piece.line, what, reason);
    }

    fn entity_index(&self, name: &str) -> Option<usize> {
        self.entities
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(name))
    }

    fn statement(&mut self, piece: &Piece) {
        let line = piece.line;
        match piece.kind {
            PieceKind::ClientCommand => {
                let command: String = piece.text.split_whitespace().take(1).collect();
                self.skip(
                    line,
                    format!("psql command {command}"),
                    "psql meta-commands are instructions to the psql client, not SQL",
                );
                return;
            }
            PieceKind::Copy { rows } => {
                let toks = lex(&piece.text, self.dialect);
                let table = name_at(&toks, 1).map_or_else(|| "?".to_string(), |(n, _)| n);
                self.group(
                    line,
                    &format!("data for {table}"),
                    ("row", "rows"),
                    rows,
                    "rows are data, not part of the data model",
                );
                return;
            }
            PieceKind::Statement => {}
        }
        let toks = lex(&piece.text, self.dialect);
        let w = words(&toks);
        let first = w.first().map(String::as_str).unwrap_or("");
        match first {
            "create" => self.create(piece, &toks, &w),
            "alter" => self.alter(piece, &toks, &w),
            "comment" => self.comment(piece),
            "insert" | "replace" => {
                let mut i = 1;
                while toks.get(i).is_some_and(|t| {
                    [
                        "into",
                        "ignore",
                        "low_priority",
                        "delayed",
                        "high_priority",
                        "or",
                    ]
                    .iter()
                    .any(|k| t.is_word(k))
                        || (t.kind == TokKind::Word
                            && toks.get(i - 1).is_some_and(|p| p.is_word("or")))
                }) {
                    i += 1;
                }
                let table = name_at(&toks, i).map_or_else(|| "?".to_string(), |(n, _)| n);
                let rows = count_rows(&toks).max(1);
                self.group(
                    line,
                    &format!("data for {table}"),
                    ("row", "rows"),
                    rows,
                    "rows are data, not part of the data model",
                );
            }
            "copy" => {
                let table = name_at(&toks, 1).map_or_else(|| "?".to_string(), |(n, _)| n);
                self.group(
                    line,
                    &format!("data for {table}"),
                    ("row", "rows"),
                    0,
                    "rows are data, not part of the data model",
                );
            }
            "update" | "delete" | "truncate" | "merge" | "load" => self.statements_group(
                line,
                "data changes",
                "statements that change rows do not define the data model",
            ),
            "set" | "select" | "use" | "begin" | "commit" | "start" | "rollback" | "end"
            | "lock" | "unlock" | "pragma" | "analyze" | "vacuum" | "savepoint" | "release"
            | "reset" | "show" | "flush" | "checkpoint" | "reindex" | "cluster" | "refresh"
            | "discard" | "attach" | "detach" | "source" => self.statements_group(
                line,
                "session and transaction statements",
                "they configure the session or run queries; they do not define the data model",
            ),
            "grant" | "revoke" => self.statements_group(
                line,
                "privileges",
                "grants and revokes are access control, not part of the data model",
            ),
            "drop" => self.statements_group(
                line,
                "drop statements",
                "the import reads definitions; drops before them change nothing in the model",
            ),
            "do" | "call" | "execute" | "prepare" | "deallocate" | "declare" => self
                .statements_group(
                    line,
                    "procedural statements",
                    "procedural code is not part of the data model",
                ),
            "" => self.skip(
                line,
                "unparsed statement",
                "it does not start with an SQL keyword",
            ),
            other => self.skip(
                line,
                format!("statement {}", other.to_uppercase()),
                "this kind of statement does not define tables",
            ),
        }
    }

    fn create(&mut self, piece: &Piece, toks: &[Tok], w: &[String]) {
        let line = piece.line;
        // The object kind is the first known kind word; modifiers such as OR REPLACE,
        // TEMPORARY, UNIQUE, MATERIALIZED or DEFINER=... come before it.
        let Some(kind_at) = w
            .iter()
            .position(|word| OBJECT_KINDS.contains(&word.as_str()))
        else {
            self.skip(
                line,
                "unparsed statement",
                "a CREATE statement of a kind the importer does not know",
            );
            return;
        };
        let kind = w[kind_at].as_str();
        let modifiers = &w[1..kind_at];
        let name_pos = skip_if_exists(toks, kind_at + 1);
        let name = name_at(toks, name_pos).map_or_else(|| "?".to_string(), |(n, _)| n);
        let has = |m: &str| modifiers.iter().any(|x| x == m);
        match kind {
            "table" if has("temporary") || has("temp") => self.skip(
                line,
                format!("temporary table {name}"),
                "temporary tables live for one session and are not part of the data model",
            ),
            "table" if has("virtual") => self.skip(
                line,
                format!("virtual table {name}"),
                "virtual tables are backed by a module (such as full-text search), not stored rows",
            ),
            "table" => self.create_table(piece, toks, &name),
            "index" => self.create_index(piece, &name),
            "type" => self.create_type(piece, toks, &name),
            "domain" => self.create_domain(piece, &name),
            "view" if has("materialized") => self.skip(
                line,
                format!("materialized view {name}"),
                "views are derived from tables and are not part of the data model",
            ),
            "view" => self.skip(
                line,
                format!("view {name}"),
                "views are derived from tables and are not part of the data model",
            ),
            "trigger" => {
                // Dumps reuse one trigger name on many tables: name the table too.
                let table = toks
                    .iter()
                    .skip(name_pos)
                    .position(|t| t.is_word("on"))
                    .and_then(|at| name_at(toks, name_pos + at + 1));
                let what = match table {
                    Some((table, _)) => format!("trigger {name} on {table}"),
                    None => format!("trigger {name}"),
                };
                self.skip(
                    line,
                    what,
                    "triggers are behaviour, not part of the data model",
                )
            }
            "function" | "procedure" | "aggregate" => self.skip(
                line,
                format!("{kind} {name}"),
                "stored code is not part of the data model",
            ),
            "sequence" => self.skip(
                line,
                format!("sequence {name}"),
                "sequences are not part of the data model: the columns they number are \
                 imported without a default",
            ),
            "schema" | "database" => self.skip(
                line,
                format!("{kind} {name}"),
                "the model has one namespace: schema and database names are dropped",
            ),
            other => self.skip(
                line,
                format!("{other} {name}"),
                format!("{other} definitions are not part of the data model"),
            ),
        }
    }

    fn create_table(&mut self, piece: &Piece, toks: &[Tok], name: &str) {
        match self.parse(&piece.text) {
            Ok(statements) => {
                for statement in statements {
                    match statement {
                        Statement::CreateTable(table) => self.table(piece.line, &table),
                        _ => self.skip(
                            piece.line,
                            format!("table {name}"),
                            "the statement did not read as a CREATE TABLE",
                        ),
                    }
                }
            }
            Err(error) => self.create_table_by_parts(piece, toks, name, &error),
        }
    }

    /// Reads a `CREATE TABLE` that sqlparser rejected one column or constraint at a time, so
    /// that one unusual clause costs that clause, not the table.
    fn create_table_by_parts(&mut self, piece: &Piece, toks: &[Tok], name: &str, error: &str) {
        let open = toks.iter().position(|t| t.is_punct('('));
        let Some(open) = open else {
            self.note_failure(piece, error);
            self.skip_unreadable(piece, format!("table {name}"), error);
            return;
        };
        let mut depth = 0usize;
        let mut parts: Vec<(usize, usize)> = Vec::new();
        let mut part_start = toks[open].offset + 1;
        let mut close = None;
        for tok in &toks[open..] {
            if tok.is_punct('(') {
                depth += 1;
            } else if tok.is_punct(')') {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    parts.push((part_start, tok.offset));
                    close = Some(tok.offset);
                    break;
                }
            } else if tok.is_punct(',') && depth == 1 {
                parts.push((part_start, tok.offset));
                part_start = tok.offset + 1;
            }
        }
        if close.is_none() {
            self.note_failure(piece, error);
            self.skip_unreadable(piece, format!("table {name}"), error);
            return;
        }
        let close = close.unwrap_or(piece.text.len());
        let head = piece.text.get(..toks[open].offset).unwrap_or("");
        let tail = piece.text.get(close + 1..).unwrap_or("").trim();
        let mut bodies = Vec::new();
        let mut columns = Vec::new();
        let mut constraints = Vec::new();
        for (from, to) in parts {
            let Some(part) = piece.text.get(from..to) else {
                continue;
            };
            if part.trim().is_empty() {
                continue;
            }
            match self.parse_part(part) {
                Ok((body, c, k)) => {
                    bodies.push(body);
                    columns.extend(c);
                    constraints.extend(k);
                }
                Err(part_error) => {
                    let first = part.split_whitespace().next().unwrap_or("").to_string();
                    let line = piece.line + piece.text[..from].matches('\n').count();
                    self.skip(
                        line,
                        format!("column or constraint {name}.{first}"),
                        format!(
                            "the SQL parser could not read it: {}",
                            error_message(&part_error)
                        ),
                    );
                }
            }
        }
        if columns.is_empty() {
            self.note_failure(piece, error);
            self.skip_unreadable(piece, format!("table {name}"), error);
            return;
        }
        // With the repaired clauses, the whole statement (and its table options, such as a
        // MySQL table comment) may read after all.
        let rebuilt = format!("{head}({}) {tail}", bodies.join(","));
        if let Ok(statements) = self.parse(&rebuilt) {
            if let Some(Statement::CreateTable(table)) = statements.into_iter().next() {
                self.table(piece.line, &table);
                return;
            }
        }
        let table = CreateTableBuilder::new(ObjectName::from(vec![Ident::new(name)]))
            .columns(columns)
            .constraints(constraints)
            .build();
        self.table(piece.line, &table);
        if !tail.is_empty() {
            self.skip(
                piece.line,
                format!("options of table {name}"),
                format!("the text after the column list could not be read and was ignored: {tail}"),
            );
        }
    }

    /// Parses one column definition or table constraint on its own.
    /// Returns the clause as it was read (repaired if needed) and what it defines.
    #[allow(clippy::type_complexity)]
    fn parse_part(
        &self,
        part: &str,
    ) -> Result<(String, Vec<ColumnDef>, Vec<TableConstraint>), String> {
        let attempt =
            |body: &str| -> Result<(String, Vec<ColumnDef>, Vec<TableConstraint>), String> {
                let statements = self.parse(&format!("CREATE TABLE t ({body})"))?;
                match statements.into_iter().next() {
                    Some(Statement::CreateTable(t)) => {
                        Ok((body.to_string(), t.columns, t.constraints))
                    }
                    _ => Err("not a column definition".into()),
                }
            };
        let error = match attempt(part) {
            Ok(found) => return Ok(found),
            Err(error) => error,
        };
        let repaired = match self.dialect {
            // MySQL's `VARCHAR(40) BINARY` asks for a binary collation, which the model ignores.
            SqlDialect::Mysql => drop_binary_attribute(part),
            // SQLite allows type names of several words (`BLOB SUB_TYPE TEXT`); quoting the
            // words makes them one custom type that the SQLite affinity rules then read.
            SqlDialect::Sqlite => repair_multiword_type(part),
            SqlDialect::Postgres => None,
        };
        match repaired {
            Some(repaired) => attempt(&repaired).map_err(|_| error),
            None => Err(error),
        }
    }

    fn note_failure(&mut self, piece: &Piece, error: &str) {
        if self.first_failure.is_none() {
            let (line, column) = match error_position(error) {
                Some((1, c)) => (piece.line, piece.column + c.saturating_sub(1)),
                Some((l, c)) => (piece.line + l - 1, c),
                None => (piece.line, piece.column),
            };
            self.first_failure = Some((line, column, error_message(error)));
        }
    }

    fn table(&mut self, line: usize, table: &CreateTable) {
        let name = object_name(&table.name);
        if self.dialect == SqlDialect::Sqlite && name.to_ascii_lowercase().starts_with("sqlite_") {
            // `sqlite_sequence` appears in a dump once a table uses AUTOINCREMENT.
            return self.skip(
                line,
                format!("table {name}"),
                "tables named sqlite_... are SQLite's own, not part of the data model",
            );
        }
        if table.query.is_some() || (table.columns.is_empty() && table.partition_of.is_none()) {
            self.skip(
                line,
                format!("table {name}"),
                "a table created from a query or from another table lists no columns to import",
            );
            return;
        }
        let mut entity = Entity {
            name: name.clone(),
            description: String::new(),
            attributes: Vec::new(),
            primary_key: Vec::new(),
            unique: Vec::new(),
            indexes: Vec::new(),
            tags: Vec::new(),
        };
        if let Some(parent) = &table.partition_of {
            let parent = object_name(parent);
            if let Some(p) = self.entity_index(&parent) {
                entity.attributes = self.entities[p].attributes.clone();
                entity.primary_key = self.entities[p].primary_key.clone();
            }
            self.partitions.push((parent, name.clone(), line));
        }
        if let Some(comment) = &table.comment {
            entity.description = comment_text(comment);
        }
        if let Some(comment) = table_option_comment(table) {
            entity.description = comment;
        }
        let mut pending = Vec::new();
        for column in &table.columns {
            let attribute = self.column(line, &name, column, &mut entity, &mut pending);
            entity.attributes.push(attribute);
        }
        if let Some(existing) = self.entity_index(&name) {
            self.skip(
                line,
                format!("earlier definition of table {name}"),
                "a later CREATE TABLE of the same name replaces it",
            );
            self.entities.remove(existing);
            self.fks.retain(|fk| !fk.from.eq_ignore_ascii_case(&name));
        }
        self.entities.push(entity);
        for constraint in pending {
            self.constraint(line, &name, &constraint);
        }
        for constraint in &table.constraints {
            self.constraint(line, &name, constraint);
        }
    }

    /// One column; inline keys are applied to `entity` and inline references collected.
    fn column(
        &mut self,
        line: usize,
        table: &str,
        column: &ColumnDef,
        entity: &mut Entity,
        pending: &mut Vec<TableConstraint>,
    ) -> Attribute {
        let name = column.name.value.clone();
        let (data_type, note) = map_type(&column.data_type, self.dialect, &self.types);
        let native = native_type(&column.data_type, self.dialect, &data_type, note.is_some());
        if let Some(note) = note {
            self.skip(line, format!("type of column {table}.{name}"), note);
        }
        let mut attribute = Attribute {
            name: name.clone(),
            data_type,
            nullable: true,
            default: None,
            description: String::new(),
            tags: Vec::new(),
            auto_increment: is_serial(&column.data_type),
            native,
            case_insensitive: column
                .data_type
                .to_string()
                .to_ascii_lowercase()
                .ends_with("citext"),
        };
        for option in &column.options {
            match &option.option {
                ColumnOption::Null => attribute.nullable = true,
                ColumnOption::NotNull => attribute.nullable = false,
                ColumnOption::Default(expr) => {
                    attribute.default = default_text(expr);
                    attribute.auto_increment |= is_sequence_call(expr);
                }
                ColumnOption::Generated {
                    generation_expr: None,
                    ..
                }
                | ColumnOption::Identity(_) => attribute.auto_increment = true,
                ColumnOption::Generated {
                    generation_expr: Some(expr),
                    ..
                } => self.skip(
                    line,
                    format!("generated column {table}.{name}"),
                    format!("a computed value is not part of the model: AS ({expr})"),
                ),
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| {
                        let word = t.to_string();
                        word.eq_ignore_ascii_case("AUTO_INCREMENT")
                            || word.eq_ignore_ascii_case("AUTOINCREMENT")
                    }) =>
                {
                    attribute.auto_increment = true
                }
                ColumnOption::PrimaryKey(_) => {
                    attribute.nullable = false;
                    entity.primary_key = vec![name.clone()];
                }
                ColumnOption::Unique(_) => entity.unique.push(vec![name.clone()]),
                ColumnOption::ForeignKey(fk) => {
                    let mut fk = fk.clone();
                    fk.columns = vec![column.name.clone()];
                    if fk.name.is_none() {
                        fk.name = option.name.clone();
                    }
                    pending.push(TableConstraint::ForeignKey(fk));
                }
                // SQLite has no enum type: `text CHECK (v IN ('a', 'b'))` is how the export
                // writes one, so it reads back as the enum.
                ColumnOption::Check(check)
                    if self.dialect == SqlDialect::Sqlite
                        && matches!(
                            attribute.data_type,
                            LogicalType::Text | LogicalType::String(_)
                        )
                        && enum_check(&check.expr, &name).is_some() =>
                {
                    if let Some(values) = enum_check(&check.expr, &name) {
                        attribute.data_type = LogicalType::Enum(values);
                        attribute.native = None;
                    }
                }
                ColumnOption::Check(check) => self.skip(
                    line,
                    format!("check on column {table}.{name}"),
                    format!(
                        "check constraints are not part of the model: CHECK ({})",
                        check.expr
                    ),
                ),
                ColumnOption::Comment(text) => attribute.description = text.clone(),
                ColumnOption::OnUpdate(expr) => self.skip(
                    line,
                    format!("update rule of column {table}.{name}"),
                    format!(
                        "a value set on every update is not part of the model: ON UPDATE {expr}"
                    ),
                ),
                ColumnOption::Collation(collation) => match collation_case(collation) {
                    Some(insensitive) => attribute.case_insensitive = insensitive,
                    None => self.skip(
                        line,
                        format!("collation of column {table}.{name}"),
                        format!(
                            "only case-insensitive comparison is part of the model: \
                             COLLATE {collation}"
                        ),
                    ),
                },
                _ => {}
            }
        }
        attribute
    }

    /// Column names as the entity spells them, or the first one it lacks.
    fn resolve_columns(&self, table: usize, columns: &[String]) -> Result<Vec<String>, String> {
        columns
            .iter()
            .map(|c| {
                self.entities[table]
                    .attribute(c)
                    .map(|a| a.name.clone())
                    .ok_or_else(|| c.clone())
            })
            .collect()
    }

    fn constraint(&mut self, line: usize, table: &str, constraint: &TableConstraint) {
        let Some(t) = self.entity_index(table) else {
            self.skip(
                line,
                format!("constraint on {table}"),
                format!("table {table} is not defined in the script"),
            );
            return;
        };
        let table = self.entities[t].name.clone();
        let constraint_name = |name: &Option<sqlparser::ast::Ident>| {
            name.as_ref()
                .map(|n| format!(" {}", n.value))
                .unwrap_or_default()
        };
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let Some(columns) = index_columns(&pk.columns, self.dialect) else {
                    self.skip(
                        line,
                        format!("primary key of {table}"),
                        "a key over expressions cannot be expressed in the model",
                    );
                    return;
                };
                match self.resolve_columns(t, &columns) {
                    Ok(columns) => {
                        for attribute in &mut self.entities[t].attributes {
                            if columns.contains(&attribute.name) {
                                attribute.nullable = false;
                            }
                        }
                        self.entities[t].primary_key = columns;
                    }
                    Err(missing) => self.skip(
                        line,
                        format!("primary key of {table}"),
                        format!("it names column {missing}, which {table} does not have"),
                    ),
                }
            }
            TableConstraint::Unique(unique) => {
                let what = format!(
                    "unique constraint{} on {table}",
                    constraint_name(&unique.name)
                );
                match index_columns(&unique.columns, self.dialect)
                    .map(|c| self.resolve_columns(t, &c))
                {
                    Some(Ok(columns)) => self.entities[t].unique.push(columns),
                    Some(Err(missing)) => self.skip(
                        line,
                        what,
                        format!("it names column {missing}, which {table} does not have"),
                    ),
                    None => self.skip(
                        line,
                        what,
                        "a constraint over expressions cannot be expressed in the model",
                    ),
                }
            }
            TableConstraint::ForeignKey(fk) => {
                // NO ACTION and RESTRICT are what the model assumes for updates of a key.
                if let Some(action) = fk.on_update.filter(|a| {
                    !matches!(a, ReferentialAction::NoAction | ReferentialAction::Restrict)
                }) {
                    let columns: Vec<String> = fk.columns.iter().map(|c| c.value.clone()).collect();
                    self.skip(
                        line,
                        format!(
                            "update rule of foreign key {table}({}) → {}",
                            columns.join(", "),
                            object_name(&fk.foreign_table)
                        ),
                        format!("the model keeps only what happens on delete: ON UPDATE {action}"),
                    );
                }
                self.fks.push(PendingFk {
                    line,
                    name: fk.name.as_ref().map(|n| n.value.clone()),
                    from: table,
                    from_columns: fk.columns.iter().map(|c| c.value.clone()).collect(),
                    to: object_name(&fk.foreign_table),
                    to_columns: fk
                        .referred_columns
                        .iter()
                        .map(|c| c.value.clone())
                        .collect(),
                    on_delete: fk.on_delete,
                })
            }
            TableConstraint::Check(check) => self.skip(
                line,
                format!(
                    "check constraint{} on {table}",
                    constraint_name(&check.name)
                ),
                format!(
                    "check constraints are not part of the model: CHECK ({})",
                    check.expr
                ),
            ),
            TableConstraint::Index(index) => {
                let what = format!("index{} on {table}", constraint_name(&index.name));
                match index_columns(&index.columns, self.dialect)
                    .map(|c| self.resolve_columns(t, &c))
                {
                    Some(Ok(columns)) => {
                        let name = index.name.as_ref().map_or_else(
                            || format!("{}_{}_idx", table, columns.join("_")),
                            |n| n.value.clone(),
                        );
                        self.entities[t].indexes.push(Index {
                            name,
                            attributes: columns,
                            unique: false,
                            expression: None,
                        });
                    }
                    Some(Err(missing)) => self.skip(
                        line,
                        what,
                        format!("it names column {missing}, which {table} does not have"),
                    ),
                    None => self.skip(
                        line,
                        what,
                        "an index over expressions cannot be expressed in the model",
                    ),
                }
            }
            TableConstraint::FulltextOrSpatial(index) => {
                let kind = if index.fulltext {
                    "full-text"
                } else {
                    "spatial"
                };
                self.skip(
                    line,
                    format!(
                        "{kind} index{} on {table}",
                        constraint_name(&index.opt_index_name)
                    ),
                    "full-text and spatial indexes are not part of the model",
                );
            }
            other => self.skip(
                line,
                format!("constraint on {table}"),
                format!("this kind of constraint is not part of the model: {other}"),
            ),
        }
    }

    fn create_index(&mut self, piece: &Piece, name: &str) {
        let line = piece.line;
        let statements = match self.parse(&piece.text) {
            Ok(statements) => statements,
            Err(error) => return self.skip_unreadable(piece, format!("index {name}"), &error),
        };
        for statement in statements {
            let Statement::CreateIndex(index) = statement else {
                continue;
            };
            let table = object_name(&index.table_name);
            let name = index
                .name
                .as_ref()
                .map_or_else(|| name.to_string(), object_name);
            let what = format!("index {name} on {table}");
            let Some(t) = self.entity_index(&table) else {
                self.skip(
                    line,
                    what,
                    format!("{table} is not a table of the model (a view, or not in the script)"),
                );
                continue;
            };
            if index.predicate.is_some() {
                self.skip(
                    line,
                    what,
                    "partial indexes (with WHERE) cannot be expressed in the model",
                );
                continue;
            }
            match index_columns(&index.columns, self.dialect).map(|c| self.resolve_columns(t, &c)) {
                Some(Ok(columns)) => self.entities[t].indexes.push(Index {
                    name,
                    attributes: columns,
                    unique: index.unique,
                    expression: None,
                }),
                Some(Err(missing)) => self.skip(
                    line,
                    what,
                    format!("it names column {missing}, which {table} does not have"),
                ),
                None => {
                    let (expression, attributes) = self.expression_key(t, &index.columns);
                    self.entities[t].indexes.push(Index {
                        name,
                        attributes,
                        unique: index.unique,
                        expression: Some(expression),
                    });
                }
            }
        }
    }

    /// An index over expressions as the model keeps it: the key parts as SQL, without the
    /// source dialect's `::` casts (`lower((email)::text)` is `lower((email))`), and the
    /// attributes of table `t` they read, in order of appearance.
    fn expression_key(&self, t: usize, columns: &[IndexColumn]) -> (String, Vec<String>) {
        let text = columns
            .iter()
            .map(|c| without_casts(&c.column.expr.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut attributes: Vec<String> = Vec::new();
        let toks = lex(&text, self.dialect);
        for (i, tok) in toks.iter().enumerate() {
            // A word before `(` is a function's name, even where a column has that name.
            let call = toks.get(i + 1).is_some_and(|next| next.is_punct('('));
            if call || (tok.kind != TokKind::Word && tok.kind != TokKind::Quoted) {
                continue;
            }
            if let Some(attr) = self.entities[t].attribute(&tok.name()) {
                if !attributes.contains(&attr.name) {
                    attributes.push(attr.name.clone());
                }
            }
        }
        (text, attributes)
    }

    /// `CREATE TYPE name AS ENUM ('a', 'b')` defines values that columns of that type take.
    fn create_type(&mut self, piece: &Piece, toks: &[Tok], name: &str) {
        if let Ok(statements) = self.parse(&piece.text) {
            if let Some(Statement::CreateType {
                name: type_name,
                representation: Some(UserDefinedTypeRepresentation::Enum { labels }),
            }) = statements.first()
            {
                let values = labels.iter().map(|l| l.value.clone()).collect();
                self.types
                    .enums
                    .insert(object_name(type_name).to_lowercase(), values);
                return;
            }
        }
        // Fall back on the tokens: `... AS ENUM ( 'a' , 'b' )`.
        let is_enum = toks
            .windows(2)
            .any(|w| w[0].is_word("as") && w[1].is_word("enum"));
        if is_enum {
            let values: Vec<String> = toks
                .iter()
                .filter(|t| t.kind == TokKind::Str)
                .map(|t| unquote_string(&t.raw))
                .collect();
            self.types.enums.insert(name.to_lowercase(), values);
            return;
        }
        self.skip(
            piece.line,
            format!("type {name}"),
            "composite, range and base types are not part of the model; columns of this type \
             keep it as an unknown type",
        );
    }

    fn create_domain(&mut self, piece: &Piece, name: &str) {
        let statements = match self.parse(&piece.text) {
            Ok(statements) => statements,
            Err(error) => return self.skip_unreadable(piece, format!("domain {name}"), &error),
        };
        for statement in statements {
            if let Statement::CreateDomain(domain) = statement {
                let (base, _) = map_type(&domain.data_type, self.dialect, &self.types);
                let name = object_name(&domain.name);
                let mut reason = format!(
                    "domains are not part of the model: columns of domain {name} are imported \
                     with its base type {base}"
                );
                if !domain.constraints.is_empty() {
                    reason.push_str(", without its constraints");
                }
                self.types.domains.insert(name.to_lowercase(), base);
                self.skip(piece.line, format!("domain {name}"), reason);
            }
        }
    }

    fn alter(&mut self, piece: &Piece, toks: &[Tok], w: &[String]) {
        let line = piece.line;
        let kind = w.get(1).map(String::as_str).unwrap_or("");
        let owner_to = w.windows(2).any(|p| p[0] == "owner" && p[1] == "to");
        if owner_to {
            return self.statements_group(
                line,
                "ownership changes",
                "object owners are database roles, not part of the data model",
            );
        }
        if kind != "table" {
            let name = name_at(toks, skip_if_exists(toks, 2)).map_or_else(String::new, |n| n.0);
            return self.skip(
                line,
                format!("alter {kind} {name}").trim_end().to_string(),
                format!("changes to a {kind} are not part of the data model"),
            );
        }
        let mut i = skip_if_exists(toks, 2);
        if toks.get(i).is_some_and(|t| t.is_word("only")) {
            i += 1;
        }
        let Some((table, after)) = name_at(toks, i) else {
            return self.skip(line, "alter table", "it names no table");
        };
        let after = if toks.get(after).is_some_and(|t| t.is_punct('*')) {
            after + 1
        } else {
            after
        };
        if toks.get(after).is_some_and(|t| t.is_word("attach"))
            && toks.get(after + 1).is_some_and(|t| t.is_word("partition"))
        {
            if let Some((child, _)) = name_at(toks, after + 2) {
                self.partitions.push((table, child, line));
            }
            return;
        }
        let storage_options = [
            "engine",
            "auto_increment",
            "charset",
            "character",
            "collate",
            "row_format",
            "default",
            "comment",
            "convert",
        ];
        if toks
            .get(after)
            .is_some_and(|t| storage_options.iter().any(|o| t.is_word(o)))
        {
            return self.skip(
                line,
                format!("table options of {table}"),
                "storage engine, character set and other table options are not part of the model",
            );
        }
        // pg_dump writes an identity's sequence options, `ADD GENERATED ... AS IDENTITY
        // (SEQUENCE NAME ... START WITH 1 ...)`, which the parser cannot read; the model keeps
        // only that the column numbers its rows, so the options are cut off.
        let identity_options = toks.windows(3).find_map(|t| {
            (t[0].is_word("as") && t[1].is_word("identity") && t[2].is_punct('('))
                .then_some(t[2].offset)
        });
        let text = identity_options.map_or(piece.text.as_str(), |end| &piece.text[..end]);
        let statements = match self.parse(text) {
            Ok(statements) => statements,
            Err(error) => {
                return self.skip_unreadable(piece, format!("alter table {table}"), &error)
            }
        };
        for statement in statements {
            let Statement::AlterTable(alter) = statement else {
                continue;
            };
            for operation in &alter.operations {
                self.alter_operation(line, &table, operation);
            }
        }
    }

    fn alter_operation(&mut self, line: usize, table: &str, operation: &AlterTableOperation) {
        let Some(t) = self.entity_index(table) else {
            return self.skip(
                line,
                format!("alter table {table}"),
                format!("table {table} is not defined in the script"),
            );
        };
        match operation {
            AlterTableOperation::AddConstraint { constraint, .. } => {
                self.constraint(line, table, constraint)
            }
            AlterTableOperation::AddColumn { column_def, .. } => {
                let mut entity = self.entities[t].clone();
                let mut pending = Vec::new();
                let attribute = self.column(line, table, column_def, &mut entity, &mut pending);
                entity.attributes.push(attribute);
                self.entities[t] = entity;
                for constraint in pending {
                    self.constraint(line, table, &constraint);
                }
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let types = &self.types;
                let dialect = self.dialect;
                let Some(attribute) = self.entities[t]
                    .attributes
                    .iter_mut()
                    .find(|a| a.name.eq_ignore_ascii_case(&column_name.value))
                else {
                    return self.skip(
                        line,
                        format!("alter column {table}.{}", column_name.value),
                        format!("table {table} has no column {}", column_name.value),
                    );
                };
                match op {
                    AlterColumnOperation::SetNotNull => attribute.nullable = false,
                    AlterColumnOperation::DropNotNull => attribute.nullable = true,
                    AlterColumnOperation::SetDefault { value } => {
                        attribute.default = default_text(value);
                        attribute.auto_increment |= is_sequence_call(value);
                    }
                    AlterColumnOperation::AddGenerated { .. } => attribute.auto_increment = true,
                    AlterColumnOperation::DropDefault => attribute.default = None,
                    AlterColumnOperation::SetDataType { data_type, .. } => {
                        let (logical, note) = map_type(data_type, dialect, types);
                        attribute.native =
                            native_type(data_type, dialect, &logical, note.is_some());
                        attribute.data_type = logical;
                    }
                }
            }
            AlterTableOperation::OwnerTo { .. } => self.statements_group(
                line,
                "ownership changes",
                "object owners are database roles, not part of the data model",
            ),
            other => self.skip(
                line,
                format!("alter table {table}"),
                format!("this change is not part of the model: {other}"),
            ),
        }
    }

    fn comment(&mut self, piece: &Piece) {
        let line = piece.line;
        let statements = match self.parse(&piece.text) {
            Ok(statements) => statements,
            Err(error) => return self.skip_unreadable(piece, "comment".into(), &error),
        };
        for statement in statements {
            let Statement::Comment {
                object_type,
                object_name: target,
                comment,
                ..
            } = statement
            else {
                continue;
            };
            let text = comment.unwrap_or_default();
            let parts: Vec<String> = target
                .0
                .iter()
                .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
                .collect();
            match object_type {
                CommentObject::Table => {
                    let table = parts.last().cloned().unwrap_or_default();
                    match self.entity_index(&table) {
                        Some(t) => self.entities[t].description = text,
                        None => self.skip(
                            line,
                            format!("comment on table {table}"),
                            format!("table {table} is not defined in the script"),
                        ),
                    }
                }
                CommentObject::Column if parts.len() >= 2 => {
                    let column = &parts[parts.len() - 1];
                    let table = &parts[parts.len() - 2];
                    let attribute = self.entity_index(table).and_then(|t| {
                        self.entities[t]
                            .attributes
                            .iter_mut()
                            .find(|a| a.name.eq_ignore_ascii_case(column))
                    });
                    match attribute {
                        Some(attribute) => attribute.description = text,
                        None => self.skip(
                            line,
                            format!("comment on column {table}.{column}"),
                            format!("column {table}.{column} is not defined in the script"),
                        ),
                    }
                }
                other => self.skip(
                    line,
                    format!("comment on {}", format!("{other:?}").to_lowercase()),
                    "only comments on tables and columns become descriptions",
                ),
            }
        }
    }

    fn finish(mut self) -> Result<Imported, ImportError> {
        self.inherit_partition_keys();
        let relationships = self.relationships();
        if self.entities.is_empty() {
            let (line, column, message) = match self.first_failure.take() {
                Some((line, column, error)) => (
                    line,
                    column,
                    format!(
                        "no table could be imported: the first CREATE TABLE could not be read \
                         ({error}); check that the {} dialect is the right one",
                        self.dialect.label()
                    ),
                ),
                None => (
                    1,
                    1,
                    format!(
                        "no CREATE TABLE statement found: paste the DDL of the tables ({} \
                         dialect)",
                        self.dialect.label()
                    ),
                ),
            };
            return Err(ImportError {
                code: "VAL_IMPORT_NO_TABLES".into(),
                line,
                column,
                message,
            });
        }
        for group in std::mem::take(&mut self.groups) {
            let unit = if group.count == 1 {
                group.unit.0
            } else {
                group.unit.1
            };
            self.skipped.push(Skipped {
                line: group.line,
                what: format!("{} ({} {unit})", group.label, group.count),
                reason: group.reason,
            });
        }
        self.skipped.sort_by_key(|s| s.line);
        Ok(Imported {
            model: Model {
                format_version: MODEL_FORMAT_VERSION,
                summary: String::new(),
                narrative: String::new(),
                entities: self.entities,
                relationships,
            },
            skipped: self.skipped,
        })
    }

    /// A partition without a key of its own has its parent's: PostgreSQL builds the key's index
    /// on every attached partition.
    fn inherit_partition_keys(&mut self) {
        for (parent, child, line) in std::mem::take(&mut self.partitions) {
            let (Some(p), Some(c)) = (self.entity_index(&parent), self.entity_index(&child)) else {
                self.skip(
                    line,
                    format!("partition {child} of {parent}"),
                    "one of the two tables is not defined in the script",
                );
                continue;
            };
            let key = self.entities[p].primary_key.clone();
            if self.entities[c].primary_key.is_empty() && !key.is_empty() {
                if let Ok(key) = self.resolve_columns(c, &key) {
                    for attribute in &mut self.entities[c].attributes {
                        if key.contains(&attribute.name) {
                            attribute.nullable = false;
                        }
                    }
                    self.entities[c].primary_key = key;
                }
            }
        }
    }

    fn relationships(&mut self) -> Vec<Relationship> {
        let mut out: Vec<Relationship> = Vec::new();
        for fk in std::mem::take(&mut self.fks) {
            let what = match &fk.name {
                Some(name) => format!("foreign key {name} on {}", fk.from),
                None => format!("foreign key {} -> {}", fk.from, fk.to),
            };
            let (Some(f), Some(t)) = (self.entity_index(&fk.from), self.entity_index(&fk.to))
            else {
                self.skip(
                    fk.line,
                    what,
                    format!("table {} is not defined in the script", fk.to),
                );
                continue;
            };
            let to_columns = if fk.to_columns.is_empty() {
                self.entities[t].primary_key.clone()
            } else {
                fk.to_columns.clone()
            };
            let from_columns = match self.resolve_columns(f, &fk.from_columns) {
                Ok(c) => c,
                Err(missing) => {
                    self.skip(
                        fk.line,
                        what,
                        format!("table {} has no column {missing}", fk.from),
                    );
                    continue;
                }
            };
            let to_columns = match self.resolve_columns(t, &to_columns) {
                Ok(c) => c,
                Err(missing) => {
                    self.skip(
                        fk.line,
                        what,
                        format!("table {} has no column {missing}", fk.to),
                    );
                    continue;
                }
            };
            if to_columns.is_empty() || to_columns.len() != from_columns.len() {
                self.skip(
                    fk.line,
                    what,
                    format!(
                        "it pairs {} columns with {}: the referenced table needs a matching key",
                        from_columns.len(),
                        to_columns.len()
                    ),
                );
                continue;
            }
            if fk.on_delete == Some(ReferentialAction::SetDefault) {
                self.skip(
                    fk.line,
                    format!("on delete set default of {what}"),
                    "the model has no set default action: imported as no action",
                );
            }
            let from = &self.entities[f];
            let same = |set: &[String]| {
                set.len() == from_columns.len()
                    && set
                        .iter()
                        .all(|c| from_columns.iter().any(|x| x.eq_ignore_ascii_case(c)))
            };
            let one_to_one = same(&from.primary_key)
                || from.unique.iter().any(|u| same(u))
                || from.indexes.iter().any(|i| i.unique && same(&i.attributes));
            let base = fk
                .name
                .clone()
                .unwrap_or_else(|| format!("{}_{}", from.name, self.entities[t].name));
            let mut name = base.clone();
            let mut n = 2;
            while out.iter().any(|r| r.name.eq_ignore_ascii_case(&name)) {
                name = format!("{base}_{n}");
                n += 1;
            }
            out.push(Relationship {
                name,
                from_entity: from.name.clone(),
                from_attributes: from_columns,
                to_entity: self.entities[t].name.clone(),
                to_attributes: to_columns,
                cardinality: if one_to_one {
                    Cardinality::OneToOne
                } else {
                    Cardinality::ManyToOne
                },
                on_delete: referential(fk.on_delete.as_ref()),
            });
        }
        out
    }
}

fn comment_text(comment: &CommentDef) -> String {
    match comment {
        CommentDef::WithEq(text) | CommentDef::WithoutEq(text) => text.clone(),
    }
}

/// MySQL's `COMMENT='...'` after the column list, wherever sqlparser kept it.
fn table_option_comment(table: &CreateTable) -> Option<String> {
    use sqlparser::ast::CreateTableOptions as O;
    let options = match &table.table_options {
        O::None => return None,
        O::With(o) | O::Options(o) | O::Plain(o) | O::TableProperties(o) => o,
    };
    options.iter().find_map(|option| match option {
        SqlOption::Comment(comment) => Some(comment_text(comment)),
        SqlOption::KeyValue {
            key,
            value: Expr::Value(v),
        } if key.value.eq_ignore_ascii_case("comment") => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    })
}

fn unquote_string(raw: &str) -> String {
    let inner = raw
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(raw);
    inner.replace("''", "'")
}

/// Number of row tuples after `VALUES` in an INSERT.
fn count_rows(toks: &[Tok]) -> usize {
    let Some(values) = toks.iter().position(|t| t.is_word("values")) else {
        return 0;
    };
    let mut depth = 0usize;
    let mut rows = 0;
    for tok in &toks[values + 1..] {
        if tok.is_punct('(') {
            if depth == 0 {
                rows += 1;
            }
            depth += 1;
        } else if tok.is_punct(')') {
            depth = depth.saturating_sub(1);
        }
    }
    rows
}

/// `name WORD WORD ... [constraints]` with the type words joined into one quoted name.
fn repair_multiword_type(part: &str) -> Option<String> {
    const STOP: &[&str] = &[
        "constraint",
        "primary",
        "not",
        "null",
        "unique",
        "check",
        "default",
        "collate",
        "references",
        "generated",
        "as",
        "autoincrement",
    ];
    let mut words = part.split_whitespace();
    let name = words.next()?;
    let rest: Vec<&str> = words.collect();
    let type_len = rest
        .iter()
        .take_while(|w| {
            !STOP.contains(&w.to_ascii_lowercase().as_str())
                && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .count();
    if type_len < 2 {
        return None;
    }
    let type_name = rest[..type_len].join(" ");
    Some(format!(
        "{name} \"{type_name}\" {}",
        rest[type_len..].join(" ")
    ))
}

/// The column clause without a MySQL `BINARY` attribute after its type, if it has one.
fn drop_binary_attribute(part: &str) -> Option<String> {
    let toks = lex(part, SqlDialect::Mysql);
    let at = toks.iter().enumerate().position(|(i, t)| {
        t.is_word("binary")
            && i >= 2
            && !toks.get(i + 1).is_some_and(|n| n.is_punct('('))
            && (toks[i - 1].is_punct(')') || i == 2)
    })?;
    let tok = &toks[at];
    let mut out = part.to_string();
    out.replace_range(tok.offset..tok.offset + tok.raw.len(), "");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import_ok(text: &str, dialect: SqlDialect) -> Imported {
        import(text, dialect).unwrap_or_else(|e| panic!("{text:?} does not import: {e}"))
    }

    fn skipped(imported: &Imported) -> Vec<(usize, &str)> {
        imported
            .skipped
            .iter()
            .map(|s| (s.line, s.what.as_str()))
            .collect()
    }

    fn relationship_summary(model: &Model) -> Vec<String> {
        model
            .relationships
            .iter()
            .map(|r| {
                format!(
                    "{} {}({}) -> {}({}) {} {:?}",
                    r.name,
                    r.from_entity,
                    r.from_attributes.join(","),
                    r.to_entity,
                    r.to_attributes.join(","),
                    r.cardinality,
                    r.on_delete
                )
            })
            .collect()
    }

    #[test]
    fn inline_constraints() {
        let imported = import_ok(
            "CREATE TABLE a (\n  id int PRIMARY KEY,\n  code varchar(10) UNIQUE NOT NULL,\n  \
             b_id int REFERENCES b (id) ON DELETE CASCADE,\n  c_id int CONSTRAINT a_c \
             REFERENCES c\n);\nCREATE TABLE b (id int PRIMARY KEY);\n\
             CREATE TABLE c (id int PRIMARY KEY, b_id int NOT NULL UNIQUE REFERENCES b);",
            SqlDialect::Postgres,
        );
        let m = &imported.model;
        let a = m.entity("a").expect("a");
        assert_eq!(a.primary_key, ["id"]);
        assert!(!a.attributes[0].nullable, "a key column is not nullable");
        assert_eq!(a.unique, [["code".to_string()]]);
        assert!(a.attributes[2].nullable);
        assert_eq!(
            relationship_summary(m),
            [
                "a_b a(b_id) -> b(id) N:1 Cascade",
                "a_c a(c_id) -> c(id) N:1 NoAction",
                "c_b c(b_id) -> b(id) 1:1 NoAction",
            ]
        );
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    }

    #[test]
    fn constraints_by_alter_table() {
        let imported = import_ok(
            "CREATE TABLE public.film (film_id integer NOT NULL, language_id integer);\n\
             CREATE TABLE public.language (language_id integer NOT NULL);\n\
             CREATE TABLE public.film_detail (film_id integer NOT NULL, note text);\n\
             ALTER TABLE ONLY public.film\n    ADD CONSTRAINT film_pkey PRIMARY KEY (film_id);\n\
             ALTER TABLE ONLY public.language ADD CONSTRAINT language_pkey PRIMARY KEY \
             (language_id);\n\
             ALTER TABLE public.film_detail ADD PRIMARY KEY (film_id);\n\
             ALTER TABLE ONLY public.film ADD CONSTRAINT film_language_id_fkey FOREIGN KEY \
             (language_id) REFERENCES public.language(language_id) ON UPDATE CASCADE ON DELETE \
             SET NULL;\n\
             ALTER TABLE ONLY public.film_detail ADD CONSTRAINT detail_film FOREIGN KEY (film_id) \
             REFERENCES public.film;\n\
             ALTER TABLE public.film ADD CONSTRAINT film_unique UNIQUE (language_id, film_id);\n\
             ALTER TABLE ONLY public.film ALTER COLUMN film_id SET DEFAULT \
             nextval('public.film_film_id_seq'::regclass);\n\
             ALTER TABLE public.film_detail ADD COLUMN rank smallint DEFAULT 0 NOT NULL;",
            SqlDialect::Postgres,
        );
        let m = &imported.model;
        assert_eq!(m.entity("film").expect("film").primary_key, ["film_id"]);
        assert_eq!(
            m.entity("film").expect("film").unique,
            [["language_id".to_string(), "film_id".to_string()]]
        );
        assert_eq!(m.entity("film").expect("film").attributes[0].default, None);
        let detail = m.entity("film_detail").expect("film_detail");
        assert_eq!(detail.primary_key, ["film_id"]);
        assert_eq!(detail.attributes[2].name, "rank");
        assert_eq!(detail.attributes[2].default.as_deref(), Some("0"));
        assert_eq!(
            relationship_summary(m),
            [
                "film_language_id_fkey film(language_id) -> language(language_id) N:1 SetNull",
                "detail_film film_detail(film_id) -> film(film_id) 1:1 NoAction",
            ]
        );
        // The update rule is no part of the model, and says so (issue 12: no silent loss).
        assert_eq!(
            skipped(&imported),
            [(8, "update rule of foreign key film(language_id) → language")]
        );
    }

    #[test]
    fn mysql_keys_comments_and_composite_references() {
        let imported = import_ok(
            "CREATE TABLE `order` (\n  `id` INT NOT NULL AUTO_INCREMENT COMMENT 'the order',\n  \
             `region` CHAR(2) NOT NULL,\n  `status` ENUM('new','paid') NOT NULL DEFAULT 'new',\n  \
             PRIMARY KEY (`id`, `region`),\n  UNIQUE KEY `uq_status` (`status`, `id`),\n  \
             KEY `idx_region` (`region`),\n  INDEX (`status`)\n) ENGINE=InnoDB COMMENT='orders \
             placed';\nCREATE TABLE line (\n  order_id INT NOT NULL,\n  region CHAR(2) NOT NULL,\n  \
             CONSTRAINT fk_line_order FOREIGN KEY (order_id, region) REFERENCES `order` (id, \
             region) ON DELETE RESTRICT ON UPDATE CASCADE\n) ENGINE=InnoDB;",
            SqlDialect::Mysql,
        );
        let m = &imported.model;
        let order = m.entity("order").expect("order");
        assert_eq!(order.description, "orders placed");
        assert_eq!(order.attributes[0].description, "the order");
        assert_eq!(
            order.attributes[0].default, None,
            "auto-increment is no default"
        );
        assert_eq!(order.attributes[2].default.as_deref(), Some("'new'"));
        assert_eq!(order.primary_key, ["id", "region"]);
        assert_eq!(order.unique, [["status".to_string(), "id".to_string()]]);
        let indexes: Vec<(&str, &[String])> = order
            .indexes
            .iter()
            .map(|i| (i.name.as_str(), i.attributes.as_slice()))
            .collect();
        assert_eq!(
            indexes,
            [
                ("idx_region", &["region".to_string()][..]),
                ("order_status_idx", &["status".to_string()][..]),
            ]
        );
        assert_eq!(
            relationship_summary(m),
            ["fk_line_order line(order_id,region) -> order(id,region) N:1 Restrict"]
        );
        // A table without a key is imported; validation reports it.
        assert!(m.entity("line").expect("line").primary_key.is_empty());
    }

    #[test]
    fn postgres_comments_types_and_defaults() {
        let imported = import_ok(
            "CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');\n\
             CREATE DOMAIN public.year AS integer CONSTRAINT year_check CHECK (VALUE > 1900);\n\
             CREATE TABLE person (\n  id bigserial PRIMARY KEY,\n  mood public.mood DEFAULT \
             'ok'::public.mood,\n  born public.year,\n  name text DEFAULT ''::text NOT NULL,\n  \
             seen timestamp with time zone DEFAULT now(),\n  note text DEFAULT NULL\n);\n\
             COMMENT ON TABLE public.person IS 'people we know';\n\
             COMMENT ON COLUMN public.person.mood IS 'how they feel';\n\
             COMMENT ON COLUMN person.missing IS 'x';",
            SqlDialect::Postgres,
        );
        let m = &imported.model;
        let person = m.entity("person").expect("person");
        assert_eq!(person.description, "people we know");
        let column = |name: &str| person.attribute(name).expect("column");
        assert_eq!(column("id").data_type, LogicalType::BigInt);
        assert_eq!(
            column("mood").data_type,
            LogicalType::Enum(vec!["sad".into(), "ok".into(), "happy".into()])
        );
        assert_eq!(column("mood").description, "how they feel");
        assert_eq!(column("mood").default.as_deref(), Some("'ok'"));
        assert_eq!(column("born").data_type, LogicalType::Integer);
        assert_eq!(column("name").default.as_deref(), Some("''"));
        assert_eq!(column("seen").default.as_deref(), Some("now()"));
        assert_eq!(column("note").default, None);
        assert_eq!(
            skipped(&imported),
            [(2, "domain year"), (13, "comment on column person.missing")]
        );
    }

    #[test]
    fn skipped_statements_are_reported_and_grouped() {
        let script = "SET client_encoding = 'UTF8';\n\
             SELECT pg_catalog.set_config('search_path', '', false);\n\
             CREATE TABLE actor (actor_id int PRIMARY KEY, name text CHECK (name <> ''));\n\
             CREATE VIEW actor_names AS SELECT name FROM actor;\n\
             CREATE FUNCTION last_updated() RETURNS trigger LANGUAGE plpgsql AS $$\n\
             BEGIN NEW.x = now(); RETURN NEW; END $$;\n\
             CREATE TRIGGER last_updated BEFORE UPDATE ON actor FOR EACH ROW EXECUTE FUNCTION \
             last_updated();\n\
             INSERT INTO actor VALUES (1, 'a'), (2, 'b');\n\
             INSERT INTO public.actor VALUES (3, 'c');\n\
             COPY actor (actor_id, name) FROM stdin;\n4\td\n5\te\n\\.\n\
             CREATE SEQUENCE actor_seq;\n\
             ALTER TABLE actor OWNER TO postgres;\n\
             ALTER SEQUENCE actor_seq OWNER TO postgres;\n\
             CREATE INDEX actor_lower ON actor (lower(name));\n\
             CREATE INDEX actor_some ON actor (name) WHERE actor_id > 2;\n\
             GRANT ALL ON actor TO PUBLIC;\n\
             this is not sql;\n\
             CREATE TABLE broken (x int,;\n";
        let imported = import_ok(script, SqlDialect::Postgres);
        assert_eq!(
            skipped(&imported),
            [
                (1, "session and transaction statements (2 statements)"),
                (3, "check on column actor.name"),
                (4, "view actor_names"),
                (5, "function last_updated"),
                (7, "trigger last_updated on actor"),
                (8, "data for actor (5 rows)"),
                (14, "sequence actor_seq"),
                (15, "ownership changes (2 statements)"),
                (18, "index actor_some on actor"),
                (19, "privileges (1 statement)"),
                (20, "statement THIS"),
                (21, "table broken"),
            ]
        );
        let broken = imported.skipped.last().expect("broken table");
        assert!(broken.reason.contains("line 21"), "{}", broken.reason);
        assert_eq!(imported.model.entities.len(), 1);
    }

    #[test]
    fn nothing_usable_is_an_error_with_a_position() {
        let check = |text: &str, line: usize, column: usize| {
            let error = import(text, SqlDialect::Postgres).expect_err("no tables");
            assert_eq!(error.code, "VAL_IMPORT_NO_TABLES", "{text:?}");
            assert_eq!(
                (error.line, error.column),
                (line, column),
                "{text:?}: {error}"
            );
        };
        check("", 1, 1);
        check("-- only a comment\nCREATE VIEW v AS SELECT 1;", 1, 1);
        check("\n\nCREATE TABLE t (x int y z);", 3, 23);
        check("CREATE TABLE t AS SELECT 1;", 1, 1);
    }

    #[test]
    fn sqlite_and_mysql_quirks() {
        let imported = import_ok(
            "CREATE TABLE [Album] ([AlbumId] INTEGER NOT NULL, [Title] BLOB SUB_TYPE TEXT, \
             CONSTRAINT [PK_Album] PRIMARY KEY ([AlbumId]));",
            SqlDialect::Sqlite,
        );
        let album = imported.model.entity("Album").expect("Album");
        assert_eq!(album.name, "Album");
        assert_eq!(album.primary_key, ["AlbumId"]);
        assert_eq!(album.attributes[1].data_type, LogicalType::Text);
        assert_eq!(
            skipped(&imported),
            [(1, "type of column Album.Title")],
            "{:?}",
            imported.skipped
        );

        let imported = import_ok(
            "/*!40101 SET NAMES utf8 */;\nCREATE TABLE staff (\n  id TINYINT UNSIGNED NOT NULL \
             AUTO_INCREMENT,\n  password VARCHAR(40) BINARY DEFAULT NULL,\n  picture BLOB,\n  \
             PRIMARY KEY (id)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8;\n\
             /*!50610 ALTER TABLE staff engine=InnoDB */;",
            SqlDialect::Mysql,
        );
        let staff = imported.model.entity("staff").expect("staff");
        let names: Vec<&str> = staff.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["id", "password", "picture"]);
        assert_eq!(
            skipped(&imported),
            [
                (1, "session and transaction statements (1 statement)"),
                (8, "table options of staff")
            ]
        );
    }

    /// Statements cut at every token boundary give errors or skips, never a panic.
    #[test]
    fn cut_statements_never_panic() {
        let statements = [
            "CREATE TABLE IF NOT EXISTS public.\"t\" (id int PRIMARY KEY, b_id int REFERENCES b \
             ON DELETE SET DEFAULT, CONSTRAINT u UNIQUE (b_id), CHECK (id > 0)) ENGINE=InnoDB;",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT f FOREIGN KEY (b_id) REFERENCES public.b(id);",
            "ALTER TABLE ONLY public.t ATTACH PARTITION public.t1 FOR VALUES IN (1);",
            "COMMENT ON COLUMN public.t.id IS 'x';",
            "CREATE UNIQUE INDEX i ON t USING btree (lower(b), id) WHERE id > 0;",
            "CREATE TYPE public.e AS ENUM ('a', 'b');",
            "CREATE DOMAIN public.d AS numeric(5,2) NOT NULL CHECK (VALUE > 0);",
            "INSERT INTO t VALUES (1, 'a'), (2, 'b');",
            "COPY t (a) FROM stdin;\n1\n\\.\n",
            "DELIMITER ;;\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = 1; END;;",
        ];
        for statement in statements {
            let cuts = (0..=statement.len()).filter(|&i| statement.is_char_boundary(i));
            for cut in cuts {
                for dialect in SqlDialect::ALL {
                    let text = format!(
                        "CREATE TABLE b (id int PRIMARY KEY);\n{}",
                        &statement[..cut]
                    );
                    let imported = import(&text, dialect);
                    assert!(imported.is_ok(), "{text:?} in {dialect}: {imported:?}");
                }
            }
        }
    }

    #[test]
    fn update_rules_are_reported_as_skipped() {
        let imported = import_ok(
            "CREATE TABLE p (id int PRIMARY KEY);\n\
             CREATE TABLE t (id int PRIMARY KEY,\n\
               at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n\
               p_id int, FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE,\n\
               q_id int, FOREIGN KEY (q_id) REFERENCES p (id) ON UPDATE RESTRICT);",
            SqlDialect::Mysql,
        );
        assert_eq!(
            skipped(&imported),
            [
                (2, "update rule of column t.at"),
                (2, "update rule of foreign key t(p_id) → p"),
            ]
        );
        assert_eq!(imported.model.relationships.len(), 2);
    }

    #[test]
    fn casts_are_removed_from_expressions() {
        let check = |input: &str, expected: &str| {
            assert_eq!(without_casts(input), expected, "{input}");
        };
        check("lower((email)::text)", "lower((email))");
        check("(a)::character varying(20)", "(a)");
        check("x::timestamp with time zone", "x");
        check("tags::text[]", "tags");
        check("'a::b'::text || c", "'a::b' || c");
        check("lower(email)", "lower(email)");
    }

    /// Issue 12, reproducer 11: every spelling of auto-numbering sets `auto_increment`.
    #[test]
    fn auto_numbering_in_every_spelling() {
        let check = |dialect: SqlDialect, sql: &str, expected: &[(&str, bool)]| {
            let imported = import_ok(sql, dialect);
            let got: Vec<(String, bool)> = imported.model.entities[0]
                .attributes
                .iter()
                .map(|a| (a.name.clone(), a.auto_increment))
                .collect();
            let want: Vec<(String, bool)> =
                expected.iter().map(|(n, b)| (n.to_string(), *b)).collect();
            assert_eq!(got, want, "{sql}");
            assert!(
                imported.model.entities[0]
                    .attributes
                    .iter()
                    .all(|a| a.default.is_none()),
                "a sequence call is no default: {sql}"
            );
        };
        use SqlDialect::{Mysql, Postgres, Sqlite};
        check(
            Postgres,
            "CREATE TABLE t (a serial, b bigserial, c smallserial, d int GENERATED ALWAYS AS IDENTITY, e int GENERATED BY DEFAULT AS IDENTITY, f int DEFAULT nextval('s'::regclass), g int);",
            &[("a", true), ("b", true), ("c", true), ("d", true), ("e", true), ("f", true), ("g", false)],
        );
        // pg_dump: the identity comes later, with sequence options the parser cannot read.
        check(
            Postgres,
            "CREATE TABLE public.t (id integer NOT NULL, g integer);\n\
             ALTER TABLE public.t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (\n\
                 SEQUENCE NAME public.t_id_seq\n    START WITH 1\n    INCREMENT BY 1\n    CACHE 1\n);\n\
             ALTER TABLE ONLY public.t ALTER COLUMN g SET DEFAULT nextval('public.s'::regclass);",
            &[("id", true), ("g", true)],
        );
        check(
            Mysql,
            "CREATE TABLE t (id int unsigned NOT NULL AUTO_INCREMENT, v int, PRIMARY KEY (id)) ENGINE=InnoDB AUTO_INCREMENT=5;",
            &[("id", true), ("v", false)],
        );
        check(
            Sqlite,
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v INTEGER);",
            &[("id", true), ("v", false)],
        );
        // The table SQLite keeps for AUTOINCREMENT, which `.schema` shows, is no entity.
        let dump = import_ok(
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);\n\
             CREATE TABLE sqlite_sequence(name,seq);",
            Sqlite,
        );
        assert_eq!(dump.model.entities.len(), 1);
        assert_eq!(skipped(&dump), vec![(2, "table sqlite_sequence")]);
        // A computed column is no auto-numbering, and its expression is reported as skipped.
        let imported = import_ok(
            "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);",
            Postgres,
        );
        assert!(!imported.model.entities[0].attributes[1].auto_increment);
        assert_eq!(skipped(&imported), vec![(1, "generated column t.b")]);
    }

    #[test]
    fn partitions_take_the_key_of_their_table() {
        let imported = import_ok(
            "CREATE TABLE payment (id int NOT NULL, paid date NOT NULL, PRIMARY KEY (paid, id)) \
             PARTITION BY RANGE (paid);\n\
             CREATE TABLE payment_2022 (id int NOT NULL, paid date NOT NULL);\n\
             ALTER TABLE ONLY payment ATTACH PARTITION payment_2022 FOR VALUES FROM \
             ('2022-01-01') TO ('2023-01-01');",
            SqlDialect::Postgres,
        );
        let part = imported.model.entity("payment_2022").expect("partition");
        assert_eq!(part.primary_key, ["paid", "id"]);
    }

    #[test]
    fn later_definition_replaces_earlier() {
        let imported = import_ok(
            "CREATE TABLE t (a int);\nCREATE TABLE t (b int PRIMARY KEY);",
            SqlDialect::Sqlite,
        );
        assert_eq!(imported.model.entities.len(), 1);
        assert_eq!(imported.model.entities[0].attributes[0].name, "b");
        assert_eq!(skipped(&imported), [(2, "earlier definition of table t")]);
    }

    #[test]
    fn snapshot_of_a_small_script() {
        let script = "-- A small shop.\n\
            CREATE TYPE status AS ENUM ('new', 'paid', 'sent');\n\
            CREATE TABLE customer (\n    customer_id serial PRIMARY KEY,\n    email \
            varchar(120) NOT NULL UNIQUE,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\n\
            CREATE TABLE \"order\" (\n    order_id bigint NOT NULL,\n    customer_id integer NOT \
            NULL REFERENCES customer ON DELETE CASCADE,\n    status status NOT NULL DEFAULT \
            'new'::status,\n    total numeric(12,2) DEFAULT 0,\n    tags text[],\n    CONSTRAINT \
            order_pkey PRIMARY KEY (order_id),\n    CHECK (total >= 0)\n);\n\
            CREATE INDEX order_customer ON \"order\" (customer_id);\n\
            COMMENT ON TABLE \"order\" IS 'What a customer bought';\n\
            CREATE VIEW paid_orders AS SELECT * FROM \"order\" WHERE status = 'paid';\n\
            INSERT INTO customer (email) VALUES ('a@example.com'), ('b@example.com');\n";
        let imported = import_ok(script, SqlDialect::Postgres);
        insta::assert_json_snapshot!(imported);
    }
}
