use crate::pages::{DashboardPage, LoginPage, NotFoundPage, PlaceholderPage, SetupPage};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: the mark lets tests (and CSS) know
    // that the page is interactive.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    // Every route renders in Async mode: the whole page, resources resolved, in one
    // response. Streaming would leave Suspense fallbacks on screen with JavaScript off.
    view! {
        <Stylesheet id="berth" href="/pkg/berth.css" />
        <Title formatter=|page: String| if page.is_empty() { "Berth".to_owned() } else { format!("{page} · Berth") } />
        <Router>
            <Routes fallback=|| view! { <NotFoundPage /> }>
                <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async />
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                <Route
                    path=path!("/services")
                    ssr=SsrMode::Async
                    view=|| view! {
                        <PlaceholderPage
                            title="Services"
                            lead="Define a service from an image or a git repository — env, ports, replicas, limits and health checks — and Berth deploys, scales and heals it."
                            coming="Service definitions and the deploy worker are the next milestone."
                        />
                    }
                />
                <Route
                    path=path!("/deployments")
                    ssr=SsrMode::Async
                    view=|| view! {
                        <PlaceholderPage
                            title="Deployments"
                            lead="Every change becomes a deployment with its trigger, its log and its outcome; failed rollouts roll back by themselves."
                            coming="Deployment history arrives with the deploy worker and push-to-deploy."
                        />
                    }
                />
                <Route
                    path=path!("/team")
                    ssr=SsrMode::Async
                    view=|| view! {
                        <PlaceholderPage
                            title="Team"
                            lead="Members, roles (owner, admin, developer, viewer), invitations, API tokens and the audit log."
                            coming="The admin console is on the roadmap right after services."
                        />
                    }
                />
                <Route
                    path=path!("/settings")
                    ssr=SsrMode::Async
                    view=|| view! {
                        <PlaceholderPage
                            title="Settings"
                            lead="Your password and your open sessions."
                            coming="Changing your password and ending other sessions come with the admin console."
                        />
                    }
                />
            </Routes>
        </Router>
    }
}
