//! The home page: the user's domains and a form to start a new one.

use crate::browser::UiError;
use crate::components::ErrorBanner;
use crate::pages::SignedIn;
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Domains"/>
        <SignedIn>
            <Domains/>
        </SignedIn>
    }
}

#[component]
fn Domains() -> impl IntoView {
    let workspace = Workspace::expect();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<UiError>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, d) = (
            name.get().trim().to_string(),
            description.get().trim().to_string(),
        );
        if n.is_empty() {
            error.try_set(Some(UiError::new("VAL_REQUIRED", "give the domain a name")));
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match workspace.create_domain(n, d).await {
                Ok(domain) => {
                    name.try_set(String::new());
                    description.try_set(String::new());
                    error.try_set(None);
                    navigate(&format!("/domains/{}", domain.id), Default::default());
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <div class="columns">
            <section class="card grow">
                <h1>"Domains"</h1>
                {move || {
                    let domains = workspace.domains.get();
                    if domains.is_empty() {
                        view! { <p class="muted">"No domains yet. Start one on the right."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="domain-list" data-testid="domain-list">
                                {domains.into_iter().map(|d| view! {
                                    <li>
                                        <A href=format!("/domains/{}", d.id)>{d.name.clone()}</A>
                                        <p class="muted">{d.description.clone()}</p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
            </section>
            <section class="card side">
                <h2>"New domain"</h2>
                <form class="form" on:submit=create>
                    <label>"Name" <input name="domain-name" placeholder="billing" bind:value=name/></label>
                    <label>"Description"
                        <textarea name="domain-description" rows="6"
                            placeholder="What the domain covers, who uses the data, rules that matter."
                            bind:value=description></textarea>
                    </label>
                    <ErrorBanner error=error/>
                    <button type="submit" class="primary">"Create domain"</button>
                </form>
            </section>
        </div>
    }
}
