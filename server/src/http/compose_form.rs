//! The environment tab's compose form without JavaScript: `POST /environments/{id}/compose`
//! (`yaml`, `intent=preview|import`) runs the same preview or import as the API and answers
//! with the environment's tab rendered on the server, the file kept in its box and the
//! plan (or every problem by path) under it. With JavaScript the page's buttons call the
//! server function instead and this is never reached.

use super::state::AppState;
use app::api::compose::{answer, PostedCompose};
use app::api::context::{ClientAddr, Viewer};
use app::commands::{compose as command, project, Caller, CommandError};
use axum::{
    body::{Body, Bytes},
    extract::{Path, Request, State},
    http::{Method, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use leptos::prelude::provide_context;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComposeForm {
    yaml: String,
    /// `preview` (the default) or `import`.
    #[serde(default)]
    intent: String,
}

pub async fn post(State(state): State<AppState>, Path(id): Path<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let viewer = parts.extensions.get::<Viewer>().and_then(|v| v.0.clone());
    // A browser form: a signed-in user, never an API token.
    let Some(me) = viewer.filter(|me| me.token.is_none()) else {
        return Redirect::to("/login").into_response();
    };
    let ip = parts.extensions.get::<ClientAddr>().and_then(|a| a.0);
    let caller = Caller::of(&me, ip);
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    let form = match parse(&parts.headers, &body) {
        Some(form) => form,
        None => return (StatusCode::BAD_REQUEST, "A malformed form.").into_response(),
    };
    let Ok(environment) = id.parse() else {
        return (StatusCode::NOT_FOUND, "No such environment.").into_response();
    };
    let deps = state.deps();
    // Another team's environment, or none: 404, as everywhere.
    let Ok(env) = project::environment(deps, &caller, environment).await else {
        return (StatusCode::NOT_FOUND, "No such environment.").into_response();
    };
    let done = if form.intent == "import" {
        command::import(deps, &caller, environment, &form.yaml).await
    } else {
        command::preview(deps, &caller, environment, &form.yaml).await
    };
    let (status, answer) = match answer(done) {
        Ok(a) if a.plan.is_some() => (StatusCode::OK, Ok(a)),
        Ok(a) => (StatusCode::UNPROCESSABLE_ENTITY, Ok(a)),
        Err(e) => (status_of(&e), Err(e.message())),
    };
    let posted = PostedCompose {
        environment,
        yaml: form.yaml,
        answer,
    };
    let tab = format!("/projects/{}?env={environment}", env.project_id);
    let mut page = Request::from_parts(parts, Body::empty());
    *page.method_mut() = Method::GET;
    *page.uri_mut() = tab.parse().expect("a path");
    let context = state.server_context();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(context.clone());
            provide_context(posted.clone());
        },
        app::static_shell,
    );
    let mut res = render(page).await;
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// The status the REST API answers the same refusal with.
fn status_of(e: &CommandError) -> StatusCode {
    match e {
        CommandError::Invalid(_) | CommandError::Taken(_) | CommandError::Unprocessable(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        CommandError::Conflict(_) | CommandError::Stale => StatusCode::CONFLICT,
        CommandError::NotFound => StatusCode::NOT_FOUND,
        CommandError::Forbidden | CommandError::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
        CommandError::Internal(inner) => {
            tracing::error!(error = %inner, "compose form");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Room for the translator's 1 MiB file, urlencoded (each byte up to three).
pub const MAX_FORM: usize = 4 * 1024 * 1024;

fn parse(headers: &axum::http::HeaderMap, body: &Bytes) -> Option<ComposeForm> {
    super::respond::parse_form(headers, body).ok()
}
