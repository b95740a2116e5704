use crate::components::{
    query_error, query_value, AuthLayout, ErrorBanner, FieldHint, PasswordInput,
};
use crate::domain::account::{EMAIL_MAX_CHARS, NAME_MAX_CHARS, TEAM_NAME_MAX_CHARS};
use leptos::prelude::*;

/// First run: the only page Berth shows until an owner exists.
#[component]
pub fn SetupPage() -> impl IntoView {
    let error = query_error();
    view! {
        <AuthLayout title="Welcome">
            <h1>"Welcome to Berth"</h1>
            <p class="lead">"Create the owner account and your first team. This page is shown once: after this, people join by invitation."</p>
            <ErrorBanner error=error />
            <form method="post" action="/auth/setup" class="stack" id="setup-form">
                <label for="name">"Your name"</label>
                <input id="name" name="name" autocomplete="name" required maxlength=NAME_MAX_CHARS.to_string() prop:value=query_value("name") />
                <FieldHint error=error field="name" />

                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required maxlength=EMAIL_MAX_CHARS.to_string() prop:value=query_value("email") />
                <FieldHint error=error field="email" />

                <label for="password">"Password"</label>
                <PasswordInput id="password" autocomplete="new-password" new_password=true />
                <FieldHint error=error field="password" />

                <label for="team_name">"Team name"</label>
                <input id="team_name" name="team_name" required maxlength=TEAM_NAME_MAX_CHARS.to_string() placeholder="Acme Platform" prop:value=query_value("team_name") />
                <FieldHint error=error field="team_name" />

                <button type="submit" class="primary" id="create-owner">"Create owner account"</button>
            </form>
        </AuthLayout>
    }
}
