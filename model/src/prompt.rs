//! Prompt assembly: the chat messages that ask an LLM for the next draft (DESIGN §4).
//!
//! The prompt has *sections*: the domain and its description, the domain's conventions, the
//! latest draft in a compact text rendering, the change notes written since that draft, the
//! user's instruction, and the chosen prompt template. The first draft of a domain is asked for
//! as a whole model; later drafts as a *change set* (see [`super::ops`]).
//!
//! A *token budget* bounds the prompt. Tokens are estimated as one per four bytes, which is
//! deterministic and errs on the generous side for English and JSON. When the prompt is over
//! budget it is shrunk in fixed steps, each of which keeps whole structures (an entity, a note)
//! and never cuts one mid-way: first attribute descriptions go, then entity descriptions and the
//! narrative, then entities the notes and instruction do not mention are summarised to their key,
//! then they are listed by name only, and last the oldest notes are left out. The same inputs
//! give the same prompt byte for byte, and [`prompt_hash`] fingerprints it for provenance.

use super::ops::change_set_schema;
use super::types::{Entity, Model};
use super::validate::{Conventions, NamingConvention};
use crate::wire::ChatMessage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;

/// A human-written remark on a domain or draft, context for the next draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNote {
    /// Short id the LLM cites in a change's `notes`.
    pub id: String,
    pub text: String,
}

/// What goes into a drafting prompt.
#[derive(Clone, Debug)]
pub struct PromptInput<'a> {
    pub domain_name: &'a str,
    pub domain_description: &'a str,
    pub conventions: &'a Conventions,
    /// The latest draft of the domain, if there is one.
    pub latest: Option<&'a Model>,
    /// Change notes written since the latest draft, oldest first.
    pub notes: &'a [ChangeNote],
    /// What the user asks for this time; may be empty.
    pub instruction: &'a str,
    /// The chosen prompt template's guidance, if any.
    pub template: Option<&'a str>,
    /// Upper bound on the prompt's estimated tokens.
    pub budget_tokens: usize,
}

/// The assembled prompt and how it was fitted into the budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    pub messages: Vec<ChatMessage>,
    pub estimated_tokens: usize,
    /// The shrinking steps taken, in order, in words ("attribute descriptions left out").
    pub shrunk: Vec<String>,
    /// True when even the smallest rendering is over budget (it is sent anyway).
    pub over_budget: bool,
}

/// The default budget: room for a large model in an 32k-token context with space to answer.
pub const DEFAULT_BUDGET_TOKENS: usize = 24_000;

/// One part of an assembled prompt, for a preview: the system message, then each `## `
/// section of the user message, with its estimated tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub text: String,
    pub tokens: usize,
}

/// The headings of the user message's sections, as [`build_messages`] writes them.
const SECTION_TITLES: [&str; 8] = [
    "Domain",
    "Description",
    "Conventions",
    "Current model (latest draft)",
    "Change notes since the latest draft",
    "Instructions",
    "Template",
    "Task",
];

/// The sections of `messages` as [`build_messages`] writes them, in order; their tokens add
/// up to the prompt's estimate (up to rounding per section).
pub fn sections(messages: &[ChatMessage]) -> Vec<Section> {
    let mut out = Vec::new();
    for message in messages {
        if message.role != "user" {
            out.push(Section {
                title: format!("{} message", message.role),
                tokens: estimate_tokens(&message.content),
                text: message.content.clone(),
            });
            continue;
        }
        let mut title = String::from("user message");
        let mut text = String::new();
        let flush = |title: &str, text: &str, out: &mut Vec<Section>| {
            if !text.trim().is_empty() {
                out.push(Section {
                    title: title.to_string(),
                    tokens: estimate_tokens(text),
                    text: text.to_string(),
                });
            }
        };
        for line in message.content.split_inclusive('\n') {
            // Only the prompt's own headings start a section: a narrative in the model may
            // have `## ` lines of its own.
            if let Some(heading) = line
                .strip_prefix("## ")
                .filter(|h| SECTION_TITLES.contains(&h.trim()))
            {
                flush(&title, &text, &mut out);
                title = heading.trim().to_string();
                text.clear();
            }
            text.push_str(line);
        }
        flush(&title, &text, &mut out);
    }
    out
}

/// Estimated tokens of a text: one per four bytes, rounded up.
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

const TYPES: &str =
    "Logical types: string(n), text, integer, bigint, decimal(p,s), float, boolean, \
date, time, timestamp, timestamptz, uuid, json, bytes, enum(a,b,c).";

const SYSTEM_FIRST: &str = "You are an expert data modeller. You design relational data models and \
answer with one JSON object and nothing else.

The JSON object has this shape:
{\"summary\": string (one paragraph),
 \"narrative\": string (Markdown: design decisions, open questions),
 \"entities\": [{\"name\": string, \"description\": string,
   \"attributes\": [{\"name\": string, \"type\": logical type, \"nullable\": boolean,
     \"default\": optional string, \"description\": string, \"tags\": optional [string]}],
   \"primary_key\": [attribute name], \"unique\": optional [[attribute name]],
   \"indexes\": optional [{\"name\": string, \"attributes\": [attribute name], \"unique\": boolean}],
   \"tags\": optional [string]}],
 \"relationships\": [{\"name\": string, \"from_entity\": string, \"from_attributes\": [string],
   \"to_entity\": string, \"to_attributes\": [string], \"cardinality\": \"1:1\" | \"N:1\" | \"N:M\",
   \"on_delete\": \"no_action\" | \"restrict\" | \"cascade\" | \"set_null\"}]}
";

const SYSTEM_CHANGES: &str = "You are an expert data modeller. You revise an existing relational \
data model and answer with one JSON object and nothing else: the list of changes to make.

The JSON object has this shape: {\"changes\": [change, ...]}. Each change has \"op\", the fields of
that operation, a \"rationale\" (one sentence: why) and optional \"notes\" (ids of the change notes it
answers). Operations:
- {\"op\": \"add_entity\", \"entity\": {name, description, attributes, primary_key, unique?, indexes?, tags?}}
- {\"op\": \"drop_entity\", \"entity\": name}
- {\"op\": \"rename_entity\", \"from\": name, \"to\": name}
- {\"op\": \"set_entity_description\", \"entity\": name, \"description\": text}
- {\"op\": \"add_attribute\", \"entity\": name, \"attribute\": {name, type, nullable, default?, description, tags?}}
- {\"op\": \"alter_attribute\", \"entity\": name, \"attribute\": name, and any of \"type\", \"nullable\", \"default\" (null removes it), \"description\", \"tags\"}
- {\"op\": \"drop_attribute\", \"entity\": name, \"attribute\": name}
- {\"op\": \"rename_attribute\", \"entity\": name, \"from\": name, \"to\": name}
- {\"op\": \"set_primary_key\", \"entity\": name, \"attributes\": [name]}
- {\"op\": \"add_unique\" | \"drop_unique\", \"entity\": name, \"attributes\": [name]}
- {\"op\": \"add_index\", \"entity\": name, \"index\": {name, attributes, unique}}
- {\"op\": \"drop_index\", \"entity\": name, \"index\": name}
- {\"op\": \"add_relationship\", \"relationship\": {name, from_entity, from_attributes, to_entity, to_attributes, cardinality: \"1:1\" | \"N:1\" | \"N:M\", on_delete: \"no_action\" | \"restrict\" | \"cascade\" | \"set_null\"}}
- {\"op\": \"drop_relationship\", \"from_entity\": name, \"to_entity\": name, \"name\": optional}
- {\"op\": \"set_summary\", \"summary\": text} and {\"op\": \"set_narrative\", \"narrative\": Markdown}
Change only what the instructions and notes ask for; keep everything else. Use a rename, not a drop
and an add, when a thing keeps its data under a new name.
";

/// How much of the latest draft a rendering shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Detail {
    Full,
    NoAttributeDescriptions,
    NoDescriptions,
    /// Entities not mentioned are summarised to their key and attribute count.
    Focused,
    /// Entities not mentioned are listed by name only.
    NamesOnly,
}

const STEPS: [(Detail, &str); 4] = [
    (
        Detail::NoAttributeDescriptions,
        "attribute descriptions left out",
    ),
    (
        Detail::NoDescriptions,
        "entity descriptions and the narrative left out",
    ),
    (
        Detail::Focused,
        "entities the notes and instruction do not mention summarised to their key",
    ),
    (
        Detail::NamesOnly,
        "entities the notes and instruction do not mention listed by name only",
    ),
];

/// Builds the chat messages for one drafting request, within the token budget if it can.
pub fn build_prompt(input: &PromptInput<'_>) -> Prompt {
    let system = system_message(input.latest.is_some());
    let fits = |user: &str| estimate_tokens(&system) + estimate_tokens(user) <= input.budget_tokens;
    let mut shrunk = Vec::new();
    let mut detail = Detail::Full;
    let mut notes_kept = input.notes.len();
    let mut user = user_message(input, detail, notes_kept);
    for (step, words) in STEPS {
        if fits(&user) || input.latest.is_none() {
            break;
        }
        detail = step;
        shrunk.push(words.to_string());
        user = user_message(input, detail, notes_kept);
    }
    // Last resort: leave out the oldest notes, whole, one at a time (the newest stay).
    while !fits(&user) && notes_kept > 0 {
        notes_kept -= 1;
        user = user_message(input, detail, notes_kept);
    }
    if notes_kept < input.notes.len() {
        shrunk.push(format!(
            "{} oldest change notes left out",
            input.notes.len() - notes_kept
        ));
    }
    let estimated_tokens = estimate_tokens(&system) + estimate_tokens(&user);
    Prompt {
        over_budget: estimated_tokens > input.budget_tokens,
        messages: vec![ChatMessage::system(system), ChatMessage::user(user)],
        estimated_tokens,
        shrunk,
    }
}

/// The chat messages of [`build_prompt`], for callers that do not need the budget report.
pub fn build_messages(input: &PromptInput<'_>) -> Vec<ChatMessage> {
    build_prompt(input).messages
}

fn system_message(revision: bool) -> String {
    let mut out = String::from(if revision {
        SYSTEM_CHANGES
    } else {
        SYSTEM_FIRST
    });
    out.push('\n');
    out.push_str(TYPES);
    out.push_str("\nEvery entity has a primary key. Tag personal data with \"PII\".");
    out
}

fn user_message(input: &PromptInput<'_>, detail: Detail, notes_kept: usize) -> String {
    let mut user = String::new();
    user.push_str("## Domain\n");
    user.push_str(input.domain_name.trim());
    let description = input.domain_description.trim();
    if !description.is_empty() {
        user.push_str("\n\n## Description\n");
        user.push_str(description);
    }
    user.push_str("\n\n## Conventions\n");
    user.push_str(match input.conventions.naming {
        NamingConvention::Any => "Names: any readable identifier.",
        NamingConvention::SnakeCase => {
            "Names: lower_snake_case (lower-case letters, digits and underscores, starting with a letter)."
        }
    });
    user.push('\n');
    let guidance = input.conventions.guidance.trim();
    if !guidance.is_empty() {
        user.push_str(guidance);
        user.push('\n');
    }
    // Notes since the latest draft: the oldest are the ones left out under pressure.
    let notes = &input.notes[input.notes.len() - notes_kept..];
    if let Some(model) = input.latest {
        user.push_str("\n## Current model (latest draft)\n");
        // Focus is judged on every note, kept or not, so that leaving notes out does not
        // also change which entities are shown in full.
        let mut haystack = input.instruction.to_ascii_lowercase();
        for n in input.notes {
            haystack.push('\n');
            haystack.push_str(&n.text.to_ascii_lowercase());
        }
        let mentioned = |e: &Entity| haystack.contains(&e.name.to_ascii_lowercase());
        render_model(&mut user, model, detail, &mentioned);
    }
    if !notes.is_empty() || notes_kept < input.notes.len() {
        user.push_str("\n## Change notes since the latest draft\n");
        if notes_kept < input.notes.len() {
            let _ = writeln!(
                user,
                "({} older notes left out to fit the budget)",
                input.notes.len() - notes_kept
            );
        }
        for note in notes {
            let _ = writeln!(user, "- [{}] {}", note.id, note.text.trim());
        }
    }
    let instruction = input.instruction.trim();
    if !instruction.is_empty() {
        user.push_str("\n## Instructions\n");
        user.push_str(instruction);
        user.push('\n');
    }
    if let Some(template) = input.template.map(str::trim).filter(|t| !t.is_empty()) {
        user.push_str("\n## Template\n");
        user.push_str(template);
        user.push('\n');
    }
    user.push_str("\n## Task\n");
    user.push_str(if input.latest.is_some() {
        "Answer with the change set that revises the current model as the notes and instructions ask.\n"
    } else {
        "Draft the first data model for this domain.\n"
    });
    user
}

/// The compact text rendering of a model: one line per attribute, keys and references inline.
fn render_model(
    out: &mut String,
    model: &Model,
    detail: Detail,
    mentioned: &dyn Fn(&Entity) -> bool,
) {
    let summary = model.summary.trim();
    if !summary.is_empty() {
        let _ = writeln!(out, "Summary: {summary}");
    }
    // Where each referencing attribute points, keyed by lower-case entity and attribute.
    let mut targets: HashMap<(String, String), String> = HashMap::new();
    for r in &model.relationships {
        for (from, to) in r.from_attributes.iter().zip(&r.to_attributes) {
            targets
                .entry((
                    r.from_entity.to_ascii_lowercase(),
                    from.to_ascii_lowercase(),
                ))
                .or_insert_with(|| format!("{}.{to}", r.to_entity));
        }
    }
    let fk_target = |entity: &str, attr: &str| {
        targets.get(&(entity.to_ascii_lowercase(), attr.to_ascii_lowercase()))
    };
    let mut names_only = Vec::new();
    for entity in &model.entities {
        let focus = mentioned(entity);
        if detail == Detail::NamesOnly && !focus {
            names_only.push(entity.name.as_str());
            continue;
        }
        let _ = write!(out, "\nentity {}", entity.name);
        if !entity.tags.is_empty() {
            let _ = write!(out, " [{}]", entity.tags.join(", "));
        }
        if detail >= Detail::Focused && !focus {
            let _ = writeln!(
                out,
                ": {} attributes, key ({})",
                entity.attributes.len(),
                entity.primary_key.join(", ")
            );
            continue;
        }
        if detail < Detail::NoDescriptions && !entity.description.trim().is_empty() {
            let _ = write!(out, ": {}", one_line(&entity.description));
        }
        out.push('\n');
        for a in &entity.attributes {
            let _ = write!(out, "  {} {}", a.name, a.data_type);
            if entity.is_key(&a.name) {
                out.push_str(" PK");
            }
            if !a.nullable && !entity.is_key(&a.name) {
                out.push_str(" not null");
            }
            if let Some(d) = &a.default {
                let _ = write!(out, " default {d}");
            }
            if let Some(target) = fk_target(&entity.name, &a.name) {
                let _ = write!(out, " → {target}");
            }
            if !a.tags.is_empty() {
                let _ = write!(out, " [{}]", a.tags.join(", "));
            }
            if detail == Detail::Full && !a.description.trim().is_empty() {
                let _ = write!(out, " -- {}", one_line(&a.description));
            }
            out.push('\n');
        }
        for u in &entity.unique {
            let _ = writeln!(out, "  unique ({})", u.join(", "));
        }
        for i in &entity.indexes {
            let _ = writeln!(
                out,
                "  {}index {} ({})",
                if i.unique { "unique " } else { "" },
                i.name,
                i.attributes.join(", ")
            );
        }
    }
    if !names_only.is_empty() {
        let _ = writeln!(out, "\nother entities: {}", names_only.join(", "));
    }
    // With entities listed by name only, only the relationships of the entities in focus stay.
    let in_focus =
        |name: &str| detail < Detail::NamesOnly || model.entity(name).is_some_and(mentioned);
    let shown: Vec<_> = model
        .relationships
        .iter()
        .filter(|r| in_focus(&r.from_entity) || in_focus(&r.to_entity))
        .collect();
    if !shown.is_empty() || !model.relationships.is_empty() {
        out.push_str("\nrelationships:\n");
        if shown.len() < model.relationships.len() {
            let _ = writeln!(
                out,
                "  ({} relationships between other entities left out)",
                model.relationships.len() - shown.len()
            );
        }
        for r in shown {
            let _ = writeln!(
                out,
                "  {}: {} {} on delete {}",
                r.name,
                r.link(),
                r.cardinality,
                r.on_delete
            );
        }
    }
    let narrative = model.narrative.trim();
    if detail < Detail::NoDescriptions && !narrative.is_empty() {
        let _ = writeln!(out, "\nNarrative:\n{narrative}");
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The response schema to send to providers that accept one, for a revision.
pub fn response_schema() -> serde_json::Value {
    change_set_schema()
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
    use crate::generate::generated_model;
    use crate::types::tests::sample;

    fn input<'a>(
        latest: Option<&'a Model>,
        notes: &'a [ChangeNote],
        budget_tokens: usize,
    ) -> PromptInput<'a> {
        static CONVENTIONS: Conventions = Conventions {
            naming: NamingConvention::SnakeCase,
            guidance: String::new(),
        };
        PromptInput {
            domain_name: "library",
            domain_description: "  books and loans ",
            conventions: &CONVENTIONS,
            latest,
            notes,
            instruction: "add an audit log",
            template: Some("Prefer uuid keys."),
            budget_tokens,
        }
    }

    #[test]
    fn first_draft_prompt() {
        let prompt = build_prompt(&input(None, &[], DEFAULT_BUDGET_TOKENS));
        assert_eq!(prompt.messages.len(), 2);
        assert_eq!(prompt.messages[0].role, "system");
        assert!(prompt.messages[0].content.contains("\"entities\""));
        assert_eq!(
            prompt.messages[1].content,
            "## Domain\nlibrary\n\n## Description\nbooks and loans\n\n## Conventions\nNames: lower_snake_case (lower-case letters, digits and underscores, starting with a letter).\n\n## Instructions\nadd an audit log\n\n## Template\nPrefer uuid keys.\n\n## Task\nDraft the first data model for this domain.\n"
        );
        assert!(prompt.shrunk.is_empty() && !prompt.over_budget);
    }

    #[test]
    fn revision_prompt_renders_the_model_compactly_and_asks_for_changes() {
        let model = sample();
        let notes = [ChangeNote {
            id: "n1".into(),
            text: "members need an email".into(),
        }];
        let prompt = build_prompt(&input(Some(&model), &notes, DEFAULT_BUDGET_TOKENS));
        let system = &prompt.messages[0].content;
        assert!(system.contains("\"rename_attribute\""), "{system}");
        let user = &prompt.messages[1].content;
        assert!(user.contains("\nentity loan"), "{user}");
        assert!(
            user.contains("  book_id uuid not null → book.id -- "),
            "{user}"
        );
        assert!(
            user.contains("  index loan_member_open (member_id, returned_at)\n"),
            "{user}"
        );
        assert!(
            user.contains("## Change notes since the latest draft\n- [n1] members need an email\n")
        );
        assert!(user.ends_with("## Task\nAnswer with the change set that revises the current model as the notes and instructions ask.\n"));
        let again = build_prompt(&input(Some(&model), &notes, DEFAULT_BUDGET_TOKENS));
        assert_eq!(prompt, again);
        assert_eq!(prompt_hash(&prompt.messages).len(), 64);
    }

    #[test]
    fn budget_shrinks_in_whole_steps_and_keeps_what_is_mentioned() {
        let model = generated_model(300, 20, 7);
        let mentioned = model.entities[5].name.clone();
        let notes: Vec<ChangeNote> = (0..3)
            .map(|i| ChangeNote {
                id: format!("n{i}"),
                text: format!("note {i} about {mentioned}"),
            })
            .collect();
        let full = build_prompt(&input(Some(&model), &notes, usize::MAX));
        assert!(full.shrunk.is_empty());
        let mut previous = full.estimated_tokens;
        let mut steps_seen = 0;
        for budget in [
            full.estimated_tokens / 2,
            full.estimated_tokens / 4,
            full.estimated_tokens / 10,
            2_000,
        ] {
            let prompt = build_prompt(&input(Some(&model), &notes, budget));
            assert!(prompt.estimated_tokens <= previous);
            assert!(prompt.shrunk.len() >= steps_seen, "{:?}", prompt.shrunk);
            steps_seen = prompt.shrunk.len();
            previous = prompt.estimated_tokens;
            let user = &prompt.messages[1].content;
            // The entity the notes talk about keeps every attribute line.
            let section = user
                .split("\nentity ")
                .find(|s| {
                    s.starts_with(&format!("{mentioned}\n"))
                        || s.starts_with(&format!("{mentioned}:"))
                        || s.starts_with(&format!("{mentioned} ["))
                })
                .unwrap_or_else(|| panic!("{mentioned} is not rendered in {user}"));
            assert!(section.lines().count() > 20, "{section}");
            // Same input, same bytes.
            assert_eq!(prompt, build_prompt(&input(Some(&model), &notes, budget)));
            if !prompt.over_budget {
                assert!(prompt.estimated_tokens <= budget);
            }
        }
        let tight = build_prompt(&input(Some(&model), &notes, 2_000));
        assert!(
            tight.shrunk.iter().any(|s| s.contains("by name only")),
            "{:?}",
            tight.shrunk
        );
    }

    #[test]
    fn oldest_notes_go_last_and_whole() {
        let model = sample();
        let notes: Vec<ChangeNote> = (0..40)
            .map(|i| ChangeNote {
                id: format!("n{i}"),
                text: format!("note number {i} {}", "detail ".repeat(40)),
            })
            .collect();
        let prompt = build_prompt(&input(Some(&model), &notes, 2_500));
        let user = &prompt.messages[1].content;
        assert!(user.contains("[n39]"), "the newest note stays");
        assert!(!user.contains("[n0]"), "the oldest note goes");
        assert!(user.contains("older notes left out to fit the budget"));
        assert!(prompt
            .shrunk
            .last()
            .is_some_and(|s| s.ends_with("oldest change notes left out")));
    }

    /// Renders a prompt whole (every message with its role, then the estimate and the shrinking
    /// steps), so that a snapshot pins the exact bytes that are hashed for provenance.
    fn rendered(prompt: &Prompt) -> String {
        let mut out = String::new();
        for message in &prompt.messages {
            out.push_str(&format!("=== {} ===\n{}\n", message.role, message.content));
        }
        out.push_str(&format!(
            "=== estimated {} tokens, over budget: {}, shrunk: {:?}, hash {} ===\n",
            prompt.estimated_tokens,
            prompt.over_budget,
            prompt.shrunk,
            prompt_hash(&prompt.messages)
        ));
        out
    }

    #[test]
    fn snapshot_of_a_first_draft_prompt() {
        insta::assert_snapshot!(rendered(&build_prompt(&input(
            None,
            &[],
            DEFAULT_BUDGET_TOKENS
        ))));
    }

    #[test]
    fn snapshot_of_a_revision_prompt_with_notes() {
        let model = sample();
        let notes = [
            ChangeNote {
                id: "n1".into(),
                text: "members need a soft delete".into(),
            },
            ChangeNote {
                id: "n2".into(),
                text: "rename member to patron".into(),
            },
        ];
        insta::assert_snapshot!(rendered(&build_prompt(&input(
            Some(&model),
            &notes,
            DEFAULT_BUDGET_TOKENS
        ))));
    }

    #[test]
    fn snapshot_of_a_shrunk_revision_prompt() {
        let model = generated_model(60, 12, 7);
        insta::assert_snapshot!(rendered(&build_prompt(&input(Some(&model), &[], 3_000))));
    }

    #[test]
    fn guidance_is_sent_and_sections_add_up() {
        let conventions = Conventions {
            naming: NamingConvention::SnakeCase,
            guidance: "Surrogate uuid keys named id; timestamps with time zone.".into(),
        };
        let notes = [ChangeNote {
            id: "n1a2b3c4d".into(),
            text: "loans need a due date".into(),
        }];
        let first = PromptInput {
            conventions: &conventions,
            ..input(None, &notes, DEFAULT_BUDGET_TOKENS)
        };
        let messages = build_messages(&first);
        let user = &messages
            .iter()
            .find(|m| m.role == "user")
            .expect("a user message")
            .content;
        assert!(
            user.contains("Surrogate uuid keys named id; timestamps with time zone."),
            "{user}"
        );
        let parts = sections(&messages);
        let titles: Vec<&str> = parts.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles[0], "system message");
        assert!(
            titles.contains(&"Domain")
                && titles.contains(&"Conventions")
                && titles.contains(&"Task"),
            "{titles:?}"
        );
        // A model whose narrative has headings of its own keeps them inside its section.
        let mut model = sample();
        model.narrative = "## Audit\nEvery change is logged.".into();
        let with_model = sections(&build_messages(&PromptInput {
            conventions: &conventions,
            ..input(Some(&model), &notes, DEFAULT_BUDGET_TOKENS)
        }));
        assert!(
            with_model.iter().all(|s| s.title != "Audit"),
            "{:?}",
            with_model.iter().map(|s| &s.title).collect::<Vec<_>>()
        );
        let conventions_part = parts
            .iter()
            .find(|s| s.title == "Conventions")
            .expect("a conventions section");
        assert!(conventions_part.text.contains("uuid keys"));
        // The sections together are the whole prompt.
        let joined: String = parts.iter().skip(1).map(|s| s.text.as_str()).collect();
        assert_eq!(&joined, user);
        let total: usize = parts.iter().map(|s| s.tokens).sum();
        let whole: usize = messages.iter().map(|m| estimate_tokens(&m.content)).sum();
        assert!(
            total >= whole && total <= whole + parts.len(),
            "{total} vs {whole}"
        );
    }
}
