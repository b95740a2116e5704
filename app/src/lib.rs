//! Berth's dashboard. Compiled twice: with `ssr` into the server (pages render to HTML,
//! server functions run, the store speaks SQL) and with `hydrate` into the browser bundle.

pub mod api;
mod app;
#[cfg(feature = "ssr")]
pub mod commands;
pub mod components;
pub mod domain;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;

pub use app::{shell, static_shell, App};

/// Browser entry point: attaches the reactive system to the server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
