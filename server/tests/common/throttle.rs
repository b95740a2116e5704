//! A slow link for tests: a TCP proxy on loopback that forwards to a local port, passing
//! requests at full speed and answers at a fixed rate (bytes per second, per connection).
//! Put in front of a registry, it makes a pull of a few MB take seconds.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The proxy; it stops (with every connection through it) when dropped.
pub struct ThrottledProxy {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl ThrottledProxy {
    /// Listens on a free loopback port, forwarding to `127.0.0.1:target`, answers at
    /// `bytes_per_s`.
    pub async fn start(target: u16, bytes_per_s: u64) -> ThrottledProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            // Dropped with this task: every connection stops with the proxy.
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                connections.spawn(forward(client, target, bytes_per_s));
            }
        });
        ThrottledProxy { port, task }
    }

    /// `localhost:PORT`, the registry part of an image reference through the proxy.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }
}

impl Drop for ThrottledProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(client: TcpStream, target: u16, bytes_per_s: u64) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    };
    let down = async {
        let chunk = (bytes_per_s / 10).clamp(512, 64 * 1024) as usize;
        let mut buf = vec![0u8; chunk];
        let began = Instant::now();
        let mut sent = 0u64;
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
            sent += n as u64;
            let due = began + Duration::from_secs_f64(sent as f64 / bytes_per_s as f64);
            tokio::time::sleep_until(due).await;
        }
        let _ = client_write.shutdown().await;
    };
    tokio::join!(up, down);
}
