//! Passwords and sign-in limits (the HTTP session layer is in `http::session`).

pub mod password;
pub mod rate_limit;
