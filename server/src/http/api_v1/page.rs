//! Cursor pagination, the same on every list: `?limit=&cursor=` in, the page's items as the
//! body (a plain JSON array, or the audit's object) and, when there is more,
//! `Link: <same path and query, with cursor=…>; rel="next"` out. A cursor is opaque: pass
//! back the one the `Link` holds. `limit` goes from 1 to [`MAX_LIMIT`]; each list has its
//! own default (documented in the OpenAPI document and the README).

use super::ApiError;
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

/// The largest page any list gives.
pub const MAX_LIMIT: usize = 200;

/// `limit` and `cursor` of a list request (other query parameters are the list's own).
pub struct Page<const DEFAULT: usize> {
    pub limit: usize,
    pub cursor: Option<String>,
    /// Every other query pair, kept for the next page's link (the audit's filters).
    pub rest: Vec<(String, String)>,
    path: String,
}

impl<S: Send + Sync, const DEFAULT: usize> FromRequestParts<S> for Page<DEFAULT> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Page::from_uri(&parts.uri)
    }
}

/// `30`, or `30.0` (a whole number written as a float, which JSON Schema calls an integer).
fn whole_number(raw: &str) -> Option<usize> {
    raw.parse().ok().or_else(|| {
        let f: f64 = raw.parse().ok()?;
        (f.fract() == 0.0 && (0.0..1e9).contains(&f)).then_some(f as usize)
    })
}

impl<const DEFAULT: usize> Page<DEFAULT> {
    fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|e| ApiError::BadRequest(format!("Invalid query: {e}")))?;
        let (mut limit, mut cursor, mut rest) = (DEFAULT, None, Vec::new());
        for (k, v) in pairs {
            match k.as_str() {
                "limit" => {
                    limit = whole_number(&v)
                        .ok_or_else(|| ApiError::BadRequest("limit: a whole number.".into()))?;
                    if !(1..=MAX_LIMIT).contains(&limit) {
                        return Err(ApiError::BadInput(format!(
                            "limit goes from 1 to {MAX_LIMIT}."
                        )));
                    }
                }
                // An empty cursor is the first page.
                "cursor" => cursor = (!v.is_empty()).then_some(v),
                _ => rest.push((k, v)),
            }
        }
        Ok(Page {
            limit,
            cursor,
            rest,
            path: uri.path().to_owned(),
        })
    }

    /// The cursor as a number (a key or an offset), `400` when it is not one.
    pub fn cursor_number<N: std::str::FromStr>(&self) -> Result<Option<N>, ApiError> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse().map_err(|_| {
                    ApiError::BadRequest("cursor: pass back the one from Link.".into())
                })
            })
            .transpose()
    }

    /// A page of a list held whole in memory (a team's services, members, tokens…): the
    /// cursor is an offset.
    pub fn of_list<T: Serialize>(&self, items: Vec<T>) -> Result<Response, ApiError> {
        let start: usize = self.cursor_number()?.unwrap_or(0);
        let total = items.len();
        let page: Vec<T> = items.into_iter().skip(start).take(self.limit).collect();
        let end = start + page.len();
        Ok(self.answer(page, (end < total).then(|| end.to_string())))
    }

    /// `items` (fetched with `limit + 1`, so one too many means there is more) as a page
    /// whose next cursor is `key` of its last item; each item is sent as `show(item)`.
    pub fn of_keyed<T, K: ToString, B: Serialize>(
        &self,
        mut items: Vec<T>,
        key: impl Fn(&T) -> K,
        show: impl Fn(T) -> B,
    ) -> Response {
        let more = items.len() > self.limit;
        items.truncate(self.limit);
        let next = if more {
            items.last().map(|t| key(t).to_string())
        } else {
            None
        };
        let body: Vec<B> = items.into_iter().map(show).collect();
        self.answer(body, next)
    }

    /// `body` with a `Link: rel="next"` when `next` is a cursor.
    pub fn answer<T: Serialize>(&self, body: T, next: Option<String>) -> Response {
        let mut response = (StatusCode::OK, Json(body)).into_response();
        if let Some(link) = next.and_then(|c| self.next_link(&c)) {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }

    fn next_link(&self, cursor: &str) -> Option<HeaderValue> {
        let mut pairs = self.rest.clone();
        pairs.push(("limit".into(), self.limit.to_string()));
        pairs.push(("cursor".into(), cursor.to_owned()));
        let query = serde_urlencoded::to_string(&pairs).ok()?;
        HeaderValue::from_str(&format!("<{}?{query}>; rel=\"next\"", self.path)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(uri: &str) -> Page<2> {
        Page::from_uri(&uri.parse().unwrap()).unwrap_or_else(|_| panic!("{uri}"))
    }

    fn link(r: &Response) -> Option<String> {
        r.headers()
            .get(header::LINK)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn a_list_in_memory_pages_by_offset() {
        let p = page("/api/v1/tokens");
        let r = p.of_list(vec![1, 2, 3]).unwrap();
        assert_eq!(
            link(&r).as_deref(),
            Some("</api/v1/tokens?limit=2&cursor=2>; rel=\"next\"")
        );
        let r = page("/api/v1/tokens?limit=2&cursor=2")
            .of_list(vec![1, 2, 3])
            .unwrap();
        assert_eq!(link(&r), None);
    }

    #[test]
    fn a_keyed_list_carries_its_filters_to_the_next_page() {
        let p = page("/api/v1/audit?actor=ada&limit=1");
        let r = p.of_keyed(vec![9, 8], |n| *n, |n| n);
        assert_eq!(
            link(&r).as_deref(),
            Some("</api/v1/audit?actor=ada&limit=1&cursor=9>; rel=\"next\"")
        );
        assert_eq!(
            page("/x?cursor=12").cursor_number::<i64>().unwrap(),
            Some(12)
        );
    }

    #[test]
    fn a_bad_limit_or_cursor_is_refused() {
        let bad = |uri: &str| Page::<2>::from_uri(&uri.parse().unwrap()).is_err();
        assert!(bad("/x?limit=0"));
        assert!(bad("/x?limit=201"));
        assert!(bad("/x?limit=ten"));
        assert!(bad("/x?limit=2.5"));
        assert_eq!(page("/x?limit=2.0&cursor=").limit, 2);
        assert_eq!(page("/x?cursor=").cursor, None);
        assert!(page("/x?cursor=abc").cursor_number::<i64>().is_err());
    }
}
