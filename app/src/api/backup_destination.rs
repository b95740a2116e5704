//! Server functions behind the Team page's "Backup destination (S3)" section: the same
//! commands as the REST API (`commands::backup_destination`), so the same roles and rules.

use crate::domain::backup_destination::{ConnectionTest, DestinationView};
use leptos::prelude::*;

/// The team's destination (`None`: none set) and whether the caller may change it.
#[server(name = BackupDestination, prefix = "/api", endpoint = "backup_destination")]
pub async fn backup_destination() -> Result<(Option<DestinationView>, bool), ServerFnError> {
    use crate::api::services::guard;
    use crate::domain::Permission;
    let (ctx, caller) = guard::reader(Permission::ReadServices)?;
    let d = crate::commands::backup_destination::show(ctx.deps(), &caller)
        .await
        .map_err(guard::fail)?;
    Ok((d, caller.role.allows(Permission::ManageBackups)))
}

/// One form for the section's verbs: `save` (the fields; an empty secret keeps the stored
/// one; `path_style` checked or not), `test`, `delete`. A test answers how it went.
#[allow(clippy::too_many_arguments)]
#[server(name = BackupDestinationAction, prefix = "/api", endpoint = "backup_destination_action")]
pub async fn backup_destination_action(
    action: String,
    endpoint: Option<String>,
    region: Option<String>,
    bucket: Option<String>,
    prefix: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    path_style: Option<String>,
) -> Result<Option<ConnectionTest>, ServerFnError> {
    use crate::api::services::guard;
    use crate::commands::{backup_destination as command, CommandError};
    use crate::domain::backup_destination::DestinationForm;
    let (ctx, caller) = crate::api::context::caller()?;
    let deps = ctx.deps();
    let done = match action.as_str() {
        "save" => {
            let form = DestinationForm {
                endpoint: endpoint.unwrap_or_default(),
                region: region.unwrap_or_default(),
                bucket: bucket.unwrap_or_default(),
                prefix: prefix.unwrap_or_default(),
                access_key_id: access_key_id.unwrap_or_default(),
                secret_access_key,
                path_style: path_style.is_some_and(|v| !v.is_empty() && v != "false"),
            };
            command::save(deps, &caller, form).await.map(|_| None)
        }
        "test" => command::test(deps, &caller).await.map(Some),
        "delete" => command::delete(deps, &caller).await.map(|_| None),
        _ => Err(CommandError::field("action", "Unknown action.")),
    };
    done.map_err(guard::fail)
}
