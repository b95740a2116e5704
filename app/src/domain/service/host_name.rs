//! Domains a service is reached at: which host names Berth accepts, and the rules of a
//! service's HTTP route.

use super::field::FieldError;
use super::HttpRoute;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How the edge proxy listens: what a domain's public URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyListen {
    /// Automatic HTTPS (ACME certificates for every domain); off serves plain http only.
    pub tls: bool,
    pub http_port: u16,
    pub https_port: u16,
}

impl ProxyListen {
    /// `https://a.example.com`, or `http://a.test:8080` (the port only when not the default).
    pub fn url(&self, domain: &str) -> String {
        match (self.tls, self.https_port, self.http_port) {
            (true, 443, _) => format!("https://{domain}"),
            (true, p, _) => format!("https://{domain}:{p}"),
            (false, _, 80) => format!("http://{domain}"),
            (false, _, p) => format!("http://{domain}:{p}"),
        }
    }
}

pub const MAX_DOMAINS: usize = 20;

/// A fully qualified DNS name in lowercase: labels of 1–63 letters, digits or '-' (not at
/// either end), at least two labels, 253 characters at most, and a top-level label that
/// is not all digits (so no IP addresses). No wildcards, ports, schemes or paths.
pub fn validate_host_name(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("A domain cannot be empty.".into());
    }
    if host.len() > 253 {
        return Err(format!("{} is longer than 253 characters.", shorten(host)));
    }
    if host.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("{host}: write domains in lowercase."));
    }
    if host.contains("://") || host.contains('/') || host.contains(':') {
        return Err(format!(
            "{} is not a host name: leave out the scheme, port and path.",
            shorten(host)
        ));
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "{host} is not a full domain name (e.g. app.example.com)."
        ));
    }
    for label in &labels {
        if !super::field::is_dns_label(label) {
            return Err(format!(
                "{} is not a valid domain: each part between dots has 1–63 letters, digits or '-', not at either end.",
                shorten(host)
            ));
        }
    }
    if labels[labels.len() - 1].bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "{host} looks like an IP address: routes need a domain name."
        ));
    }
    Ok(())
}

fn shorten(s: &str) -> String {
    let short: String = s.chars().take(64).collect();
    if short.len() < s.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// The rules of `http`, with fields named `http.domains[i]`, `http.port`.
pub(super) fn check_route(route: &HttpRoute, errors: &mut Vec<FieldError>) {
    if route.domains.is_empty() {
        errors.push(FieldError::new(
            "http.domains",
            "Give at least one domain, or no HTTP route at all.",
        ));
    }
    if route.domains.len() > MAX_DOMAINS {
        errors.push(FieldError::new(
            "http.domains",
            format!("At most {MAX_DOMAINS} domains."),
        ));
    }
    let mut seen = HashSet::new();
    for (i, d) in route.domains.iter().enumerate() {
        if let Err(m) = validate_host_name(d) {
            errors.push(FieldError::new(format!("http.domains[{i}]"), m));
        } else if !seen.insert(d.as_str()) {
            errors.push(FieldError::new(
                format!("http.domains[{i}]"),
                format!("{d} is listed twice."),
            ));
        }
    }
    for (www, _) in route.www_twins() {
        if let Some(i) = route.domains.iter().position(|d| *d == www) {
            errors.push(FieldError::new(
                format!("http.domains[{i}]"),
                format!("{www} is listed and also redirected by the www option: keep one."),
            ));
        } else if www.len() > 253 {
            errors.push(FieldError::new(
                "http.www_redirect",
                format!("{} is too long for a domain.", shorten(&www)),
            ));
        }
    }
    if route.port == 0 {
        errors.push(FieldError::new("http.port", "A port goes from 1 to 65535."));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_host_names() {
        for h in [
            "example.com",
            "app.example.com",
            "a-b.c1.example.co.uk",
            "zd.berth.test",
            "app.localhost",
            "xn--bcher-kva.example",
        ] {
            assert_eq!(validate_host_name(h), Ok(()), "{h}");
        }
    }

    #[test]
    fn bad_host_names_say_why() {
        for (h, why) in [
            ("", "empty"),
            ("localhost", "full domain"),
            ("Example.com", "lowercase"),
            ("https://example.com", "scheme"),
            ("example.com:8080", "port"),
            ("example.com/path", "scheme"),
            ("-a.example.com", "each part"),
            ("a-.example.com", "each part"),
            ("a..example.com", "each part"),
            ("*.example.com", "each part"),
            ("exa mple.com", "each part"),
            ("exämple.com", "each part"),
            ("10.0.0.1", "IP address"),
            ("example.com.", "each part"),
        ] {
            let e = validate_host_name(h).expect_err(h);
            assert!(e.contains(why), "{h}: {e}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(validate_host_name(&long).is_err());
        let too_long = format!("{}com", "abcdefghi.".repeat(26));
        assert!(validate_host_name(&too_long).unwrap_err().contains("253"));
    }

    fn route(domains: &[&str]) -> HttpRoute {
        HttpRoute {
            domains: domains.iter().map(|d| d.to_string()).collect(),
            port: 8080,
            https_redirect: true,
            www_redirect: false,
        }
    }

    fn fields(r: &HttpRoute) -> Vec<String> {
        let mut errors = Vec::new();
        check_route(r, &mut errors);
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn route_rules() {
        assert!(fields(&route(&["a.example.com", "b.example.com"])).is_empty());
        assert_eq!(fields(&route(&[])), ["http.domains"]);
        assert_eq!(
            fields(&route(&["a.example.com", "a.example.com"])),
            ["http.domains[1]"]
        );
        assert_eq!(
            fields(&route(&["ok.example.com", "bad"])),
            ["http.domains[1]"]
        );
        let mut r = route(&["example.com", "www.example.com"]);
        assert!(fields(&r).is_empty());
        r.www_redirect = true;
        assert_eq!(fields(&r), ["http.domains[1]"]);
        let zero = HttpRoute {
            port: 0,
            ..route(&["a.example.com"])
        };
        assert_eq!(fields(&zero), ["http.port"]);
    }

    #[test]
    fn urls_name_the_port_only_when_it_is_not_the_default() {
        let tls = ProxyListen {
            tls: true,
            http_port: 80,
            https_port: 443,
        };
        assert_eq!(tls.url("a.example.com"), "https://a.example.com");
        let plain = ProxyListen {
            tls: false,
            http_port: 8081,
            https_port: 443,
        };
        assert_eq!(plain.url("a.test"), "http://a.test:8081");
        let p80 = ProxyListen {
            http_port: 80,
            ..plain
        };
        assert_eq!(p80.url("a.test"), "http://a.test");
    }

    #[test]
    fn hosts_include_www_twins_only_when_redirected() {
        let mut r = route(&["example.com", "www.other.com"]);
        assert_eq!(r.hosts(), ["example.com", "www.other.com"]);
        r.www_redirect = true;
        assert_eq!(
            r.hosts(),
            ["example.com", "www.other.com", "www.example.com"]
        );
    }
}
