//! Instance-wide settings.

use super::StoreError;
use sqlx::PgPool;

const KEY_CHECK: &str = "secret_key_check";

const INSTANCE_ID: &str = "instance_id";

/// This installation's id, made on first use. Berth labels its containers with it and
/// manages only containers that carry it, so two installations can share a Docker engine.
pub async fn instance_id(pool: &PgPool) -> Result<uuid::Uuid, StoreError> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(INSTANCE_ID)
        .bind(uuid::Uuid::new_v4().to_string().into_bytes())
        .execute(pool)
        .await?;
    let raw: Vec<u8> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(INSTANCE_ID)
        .fetch_one(pool)
        .await?;
    String::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            StoreError::Db(sqlx::Error::Decode(
                "the stored instance id is damaged".into(),
            ))
        })
}

/// The sealed check value of the secret key, if one was recorded.
pub async fn key_check(pool: &PgPool) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(KEY_CHECK)
            .fetch_optional(pool)
            .await?,
    )
}

/// Records `sealed` unless a check value exists already; returns the one that is stored
/// (so two berths starting at once agree on one).
pub async fn init_key_check(pool: &PgPool, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(KEY_CHECK)
        .bind(sealed)
        .execute(pool)
        .await?;
    Ok(key_check(pool).await?.unwrap_or_default())
}

const ALLOW_PRIVATE_TARGETS: &str = "allow_private_targets";

/// Whether Berth may connect to loopback, link-local, private and metadata addresses on a
/// user's behalf (git repositories today). Off unless the instance owner turned it on.
pub async fn allow_private_targets(pool: &PgPool) -> Result<bool, StoreError> {
    let raw: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(ALLOW_PRIVATE_TARGETS)
        .fetch_optional(pool)
        .await?;
    Ok(raw.as_deref() == Some(b"true"))
}

/// Records [`allow_private_targets`] (in the caller's transaction, next to its audit entry).
pub async fn set_allow_private_targets(
    tx: &mut sqlx::PgConnection,
    allow: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
    )
    .bind(ALLOW_PRIVATE_TARGETS)
    .bind(if allow {
        b"true".as_slice()
    } else {
        b"false".as_slice()
    })
    .execute(tx)
    .await?;
    Ok(())
}

/// The instance owner (the first account), if Berth is set up.
pub async fn instance_owner(pool: &PgPool) -> Result<Option<uuid::Uuid>, StoreError> {
    Ok(sqlx::query_scalar("SELECT owner_id FROM instance LIMIT 1")
        .fetch_optional(pool)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrator = "crate::store::MIGRATOR")]
    async fn the_first_check_value_wins(pool: PgPool) {
        assert_eq!(key_check(&pool).await.unwrap(), None);
        assert_eq!(init_key_check(&pool, b"first").await.unwrap(), b"first");
        assert_eq!(init_key_check(&pool, b"second").await.unwrap(), b"first");
    }
}
