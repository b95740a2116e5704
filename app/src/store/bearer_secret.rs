//! The secrets Berth hands out once (invitation links, API tokens): 256 random bits as
//! lowercase hex, stored only as their SHA-256 digest. With that much entropy a fast hash
//! is enough: no one can guess a preimage, and a stolen table grants nothing.

use sha2::{Digest, Sha256};

/// A fresh secret and its digest.
pub fn generate() -> (String, Vec<u8>) {
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = digest(&secret);
    (secret, hash)
}

pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_hex_and_hashed() {
        let (a, ha) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(crate::domain::team::looks_like_secret(&a));
        assert_eq!(ha, digest(&a));
        assert_eq!(ha.len(), 32);
    }
}
