//! Logical types: the database-independent column types of the model (DESIGN §3).
//!
//! A logical type is written as a short string such as `string(120)`, `decimal(12,2)` or
//! `enum(draft,sent,paid)`. Parsing never fails: a string that names no known type becomes
//! [`LogicalType::Unknown`], so that one bad attribute does not hide the rest of a model and
//! validation can report it with its path. Common SQL spellings (`varchar(n)`, `int`, `bool`,
//! `datetime`, `numeric(p,s)`) are accepted as aliases and written back in the canonical form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A database-independent attribute type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogicalType {
    /// Variable-length string with an optional maximum length in characters.
    String(Option<u32>),
    Text,
    Integer,
    BigInt,
    Decimal {
        precision: u32,
        scale: u32,
    },
    Float,
    Boolean,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
    Bytes,
    Enum(Vec<String>),
    /// A type string that names no known type, kept verbatim for the validation report.
    Unknown(String),
}

impl LogicalType {
    /// Parses a type string; unknown or malformed strings become [`LogicalType::Unknown`].
    pub fn parse(raw: &str) -> LogicalType {
        let trimmed = raw.trim();
        let lower = trimmed.to_ascii_lowercase();
        let (head, args) = match lower.find('(') {
            Some(open) if lower.ends_with(')') => (
                lower[..open].trim(),
                Some(&trimmed[open + 1..trimmed.len() - 1]),
            ),
            Some(_) => return LogicalType::Unknown(trimmed.to_string()),
            None => (lower.as_str(), None),
        };
        let unknown = || LogicalType::Unknown(trimmed.to_string());
        let numbers = |args: &str| -> Option<Vec<u32>> {
            args.split(',')
                .map(|part| part.trim().parse::<u32>().ok())
                .collect()
        };
        match (head, args) {
            ("string" | "varchar" | "character varying", None) => LogicalType::String(None),
            ("string" | "varchar" | "character varying" | "char", Some(args)) => {
                match numbers(args).as_deref() {
                    Some([n]) => LogicalType::String(Some(*n)),
                    _ => unknown(),
                }
            }
            ("text" | "clob", None) => LogicalType::Text,
            ("integer" | "int" | "int4" | "smallint", None) => LogicalType::Integer,
            ("bigint" | "int8" | "long", None) => LogicalType::BigInt,
            ("decimal" | "numeric", Some(args)) => match numbers(args).as_deref() {
                Some([p]) => LogicalType::Decimal {
                    precision: *p,
                    scale: 0,
                },
                Some([p, s]) => LogicalType::Decimal {
                    precision: *p,
                    scale: *s,
                },
                _ => unknown(),
            },
            ("float" | "double" | "real" | "double precision", None) => LogicalType::Float,
            ("boolean" | "bool", None) => LogicalType::Boolean,
            ("date", None) => LogicalType::Date,
            ("time", None) => LogicalType::Time,
            ("timestamp" | "datetime", None) => LogicalType::Timestamp,
            ("timestamptz" | "timestamp with time zone", None) => LogicalType::TimestampTz,
            ("uuid", None) => LogicalType::Uuid,
            ("json" | "jsonb", None) => LogicalType::Json,
            ("bytes" | "blob" | "bytea" | "binary", None) => LogicalType::Bytes,
            ("enum", Some(args)) => {
                let values: Vec<String> = args
                    .split(',')
                    .map(|v| v.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
                    .filter(|v| !v.is_empty())
                    .collect();
                LogicalType::Enum(values)
            }
            _ => unknown(),
        }
    }

    /// True when the type names a known logical type.
    pub fn is_known(&self) -> bool {
        !matches!(self, LogicalType::Unknown(_))
    }
}

impl fmt::Display for LogicalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogicalType::String(None) => f.write_str("string"),
            LogicalType::String(Some(n)) => write!(f, "string({n})"),
            LogicalType::Text => f.write_str("text"),
            LogicalType::Integer => f.write_str("integer"),
            LogicalType::BigInt => f.write_str("bigint"),
            LogicalType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            LogicalType::Float => f.write_str("float"),
            LogicalType::Boolean => f.write_str("boolean"),
            LogicalType::Date => f.write_str("date"),
            LogicalType::Time => f.write_str("time"),
            LogicalType::Timestamp => f.write_str("timestamp"),
            LogicalType::TimestampTz => f.write_str("timestamptz"),
            LogicalType::Uuid => f.write_str("uuid"),
            LogicalType::Json => f.write_str("json"),
            LogicalType::Bytes => f.write_str("bytes"),
            LogicalType::Enum(values) => write!(f, "enum({})", values.join(",")),
            LogicalType::Unknown(raw) => f.write_str(raw),
        }
    }
}

impl Serialize for LogicalType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LogicalType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(LogicalType::parse(&raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: LogicalType, canonical: &str) {
        let parsed = LogicalType::parse(input);
        assert_eq!(parsed, expected, "parsing {input:?}");
        assert_eq!(parsed.to_string(), canonical, "printing {input:?}");
        assert_eq!(
            LogicalType::parse(canonical),
            expected,
            "round trip of {canonical:?}"
        );
    }

    #[test]
    fn canonical_and_alias_spellings() {
        check("string(120)", LogicalType::String(Some(120)), "string(120)");
        check("VARCHAR(40)", LogicalType::String(Some(40)), "string(40)");
        check("string", LogicalType::String(None), "string");
        check("int", LogicalType::Integer, "integer");
        check("bigint", LogicalType::BigInt, "bigint");
        check(
            "numeric(12, 2)",
            LogicalType::Decimal {
                precision: 12,
                scale: 2,
            },
            "decimal(12,2)",
        );
        check(
            "decimal(8)",
            LogicalType::Decimal {
                precision: 8,
                scale: 0,
            },
            "decimal(8,0)",
        );
        check("datetime", LogicalType::Timestamp, "timestamp");
        check("timestamptz", LogicalType::TimestampTz, "timestamptz");
        check("jsonb", LogicalType::Json, "json");
        check(
            "enum('draft', 'paid')",
            LogicalType::Enum(vec!["draft".into(), "paid".into()]),
            "enum(draft,paid)",
        );
    }

    #[test]
    fn unknown_types_are_kept_verbatim() {
        for raw in [
            "money",
            "string(abc)",
            "decimal(1,2,3)",
            "varchar(10",
            "geometry",
        ] {
            assert_eq!(
                LogicalType::parse(raw),
                LogicalType::Unknown(raw.to_string())
            );
            assert!(!LogicalType::parse(raw).is_known());
        }
    }
}
