use crate::components::{
    query_error, query_value, AuthLayout, ErrorBanner, FieldHint, PasswordInput,
};
use crate::domain::account::EMAIL_MAX_CHARS;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let error = query_error();
    let query = use_query_map();
    let signed_out = move || query.read().get("notice").as_deref() == Some("signed_out");
    view! {
        <AuthLayout title="Sign in">
            <h1>"Sign in"</h1>
            <Show when=signed_out>
                <p class="banner info" role="status" id="signed-out">"You are signed out."</p>
            </Show>
            <ErrorBanner error=error />
            <form method="post" action="/auth/login" class="stack" id="login-form">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required autofocus maxlength=EMAIL_MAX_CHARS.to_string() prop:value=query_value("email") />
                <FieldHint error=error field="email" />

                <label for="password">"Password"</label>
                <PasswordInput id="password" autocomplete="current-password" />
                <FieldHint error=error field="password" />

                <button type="submit" class="primary" id="sign-in">"Sign in"</button>
            </form>
            <p class="muted small">"No account? Ask an admin of your team for an invitation."</p>
        </AuthLayout>
    }
}
