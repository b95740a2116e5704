//! The generic webhook's signature. The receiver recomputes
//! `hex(HMAC-SHA256(secret, timestamp + "." + raw body))` with the `X-Berth-Timestamp`
//! header's value, compares it (in constant time) with `X-Berth-Signature` after its
//! `sha256=` prefix, and refuses a timestamp older than a few minutes (a replay).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<64 hex digits>`.
pub const SIGNATURE_HEADER: &str = "X-Berth-Signature";
/// Unix seconds when the attempt was made (part of what is signed).
pub const TIMESTAMP_HEADER: &str = "X-Berth-Timestamp";

/// What is signed: `"<timestamp>.<body>"`.
pub fn signed_string(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut s = format!("{timestamp}.").into_bytes();
    s.extend_from_slice(body);
    s
}

/// The `X-Berth-Signature` value of `body` sent at `timestamp`: `sha256=<hex>`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&signed_string(timestamp, body));
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
