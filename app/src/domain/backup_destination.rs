//! A team's S3-compatible backup destination (AWS S3, MinIO, Ceph, Garage, …): what may be
//! saved, and the pure rules — which host a request goes to (path-style or virtual-hosted),
//! and the key an archive gets under the path prefix.

use super::service::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a person saves. `secret_access_key` empty or absent keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DestinationForm {
    /// The S3 API's base URL, `https://…` (or `http://…`), no path: e.g.
    /// `https://s3.eu-central-1.amazonaws.com` or `http://minio.internal:9000`.
    #[cfg_attr(feature = "ssr", schema(max_length = 300))]
    pub endpoint: String,
    /// The bucket's region (`us-east-1` for most S3-compatible servers).
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub region: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 3, max_length = 63))]
    pub bucket: String,
    /// Objects go under this folder (`berth/prod` → `berth/prod/<file>`); empty: the root.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub prefix: String,
    #[cfg_attr(feature = "ssr", schema(max_length = 128))]
    pub access_key_id: String,
    /// Sealed at rest and never shown again; empty or absent keeps the stored one.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 256))]
    pub secret_access_key: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`, what MinIO and most self-hosted servers
    /// want); `false`: virtual-hosted (`bucket.endpoint/key`, AWS's default). Default true.
    #[serde(default = "yes")]
    pub path_style: bool,
}

fn yes() -> bool {
    true
}

/// A saved destination as shown (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DestinationView {
    pub id: Uuid,
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub prefix: String,
    pub access_key_id: String,
    pub path_style: bool,
    /// A secret access key is stored (it is never sent back).
    pub has_secret: bool,
    pub updated_at: DateTime<Utc>,
}

/// How a connection test went: `ok`, or the error the server (or the address check) gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionTest {
    pub ok: bool,
    /// What happened, in one line.
    pub message: String,
}

/// A checked destination; `secret` is `None` when the stored one is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDestination {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub prefix: String,
    pub access_key_id: String,
    pub secret: Option<String>,
    pub path_style: bool,
}

/// Where requests go and how: what the S3 client and the address check need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The endpoint the S3 client is given (with the bucket in the host when
    /// virtual-hosted).
    pub endpoint: String,
    /// The host every request connects to, and its port.
    pub host: String,
    pub port: u16,
}

impl ValidDestination {
    /// The host (and port) requests go to: the endpoint's, or `bucket.<endpoint's host>`
    /// for virtual-hosted requests.
    pub fn target(&self) -> Target {
        target(&self.endpoint, &self.bucket, self.path_style)
    }
}

/// See [`ValidDestination::target`]; `endpoint` is a checked `http(s)://host[:port]`.
pub fn target(endpoint: &str, bucket: &str, path_style: bool) -> Target {
    let url = url::Url::parse(endpoint).ok();
    let host = url
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(443);
    if path_style {
        return Target {
            endpoint: endpoint.to_owned(),
            host,
            port,
        };
    }
    let scheme = url.as_ref().map(|u| u.scheme()).unwrap_or("https");
    let host = format!("{bucket}.{host}");
    let explicit_port = url.as_ref().and_then(|u| u.port());
    let endpoint = match explicit_port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    };
    Target {
        endpoint,
        host,
        port,
    }
}

/// The object key of `file` under `prefix`.
pub fn object_key(prefix: &str, file: &str) -> String {
    if prefix.is_empty() {
        file.to_owned()
    } else {
        format!("{prefix}/{file}")
    }
}

/// Checks every field (`had_secret`: a secret is stored, so none need be sent); each
/// broken rule names its field. The endpoint's address is judged by the command (it
/// resolves the name).
pub fn validate(
    form: DestinationForm,
    had_secret: bool,
) -> Result<ValidDestination, Vec<FieldError>> {
    let mut errors = Vec::new();
    let endpoint = match check_endpoint(form.endpoint.trim()) {
        Ok(e) => e,
        Err(why) => {
            errors.push(FieldError::new("endpoint", why));
            String::new()
        }
    };
    let ip_host = url::Url::parse(&endpoint)
        .ok()
        .is_some_and(|u| matches!(u.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))));
    if !form.path_style && ip_host {
        errors.push(FieldError::new(
            "path_style",
            "Virtual-hosted requests put the bucket in a host name: an endpoint given as an IP address needs path-style requests.",
        ));
    }
    let region = form.region.trim().to_owned();
    if region.is_empty()
        || region.len() > 64
        || !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        errors.push(FieldError::new(
            "region",
            "A region name such as us-east-1 (letters, digits, - and _).",
        ));
    }
    let bucket = form.bucket.trim().to_owned();
    if let Err(why) = check_bucket(&bucket) {
        errors.push(FieldError::new("bucket", why));
    }
    let prefix = form.prefix.trim().trim_matches('/').to_owned();
    let prefix_ok = prefix.len() <= 200
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && (prefix.is_empty()
            || prefix
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != ".."));
    if !prefix_ok {
        errors.push(FieldError::new(
            "prefix",
            "A folder path of letters, digits, - _ . and / (no empty, . or .. parts), at most 200 characters.",
        ));
    }
    let access_key_id = form.access_key_id.trim().to_owned();
    if access_key_id.is_empty()
        || access_key_id.len() > 128
        || !access_key_id.chars().all(|c| c.is_ascii_graphic())
    {
        errors.push(FieldError::new(
            "access_key_id",
            "The access key id: 1 to 128 visible characters, no spaces.",
        ));
    }
    let secret = form
        .secret_access_key
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    match &secret {
        None if !had_secret => errors.push(FieldError::new(
            "secret_access_key",
            "The secret access key is needed (it is stored sealed and never shown again).",
        )),
        Some(s) if s.len() > 256 || !s.chars().all(|c| c.is_ascii_graphic()) => {
            errors.push(FieldError::new(
                "secret_access_key",
                "The secret access key: at most 256 visible characters, no spaces.",
            ))
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(ValidDestination {
            endpoint,
            region,
            bucket,
            prefix,
            access_key_id,
            secret,
            path_style: form.path_style,
        })
    } else {
        Err(errors)
    }
}

/// `http(s)://host[:port]` with nothing else (a trailing `/` is dropped).
fn check_endpoint(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw)
        .map_err(|_| "A URL such as https://s3.example.com or http://minio:9000.".to_owned())?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("The endpoint is an https:// (or http://) URL.".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("The endpoint names no host.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("No user or password in the URL: use the access key fields.".into());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(
            "Only scheme, host and port: put the bucket and folder in their own fields.".into(),
        );
    }
    if raw.len() > 300 {
        return Err("At most 300 characters.".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// S3's bucket naming rules (3–63 lowercase letters, digits, `.` and `-`, starting and
/// ending with a letter or digit).
fn check_bucket(b: &str) -> Result<(), &'static str> {
    let ok = (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
        && b.starts_with(|c: char| c.is_ascii_alphanumeric())
        && b.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !b.contains("..");
    if ok {
        Ok(())
    } else {
        Err("A bucket name: 3 to 63 lowercase letters, digits, . and -, starting and ending with a letter or digit.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> DestinationForm {
        DestinationForm {
            endpoint: "http://minio.example.com:9000/".into(),
            region: "us-east-1".into(),
            bucket: "berth-backups".into(),
            prefix: "/prod/berth/".into(),
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: Some("s3cr3t".into()),
            path_style: true,
        }
    }

    #[test]
    fn a_good_form_is_tidied() {
        let d = validate(form(), false).unwrap();
        assert_eq!(d.endpoint, "http://minio.example.com:9000");
        assert_eq!(d.prefix, "prod/berth");
        assert_eq!(object_key(&d.prefix, "a.tar.gz"), "prod/berth/a.tar.gz");
        assert_eq!(object_key("", "a.tar.gz"), "a.tar.gz");
        let t = d.target();
        assert_eq!((t.host.as_str(), t.port), ("minio.example.com", 9000));
        assert_eq!(t.endpoint, "http://minio.example.com:9000");
    }

    #[test]
    fn virtual_hosted_requests_go_to_the_bucket_host() {
        let t = target("https://s3.eu-central-1.amazonaws.com", "b1", false);
        assert_eq!(t.host, "b1.s3.eu-central-1.amazonaws.com");
        assert_eq!(t.port, 443);
        assert_eq!(t.endpoint, "https://b1.s3.eu-central-1.amazonaws.com");
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = DestinationForm {
            endpoint: "ftp://x/".into(),
            region: "".into(),
            bucket: "No_Caps".into(),
            prefix: "a/../b".into(),
            access_key_id: "has space".into(),
            secret_access_key: None,
            path_style: true,
        };
        let fields: Vec<String> = validate(bad, false)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "endpoint",
                "region",
                "bucket",
                "prefix",
                "access_key_id",
                "secret_access_key"
            ]
        );
        for endpoint in [
            "https://u:p@s3.example.com",
            "https://s3.example.com/bucket",
            "https://s3.example.com/?x=1",
            "not a url",
        ] {
            let f = DestinationForm {
                endpoint: endpoint.into(),
                ..form()
            };
            assert!(validate(f, false).is_err(), "{endpoint}");
        }
    }

    #[test]
    fn an_ip_endpoint_needs_path_style() {
        let f = DestinationForm {
            endpoint: "http://127.0.0.1:9000".into(),
            path_style: false,
            ..form()
        };
        let fields: Vec<String> = validate(f, false)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["path_style"]);
    }

    #[test]
    fn a_stored_secret_may_be_kept() {
        let f = DestinationForm {
            secret_access_key: Some(" ".into()),
            ..form()
        };
        assert_eq!(validate(f, true).unwrap().secret, None);
    }
}
