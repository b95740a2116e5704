//! Leptos pages and server functions, and the guard that decides who sees which page.

use super::state::AppState;
use app::api::context::Viewer;
use axum::{
    body::Body,
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::atomic::Ordering;

/// Every page the app declares, rendered with the server context, behind the guard.
pub fn router(state: AppState) -> Router<AppState> {
    let routes = generate_route_list(app::App);
    let context = state.server_context();
    let options = state.leptos_options.clone();
    Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context.clone()),
            move || app::shell(options.clone()),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, guard))
}

pub async fn server_fn(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let context = state.server_context();
    leptos_axum::handle_server_fns_with_context(move || provide_context(context.clone()), req).await
}

/// Before first run only /setup exists; after it /setup is gone for good. Signed-out
/// visitors see /login (and invitation links); signed-in ones are sent past it.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let set_up = match is_set_up(&state).await {
        Ok(v) => v,
        Err(err) => {
            tracing::error!("checking first run: {err:#}");
            return (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "Database unavailable",
            )
                .into_response();
        }
    };
    let signed_in = req
        .extensions()
        .get::<Viewer>()
        .is_some_and(|v| v.0.is_some());
    let target = match (set_up, signed_in, path) {
        (false, _, "/setup") => None,
        (false, _, _) => Some("/setup"),
        (true, true, "/setup" | "/login") => Some("/"),
        (true, false, "/setup") => Some("/login"),
        (true, false, "/login") => None,
        // An invitation link is for someone who may not have an account yet.
        (true, _, p) if p.starts_with("/invite/") => None,
        (true, false, _) => Some("/login"),
        (true, true, _) => None,
    };
    match target {
        Some(to) => Redirect::to(to).into_response(),
        None => next.run(req).await,
    }
}

async fn is_set_up(state: &AppState) -> Result<bool, app::store::StoreError> {
    if state.set_up.load(Ordering::Relaxed) {
        return Ok(true);
    }
    let set_up = app::store::accounts::is_set_up(&state.pool).await?;
    if set_up {
        state.set_up.store(true, Ordering::Relaxed);
    }
    Ok(set_up)
}
