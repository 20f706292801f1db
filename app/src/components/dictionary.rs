//! The data dictionary of one model: every entity with its attributes, types and keys, then the
//! relationships.

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

#[component]
pub fn Dictionary(model: Model) -> impl IntoView {
    let entities = model.entities.clone();
    let relationships = model.relationships.clone();
    let summary = model.summary.clone();
    // The narrative is Markdown; until it is rendered as such it is shown as written.
    let narrative = model.narrative.trim().to_string();
    view! {
        <div class="dictionary" data-testid="dictionary">
            <p class="summary">{summary}</p>
            {(!narrative.is_empty()).then(|| view! { <div class="narrative">{narrative}</div> })}
            {entities.into_iter().map(|entity| {
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
                    <section class="entity" data-entity=entity.name.clone()>
                        <h3><span class="mono">{entity.name.clone()}</span>
                            {entity.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}
                        </h3>
                        <p class="muted">{entity.description.clone()}</p>
                        <table class="grid">
                            <thead><tr><th>"Attribute"</th><th>"Type"</th><th>"Null"</th><th>"Keys"</th><th>"Default"</th><th>"Description"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </section>
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
