//! Berth's own HTTP health probe: a GET from the host to a replica's address on its team
//! network. 2xx and 3xx are healthy; anything else is told by what it got.

use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one probe got: cheap to make and to compare (it runs on every pass); words only
/// when a failure is told ([`fmt::Display`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Answered 2xx or 3xx.
    Ok,
    /// Answered with this other status code.
    Status(u16),
    /// Nothing listens on the port.
    Refused,
    /// No answer within the timeout (whole seconds).
    TimedOut(u64),
    /// Connected, but the answer was not HTTP (or the connection broke).
    NotHttp,
}

impl Probe {
    pub fn is_ok(self) -> bool {
        self == Probe::Ok
    }
}

impl fmt::Display for Probe {
    /// "answered 400", "connection refused", "timed out after 5 s", "no HTTP answer".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Ok => write!(f, "answered 2xx/3xx"),
            Probe::Status(code) => write!(f, "answered {code}"),
            Probe::Refused => write!(f, "connection refused"),
            Probe::TimedOut(s) => write!(f, "timed out after {s} s"),
            Probe::NotHttp => write!(f, "no HTTP answer"),
        }
    }
}

/// `GET http://ip:port{path}` with `Host: host` (the replica's `ip:port` when `None`),
/// within `timeout`. `path` and `host` are validated (a path starting with '/' without
/// whitespace or control characters; a host name) before they get here.
pub async fn http(ip: &str, port: u16, path: &str, host: Option<&str>, timeout: Duration) -> Probe {
    let attempt = async {
        let mut stream = match TcpStream::connect((ip, port)).await {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Probe::Refused,
            Err(_) => return Probe::NotHttp,
        };
        let host = host.map_or_else(|| format!("{ip}:{port}"), str::to_owned);
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: berth-health\r\nConnection: close\r\n\r\n"
        );
        if stream.write_all(request.as_bytes()).await.is_err() {
            return Probe::NotHttp;
        }
        let mut head = [0u8; 64];
        let mut len = 0;
        while len < 12 {
            match stream.read(&mut head[len..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
        }
        match status_code(&head[..len]) {
            Some(code) if (200..400).contains(&code) => Probe::Ok,
            Some(code) => Probe::Status(code),
            None => Probe::NotHttp,
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(Probe::TimedOut(timeout.as_secs().max(1)))
}

/// Whether `ip:port` accepts a TCP connection within `timeout`: readiness of a routed
/// replica that has no health check of its own.
pub async fn tcp_ok(ip: &str, port: u16, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, TcpStream::connect((ip, port))).await,
        Ok(Ok(_))
    )
}

/// The code of "HTTP/1.x NNN".
fn status_code(head: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(head.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_line() {
        assert_eq!(status_code(b"HTTP/1.0 200 OK\r\n"), Some(200));
        assert_eq!(status_code(b"HTTP/1.1 302 Found"), Some(302));
        assert_eq!(status_code(b"HTTP/1.1 404 Not Found"), Some(404));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH"), None);
        assert_eq!(status_code(b"HTTP/1"), None);
    }

    #[test]
    fn a_failure_says_what_it_got() {
        assert_eq!(Probe::Status(400).to_string(), "answered 400");
        assert_eq!(Probe::Refused.to_string(), "connection refused");
        assert_eq!(Probe::TimedOut(5).to_string(), "timed out after 5 s");
    }

    #[tokio::test]
    async fn probes_a_real_socket_with_the_host_asked_for() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut hosts = Vec::new();
            for answer in [
                "HTTP/1.0 204 No Content\r\n\r\n",
                "HTTP/1.0 400 Bad Host\r\n\r\n",
                "",
            ] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).await.unwrap();
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                hosts.push(
                    request
                        .lines()
                        .find_map(|l| l.strip_prefix("Host: "))
                        .unwrap_or_default()
                        .to_owned(),
                );
                if answer.is_empty() {
                    // Silent: the probe times out.
                    tokio::time::sleep(Duration::from_secs(2)).await;
                } else {
                    s.write_all(answer.as_bytes()).await.unwrap();
                }
            }
            hosts
        });
        let t = Duration::from_secs(2);
        let app = Some("app.example.test");
        assert_eq!(http("127.0.0.1", port, "/healthz", app, t).await, Probe::Ok);
        assert_eq!(
            http("127.0.0.1", port, "/healthz", None, t).await,
            Probe::Status(400)
        );
        let short = Duration::from_millis(300);
        assert_eq!(
            http("127.0.0.1", port, "/", app, short).await,
            Probe::TimedOut(1)
        );
        let hosts = server.await.unwrap();
        assert_eq!(hosts[0], "app.example.test");
        assert_eq!(hosts[1], format!("127.0.0.1:{port}"));
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let t = Duration::from_secs(2);
        assert_eq!(http("127.0.0.1", port, "/", None, t).await, Probe::Refused);
    }

    #[tokio::test]
    async fn tcp_probe_needs_a_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = Duration::from_secs(2);
        assert!(tcp_ok("127.0.0.1", port, t).await);
        drop(listener);
        assert!(!tcp_ok("127.0.0.1", port, t).await);
    }
}
