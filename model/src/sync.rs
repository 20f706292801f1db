//! The sync protocol (DESIGN §6): what a browser pushes and pulls, and the rules both sides
//! apply, in pure Rust so that the server, the browser and the tests share one definition.
//!
//! - Each browser is a *client* with a `client_id`; every local change is a [`Mutation`] with
//!   an increasing `mutation_id` (1, 2, 3…), written in the same IndexedDB transaction as the
//!   change itself.
//! - Push sends pending mutations in order, in batches ([`batches`]) that fit the server's body
//!   limit whatever the size of a model: a mutation larger than [`PART_BYTES`] travels as parts.
//!   The server applies a batch in one transaction, skips ids it has applied, refuses a gap, and
//!   gives every record it changes the next value of the user's *version*.
//! - A mutation the server can never apply (an invalid model, an id taken by someone else) is
//!   *rejected*: its id counts as applied, and the push answer says why, so one bad change
//!   never stalls the ones after it; the browser keeps its local copy and shows the refusal.
//! - Pull takes the client's last version and returns what changed since (deleted drafts as
//!   tombstones, domains in the trash with `deleted_at`) and the last mutation id applied for
//!   that client. The browser drops acknowledged mutations and re-applies the rest on top of
//!   what the server sent ([`rebase_domain`]). Device clocks order nothing.
//! - Domain fields are last-writer-wins in server order; a value replaced by an edit that had
//!   not seen it is kept in the domain's [`Overwritten`] list, where the user can restore it.
//!   Drafts are immutable: the same id with other content is refused.

use crate::diagram::Positions;
use crate::wire::{DomainRecord, DraftRecord, ExportRecord, Note};
use crate::Conventions;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How many overwritten values a domain keeps (the oldest go first).
pub const OVERWRITTEN_KEPT: usize = 20;
/// A mutation whose JSON is longer than this travels in parts of at most this many bytes.
pub const PART_BYTES: usize = 256 * 1024;
/// A push batch holds mutations up to about this many bytes of JSON (one larger mutation or
/// part goes alone). With parts of [`PART_BYTES`] escaped at worst six times, every batch stays
/// under the server's 2 MiB body limit.
pub const BATCH_BYTES: usize = 1024 * 1024;
/// The most parts one mutation may have (a 1 GiB model).
pub const MAX_PARTS: u32 = 4096;
/// Longest domain name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest domain description, in characters.
pub const DESCRIPTION_MAX: usize = 20_000;

/// Which field of a domain an edit sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainField {
    Name,
    Description,
    Conventions,
}

/// One field of a domain with its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum DomainEdit {
    Name(String),
    Description(String),
    Conventions(Conventions),
}

impl DomainEdit {
    /// The field this value is for.
    pub fn field(&self) -> DomainField {
        match self {
            DomainEdit::Name(_) => DomainField::Name,
            DomainEdit::Description(_) => DomainField::Description,
            DomainEdit::Conventions(_) => DomainField::Conventions,
        }
    }

    /// The current value of `field` in `domain`.
    pub fn read(domain: &DomainRecord, field: DomainField) -> DomainEdit {
        match field {
            DomainField::Name => DomainEdit::Name(domain.name.clone()),
            DomainField::Description => DomainEdit::Description(domain.description.clone()),
            DomainField::Conventions => DomainEdit::Conventions(domain.conventions.clone()),
        }
    }

    /// Writes this value into `domain`.
    pub fn write(&self, domain: &mut DomainRecord) {
        match self {
            DomainEdit::Name(name) => domain.name = name.clone(),
            DomainEdit::Description(text) => domain.description = text.clone(),
            DomainEdit::Conventions(conventions) => domain.conventions = conventions.clone(),
        }
    }

    /// Refuses a value no domain may hold.
    pub fn check(&self) -> Result<(), Refusal> {
        match self {
            DomainEdit::Name(name) => check_name(name),
            DomainEdit::Conventions(c)
                if c.guidance.chars().count() > crate::validate::GUIDANCE_MAX =>
            {
                Err(Refusal::new(
                    "VAL_DOMAIN",
                    format!(
                        "a domain's modelling guidance holds at most {} characters",
                        crate::validate::GUIDANCE_MAX
                    ),
                ))
            }
            DomainEdit::Description(text) if text.chars().count() > DESCRIPTION_MAX => {
                Err(Refusal::new(
                    "VAL_DOMAIN",
                    format!("a domain description holds at most {DESCRIPTION_MAX} characters"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// A short human label of the field ("name", "description", "conventions").
    pub fn label(&self) -> &'static str {
        match self.field() {
            DomainField::Name => "name",
            DomainField::Description => "description",
            DomainField::Conventions => "conventions",
        }
    }
}

/// The most export records a domain keeps; older ones go.
pub const EXPORTS_KEPT: usize = 500;

/// The most change notes a domain keeps, resolved ones included.
pub const NOTES_MAX: usize = 2_000;
/// The longest change note, in characters.
pub const NOTE_MAX: usize = 4_000;

fn check_note(note: &Note) -> Result<(), Refusal> {
    if note.text.trim().is_empty() {
        return Err(Refusal::new("VAL_NOTE", "a change note needs some text"));
    }
    if note.text.chars().count() > NOTE_MAX {
        return Err(Refusal::new(
            "VAL_NOTE",
            format!("a change note holds at most {NOTE_MAX} characters"),
        ));
    }
    Ok(())
}

/// The most entity positions a domain keeps.
pub const POSITIONS_MAX: usize = 20_000;
/// How far from the origin a box may be placed, in diagram pixels.
pub const COORDINATE_MAX: f64 = 10_000_000.0;

fn check_positions(positions: &Positions) -> Result<(), Refusal> {
    if positions.0.len() > POSITIONS_MAX {
        return Err(Refusal::new(
            "VAL_POSITIONS",
            format!("a domain keeps at most {POSITIONS_MAX} diagram positions"),
        ));
    }
    for (name, at) in &positions.0 {
        if name.is_empty() || name.chars().count() > NAME_MAX {
            return Err(Refusal::new(
                "VAL_POSITIONS",
                "a diagram position names no entity, or a name too long",
            ));
        }
        if !(at.x.is_finite() && at.y.is_finite())
            || at.x.abs() > COORDINATE_MAX
            || at.y.abs() > COORDINATE_MAX
        {
            return Err(Refusal::new(
                "VAL_POSITIONS",
                format!("the diagram position of `{name}` is not a point on the canvas"),
            ));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), Refusal> {
    if name.trim().is_empty() {
        return Err(Refusal::new("VAL_DOMAIN", "a domain needs a name"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(Refusal::new(
            "VAL_DOMAIN",
            format!("a domain name holds at most {NAME_MAX} characters"),
        ));
    }
    Ok(())
}

/// A value that an edit from another device replaced without having seen it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overwritten {
    /// The user's version at which it was replaced: unique among the user's records.
    pub id: u64,
    /// The value that was replaced.
    pub value: DomainEdit,
    /// The value that replaced it.
    pub replaced_by: DomainEdit,
    /// When the server replaced it (server clock, for display).
    pub at: i64,
}

/// One local change, as a browser records it and pushes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mutation {
    /// A new domain. Pushed for a domain the server already has (an outbox entry of the first
    /// sync version), it sets the fields that differ.
    CreateDomain { domain: DomainRecord },
    /// Sets one field; `was` is the value the device showed when the user edited it.
    EditDomain {
        domain_id: Uuid,
        set: DomainEdit,
        was: DomainEdit,
        at: i64,
    },
    /// Moves a domain (and so its drafts) to the trash.
    DeleteDomain { domain_id: Uuid, at: i64 },
    /// Takes a domain out of the trash.
    RestoreDomain { domain_id: Uuid, at: i64 },
    /// Forgets an overwritten value (restored or not wanted).
    DismissOverwritten { domain_id: Uuid, id: u64 },
    /// Places entities of the domain's diagram: `set` gives boxes their top-left corners by
    /// entity name (dragged by hand, or where a layout put them); with `reset`, every position
    /// kept before is forgotten first ("arrange again"). Positions are not edits of the
    /// domain's text: the last placement of an entity wins, with no conflict kept.
    PlaceEntities {
        domain_id: Uuid,
        set: Positions,
        #[serde(default)]
        reset: bool,
    },
    /// Adds a change note, or replaces the one with its id (edited, resolved, reopened); the
    /// last write of a note wins.
    PutNote { domain_id: Uuid, note: Note },
    /// Records an export made of one of the domain's drafts (the oldest records go past
    /// [`EXPORTS_KEPT`]).
    RecordExport {
        domain_id: Uuid,
        record: ExportRecord,
    },
    /// A new immutable draft.
    CreateDraft { draft: Box<DraftRecord> },
    /// Deletes a draft for good (a tombstone syncs).
    DeleteDraft { domain_id: Uuid, draft_id: Uuid },
}

/// The record a mutation changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Domain(Uuid),
    Draft { domain_id: Uuid, draft_id: Uuid },
}

impl Mutation {
    /// The record this mutation changes.
    pub fn target(&self) -> Target {
        match self {
            Mutation::CreateDomain { domain } => Target::Domain(domain.id),
            Mutation::EditDomain { domain_id, .. }
            | Mutation::DeleteDomain { domain_id, .. }
            | Mutation::RestoreDomain { domain_id, .. }
            | Mutation::DismissOverwritten { domain_id, .. }
            | Mutation::PlaceEntities { domain_id, .. }
            | Mutation::PutNote { domain_id, .. }
            | Mutation::RecordExport { domain_id, .. } => Target::Domain(*domain_id),
            Mutation::CreateDraft { draft } => Target::Draft {
                domain_id: draft.domain_id,
                draft_id: draft.id,
            },
            Mutation::DeleteDraft {
                domain_id,
                draft_id,
            } => Target::Draft {
                domain_id: *domain_id,
                draft_id: *draft_id,
            },
        }
    }

    /// The domain this mutation belongs to.
    pub fn domain_id(&self) -> Uuid {
        match self.target() {
            Target::Domain(id) | Target::Draft { domain_id: id, .. } => id,
        }
    }
}

/// Why a mutation cannot be applied: a code and a sentence for the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Refusal {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// How [`apply_domain`] treats a concurrent edit.
#[derive(Clone, Copy, Debug)]
pub enum Conflicts {
    /// The server: a replaced value the edit had not seen is kept as [`Overwritten`] with
    /// this id and time.
    Keep { id: u64, now: i64 },
    /// A browser re-applying its pending mutations: the server decides what was overwritten.
    Ignore,
}

/// Applies a domain mutation to the domain's current state (`None`: not there), returning the
/// new state. Draft mutations leave the domain as it is.
pub fn apply_domain(
    current: Option<&DomainRecord>,
    mutation: &Mutation,
    conflicts: Conflicts,
) -> Result<DomainRecord, Refusal> {
    let unknown = |id: &Uuid| {
        Refusal::new(
            "SYNC_UNKNOWN_DOMAIN",
            format!("domain {id} is not there: it was never synced, or belongs to someone else"),
        )
    };
    match mutation {
        Mutation::CreateDomain { domain } => {
            for field in [
                DomainField::Name,
                DomainField::Description,
                DomainField::Conventions,
            ] {
                DomainEdit::read(domain, field).check()?;
            }
            Ok(match current {
                None => {
                    check_positions(&domain.positions)?;
                    DomainRecord {
                        overwritten: Vec::new(),
                        ..domain.clone()
                    }
                }
                Some(stored) => DomainRecord {
                    name: domain.name.clone(),
                    description: domain.description.clone(),
                    conventions: domain.conventions.clone(),
                    updated_at: domain.updated_at,
                    ..stored.clone()
                },
            })
        }
        Mutation::EditDomain {
            domain_id,
            set,
            was,
            at,
        } => {
            let stored = current.ok_or_else(|| unknown(domain_id))?;
            if set.field() != was.field() {
                return Err(Refusal::new(
                    "VAL_DOMAIN",
                    "an edit's value and the value it replaces name different fields",
                ));
            }
            set.check()?;
            let mut next = stored.clone();
            let before = DomainEdit::read(stored, set.field());
            if let Conflicts::Keep { id, now } = conflicts {
                if before != *was && before != *set {
                    next.overwritten.push(Overwritten {
                        id,
                        value: before,
                        replaced_by: set.clone(),
                        at: now,
                    });
                    let extra = next.overwritten.len().saturating_sub(OVERWRITTEN_KEPT);
                    next.overwritten.drain(..extra);
                }
            }
            set.write(&mut next);
            next.updated_at = *at;
            Ok(next)
        }
        Mutation::DeleteDomain { domain_id, at } => {
            let mut next = current.ok_or_else(|| unknown(domain_id))?.clone();
            next.deleted_at.get_or_insert(*at);
            Ok(next)
        }
        Mutation::RestoreDomain { domain_id, .. } => {
            let mut next = current.ok_or_else(|| unknown(domain_id))?.clone();
            next.deleted_at = None;
            Ok(next)
        }
        Mutation::DismissOverwritten { domain_id, id } => {
            let mut next = current.ok_or_else(|| unknown(domain_id))?.clone();
            next.overwritten.retain(|o| o.id != *id);
            Ok(next)
        }
        Mutation::PlaceEntities {
            domain_id,
            set,
            reset,
        } => {
            let mut next = current.ok_or_else(|| unknown(domain_id))?.clone();
            if *reset {
                next.positions.0.clear();
            }
            next.positions
                .0
                .extend(set.0.iter().map(|(k, v)| (k.clone(), *v)));
            check_positions(&next.positions)?;
            Ok(next)
        }
        Mutation::PutNote { domain_id, note } => {
            let mut next = current.ok_or_else(|| unknown(domain_id))?.clone();
            check_note(note)?;
            match next.notes.iter_mut().find(|n| n.id == note.id) {
                Some(kept) => *kept = note.clone(),
                None => {
                    if next.notes.len() >= NOTES_MAX {
                        return Err(Refusal::new(
                            "VAL_NOTE",
                            format!("a domain keeps at most {NOTES_MAX} change notes: resolve some first"),
                        ));
                    }
                    next.notes.push(note.clone());
                }
            }
            Ok(next)
        }
        Mutation::RecordExport { domain_id, record } => {
            let mut next = current.ok_or_else(|| unknown(domain_id))?.clone();
            if record.format.trim().is_empty()
                || record.format.chars().count() > 80
                || record.file.chars().count() > 255
            {
                return Err(Refusal::new(
                    "VAL_EXPORT",
                    "an export record names its format (80 characters at most) and file",
                ));
            }
            // A record that is already there (a retried push) is not kept twice.
            if !next.exports.contains(record) {
                next.exports.push(record.clone());
                let extra = next.exports.len().saturating_sub(EXPORTS_KEPT);
                next.exports.drain(..extra);
            }
            Ok(next)
        }
        Mutation::CreateDraft { .. } | Mutation::DeleteDraft { .. } => current
            .cloned()
            .ok_or_else(|| unknown(&mutation.domain_id())),
    }
}

/// What a browser shows for a domain: the server's state with its pending mutations re-applied
/// in order (a pending mutation that no longer applies is passed over; the server will say why).
pub fn rebase_domain<'a>(
    server: Option<&DomainRecord>,
    pending: impl IntoIterator<Item = &'a Mutation>,
) -> Option<DomainRecord> {
    let mut state = server.cloned();
    for mutation in pending {
        if let Target::Domain(_) = mutation.target() {
            if let Ok(next) = apply_domain(state.as_ref(), mutation, Conflicts::Ignore) {
                state = Some(next);
            }
        }
    }
    state
}

/// A piece of a mutation too large for one push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// 0-based.
    pub index: u32,
    pub count: u32,
    /// A slice of the mutation's JSON; the slices in order make it whole.
    pub data: String,
}

/// One mutation as pushed: whole, or one of its parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushedMutation {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutation: Option<Mutation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Part>,
}

/// A push: mutations of one client in increasing id order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncPush {
    pub client_id: Uuid,
    pub mutations: Vec<PushedMutation>,
}

/// A mutation the server will never apply, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub mutation_id: u64,
    pub code: String,
    pub message: String,
}

/// The server's answer to a push.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPushResult {
    /// The last mutation id of this client the server has applied (or rejected).
    pub last_mutation_id: u64,
    /// The user's version after the push.
    pub version: u64,
    /// Mutations of this push refused for good.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejected>,
}

/// What changed since the version a client asked from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncPull {
    /// The version to ask from next time.
    pub version: u64,
    /// More changes are waiting: pull again from `version`.
    #[serde(default)]
    pub more: bool,
    /// The last mutation id of the asking client the server has applied.
    pub last_mutation_id: u64,
    /// Domains created or changed (in the trash: `deleted_at` set).
    pub domains: Vec<DomainRecord>,
    /// Drafts created.
    pub drafts: Vec<DraftRecord>,
    /// Drafts deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_drafts: Vec<Uuid>,
}

/// Splits `text` into slices of at most `max` bytes, on character boundaries.
pub fn split_parts(text: &str, max: usize) -> Vec<String> {
    let max = max.max(4);
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        parts.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    parts
}

/// Cuts pending mutations (in id order) into push batches: a mutation whose JSON is longer
/// than `part_bytes` becomes parts, and each batch holds about `batch_bytes` of JSON at most
/// (a single larger entry goes alone).
pub fn batches(
    pending: &[(u64, Mutation)],
    part_bytes: usize,
    batch_bytes: usize,
) -> Result<Vec<Vec<PushedMutation>>, serde_json::Error> {
    let mut out: Vec<Vec<PushedMutation>> = Vec::new();
    let mut current: Vec<PushedMutation> = Vec::new();
    let mut size = 0;
    let mut add = |entry: PushedMutation, bytes: usize| {
        if !current.is_empty() && size + bytes > batch_bytes {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
        current.push(entry);
        size += bytes;
    };
    for (id, mutation) in pending {
        let json = serde_json::to_string(mutation)?;
        if json.len() <= part_bytes {
            let bytes = json.len() + 32;
            add(
                PushedMutation {
                    id: *id,
                    mutation: Some(mutation.clone()),
                    part: None,
                },
                bytes,
            );
            continue;
        }
        let slices = split_parts(&json, part_bytes);
        let count = slices.len() as u32;
        for (index, data) in slices.into_iter().enumerate() {
            let bytes = serde_json::to_string(&data)?.len() + 64;
            add(
                PushedMutation {
                    id: *id,
                    mutation: None,
                    part: Some(Part {
                        index: index as u32,
                        count,
                        data,
                    }),
                },
                bytes,
            );
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// The label each draft shows: its number, and where two or more drafts share a number (made
/// from the same parent on different devices before they synced), a letter per fork in id
/// order, so that every device labels them alike: 3, 4a, 4b, 5.
pub fn draft_labels<'a>(
    drafts: impl IntoIterator<Item = &'a DraftRecord>,
) -> BTreeMap<Uuid, String> {
    let mut by_number: BTreeMap<u32, Vec<Uuid>> = BTreeMap::new();
    for draft in drafts {
        by_number.entry(draft.number).or_default().push(draft.id);
    }
    let mut labels = BTreeMap::new();
    for (number, mut ids) in by_number {
        if ids.len() == 1 {
            labels.insert(ids[0], number.to_string());
            continue;
        }
        ids.sort();
        for (i, id) in ids.into_iter().enumerate() {
            labels.insert(id, format!("{number}{}", fork_letter(i)));
        }
    }
    labels
}

/// a, b, … z, aa, ab, …
fn fork_letter(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::Provenance;
    use crate::Model;

    fn domain(name: &str) -> DomainRecord {
        DomainRecord {
            id: Uuid::from_u128(1),
            name: name.into(),
            description: "d".into(),
            conventions: Conventions::default(),
            created_at: 1,
            updated_at: 1,
            deleted_at: None,
            overwritten: vec![],
            positions: Default::default(),
            notes: vec![],
            exports: vec![],
        }
    }

    fn place(entries: &[(&str, f64, f64)], reset: bool) -> Mutation {
        let mut set = Positions::default();
        for (name, x, y) in entries {
            set.set(name, crate::diagram::Point { x: *x, y: *y });
        }
        Mutation::PlaceEntities {
            domain_id: Uuid::from_u128(1),
            set,
            reset,
        }
    }

    #[test]
    fn placing_entities_merges_resets_and_refuses_what_is_no_point() {
        let d = domain("a");
        let one = apply_domain(
            Some(&d),
            &place(&[("book", 10.0, 20.0), ("loan", 0.0, 0.0)], false),
            Conflicts::Ignore,
        )
        .unwrap();
        assert_eq!(one.positions.0.len(), 2);
        // A later placement of one entity keeps the others.
        let two = apply_domain(
            Some(&one),
            &place(&[("book", 50.0, 60.0)], false),
            Conflicts::Ignore,
        )
        .unwrap();
        assert_eq!(
            two.positions.get("book"),
            Some(crate::diagram::Point { x: 50.0, y: 60.0 })
        );
        assert_eq!(
            two.positions.get("loan"),
            Some(crate::diagram::Point { x: 0.0, y: 0.0 })
        );
        // "Arrange again" forgets the rest.
        let three = apply_domain(
            Some(&two),
            &place(&[("member", 1.0, 2.0)], true),
            Conflicts::Ignore,
        )
        .unwrap();
        assert_eq!(three.positions.0.keys().collect::<Vec<_>>(), ["member"]);
        // Through JSON, as the server receives it.
        let json = serde_json::to_string(&place(&[("book", 1.5, -2.0)], false)).unwrap();
        assert!(json.contains(r#""kind":"place_entities""#), "{json}");
        assert_eq!(
            serde_json::from_str::<Mutation>(&json).unwrap(),
            place(&[("book", 1.5, -2.0)], false)
        );
        for bad in [
            place(&[("book", f64::NAN, 0.0)], false),
            place(&[("book", 0.0, f64::INFINITY)], false),
            place(&[("book", 2.0e7, 0.0)], false),
            place(&[("", 0.0, 0.0)], false),
        ] {
            let refused = apply_domain(Some(&d), &bad, Conflicts::Ignore).unwrap_err();
            assert_eq!(refused.code, "VAL_POSITIONS");
        }
        // Unknown domain.
        assert_eq!(
            apply_domain(None, &place(&[], false), Conflicts::Ignore)
                .unwrap_err()
                .code,
            "SYNC_UNKNOWN_DOMAIN"
        );
        // A record without positions reads as before (no field), and keeps none in JSON.
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains("positions"), "{json}");
    }

    #[test]
    fn notes_are_added_replaced_and_checked() {
        let d = domain("a");
        let note = |n: u128, text: &str| Note {
            id: Uuid::from_u128(n),
            text: text.into(),
            draft_id: None,
            created_at: 1,
            resolved_at: None,
            resolved_by: None,
            kind: String::new(),
        };
        let put = |note: Note| Mutation::PutNote {
            domain_id: Uuid::from_u128(1),
            note,
        };
        let one = apply_domain(
            Some(&d),
            &put(note(7, "loans need a due date")),
            Conflicts::Ignore,
        )
        .unwrap();
        let two = apply_domain(
            Some(&one),
            &put(note(8, "members have emails")),
            Conflicts::Ignore,
        )
        .unwrap();
        assert_eq!(two.notes.len(), 2);
        // The same id replaces: edited, then resolved.
        let mut resolved = note(7, "loans need a due date (and a return date)");
        resolved.resolved_at = Some(9);
        let three = apply_domain(Some(&two), &put(resolved.clone()), Conflicts::Ignore).unwrap();
        assert_eq!(three.notes.len(), 2);
        assert_eq!(three.notes[0], resolved);
        assert!(!three.notes[0].is_open() && three.notes[1].is_open());
        assert_eq!(note(7, "x").cite_id(), "n00000000");
        assert_eq!(
            Note {
                id: Uuid::parse_str("1a2b3c4d-0000-0000-0000-000000000000").unwrap(),
                ..note(0, "x")
            }
            .cite_id(),
            "n1a2b3c4d"
        );
        for bad in ["", "   ", &"x".repeat(NOTE_MAX + 1)] {
            let refused =
                apply_domain(Some(&d), &put(note(9, bad)), Conflicts::Ignore).unwrap_err();
            assert_eq!(refused.code, "VAL_NOTE");
        }
        let json = serde_json::to_string(&put(note(7, "t"))).unwrap();
        assert!(json.contains(r#""kind":"put_note""#), "{json}");
    }

    #[test]
    fn export_records_are_kept_once_and_bounded() {
        let record = |n: i64| ExportRecord {
            draft_id: Uuid::from_u128(5),
            format: "SQL DDL · PostgreSQL".into(),
            file: "draft-1.sql".into(),
            at: n,
            bytes: 1234,
            made_on: None,
        };
        let put = |r: ExportRecord| Mutation::RecordExport {
            domain_id: Uuid::from_u128(1),
            record: r,
        };
        let mut d = domain("a");
        for n in 0..(EXPORTS_KEPT as i64 + 3) {
            d = apply_domain(Some(&d), &put(record(n)), Conflicts::Ignore).unwrap();
        }
        assert_eq!(d.exports.len(), EXPORTS_KEPT);
        assert_eq!(d.exports[0].at, 3, "the oldest go first");
        // The same record again (a retried push) is kept once.
        let again = apply_domain(
            Some(&d),
            &put(record(EXPORTS_KEPT as i64 + 2)),
            Conflicts::Ignore,
        )
        .unwrap();
        assert_eq!(again.exports, d.exports);
        let refused = apply_domain(
            Some(&d),
            &put(ExportRecord {
                format: " ".into(),
                ..record(1)
            }),
            Conflicts::Ignore,
        )
        .unwrap_err();
        assert_eq!(refused.code, "VAL_EXPORT");
    }

    fn edit(set: &str, was: &str) -> Mutation {
        Mutation::EditDomain {
            domain_id: Uuid::from_u128(1),
            set: DomainEdit::Name(set.into()),
            was: DomainEdit::Name(was.into()),
            at: 5,
        }
    }

    #[test]
    fn an_unseen_value_is_kept_when_overwritten() {
        let keep = Conflicts::Keep { id: 7, now: 9 };
        // Seen (was == stored): a plain edit.
        let next = apply_domain(Some(&domain("a")), &edit("b", "a"), keep).unwrap();
        assert_eq!((next.name.as_str(), next.overwritten.len()), ("b", 0));
        // Not seen: "c" replaces "a" that the device had not shown; "a" is kept.
        let next = apply_domain(Some(&domain("a")), &edit("c", "x"), keep).unwrap();
        assert_eq!(next.name, "c");
        assert_eq!(
            next.overwritten,
            [Overwritten {
                id: 7,
                value: DomainEdit::Name("a".into()),
                replaced_by: DomainEdit::Name("c".into()),
                at: 9,
            }]
        );
        // The same value twice is no conflict.
        let next = apply_domain(Some(&domain("c")), &edit("c", "x"), keep).unwrap();
        assert!(next.overwritten.is_empty());
        // The browser's replay records nothing.
        let next = apply_domain(Some(&domain("a")), &edit("c", "x"), Conflicts::Ignore).unwrap();
        assert!(next.overwritten.is_empty());
    }

    #[test]
    fn the_overwritten_list_is_bounded() {
        let mut state = domain("v0");
        for i in 1..=30u64 {
            state = apply_domain(
                Some(&state),
                &edit(&format!("v{i}"), "stale"),
                Conflicts::Keep { id: i, now: 0 },
            )
            .unwrap();
        }
        assert_eq!(state.overwritten.len(), OVERWRITTEN_KEPT);
        assert_eq!(state.overwritten[0].id, 11);
        assert_eq!(state.overwritten.last().map(|o| o.id), Some(30));
    }

    #[test]
    fn bad_edits_are_refused_with_a_code() {
        let keep = Conflicts::Keep { id: 1, now: 0 };
        let blank = apply_domain(Some(&domain("a")), &edit("  ", "a"), keep).unwrap_err();
        assert_eq!(blank.code, "VAL_DOMAIN");
        let mixed = Mutation::EditDomain {
            domain_id: Uuid::from_u128(1),
            set: DomainEdit::Name("b".into()),
            was: DomainEdit::Description("a".into()),
            at: 0,
        };
        assert_eq!(
            apply_domain(Some(&domain("a")), &mixed, keep)
                .unwrap_err()
                .code,
            "VAL_DOMAIN"
        );
        assert_eq!(
            apply_domain(None, &edit("b", "a"), keep).unwrap_err().code,
            "SYNC_UNKNOWN_DOMAIN"
        );
    }

    #[test]
    fn delete_restore_and_rebase() {
        let d = domain("a");
        let pending = [
            Mutation::DeleteDomain {
                domain_id: d.id,
                at: 3,
            },
            edit("b", "a"),
            Mutation::RestoreDomain {
                domain_id: d.id,
                at: 4,
            },
        ];
        let view = rebase_domain(Some(&d), &pending[..2]).unwrap();
        assert_eq!((view.deleted_at, view.name.as_str()), (Some(3), "b"));
        let view = rebase_domain(Some(&d), &pending).unwrap();
        assert_eq!(view.deleted_at, None);
        // A pending edit of a domain the server does not show yet waits for its creation.
        assert_eq!(rebase_domain(None, &pending), None);
        let created = Mutation::CreateDomain { domain: d.clone() };
        let view = rebase_domain(None, [&created, &pending[1]]).unwrap();
        assert_eq!(view.name, "b");
    }

    fn draft(id: u128, number: u32, bytes: usize) -> DraftRecord {
        let model = Model {
            format_version: 1,
            summary: String::new(),
            narrative: "x".repeat(bytes),
            entities: vec![],
            relationships: vec![],
        };
        DraftRecord {
            id: Uuid::from_u128(id),
            domain_id: Uuid::from_u128(1),
            number,
            parent_id: None,
            created_at: 0,
            provenance: Provenance {
                source: "hand".into(),
                provider: String::new(),
                model: String::new(),
                instruction: String::new(),
                prompt_hash: String::new(),
                usage: None,
                accepted: vec![],
                proposed: 0,
                notes: vec![],
                parameters: Default::default(),
            },
            model,
            made_on: None,
        }
    }

    #[test]
    fn large_mutations_travel_in_parts_that_make_them_whole() {
        let big = Mutation::CreateDraft {
            draft: Box::new(draft(2, 1, 4 * PART_BYTES + 17)),
        };
        let small = Mutation::DeleteDomain {
            domain_id: Uuid::from_u128(1),
            at: 0,
        };
        let pending = vec![(1, small.clone()), (2, big.clone()), (3, small.clone())];
        let pushes = batches(&pending, PART_BYTES, BATCH_BYTES).unwrap();
        let all: Vec<&PushedMutation> = pushes.iter().flatten().collect();
        assert_eq!(all.first().map(|m| m.id), Some(1));
        let parts: Vec<&Part> = all.iter().filter_map(|m| m.part.as_ref()).collect();
        assert_eq!(parts.len(), 5);
        assert!(parts
            .iter()
            .all(|p| p.count == 5 && p.data.len() <= PART_BYTES));
        let whole: String = parts.iter().map(|p| p.data.as_str()).collect();
        assert_eq!(serde_json::from_str::<Mutation>(&whole).unwrap(), big);
        assert_eq!(all.last().map(|m| m.id), Some(3));
        for push in &pushes {
            let bytes = serde_json::to_string(push).unwrap().len();
            assert!(bytes < 2 * 1024 * 1024, "a push of {bytes} bytes");
        }
        assert!(pushes.len() >= 2);
    }

    #[test]
    fn parts_split_on_character_boundaries() {
        let text = "é".repeat(1000) + "ab";
        let parts = split_parts(&text, 7);
        assert!(parts.iter().all(|p| p.len() <= 7 && !p.is_empty()));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn forks_get_letters_the_same_everywhere() {
        let drafts = [
            draft(9, 2, 0),
            draft(3, 1, 0),
            draft(5, 2, 0),
            draft(6, 3, 0),
        ];
        let labels = draft_labels(&drafts);
        let label = |id: u128| labels[&Uuid::from_u128(id)].clone();
        assert_eq!(
            (label(3), label(5), label(9), label(6)),
            ("1".into(), "2a".into(), "2b".into(), "3".into())
        );
        assert_eq!(fork_letter(0), "a");
        assert_eq!(fork_letter(25), "z");
        assert_eq!(fork_letter(26), "aa");
        assert_eq!(fork_letter(27), "ab");
    }
}
