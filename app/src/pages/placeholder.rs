use crate::components::AppLayout;
use leptos::prelude::*;

/// A page whose feature is not built yet: it says what it will do.
#[component]
pub fn PlaceholderPage(
    title: &'static str,
    lead: &'static str,
    coming: &'static str,
) -> impl IntoView {
    view! {
        <AppLayout title=title>
            <h1>{title}</h1>
            <p class="lead">{lead}</p>
            <section class="card soon">
                <h2>"Coming next"</h2>
                <p>{coming}</p>
            </section>
        </AppLayout>
    }
}
