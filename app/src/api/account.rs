//! The signed-in user's own account: their password.

use leptos::prelude::*;

/// Changes the caller's password (the current one is required) and ends every other
/// sign-in of theirs. Returns how many other sessions were ended.
#[server(name = ChangePassword, prefix = "/api", endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<u64, ServerFnError> {
    use crate::api::context::{actor_of, require_member, server_context};
    use crate::domain::account::validate_new_password;
    use crate::store::accounts;
    let me = require_member()?;
    if me.token.is_some() {
        return Err(ServerFnError::new("An API token can't change a password."));
    }
    let ctx = server_context()?;
    let fail = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "changing a password");
        ServerFnError::new("Something went wrong on the server; it was logged.")
    };
    let stored = accounts::password_hash(&ctx.pool, me.user.id)
        .await
        .map_err(fail)?
        .unwrap_or_default();
    if !ctx.passwords.verify(current, stored).await {
        crate::api::context::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
        return Err(ServerFnError::new("Your current password is not right."));
    }
    let new = validate_new_password(&new)
        .map_err(|e| ServerFnError::new(e.message()))?
        .to_owned();
    let hash =
        ctx.passwords.hash(new).await.ok_or_else(|| {
            ServerFnError::new("Something went wrong on the server; it was logged.")
        })?;
    accounts::set_password(&ctx.pool, actor_of(&me), me.user.id, &hash, me.login)
        .await
        .map_err(fail)
}
