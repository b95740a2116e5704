//! Instance-wide settings.

use super::StoreError;
use sqlx::PgPool;

const KEY_CHECK: &str = "secret_key_check";

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
