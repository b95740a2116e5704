//! Settings of the whole installation (not of a team), changed only by the instance owner.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InstanceSettings {
    /// Let git builds (and later other outbound requests) connect to loopback, link-local,
    /// private and cloud metadata addresses. Off by default.
    pub allow_private_targets: bool,
}
