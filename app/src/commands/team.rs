//! The team verbs: rename, delete, transfer ownership, change a member's role, remove a
//! member (or leave), invite, withdraw an invitation, create and revoke API tokens. The
//! rules that need the team's rows locked (the last owner, who may grant which role) are
//! checked by the store inside its transaction, from the domain's role table.

use super::{Caller, CommandError, Deps};
use crate::domain::team::{InviteForm, MemberView, NewInvitation, NewToken, TokenForm};
use crate::domain::TeamSummary;
use crate::domain::{Permission, Role};
use crate::store::{invitations, team, tokens};
use uuid::Uuid;

pub async fn rename(
    deps: Deps<'_>,
    caller: &Caller,
    name: &str,
) -> Result<TeamSummary, CommandError> {
    let actor = caller.may(Permission::ManageTeam)?;
    Ok(team::rename(deps.pool, actor, name).await?)
}

/// Deletes the caller's team (refused while it has services).
pub async fn delete(deps: Deps<'_>, caller: &Caller) -> Result<(), CommandError> {
    let actor = caller.may(Permission::OwnTeam)?;
    Ok(team::delete(deps.pool, actor).await?)
}

/// Makes `user` the owner; the caller becomes an admin.
pub async fn transfer_ownership(
    deps: Deps<'_>,
    caller: &Caller,
    user: Uuid,
) -> Result<(), CommandError> {
    let actor = caller.may(Permission::OwnTeam)?;
    Ok(team::transfer_ownership(deps.pool, actor, caller.role, user).await?)
}

pub async fn change_role(
    deps: Deps<'_>,
    caller: &Caller,
    user: Uuid,
    role: Role,
) -> Result<MemberView, CommandError> {
    let actor = caller.may(Permission::ManageMembers)?;
    Ok(team::change_role(deps.pool, actor, caller.role, user, role).await?)
}

/// Removes `user` from the team. Any member may remove themselves (leave); an API token
/// never "leaves" for its creator.
pub async fn remove_member(
    deps: Deps<'_>,
    caller: &Caller,
    user: Uuid,
) -> Result<(), CommandError> {
    let leaving = caller.actor.by == crate::store::audit::By::User(user);
    let needs = if leaving {
        Permission::ReadServices
    } else {
        Permission::ManageMembers
    };
    let actor = caller.may(needs)?;
    Ok(team::remove_member(deps.pool, actor, caller.role, user).await?)
}

/// Invites an email with a role (never above the caller's); the link is answered this once.
/// `public_base`: the URL the link starts with.
pub async fn invite(
    deps: Deps<'_>,
    caller: &Caller,
    form: &InviteForm,
    public_base: &str,
) -> Result<NewInvitation, CommandError> {
    let actor = caller.may(Permission::ManageMembers)?;
    Ok(invitations::invite(deps.pool, actor, caller.role, form, public_base).await?)
}

pub async fn revoke_invitation(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageMembers)?;
    Ok(invitations::revoke(deps.pool, actor, id).await?)
}

/// A new API token (role never above the caller's); its value is answered this once.
pub async fn create_token(
    deps: Deps<'_>,
    caller: &Caller,
    form: &TokenForm,
) -> Result<NewToken, CommandError> {
    let actor = caller.may(Permission::ManageTokens)?;
    Ok(tokens::create(deps.pool, actor, caller.role, form).await?)
}

pub async fn revoke_token(deps: Deps<'_>, caller: &Caller, id: Uuid) -> Result<(), CommandError> {
    let actor = caller.may(Permission::ManageTokens)?;
    Ok(tokens::revoke(deps.pool, actor, id).await?)
}
