//! `GET /api/v1/openapi.json`: the REST API described as OpenAPI 3.1. The operations are
//! one table (`operations.rs`: path, method, least role, body, answer); every schema is
//! derived from the Rust types the handlers use (`schemas.rs`, utoipa — on the server only:
//! the domain types derive it under the `ssr` feature, so the browser bundle carries none).
//! A unit test checks that every routed path is in the table, a server test the other way.

mod operations;
mod schemas;

use axum::{response::IntoResponse, routing::get, Json, Router};
pub use operations::OPERATIONS;
use operations::{Answer, Extra, Operation};
use serde_json::{json, Map, Value};

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(
        "/api/v1/openapi.json",
        get(|| async { Json(document()).into_response() }),
    )
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema_ref("Error")}}})
}

/// What every `/api/v1/` route answers while the database is unreachable
/// (`http::db_gate`): `database_unavailable`, at once, with `Retry-After`.
fn unavailable() -> Value {
    let mut answer = error(
        "`database_unavailable`: Berth cannot reach its database right now; nothing was \
         done and the same request may be sent again (credentials stay valid).",
    );
    answer["headers"] = json!({"Retry-After": {
        "description": "Seconds to wait before asking again.",
        "required": true,
        "schema": {"type": "integer", "minimum": 0},
    }});
    answer
}

fn header(description: &str, required: bool) -> Value {
    json!({"description": description, "required": required, "schema": {"type": "string"}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// The success answer: its content and headers (`Location`, `Link`, `ETag`).
fn success(o: &Operation) -> Value {
    let mut ok = json!({"description": match o.status {
        201 => "Created; `Location` names the new resource.",
        202 => "Accepted; `Location` names what to watch (the deployment, or the service).",
        204 => "Done.",
        _ => "Done.",
    }});
    let mut headers = Map::new();
    match o.answer {
        Answer::Empty => {}
        Answer::Json(name) => {
            ok["content"] = json!({"application/json": {"schema": schema_ref(name)}});
        }
        Answer::List(name, _) => {
            ok["content"] = json!({"application/json": {"schema": {"type": "array", "items": schema_ref(name)}}});
            headers.insert(
                "Link".into(),
                header(
                    "`<…&cursor=…>; rel=\"next\"` when there is a next page.",
                    false,
                ),
            );
        }
        // A YAML document is a mapping (a compose file), as clients parse it.
        Answer::Text(mime) if mime.ends_with("yaml") => {
            ok["content"] = json!({mime: {"schema": {"type": "object"}}});
        }
        Answer::Text(mime) => {
            ok["content"] = json!({mime: {"schema": {"type": "string"}}});
        }
    }
    if matches!(o.status, 201 | 202) {
        headers.insert(
            "Location".into(),
            header("The path of the created or watched resource.", true),
        );
    }
    if o.extra == Extra::Audit {
        headers.insert(
            "Link".into(),
            header(
                "`<…&cursor=…>; rel=\"next\"` when there is a next page.",
                false,
            ),
        );
    }
    if o.path == "/api/v1/services/{id}" && matches!(o.method, "get" | "put") {
        headers.insert(
            "ETag".into(),
            header("The definition's version, for `If-Match`.", true),
        );
    }
    if !headers.is_empty() {
        ok["headers"] = Value::Object(headers);
    }
    ok
}

/// A path parameter's schema: a uuid, but for the swarm's node ids (25 of `[0-9a-z]`) and
/// node label keys (`domain::node::validate_label_key`'s characters).
fn path_schema(path: &str, name: &str) -> Value {
    match (path.starts_with("/api/v1/nodes/"), name) {
        (true, "id") => json!({"type": "string", "pattern": "^[0-9a-z]{25}$"}),
        (true, "key") => {
            json!({"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[A-Za-z0-9._-]+$"})
        }
        _ => json!({"type": "string", "format": "uuid"}),
    }
}

fn parameters(o: &Operation) -> Vec<Value> {
    let mut params: Vec<Value> = o
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": path_schema(o.path, name)}))
        .collect();
    // Longer filters are not refused: their first 100 characters are used.
    let text = json!({"type": "string"});
    let limit = |default: u32, max: u32| json!({"type": "integer", "minimum": 1, "maximum": max, "default": default});
    let cursor = || {
        query(
            "cursor",
            "From the `Link: rel=\"next\"` of the previous page; opaque.",
            json!({"type": "string", "pattern": "^[0-9]{0,9}$"}),
        )
    };
    if let Answer::List(_, default) = o.answer {
        params.push(query("limit", "Items on this page.", limit(default, 200)));
        params.push(cursor());
    }
    match o.extra {
        Extra::Audit => {
            params.push(query("limit", "Entries on this page.", limit(50, 50)));
            params.push(cursor());
            params.push(query("actor", "Part of the actor's name or email.", text.clone()));
            params.push(query("action", "An action (`service.create`) or a prefix of one.", text.clone()));
            params.push(query("target", "Part of the target's name, or its id.", text.clone()));
            params.push(query("from", "`2026-11-27` or an RFC 3339 time (inclusive).", json!({"type": "string"})));
            params.push(query("to", "`2026-11-27` or an RFC 3339 time (inclusive).", json!({"type": "string"})));
            params.push(query("before", "Entries older than this id (the older name of `cursor`).", json!({"type": "integer", "format": "int64"})));
        }
        Extra::Logs => {
            params.push(query("tail", "The last lines to send first.", json!({"type": "integer", "minimum": 0, "maximum": 10000, "default": 100})));
            params.push(query(
                "replica",
                "One replica's lines only (its index).",
                json!({"type": "integer", "minimum": 0, "maximum": app::domain::service::MAX_REPLICAS - 1}),
            ));
        }
        Extra::IfMatch => params.push(json!({"name": "If-Match", "in": "header", "required": false,
            "description": "The ETag of the GET this change is based on (or `*`); a stale one answers 412.",
            "schema": {"type": "string"}})),
        Extra::DeleteVolumes => params.push(query(
            "volumes",
            "`keep` (the default): the service's volumes and their data stay, and a new service naming one mounts it again. `delete`: after the containers, the volumes no other service of the team uses are removed; their data cannot be recovered.",
            json!({"type": "string", "enum": ["keep", "delete"], "default": "keep"}),
        )),
        Extra::RunOutput => params.push(query(
            "after",
            "Lines the reader has already (the number of the last one): the stream starts after them. Without it, `Last-Event-ID` says so; else from the first line.",
            json!({"type": "integer", "minimum": 0, "default": 0}),
        )),
        Extra::DryRun => params.push(query(
            "dry_run",
            "`true`: answer the plan and store nothing.",
            json!({"type": "boolean", "default": false}),
        )),
        Extra::None => {}
    }
    params
}

fn operation(o: &Operation) -> Value {
    let mut responses = Map::new();
    responses.insert(o.status.to_string(), success(o));
    responses.insert(
        "400".into(),
        error("A body or query that does not parse (unknown field, wrong type)."),
    );
    let mut unauthorized = error("No valid session or token.");
    unauthorized["headers"] =
        json!({"WWW-Authenticate": header("`Bearer realm=\"berth\"`.", true)});
    responses.insert("401".into(), unauthorized);
    responses.insert(
        "403".into(),
        error("The caller's role does not allow this (or a cross-site browser request)."),
    );
    responses.insert("404".into(), error("No such thing in the caller's team."));
    responses.insert(
        "422".into(),
        error("Invalid input (or a control character anywhere in it); nothing changed."),
    );
    // The swarm's reads also answer 409 when the engine is no swarm manager.
    if o.method != "get" || o.path.starts_with("/api/v1/nodes/") {
        responses.insert(
            "409".into(),
            error("Conflicts with the current state (a name taken, a service being deleted, …)."),
        );
    }
    if o.body.is_some() {
        responses.insert("413".into(), error("The body is larger than 2 MB."));
        responses.insert("415".into(), error("The body is not `application/json`."));
    }
    if o.extra == Extra::IfMatch {
        responses.insert(
            "412".into(),
            error("`If-Match` names a version that is no longer current."),
        );
    }
    responses.insert("503".into(), unavailable());
    let mut v = json!({
        "operationId": operation_id(o),
        "summary": o.summary,
        "description": format!("Least role: {}.", o.role),
        "x-berth-min-role": o.role,
        "responses": responses,
    });
    let params = parameters(o);
    if !params.is_empty() {
        v["parameters"] = Value::Array(params);
    }
    if let Some(body) = o.body {
        v["requestBody"] = json!({"required": !o.body_optional, "content": {"application/json": {"schema": schema_ref(body)}}});
    }
    v
}

/// Where an answer's id leads (OpenAPI links, which stateful clients and schemathesis follow):
/// (method, path of the answering operation, JSON pointer to the id, path prefix of the
/// operations that take it as `{id}`).
const LINKS: &[(&str, &str, &str, &str)] = &[
    ("post", "/api/v1/services", "/id", "/api/v1/services/{id}"),
    (
        "post",
        "/api/v1/tokens",
        "/token_info/id",
        "/api/v1/tokens/{id}",
    ),
    (
        "post",
        "/api/v1/invitations",
        "/invitation/id",
        "/api/v1/invitations/{id}",
    ),
    (
        "post",
        "/api/v1/services/{id}/redeploy",
        "/latest_deployment/id",
        "/api/v1/deployments/{id}",
    ),
    (
        "post",
        "/api/v1/services/{id}/deploy",
        "/deployment",
        "/api/v1/deployments/{id}",
    ),
];

fn operation_id(o: &Operation) -> String {
    format!("{}{}", o.method, o.path.replace(['/', '{', '}'], "_"))
}

/// The `links` of `o`'s success answer.
fn links(o: &Operation) -> Option<Value> {
    let (_, _, pointer, prefix) = LINKS.iter().find(|l| l.0 == o.method && l.1 == o.path)?;
    let mut links = Map::new();
    for target in OPERATIONS.iter().filter(|t| t.path.starts_with(prefix)) {
        links.insert(
            operation_id(target),
            json!({"operationId": operation_id(target), "parameters": {"id": format!("$response.body#{pointer}")}}),
        );
    }
    Some(Value::Object(links))
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path).or_insert_with(|| json!({}));
        entry[o.method] = operation(o);
        if let Some(links) = links(o) {
            entry[o.method]["responses"][o.status.to_string()]["links"] = links;
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Berth REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every call is scoped to the caller's team; an id of another team answers 404. Authenticate with `Authorization: Bearer berth_…` (an API token; the scheme name in any case) or the dashboard's session cookie. Every error is JSON (`Error`). Lists take `limit` and `cursor` and send `Link: <…>; rel=\"next\"` while there is more. Bodies are `application/json`. Control characters other than tab, line feed and carriage return are refused (422) in paths, queries and bodies."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token from Team → API tokens."},
                "session": {"type": "apiKey", "in": "cookie", "name": "berth_session"}
            },
            "schemas": schemas::schemas()
        },
        "paths": paths
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `/api/v1/` path the routers declare is in the document (the server test
    /// `every_documented_operation_is_routed` checks the other way round).
    #[test]
    fn every_routed_path_is_documented() {
        let sources = [
            include_str!("../services.rs"),
            include_str!("../deployments.rs"),
            include_str!("../live.rs"),
            include_str!("../team.rs"),
            include_str!("../instance.rs"),
            include_str!("../service_map.rs"),
            include_str!("../nodes.rs"),
        ];
        let mut routed = 0;
        for src in sources {
            for part in src.split(".route(\"").skip(1) {
                let path = &part[..part.find('"').unwrap()];
                routed += 1;
                assert!(
                    OPERATIONS.iter().any(|o| o.path == path),
                    "{path} is routed but not in openapi.json"
                );
            }
        }
        assert!(routed >= 25, "found only {routed} routes");
    }

    #[test]
    fn every_operation_is_described_once() {
        let doc = document();
        let mut seen = std::collections::HashSet::new();
        for o in OPERATIONS {
            assert!(
                seen.insert((o.method, o.path)),
                "{} {} twice",
                o.method,
                o.path
            );
            let op = &doc["paths"][o.path][o.method];
            assert_eq!(op["x-berth-min-role"], o.role);
            if let Some(b) = o.body {
                assert!(doc["components"]["schemas"][b].is_object(), "schema {b}");
            }
            if let Answer::Json(name) | Answer::List(name, _) = o.answer {
                assert!(
                    doc["components"]["schemas"][name].is_object(),
                    "schema {name}"
                );
            }
        }
    }

    /// `db_gate` answers 503 on every `/api/v1/` route while the database is away.
    #[test]
    fn every_operation_documents_the_database_outage() {
        let doc = document();
        for o in OPERATIONS {
            let answer = &doc["paths"][o.path][o.method]["responses"]["503"];
            assert_eq!(
                answer["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{} {}",
                o.method,
                o.path
            );
            assert!(answer["headers"]["Retry-After"].is_object());
        }
    }

    #[test]
    fn every_link_joins_two_documented_operations() {
        for (method, path, _, prefix) in LINKS {
            let source = OPERATIONS
                .iter()
                .find(|o| o.method == *method && o.path == *path)
                .unwrap_or_else(|| panic!("{method} {path}"));
            let links = links(source).unwrap();
            assert!(!links.as_object().unwrap().is_empty(), "{path} → {prefix}");
        }
    }
}
