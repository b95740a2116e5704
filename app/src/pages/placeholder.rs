use crate::components::AppLayout;
use leptos::prelude::*;

/// Pages whose feature is not built yet; each says what it will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upcoming {
    Deployments,
}

impl Upcoming {
    /// Title, what the page is for, and when it comes.
    fn text(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Upcoming::Deployments => (
                "Deployments",
                "Every change becomes a deployment with its trigger, its log and its outcome; failed rollouts roll back by themselves.",
                "Each service's page lists its deployments with commit, trigger, logs and outcome; a team-wide list is not built yet.",
            ),
        }
    }
}

#[component]
pub fn PlaceholderPage(page: Upcoming) -> impl IntoView {
    let (title, lead, coming) = page.text();
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
