//! Berth's own HTTP health probe: a GET from the host to a replica's address on its team
//! network. 2xx and 3xx are healthy.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether `http://ip:port{path}` answers 2xx/3xx within `timeout`. `path` is validated
/// (starts with '/', no whitespace or control characters) before it gets here.
pub async fn http_ok(ip: &str, port: u16, path: &str, timeout: Duration) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect((ip, port)).await.ok()?;
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {ip}:{port}\r\nUser-Agent: berth-health\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 64];
        let mut len = 0;
        while len < 12 {
            let n = stream.read(&mut head[len..]).await.ok()?;
            if n == 0 {
                break;
            }
            len += n;
        }
        status_is_ok(&head[..len])
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Whether `ip:port` accepts a TCP connection within `timeout`: readiness of a routed
/// replica that has no health check of its own.
pub async fn tcp_ok(ip: &str, port: u16, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, TcpStream::connect((ip, port))).await,
        Ok(Ok(_))
    )
}

/// "HTTP/1.x 2xx" or "3xx".
fn status_is_ok(head: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(head.get(..12)?).ok()?;
    let code: u16 = text.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()?;
    Some((200..400).contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_line() {
        assert_eq!(status_is_ok(b"HTTP/1.0 200 OK\r\n"), Some(true));
        assert_eq!(status_is_ok(b"HTTP/1.1 302 Found"), Some(true));
        assert_eq!(status_is_ok(b"HTTP/1.1 404 Not Found"), Some(false));
        assert_eq!(status_is_ok(b"HTTP/1.1 500 Oops"), Some(false));
        assert_eq!(status_is_ok(b"SSH-2.0-OpenSSH"), None);
        assert_eq!(status_is_ok(b"HTTP/1"), None);
    }

    #[tokio::test]
    async fn probes_a_real_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            for answer in [
                "HTTP/1.0 204 No Content\r\n\r\n",
                "HTTP/1.0 503 Busy\r\n\r\n",
            ] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                s.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let t = Duration::from_secs(2);
        assert!(http_ok("127.0.0.1", port, "/healthz", t).await);
        assert!(!http_ok("127.0.0.1", port, "/healthz", t).await);
        assert!(!http_ok("127.0.0.1", port, "/healthz", Duration::from_millis(200)).await);
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
