//! argon2id password hashes (the crate's defaults meet OWASP's minimum: m=19 MiB, t=2, p=1).
//! Hashing is CPU-heavy, so it runs on the blocking pool.

use argon2::{
    password_hash::PasswordHasher, password_hash::PasswordVerifier, Argon2, PasswordHash,
};

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// True when `password` matches `stored` (a PHC string). A malformed hash never matches.
pub async fn verify(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// The hashing the dashboard's server functions use (they live in the `app` crate).
pub struct Argon2Passwords;

impl app::api::context::Passwords for Argon2Passwords {
    fn hash(
        &self,
        password: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send>> {
        Box::pin(async move {
            hash(password)
                .await
                .inspect_err(|e| tracing::error!("{e:#}"))
                .ok()
        })
    }

    fn verify(
        &self,
        password: String,
        stored: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>> {
        Box::pin(verify(password, stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse battery".into()).await.unwrap();
        let b = hash("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse battery".into(), a.clone()).await);
        assert!(!verify("correct horse batterY".into(), a).await);
        assert!(!verify("x".into(), "not a hash".into()).await);
    }
}
