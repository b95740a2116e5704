//! Image builds through the engine adapter, against the real Docker engine.

mod common;

use common::images::{build_httpd, unique_tag};
use server::engine::{BuildContext, Engine, ImageError};

#[tokio::test]
async fn builds_a_scratch_busybox_image_and_removes_it() {
    let engine = Engine::new(None);
    let tag = unique_tag("httpd");
    let log = build_httpd(&engine, &tag, "hello from berth\n").await;
    assert!(
        log.iter().any(|l| l.starts_with("Step 1/")),
        "build output streamed: {log:?}"
    );
    assert!(engine.image_exists(&tag).await.unwrap());

    engine.remove_image(&tag).await.unwrap();
    assert!(!engine.image_exists(&tag).await.unwrap());
    engine
        .remove_image(&tag)
        .await
        .expect("removing a removed image is success");
}

#[tokio::test]
async fn a_failing_build_says_why() {
    let engine = Engine::new(None);
    let tag = unique_tag("broken");
    let mut ctx = BuildContext::new();
    ctx.add_file("Dockerfile", b"FROM scratch\nCOPY missing-file /x\n", 0o644)
        .unwrap();
    let mut log = Vec::new();
    let err = engine
        .build_image(&tag, ctx, |l| log.push(l.to_owned()))
        .await
        .unwrap_err();
    match &err {
        ImageError::BuildFailed { reason, .. } => {
            assert!(reason.contains("missing-file"), "{reason}")
        }
        other => panic!("expected a build failure, got {other}"),
    }
    assert!(err
        .to_string()
        .starts_with(&format!("could not build image {tag}:")));
    assert!(
        log.iter().any(|l| l.contains("missing-file")),
        "the reason is in the log too: {log:?}"
    );
    assert!(!engine.image_exists(&tag).await.unwrap());
}

#[tokio::test]
async fn an_unreachable_engine_is_an_error_not_a_hang() {
    let engine = Engine::new(Some("unix:///nonexistent/docker.sock"));
    let err = engine.image_exists("busybox").await.unwrap_err();
    assert!(matches!(err, ImageError::Engine(_)), "{err}");
}
