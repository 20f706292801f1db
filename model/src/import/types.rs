//! Mapping SQL column types to logical types.
//!
//! A *column type* is what sqlparser read after a column name (`character varying(15)`,
//! `TINYINT(1) UNSIGNED`, `public.mpaa_rating`, `text[]`). [`map_type`] turns it into the
//! [`LogicalType`] the model uses, knowing each dialect's spellings: MySQL's `tinyint(1)` is a
//! boolean and its `year` an integer; PostgreSQL's `serial` family are integers (the sequence
//! behind them is not part of the model), its enum types and domains resolve to what
//! `CREATE TYPE ... AS ENUM` and `CREATE DOMAIN` defined earlier in the script; SQLite's free
//! type names follow SQLite's own affinity rules. A type with no exact logical counterpart
//! (arrays, `set(...)`, spatial types, `tsvector`, `interval`, `money`) gets the closest one
//! and a *note*, which the importer reports so that the approximation is never silent.
//!
//! A *native type* ([`native_type`]) is the source's own spelling, kept beside the logical type
//! when that does not say all of it: an approximation or an unknown type, and MySQL's sized and
//! unsigned integers, texts and binaries (`tinyint`, `bigint unsigned`, `longtext`,
//! `binary(32)`) and PostgreSQL's `smallint`. An export to the same dialect writes it as it is.

use crate::dialect::SqlDialect;
use crate::types::NativeType;
use crate::LogicalType;
use sqlparser::ast::{
    ArrayElemTypeDef, CharacterLength, DataType, EnumMember, ExactNumberInfo, TimezoneInfo,
};
use std::collections::HashMap;

/// What the script defined earlier that column types may name (keys are lower case).
#[derive(Debug, Default)]
pub(crate) struct TypeContext {
    pub enums: HashMap<String, Vec<String>>,
    pub domains: HashMap<String, LogicalType>,
}

/// The logical type for `data_type`, and a note when the mapping is an approximation.
pub(crate) fn map_type(
    data_type: &DataType,
    dialect: SqlDialect,
    ctx: &TypeContext,
) -> (LogicalType, Option<String>) {
    use DataType as D;
    let exact = |t: LogicalType| (t, None);
    let approx = |t: LogicalType, why: &str| {
        let note = format!("type {data_type} has no exact logical type: imported as {t} ({why})");
        (t, Some(note))
    };
    match data_type {
        D::Character(len) | D::Char(len) => exact(LogicalType::String(Some(
            char_length(len.as_ref()).unwrap_or(1),
        ))),
        D::CharacterVarying(len) | D::CharVarying(len) | D::Varchar(len) | D::Nvarchar(len) => {
            exact(LogicalType::String(char_length(len.as_ref())))
        }
        D::String(len) => exact(LogicalType::String(len.and_then(to_u32))),
        D::FixedString(len) => exact(LogicalType::String(to_u32(*len))),
        D::Uuid => exact(LogicalType::Uuid),
        D::CharacterLargeObject(_)
        | D::CharLargeObject(_)
        | D::Clob(_)
        | D::Text
        | D::TinyText
        | D::MediumText
        | D::LongText => exact(LogicalType::Text),
        D::Binary(_)
        | D::Varbinary(_)
        | D::Blob(_)
        | D::TinyBlob
        | D::MediumBlob
        | D::LongBlob
        | D::Bytes(_)
        | D::Bytea => exact(LogicalType::Bytes),
        D::Numeric(info)
        | D::Decimal(info)
        | D::DecimalUnsigned(info)
        | D::Dec(info)
        | D::DecUnsigned(info)
        | D::BigNumeric(info)
        | D::BigDecimal(info) => decimal(info, dialect, data_type),
        D::Float(_)
        | D::FloatUnsigned(_)
        | D::Float4
        | D::Float8
        | D::Float32
        | D::Float64
        | D::Real
        | D::RealUnsigned
        | D::Double(_)
        | D::DoubleUnsigned(_)
        | D::DoublePrecision
        | D::DoublePrecisionUnsigned => exact(LogicalType::Float),
        D::TinyInt(Some(1)) | D::TinyIntUnsigned(Some(1)) if dialect == SqlDialect::Mysql => {
            exact(LogicalType::Boolean)
        }
        D::TinyInt(_)
        | D::TinyIntUnsigned(_)
        | D::UTinyInt
        | D::Int2(_)
        | D::Int2Unsigned(_)
        | D::SmallInt(_)
        | D::SmallIntUnsigned(_)
        | D::USmallInt
        | D::MediumInt(_)
        | D::MediumIntUnsigned(_)
        | D::Int(_)
        | D::Int4(_)
        | D::Integer(_)
        | D::IntUnsigned(_)
        | D::Int4Unsigned(_)
        | D::IntegerUnsigned(_)
        | D::Int16
        | D::Int32
        | D::UInt8
        | D::UInt16
        | D::UInt32
        | D::Signed
        | D::SignedInteger
        | D::Unsigned
        | D::UnsignedInteger => exact(LogicalType::Integer),
        D::BigInt(_)
        | D::BigIntUnsigned(_)
        | D::UBigInt
        | D::Int8(_)
        | D::Int8Unsigned(_)
        | D::Int64
        | D::UInt64 => exact(LogicalType::BigInt),
        D::Bool | D::Boolean => exact(LogicalType::Boolean),
        D::Bit(Some(1)) => exact(LogicalType::Boolean),
        D::Bit(_) | D::BitVarying(_) | D::VarBit(_) => {
            approx(LogicalType::String(None), "bit strings are kept as text")
        }
        D::Date | D::Date32 => exact(LogicalType::Date),
        D::Time(_, _) => exact(LogicalType::Time),
        D::Datetime(_) | D::Datetime64(_, _) | D::TimestampNtz(_) => exact(LogicalType::Timestamp),
        D::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => {
            exact(LogicalType::TimestampTz)
        }
        D::Timestamp(_, _) => exact(LogicalType::Timestamp),
        D::JSON | D::JSONB => exact(LogicalType::Json),
        D::Enum(members, _) => exact(LogicalType::Enum(
            members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(name) | EnumMember::NamedValue(name, _) => name.clone(),
                })
                .collect(),
        )),
        D::Set(_) => approx(
            LogicalType::String(None),
            "a set of values is stored as a comma-separated string",
        ),
        D::Array(ArrayElemTypeDef::None) | D::Array(_) => {
            approx(LogicalType::Json, "arrays are kept as JSON arrays")
        }
        D::Interval { .. } => approx(LogicalType::String(None), "intervals are kept as text"),
        D::TsVector | D::TsQuery => approx(
            LogicalType::Text,
            "full-text search documents are derived text",
        ),
        D::GeometricType(_) => approx(LogicalType::Bytes, "spatial values are binary"),
        D::Regclass => exact(LogicalType::String(None)),
        D::Custom(name, modifiers) => {
            let last = name
                .0
                .last()
                .and_then(|part| part.as_ident())
                .map(|ident| ident.value.clone())
                .unwrap_or_else(|| name.to_string());
            custom(&last, modifiers, data_type, dialect, ctx)
        }
        // SQLite lets a column have no type at all (it then holds any value): kept without a
        // type, which the export writes as text, or as the type of the key it references.
        D::Unspecified => (
            LogicalType::Unknown(String::new()),
            Some(
                "the column has no type (SQLite stores any value in it): kept without a type, \
                 exported as text or as the type of the key it references"
                    .into(),
            ),
        ),
        _ => fallback(data_type, dialect),
    }
}

/// The source's own spelling of `data_type` when `logical` (from [`map_type`], `approximate`
/// when it came with a note) does not say all of it; see the module documentation.
pub(crate) fn native_type(
    data_type: &DataType,
    dialect: SqlDialect,
    logical: &LogicalType,
    approximate: bool,
) -> Option<NativeType> {
    use DataType as D;
    let unsigned = matches!(
        data_type,
        D::TinyIntUnsigned(_)
            | D::SmallIntUnsigned(_)
            | D::MediumIntUnsigned(_)
            | D::IntUnsigned(_)
            | D::Int4Unsigned(_)
            | D::IntegerUnsigned(_)
            | D::BigIntUnsigned(_)
            | D::Int8Unsigned(_)
            | D::DecimalUnsigned(_)
            | D::DecUnsigned(_)
            | D::FloatUnsigned(_)
            | D::DoubleUnsigned(_)
            | D::RealUnsigned
            | D::DoublePrecisionUnsigned
            | D::Int2Unsigned(_)
    ) && *logical != LogicalType::Boolean;
    let sized = match dialect {
        SqlDialect::Mysql => {
            matches!(
                data_type,
                D::TinyInt(_)
                    | D::SmallInt(_)
                    | D::MediumInt(_)
                    | D::TinyText
                    | D::MediumText
                    | D::LongText
                    | D::Binary(_)
                    | D::Varbinary(_)
                    | D::TinyBlob
                    | D::MediumBlob
                    | D::Blob(_)
            ) && *logical != LogicalType::Boolean
        }
        SqlDialect::Postgres => matches!(data_type, D::SmallInt(_) | D::Int2(_)),
        SqlDialect::Sqlite => false,
    };
    let unknown = matches!(logical, LogicalType::Unknown(raw) if !raw.trim().is_empty());
    // A SQLite column without a type has no spelling to keep.
    let spelled = !matches!(data_type, D::Unspecified);
    (spelled && (approximate || unknown || unsigned || sized)).then(|| NativeType {
        dialect,
        name: data_type.to_string(),
        approximate: approximate || unknown || unsigned,
    })
}

fn to_u32(n: u64) -> Option<u32> {
    u32::try_from(n).ok()
}

fn char_length(len: Option<&CharacterLength>) -> Option<u32> {
    match len {
        Some(CharacterLength::IntegerLength { length, .. }) => to_u32(*length),
        Some(CharacterLength::Max) | None => None,
    }
}

fn decimal(
    info: &ExactNumberInfo,
    dialect: SqlDialect,
    data_type: &DataType,
) -> (LogicalType, Option<String>) {
    let make = |precision: u64, scale: i64| LogicalType::Decimal {
        precision: u32::try_from(precision).unwrap_or(u32::MAX),
        scale: u32::try_from(scale.max(0)).unwrap_or(0),
    };
    match info {
        ExactNumberInfo::PrecisionAndScale(p, s) => (make(*p, *s), None),
        ExactNumberInfo::Precision(p) => (make(*p, 0), None),
        // MySQL documents DECIMAL without arguments as DECIMAL(10,0).
        ExactNumberInfo::None if dialect == SqlDialect::Mysql => (make(10, 0), None),
        ExactNumberInfo::None => {
            let t = make(38, 10);
            let note = format!(
                "type {data_type} has no exact logical type: imported as {t} \
                 (a numeric without precision holds any number of digits)"
            );
            (t, Some(note))
        }
    }
}

fn custom(
    name: &str,
    modifiers: &[String],
    data_type: &DataType,
    dialect: SqlDialect,
    ctx: &TypeContext,
) -> (LogicalType, Option<String>) {
    let lower = name.to_lowercase();
    if let Some(values) = ctx.enums.get(&lower) {
        return (LogicalType::Enum(values.clone()), None);
    }
    if let Some(base) = ctx.domains.get(&lower) {
        return (base.clone(), None);
    }
    let approx = |t: LogicalType, why: &str| {
        let note = format!("type {data_type} has no exact logical type: imported as {t} ({why})");
        (t, Some(note))
    };
    let number = |i: usize| modifiers.get(i).and_then(|m| m.trim().parse::<u32>().ok());
    match lower.as_str() {
        "serial" | "serial4" | "smallserial" | "serial2" => (LogicalType::Integer, None),
        "bigserial" | "serial8" => (LogicalType::BigInt, None),
        "year" => (LogicalType::Integer, None),
        "timestamptz" => (LogicalType::TimestampTz, None),
        "timetz" => (LogicalType::Time, None),
        "citext" | "ntext" => (LogicalType::Text, None),
        "nchar" | "national" => (LogicalType::String(number(0).or(Some(1))), None),
        "varchar2" | "nvarchar2" => (LogicalType::String(number(0)), None),
        "geometry" | "geography" | "point" | "linestring" | "polygon" | "multipoint"
        | "multilinestring" | "multipolygon" | "geometrycollection" => {
            approx(LogicalType::Bytes, "spatial values are binary")
        }
        "money" | "smallmoney" => approx(
            LogicalType::Decimal {
                precision: 19,
                scale: 2,
            },
            "money is a fixed-point amount",
        ),
        "inet" | "cidr" | "macaddr" | "macaddr8" => approx(
            LogicalType::String(None),
            "network addresses are kept as text",
        ),
        "xml" => approx(LogicalType::Text, "XML documents are kept as text"),
        "tsvector" | "tsquery" => approx(
            LogicalType::Text,
            "full-text search documents are derived text",
        ),
        "interval" => approx(LogicalType::String(None), "intervals are kept as text"),
        _ if dialect == SqlDialect::Sqlite => sqlite_affinity(&lower, data_type),
        _ => fallback(data_type, dialect),
    }
}

/// SQLite accepts any type name and gives the column an *affinity* from words in it
/// (<https://www.sqlite.org/datatype3.html>, §3.1); the rules are applied in this order.
fn sqlite_affinity(lower: &str, data_type: &DataType) -> (LogicalType, Option<String>) {
    let parsed = LogicalType::parse(&data_type.to_string());
    if parsed.is_known() {
        return (parsed, None);
    }
    let (t, why) = if lower.contains("int") {
        (
            LogicalType::Integer,
            "SQLite reads a type containing INT as integer",
        )
    } else if lower.contains("char") || lower.contains("clob") || lower.contains("text") {
        (
            LogicalType::Text,
            "SQLite reads a type containing CHAR, CLOB or TEXT as text",
        )
    } else if lower.contains("blob") {
        (
            LogicalType::Bytes,
            "SQLite reads a type containing BLOB as binary",
        )
    } else if lower.contains("real") || lower.contains("floa") || lower.contains("doub") {
        (
            LogicalType::Float,
            "SQLite reads a type containing REAL, FLOA or DOUB as float",
        )
    } else {
        return (LogicalType::Unknown(data_type.to_string()), None);
    };
    let note = format!("type {data_type} has no exact logical type: imported as {t} ({why})");
    (t, Some(note))
}

/// Types sqlparser knows but this mapping does not: the generic parser decides, and an unknown
/// type is kept verbatim so that validation reports it.
fn fallback(data_type: &DataType, dialect: SqlDialect) -> (LogicalType, Option<String>) {
    let raw = data_type.to_string();
    let parsed = LogicalType::parse(&raw);
    if parsed.is_known() || dialect != SqlDialect::Sqlite {
        return (parsed, None);
    }
    sqlite_affinity(&raw.to_lowercase(), data_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
    use sqlparser::parser::Parser;

    /// Reads `column_type` as sqlparser does in a `CREATE TABLE` and maps it.
    fn check(dialect: SqlDialect, column_type: &str, expected: &str, approximate: bool) {
        let parser: Box<dyn Dialect> = match dialect {
            SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
            SqlDialect::Mysql => Box::new(MySqlDialect {}),
            SqlDialect::Sqlite => Box::new(SQLiteDialect {}),
        };
        let sql = format!("CREATE TABLE t (c {column_type})");
        let statements = Parser::parse_sql(parser.as_ref(), &sql)
            .unwrap_or_else(|e| panic!("{sql} does not parse: {e}"));
        let Some(sqlparser::ast::Statement::CreateTable(table)) = statements.first() else {
            panic!("{sql} is not a CREATE TABLE");
        };
        let mut ctx = TypeContext::default();
        ctx.enums
            .insert("mpaa_rating".into(), vec!["G".into(), "PG".into()]);
        ctx.domains.insert("year".into(), LogicalType::Integer);
        let (logical, note) = map_type(&table.columns[0].data_type, dialect, &ctx);
        assert_eq!(logical.to_string(), expected, "{column_type} in {dialect}");
        assert_eq!(
            note.is_some(),
            approximate,
            "note for {column_type}: {note:?}"
        );
    }

    #[test]
    fn postgres_spellings() {
        use SqlDialect::Postgres as P;
        check(P, "serial", "integer", false);
        check(P, "bigserial", "bigint", false);
        check(P, "int2", "integer", false);
        check(P, "int4", "integer", false);
        check(P, "int8", "bigint", false);
        check(P, "character varying(15)", "string(15)", false);
        check(P, "character varying", "string", false);
        check(P, "character(20)", "string(20)", false);
        check(P, "char", "string(1)", false);
        check(P, "text", "text", false);
        check(P, "numeric(10,2)", "decimal(10,2)", false);
        check(P, "numeric", "decimal(38,10)", true);
        check(P, "real", "float", false);
        check(P, "double precision", "float", false);
        check(P, "bool", "boolean", false);
        check(P, "timestamp without time zone", "timestamp", false);
        check(P, "timestamp with time zone", "timestamptz", false);
        check(P, "timestamptz", "timestamptz", false);
        check(P, "time", "time", false);
        check(P, "date", "date", false);
        check(P, "uuid", "uuid", false);
        check(P, "jsonb", "json", false);
        check(P, "bytea", "bytes", false);
        check(P, "text[]", "json", true);
        check(P, "tsvector", "text", true);
        check(P, "public.mpaa_rating", "enum(G,PG)", false);
        check(P, "public.year", "integer", false);
        check(P, "money", "decimal(19,2)", true);
        check(P, "inet", "string", true);
        check(P, "geography", "bytes", true);
    }

    #[test]
    fn mysql_spellings() {
        use SqlDialect::Mysql as M;
        check(M, "tinyint(1)", "boolean", false);
        check(M, "tinyint", "integer", false);
        check(M, "tinyint unsigned", "integer", false);
        check(M, "smallint unsigned", "integer", false);
        check(M, "mediumint", "integer", false);
        check(M, "int(11)", "integer", false);
        check(M, "bigint unsigned", "bigint", false);
        check(M, "nvarchar(40)", "string(40)", false);
        check(M, "mediumtext", "text", false);
        check(M, "longtext", "text", false);
        check(M, "decimal", "decimal(10,0)", false);
        check(M, "double", "float", false);
        check(M, "float", "float", false);
        check(M, "datetime", "timestamp", false);
        check(M, "timestamp", "timestamp", false);
        check(M, "year", "integer", false);
        check(M, "enum('a','b')", "enum(a,b)", false);
        check(M, "set('a','b')", "string", true);
        check(M, "blob", "bytes", false);
        check(M, "varbinary(16)", "bytes", false);
        check(M, "binary(16)", "bytes", false);
        check(M, "json", "json", false);
        check(M, "geometry", "bytes", true);
        check(M, "bit(1)", "boolean", false);
    }

    #[test]
    fn native_types_are_kept_where_the_logical_type_says_less() {
        let check = |dialect: SqlDialect, column_type: &str, expected: Option<(&str, bool)>| {
            let parser: Box<dyn Dialect> = match dialect {
                SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
                SqlDialect::Mysql => Box::new(MySqlDialect {}),
                SqlDialect::Sqlite => Box::new(SQLiteDialect {}),
            };
            let sql = format!("CREATE TABLE t (c {column_type})");
            let statements = Parser::parse_sql(parser.as_ref(), &sql).expect("parses");
            let Some(sqlparser::ast::Statement::CreateTable(table)) = statements.first() else {
                panic!("{sql} is not a CREATE TABLE");
            };
            let data_type = &table.columns[0].data_type;
            let (logical, note) = map_type(data_type, dialect, &TypeContext::default());
            let native = native_type(data_type, dialect, &logical, note.is_some());
            assert_eq!(
                native.as_ref().map(|n| (n.name.as_str(), n.approximate)),
                expected,
                "{column_type} in {dialect}"
            );
            assert!(native.is_none_or(|n| n.dialect == dialect));
        };
        use SqlDialect::{Mysql as M, Postgres as P, Sqlite as S};
        check(M, "bigint unsigned", Some(("BIGINT UNSIGNED", true)));
        check(M, "longtext", Some(("LONGTEXT", false)));
        check(M, "binary(32)", Some(("BINARY(32)", false)));
        check(M, "tinyint", Some(("TINYINT", false)));
        check(M, "tinyint(1)", None);
        check(M, "int(11)", None);
        check(M, "varchar(20)", None);
        check(M, "set('a','b')", Some(("SET('a', 'b')", true)));
        check(P, "text[]", Some(("TEXT[]", true)));
        check(P, "cube", Some(("cube", true)));
        check(P, "smallint", Some(("SMALLINT", false)));
        check(P, "integer", None);
        check(P, "serial", None);
        check(S, "INTEGER", None);
        check(S, "", None);
    }

    #[test]
    fn sqlite_spellings_follow_affinity() {
        use SqlDialect::Sqlite as S;
        check(S, "INTEGER", "integer", false);
        check(S, "NVARCHAR(160)", "string(160)", false);
        check(S, "NUMERIC(10,2)", "decimal(10,2)", false);
        check(S, "DATETIME", "timestamp", false);
        check(S, "BLOB", "bytes", false);
        check(S, "\"BLOB SUB_TYPE TEXT\"", "text", true);
        check(S, "\"UNSIGNED BIG INT\"", "integer", true);
        check(S, "\"VARYING CHARACTER\"", "text", true);
        check(S, "WHATEVER", "WHATEVER", false);
        // A column without a type: kept without one, with a note.
        check(S, "", "", true);
    }
}
