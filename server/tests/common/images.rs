//! Test images built through Berth's own build code: the static busybox binary from
//! Debian's busybox-static package in a `FROM scratch` image. No registry needed.

use server::engine::{BuildContext, Engine};

pub const BUSYBOX: &str = "/bin/busybox";

/// A web server answering `body` on port 8080 (`busybox httpd`).
pub fn httpd_context(body: &str) -> BuildContext {
    let busybox = std::fs::read(BUSYBOX).expect("busybox-static is installed by scripts/setup");
    let mut ctx = BuildContext::new();
    ctx.add_file(
        "Dockerfile",
        b"FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nENTRYPOINT [\"/bin/busybox\"]\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
        0o644,
    )
    .unwrap()
    .add_file("busybox", &busybox, 0o755)
    .unwrap()
    .add_file("www/index.html", body.as_bytes(), 0o644)
    .unwrap()
    // A CGI script that prints the container's environment, to check values arrive intact.
    .add_file(
        "www/cgi-bin/env",
        b"#!/bin/busybox sh\necho 'Content-Type: text/plain'\necho\n/bin/busybox env\n",
        0o755,
    )
    .unwrap();
    ctx
}

/// A unique tag per test, so parallel tests never share an image.
pub fn unique_tag(name: &str) -> String {
    format!(
        "berth-test/{name}:{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub async fn build_httpd(engine: &Engine, tag: &str, body: &str) -> Vec<String> {
    let mut log = Vec::new();
    engine
        .build_image(tag, httpd_context(body), |l| log.push(l.to_owned()))
        .await
        .expect("test image builds");
    log
}
