use crate::domain::FormError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The form error named by `?error=<code>` after a redirect; unknown codes are ignored, so a
/// crafted URL cannot put words on the page.
pub fn query_error() -> Memo<Option<FormError>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .read()
            .get("error")
            .and_then(|c| FormError::from_code(&c))
    })
}

/// A field value echoed back after a failed submit (never the password).
pub fn query_value(key: &'static str) -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.read().get(key).unwrap_or_default())
}

/// The error that concerns the whole form (those without a field).
#[component]
pub fn ErrorBanner(error: Memo<Option<FormError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <p class="banner error" role="alert" data-error=e.code()>{e.message()}</p> })
    }
}

/// The error for one field, shown under it.
#[component]
pub fn FieldHint(error: Memo<Option<FormError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().filter(|e| e.field() == Some(field)).map(
            |e| view! { <p class="field-error" role="alert" data-error=e.code()>{e.message()}</p> },
        )
    }
}
