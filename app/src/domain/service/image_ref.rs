//! Docker image references, checked against the distribution grammar:
//! `[host[:port]/]path[:tag][@algorithm:hex]`, path components lowercase
//! alphanumerics joined by `.`, `_`, `__` or runs of `-`. Nothing else gets through, so no
//! shell metacharacter, space or option-looking string can reach the engine.

const MAX_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub domain: Option<String>,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// The reference as the engine takes it; `latest` when neither tag nor digest is given.
    pub fn canonical(&self) -> String {
        let mut s = match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        };
        match (&self.tag, &self.digest) {
            (Some(t), _) => {
                s.push(':');
                s.push_str(t);
            }
            (None, None) => s.push_str(":latest"),
            _ => {}
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

pub fn parse_image_ref(input: &str) -> Result<ImageRef, &'static str> {
    if input.is_empty() {
        return Err("Enter an image, e.g. nginx:1.27 or registry.example.com/team/app:v2.");
    }
    if input.len() > MAX_LEN {
        return Err("An image reference can be at most 255 characters.");
    }
    let (rest, digest) = match input.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (input, None),
    };
    if let Some(d) = digest {
        valid_digest(d)?;
    }
    // A ':' after the last '/' starts the tag (before it, it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        valid_tag(t)?;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let domain = if parts.len() > 1 && looks_like_domain(parts[0]) {
        let d = parts.remove(0);
        valid_domain(d)?;
        Some(d.to_owned())
    } else {
        None
    };
    for p in &parts {
        valid_path_component(p)?;
    }
    Ok(ImageRef {
        domain,
        path: parts.join("/"),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::to_owned),
    })
}

/// The registry an image is pulled from (`host[:port]`, lowercase), `docker.io` when the
/// reference names none: a stored registry password is kept, and opens, only for it.
pub fn registry_host(image: &str) -> String {
    match parse_image_ref(image).ok().and_then(|r| r.domain) {
        Some(d) if !matches!(d.as_str(), "index.docker.io" | "registry-1.docker.io") => {
            d.to_ascii_lowercase()
        }
        _ => "docker.io".to_owned(),
    }
}

/// Docker's rule: the first component is a registry if it has a '.' or ':' or is "localhost".
fn looks_like_domain(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn valid_domain(d: &str) -> Result<(), &'static str> {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err("The registry port must be a number.");
        }
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.is_empty() || !host.split('.').all(label_ok) {
        return Err("The registry host name is not valid.");
    }
    Ok(())
}

fn valid_path_component(p: &str) -> Result<(), &'static str> {
    const MSG: &str =
        "Image names use lowercase letters, digits and single '.', '_', '__' or '-' separators (e.g. my-team/web-app).";
    let bytes = p.as_bytes();
    if bytes.is_empty()
        || !bytes[0].is_ascii_alphanumeric()
        || !bytes[bytes.len() - 1].is_ascii_alphanumeric()
    {
        return Err(MSG);
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            i += 1;
            continue;
        }
        // A separator: '.', '_', '__', or one or more '-'.
        let sep_len = match b {
            b'.' => 1,
            b'_' if bytes.get(i + 1) == Some(&b'_') => 2,
            b'_' => 1,
            b'-' => bytes[i..].iter().take_while(|c| **c == b'-').count(),
            _ => return Err(MSG),
        };
        i += sep_len;
        if !bytes
            .get(i)
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(MSG);
        }
    }
    Ok(())
}

fn valid_tag(t: &str) -> Result<(), &'static str> {
    const MSG: &str =
        "A tag has 1–128 letters, digits, '_', '.' or '-', and does not start with '.' or '-'.";
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(MSG)
    }
}

fn valid_digest(d: &str) -> Result<(), &'static str> {
    const MSG: &str = "A digest looks like sha256:<64 hex digits>.";
    let Some((algo, hex)) = d.split_once(':') else {
        return Err(MSG);
    };
    let algo_ok = !algo.is_empty()
        && algo.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'.' | b'_' | b'-')
        });
    let hex_ok = hex.len() >= 32
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if algo_ok && hex_ok {
        Ok(())
    } else {
        Err(MSG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_docker_accepts() {
        let cases = [
            ("nginx", None, "nginx", None),
            ("nginx:1.27-alpine", None, "nginx", Some("1.27-alpine")),
            (
                "library/busybox:latest",
                None,
                "library/busybox",
                Some("latest"),
            ),
            (
                "localhost:5000/team/app:v2",
                Some("localhost:5000"),
                "team/app",
                Some("v2"),
            ),
            (
                "registry.example.com/a/b/c",
                Some("registry.example.com"),
                "a/b/c",
                None,
            ),
            (
                "berth/acme/web:0123456789ab",
                None,
                "berth/acme/web",
                Some("0123456789ab"),
            ),
            ("my_app__x.y--z", None, "my_app__x.y--z", None),
        ];
        for (input, domain, path, tag) in cases {
            let r = parse_image_ref(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (r.domain.as_deref(), r.path.as_str(), r.tag.as_deref()),
                (domain, path, tag),
                "{input}"
            );
        }
        let digest = format!("alpine@sha256:{}", "a".repeat(64));
        assert_eq!(parse_image_ref(&digest).unwrap().canonical(), digest);
        assert_eq!(
            parse_image_ref("nginx").unwrap().canonical(),
            "nginx:latest"
        );
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-tag",
            "nginx:.tag",
            "nginx;rm -rf /",
            "nginx && id",
            "$(id)",
            "`id`",
            "nginx latest",
            "--privileged",
            "-v/:/host",
            "nginx|cat",
            "a//b",
            "/nginx",
            "nginx/",
            "nginx..x",
            "nginx___x",
            "nginx@sha256:xyz",
            "nginx@md5",
            "registry.example.com:port/app",
            "-bad.example.com/app",
            "nginx\n",
            "nginx:tag\u{0}",
        ] {
            assert!(parse_image_ref(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_image_ref(&"a".repeat(256)).is_err());
        assert!(parse_image_ref(&format!("nginx:{}", "t".repeat(129))).is_err());
    }
}
