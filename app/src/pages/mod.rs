//! One module per route.

pub mod admin;
pub mod auth;
pub mod domain;
pub mod home;
pub mod settings;

use crate::state::Workspace;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p><A href="/">"Back to your domains"</A></p>
    }
}

/// Renders `children` once a user is signed in; otherwise a pointer to sign in, or a
/// placeholder while the session is being checked.
#[component]
pub fn SignedIn(children: ChildrenFn) -> impl IntoView {
    let workspace = Workspace::expect();
    // Re-render the children only when who is signed in really changes, not on every write to
    // the session signals (a re-render disposes the page's signals mid-flight).
    let session = Memo::new(move |_| (workspace.checked.get(), workspace.user.get().map(|u| u.id)));
    let location = use_location();
    // Signing in comes back here.
    let next = Memo::new(move |_| {
        let here = format!("{}{}", location.pathname.get(), location.search.get());
        (here != "/").then(|| format!("?next={}", encode_component(&here)))
    });
    move || {
        let (checked, user) = session.get();
        if !checked {
            view! { <p class="muted" data-testid="loading">"Checking your session…"</p> }.into_any()
        } else if user.is_none() {
            view! {
                <div class="card">
                    <h1>"Data Modeller"</h1>
                    <p>"Draft data models with an LLM, review every change, keep working offline."</p>
                    <p>
                        <A href=move || format!("/login{}", next.get().unwrap_or_default())>"Sign in"</A>
                        " or "
                        <A href=move || format!("/register{}", next.get().unwrap_or_default())>"create an account"</A>
                        " to start."
                    </p>
                </div>
            }
            .into_any()
        } else {
            children().into_any()
        }
    }
}

/// Percent-encodes `text` for a query value (RFC 3986: everything but unreserved characters).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where to go after signing in: the `next` the sign-in link carried, if it is a path on this
/// site (`/…`, not `//host` or `/\host`, which browsers read as another site), else home.
pub fn after_sign_in(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control)
                && !path.starts_with("/login")
                && !path.starts_with("/register") =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_in_returns_to_a_page_of_this_site_only() {
        let here = "/domains/0c4f/review/1..2?x=a b&y=ü";
        let encoded = encode_component(here);
        assert_eq!(
            encoded,
            "/domains/0c4f/review/1..2%3Fx%3Da%20b%26y%3D%C3%BC"
        );
        assert_eq!(after_sign_in(Some(here)), here);
        assert_eq!(after_sign_in(Some("/settings")), "/settings");
        for bad in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "",
            "/login?next=/x",
            "/\nx",
        ] {
            assert_eq!(after_sign_in(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(after_sign_in(None), "/");
    }
}
