//! Server functions behind the notifications page: the same commands, rules and
//! permission table as `/api/v1/notifications/…`.

use crate::domain::notification::NotificationsConsole;
use leptos::prelude::*;
use std::collections::HashMap;

#[cfg(feature = "ssr")]
use super::team::guard;

/// How many lines of each channel's delivery log the page shows.
pub const LOG_LINES: i64 = 20;

/// The page's data: the team's channels, each with the newest lines of its log.
#[server(name = GetNotifications, prefix = "/api", endpoint = "notifications_console")]
pub async fn notifications_console() -> Result<NotificationsConsole, ServerFnError> {
    use crate::commands::notifications as command;
    use crate::domain::notification::ChannelLog;
    use crate::domain::Permission;
    let (ctx, me, _) = crate::api::context::require(Permission::ReadNotifications)?;
    let caller = crate::commands::Caller::of(&me, crate::api::context::client_addr());
    let refused = |e| guard::refused("channel", e);
    let mut channels = Vec::new();
    for channel in command::list(ctx.deps(), &caller).await.map_err(refused)? {
        let deliveries = command::deliveries(ctx.deps(), &caller, channel.id, LOG_LINES, None)
            .await
            .map_err(refused)?;
        channels.push(ChannelLog {
            channel,
            deliveries,
        });
    }
    Ok(NotificationsConsole {
        can_manage: me.role.allows(Permission::ManageNotifications),
        me,
        channels,
    })
}

/// Creates a channel, or replaces the one `form[id]` names (the form's plain fields: see
/// `channel_form_from_fields`).
#[server(name = SaveChannel, prefix = "/api", endpoint = "save_channel")]
pub async fn save_channel(form: HashMap<String, String>) -> Result<(), ServerFnError> {
    use crate::commands::notifications as command;
    use crate::domain::notification::channel_form_from_fields;
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::ManageNotifications)
        .map_err(|e| guard::refused("channel", e))?;
    let channel = channel_form_from_fields(&form);
    let done = match form.get("id").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(id) => {
            let id = guard::id(id, "channel")?;
            command::replace(ctx.deps(), &caller, id, channel).await
        }
        None => command::create(ctx.deps(), &caller, channel).await,
    };
    done.map(|_| ()).map_err(|e| guard::refused("channel", e))
}

#[server(name = DeleteChannel, prefix = "/api", endpoint = "delete_channel")]
pub async fn delete_channel(id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::ManageNotifications)
        .map_err(|e| guard::refused("channel", e))?;
    let id = guard::id(&id, "channel")?;
    crate::commands::notifications::delete(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("channel", e))
}

/// Queues a test message to the channel; answers the delivery's id.
#[server(name = TestChannel, prefix = "/api", endpoint = "test_channel")]
pub async fn test_channel(id: String) -> Result<i64, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::ManageNotifications)
        .map_err(|e| guard::refused("channel", e))?;
    let id = guard::id(&id, "channel")?;
    crate::commands::notifications::send_test(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("channel", e))
}
