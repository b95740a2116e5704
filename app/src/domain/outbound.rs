//! Which addresses Berth may connect to on a user's behalf (git fetches today, notification
//! webhooks later). Pure: the caller resolves a name and asks about every address it got,
//! then connects to one it asked about.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why Berth refuses to connect to `ip` for a user (unless an owner allowed private
/// targets), or `None` for a public address. Refused: loopback, unspecified, link-local
/// (169.254/16, fe80::/10), private (10/8, 172.16/12, 192.168/16), shared CGNAT
/// (100.64/10), unique-local (fc00::/7), the cloud metadata addresses (169.254.169.254,
/// fd00:ec2::254), multicast, broadcast, and any of these inside IPv6 (IPv4-mapped,
/// IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`).
pub fn refused_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_private() {
        Some("a private address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if ip.is_broadcast() {
        Some("a broadcast address")
    } else if ip.is_multicast() || a >= 240 {
        Some("a multicast or reserved address")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return refused_v4(v4);
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if seg[0] & 0xfe00 == 0xfc00 {
        Some("a unique-local (private) address")
    } else if seg[0] & 0xffc0 == 0xfec0 {
        Some("a site-local (private) address")
    } else if ip.is_multicast() {
        Some("a multicast or reserved address")
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let low =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if seg[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(low(seg[6], seg[7]));
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return Some(low(seg[1], seg[2]));
    }
    None
}

/// The answer a refused address gets, naming what it is: "… is a loopback address; …".
pub fn refusal_message(host: &str, reason: &str) -> String {
    format!(
        "{host} is {reason}: Berth does not connect to internal addresses unless the instance owner allows private targets."
    )
}

/// A host name that always means this machine (`localhost`, `*.localhost`), refused like
/// a loopback address before any lookup.
pub fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        refused_reason(s.parse().unwrap()).is_some()
    }

    #[test]
    fn internal_ipv4_ranges_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(refused(ip), "{ip}");
        }
        assert_eq!(
            refused_reason("169.254.169.254".parse().unwrap()),
            Some("a cloud metadata address")
        );
    }

    #[test]
    fn public_ipv4_passes_including_neighbours_of_private_ranges() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "100.63.255.255",
            "192.169.0.1",
        ] {
            assert!(!refused(ip), "{ip}");
        }
    }

    #[test]
    fn internal_ipv6_and_embedded_ipv4_are_refused() {
        for ip in [
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fd00:ec2::254",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(refused(ip), "{ip}");
        }
        assert_eq!(
            refused_reason("fd00:ec2::254".parse().unwrap()),
            Some("a cloud metadata address")
        );
    }

    #[test]
    fn public_ipv6_passes() {
        for ip in ["2001:4860:4860::8888", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(!refused(ip), "{ip}");
        }
    }

    #[test]
    fn localhost_names_are_local() {
        assert!(is_local_name("localhost"));
        assert!(is_local_name("LOCALHOST."));
        assert!(is_local_name("a.localhost"));
        assert!(!is_local_name("localhost.example.com"));
    }
}
