use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use leptos::prelude::*;

/// A password field with a show/hide toggle and, for new passwords, a live length hint.
/// Both need the page to be hydrated; without JavaScript it is a plain password field.
#[component]
pub fn PasswordInput(
    #[prop(into)] id: String,
    #[prop(into)] autocomplete: String,
    /// New passwords get the length rules and a live hint.
    #[prop(optional)]
    new_password: bool,
) -> impl IntoView {
    let (visible, set_visible) = signal(false);
    let (chars, set_chars) = signal(0usize);
    let min = if new_password {
        Some(PASSWORD_MIN_CHARS.to_string())
    } else {
        None
    };
    let hint_id = format!("{id}-hint");
    let hint = move || {
        let n = chars.get();
        if n == 0 {
            format!("At least {PASSWORD_MIN_CHARS} characters.")
        } else if n < PASSWORD_MIN_CHARS {
            format!("{n} characters — {} more needed.", PASSWORD_MIN_CHARS - n)
        } else {
            format!("{n} characters — long enough.")
        }
    };
    view! {
        <div class="password-field">
            <input
                id=id.clone()
                name="password"
                type=move || if visible.get() { "text" } else { "password" }
                autocomplete=autocomplete
                required
                minlength=min
                maxlength=PASSWORD_MAX_CHARS.to_string()
                aria-describedby=new_password.then(|| hint_id.clone())
                on:input=move |ev| set_chars.set(event_target_value(&ev).chars().count())
            />
            <button
                type="button"
                class="ghost toggle-password"
                aria-controls=id
                aria-pressed=move || visible.get().to_string()
                on:click=move |_| set_visible.update(|v| *v = !*v)
            >
                {move || if visible.get() { "Hide" } else { "Show" }}
            </button>
        </div>
        {new_password.then(|| view! { <p class="hint" id=hint_id.clone() aria-live="polite">{hint}</p> })}
    }
}
