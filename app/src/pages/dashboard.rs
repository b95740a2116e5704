use crate::components::{AppLayout, SystemStatusCard};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <AppLayout title="Overview">
            <h1>"Overview"</h1>
            <div class="grid">
                <SystemStatusCard />
                <section class="card">
                    <h2>"Getting started"</h2>
                    <ol class="steps">
                        <li>"Berth is running and your owner account exists."</li>
                        <li>"Define a service from an image or a git repository — see " <A href="/services">"Services"</A> "."</li>
                        <li>"Invite your team with a role each — see " <A href="/team">"Team"</A> "."</li>
                    </ol>
                </section>
            </div>
        </AppLayout>
    }
}
