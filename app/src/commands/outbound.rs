//! Resolve-and-check for outbound connections Berth makes on a user's behalf
//! (notification channels, checked when saved and again at every send). The rule itself is
//! the domain's ([`refused_reason`]); this resolves the name and judges every address.

use crate::domain::outbound::{is_local_name, refusal_message, refused_reason};
use std::net::{IpAddr, SocketAddr};

/// Why a target cannot be connected to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// An internal address (or a name resolving to one) while private targets are not
    /// allowed: "refused: 127.0.0.1 is a loopback address: …".
    #[error("refused: {0}")]
    Refused(String),
    /// The name does not resolve.
    #[error("cannot resolve {0}")]
    Unresolved(String),
}

/// The address to connect to for `host:port`: an IP literal as is, a name resolved now.
/// Unless `allow_private`, `localhost`/`*.localhost` and any name with one refused address
/// among its answers (a name may answer differently next time) are refused, as is a
/// refused literal. The caller connects to the address answered, never to the name again
/// (no DNS-rebinding window).
pub async fn checked_address(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<SocketAddr, TargetError> {
    let refuse = |what: &str, reason: &str| TargetError::Refused(refusal_message(what, reason));
    if let Ok(ip) = host.parse::<IpAddr>() {
        if !allow_private {
            if let Some(reason) = refused_reason(ip) {
                return Err(refuse(host, reason));
            }
        }
        return Ok(SocketAddr::new(ip, port));
    }
    if !allow_private && is_local_name(host) {
        return Err(refuse(host, "a loopback address (a name for this machine)"));
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| TargetError::Unresolved(host.to_owned()))?
        .collect();
    if !allow_private {
        for a in &addrs {
            if let Some(reason) = refused_reason(a.ip()) {
                return Err(refuse(&format!("{host} ({})", a.ip()), reason));
            }
        }
    }
    addrs
        .into_iter()
        .next()
        .ok_or_else(|| TargetError::Unresolved(host.to_owned()))
}
