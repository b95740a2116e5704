//! Where the built site (wasm bundle, CSS, static files) is, wherever berth is started from.

use leptos::config::{Env, LeptosOptions};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

/// The bundle's file name stem: `scripts/build` writes `pkg/berth.js`, `pkg/berth_bg.wasm`
/// (the name leptos' hydration script asks for when built without cargo-leptos) and
/// `pkg/berth.css`.
pub const OUTPUT_NAME: &str = "berth";

/// The configured folder, or the first of: `LEPTOS_SITE_ROOT`, `<exe dir>/site`,
/// `<exe dir>/../site` (cargo's target/site next to target/release), `./target/site`.
pub fn find_site_root(configured: Option<&Path>) -> PathBuf {
    if let Some(dir) = configured {
        return dir.to_owned();
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned));
    let candidates: Vec<PathBuf> = [
        std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from),
        exe_dir.as_ref().map(|d| d.join("site")),
        exe_dir
            .as_ref()
            .and_then(|d| d.parent().map(|p| p.join("site"))),
        Some(PathBuf::from("target/site")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let bundle = format!("pkg/{OUTPUT_NAME}.js");
    match candidates.iter().find(|dir| dir.join(&bundle).is_file()) {
        Some(dir) => dir.canonicalize().unwrap_or_else(|_| dir.clone()),
        None => {
            tracing::warn!(
                tried = ?candidates,
                "site assets not found: pages will render without styles or interactivity; build with `scripts/build` or set BERTH_SITE_ROOT"
            );
            candidates
                .into_iter()
                .next()
                .unwrap_or_else(|| PathBuf::from("site"))
        }
    }
}

pub fn leptos_options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        .build()
}
