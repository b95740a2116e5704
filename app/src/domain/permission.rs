//! What each role may do: the one table every page, server function, REST endpoint and live
//! stream consults, and the rules for handing out roles. The README's role table is this
//! file in words.

use super::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See services, deployments and their logs, the timeline, metrics, webhook URLs and
    /// the member list (never secret values).
    ReadServices,
    /// Read what containers print (it may carry secrets).
    ReadContainerLogs,
    /// Create, edit, scale, stop/start, deploy, redeploy, roll back, delete services;
    /// rotate webhook secrets.
    ManageServices,
    /// Back up a service's volumes now.
    RunBackups,
    /// Change a service's backup plan, restore a backup into a service.
    ManageBackups,
    /// Invite, revoke invitations, change roles, remove members.
    ManageMembers,
    /// Create, list and revoke API tokens.
    ManageTokens,
    /// Browse the audit log.
    ReadAudit,
    /// Rename the team.
    ManageTeam,
    /// Delete the team, transfer ownership, change an owner's role.
    OwnTeam,
    /// See the notification channels (never their secrets) and their delivery logs.
    ReadNotifications,
    /// Create, change, delete notification channels and their rules; send a test.
    ManageNotifications,
    /// Create, rename, delete projects and environments; clone an environment (its
    /// services are created like new ones).
    ManageProjects,
    /// See the swarm's nodes and the join command without its token (the token and every
    /// change to nodes belong to the instance owner: `commands::node`).
    ReadNodes,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Permission::ReadServices,
        Permission::RunBackups,
        Permission::ManageBackups,
        Permission::ReadContainerLogs,
        Permission::ManageServices,
        Permission::ManageMembers,
        Permission::ManageTokens,
        Permission::ReadAudit,
        Permission::ManageTeam,
        Permission::OwnTeam,
        Permission::ReadNotifications,
        Permission::ManageNotifications,
        Permission::ManageProjects,
        Permission::ReadNodes,
    ];

    /// The least powerful role that has it.
    pub fn min_role(self) -> Role {
        match self {
            Permission::ReadServices | Permission::ReadNotifications => Role::Viewer,
            Permission::ReadContainerLogs | Permission::ManageServices | Permission::RunBackups => {
                Role::Developer
            }
            Permission::ManageMembers
            | Permission::ManageBackups
            | Permission::ManageTokens
            | Permission::ReadAudit
            | Permission::ManageTeam
            | Permission::ManageNotifications
            | Permission::ManageProjects
            | Permission::ReadNodes => Role::Admin,
            Permission::OwnTeam => Role::Owner,
        }
    }
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Developer, Role::Viewer];

    /// 3 for owner down to 0 for viewer.
    pub fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Developer => 1,
            Role::Viewer => 0,
        }
    }

    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    /// The weaker of two roles (a token is never stronger than its creator).
    pub fn min(self, other: Role) -> Role {
        if self.rank() <= other.rank() {
            self
        } else {
            other
        }
    }

    pub fn allows(self, p: Permission) -> bool {
        self.at_least(p.min_role())
    }

    /// Whether a member with this role may hand out `role` (invitation or API token): never
    /// above their own.
    pub fn may_grant(self, role: Role) -> bool {
        self.allows(Permission::ManageMembers) && self.at_least(role)
    }

    /// Whether a member with this role may change a member from `from` to `to`, or remove
    /// them (`to` = `None`). Owners are touched only by owners; the last-owner rule needs
    /// the team's count and lives in the store.
    pub fn may_change_member(self, from: Role, to: Option<Role>) -> bool {
        let touches_owner = from == Role::Owner || to == Some(Role::Owner);
        self.allows(Permission::ManageMembers)
            && self.at_least(from)
            && to.is_none_or(|to| self.at_least(to))
            && (!touches_owner || self.allows(Permission::OwnTeam))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    #[test]
    fn the_role_table() {
        let table = [
            (Permission::ReadServices, [true, true, true, true]),
            (Permission::ReadContainerLogs, [true, true, true, false]),
            (Permission::ManageServices, [true, true, true, false]),
            (Permission::RunBackups, [true, true, true, false]),
            (Permission::ManageBackups, [true, true, false, false]),
            (Permission::ManageMembers, [true, true, false, false]),
            (Permission::ManageTokens, [true, true, false, false]),
            (Permission::ReadAudit, [true, true, false, false]),
            (Permission::ManageTeam, [true, true, false, false]),
            (Permission::OwnTeam, [true, false, false, false]),
            (Permission::ReadNotifications, [true, true, true, true]),
            (Permission::ManageNotifications, [true, true, false, false]),
            (Permission::ManageProjects, [true, true, false, false]),
            (Permission::ReadNodes, [true, true, false, false]),
        ];
        for (p, allowed) in table {
            for (role, want) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(role.allows(p), want, "{role:?} {p:?}");
            }
        }
        assert_eq!(table.len(), Permission::ALL.len());
    }

    #[test]
    fn nobody_grants_above_their_own_role() {
        assert!(Owner.may_grant(Owner));
        assert!(Admin.may_grant(Admin));
        assert!(Admin.may_grant(Viewer));
        assert!(!Admin.may_grant(Owner));
        for role in Role::ALL {
            assert!(!Developer.may_grant(role));
            assert!(!Viewer.may_grant(role));
        }
    }

    #[test]
    fn member_changes() {
        assert!(Admin.may_change_member(Developer, Some(Admin)));
        assert!(Admin.may_change_member(Admin, Some(Viewer)));
        assert!(Admin.may_change_member(Viewer, None));
        assert!(!Admin.may_change_member(Owner, Some(Admin)));
        assert!(!Admin.may_change_member(Owner, None));
        assert!(!Admin.may_change_member(Developer, Some(Owner)));
        assert!(Owner.may_change_member(Owner, Some(Admin)));
        assert!(Owner.may_change_member(Developer, Some(Owner)));
        assert!(!Developer.may_change_member(Viewer, Some(Developer)));
        assert!(!Viewer.may_change_member(Viewer, None));
    }

    #[test]
    fn min_is_the_weaker() {
        assert_eq!(Owner.min(Viewer), Viewer);
        assert_eq!(Developer.min(Admin), Developer);
    }
}
