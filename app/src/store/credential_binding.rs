//! Once per database: credentials sealed before they were bound to their host are sealed
//! again under their host's context, in every table that keeps a sealed service definition
//! (`services.spec`, `deployments.spec`). Runs at start-up after the key check, so nothing
//! stored earlier is lost; a settings row marks it done.

use super::secret_box::SecretBox;
use super::spec_secrets::bind_credentials_to_hosts;
use super::StoreError;
use crate::domain::service::ServiceSpec;
use sqlx::{types::Json, PgPool, Row};
use uuid::Uuid;

const DONE: &str = "credentials_bound_to_hosts";
/// Serialises two berths starting on one database.
const LOCK: i64 = 0x6265_7274_6863_7231;

/// Re-seals every host-less credential; answers how many values changed (0 once done).
pub async fn bind_stored_credentials(
    pool: &PgPool,
    secrets: &SecretBox,
) -> Result<usize, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK)
        .execute(&mut *tx)
        .await?;
    let done: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM settings WHERE key = $1)")
        .bind(DONE)
        .fetch_one(&mut *tx)
        .await?;
    if done {
        return Ok(0);
    }
    let mut changed = 0;
    for (table, service_column) in [("services", "id"), ("deployments", "service_id")] {
        // Only definitions that hold a credential at all.
        let rows = sqlx::query(&format!(
            "SELECT id, {service_column} AS service_id, spec FROM {table}
             WHERE spec ? 'registry_auth' OR spec->'git' ? 'credentials' FOR UPDATE"
        ))
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let id: Uuid = row.get("id");
            let service_id: Uuid = row.get("service_id");
            let Json(mut spec): Json<ServiceSpec> = row.get("spec");
            let n = bind_credentials_to_hosts(&mut spec, service_id, secrets);
            if n > 0 {
                sqlx::query(&format!("UPDATE {table} SET spec = $2 WHERE id = $1"))
                    .bind(id)
                    .bind(Json(&spec))
                    .execute(&mut *tx)
                    .await?;
                changed += n;
            }
        }
    }
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(DONE)
        .bind(b"1".as_slice())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::spec_secrets::open_env;

    #[sqlx::test(migrator = "crate::store::MIGRATOR")]
    async fn old_credentials_are_bound_once_and_still_open(pool: PgPool) {
        let secrets = SecretBox::from_key_bytes(&[3u8; 32]).unwrap();
        let team: Uuid =
            sqlx::query_scalar("INSERT INTO teams (name, slug) VALUES ('t', 't') RETURNING id")
                .fetch_one(&pool)
                .await
                .unwrap();
        let service = Uuid::new_v4();
        let spec: ServiceSpec = serde_json::from_value(serde_json::json!({
            "name": "web", "image": "", "replicas": 1,
            "git": {"repo": "https://git.example.com/a.git", "branch": "main",
                    "credentials": {"kind": "token",
                        "token": secrets.seal_text("tok", &format!("git:{service}"))}}
        }))
        .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let actor = crate::store::audit::Actor::worker(team);
        let env = crate::store::projects::default_environment(&mut conn, &actor)
            .await
            .unwrap();
        drop(conn);
        sqlx::query(
            "INSERT INTO services (id, team_id, environment_id, name, spec)
             VALUES ($1, $2, $3, 'web', $4)",
        )
        .bind(service)
        .bind(team)
        .bind(env)
        .bind(Json(&spec))
        .execute(&pool)
        .await
        .unwrap();
        assert_eq!(bind_stored_credentials(&pool, &secrets).await.unwrap(), 1);
        assert_eq!(bind_stored_credentials(&pool, &secrets).await.unwrap(), 0);
        let Json(mut stored): Json<ServiceSpec> =
            sqlx::query_scalar("SELECT spec FROM services WHERE id = $1")
                .bind(service)
                .fetch_one(&pool)
                .await
                .unwrap();
        let mut moved = stored.clone();
        open_env(&mut stored, service, &secrets).unwrap();
        assert_eq!(stored.git.unwrap().credentials.unwrap().secret_mut(), "tok");
        moved.git.as_mut().unwrap().repo = "https://evil.example.net/a.git".into();
        assert!(
            open_env(&mut moved, service, &secrets).is_err(),
            "the sealed token opens only for its host"
        );
    }
}
