//! Encryption at rest for secrets (secret env values, webhook secrets, registry
//! credentials): XChaCha20-Poly1305 with a 256-bit key that never enters the database.
//!
//! The key comes from BERTH_SECRET_KEY (base64), or from a key file that berth creates with
//! mode 0600 on first start. The database keeps a sealed check value, so starting with
//! the wrong key fails closed, before anything is decrypted or written.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, OsRng, Payload},
    AeadCore, XChaCha20Poly1305, XNonce,
};
use std::{io::Write, os::unix::fs::OpenOptionsExt, path::Path};

const NONCE_LEN: usize = 24;
/// The plaintext of the check value sealed in the database.
const CHECK_PLAINTEXT: &[u8] = b"berth secret key check v1";
const CHECK_CONTEXT: &str = "berth:key-check";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key is not valid base64 of 32 bytes")]
    MalformedKey,
    #[error("reading or creating the secret key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the secret key does not match the one this database's secrets were sealed with; \
         start berth with the original key (BERTH_SECRET_KEY or the key file)"
    )]
    WrongKey,
    #[error("a sealed secret is damaged or belongs to another record")]
    Unreadable,
    #[error("reading the key check value: {0}")]
    Database(#[from] super::StoreError),
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    pub fn from_key_bytes(key: &[u8]) -> Result<Self, SecretError> {
        let cipher =
            XChaCha20Poly1305::new_from_slice(key).map_err(|_| SecretError::MalformedKey)?;
        Ok(SecretBox { cipher })
    }

    pub fn from_base64(key: &str) -> Result<Self, SecretError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| SecretError::MalformedKey)?;
        Self::from_key_bytes(&bytes)
    }

    /// The key from `explicit` (base64) if given, else from `key_file`, creating that file
    /// (mode 0600, a fresh random key) when it does not exist.
    pub fn load(explicit: Option<&str>, key_file: &Path) -> Result<Self, SecretError> {
        if let Some(key) = explicit.filter(|k| !k.trim().is_empty()) {
            return Self::from_base64(key);
        }
        let io_err = |source| SecretError::KeyFile {
            path: key_file.display().to_string(),
            source,
        };
        match std::fs::read_to_string(key_file) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = key_file.parent() {
                    std::fs::create_dir_all(dir).map_err(io_err)?;
                }
                let key = XChaCha20Poly1305::generate_key(&mut OsRng);
                // create_new: two processes racing never overwrite each other's key.
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(key_file)
                    .map_err(io_err)?;
                writeln!(file, "{}", STANDARD.encode(key)).map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
                tracing::info!(path = %key_file.display(), "created a new secret key; back it up with the database");
                Self::from_key_bytes(&key)
            }
            Err(e) => Err(io_err(e)),
        }
    }

    /// Seals `plaintext`; `context` (e.g. "env:<service id>:<key>") binds the ciphertext to
    /// its record, so a sealed value copied elsewhere does not open.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Seals a text as it is stored in a column or a JSON field: base64 of the box.
    pub fn seal_text(&self, plaintext: &str, context: &str) -> String {
        STANDARD.encode(self.seal(plaintext.as_bytes(), context))
    }

    /// Opens what [`Self::seal_text`] stored.
    pub fn open_text(&self, sealed: &str, context: &str) -> Result<String, SecretError> {
        let boxed = STANDARD
            .decode(sealed.as_bytes())
            .map_err(|_| SecretError::Unreadable)?;
        String::from_utf8(self.open(&boxed, context)?).map_err(|_| SecretError::Unreadable)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < NONCE_LEN {
            return Err(SecretError::Unreadable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Unreadable)
    }

    pub fn check_value(&self) -> Vec<u8> {
        self.seal(CHECK_PLAINTEXT, CHECK_CONTEXT)
    }

    /// Whether `sealed` (from [`check_value`](Self::check_value)) was made with this key.
    pub fn verify_check_value(&self, sealed: &[u8]) -> Result<(), SecretError> {
        match self.open(sealed, CHECK_CONTEXT) {
            Ok(p) if p == CHECK_PLAINTEXT => Ok(()),
            _ => Err(SecretError::WrongKey),
        }
    }
}

/// Makes sure the database's secrets were sealed with `secrets`' key: records the check
/// value on first use, refuses a different key afterwards.
pub async fn verify_against_database(
    secrets: &SecretBox,
    pool: &sqlx::PgPool,
) -> Result<(), SecretError> {
    match super::settings::key_check(pool).await? {
        Some(sealed) => Ok(secrets.verify_check_value(&sealed)?),
        None => {
            let stored = super::settings::init_key_check(pool, &secrets.check_value()).await?;
            Ok(secrets.verify_check_value(&stored)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_context() {
        let b = SecretBox::from_key_bytes(&[7u8; 32]).unwrap();
        let sealed = b.seal(b"db-password\nwith newline", "env:svc:DB_PASSWORD");
        assert!(
            !sealed.windows(11).any(|w| w == b"db-password"),
            "ciphertext hides the value"
        );
        assert_eq!(
            b.open(&sealed, "env:svc:DB_PASSWORD").unwrap(),
            b"db-password\nwith newline"
        );
        assert!(matches!(
            b.open(&sealed, "env:other:DB_PASSWORD"),
            Err(SecretError::Unreadable)
        ));
        let again = b.seal(b"db-password\nwith newline", "env:svc:DB_PASSWORD");
        assert_ne!(sealed, again, "a fresh nonce each time");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(b.open(&tampered, "env:svc:DB_PASSWORD").is_err());
        assert!(b.open(&[1, 2, 3], "x").is_err());
    }

    #[test]
    fn a_wrong_key_fails_closed() {
        let right = SecretBox::from_key_bytes(&[1u8; 32]).unwrap();
        let wrong = SecretBox::from_key_bytes(&[2u8; 32]).unwrap();
        let check = right.check_value();
        assert!(right.verify_check_value(&check).is_ok());
        assert!(matches!(
            wrong.verify_check_value(&check),
            Err(SecretError::WrongKey)
        ));
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secret.key");
        let first = SecretBox::load(None, &path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = SecretBox::load(None, &path).unwrap();
        let sealed = first.seal(b"x", "c");
        assert_eq!(
            second.open(&sealed, "c").unwrap(),
            b"x",
            "the same key is read back"
        );
        std::fs::write(&path, "not base64!").unwrap();
        assert!(matches!(
            SecretBox::load(None, &path),
            Err(SecretError::MalformedKey)
        ));
        assert!(matches!(
            SecretBox::load(Some("c2hvcnQ="), &path),
            Err(SecretError::MalformedKey)
        ));
    }
}
