use crate::pages::{
    AuditLogPage, DashboardPage, EditServicePage, InvitePage, LoginPage, NewServicePage, NodesPage,
    NotFoundPage, NotificationsPage, PlaceholderPage, ProjectPage, ProjectsPage, ServiceDetailPage,
    ServicesPage, SettingsPage, SetupPage, TeamPage, Upcoming,
};
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

/// [`shell`] without the hydration scripts: the answer to a plain form post rendered in
/// place (a compose preview), whose content came from the post, which the browser's code
/// does not have (it would not hydrate to the same page). Its links and forms work as on
/// any page without JavaScript.
pub fn static_shell() -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
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
                <Route path=path!("/projects") view=ProjectsPage ssr=SsrMode::Async />
                <Route path=path!("/nodes") view=NodesPage ssr=SsrMode::Async />
                <Route path=path!("/projects/:id") view=ProjectPage ssr=SsrMode::Async />
                <Route path=path!("/services") view=ServicesPage ssr=SsrMode::Async />
                <Route path=path!("/services/new") view=NewServicePage ssr=SsrMode::Async />
                <Route path=path!("/services/:id") view=ServiceDetailPage ssr=SsrMode::Async />
                <Route path=path!("/services/:id/edit") view=EditServicePage ssr=SsrMode::Async />
                <Route path=path!("/deployments") view=|| view! { <PlaceholderPage page=Upcoming::Deployments /> } ssr=SsrMode::Async />
                <Route path=path!("/team") view=TeamPage ssr=SsrMode::Async />
                <Route path=path!("/audit") view=AuditLogPage ssr=SsrMode::Async />
                <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::Async />
                <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
