//! Team administration as the pages and the API see it: members, invitations, API tokens,
//! sign-ins and the audit log, plus the rules their inputs follow.

use super::{account, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long an invitation link stays valid.
pub const INVITATION_DAYS: i64 = 7;
/// The longest expiry an API token may be given.
pub const TOKEN_MAX_DAYS: u32 = 3650;
pub const TOKEN_NAME_MAX_CHARS: usize = 60;
/// What every API token starts with (so secret scanners can find leaked ones).
pub const TOKEN_PREFIX: &str = "berth_";
pub const AUDIT_PAGE: i64 = 50;

/// One of the user's teams, for the team switcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MyTeam {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub role: Role,
}

/// Everything the team page shows, in one answer (so the page's data is read before it is
/// rendered, and hydrates from it): the lists the caller's role may not see are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamConsole {
    pub me: super::SessionInfo,
    pub members: Vec<MemberView>,
    pub invitations: Option<Vec<InvitationView>>,
    pub tokens: Option<Vec<TokenView>>,
    /// The installation's settings, for the instance owner only (whatever their role here).
    pub instance: Option<super::instance::InstanceSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A new invitation: its link is shown this once (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewInvitation {
    pub invitation: InvitationView,
    pub token: String,
    /// `<public URL>/invite/<token>`.
    pub url: String,
}

/// What the invitation page shows before it is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationOffer {
    pub team: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The email already has an account: accepting asks for its password, not a new one.
    pub account_exists: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new token: its value is shown this once (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub token_info: TokenView,
    pub token: String,
}

/// One of the user's signed-in sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// user, token, webhook or worker.
    pub actor_kind: String,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<Uuid>,
    pub target: String,
    pub ip: Option<String>,
    /// Compact before/after of what changed, secrets redacted.
    pub summary: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// Filters of the audit page and `GET /api/v1/audit` (all optional, all combined).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditFilter {
    /// Part of the actor's name or email (case-insensitive).
    pub actor: String,
    /// An action (`service.create`) or a prefix of one (`service`, `member.`).
    pub action: String,
    /// Part of the target's name, or its id.
    pub target: String,
    /// RFC 3339 time or `YYYY-MM-DD` (inclusive).
    pub from: String,
    pub to: String,
    /// Entries older than this id (paging).
    pub before: Option<i64>,
}

/// An audit filter whose times parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidAuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub target_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before: Option<i64>,
}

impl AuditFilter {
    pub fn validate(&self) -> Result<ValidAuditFilter, String> {
        fn text(s: &str) -> Option<String> {
            let s = s.trim();
            (!s.is_empty()).then(|| s.chars().take(100).collect())
        }
        let target = text(&self.target);
        Ok(ValidAuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            target_id: target.as_deref().and_then(|t| t.parse().ok()),
            target,
            from: parse_time(&self.from, false)
                .map_err(|_| "from: use 2026-11-27 or an RFC 3339 time.")?,
            to: parse_time(&self.to, true)
                .map_err(|_| "to: use 2026-11-27 or an RFC 3339 time.")?,
            before: self.before,
        })
    }
}

/// `YYYY-MM-DD` (the day's start, or its end when `end_of_day`) or RFC 3339.
fn parse_time(raw: &str, end_of_day: bool) -> Result<Option<DateTime<Utc>>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let time = if end_of_day {
            day.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            day.and_hms_opt(0, 0, 0)
        };
        return time.map(|t| Some(t.and_utc())).ok_or(());
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| ())
}

/// An admin's invitation form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteForm {
    #[cfg_attr(feature = "ssr", schema(format = Email, min_length = 3, max_length = 254, example = "bob@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "ssr", schema(value_type = Role))]
    pub role: String,
}

impl InviteForm {
    pub fn validate(&self) -> Result<(String, Role), String> {
        let email = account::validate_email(&self.email).map_err(|e| e.message().to_owned())?;
        let role = parse_role(&self.role)?;
        Ok((email, role))
    }
}

/// The API token form. `expires_in_days`: empty or 0 = never.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenForm {
    /// What uses the token; 1–60 characters.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 60, example = "ci")
    )]
    pub name: String,
    /// Not above the caller's own role.
    #[cfg_attr(feature = "ssr", schema(value_type = Role))]
    pub role: String,
    /// Empty or 0: never expires.
    #[cfg_attr(feature = "ssr", schema(maximum = 3650))]
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

impl TokenForm {
    pub fn validate(&self) -> Result<(String, Role, Option<u32>), String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("Give the token a name (what uses it).".into());
        }
        if name.chars().count() > TOKEN_NAME_MAX_CHARS || name.chars().any(char::is_control) {
            return Err(format!(
                "A token name is at most {TOKEN_NAME_MAX_CHARS} characters, without control characters."
            ));
        }
        let role = parse_role(&self.role)?;
        let days = match self.expires_in_days {
            None | Some(0) => None,
            Some(d) if d > TOKEN_MAX_DAYS => {
                return Err(format!(
                    "A token expires within {TOKEN_MAX_DAYS} days at most (or never)."
                ))
            }
            Some(d) => Some(d),
        };
        Ok((name.to_owned(), role, days))
    }
}

pub fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw.trim())
        .ok_or_else(|| "Choose a role: owner, admin, developer or viewer.".into())
}

/// Why an invitation link can't be used. Each has a fixed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationProblem {
    /// No invitation has this token (mistyped, tampered or made up).
    Unknown,
    Used,
    Expired,
    Revoked,
    /// Whoever sent it can no longer grant that role (demoted or removed).
    InviterLost,
    AlreadyMember,
}

impl InvitationProblem {
    pub fn message(self) -> &'static str {
        match self {
            InvitationProblem::Unknown => "This invitation link is not valid. Check that you copied all of it, or ask for a new one.",
            InvitationProblem::Used => "This invitation has already been used. Sign in instead, or ask for a new one.",
            InvitationProblem::Expired => "This invitation has expired. Ask for a new one.",
            InvitationProblem::Revoked => "This invitation was withdrawn. Ask for a new one.",
            InvitationProblem::InviterLost => "Whoever sent this invitation can no longer grant its role. Ask for a new one.",
            InvitationProblem::AlreadyMember => "You are already a member of this team.",
        }
    }

    /// The HTTP status a refusal answers with (the accept form's JSON and the page's server
    /// function alike).
    pub fn status(self) -> u16 {
        match self {
            InvitationProblem::Unknown => 404,
            InvitationProblem::Used | InvitationProblem::Expired | InvitationProblem::Revoked => {
                410
            }
            InvitationProblem::InviterLost => 403,
            InvitationProblem::AlreadyMember => 409,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            InvitationProblem::Unknown => "invitation_unknown",
            InvitationProblem::Used => "invitation_used",
            InvitationProblem::Expired => "invitation_expired",
            InvitationProblem::Revoked => "invitation_revoked",
            InvitationProblem::InviterLost => "invitation_inviter_lost",
            InvitationProblem::AlreadyMember => "invitation_already_member",
        }
    }

    pub fn from_code(code: &str) -> Option<InvitationProblem> {
        [
            InvitationProblem::Unknown,
            InvitationProblem::Used,
            InvitationProblem::Expired,
            InvitationProblem::Revoked,
            InvitationProblem::InviterLost,
            InvitationProblem::AlreadyMember,
        ]
        .into_iter()
        .find(|p| p.code() == code)
    }
}

/// The secret part of an invitation link or API token: 256 random bits as hex. Only the
/// server makes them; the browser never needs to.
pub fn looks_like_secret(raw: &str) -> bool {
    raw.len() == 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
#[path = "team_tests.rs"]
mod tests;
