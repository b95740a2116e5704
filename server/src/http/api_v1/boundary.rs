//! What every `/api/v1/` request and answer passes through, whatever its handler:
//! - one rule for text: no control character (U+0000–U+001F, U+007F–U+009F) other than tab,
//!   line feed and carriage return, in the path, the query or any string of a JSON body —
//!   refused with `422 invalid` (Postgres cannot even store a NUL);
//! - a body is JSON: `Content-Type: application/json` (or `…+json`), else `415`;
//! - every error answer is JSON (`ErrorBody`), also those axum writes itself (`405` with
//!   its `Allow`, `413`, a path that does not parse), and an unknown path is a JSON `404`.

use super::error::{code_of, ApiError, ErrorBody};
use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

/// The one rule: a character no field of the API accepts.
pub fn refused_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn refused_text(s: &str) -> bool {
    s.chars().any(refused_char)
}

/// Whether a percent-encoded path or query, decoded, holds a refused character.
fn refused_encoded(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                decoded.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                decoded.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    refused_text(&String::from_utf8_lossy(&decoded))
}

fn refused_json(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => refused_text(s),
        serde_json::Value::Array(items) => items.iter().any(refused_json),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| refused_text(k) || refused_json(v))
        }
        _ => false,
    }
}

fn control_characters() -> ApiError {
    ApiError::BadInput("Control characters (such as NUL) are not accepted.".to_owned())
}

/// JSON (and JSON Schema) count `41.0` as the integer 41; serde would refuse it for an
/// integer field. Every whole number is made an integer before the body is read.
fn whole_numbers_as_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Middleware: the text rule for the path and the query, before any handler runs.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let uri = req.uri();
    if refused_encoded(uri.path()) || uri.query().is_some_and(refused_encoded) {
        return control_characters().into_response();
    }
    next.run(req).await
}

/// A request body, read but not yet parsed: handlers check the caller's role first, then
/// `parse` it. A body over the size limit is a JSON `413` here.
pub struct JsonBody {
    json: bool,
    bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = is_json(req.headers());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::Status(e.status(), e.body_text()))?;
        Ok(JsonBody { json, bytes })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(mime) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl JsonBody {
    /// Whether no body was sent (an optional body may be left out).
    pub fn is_empty(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace)
    }

    /// The body as `T`: `415` when it is not JSON, `400` with serde's message (e.g.
    /// "unknown field `privileged`") when it does not fit `T`, `422` for control characters.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        if !self.json {
            return Err(ApiError::NotJson);
        }
        let mut value: serde_json::Value = serde_json::from_slice(&self.bytes)
            .map_err(|e| ApiError::BadRequest(format!("Invalid JSON body: {e}")))?;
        if refused_json(&value) {
            return Err(control_characters());
        }
        whole_numbers_as_integers(&mut value);
        serde_json::from_value(value)
            .map_err(|e| ApiError::BadRequest(format!("Invalid JSON body: {e}")))
    }
}

/// Middleware: an error answer that is not JSON yet (axum's own `405`, `413`, path
/// rejections) becomes `ErrorBody` with the same status and headers (`Allow` stays).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = ErrorBody {
        error: code_of(status).to_owned(),
        message,
        fields: None,
    };
    let mut out = (status, Json(body)).into_response();
    for (name, value) in parts.headers.iter() {
        out.headers_mut().insert(name.clone(), value.clone());
    }
    out
}

/// The fallback of `/api/v1/{*rest}`: no such endpoint, in JSON.
pub async fn no_such_endpoint() -> ApiError {
    ApiError::Status(
        StatusCode::NOT_FOUND,
        "No such endpoint: see /api/v1/openapi.json.".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_control_characters() {
        assert!(refused_encoded("actor=%00"));
        assert!(refused_encoded("/api/v1/services/%1b"));
        assert!(refused_encoded("a=%C2%85"), "C1 controls too");
        assert!(!refused_encoded("actor=ada%20lovelace&x=%0A"));
        assert!(!refused_encoded("a=%zz%"));
        assert!(refused_json(
            &serde_json::json!({"env": [{"value": "a\u{0}b"}]})
        ));
        assert!(refused_json(&serde_json::json!({"k\u{7}": 1})));
        assert!(!refused_json(
            &serde_json::json!({"value": "line one\nline two\ttabbed\r\n"})
        ));
    }

    #[test]
    fn whole_numbers_are_integers() {
        let mut v = serde_json::json!({"replicas": 3.0, "x": [1.5, -2.0], "n": 7});
        whole_numbers_as_integers(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"replicas": 3, "x": [1.5, -2], "n": 7})
        );
        assert!(v["replicas"].is_u64());
    }

    #[test]
    fn json_is_what_the_content_type_says() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::CONTENT_TYPE, v.parse().unwrap());
            m
        };
        assert!(is_json(&h("application/json")));
        assert!(is_json(&h("Application/JSON; charset=utf-8")));
        assert!(is_json(&h("application/merge-patch+json")));
        assert!(!is_json(&h("text/plain")));
        assert!(!is_json(&h("application/x-www-form-urlencoded")));
        assert!(!is_json(&HeaderMap::new()));
    }
}
