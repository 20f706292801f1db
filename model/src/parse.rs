//! Parsing an LLM's answer into a model.
//!
//! Providers return text. Even when asked for bare JSON, some wrap it in a Markdown fence or put
//! a sentence before or after it. [`extract_json`] finds the JSON object: the first fenced block
//! that holds one, or else the first balanced `{...}` in the text (strings and escapes are
//! respected while balancing). [`parse_model`] then reads it as a [`Model`], with errors that
//! say where (line and column in the extracted JSON) and what was wrong.

use super::types::Model;
use thiserror::Error;

/// Why the text could not be read as a model.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("the answer holds no JSON object: ask the model to answer with the JSON model only")]
    NoJson,
    #[error("the JSON object is not closed: the answer was probably cut short (raise max tokens or retry)")]
    Unterminated,
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the JSON is not a data model (line {line}, column {column}): {message}")]
    NotAModel {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "the JSON is not a list of change operations (line {line}, column {column}): {message}"
    )]
    NotAChangeSet {
        line: usize,
        column: usize,
        message: String,
    },
}

impl ParseError {
    /// A stable code for the error, shown to the user beside the message.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::NoJson => "VAL_LLM_NO_JSON",
            ParseError::Unterminated => "VAL_LLM_TRUNCATED",
            ParseError::InvalidJson { .. } => "VAL_LLM_INVALID_JSON",
            ParseError::NotAModel { .. } => "VAL_LLM_NOT_A_MODEL",
            ParseError::NotAChangeSet { .. } => "VAL_LLM_NOT_A_CHANGE_SET",
        }
    }
}

/// The trimmed bodies of the Markdown fenced blocks (```lang ... ```) in `text`, in order.
pub(crate) fn fenced_blocks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find("```")?;
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
        let body = &after[body_start..];
        let end = body.find("```")?;
        rest = &body[end + 3..];
        Some(body[..end].trim())
    })
}

/// Finds the JSON object in an LLM answer.
pub fn extract_json(text: &str) -> Result<&str, ParseError> {
    // A fenced block (```json ... ``` or ``` ... ```) whose body starts with `{` wins.
    if let Some(block) = fenced_blocks(text).find(|b| b.starts_with('{')) {
        return Ok(block);
    }
    let start = text.find('{').ok_or(ParseError::NoJson)?;
    let end = balanced_end(&text[start..]).ok_or(ParseError::Unterminated)?;
    Ok(&text[start..start + end])
}

/// Length of the balanced `{...}` at the start of `text`, if it closes.
pub(crate) fn balanced_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses an LLM answer (bare JSON, fenced, or with prose around it) into a model.
pub fn parse_model(text: &str) -> Result<Model, ParseError> {
    parse_json_as(extract_json(text)?, |line, column, message| {
        ParseError::NotAModel {
            line,
            column,
            message,
        }
    })
}

/// Reads extracted JSON as a `T`; `shape` builds the error for JSON of the wrong shape.
pub(crate) fn parse_json_as<T: serde::de::DeserializeOwned>(
    json: &str,
    shape: fn(usize, usize, String) -> ParseError,
) -> Result<T, ParseError> {
    serde_json::from_str::<T>(json).map_err(|e| {
        let (line, column, message) = (e.line(), e.column(), e.to_string());
        match e.classify() {
            serde_json::error::Category::Data => shape(line, column, message),
            serde_json::error::Category::Eof => ParseError::Unterminated,
            _ => ParseError::InvalidJson {
                line,
                column,
                message,
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = r#"{"entities":[{"name":"a","attributes":[{"name":"id","type":"uuid"}],"primary_key":["id"]}]}"#;

    #[test]
    fn bare_fenced_and_with_prose() {
        for text in [
            MODEL.to_string(),
            format!("```json\n{MODEL}\n```"),
            format!("Here is the model:\n```\n{MODEL}\n```\nHope it helps."),
            format!("Sure! {MODEL} Let me know."),
            format!("```text\nnot json\n```\n{MODEL}"),
        ] {
            let model = parse_model(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(model.entities[0].name, "a");
        }
    }

    #[test]
    fn braces_inside_strings_do_not_confuse_balancing() {
        let text = r#"x {"entities":[{"name":"a}{","description":"\"}\"","attributes":[],"primary_key":[]}]} y"#;
        assert_eq!(parse_model(text).expect("parses").entities[0].name, "a}{");
    }

    #[test]
    fn precise_errors() {
        assert_eq!(parse_model("no json here"), Err(ParseError::NoJson));
        assert_eq!(
            parse_model(r#"{"entities": [ {"name": "a""#),
            Err(ParseError::Unterminated)
        );
        match parse_model("{\"entities\": 3}") {
            Err(ParseError::NotAModel {
                line: 1,
                column,
                message,
            }) => {
                assert!(column > 0);
                assert!(message.contains("expected a sequence"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        match parse_model("{\n\"entities\": [,]}") {
            Err(e @ ParseError::InvalidJson { line: 2, .. }) => {
                assert_eq!(e.code(), "VAL_LLM_INVALID_JSON")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
