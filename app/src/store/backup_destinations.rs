//! A team's S3-compatible backup destination (at most one per team): every read and write
//! scoped by team, except [`by_id`] for the leader (it uploads, prunes and downloads the
//! archives of backups that name their destination). The secret access key is stored
//! sealed with [`secret_context`] and never read back by a page.

use super::StoreError;
use crate::domain::backup_destination::{DestinationView, ValidDestination};
use sqlx::{postgres::PgRow, PgPool, Row};
use uuid::Uuid;

/// The sealing context of a destination's secret access key.
pub fn secret_context(id: Uuid) -> String {
    format!("backup-destination:{id}")
}

const COLUMNS: &str =
    "id, team_id, endpoint, region, bucket, prefix, access_key_id, secret_sealed, path_style, updated_at";

fn view(r: &PgRow) -> DestinationView {
    DestinationView {
        id: r.get("id"),
        endpoint: r.get("endpoint"),
        region: r.get("region"),
        bucket: r.get("bucket"),
        prefix: r.get("prefix"),
        access_key_id: r.get("access_key_id"),
        path_style: r.get("path_style"),
        has_secret: !r.get::<String, _>("secret_sealed").is_empty(),
        updated_at: r.get("updated_at"),
    }
}

/// A destination with what connecting needs: its sealed secret (open it with
/// [`secret_context`]`(id)`).
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: Uuid,
    pub team_id: Uuid,
    pub destination: ValidDestination,
    pub secret_sealed: String,
}

fn stored(r: &PgRow) -> Stored {
    Stored {
        id: r.get("id"),
        team_id: r.get("team_id"),
        destination: ValidDestination {
            endpoint: r.get("endpoint"),
            region: r.get("region"),
            bucket: r.get("bucket"),
            prefix: r.get("prefix"),
            access_key_id: r.get("access_key_id"),
            secret: None,
            path_style: r.get("path_style"),
        },
        secret_sealed: r.get("secret_sealed"),
    }
}

/// Team `team`'s destination, if it set one.
pub async fn of_team(pool: &PgPool, team: Uuid) -> Result<Option<DestinationView>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM backup_destinations WHERE team_id = $1"
    ))
    .bind(team)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(view))
}

/// Team `team`'s destination with its sealed secret (to connect with).
pub async fn stored_of_team(pool: &PgPool, team: Uuid) -> Result<Option<Stored>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM backup_destinations WHERE team_id = $1"
    ))
    .bind(team)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(stored))
}

/// A destination by id, whatever its team (the leader's: a backup names it).
pub async fn by_id(pool: &PgPool, id: Uuid) -> Result<Option<Stored>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM backup_destinations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(stored))
}

/// Creates or replaces team `team`'s destination (its id stays the same across
/// replacements, so backups uploaded before still find it). `sealed_secret` `None` keeps
/// the stored secret. Answers the destination's id.
pub async fn save(
    tx: &mut sqlx::PgConnection,
    team: Uuid,
    id: Uuid,
    d: &ValidDestination,
    sealed_secret: Option<String>,
) -> Result<Uuid, StoreError> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO backup_destinations
             (id, team_id, endpoint, region, bucket, prefix, access_key_id, secret_sealed, path_style)
         VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, ''), $9)
         ON CONFLICT (team_id) DO UPDATE SET endpoint = $3, region = $4, bucket = $5,
             prefix = $6, access_key_id = $7,
             secret_sealed = coalesce($8, backup_destinations.secret_sealed),
             path_style = $9, updated_at = now()
         RETURNING id",
    )
    .bind(id)
    .bind(team)
    .bind(&d.endpoint)
    .bind(&d.region)
    .bind(&d.bucket)
    .bind(&d.prefix)
    .bind(&d.access_key_id)
    .bind(sealed_secret)
    .bind(d.path_style)
    .fetch_one(tx)
    .await?;
    Ok(id)
}

/// Removes team `team`'s destination (objects already uploaded stay in the bucket);
/// `NotFound` when it has none.
pub async fn delete(tx: &mut sqlx::PgConnection, team: Uuid) -> Result<(), StoreError> {
    let gone = sqlx::query("DELETE FROM backup_destinations WHERE team_id = $1")
        .bind(team)
        .execute(tx)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
