use crate::components::AppLayout;
use leptos::prelude::*;

/// Pages whose feature is not built yet; each says what it will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upcoming {
    Deployments,
    Team,
    Settings,
}

impl Upcoming {
    /// Title, what the page is for, and when it comes.
    fn text(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Upcoming::Deployments => (
                "Deployments",
                "Every change becomes a deployment with its trigger, its log and its outcome; failed rollouts roll back by themselves.",
                "Each service's page lists its deployments with their logs today; this team-wide history arrives with push-to-deploy.",
            ),
            Upcoming::Team => (
                "Team",
                "Members, roles (owner, admin, developer, viewer), invitations, API tokens and the audit log.",
                "The admin console is on the roadmap right after services.",
            ),
            Upcoming::Settings => (
                "Settings",
                "Your password and your open sessions.",
                "Changing your password and ending other sessions come with the admin console.",
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
