//! A team's S3-compatible backup destination: everyone sees it (never its secret), admins
//! set, replace and remove it and test the connection. Every change is audited. Its
//! endpoint is refused when it is (or resolves to) an internal address, unless the
//! instance owner allowed private targets — checked again at every upload, download and
//! prune (`commands::s3`).

use super::s3::{Bucket, S3Error};
use super::{Caller, CommandError, Deps};
use crate::domain::backup_destination::{
    validate, ConnectionTest, DestinationForm, DestinationView,
};
use crate::domain::Permission;
use crate::store::audit::{self, Target};
use crate::store::{backup_destinations as store, settings};
use serde_json::json;
use uuid::Uuid;

/// The team's destination, if it set one.
pub async fn show(
    deps: Deps<'_>,
    caller: &Caller,
) -> Result<Option<DestinationView>, CommandError> {
    let actor = caller.may(Permission::ReadServices)?;
    Ok(store::of_team(deps.pool, actor.team_id).await?)
}

/// Sets or replaces the team's destination (admins); a form without a secret access key
/// keeps the stored one. `422` on `endpoint` for an internal address unless private targets
/// are allowed. Audited `backup.destination.save`.
pub async fn save(
    deps: Deps<'_>,
    caller: &Caller,
    form: DestinationForm,
) -> Result<DestinationView, CommandError> {
    let actor = caller.may(Permission::ManageBackups)?;
    let before = store::of_team(deps.pool, actor.team_id).await?;
    let had_secret = before.as_ref().is_some_and(|b| b.has_secret);
    let d = validate(form, had_secret).map_err(CommandError::Invalid)?;
    let allow = settings::allow_private_targets(deps.pool).await?;
    let target = d.target();
    if let Err(super::outbound::TargetError::Refused(why)) =
        super::outbound::checked_address(&target.host, target.port, allow).await
    {
        return Err(CommandError::field("endpoint", why));
    }
    let id = before.as_ref().map(|b| b.id).unwrap_or_else(Uuid::new_v4);
    let sealed = d
        .secret
        .as_deref()
        .map(|s| deps.secrets.seal_text(s, &store::secret_context(id)));
    let mut tx = deps.pool.begin().await?;
    store::save(&mut tx, actor.team_id, id, &d, sealed).await?;
    audit::record(
        &mut tx,
        &actor,
        "backup.destination.save",
        Target::new("backup_destination", id, &d.bucket),
        json!({"endpoint": d.endpoint, "region": d.region, "bucket": d.bucket,
               "prefix": d.prefix, "access_key_id": d.access_key_id,
               "path_style": d.path_style, "secret_changed": d.secret.is_some()}),
    )
    .await?;
    tx.commit().await?;
    store::of_team(deps.pool, actor.team_id)
        .await?
        .ok_or(CommandError::NotFound)
}

/// Removes the team's destination (admins); what was uploaded stays in the bucket. Audited
/// `backup.destination.delete`.
pub async fn delete(deps: Deps<'_>, caller: &Caller) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageBackups)?;
    let before = store::of_team(deps.pool, actor.team_id)
        .await?
        .ok_or(CommandError::NotFound)?;
    let mut tx = deps.pool.begin().await?;
    store::delete(&mut tx, actor.team_id).await?;
    audit::record(
        &mut tx,
        &actor,
        "backup.destination.delete",
        Target::new("backup_destination", before.id, &before.bucket),
        json!({"endpoint": before.endpoint, "bucket": before.bucket}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Tests the team's destination (admins): writes a small object under the prefix and
/// removes it. `NotFound` when the team has none. Audited `backup.destination.test`.
pub async fn test(deps: Deps<'_>, caller: &Caller) -> Result<ConnectionTest, CommandError> {
    let actor = caller.may(Permission::ManageBackups)?;
    let stored = store::stored_of_team(deps.pool, actor.team_id)
        .await?
        .ok_or(CommandError::NotFound)?;
    let result = probe(deps, &stored).await;
    let answer = match &result {
        Ok(()) => ConnectionTest {
            ok: true,
            message: format!(
                "Connected: wrote and removed a test object in s3://{}.",
                stored.destination.bucket
            ),
        },
        Err(e) => ConnectionTest {
            ok: false,
            message: e.to_string(),
        },
    };
    let mut tx = deps.pool.begin().await?;
    audit::record(
        &mut tx,
        &actor,
        "backup.destination.test",
        Target::new("backup_destination", stored.id, &stored.destination.bucket),
        json!({"ok": answer.ok, "message": answer.message}),
    )
    .await?;
    tx.commit().await?;
    Ok(answer)
}

async fn probe(deps: Deps<'_>, stored: &store::Stored) -> Result<(), S3Error> {
    let bucket = open(deps.pool, deps.secrets, stored).await?;
    bucket.probe().await
}

/// Connects to a stored destination (its secret opened, its address checked now).
pub async fn open(
    pool: &sqlx::PgPool,
    secrets: &crate::store::secret_box::SecretBox,
    stored: &store::Stored,
) -> Result<Bucket, S3Error> {
    let secret = secrets
        .open_text(&stored.secret_sealed, &store::secret_context(stored.id))
        .map_err(|e| S3Error::Failed(format!("the secret access key cannot be opened: {e}")))?;
    let allow = settings::allow_private_targets(pool)
        .await
        .map_err(|e| S3Error::Failed(e.to_string()))?;
    Bucket::connect(&stored.destination, &secret, allow).await
}
