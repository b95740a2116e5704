//! The address a request came from, for rate limiting.

use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// The TCP peer, unless the peer is a trusted proxy: then the right-most X-Forwarded-For
/// entry that is not itself a trusted proxy. An untrusted peer's header is ignored, so a
/// client cannot dodge the limit by inventing addresses.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer_ip = peer.ip().to_canonical();
    if !trusted.contains(&peer_ip) {
        return peer_ip;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .map(|ip| ip.to_canonical())
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let peer = SocketAddr::new(proxy, 4000);
        let h = headers("203.0.113.9, 198.51.100.7");
        assert_eq!(client_ip(peer, &h, &[]), proxy);
        assert_eq!(
            client_ip(peer, &h, &[proxy]),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        let chain: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(peer, &h, &[proxy, chain]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(peer, &headers("garbage"), &[proxy]), proxy);
    }
}
