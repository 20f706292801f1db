//! JSON Schema (draft 2020-12) describing one record of each entity.
//!
//! The schema has one *definition* per entity under `$defs`, keyed by the entity's name: an
//! object whose properties are the attributes, typed from their logical types (a string with its
//! `maxLength`, integers with their 32- or 64-bit range, `format` for dates, times and UUIDs, an
//! `enum` for enumerations, base64 `contentEncoding` for bytes, no constraint at all for JSON),
//! `required` listing the non-nullable attributes, and a nullable attribute typed
//! `[<type>, "null"]`. Records are closed (`additionalProperties: false`).
//!
//! Key order matters to people reading the schema, and `serde_json`'s map sorts keys, so each
//! entity's definition is built as a small ordered tree (`Json`) and serialized through serde.
//! The definitions are built one at a time, while the schema is written (`Defs`): a tree of
//! the whole model would hold every attribute's schema at once, many megabytes for a large
//! model, and make writing it slower per entity the larger the model.

use super::super::logical_type::LogicalType;
use super::super::types::{Attribute, Entity, Model};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// The `$schema` URI of draft 2020-12.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Writes the JSON Schema of `model`, pretty-printed with a final newline.
pub fn json_schema(model: &Model) -> String {
    let mut root = vec![
        ("$schema", Json::from(DRAFT_2020_12)),
        ("title", Json::from("Data model")),
    ];
    if !model.summary.trim().is_empty() {
        root.push(("description", Json::from(model.summary.trim())));
    }
    let root = Root {
        head: root,
        defs: Defs(&model.entities),
    };
    let mut text = serde_json::to_string_pretty(&root)
        // Writing this tree to a string cannot fail (no maps with non-string keys, no I/O), but
        // exporting must never panic, so a failure still gives a valid, empty schema.
        .unwrap_or_else(|_| format!("{{\"$schema\": \"{DRAFT_2020_12}\"}}"));
    text.push('\n');
    text
}

/// The schema's root object: its first keys, then `$defs`.
struct Root<'a> {
    head: Vec<(&'static str, Json)>,
    defs: Defs<'a>,
}

impl Serialize for Root<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.head.len() + 1))?;
        for (key, value) in &self.head {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("$defs", &self.defs)?;
        map.end()
    }
}

/// `$defs`: one definition per entity, keyed by its name, each built when it is written.
struct Defs<'a>(&'a [Entity]);

impl Serialize for Defs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for e in self.0 {
            map.serialize_entry(&e.name, &entity(e))?;
        }
        map.end()
    }
}

fn entity(entity: &Entity) -> Json {
    let mut schema = vec![("type", Json::from("object"))];
    if !entity.description.trim().is_empty() {
        schema.push(("description", Json::from(entity.description.trim())));
    }
    let properties: Vec<(String, Json)> = entity
        .attributes
        .iter()
        .map(|a| (a.name.clone(), attribute(a)))
        .collect();
    let required: Vec<Json> = entity
        .attributes
        .iter()
        .filter(|a| !a.nullable)
        .map(|a| Json::from(a.name.as_str()))
        .collect();
    let mut schema: Vec<(String, Json)> = schema
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    schema.push(("properties".into(), Json::Object(properties)));
    if !required.is_empty() {
        schema.push(("required".into(), Json::Array(required)));
    }
    schema.push(("additionalProperties".into(), Json::Bool(false)));
    Json::Object(schema)
}

fn attribute(a: &Attribute) -> Json {
    let mut schema: Vec<(&str, Json)> = Vec::new();
    let mut kind: Option<&str> = None;
    match &a.data_type {
        LogicalType::String(max) => {
            kind = Some("string");
            if let Some(max) = max {
                schema.push(("maxLength", Json::Int(i64::from(*max))));
            }
        }
        LogicalType::Text => kind = Some("string"),
        LogicalType::Integer => {
            kind = Some("integer");
            schema.push(("minimum", Json::Int(i64::from(i32::MIN))));
            schema.push(("maximum", Json::Int(i64::from(i32::MAX))));
        }
        LogicalType::BigInt => {
            kind = Some("integer");
            schema.push(("minimum", Json::Int(i64::MIN)));
            schema.push(("maximum", Json::Int(i64::MAX)));
        }
        LogicalType::Decimal { .. } | LogicalType::Float => kind = Some("number"),
        LogicalType::Boolean => kind = Some("boolean"),
        LogicalType::Date => {
            kind = Some("string");
            schema.push(("format", Json::from("date")));
        }
        LogicalType::Time => {
            kind = Some("string");
            schema.push(("format", Json::from("time")));
        }
        LogicalType::Timestamp | LogicalType::TimestampTz => {
            kind = Some("string");
            schema.push(("format", Json::from("date-time")));
        }
        LogicalType::Uuid => {
            kind = Some("string");
            schema.push(("format", Json::from("uuid")));
        }
        LogicalType::Bytes => {
            kind = Some("string");
            schema.push(("contentEncoding", Json::from("base64")));
        }
        // An enum without values would reject every record: it is written as a plain string.
        LogicalType::Enum(values) if values.is_empty() => kind = Some("string"),
        LogicalType::Enum(values) => {
            kind = Some("string");
            let mut allowed: Vec<Json> = Vec::new();
            for value in values {
                let value = Json::from(value.as_str());
                if !allowed.contains(&value) {
                    allowed.push(value);
                }
            }
            if a.nullable {
                // `enum` restricts the value on its own, so null must be listed as well.
                allowed.push(Json::Null);
            }
            schema.push(("enum", Json::Array(allowed)));
        }
        // Any JSON value; an unknown type is the most general type too.
        LogicalType::Json | LogicalType::Unknown(_) => {}
    }
    let mut out: Vec<(String, Json)> = Vec::new();
    if let Some(kind) = kind {
        let kind = if a.nullable {
            Json::Array(vec![Json::from(kind), Json::from("null")])
        } else {
            Json::from(kind)
        };
        out.push(("type".into(), kind));
    }
    out.extend(schema.into_iter().map(|(k, v)| (k.to_string(), v)));
    let mut description = a.description.trim().to_string();
    if let LogicalType::Unknown(raw) = &a.data_type {
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str(&format!("(Type `{raw}`, unknown to the model.)"));
    }
    if !description.is_empty() {
        out.push(("description".into(), Json::from(description.as_str())));
    }
    if let Some(default) = &a.default {
        // A default is an SQL expression (`now()`), so it is shown, not turned into `default`.
        out.push((
            "$comment".into(),
            Json::from(format!("default: {default}").as_str()),
        ));
    }
    Json::Object(out)
}

/// An ordered JSON value: objects keep their keys in insertion order.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl From<&str> for Json {
    fn from(text: &str) -> Json {
        Json::String(text.to_string())
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Int(n) => serializer.serialize_i64(*n),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{sample, v2};
    use serde_json::json;

    #[test]
    fn library_v1() {
        insta::assert_snapshot!(json_schema(&sample()));
    }

    #[test]
    fn library_v2() {
        let model = v2();
        insta::assert_snapshot!(json_schema(&model));
    }

    fn property(raw_type: &str, nullable: bool) -> serde_json::Value {
        let a = Attribute {
            name: "x".into(),
            data_type: LogicalType::parse(raw_type),
            nullable,
            default: None,
            description: String::new(),
            tags: vec![],
            auto_increment: false,
            native: None,
            case_insensitive: false,
        };
        serde_json::to_value(attribute(&a)).expect("serializes")
    }

    #[test]
    fn types() {
        let check = |raw: &str, nullable: bool, expected: serde_json::Value| {
            assert_eq!(
                property(raw, nullable),
                expected,
                "{raw} nullable={nullable}"
            );
        };
        check(
            "string(20)",
            false,
            json!({"type": "string", "maxLength": 20}),
        );
        check("text", true, json!({"type": ["string", "null"]}));
        check(
            "integer",
            false,
            json!({"type": "integer", "minimum": -2147483648_i64, "maximum": 2147483647}),
        );
        check("decimal(12,2)", false, json!({"type": "number"}));
        check("boolean", false, json!({"type": "boolean"}));
        check("date", false, json!({"type": "string", "format": "date"}));
        check("time", false, json!({"type": "string", "format": "time"}));
        check(
            "timestamp",
            true,
            json!({"type": ["string", "null"], "format": "date-time"}),
        );
        check("uuid", false, json!({"type": "string", "format": "uuid"}));
        check(
            "bytes",
            false,
            json!({"type": "string", "contentEncoding": "base64"}),
        );
        check("json", false, json!({}));
        check("enum()", false, json!({"type": "string"}));
        check(
            "enum(a,b,a)",
            true,
            json!({"type": ["string", "null"], "enum": ["a", "b", null]}),
        );
        check(
            "money",
            false,
            json!({"description": "(Type `money`, unknown to the model.)"}),
        );
    }

    #[test]
    fn required_lists_the_mandatory_attributes() {
        let schema: serde_json::Value =
            serde_json::from_str(&json_schema(&sample())).expect("valid JSON");
        assert_eq!(schema["$schema"], DRAFT_2020_12);
        assert_eq!(
            schema["$defs"]["author"]["required"],
            json!(["id", "full_name"])
        );
        let keys: Vec<&String> = schema["$defs"]
            .as_object()
            .expect("$defs is an object")
            .keys()
            .collect();
        assert_eq!(keys.len(), 4);
    }
}
