//! Server functions behind the team console, the audit page, the invitation page and the
//! account settings: the same store, rules and permission table as the REST API.

use crate::domain::instance::InstanceSettings;
use crate::domain::team::{
    AuditFilter, AuditPage, InvitationOffer, InvitationView, InviteForm, LoginView, MemberView,
    MyTeam, NewInvitation, NewToken, TeamConsole, TokenForm, TokenView,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use crate::domain::team::InvitationProblem;
    use crate::store::StoreError;
    use http::StatusCode;
    use leptos::prelude::*;

    pub use crate::api::context::set_status as status;

    fn refuse(code: StatusCode, message: impl Into<String>) -> ServerFnError {
        status(code);
        ServerFnError::new(message.into())
    }

    /// An id from a form or a URL; a malformed one is as unknown as another team's.
    pub fn id(raw: &str, what: &str) -> Result<uuid::Uuid, ServerFnError> {
        raw.trim().parse().map_err(|_| not_found(what))
    }

    pub fn not_found(what: &str) -> ServerFnError {
        refuse(StatusCode::NOT_FOUND, format!("No such {what}."))
    }

    pub fn invalid(message: impl Into<String>) -> ServerFnError {
        refuse(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn store(e: StoreError) -> ServerFnError {
        tracing::error!(error = %e, "team console");
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on the server; it was logged.",
        )
    }

    /// A command's refusal, with its status; `what` names the thing in "No such …".
    pub fn refused(what: &str, e: crate::commands::CommandError) -> ServerFnError {
        use crate::commands::CommandError as E;
        match e {
            E::NotFound => not_found(what),
            E::Forbidden | E::ForbiddenBecause(_) => refuse(StatusCode::FORBIDDEN, e.message()),
            E::Invalid(_) | E::Taken(_) | E::Unprocessable(_) => invalid(e.message()),
            E::Conflict(_) | E::Stale => refuse(StatusCode::CONFLICT, e.message()),
            E::Internal(e) => store(e),
        }
    }

    /// The same statuses as `POST /auth/accept` answers with.
    pub fn problem(p: InvitationProblem) -> ServerFnError {
        let code = StatusCode::from_u16(p.status()).unwrap_or(StatusCode::BAD_REQUEST);
        refuse(code, p.message())
    }
}

/// The signed-in user's teams, for the team switcher (none when signed out: the top bar
/// asks on every page and must not turn a page into a 401).
#[server(name = MyTeams, prefix = "/api", endpoint = "my_teams")]
pub async fn my_teams() -> Result<Vec<MyTeam>, ServerFnError> {
    let Some(me) = crate::api::context::viewer() else {
        return Ok(Vec::new());
    };
    let ctx = crate::api::context::server_context()?;
    crate::store::team::my_teams(&ctx.pool, me.user.id)
        .await
        .map_err(guard::store)
}

/// The instance settings for the instance owner; `None` for anyone else (the team page
/// shows the form to the instance owner only).
#[server(name = GetInstanceSettings, prefix = "/api", endpoint = "instance_settings")]
pub async fn instance_settings() -> Result<Option<InstanceSettings>, ServerFnError> {
    use crate::commands::CommandError as E;
    let (ctx, caller) = crate::api::context::caller()?;
    match crate::commands::instance::show(ctx.deps(), &caller).await {
        Ok(s) => Ok(Some(s)),
        Err(E::Forbidden | E::ForbiddenBecause(_)) => Ok(None),
        Err(e) => Err(guard::refused("setting", e)),
    }
}

/// Replaces the instance settings (instance owner only; a checkbox: present = on).
#[server(name = SetInstanceSettings, prefix = "/api", endpoint = "set_instance_settings")]
pub async fn set_instance_settings(
    allow_private_targets: Option<String>,
) -> Result<InstanceSettings, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    let new = InstanceSettings {
        allow_private_targets: allow_private_targets.is_some(),
    };
    crate::commands::instance::update(ctx.deps(), &caller, new)
        .await
        .map_err(|e| guard::refused("setting", e))
}

/// The team page's data: members, and invitations and tokens when the role may see them.
#[server(name = GetTeamConsole, prefix = "/api", endpoint = "team_console")]
pub async fn team_console() -> Result<TeamConsole, ServerFnError> {
    use crate::domain::Permission;
    use crate::store::{invitations, team, tokens};
    let (ctx, me, _) = crate::api::context::require(Permission::ReadServices)?;
    let team_id = me.team.id;
    let members = team::members(&ctx.pool, team_id)
        .await
        .map_err(guard::store)?;
    let invitations = if me.role.allows(Permission::ManageMembers) {
        Some(
            invitations::pending(&ctx.pool, team_id)
                .await
                .map_err(guard::store)?,
        )
    } else {
        None
    };
    let tokens = if me.role.allows(Permission::ManageTokens) {
        Some(
            tokens::list(&ctx.pool, team_id)
                .await
                .map_err(guard::store)?,
        )
    } else {
        None
    };
    let instance = instance_settings().await?;
    Ok(TeamConsole {
        me,
        members,
        invitations,
        tokens,
        instance,
    })
}

#[server(name = TeamMembers, prefix = "/api", endpoint = "team_members")]
pub async fn team_members() -> Result<Vec<MemberView>, ServerFnError> {
    let (ctx, me, _) = crate::api::context::require(crate::domain::Permission::ReadServices)?;
    crate::store::team::members(&ctx.pool, me.team.id)
        .await
        .map_err(guard::store)
}

#[server(name = SetMemberRole, prefix = "/api", endpoint = "set_member_role")]
pub async fn set_member_role(user_id: String, role: String) -> Result<MemberView, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::ManageMembers)
        .map_err(|e| guard::refused("member", e))?;
    let user_id = guard::id(&user_id, "member")?;
    let role = crate::domain::team::parse_role(&role).map_err(guard::invalid)?;
    crate::commands::team::change_role(ctx.deps(), &caller, user_id, role)
        .await
        .map_err(|e| guard::refused("member", e))
}

/// Removes a member; anyone may remove themselves (leave the team), which ends up on the
/// overview of another of their teams.
#[server(name = RemoveMember, prefix = "/api", endpoint = "remove_member")]
pub async fn remove_member(user_id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    let user_id = guard::id(&user_id, "member")?;
    let leaving = caller.actor.by == crate::store::audit::By::User(user_id);
    crate::commands::team::remove_member(ctx.deps(), &caller, user_id)
        .await
        .map_err(|e| guard::refused("member", e))?;
    if leaving {
        leptos_axum::redirect("/");
    }
    Ok(())
}

/// Pending invitations.
#[server(name = ListInvitations, prefix = "/api", endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<InvitationView>, ServerFnError> {
    let (ctx, me, _) = crate::api::context::require(crate::domain::Permission::ManageMembers)?;
    crate::store::invitations::pending(&ctx.pool, me.team.id)
        .await
        .map_err(guard::store)
}

/// Invites an email with a role (never above the inviter's; the store checks the form); the
/// link is in the answer, this once.
#[server(name = Invite, prefix = "/api", endpoint = "invite")]
pub async fn invite(form: InviteForm) -> Result<NewInvitation, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::team::invite(ctx.deps(), &caller, &form, &ctx.public_base())
        .await
        .map_err(|e| guard::refused("invitation", e))
}

#[server(name = RevokeInvitation, prefix = "/api", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::ManageMembers)
        .map_err(|e| guard::refused("invitation", e))?;
    let id = guard::id(&id, "invitation")?;
    crate::commands::team::revoke_invitation(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("invitation", e))
}

/// The team's API tokens (revoked ones are not listed).
#[server(name = ListTokens, prefix = "/api", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenView>, ServerFnError> {
    let (ctx, me, _) = crate::api::context::require(crate::domain::Permission::ManageTokens)?;
    crate::store::tokens::list(&ctx.pool, me.team.id)
        .await
        .map_err(guard::store)
}

/// A new API token; its value is in the answer, this once.
#[server(name = CreateToken, prefix = "/api", endpoint = "create_token")]
pub async fn create_token(form: TokenForm) -> Result<NewToken, ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::team::create_token(ctx.deps(), &caller, &form)
        .await
        .map_err(|e| guard::refused("token", e))
}

#[server(name = RevokeToken, prefix = "/api", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::ManageTokens)
        .map_err(|e| guard::refused("token", e))?;
    let id = guard::id(&id, "token")?;
    crate::commands::team::revoke_token(ctx.deps(), &caller, id)
        .await
        .map_err(|e| guard::refused("token", e))
}

/// Renames the current team; the whole page is read again (the top bar shows the name).
#[server(name = RenameTeam, prefix = "/api", endpoint = "rename_team")]
pub async fn rename_team(name: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    crate::commands::team::rename(ctx.deps(), &caller, &name)
        .await
        .map_err(|e| guard::refused("team", e))?;
    leptos_axum::redirect("/team");
    Ok(())
}

/// Deletes the current team once `confirm` repeats its name (refused while it has
/// services).
#[server(name = DeleteTeam, prefix = "/api", endpoint = "delete_team")]
pub async fn delete_team(confirm: String) -> Result<(), ServerFnError> {
    let (ctx, me, _) = crate::api::context::require(crate::domain::Permission::OwnTeam)?;
    if confirm.trim() != me.team.name {
        return Err(guard::invalid("Type the team's name exactly to confirm."));
    }
    let caller = crate::commands::Caller::of(&me, crate::api::context::client_addr());
    crate::commands::team::delete(ctx.deps(), &caller)
        .await
        .map_err(|e| guard::refused("team", e))?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Makes a member the owner; the caller becomes an admin.
#[server(name = TransferOwnership, prefix = "/api", endpoint = "transfer_ownership")]
pub async fn transfer_ownership(user_id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = crate::api::context::caller()?;
    caller
        .may(crate::domain::Permission::OwnTeam)
        .map_err(|e| guard::refused("member", e))?;
    let user_id = guard::id(&user_id, "member")?;
    crate::commands::team::transfer_ownership(ctx.deps(), &caller, user_id)
        .await
        .map_err(|e| guard::refused("member", e))?;
    leptos_axum::redirect("/team");
    Ok(())
}

/// A page of the team's audit log, newest first.
#[server(name = AuditLog, prefix = "/api", endpoint = "audit_log")]
pub async fn audit_log(filter: AuditFilter) -> Result<AuditPage, ServerFnError> {
    let (ctx, me, _) = crate::api::context::require(crate::domain::Permission::ReadAudit)?;
    let filter = filter.validate().map_err(guard::invalid)?;
    crate::store::audit::page(&ctx.pool, me.team.id, &filter)
        .await
        .map_err(guard::store)
}

/// What an invitation link offers; no sign-in needed (the link is the secret). A link that
/// can't be used answers its problem's message.
#[server(name = GetInvitationOffer, prefix = "/api", endpoint = "invitation_offer")]
pub async fn invitation_offer(token: String) -> Result<InvitationOffer, ServerFnError> {
    use crate::domain::team::{looks_like_secret, InvitationProblem};
    if !looks_like_secret(&token) {
        return Err(guard::problem(InvitationProblem::Unknown));
    }
    let ctx = crate::api::context::server_context()?;
    crate::store::invitations::offer(&ctx.pool, &token)
        .await
        .map_err(guard::store)?
        .map_err(guard::problem)
}

/// The caller's own signed-in sessions.
#[server(name = MyLogins, prefix = "/api", endpoint = "my_logins")]
pub async fn my_logins() -> Result<Vec<LoginView>, ServerFnError> {
    let (ctx, me, _) = crate::api::context::require(crate::domain::Permission::ReadServices)?;
    crate::store::accounts::logins(&ctx.pool, me.user.id, me.login)
        .await
        .map_err(guard::store)
}

/// Signs out one of the caller's other sessions.
#[server(name = EndLogin, prefix = "/api", endpoint = "end_login")]
pub async fn end_login(id: String) -> Result<(), ServerFnError> {
    let (ctx, me, actor) = crate::api::context::require(crate::domain::Permission::ReadServices)?;
    let id = guard::id(&id, "session")?;
    if me.login == Some(id) {
        return Err(guard::invalid(
            "That is the session you are using: sign out instead.",
        ));
    }
    let ended = crate::store::accounts::end_login(&ctx.pool, actor, me.user.id, id)
        .await
        .map_err(guard::store)?;
    if ended {
        Ok(())
    } else {
        Err(guard::not_found("session"))
    }
}
