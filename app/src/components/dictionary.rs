//! The data dictionary of one model: every entity with its attributes, types and keys, then the
//! relationships.

use crate::components::narrative::Narrative;
use leptos::prelude::*;
use model::{Entity, Model};

/// Key markers of an attribute: `PK`, `UQ` and `FK → entity.attribute`.
fn key_markers(model: &Model, entity: &Entity, attribute: &str) -> Vec<String> {
    let mut out = Vec::new();
    if entity.is_key(attribute) {
        out.push("PK".to_string());
    }
    if entity
        .unique
        .iter()
        .any(|u| u.iter().any(|c| c.eq_ignore_ascii_case(attribute)))
    {
        out.push("UQ".to_string());
    }
    for rel in &model.relationships {
        if rel.from_entity.eq_ignore_ascii_case(&entity.name) {
            if let Some(pos) = rel
                .from_attributes
                .iter()
                .position(|a| a.eq_ignore_ascii_case(attribute))
            {
                let target = rel
                    .to_attributes
                    .get(pos)
                    .map(String::as_str)
                    .unwrap_or("?");
                out.push(format!("FK → {}.{}", rel.to_entity, target));
            }
        }
    }
    out
}

/// Whether an entity matches the dictionary's filter: every word of `query` occurs (ignoring
/// case) in its name, its description or one of its attributes' names.
pub fn entity_matches(entity: &Entity, query: &str) -> bool {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return true;
    }
    let mut text = format!("{}\n{}", entity.name, entity.description);
    for attribute in &entity.attributes {
        text.push('\n');
        text.push_str(&attribute.name);
    }
    let text = text.to_lowercase();
    words.iter().all(|w| text.contains(w.as_str()))
}

#[component]
pub fn Dictionary(
    model: Model,
    /// Opens the hand-edit panel for a table; without it the dictionary is read-only.
    #[prop(optional)]
    on_edit: Option<Callback<String>>,
) -> impl IntoView {
    let entities = model.entities.clone();
    let relationships = model.relationships.clone();
    let summary = model.summary.clone();
    let narrative = model.narrative.trim().to_string();
    // The filter and the open/closed state of every entity: a long model (hundreds of tables)
    // is read by searching and folding, not by scrolling.
    let filter = RwSignal::new(String::new());
    let open = RwSignal::new(true);
    let index: Vec<(usize, String)> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e.name.clone()))
        .collect();
    let matching = {
        let entities = entities.clone();
        Memo::new(move |_| {
            filter.with(|q| {
                entities
                    .iter()
                    .map(|e| entity_matches(e, q))
                    .collect::<Vec<bool>>()
            })
        })
    };
    let shown = move |i: usize| matching.with(|m| m.get(i).copied().unwrap_or(true));
    let count = move || matching.with(|m| m.iter().filter(|&&b| b).count());
    let total = entities.len();
    view! {
        <div class="dictionary" data-testid="dictionary">
            <p class="summary">{summary}</p>
            {(!narrative.is_empty()).then(|| view! { <Narrative text=narrative/> })}
            <div class="dictionary-tools row">
                <input type="search" name="entity-filter" placeholder="Find a table or column"
                    aria-label="Find a table or column" data-testid="entity-filter"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))/>
                <span class="muted" data-testid="entity-count">{move || {
                    let n = count();
                    if n == total { format!("{total} entities") } else { format!("{n} of {total} entities") }
                }}</span>
                <button type="button" class="link" on:click=move |_| open.set(true)>"Expand all"</button>
                <button type="button" class="link" on:click=move |_| open.set(false)>"Collapse all"</button>
            </div>
            <nav class="entity-index" aria-label="Entities" data-testid="entity-index">
                {index.into_iter().map(|(i, name)| view! {
                    <a href=format!("#entity-{i}") class="mono" class:hidden=move || !shown(i)>{name}</a>
                }).collect_view()}
            </nav>
            {move || (count() == 0).then(|| view! {
                <p class="muted" data-testid="entity-no-match">{move || format!("No table or column matches “{}”.", filter.get().trim())}</p>
            })}
            {entities.into_iter().enumerate().map(|(i, entity)| {
                let rows = entity.attributes.iter().map(|attr| {
                    let keys = key_markers(&model, &entity, &attr.name);
                    view! {
                        <tr>
                            <td class="mono">{attr.name.clone()}</td>
                            <td class="mono">{attr.data_type.to_string()}</td>
                            <td>{if attr.nullable { "yes" } else { "no" }}</td>
                            <td class="keys">{keys.into_iter().map(|k| view! { <span class="badge">{k}</span> }).collect_view()}</td>
                            <td class="mono">{attr.default.clone().unwrap_or_default()}</td>
                            <td>
                                {attr.description.clone()}
                                {attr.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}
                            </td>
                        </tr>
                    }
                }).collect_view();
                view! {
                    <details class="entity" id=format!("entity-{i}") data-entity=entity.name.clone()
                        prop:open=move || open.get() class:hidden=move || !shown(i)>
                        <summary><h3><span class="mono">{entity.name.clone()}</span>
                            {entity.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}
                            <span class="muted count">{format!("{} attributes", entity.attributes.len())}</span>
                            {on_edit.map(|edit| {
                                let name = entity.name.clone();
                                view! {
                                    <button type="button" class="link edit-entity" data-testid="edit-entity"
                                        on:click=move |ev| { ev.prevent_default(); edit.run(name.clone()); }>"Edit"</button>
                                }
                            })}
                        </h3></summary>
                        <p class="muted">{entity.description.clone()}</p>
                        <table class="grid">
                            <thead><tr><th>"Attribute"</th><th>"Type"</th><th>"Null"</th><th>"Keys"</th><th>"Default"</th><th>"Description"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </details>
                }
            }).collect_view()}
            {(!relationships.is_empty()).then(|| view! {
                <section class="entity">
                    <h3>"Relationships"</h3>
                    <table class="grid">
                        <thead><tr><th>"Name"</th><th>"From"</th><th>"To"</th><th>"Cardinality"</th><th>"On delete"</th></tr></thead>
                        <tbody>
                            {relationships.into_iter().map(|r| view! {
                                <tr>
                                    <td class="mono">{r.name.clone()}</td>
                                    <td class="mono">{format!("{}({})", r.from_entity, r.from_attributes.join(", "))}</td>
                                    <td class="mono">{format!("{}({})", r.to_entity, r.to_attributes.join(", "))}</td>
                                    <td>{r.cardinality.to_string()}</td>
                                    <td>{format!("{:?}", r.on_delete).to_lowercase()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            })}
        </div>
    }
}

#[cfg(test)]
// Tests fail loudly on purpose; `unwrap` is the shortest way to say "this must work".
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_matches_names_descriptions_and_columns() {
        let model: Model =
            serde_json::from_str(include_str!("../../../model/tests/data/library-v1.json"))
                .unwrap();
        let names = |q: &str| {
            model
                .entities
                .iter()
                .filter(|e| entity_matches(e, q))
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("").len(), model.entities.len());
        assert_eq!(names("   ").len(), model.entities.len());
        assert!(names("zzz-nothing").is_empty());
        let first = &model.entities[0];
        assert!(names(&first.name.to_uppercase()).contains(&first.name.as_str()));
        let column = &first.attributes[0].name;
        assert!(names(column).contains(&first.name.as_str()));
        // Every word must occur.
        assert!(names(&format!("{} zzz-nothing", first.name)).is_empty());
    }
}
