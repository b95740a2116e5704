//! Errors a person can cause by filling in a form. Each has a stable code (used in redirect
//! URLs and JSON answers) and one fixed message, so a URL can never inject text into a page.

use serde::{Deserialize, Serialize};

macro_rules! form_errors {
    ($($variant:ident = $code:literal, $field:expr, $status:literal, $message:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum FormError { $($variant),* }

        impl FormError {
            pub const ALL: &'static [FormError] = &[$(FormError::$variant),*];

            /// Stable machine-readable code.
            pub fn code(self) -> &'static str {
                match self { $(FormError::$variant => $code),* }
            }

            /// The form field the error belongs to, if any.
            pub fn field(self) -> Option<&'static str> {
                match self { $(FormError::$variant => $field),* }
            }

            /// HTTP status for JSON callers.
            pub fn status(self) -> u16 {
                match self { $(FormError::$variant => $status),* }
            }

            /// What the person reads.
            pub fn message(self) -> &'static str {
                match self { $(FormError::$variant => $message),* }
            }

            pub fn from_code(code: &str) -> Option<FormError> {
                match code { $($code => Some(FormError::$variant),)* _ => None }
            }
        }
    };
}

form_errors! {
    EmailMissing = "email_missing", Some("email"), 422, "Enter your email address.";
    EmailInvalid = "email_invalid", Some("email"), 422, "That does not look like an email address (name@example.com).";
    EmailTooLong = "email_too_long", Some("email"), 422, "An email address can be at most 254 characters.";
    NameMissing = "name_missing", Some("name"), 422, "Enter your name.";
    NameTooLong = "name_too_long", Some("name"), 422, "A name can be at most 100 characters.";
    NameInvalid = "name_invalid", Some("name"), 422, "A name cannot contain control characters.";
    PasswordMissing = "password_missing", Some("password"), 422, "Enter a password.";
    PasswordTooShort = "password_too_short", Some("password"), 422, "A password needs at least 10 characters.";
    PasswordTooLong = "password_too_long", Some("password"), 422, "A password can be at most 256 characters.";
    TeamNameMissing = "team_missing", Some("team_name"), 422, "Enter a name for your team.";
    TeamNameTooLong = "team_too_long", Some("team_name"), 422, "A team name can be at most 60 characters.";
    TeamNameInvalid = "team_invalid", Some("team_name"), 422, "A team name needs at least one letter or digit and no control characters.";
    UnknownField = "unknown_field", None, 422, "The form was sent with fields Berth does not know. Reload the page and try again.";
    MalformedForm = "malformed_form", None, 400, "The form could not be read. Reload the page and try again.";
    BadCredentials = "bad_credentials", None, 401, "Wrong email or password.";
    RateLimited = "rate_limited", None, 429, "Too many failed sign-in attempts. Wait a minute, then try again.";
    AlreadySetUp = "already_set_up", None, 409, "Berth already has an owner. Sign in instead.";
    NotSignedIn = "not_signed_in", None, 401, "You are not signed in (perhaps you already signed out).";
    CrossSite = "cross_site", None, 403, "Cross-site request refused.";
    Internal = "internal", None, 500, "Something went wrong on the server. It has been logged; try again.";
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for FormError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for e in FormError::ALL {
            assert!(seen.insert(e.code()), "duplicate code {}", e.code());
            assert_eq!(FormError::from_code(e.code()), Some(*e));
        }
        assert_eq!(FormError::from_code("<script>"), None);
    }
}
