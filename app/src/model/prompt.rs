//! Prompt assembly: the chat messages that ask an LLM for the next draft (DESIGN §4).
//!
//! The prompt is built in the browser from the domain's description, the latest draft (as compact
//! JSON) and the user's instruction. The same inputs give the same messages byte for byte, and
//! [`prompt_hash`] fingerprints them for the draft's provenance.

use super::types::Model;
use crate::wire::ChatMessage;
use sha2::{Digest, Sha256};

/// What goes into a drafting prompt.
#[derive(Clone, Debug)]
pub struct PromptInput<'a> {
    pub domain_name: &'a str,
    pub domain_description: &'a str,
    /// The latest draft of the domain, if there is one.
    pub latest: Option<&'a Model>,
    /// What the user asks for this time; may be empty for a first draft.
    pub instruction: &'a str,
}

const SYSTEM: &str = "You are an expert data modeller. You design relational data models and \
answer with one JSON object and nothing else.

The JSON object has this shape:
{\"summary\": string (one paragraph),
 \"narrative\": string (Markdown: design decisions, open questions),
 \"entities\": [{\"name\": snake_case string, \"description\": string,
   \"attributes\": [{\"name\": snake_case string, \"type\": logical type, \"nullable\": boolean,
     \"default\": optional string, \"description\": string, \"tags\": optional [string]}],
   \"primary_key\": [attribute name], \"unique\": optional [[attribute name]],
   \"indexes\": optional [{\"name\": string, \"attributes\": [attribute name], \"unique\": boolean}],
   \"tags\": optional [string]}],
 \"relationships\": [{\"name\": string, \"from_entity\": string, \"from_attributes\": [string],
   \"to_entity\": string, \"to_attributes\": [string], \"cardinality\": \"1:1\" | \"N:1\" | \"N:M\",
   \"on_delete\": \"no_action\" | \"restrict\" | \"cascade\" | \"set_null\"}]}

Logical types: string(n), text, integer, bigint, decimal(p,s), float, boolean, date, time,
timestamp, timestamptz, uuid, json, bytes, enum(a,b,c).
Every entity has a primary key. Tag personal data with \"PII\".";

/// Builds the chat messages for one drafting request.
pub fn build_messages(input: &PromptInput<'_>) -> Vec<ChatMessage> {
    let mut user = String::new();
    user.push_str("## Domain\n");
    user.push_str(input.domain_name.trim());
    user.push_str("\n\n## Description\n");
    user.push_str(input.domain_description.trim());
    user.push_str("\n\n");
    match input.latest {
        Some(model) => {
            user.push_str("## Current model (latest draft)\n");
            // Compact JSON: the serialization order is fixed, so this is deterministic.
            user.push_str(&serde_json::to_string(model).unwrap_or_default());
            user.push_str(
                "\n\n## Task\nReturn the complete revised model as one JSON object, keeping \
                 everything that the instructions do not ask to change.\n",
            );
        }
        None => user.push_str("## Task\nDraft the first data model for this domain.\n"),
    }
    let instruction = input.instruction.trim();
    if !instruction.is_empty() {
        user.push_str("\n## Instructions\n");
        user.push_str(instruction);
        user.push('\n');
    }
    vec![ChatMessage::system(SYSTEM), ChatMessage::user(user)]
}

/// Hex SHA-256 of the messages, role and content, as sent.
pub fn prompt_hash(messages: &[ChatMessage]) -> String {
    let mut hasher = Sha256::new();
    for message in messages {
        hasher.update(message.role.as_bytes());
        hasher.update([0]);
        hasher.update(message.content.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::types::tests::sample;

    #[test]
    fn first_draft_prompt() {
        let messages = build_messages(&PromptInput {
            domain_name: "library",
            domain_description: "  books and loans ",
            latest: None,
            instruction: "",
        });
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].role, "system");
        assert_eq!(
            messages[1].content,
            "## Domain\nlibrary\n\n## Description\nbooks and loans\n\n## Task\nDraft the first data model for this domain.\n"
        );
    }

    #[test]
    fn revision_prompt_carries_the_model_and_is_deterministic() {
        let model = sample();
        let input = PromptInput {
            domain_name: "library",
            domain_description: "books",
            latest: Some(&model),
            instruction: "add an audit log",
        };
        let a = build_messages(&input);
        let b = build_messages(&input);
        assert_eq!(a, b);
        assert_eq!(prompt_hash(&a), prompt_hash(&b));
        assert_eq!(prompt_hash(&a).len(), 64);
        assert!(a[1].content.contains("\"name\":\"loan_member_open\""));
        assert!(a[1]
            .content
            .ends_with("## Instructions\nadd an audit log\n"));
        let other = build_messages(&PromptInput {
            instruction: "add tags",
            ..input
        });
        assert_ne!(prompt_hash(&a), prompt_hash(&other));
    }
}
