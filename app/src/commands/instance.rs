//! The installation's own settings: read and changed by the instance owner (the account
//! that set Berth up) only, whatever their role in the current team.

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::instance::InstanceSettings;
use crate::store::{audit, settings};
use serde_json::json;

/// Whether the caller (a token: its creator) is the instance owner, the account that set
/// Berth up: the one rule for everything that belongs to the installation, not to a team.
pub(crate) async fn is_owner(deps: Deps<'_>, caller: &Caller) -> Result<bool, CommandError> {
    let owner = settings::instance_owner(deps.pool).await?;
    Ok(owner.is_some() && owner == caller.actor.user_id())
}

/// `Forbidden` unless the caller (a token: its creator) is the instance owner.
async fn must_be_owner(deps: Deps<'_>, caller: &Caller) -> Result<(), CommandError> {
    if is_owner(deps, caller).await? {
        Ok(())
    } else {
        Err(CommandError::ForbiddenBecause(
            "Only the instance owner can see and change the instance settings.".into(),
        ))
    }
}

/// The instance settings, for the instance owner.
pub async fn show(deps: Deps<'_>, caller: &Caller) -> Result<InstanceSettings, CommandError> {
    must_be_owner(deps, caller).await?;
    Ok(InstanceSettings {
        allow_private_targets: settings::allow_private_targets(deps.pool).await?,
    })
}

/// Replaces the instance settings (instance owner only); audited in the caller's team.
pub async fn update(
    deps: Deps<'_>,
    caller: &Caller,
    new: InstanceSettings,
) -> Result<InstanceSettings, CommandError> {
    must_be_owner(deps, caller).await?;
    let before = settings::allow_private_targets(deps.pool).await?;
    if before == new.allow_private_targets {
        return Ok(new);
    }
    let mut tx = deps.pool.begin().await?;
    settings::set_allow_private_targets(&mut tx, new.allow_private_targets).await?;
    audit::record(
        &mut tx,
        &caller.actor,
        "instance.settings",
        audit::Target {
            kind: "instance",
            id: None,
            label: "instance settings",
        },
        json!({"allow_private_targets": {"before": before, "after": new.allow_private_targets}}),
    )
    .await?;
    tx.commit().await?;
    Ok(new)
}
