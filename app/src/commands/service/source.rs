//! A git service's source: build the branch head now, rotate the webhook secret, and queue
//! the build of a push whose signature the webhook adapter verified.

use crate::commands::{Caller, CommandError, Deps};
use crate::domain::service::{wording, CommitInfo, EventKind, Provider};
use crate::domain::Permission;
use crate::store::builds::{queue_push, webhook_context, PushOutcome};
use crate::store::change::ServiceChange;
use serde_json::json;
use uuid::Uuid;

/// "Deploy now": queues a build of the branch head. Returns the deployment's id and number.
pub async fn deploy_now(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<(Uuid, i32), CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let mut change = ServiceChange::lock(deps.pool, actor, id).await?;
    let Some(git) = change.stored.git.clone() else {
        return Err(CommandError::field(
            "deployment",
            "Deploy now builds a git service's branch; an image service is redeployed instead.",
        ));
    };
    let (deployment, number) = change.queue_build("deploy").await?;
    let who = change.by_whom().await?;
    change
        .event(
            EventKind::Build,
            &wording::deploy_requested(&who, &git.branch),
        )
        .await?;
    change
        .audit(
            "service.deploy",
            json!({"deployment": deployment, "number": number, "branch": git.branch}),
        )
        .await?;
    change.commit().await?;
    Ok((deployment, number))
}

/// Generates (or replaces) a git service's webhook secret and returns it: the one time it
/// is shown in full (64 hex digits: two random v4 UUIDs, 244 bits from the OS generator).
/// The old secret stops working when this commits.
pub async fn rotate_webhook_secret(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<String, CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    let mut change = ServiceChange::lock(deps.pool, actor, id).await?;
    if change.stored.git.is_none() {
        return Err(CommandError::field(
            "webhook",
            "Only a service built from git has a push webhook.",
        ));
    }
    let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let sealed = deps.secrets.seal_text(&secret, &webhook_context(id));
    change.set_webhook_secret(&sealed).await?;
    let who = change.by_whom().await?;
    change
        .event(EventKind::Change, &wording::webhook_rotated(&who))
        .await?;
    change
        .audit("service.webhook_rotate", json!({"secret": "(not shown)"}))
        .await?;
    change.commit().await?;
    Ok(secret)
}

/// Queues the build of a pushed commit, once per forge delivery id and only when the
/// commit is neither live nor already on its way (a captured delivery re-sent under a new
/// id rebuilds nothing; see [`PushOutcome::AlreadyThere`]). The webhook adapter
/// has verified the delivery's signature against the service's secret (that is the
/// authorisation of a forge) and found the service in `team_id`.
pub async fn push(
    deps: Deps<'_>,
    service_id: Uuid,
    team_id: Uuid,
    provider: Provider,
    delivery: &str,
    commit: &CommitInfo,
) -> Result<PushOutcome, CommandError> {
    Ok(queue_push(deps.pool, service_id, team_id, provider, delivery, commit).await?)
}
