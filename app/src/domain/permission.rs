//! What each role may do: the one table every route, server function and API endpoint
//! consults.

use super::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See services, deployments, containers (never secret values).
    ReadServices,
    /// Create, edit, scale, stop/start, delete services.
    ManageServices,
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        match p {
            Permission::ReadServices => true,
            Permission::ManageServices => self != Role::Viewer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_read_and_only_read() {
        for role in [Role::Owner, Role::Admin, Role::Developer, Role::Viewer] {
            assert!(role.allows(Permission::ReadServices));
            assert_eq!(
                role.allows(Permission::ManageServices),
                role != Role::Viewer
            );
        }
    }
}
