//! Passwords, sessions and sign-in limits.

pub mod password;
pub mod rate_limit;
pub mod session;
