//! Checks a chat-completions request before anything is sent upstream.
//!
//! The gateway forwards the client's JSON as it is (providers have extensions of their own,
//! which pass through), but the fields every OpenAI-style API knows must have the right type
//! and range here: a `"stream": "yes"` sent on would come back as the provider's error (or, for
//! `stream`, as a stream the gateway cannot read) and be blamed on the provider. Every wrong
//! field is reported at once, each as a [`FieldError`] with its path (`messages[1].role`).

use model::wire::FieldError;
use serde_json::{Map, Value};

/// The roles a message may have (OpenAI's, with `developer` and the legacy `function`).
const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// Checks `body`; `Err` lists every wrong field.
pub fn check(body: &Value) -> Result<(), Vec<FieldError>> {
    let mut wrong = Vec::new();
    let Some(object) = body.as_object() else {
        wrong.push(error("", "the body must be a JSON object"));
        return Err(wrong);
    };
    check_messages(object.get("messages"), &mut wrong);
    let mut field = |name: &str, check: fn(&Value) -> Option<&'static str>| {
        if let Some(reason) = object.get(name).and_then(check) {
            wrong.push(error(name, reason));
        }
    };
    field("model", |v| (!v.is_string()).then_some("must be a string"));
    field("stream", boolean);
    field("temperature", |v| {
        number_in(v, 0.0, 2.0, "a number from 0 to 2")
    });
    field("top_p", |v| number_in(v, 0.0, 1.0, "a number from 0 to 1"));
    field("presence_penalty", |v| {
        number_in(v, -2.0, 2.0, "a number from -2 to 2")
    });
    field("frequency_penalty", |v| {
        number_in(v, -2.0, 2.0, "a number from -2 to 2")
    });
    field("max_tokens", positive_integer);
    field("max_completion_tokens", positive_integer);
    field("n", positive_integer);
    field("seed", |v| {
        (!(v.is_i64() || v.is_u64())).then_some("must be an integer")
    });
    field("top_logprobs", |v| match v.as_u64() {
        Some(n) if n <= 20 => None,
        _ => Some("must be an integer from 0 to 20"),
    });
    field("logprobs", boolean);
    field("parallel_tool_calls", boolean);
    field("user", |v| (!v.is_string()).then_some("must be a string"));
    field("stop", |v| match v {
        Value::String(_) | Value::Null => None,
        Value::Array(items) if items.len() <= 4 && items.iter().all(Value::is_string) => None,
        _ => Some("must be a string or a list of at most 4 strings"),
    });
    field("stream_options", |v| match v {
        Value::Null => None,
        Value::Object(options) => options
            .get("include_usage")
            .is_some_and(|u| !u.is_boolean())
            .then_some("`include_usage` must be true or false"),
        _ => Some("must be an object"),
    });
    field("response_format", |v| match v {
        Value::Object(format) if format.get("type").is_some_and(Value::is_string) => None,
        _ => Some("must be an object with a `type`, e.g. {\"type\": \"json_object\"}"),
    });
    field("tools", |v| match v {
        Value::Array(tools) if tools.iter().all(Value::is_object) => None,
        _ => Some("must be a list of tool objects"),
    });
    field("tool_choice", |v| {
        (!(v.is_string() || v.is_object())).then_some("must be a string or an object")
    });
    field("logit_bias", |v| {
        (!v.is_object()).then_some("must be an object")
    });
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong)
    }
}

fn check_messages(messages: Option<&Value>, wrong: &mut Vec<FieldError>) {
    let messages = match messages {
        None => return wrong.push(error("messages", "is required")),
        Some(Value::Array(messages)) if messages.is_empty() => {
            return wrong.push(error("messages", "needs at least one message"))
        }
        Some(Value::Array(messages)) => messages,
        Some(_) => return wrong.push(error("messages", "must be a list of messages")),
    };
    for (i, message) in messages.iter().enumerate() {
        let at = |field: &str| format!("messages[{i}]{field}");
        let Some(message) = message.as_object() else {
            wrong.push(error(
                &at(""),
                "must be an object with a `role` and a `content`",
            ));
            continue;
        };
        match message.get("role").and_then(Value::as_str) {
            Some(role) if ROLES.contains(&role) => {}
            Some(_) => wrong.push(error(
                &at(".role"),
                "must be system, developer, user, assistant, tool or function",
            )),
            None => wrong.push(error(&at(".role"), "is required and must be a string")),
        }
        check_content(message, &at(".content"), wrong);
    }
}

fn check_content(message: &Map<String, Value>, path: &str, wrong: &mut Vec<FieldError>) {
    match message.get("content") {
        // An assistant message that only calls tools has no content.
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                if !part.get("type").is_some_and(Value::is_string) {
                    wrong.push(error(
                        &format!("{path}[{j}]"),
                        "must be an object with a `type`, e.g. {\"type\": \"text\", \"text\": \"...\"}",
                    ));
                }
            }
        }
        Some(_) => wrong.push(error(path, "must be a string or a list of content parts")),
    }
}

fn error(path: &str, reason: &str) -> FieldError {
    FieldError {
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

fn boolean(value: &Value) -> Option<&'static str> {
    (!value.is_boolean()).then_some("must be true or false")
}

fn positive_integer(value: &Value) -> Option<&'static str> {
    match value.as_u64() {
        Some(n) if n >= 1 => None,
        _ => Some("must be a whole number of at least 1"),
    }
}

fn number_in(value: &Value, low: f64, high: f64, what: &'static str) -> Option<&'static str> {
    match value.as_f64() {
        Some(x) if (low..=high).contains(&x) => None,
        _ => Some(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `check(body, wrong)`: the paths of the wrong fields, in order.
    fn paths(body: Value) -> Vec<String> {
        match super::check(&body) {
            Ok(()) => Vec::new(),
            Err(wrong) => wrong.into_iter().map(|f| f.path).collect(),
        }
    }

    #[test]
    fn good_requests_pass_with_extensions() {
        let body = json!({
            "model": "gpt-4o-mini",
            "messages": [
                { "role": "system", "content": "be brief" },
                { "role": "user", "content": [{ "type": "text", "text": "hi" }] },
                { "role": "assistant", "content": null, "tool_calls": [] },
                { "role": "tool", "content": "42", "tool_call_id": "t1" }
            ],
            "stream": true,
            "stream_options": { "include_usage": true },
            "temperature": 0.2, "top_p": 1, "max_tokens": 100, "n": 1, "seed": -3,
            "stop": ["\n\n"], "response_format": { "type": "json_object" },
            "provider_extension": { "anything": true }
        });
        assert_eq!(paths(body), Vec::<String>::new());
    }

    #[test]
    fn every_wrong_field_is_named() {
        let check = |body: Value, expected: &[&str]| {
            assert_eq!(paths(body.clone()), expected, "{body}");
        };
        check(json!([]), &[""]);
        check(json!({}), &["messages"]);
        check(json!({ "messages": [] }), &["messages"]);
        check(json!({ "messages": "hi" }), &["messages"]);
        check(
            json!({ "messages": [{ "role": "user", "content": "hi" }], "stream": "yes" }),
            &["stream"],
        );
        check(
            json!({
                "messages": [
                    { "role": "user", "content": "ok" },
                    { "role": "wizard", "content": 3 },
                    "text",
                    { "content": [{ "text": "no type" }] }
                ],
                "temperature": "hot",
                "top_p": 1.5,
                "max_tokens": 0,
                "n": 2.5,
                "stop": [1],
                "stream_options": { "include_usage": "yes" },
                "model": 4
            }),
            &[
                "messages[1].role",
                "messages[1].content",
                "messages[2]",
                "messages[3].role",
                "messages[3].content[0]",
                "model",
                "temperature",
                "top_p",
                "max_tokens",
                "n",
                "stop",
                "stream_options",
            ],
        );
    }
}
