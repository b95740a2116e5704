//! Unit tests of `accounts.rs`.

use super::*;
use crate::domain::SetupForm;

fn setup(email: &str) -> ValidSetup {
    SetupForm {
        email: email.into(),
        name: "Ada".into(),
        password: "correct horse battery".into(),
        team_name: "Engines".into(),
    }
    .validate()
    .unwrap()
}

#[sqlx::test(migrator = "crate::store::MIGRATOR")]
async fn first_run_creates_owner_team_and_membership(pool: PgPool) {
    assert!(!is_set_up(&pool).await.unwrap());
    let info = create_owner(&pool, &setup("ada@example.com"), "hash")
        .await
        .unwrap();
    assert!(is_set_up(&pool).await.unwrap());
    assert_eq!(info.role, Role::Owner);
    assert_eq!(info.team.slug, "engines");
    let found = session_info(&pool, info.user.id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, info);
    let creds = credentials_by_email(&pool, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (creds.user_id, creds.password_hash.as_str()),
        (info.user.id, "hash")
    );
    assert!(credentials_by_email(&pool, "bob@example.com")
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test(migrator = "crate::store::MIGRATOR")]
async fn concurrent_first_runs_make_exactly_one_owner(pool: PgPool) {
    let attempts = (0..8).map(|i| {
        let pool = pool.clone();
        tokio::spawn(async move {
            create_owner(&pool, &setup(&format!("owner{i}@example.com")), "h").await
        })
    });
    let results = futures_join(attempts).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::AlreadySetUp)))
        .count();
    assert_eq!((ok, refused), (1, 7), "{results:?}");
    assert_eq!(user_count(&pool).await.unwrap(), 1);
    let teams: i64 = sqlx::query("SELECT count(*) AS n FROM teams")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(teams, 1);
}

#[sqlx::test(migrator = "crate::store::MIGRATOR")]
async fn second_first_run_is_refused_and_writes_nothing(pool: PgPool) {
    create_owner(&pool, &setup("ada@example.com"), "h")
        .await
        .unwrap();
    let err = create_owner(&pool, &setup("eve@example.com"), "h")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadySetUp));
    assert!(credentials_by_email(&pool, "eve@example.com")
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test(migrator = "crate::store::MIGRATOR")]
async fn session_info_of_unknown_user_is_none(pool: PgPool) {
    create_owner(&pool, &setup("ada@example.com"), "h")
        .await
        .unwrap();
    assert!(session_info(&pool, Uuid::new_v4(), None)
        .await
        .unwrap()
        .is_none());
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}
