//! The document's `components.schemas`, derived by utoipa from the very types the handlers
//! parse and send (domain types, the API's own answers and bodies), with every type they
//! refer to. Field limits (`maxLength`, `maximum`, …) are the validator's.

use super::super::{answers, backups, deployments, error, notifications, services, team};
use app::domain::backup::{Backup, BackupKind, BackupPlan, BackupPlanView};
use app::domain::backup_destination::{ConnectionTest, DestinationForm, DestinationView};
use app::domain::compose::{ComposeFile, ComposePlan};
use app::domain::instance::InstanceSettings;
use app::domain::jobs::{CommandInput, JobInput, JobRunView, JobView};
use app::domain::node::{AvailabilityBody, JoinCommand, LabelBody, NodeList, NodeView};
use app::domain::notification::{ChannelForm, ChannelView, DeliveryView};
use app::domain::project::{
    EnvironmentCreated, EnvironmentForm, EnvironmentView, ProjectForm, ProjectView,
};
use app::domain::service::{ServiceEvent, ServiceMetrics, ServiceSpec, ServiceView, WebhookInfo};
use app::domain::team::{
    AuditPage, InvitationView, InviteForm, MemberView, MyTeam, NewInvitation, NewToken, TokenForm,
    TokenView,
};
use app::domain::{Role, SessionInfo, TeamSummary};
use serde_json::Value;
use std::collections::HashSet;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(components(schemas(
    error::ErrorBody,
    SessionInfo,
    InstanceSettings,
    MyTeam,
    TeamSummary,
    Role,
    team::Rename,
    team::Transfer,
    team::RoleBody,
    MemberView,
    InvitationView,
    InviteForm,
    NewInvitation,
    TokenView,
    TokenForm,
    NewToken,
    AuditPage,
    ServiceSpec,
    ServiceView,
    services::ScaleBody,
    deployments::RollbackBody,
    answers::Changed,
    answers::Deleting,
    answers::DeployQueued,
    answers::DeploymentWithLog,
    WebhookInfo,
    BackupPlan,
    BackupPlanView,
    DestinationForm,
    DestinationView,
    ConnectionTest,
    Backup,
    BackupKind,
    backups::RunBody,
    ServiceEvent,
    ServiceMetrics,
    ChannelForm,
    ChannelView,
    DeliveryView,
    notifications::TestQueued,
    JobInput,
    JobView,
    JobRunView,
    CommandInput,
    answers::JobRunWithLog,
    ProjectForm,
    ProjectView,
    EnvironmentForm,
    EnvironmentView,
    EnvironmentCreated,
    app::domain::environment_repository::EnvironmentRepository,
    app::commands::variables::SharedVariables,
    app::commands::variables::RedeployedOutdated,
    app::commands::dependencies::RedeployedEnvironment,
    ComposeFile,
    ComposePlan,
    NodeList,
    NodeView,
    JoinCommand,
    AvailabilityBody,
    LabelBody,
)))]
struct Derived;

/// The schemas of request bodies: every text field in them (and in what they refer to)
/// states the boundary's control-character rule as a `pattern`.
const REQUEST_BODIES: &[&str] = &[
    "ServiceSpec",
    "NewService",
    "ProjectForm",
    "EnvironmentForm",
    "EnvironmentRepository",
    "ComposeFile",
    "InstanceSettings",
    "BackupPlan",
    "RunBackup",
    "DestinationForm",
    "TeamRename",
    "Transfer",
    "RoleChange",
    "InviteForm",
    "TokenForm",
    "Scale",
    "Rollback",
    "ChannelForm",
    "JobInput",
    "CommandInput",
    "AvailabilityBody",
    "LabelBody",
];

/// Text without the characters `boundary::refused_char` refuses.
const NO_CONTROL_CHARACTERS: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// `components.schemas` as JSON: name → schema.
pub fn schemas() -> Value {
    let components = Derived::openapi().components.unwrap_or_default();
    let mut schemas = serde_json::to_value(components.schemas).unwrap_or_default();
    schemas["NewService"] = new_service(&schemas["ServiceSpec"]);
    let mut todo: Vec<String> = REQUEST_BODIES.iter().map(|s| s.to_string()).collect();
    let mut done = HashSet::new();
    while let Some(name) = todo.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get_mut(&name) {
            mark_text(schema, &mut todo);
        }
    }
    schemas
}

/// `POST /services`: a `ServiceSpec` with an optional `environment_id` beside its fields
/// (the handler takes it out before the spec, which refuses unknown fields, is read).
fn new_service(spec: &Value) -> Value {
    let mut body = spec.clone();
    body["description"] = Value::from(
        "A service definition (`ServiceSpec`) and the environment it goes into \
         (`environment_id`; absent: the team's `default` project's `production`, made when missing).",
    );
    body["properties"]["environment_id"] = serde_json::json!({
        "type": ["string", "null"],
        "format": "uuid",
        "description": "An environment of the caller's team (another team's: 404).",
    });
    body
}

/// Adds the pattern to every plain string in `v`; names the schemas it refers to.
fn mark_text(v: &mut Value, refs: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    refs.push(name.to_owned());
                }
            }
            let plain_text = map.get("type") == Some(&Value::from("string"))
                && !["pattern", "enum", "format"]
                    .iter()
                    .any(|k| map.contains_key(*k));
            if plain_text {
                map.insert("pattern".into(), Value::from(NO_CONTROL_CHARACTERS));
            }
            map.values_mut().for_each(|v| mark_text(v, refs));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mark_text(v, refs)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_text_states_the_control_character_rule() {
        let s = schemas();
        let key = &s["EnvVar"]["properties"]["key"];
        assert_eq!(key["pattern"], NO_CONTROL_CHARACTERS);
        assert_eq!(
            s["ServiceSpec"]["properties"]["command"]["items"]["pattern"],
            NO_CONTROL_CHARACTERS
        );
        // The name keeps its own (stricter) pattern; answers are left alone.
        assert_ne!(
            s["ServiceSpec"]["properties"]["name"]["pattern"],
            NO_CONTROL_CHARACTERS
        );
        assert!(s["DeploymentLogLine"]["properties"]["line"]
            .get("pattern")
            .is_none());
    }
}
