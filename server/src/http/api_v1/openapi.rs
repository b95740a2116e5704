//! `GET /api/v1/openapi.json`: the REST API described as OpenAPI 3.1. Written as one table
//! (path, method, minimum role, summary, body) rather than derived from annotations: the
//! domain types are shared with the browser bundle, which should not carry schema code.
//! A test checks that every operation listed here is routed and every route is listed.

use axum::{response::IntoResponse, routing::get, Json, Router};
use serde_json::{json, Map, Value};

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(
        "/api/v1/openapi.json",
        get(|| async { Json(document()).into_response() }),
    )
}

/// One operation: method, path, the least role that may call it ("" = anyone signed in,
/// for leaving a team), what it does, and its JSON body schema (a components name).
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub role: &'static str,
    pub summary: &'static str,
    pub body: Option<&'static str>,
}

const fn op(
    method: &'static str,
    path: &'static str,
    role: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
) -> Operation {
    Operation {
        method,
        path,
        role,
        summary,
        body,
    }
}

pub const OPERATIONS: &[Operation] = &[
    op(
        "get",
        "/api/v1/me",
        "viewer",
        "Who is calling: user, team, role (and token).",
        None,
    ),
    op(
        "get",
        "/api/v1/teams",
        "viewer",
        "The caller's teams and role in each.",
        None,
    ),
    op("get", "/api/v1/team", "viewer", "The current team.", None),
    op(
        "patch",
        "/api/v1/team",
        "admin",
        "Rename the team.",
        Some("TeamRename"),
    ),
    op(
        "delete",
        "/api/v1/team",
        "owner",
        "Delete the team (refused while it has services).",
        None,
    ),
    op(
        "post",
        "/api/v1/team/transfer",
        "owner",
        "Make another member owner; the caller becomes admin.",
        Some("Transfer"),
    ),
    op(
        "get",
        "/api/v1/members",
        "viewer",
        "The team's members and roles.",
        None,
    ),
    op(
        "patch",
        "/api/v1/members/{user_id}",
        "admin",
        "Change a member's role (owners: only by owners; never the last owner).",
        Some("RoleChange"),
    ),
    op(
        "delete",
        "/api/v1/members/{user_id}",
        "admin",
        "Remove a member (any member may remove themselves: leave).",
        None,
    ),
    op(
        "get",
        "/api/v1/invitations",
        "admin",
        "Pending invitations.",
        None,
    ),
    op(
        "post",
        "/api/v1/invitations",
        "admin",
        "Invite an email with a role (not above the caller's); the link is in the answer, once.",
        Some("InviteForm"),
    ),
    op(
        "delete",
        "/api/v1/invitations/{id}",
        "admin",
        "Withdraw an invitation.",
        None,
    ),
    op(
        "get",
        "/api/v1/tokens",
        "admin",
        "The team's API tokens (never their values).",
        None,
    ),
    op(
        "post",
        "/api/v1/tokens",
        "admin",
        "Create a token (role not above the caller's); its value is in the answer, once.",
        Some("TokenForm"),
    ),
    op(
        "delete",
        "/api/v1/tokens/{id}",
        "admin",
        "Revoke a token.",
        None,
    ),
    op(
        "get",
        "/api/v1/audit",
        "admin",
        "The audit log, newest first, 50 a page; filters: actor, action, target, from, to, before.",
        None,
    ),
    op(
        "get",
        "/api/v1/services",
        "viewer",
        "The team's services with their status.",
        None,
    ),
    op(
        "post",
        "/api/v1/services",
        "developer",
        "Create a service (and its first deployment or build).",
        Some("ServiceSpec"),
    ),
    op(
        "get",
        "/api/v1/services/{id}",
        "viewer",
        "A service with its containers, URLs and route.",
        None,
    ),
    op(
        "put",
        "/api/v1/services/{id}",
        "developer",
        "Replace a service's definition (rolls out what changed).",
        Some("ServiceSpec"),
    ),
    op(
        "delete",
        "/api/v1/services/{id}",
        "developer",
        "Delete a service (its containers are removed first).",
        None,
    ),
    op(
        "post",
        "/api/v1/services/{id}/scale",
        "developer",
        "Set the replica count.",
        Some("Scale"),
    ),
    op(
        "post",
        "/api/v1/services/{id}/stop",
        "developer",
        "Stop every replica (the count is kept).",
        None,
    ),
    op(
        "post",
        "/api/v1/services/{id}/start",
        "developer",
        "Start a stopped service.",
        None,
    ),
    op(
        "post",
        "/api/v1/services/{id}/redeploy",
        "developer",
        "Replace every container with the same definition.",
        None,
    ),
    op(
        "post",
        "/api/v1/services/{id}/rollback",
        "developer",
        "Roll back to an earlier deployment that went live.",
        Some("Rollback"),
    ),
    op(
        "post",
        "/api/v1/services/{id}/deploy",
        "developer",
        "Build and deploy the head of a git service's branch.",
        None,
    ),
    op(
        "get",
        "/api/v1/services/{id}/webhook",
        "viewer",
        "A git service's webhook URLs and whether it has a secret.",
        None,
    ),
    op(
        "post",
        "/api/v1/services/{id}/webhook/rotate",
        "developer",
        "Generate a new webhook secret (shown once).",
        None,
    ),
    op(
        "get",
        "/api/v1/services/{id}/deployments",
        "viewer",
        "A service's deployments, newest first.",
        None,
    ),
    op(
        "get",
        "/api/v1/deployments/{id}",
        "viewer",
        "A deployment with its log.",
        None,
    ),
    op(
        "get",
        "/api/v1/events",
        "viewer",
        "Server-sent events: which service changed.",
        None,
    ),
    op(
        "get",
        "/api/v1/services/{id}/events",
        "viewer",
        "A service's timeline.",
        None,
    ),
    op(
        "get",
        "/api/v1/services/{id}/metrics",
        "viewer",
        "CPU and memory samples of a service's containers.",
        None,
    ),
    op(
        "get",
        "/api/v1/services/{id}/logs",
        "developer",
        "The last lines containers printed, as a text file.",
        None,
    ),
    op(
        "get",
        "/api/v1/services/{id}/logs/stream",
        "developer",
        "Server-sent events: container output, live.",
        None,
    ),
];

fn schemas() -> Value {
    let text = json!({"type": "string"});
    let role = json!({"type": "string", "enum": ["owner", "admin", "developer", "viewer"]});
    json!({
        "Error": {"type": "object", "required": ["error", "message"], "properties": {
            "error": text, "message": text,
            "fields": {"type": "array", "items": {"type": "object", "properties": {"field": text, "message": text}}}}},
        "TeamRename": {"type": "object", "required": ["name"], "properties": {"name": text}, "additionalProperties": false},
        "Transfer": {"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "string", "format": "uuid"}}, "additionalProperties": false},
        "RoleChange": {"type": "object", "required": ["role"], "properties": {"role": role}, "additionalProperties": false},
        "InviteForm": {"type": "object", "required": ["email", "role"], "properties": {"email": {"type": "string", "format": "email"}, "role": role}, "additionalProperties": false},
        "TokenForm": {"type": "object", "required": ["name", "role"], "properties": {
            "name": text, "role": role, "expires_in_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 3650}}, "additionalProperties": false},
        "Scale": {"type": "object", "required": ["replicas"], "properties": {"replicas": {"type": "integer", "minimum": 0, "maximum": 50}}, "additionalProperties": false},
        "Rollback": {"type": "object", "required": ["deployment"], "properties": {"deployment": {"type": "integer", "minimum": 1}}, "additionalProperties": false},
        "ServiceSpec": {"type": "object", "required": ["name"], "description": "See the README's service definition: name, image or git, env, ports, replicas, limits, health check, http.", "properties": {
            "name": text, "image": text, "git": {"type": "object"}, "env": {"type": "array"}, "ports": {"type": "array"},
            "replicas": {"type": "integer"}, "cpus": {"type": "number"}, "memory_mb": {"type": "integer"},
            "health_check": {"type": "object"}, "http": {"type": "object"}}}
    })
}

fn operation(o: &Operation) -> Value {
    let mut v = json!({
        "summary": o.summary,
        "description": format!("Least role: {}.", o.role),
        "x-berth-min-role": o.role,
        "responses": {
            "200": {"description": "Done (201 when created, 202 when accepted, 204 without a body)."},
            "401": {"description": "No valid session or token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "403": {"description": "The caller's role does not allow this.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "404": {"description": "No such thing in the caller's team.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "422": {"description": "Invalid input; nothing changed.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    });
    let params: Vec<Value> = o
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}))
        .collect();
    if !params.is_empty() {
        v["parameters"] = Value::Array(params);
    }
    if let Some(body) = o.body {
        v["requestBody"] = json!({"required": true, "content": {"application/json": {
            "schema": {"$ref": format!("#/components/schemas/{body}")}}}});
    }
    v
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path).or_insert_with(|| json!({}));
        entry[o.method] = operation(o);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Berth REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every call is scoped to the caller's team; an id of another team answers 404. Authenticate with `Authorization: Bearer berth_…` (an API token) or the dashboard's session cookie."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token from Team → API tokens."},
                "session": {"type": "apiKey", "in": "cookie", "name": "berth_session"}
            },
            "schemas": schemas()
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
            include_str!("services.rs"),
            include_str!("live.rs"),
            include_str!("team.rs"),
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
        }
    }
}
