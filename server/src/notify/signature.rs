//! The generic webhook's signature. A receiver recomputes
//! `hex(HMAC-SHA256(secret, "<X-Berth-Timestamp>.<raw body>"))`, compares it in constant
//! time with `X-Berth-Signature` after its `sha256=` prefix, and refuses a timestamp more
//! than a few minutes old (a replay).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<64 lowercase hex digits>`.
pub const SIGNATURE_HEADER: &str = "X-Berth-Signature";
/// Unix seconds when the attempt was made (part of what is signed).
pub const TIMESTAMP_HEADER: &str = "X-Berth-Timestamp";
/// The delivery's id (the same on every retry: a receiver may drop duplicates by it).
pub const DELIVERY_HEADER: &str = "X-Berth-Delivery";

/// The `X-Berth-Signature` value of `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        // Computed independently: `printf '1700000000.{}' | openssl dgst -sha256 -hmac key`.
        let s = sign(b"key", 1_700_000_000, b"{}");
        assert_eq!(
            s,
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert_ne!(s, sign(b"key", 1_700_000_001, b"{}"));
        assert_ne!(s, sign(b"key", 1_700_000_000, b"{ }"));
        assert_ne!(s, sign(b"other", 1_700_000_000, b"{}"));
    }
}
