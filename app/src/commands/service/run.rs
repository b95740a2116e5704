//! Running a service: stop, start, delete, redeploy, roll back.

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::service::{wording, DeploymentState, EventKind, VolumesOnDelete};
use crate::domain::Permission;
use crate::store::change::{new_template, ServiceChange};
use serde_json::json;
use uuid::Uuid;

/// Stops a service: no replicas run; the count is kept for `start`.
pub async fn stop(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<(), CommandError> {
    set_stopped(deps, caller, id, true).await
}

/// Starts a stopped service again.
pub async fn start(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<(), CommandError> {
    set_stopped(deps, caller, id, false).await
}

async fn set_stopped(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    stopped: bool,
) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let mut change = ServiceChange::lock(deps.pool, actor, id).await?;
    change.set_stopped(stopped).await?;
    let who = change.by_whom().await?;
    let (kind, message, action) = if stopped {
        (EventKind::Stop, wording::stopped(&who), "service.stop")
    } else {
        (EventKind::Start, wording::started(&who), "service.start")
    };
    change.event(kind, &message).await?;
    change.audit(action, json!({})).await?;
    change.commit().await?;
    Ok(())
}

/// Marks a service for deletion (refused, 409, while other services of its environment
/// refer to it: they are named); the worker removes its containers, then — when `volumes`
/// says [`VolumesOnDelete::Delete`] — the volumes no other service of the team uses, then
/// the row. Its volumes are kept otherwise (a new service naming one mounts its data).
/// Asking again while it is being deleted changes nothing (the first choice stands) and
/// writes no second audit entry. Returns the choice in force.
pub async fn delete(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    volumes: VolumesOnDelete,
) -> Result<VolumesOnDelete, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let (mut change, deleting) = ServiceChange::lock_even_deleting(deps.pool, actor, id).await?;
    if deleting {
        return Ok(change.volumes_on_delete().await?);
    }
    crate::commands::variables::check_delete(deps, id, &change.stored.name).await?;
    crate::commands::dependencies::check_delete(deps, id, &change.stored.name).await?;
    change.mark_deleting(volumes).await?;
    let names: Vec<String> = change
        .stored
        .volumes
        .iter()
        .map(|v| v.name.clone())
        .collect();
    change
        .audit(
            "service.delete",
            json!({"volumes": volumes.as_str(), "volume_names": names}),
        )
        .await?;
    change.commit().await?;
    Ok(volumes)
}

/// A new deployment of the definition as it is now: every container replaced.
pub async fn redeploy(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<Uuid, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let mut change = ServiceChange::lock(deps.pool, actor, id).await?;
    let spec = change.stored.clone();
    if spec.image.is_empty() {
        return Err(CommandError::field(
            "deployment",
            "Nothing has been built for this service yet: deploy the branch first.",
        ));
    }
    let deployment = change.deploy(&spec, &new_template(), "redeploy").await?;
    let who = change.by_whom().await?;
    change
        .event(EventKind::Deployment, &wording::redeploy_requested(&who))
        .await?;
    change
        .audit(
            "service.redeploy",
            json!({"deployment": deployment, "rollback_to": null, "image": spec.image}),
        )
        .await?;
    change.commit().await?;
    Ok(deployment)
}

/// Rolls back to deployment `number`, one that went live and whose image is still kept:
/// its definition becomes the service's again and is rolled out, with the image it ran
/// (its recorded image id, not what its tag names now).
pub async fn rollback(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    number: i32,
) -> Result<Uuid, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let mut change = ServiceChange::lock(deps.pool, actor, id).await?;
    let Some(earlier) = change.earlier(number).await? else {
        return Err(CommandError::field(
            "deployment",
            format!("There is no deployment #{number}."),
        ));
    };
    if earlier.state != Some(DeploymentState::Succeeded) {
        return Err(CommandError::field(
            "deployment",
            format!(
                "Deployment #{number} never went live; only one that did can be rolled back to."
            ),
        ));
    }
    if earlier.image_removed {
        return Err(CommandError::field(
            "deployment",
            format!("The image of deployment #{number} was removed by image retention; it can't be rolled back to."),
        ));
    }
    let spec = earlier.spec;
    // Held to the replica rule of writable volumes again: a definition recorded under
    // other rules (by an older Berth) must not bring back replicas sharing one data.
    let mut broken = Vec::new();
    spec.check_replicas_with_volumes(&mut broken);
    if let Some(rule) = broken.pop() {
        return Err(CommandError::field(
            "deployment",
            format!(
                "Deployment #{number} can't be rolled back to: {}",
                rule.message
            ),
        ));
    }
    change.store_spec(&spec).await?;
    let deployment = change.deploy(&spec, &new_template(), "rollback").await?;
    // Exactly the image it ran, even if its tag has moved since.
    if let Some(image_id) = &earlier.image_id {
        change
            .pin_image(deployment, image_id, earlier.image_digest.as_deref())
            .await?;
    }
    let who = change.by_whom().await?;
    change
        .event(
            EventKind::Deployment,
            &wording::rollback_requested(&who, number),
        )
        .await?;
    change
        .audit(
            "service.rollback",
            json!({"deployment": deployment, "rollback_to": number, "image": spec.image}),
        )
        .await?;
    change.commit().await?;
    Ok(deployment)
}
