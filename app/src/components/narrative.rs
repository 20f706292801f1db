//! A draft's narrative, rendered from its Markdown.
//!
//! The Markdown is read by the core (`model::narrative`, in the tools module) into safe
//! blocks, which become elements here, every piece of text a text node: raw HTML shows as
//! text, and links keep only `http`, `https` and `mailto` targets, opened with
//! `rel="noopener noreferrer nofollow"`. Until the blocks arrive (the tools module loads once
//! per page) the narrative shows as written.

use crate::browser::tools;
use leptos::prelude::*;
use model::narrative::{Block, Inline};

#[component]
pub fn Narrative(text: String) -> impl IntoView {
    let blocks = RwSignal::new(None::<Vec<Block>>);
    let source = text.clone();
    Effect::new(move |_| {
        let source = source.clone();
        leptos::task::spawn_local(async move {
            match tools::narrative(source).await {
                Ok(parsed) => {
                    blocks.try_set(Some(parsed));
                }
                // The text as written stays: still readable.
                Err(e) => log::warn!("narrative not rendered: {e}"),
            }
        });
    });
    move || {
        match blocks.get() {
        Some(blocks) => view! {
            <div class="narrative narrative-rendered" data-testid="narrative">{render_blocks(blocks)}</div>
        }
        .into_any(),
        None => view! { <div class="narrative narrative-plain" data-testid="narrative">{text.clone()}</div> }
            .into_any(),
    }
    }
}

fn render_blocks(blocks: Vec<Block>) -> AnyView {
    blocks
        .into_iter()
        .map(render_block)
        .collect_view()
        .into_any()
}

fn render_block(block: Block) -> AnyView {
    match block {
        // The narrative sits under the draft's own headings: its levels start at h4.
        Block::Heading { level, content } => match level {
            1 => view! { <h4>{render_inlines(content)}</h4> }.into_any(),
            2 => view! { <h5>{render_inlines(content)}</h5> }.into_any(),
            _ => view! { <h6>{render_inlines(content)}</h6> }.into_any(),
        },
        Block::Paragraph { content } => view! { <p>{render_inlines(content)}</p> }.into_any(),
        Block::List { start: None, items } => view! {
            <ul>{items.into_iter().map(|item| view! { <li>{render_blocks(item)}</li> }).collect_view()}</ul>
        }
        .into_any(),
        Block::List {
            start: Some(start),
            items,
        } => view! {
            <ol start=start.to_string()>{items.into_iter().map(|item| view! { <li>{render_blocks(item)}</li> }).collect_view()}</ol>
        }
        .into_any(),
        Block::Quote { blocks } => view! { <blockquote>{render_blocks(blocks)}</blockquote> }.into_any(),
        Block::Code { text } => view! { <pre><code>{text}</code></pre> }.into_any(),
        Block::Table { head, rows } => view! {
            <table class="grid">
                <thead><tr>{head.into_iter().map(|c| view! { <th>{render_inlines(c)}</th> }).collect_view()}</tr></thead>
                <tbody>{rows.into_iter().map(|r| view! {
                    <tr>{r.into_iter().map(|c| view! { <td>{render_inlines(c)}</td> }).collect_view()}</tr>
                }).collect_view()}</tbody>
            </table>
        }
        .into_any(),
        Block::Rule => view! { <hr/> }.into_any(),
    }
}

fn render_inlines(content: Vec<Inline>) -> AnyView {
    content
        .into_iter()
        .map(render_inline)
        .collect_view()
        .into_any()
}

fn render_inline(inline: Inline) -> AnyView {
    match inline {
        Inline::Text { text } => text.into_any(),
        Inline::Code { text } => view! { <code>{text}</code> }.into_any(),
        Inline::Emphasis { content } => view! { <em>{render_inlines(content)}</em> }.into_any(),
        Inline::Strong { content } => view! { <strong>{render_inlines(content)}</strong> }.into_any(),
        Inline::Strike { content } => view! { <s>{render_inlines(content)}</s> }.into_any(),
        Inline::Link {
            href: Some(href),
            content,
        } => view! {
            <a href=href rel="noopener noreferrer nofollow" target="_blank">{render_inlines(content)}</a>
        }
        .into_any(),
        Inline::Link {
            href: None,
            content,
        } => view! { <span class="inert-link">{render_inlines(content)}</span> }.into_any(),
        Inline::Break => view! { <br/> }.into_any(),
    }
}
