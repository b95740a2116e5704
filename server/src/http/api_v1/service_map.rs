//! `GET /api/v1/environments/{id}/map.svg`: an environment's service map, the drawing of
//! its environment tab (`app::commands::service_map`), as an SVG image. Viewers and above;
//! another team's or an unknown environment answers 404.

use super::member::{parse_id, Member};
use super::ApiError;
use crate::http::state::AppState;
use app::commands::service_map;
use app::domain::Permission;
use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/environments/{id}/map.svg", get(environment_map))
}

async fn environment_map(
    State(s): State<AppState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    m.team_for(Permission::ReadServices)?;
    let id = parse_id(&id)?;
    let svg = service_map::environment_map(s.deps(), &m.caller(), id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            // It is live state: always asked again.
            (header::CACHE_CONTROL, "no-store"),
            // Opened on its own, the drawing needs nothing: no script, style or fetch.
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
        ],
        svg,
    )
        .into_response())
}
