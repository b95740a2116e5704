//! Notification channels: viewers see them (never their secrets) and their delivery logs;
//! admins create, change and delete them, set their rules and send a test. Every change is
//! audited. A channel's target is refused when it resolves to an internal address, unless
//! the instance owner allowed private targets (checked again at every send).

use super::outbound::{checked_address, TargetError};
use super::{Caller, CommandError, Deps};
use crate::domain::notification::{
    validate_channel, ChannelForm, ChannelView, DeliveryView, Event, NotifyEvent, ValidChannel,
};
use crate::domain::Permission;
use crate::store::audit::{self, Target};
use crate::store::{notifications as store, settings};
use serde_json::json;
use uuid::Uuid;

/// The team's channels.
pub async fn list(deps: Deps<'_>, caller: &Caller) -> Result<Vec<ChannelView>, CommandError> {
    caller.may(Permission::ReadNotifications)?;
    Ok(store::channels(deps.pool, caller.actor.team_id).await?)
}

/// One channel of the team.
pub async fn show(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<ChannelView, CommandError> {
    caller.may(Permission::ReadNotifications)?;
    Ok(store::channel(deps.pool, caller.actor.team_id, id).await?)
}

/// The field a channel's target is named by.
fn target_field(c: &ValidChannel) -> &'static str {
    if c.smtp.is_some() {
        "smtp.host"
    } else {
        "url"
    }
}

/// Refuses (422 on the target's field) a target that is internal while private targets are
/// not allowed. A name that does not resolve now is accepted: the send checks it again.
async fn check_target(deps: Deps<'_>, c: &ValidChannel) -> Result<(), CommandError> {
    let allow = settings::allow_private_targets(deps.pool).await?;
    match checked_address(&c.host, c.port, allow).await {
        Err(TargetError::Refused(why)) => Err(CommandError::field(target_field(c), why)),
        _ => Ok(()),
    }
}

fn summary(c: &ValidChannel) -> serde_json::Value {
    json!({
        "name": c.name, "kind": c.kind.as_str(), "url": c.url,
        "smtp_host": c.smtp.as_ref().map(|s| &s.host),
        "events": c.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "secret_changed": c.secret.is_some(),
    })
}

fn name_taken(e: crate::store::StoreError) -> CommandError {
    if store::is_name_taken(&e) {
        CommandError::field("name", "Another channel of the team has this name.")
    } else {
        e.into()
    }
}

/// Creates a channel (admins); audited `notification.channel.create`.
pub async fn create(
    deps: Deps<'_>,
    caller: &Caller,
    form: ChannelForm,
) -> Result<ChannelView, CommandError> {
    let actor = caller.may(Permission::ManageNotifications)?;
    let c = validate_channel(form, false).map_err(CommandError::Invalid)?;
    check_target(deps, &c).await?;
    let id = Uuid::new_v4();
    let sealed = c
        .secret
        .as_deref()
        .map(|s| deps.secrets.seal_text(s, &store::secret_context(id)));
    let mut tx = deps.pool.begin().await?;
    store::insert_channel(&mut tx, actor.team_id, id, &c, sealed)
        .await
        .map_err(name_taken)?;
    audit::record(
        &mut tx,
        &actor,
        "notification.channel.create",
        Target::new("notification_channel", id, &c.name),
        summary(&c),
    )
    .await?;
    tx.commit().await?;
    Ok(store::channel(deps.pool, actor.team_id, id).await?)
}

/// Replaces a channel (admins); a form without a secret keeps the stored one. Audited
/// `notification.channel.update`.
pub async fn replace(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    form: ChannelForm,
) -> Result<ChannelView, CommandError> {
    let actor = caller.may(Permission::ManageNotifications)?;
    let before = store::channel(deps.pool, actor.team_id, id).await?;
    let had_secret = before.has_secret && before.kind == form.kind;
    let c = validate_channel(form, had_secret).map_err(CommandError::Invalid)?;
    check_target(deps, &c).await?;
    let sealed = c
        .secret
        .as_deref()
        .map(|s| deps.secrets.seal_text(s, &store::secret_context(id)));
    let mut tx = deps.pool.begin().await?;
    store::update_channel(&mut tx, actor.team_id, id, &c, sealed)
        .await
        .map_err(name_taken)?;
    audit::record(
        &mut tx,
        &actor,
        "notification.channel.update",
        Target::new("notification_channel", id, &c.name),
        summary(&c),
    )
    .await?;
    tx.commit().await?;
    Ok(store::channel(deps.pool, actor.team_id, id).await?)
}

/// Deletes a channel and its log (admins); audited `notification.channel.delete`.
pub async fn delete(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageNotifications)?;
    let before = store::channel(deps.pool, actor.team_id, id).await?;
    let mut tx = deps.pool.begin().await?;
    store::delete_channel(&mut tx, actor.team_id, id).await?;
    audit::record(
        &mut tx,
        &actor,
        "notification.channel.delete",
        Target::new("notification_channel", id, &before.name),
        json!({"kind": before.kind.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues a test message to one channel (admins), whatever its rules; answers the
/// delivery's id (its log row). Audited `notification.channel.test`.
pub async fn send_test(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<i64, CommandError> {
    let actor = caller.may(Permission::ManageNotifications)?;
    let channel = store::channel(deps.pool, actor.team_id, id).await?;
    let event = Event::plain(
        NotifyEvent::Test,
        format!("Test message from Berth to the channel {}.", channel.name),
    );
    let mut tx = deps.pool.begin().await?;
    let delivery = store::enqueue_to(&mut tx, actor.team_id, id, &event).await?;
    audit::record(
        &mut tx,
        &actor,
        "notification.channel.test",
        Target::new("notification_channel", id, &channel.name),
        json!({"delivery": delivery}),
    )
    .await?;
    tx.commit().await?;
    Ok(delivery)
}

/// A channel's delivery log, newest first (`limit` rows with an id below `before`).
pub async fn deliveries(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<DeliveryView>, CommandError> {
    caller.may(Permission::ReadNotifications)?;
    Ok(store::deliveries(deps.pool, caller.actor.team_id, id, limit, before).await?)
}
