//! Splitting an SQL script into statements, and a small lexer for reading them.
//!
//! A *script* is what a person pastes or a dump tool writes: statements separated by a
//! *delimiter* (`;`, or whatever a MySQL `DELIMITER` line set), with comments, quoted strings
//! and identifiers, PostgreSQL dollar-quoted bodies (`$$ ... $$`), MySQL version-conditional
//! comments (`/*!40101 ... */`, whose content MySQL executes), SQLite trigger bodies
//! (`BEGIN ...; ...; END`) and `COPY ... FROM stdin` data blocks ended by a `\.` line.
//! [`split`] cuts a script into [`Piece`]s without understanding SQL beyond that, so that one
//! statement the SQL parser cannot read never hides the others. Every piece remembers the line
//! and column where it starts. [`lex`] turns one statement into [`Tok`]ens (words, quoted names,
//! strings, numbers, punctuation) for the cheap keyword checks the importer makes before, or
//! instead of, a full parse.
//!
//! Nothing here panics on any input: an unterminated string or comment simply runs to the end
//! of the script, and the importer reports the statement as unreadable.

use crate::dialect::SqlDialect;

/// One statement of a script, or one client command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// The statement without its delimiter. For MySQL, version-conditional comment markers
    /// (`/*!50705` and the matching `*/`) are blanked to spaces so their content reads as SQL;
    /// blanking keeps every other character at its column.
    pub text: String,
    /// 1-based line and column of the statement's first character.
    pub line: usize,
    pub column: usize,
    pub kind: PieceKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PieceKind {
    /// An SQL statement.
    Statement,
    /// A `COPY ... FROM stdin` statement followed by this many data rows.
    Copy { rows: usize },
    /// A client command that is not SQL: a psql meta-command such as `\connect`.
    ClientCommand,
}

/// Splits `text` into statements for `dialect`. Statements that hold only comments or
/// whitespace are dropped; MySQL `DELIMITER` lines are obeyed and dropped.
pub(crate) fn split(text: &str, dialect: SqlDialect) -> Vec<Piece> {
    Splitter::new(text, dialect).run()
}

struct Splitter<'a> {
    src: &'a str,
    bytes: &'a [u8],
    dialect: SqlDialect,
    pos: usize,
    line: usize,
    /// Byte offset where the current line starts, for column numbers.
    line_start: usize,
    /// The last column computed, as `(byte offset, column)`, so that a long line with many
    /// statements is not counted from its start for each of them.
    column_cache: (usize, usize),
    delimiter: String,
    /// Start of the current statement: byte offset, line, column.
    start: Option<(usize, usize, usize)>,
    /// Byte ranges of the current statement to blank (conditional comment markers).
    blanks: Vec<(usize, usize)>,
    /// Open `/*!` conditional comments (MySQL): their `*/` closes them.
    conditional_depth: usize,
    /// Words seen so far in the current statement (only the first few are kept).
    head: Vec<String>,
    /// `BEGIN ... END` nesting in trigger and routine bodies written without `DELIMITER`.
    block_depth: usize,
    out: Vec<Piece>,
}

impl<'a> Splitter<'a> {
    fn new(src: &'a str, dialect: SqlDialect) -> Self {
        Splitter {
            src,
            bytes: src.as_bytes(),
            dialect,
            pos: 0,
            line: 1,
            line_start: 0,
            column_cache: (0, 1),
            delimiter: ";".into(),
            start: None,
            blanks: Vec::new(),
            conditional_depth: 0,
            head: Vec::new(),
            block_depth: 0,
            out: Vec::new(),
        }
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    /// Moves forward `n` bytes, counting lines. Stops at the end of the input.
    fn advance(&mut self, n: usize) {
        let end = (self.pos + n).min(self.bytes.len());
        while self.pos < end {
            if self.bytes[self.pos] == b'\n' {
                self.line += 1;
                self.line_start = self.pos + 1;
            }
            self.pos += 1;
        }
        // Never stop inside a multi-byte character: slicing needs char boundaries.
        while self.pos < self.bytes.len() && !self.src.is_char_boundary(self.pos) {
            self.pos += 1;
        }
    }

    fn column_at(&mut self, pos: usize) -> usize {
        let (from, column) = if self.column_cache.0 >= self.line_start && self.column_cache.0 <= pos
        {
            self.column_cache
        } else {
            (self.line_start, 1)
        };
        let column = column + self.src.get(from..pos).map_or(0, |s| s.chars().count());
        self.column_cache = (pos, column);
        column
    }

    fn mark_start(&mut self) {
        if self.start.is_none() {
            let column = self.column_at(self.pos);
            self.start = Some((self.pos, self.line, column));
        }
    }

    fn skip_to_line_end(&mut self) {
        let n = self.rest().find('\n').unwrap_or(self.rest().len());
        self.advance(n);
    }

    fn run(mut self) -> Vec<Piece> {
        while self.pos < self.bytes.len() {
            self.step();
        }
        self.finish(self.bytes.len(), None);
        self.out
    }

    fn step(&mut self) {
        let c = self.bytes[self.pos];
        let at_start = self.start.is_none();
        if at_start && self.dialect == SqlDialect::Mysql && self.starts_with_word("delimiter") {
            self.read_delimiter_line();
            return;
        }
        if at_start && self.dialect == SqlDialect::Postgres && c == b'\\' {
            self.mark_start();
            self.skip_to_line_end();
            self.finish(self.pos, Some(PieceKind::ClientCommand));
            return;
        }
        if self.conditional_depth > 0 && self.rest().starts_with("*/") {
            self.blanks.push((self.pos, self.pos + 2));
            self.conditional_depth -= 1;
            self.advance(2);
            return;
        }
        if self.rest().starts_with(self.delimiter.as_str())
            && (self.block_depth == 0 || self.delimiter != ";")
        {
            let end = self.pos;
            self.advance(self.delimiter.len());
            self.finish(end, None);
            return;
        }
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => self.advance(1),
            b'-' if self.peek(1) == Some(b'-') && self.dash_comment_ok() => self.skip_to_line_end(),
            b'#' if self.dialect == SqlDialect::Mysql => self.skip_to_line_end(),
            b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
            b'\'' => {
                self.mark_start();
                let backslash = self.dialect == SqlDialect::Mysql || self.escape_prefix();
                self.quoted(b'\'', backslash);
            }
            b'"' => {
                self.mark_start();
                self.quoted(b'"', self.dialect == SqlDialect::Mysql);
            }
            b'`' if self.dialect != SqlDialect::Postgres => {
                self.mark_start();
                self.quoted(b'`', false);
            }
            b'[' if self.dialect == SqlDialect::Sqlite => {
                self.mark_start();
                let n = self.rest().find(']').map_or(self.rest().len(), |i| i + 1);
                self.advance(n);
            }
            b'$' if self.dialect == SqlDialect::Postgres => {
                self.mark_start();
                self.dollar();
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                self.mark_start();
                self.word();
            }
            _ => {
                self.mark_start();
                self.advance(1);
            }
        }
    }

    fn starts_with_word(&self, word: &str) -> bool {
        let rest = self.rest();
        rest.get(..word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
            && rest[word.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == ' ' || c == '\t')
    }

    /// `DELIMITER x` is a mysql client command: it changes the delimiter until the next one.
    fn read_delimiter_line(&mut self) {
        let rest = self.rest();
        let line_len = rest.find('\n').unwrap_or(rest.len());
        let new = rest["delimiter".len()..line_len]
            .split_whitespace()
            .next()
            .unwrap_or(";")
            .to_string();
        self.delimiter = new;
        self.advance(line_len);
    }

    /// MySQL needs whitespace (or the end) after `--` for it to start a comment.
    fn dash_comment_ok(&self) -> bool {
        self.dialect != SqlDialect::Mysql
            || self
                .peek(2)
                .is_none_or(|c| c == b' ' || c == b'\t' || c == b'\r' || c == b'\n')
    }

    /// True when the quote at `pos` opens a PostgreSQL escape string (`E'...'`).
    fn escape_prefix(&self) -> bool {
        self.pos > 0
            && matches!(self.bytes[self.pos - 1], b'e' | b'E')
            && (self.pos < 2 || !is_word_byte(self.bytes[self.pos - 2]))
    }

    fn block_comment(&mut self) {
        let rest = self.rest();
        if self.dialect == SqlDialect::Mysql {
            let marker = if rest.starts_with("/*!") {
                Some(3)
            } else if rest.starts_with("/*M!") {
                Some(4)
            } else {
                None
            };
            if let Some(prefix) = marker {
                // A version-conditional comment: MySQL runs its content, so it is SQL.
                let digits = rest[prefix..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                self.mark_start();
                self.blanks.push((self.pos, self.pos + prefix + digits));
                self.conditional_depth += 1;
                self.advance(prefix + digits);
                return;
            }
        }
        // PostgreSQL block comments nest; the others end at the first `*/`.
        let nests = self.dialect == SqlDialect::Postgres;
        let mut depth = 0usize;
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                if depth == 0 || nests {
                    depth += 1;
                }
                i += 2;
            } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    break;
                }
            } else {
                i += 1;
            }
        }
        self.advance(i);
    }

    /// Skips a quoted string or identifier; the quote doubled inside it stands for itself.
    fn quoted(&mut self, quote: u8, backslash_escapes: bool) {
        let bytes = self.bytes;
        let mut i = self.pos + 1;
        while i < bytes.len() {
            let c = bytes[i];
            if backslash_escapes && c == b'\\' {
                i += 2;
                continue;
            }
            if c == quote {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                i += 1;
                break;
            }
            i += 1;
        }
        self.advance(i.min(bytes.len()) - self.pos);
    }

    /// Skips a dollar-quoted string (`$tag$ ... $tag$`), or a lone `$` (a parameter like `$1`).
    fn dollar(&mut self) {
        let rest = self.rest();
        let after = &rest[1..];
        let tag_len = after
            .bytes()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == b'_')
            .count();
        let tag_ok = after[..tag_len]
            .bytes()
            .next()
            .is_none_or(|c| !c.is_ascii_digit());
        let preceded_by_word = self.pos > 0 && is_word_byte(self.bytes[self.pos - 1]);
        if tag_ok && !preceded_by_word && after.as_bytes().get(tag_len) == Some(&b'$') {
            let tag = &rest[..tag_len + 2];
            let body_start = tag.len();
            let n = rest[body_start..]
                .find(tag)
                .map_or(rest.len(), |i| body_start + i + tag.len());
            self.advance(n);
        } else {
            self.advance(1);
        }
    }

    fn word(&mut self) {
        let rest = self.rest();
        let len = rest.bytes().take_while(|&c| is_word_byte(c)).count();
        let word = rest[..len].to_ascii_lowercase();
        self.advance(len);
        if self.head.len() < 8 {
            self.head.push(word.clone());
        }
        if self.delimiter != ";" || !self.is_block_statement() {
            return;
        }
        match word.as_str() {
            "begin" => self.block_depth += 1,
            "case" if self.block_depth > 0 => self.block_depth += 1,
            "end" if self.block_depth > 0 => {
                // `END IF`, `END LOOP`... close blocks whose opening was not counted.
                let next: String = self
                    .rest()
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if !matches!(next.as_str(), "if" | "loop" | "while" | "repeat") {
                    self.block_depth -= 1;
                }
            }
            _ => {}
        }
    }

    /// Trigger and routine definitions may hold `BEGIN ... END` bodies with `;` inside.
    fn is_block_statement(&self) -> bool {
        let kind = self.head.iter().find(|w| {
            matches!(
                w.as_str(),
                "trigger" | "procedure" | "function" | "event" | "table" | "view" | "index"
            )
        });
        self.head.first().is_some_and(|w| w == "create")
            && kind.is_some_and(|w| {
                matches!(w.as_str(), "trigger" | "procedure" | "function" | "event")
            })
    }

    /// Ends the current statement at byte `end`.
    fn finish(&mut self, end: usize, kind: Option<PieceKind>) {
        let blanks = std::mem::take(&mut self.blanks);
        self.head.clear();
        self.block_depth = 0;
        self.conditional_depth = 0;
        let Some((start, line, column)) = self.start.take() else {
            return;
        };
        let end = end.max(start);
        let mut text = String::with_capacity(end - start);
        let mut cursor = start;
        for (from, to) in blanks {
            let (from, to) = (from.clamp(cursor, end), to.clamp(cursor, end));
            text.push_str(self.src.get(cursor..from).unwrap_or(""));
            text.extend(std::iter::repeat_n(' ', to - from));
            cursor = to;
        }
        text.push_str(self.src.get(cursor..end).unwrap_or(""));
        let kind = match kind {
            Some(kind) => kind,
            None if self.dialect == SqlDialect::Postgres
                && text
                    .get(..4)
                    .is_some_and(|w| w.eq_ignore_ascii_case("copy"))
                && is_copy_from_stdin(&text) =>
            {
                PieceKind::Copy {
                    rows: self.copy_data(),
                }
            }
            None => PieceKind::Statement,
        };
        if text.trim().is_empty() {
            return;
        }
        self.out.push(Piece {
            text,
            line,
            column,
            kind,
        });
    }

    /// Skips the data lines after `COPY ... FROM stdin;` up to the `\.` line; returns their count.
    fn copy_data(&mut self) -> usize {
        self.skip_to_line_end();
        self.advance(1);
        let mut rows = 0;
        while self.pos < self.bytes.len() {
            let rest = self.rest();
            let len = rest.find('\n').unwrap_or(rest.len());
            let line = rest[..len].trim_end_matches('\r');
            self.advance(len + 1);
            if line == "\\." {
                break;
            }
            rows += 1;
        }
        rows
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn is_copy_from_stdin(text: &str) -> bool {
    let toks = lex(text, SqlDialect::Postgres);
    toks.first().is_some_and(|t| t.is_word("copy"))
        && toks
            .windows(2)
            .any(|w| w[0].is_word("from") && w[1].is_word("stdin"))
}

/// A token of one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tok {
    pub kind: TokKind,
    /// The token as written (quotes included).
    pub raw: String,
    /// Byte offset in the statement.
    pub offset: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokKind {
    Word,
    /// A quoted identifier: `"x"`, `` `x` `` or `[x]`.
    Quoted,
    Str,
    Number,
    Punct,
}

impl Tok {
    /// True for an unquoted word equal to `word`, ignoring ASCII case.
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokKind::Word && self.raw.eq_ignore_ascii_case(word)
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == TokKind::Punct && self.raw.starts_with(c)
    }

    /// The name the token stands for: quotes removed (and doubled quotes undone).
    pub fn name(&self) -> String {
        match self.kind {
            TokKind::Quoted => unquote(&self.raw),
            _ => self.raw.clone(),
        }
    }
}

fn unquote(raw: &str) -> String {
    let mut chars = raw.chars();
    let (open, close) = match chars.next() {
        Some('[') => ('[', ']'),
        Some(c) => (c, c),
        None => return String::new(),
    };
    let inner = raw
        .get(open.len_utf8()..)
        .map(|s| s.strip_suffix(close).unwrap_or(s))
        .unwrap_or("");
    if open == '[' {
        return inner.to_string();
    }
    let doubled: String = [close, close].iter().collect();
    inner.replace(&doubled, &close.to_string())
}

/// Splits one statement into tokens, skipping whitespace and comments.
pub(crate) fn lex(text: &str, dialect: SqlDialect) -> Vec<Tok> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let push = |out: &mut Vec<Tok>, kind, from: usize, to: usize| {
        out.push(Tok {
            kind,
            raw: text.get(from..to).unwrap_or("").to_string(),
            offset: from,
        })
    };
    let quoted_end = |from: usize, quote: u8, backslash: bool| -> usize {
        let mut j = from + 1;
        while j < bytes.len() {
            if backslash && bytes[j] == b'\\' {
                j += 2;
                while j < bytes.len() && !text.is_char_boundary(j) {
                    j += 1;
                }
                continue;
            }
            if bytes[j] == quote {
                if bytes.get(j + 1) == Some(&quote) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j += 1;
        }
        bytes.len()
    };
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        let end = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'#' if dialect == SqlDialect::Mysql => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if next == Some(b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'\'' => {
                // MySQL strings, and PostgreSQL `E'...'` strings, escape with backslashes.
                let escape_string = dialect == SqlDialect::Postgres
                    && i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_word_byte(bytes[i - 2]));
                let backslash = dialect == SqlDialect::Mysql || escape_string;
                let end = quoted_end(i, b'\'', backslash);
                push(&mut out, TokKind::Str, i, end);
                end
            }
            b'"' if dialect == SqlDialect::Mysql => {
                let end = quoted_end(i, b'"', true);
                push(&mut out, TokKind::Str, i, end);
                end
            }
            b'"' | b'`' => {
                let end = quoted_end(i, c, false);
                push(&mut out, TokKind::Quoted, i, end);
                end
            }
            b'[' if dialect == SqlDialect::Sqlite => {
                let end = text[i..].find(']').map_or(bytes.len(), |n| i + n + 1);
                push(&mut out, TokKind::Quoted, i, end);
                end
            }
            b'$' if dialect == SqlDialect::Postgres
                && (next == Some(b'$') || next.is_some_and(|n| n.is_ascii_alphabetic())) =>
            {
                let tag_len = text[i + 1..]
                    .bytes()
                    .take_while(|&c| c.is_ascii_alphanumeric() || c == b'_')
                    .count();
                if bytes.get(i + 1 + tag_len) == Some(&b'$') {
                    let tag = &text[i..i + tag_len + 2];
                    let end = text[i + tag.len()..]
                        .find(tag)
                        .map_or(bytes.len(), |n| i + tag.len() + n + tag.len());
                    push(&mut out, TokKind::Str, i, end);
                    end
                } else {
                    push(&mut out, TokKind::Punct, i, i + 1);
                    i + 1
                }
            }
            c if c.is_ascii_digit() => {
                let len = text[i..]
                    .bytes()
                    .take_while(|&c| c.is_ascii_alphanumeric() || c == b'.')
                    .count();
                push(&mut out, TokKind::Number, i, i + len);
                i + len
            }
            c if is_word_byte(c) => {
                let len = text[i..].bytes().take_while(|&c| is_word_byte(c)).count();
                push(&mut out, TokKind::Word, i, i + len);
                i + len
            }
            _ => {
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                push(&mut out, TokKind::Punct, i, i + len);
                i + len
            }
        };
        i = end.max(i + 1);
        while i < bytes.len() && !text.is_char_boundary(i) {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `input` and compares each piece's starting line and trimmed text.
    fn check(input: &str, dialect: SqlDialect, expected: &[(usize, &str)]) {
        let pieces = split(input, dialect);
        let got: Vec<(usize, &str)> = pieces.iter().map(|p| (p.line, p.text.trim())).collect();
        assert_eq!(got, expected, "splitting {input:?} as {dialect}");
    }

    #[test]
    fn statements_and_lines() {
        use SqlDialect::*;
        check("a; b;\n c", Postgres, &[(1, "a"), (1, "b"), (2, "c")]);
        check("\n\n  x;\n\n", Sqlite, &[(3, "x")]);
        check(";;;", Mysql, &[]);
    }

    #[test]
    fn quotes_and_identifiers_hide_delimiters() {
        use SqlDialect::*;
        check("select ';' ; x", Postgres, &[(1, "select ';'"), (1, "x")]);
        check(
            "select 'it''s;'; x",
            Sqlite,
            &[(1, "select 'it''s;'"), (1, "x")],
        );
        check(
            r"select 'it\'s;'; x",
            Mysql,
            &[(1, r"select 'it\'s;'"), (1, "x")],
        );
        // Standard PostgreSQL strings have no backslash escapes; E'' strings do.
        check(
            r"select 'a\'; x",
            Postgres,
            &[(1, r"select 'a\'"), (1, "x")],
        );
        check(
            r"select E'a\';'; x",
            Postgres,
            &[(1, r"select E'a\';'"), (1, "x")],
        );
        check(
            r#"create table "a;b" (x int); y"#,
            Postgres,
            &[(1, r#"create table "a;b" (x int)"#), (1, "y")],
        );
        check(
            "create table `a;b` (x int); y",
            Mysql,
            &[(1, "create table `a;b` (x int)"), (1, "y")],
        );
        check(
            "create table [a;b] (x int); y",
            Sqlite,
            &[(1, "create table [a;b] (x int)"), (1, "y")],
        );
        // In PostgreSQL, brackets are array syntax, not quotes.
        check(
            "create table a (x text[]); y",
            Postgres,
            &[(1, "create table a (x text[])"), (1, "y")],
        );
    }

    #[test]
    fn comments() {
        use SqlDialect::*;
        check("-- a; b\nx; /* c; */ y;", Postgres, &[(2, "x"), (2, "y")]);
        check("# a; b\nx;", Mysql, &[(2, "x")]);
        // PostgreSQL block comments nest; MySQL and SQLite ones end at the first `*/`.
        check("/* a /* b */ ; */ x;", Postgres, &[(1, "x")]);
        check("/* a /* b */ x; */", Sqlite, &[(1, "x"), (1, "*/")]);
        // MySQL needs a space after `--`.
        check("select 1--2;\n", Mysql, &[(1, "select 1--2")]);
    }

    #[test]
    fn dollar_quoting() {
        use SqlDialect::*;
        check(
            "create function f() returns int as $$ select 1; $$ language sql; x;",
            Postgres,
            &[
                (
                    1,
                    "create function f() returns int as $$ select 1; $$ language sql",
                ),
                (1, "x"),
            ],
        );
        check(
            "as $_$ a; $$ b; $$ c; $_$; x;",
            Postgres,
            &[(1, "as $_$ a; $$ b; $$ c; $_$"), (1, "x")],
        );
        check("select $1; y", Postgres, &[(1, "select $1"), (1, "y")]);
        // `$` is no quote in MySQL, where `$$` is a common custom delimiter.
        check(
            "select '$$'; $$; y",
            Mysql,
            &[(1, "select '$$'"), (1, "$$"), (1, "y")],
        );
    }

    #[test]
    fn mysql_delimiter_blocks() {
        check(
            "DELIMITER ;;\nCREATE TRIGGER t BEGIN x; y; END;;\nDELIMITER ;\nz;",
            SqlDialect::Mysql,
            &[(2, "CREATE TRIGGER t BEGIN x; y; END"), (4, "z")],
        );
        check(
            "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END $$\nDELIMITER ;\nz;",
            SqlDialect::Mysql,
            &[(2, "CREATE PROCEDURE p() BEGIN SELECT 1; END"), (4, "z")],
        );
    }

    #[test]
    fn trigger_bodies_without_delimiter() {
        check(
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 2 END; \
             DELETE FROM b; END;\nnext;",
            SqlDialect::Sqlite,
            &[
                (
                    1,
                    "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 2 \
                     END; DELETE FROM b; END",
                ),
                (2, "next"),
            ],
        );
        // A table with a column named like a block keyword is not a block.
        check(
            "CREATE TABLE f (function int, begin int); x;",
            SqlDialect::Mysql,
            &[(1, "CREATE TABLE f (function int, begin int)"), (1, "x")],
        );
    }

    #[test]
    fn copy_blocks_and_client_commands() {
        let input = "\\connect db\nCOPY actor (a, b) FROM stdin;\n1\tx;y\n2\t'z\n\\.\nSELECT 1;";
        let pieces = split(input, SqlDialect::Postgres);
        let got: Vec<(usize, &str, &PieceKind)> = pieces
            .iter()
            .map(|p| (p.line, p.text.trim(), &p.kind))
            .collect();
        assert_eq!(
            got,
            [
                (1, "\\connect db", &PieceKind::ClientCommand),
                (
                    2,
                    "COPY actor (a, b) FROM stdin",
                    &PieceKind::Copy { rows: 2 }
                ),
                (6, "SELECT 1", &PieceKind::Statement),
            ]
        );
    }

    #[test]
    fn mysql_conditional_comments_are_sql() {
        let pieces = split(
            "/*!40101 SET NAMES utf8 */;\nCREATE TABLE a (x int, /*!50705 y int,*/ z int);",
            SqlDialect::Mysql,
        );
        let texts: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "         SET NAMES utf8   ",
                "CREATE TABLE a (x int,          y int,   z int)"
            ]
        );
        // Elsewhere they are plain comments.
        check("/*!40101 SET NAMES utf8 */;", SqlDialect::Postgres, &[]);
    }

    #[test]
    fn positions_and_odd_input() {
        let pieces = split("  \n   CREATE TABLE é (x int);  ü", SqlDialect::Postgres);
        assert_eq!((pieces[0].line, pieces[0].column), (2, 4));
        assert_eq!((pieces[1].line, pieces[1].column), (2, 29));
        // Unterminated constructs run to the end instead of failing.
        for input in [
            "select 'abc",
            "/* open",
            "as $$ body",
            "x \"id",
            "DELIMITER",
            "é",
        ] {
            for dialect in SqlDialect::ALL {
                let _ = split(input, dialect);
            }
        }
        check("select 'abc", SqlDialect::Postgres, &[(1, "select 'abc")]);
    }

    #[test]
    fn many_statements_on_one_line() {
        let line = "x; ".repeat(20_000);
        let pieces = split(&format!("é;\n{line}"), SqlDialect::Mysql);
        assert_eq!(pieces.len(), 20_001);
        let last = pieces.last().expect("pieces");
        assert_eq!((last.line, last.column), (2, 3 * 19_999 + 1));
    }

    #[test]
    fn lexer_tokens() {
        let toks = lex(
            r#"CREATE TABLE "My ""T""" (`a`, [b] -- c
            , 'x''y', 12.5, $$d$$)"#,
            SqlDialect::Postgres,
        );
        let got: Vec<(TokKind, String)> = toks.iter().map(|t| (t.kind, t.name())).collect();
        use TokKind::*;
        assert_eq!(
            got[..4],
            [
                (Word, "CREATE".to_string()),
                (Word, "TABLE".to_string()),
                (Quoted, "My \"T\"".to_string()),
                (Punct, "(".to_string())
            ]
        );
        assert!(got.contains(&(Str, "'x''y'".to_string())));
        assert!(got.contains(&(Number, "12.5".to_string())));
        assert!(got.contains(&(Str, "$$d$$".to_string())));
        let escaped = lex(r"E'a\'b' x", SqlDialect::Postgres);
        assert_eq!(escaped[1].raw, r"'a\'b'");
        assert!(escaped[2].is_word("x"));
        let sqlite = lex("[a b] `c`", SqlDialect::Sqlite);
        assert_eq!(sqlite[0].name(), "a b");
        assert_eq!(sqlite[1].name(), "c");
    }
}
