//! Webhook authentication, per forge, against the raw request body. Every comparison is
//! constant-time, and there is no way to skip it.

use app::store::builds::Provider;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// `Ok` when the request carries a valid signature (or token) for `secret`; otherwise why
/// not, in words for the sender.
pub fn verify(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), &'static str> {
    if secret.is_empty() {
        return Err("the webhook has no secret");
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match provider {
        Provider::GitHub => match header("x-hub-signature-256") {
            Some(value) => {
                let hex_sig = value
                    .strip_prefix("sha256=")
                    .ok_or("X-Hub-Signature-256 must start with sha256=")?;
                check_hmac(secret, body, hex_sig)
            }
            None if header("x-hub-signature").is_some() => {
                Err("only X-Hub-Signature (SHA-1) was sent; Berth requires X-Hub-Signature-256")
            }
            None => Err("missing X-Hub-Signature-256 header"),
        },
        Provider::GitLab => {
            let token = header("x-gitlab-token").ok_or("missing X-Gitlab-Token header")?;
            // Digests have one length, so neither the length nor a prefix of the secret
            // shows in the timing.
            let sent = Sha256::digest(token.as_bytes());
            let expected = Sha256::digest(secret.as_bytes());
            if bool::from(sent.ct_eq(&expected)) {
                Ok(())
            } else {
                Err("X-Gitlab-Token does not match the webhook secret")
            }
        }
        Provider::Gitea => {
            let value = header("x-gitea-signature")
                .or_else(|| header("x-forgejo-signature"))
                .ok_or("missing X-Gitea-Signature header")?;
            check_hmac(secret, body, value)
        }
    }
}

fn check_hmac(secret: &str, body: &[u8], hex_sig: &str) -> Result<(), &'static str> {
    let sig = hex::decode(hex_sig.trim()).map_err(|_| "the signature is not hex")?;
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| "bad secret")?;
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&sig)
        .map_err(|_| "the signature does not match the body and the webhook secret")
}

/// `sha256=<hex>` of `body` under `secret`: what GitHub sends (Gitea sends the hex alone).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    /// The example from GitHub's "Validating webhook deliveries" documentation.
    #[test]
    fn github_published_test_vector() {
        let secret = "It's a Secret to Everybody";
        let body = b"Hello, World!";
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret, body), expected);
        let h = headers(&[("x-hub-signature-256", expected)]);
        assert_eq!(verify(Provider::GitHub, &h, body, secret), Ok(()));
        assert!(verify(Provider::GitHub, &h, b"Hello, World?", secret).is_err());
        assert!(verify(Provider::GitHub, &h, body, "another secret").is_err());
    }

    #[test]
    fn github_refuses_sha1_and_missing_or_malformed_signatures() {
        let body = b"{}";
        let sha1_only = headers(&[("x-hub-signature", "sha1=0123")]);
        assert!(verify(Provider::GitHub, &sha1_only, body, "s")
            .unwrap_err()
            .contains("SHA-1"));
        assert!(verify(Provider::GitHub, &HeaderMap::new(), body, "s").is_err());
        let bare_hex = sign("s", body).trim_start_matches("sha256=").to_owned();
        let no_prefix = headers(&[("x-hub-signature-256", &bare_hex)]);
        assert!(verify(Provider::GitHub, &no_prefix, body, "s").is_err());
        let not_hex = headers(&[("x-hub-signature-256", "sha256=zz")]);
        assert!(verify(Provider::GitHub, &not_hex, body, "s").is_err());
    }

    #[test]
    fn gitlab_token_must_match_exactly() {
        let secret = "0123456789abcdef";
        let ok = headers(&[("x-gitlab-token", secret)]);
        assert_eq!(verify(Provider::GitLab, &ok, b"", secret), Ok(()));
        for wrong in ["0123456789abcde", "0123456789abcdef0", "", "x"] {
            let h = headers(&[("x-gitlab-token", wrong)]);
            assert!(
                verify(Provider::GitLab, &h, b"", secret).is_err(),
                "{wrong:?}"
            );
        }
        assert!(verify(Provider::GitLab, &HeaderMap::new(), b"", secret).is_err());
    }

    #[test]
    fn gitea_signs_the_body_in_hex() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let sig = sign("k", body).trim_start_matches("sha256=").to_owned();
        let h = headers(&[("x-gitea-signature", &sig)]);
        assert_eq!(verify(Provider::Gitea, &h, body, "k"), Ok(()));
        let forgejo = headers(&[("x-forgejo-signature", &sig)]);
        assert_eq!(verify(Provider::Gitea, &forgejo, body, "k"), Ok(()));
        assert!(verify(Provider::Gitea, &h, b"{}", "k").is_err());
    }

    #[test]
    fn an_empty_secret_verifies_nothing() {
        let h = headers(&[("x-hub-signature-256", &sign("", b"x"))]);
        assert!(verify(Provider::GitHub, &h, b"x", "").is_err());
        let h = headers(&[("x-gitlab-token", "")]);
        assert!(verify(Provider::GitLab, &h, b"", "").is_err());
    }
}
