//! Provider settings: the OpenAI-compatible endpoints the user drafts with. Keys go to the
//! server's vault once and come back only masked.

use crate::browser::{api, UiError};
use crate::components::ErrorBanner;
use crate::pages::SignedIn;
use crate::wire::{ProviderInfo, ProviderInput};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Providers"/>
        <SignedIn>
            <Providers/>
        </SignedIn>
    }
}

#[component]
fn Providers() -> impl IntoView {
    let providers = RwSignal::new(Vec::<ProviderInfo>::new());
    let error = RwSignal::new(None::<UiError>);
    let name = RwSignal::new(String::new());
    let base_url = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let api_key = RwSignal::new(String::new());
    let busy = RwSignal::new(false);

    let reload = move || {
        spawn_local(async move {
            match api::providers().await {
                Ok(list) => {
                    providers.try_set(list);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    Effect::new(move |_| reload());

    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ProviderInput {
            name: name.get(),
            kind: crate::wire::ProviderKind::Compatible,
            base_url: base_url.get(),
            model: model.get(),
            api_key: api_key.get(),
        };
        busy.try_set(true);
        spawn_local(async move {
            let result = api::add_provider(&input).await;
            busy.try_set(false);
            match result {
                Ok(_) => {
                    error.try_set(None);
                    for field in [name, base_url, model, api_key] {
                        field.try_set(String::new());
                    }
                    reload();
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let remove = move |id| {
        spawn_local(async move {
            match api::delete_provider(id).await {
                Ok(()) => reload(),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };

    view! {
        <div class="columns">
            <section class="card grow">
                <h1>"LLM providers"</h1>
                <p class="muted">"Any OpenAI-compatible endpoint: OpenAI, OpenRouter, a local Ollama, vLLM or llama.cpp server. Keys are encrypted on the server and never sent back."</p>
                <table class="grid" data-testid="providers">
                    <thead><tr><th>"Name"</th><th>"Base URL"</th><th>"Model"</th><th>"Key"</th><th></th></tr></thead>
                    <tbody>
                        {move || providers.get().into_iter().map(|p| {
                            let id = p.id;
                            view! {
                                <tr>
                                    <td>{p.name}</td>
                                    <td class="mono">{p.base_url}</td>
                                    <td class="mono">{p.model}</td>
                                    <td class="mono" data-testid="key-masked">{p.key_masked}</td>
                                    <td><button class="link danger" on:click=move |_| remove(id)>"Delete"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                {move || providers.get().is_empty().then(|| view! { <p class="muted">"No provider yet: add one to generate drafts."</p> })}
            </section>
            <section class="card side">
                <h2>"Add a provider"</h2>
                <form class="form" on:submit=add>
                    <label>"Name" <input name="provider-name" placeholder="openai" required bind:value=name/></label>
                    <label>"Base URL" <input name="provider-base-url" type="url" placeholder="https://api.openai.com/v1" required bind:value=base_url/></label>
                    <label>"Model" <input name="provider-model" placeholder="gpt-4o-mini" required bind:value=model/></label>
                    <label>"API key" <input name="provider-api-key" type="password" autocomplete="off" bind:value=api_key/></label>
                    <ErrorBanner error=error/>
                    <button type="submit" class="primary" disabled=move || busy.get()>"Save provider"</button>
                </form>
            </section>
        </div>
    }
}
