//! Cross-site request refusal for every unsafe method (forms, server functions, API).
//!
//! Browsers mark every request with `Sec-Fetch-Site` (and unsafe ones with `Origin`), and
//! pages cannot forge either. A request that carries neither comes from a program, not a
//! browser a victim is using, and CSRF does not apply to it.

use super::state::AppState;
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

pub async fn reject_cross_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if is_safe(req.method()) || same_site(req.headers(), state.settings.public_origin.as_deref()) {
        return next.run(req).await;
    }
    tracing::warn!(
        method = %req.method(),
        path = %req.uri().path(),
        origin = ?req.headers().get(header::ORIGIN),
        "refused a cross-site request"
    );
    let message = app::domain::FormError::CrossSite.message();
    if req.uri().path().starts_with("/api/v1/") {
        // The REST API answers every error in JSON, this one too.
        let body = serde_json::json!({"error": "forbidden", "message": message});
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    (StatusCode::FORBIDDEN, message).into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn same_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none": the person started it (address bar, bookmark); never from another page.
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if public_origin == Some(origin) {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        == Some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn decides_by_fetch_metadata_then_origin() {
        assert!(same_site(&h(&[("sec-fetch-site", "same-origin")]), None));
        assert!(!same_site(
            &h(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://a:1"),
                ("host", "a:1")
            ]),
            None
        ));
        assert!(!same_site(&h(&[("sec-fetch-site", "same-site")]), None));
        assert!(same_site(
            &h(&[("origin", "http://a:1"), ("host", "a:1")]),
            None
        ));
        assert!(!same_site(
            &h(&[("origin", "http://evil.example"), ("host", "a:1")]),
            None
        ));
        assert!(!same_site(&h(&[("origin", "null"), ("host", "a:1")]), None));
        assert!(same_site(
            &h(&[
                ("origin", "https://berth.example"),
                ("host", "10.0.0.2:3000")
            ]),
            Some("https://berth.example")
        ));
        assert!(
            same_site(&h(&[("host", "a:1")]), None),
            "no browser headers: a program, not a browser"
        );
    }
}
