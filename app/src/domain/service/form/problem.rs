//! Why a form came back to the browser after a submit without JavaScript.

use super::super::{FieldError, Holder, Taken};
use super::ServiceForm;

/// Why a form came back after a submit without JavaScript: `?problem=<code>` plus the
/// submitted values (secrets blanked). The page re-checks the values itself, so the URL
/// carries no message text that a crafted link could forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    /// Field rules: the page finds them again by parsing the values.
    Fields,
    NameTaken,
    HostPortTaken,
    DomainTaken,
}

impl FormProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::Fields => "fields",
            Self::NameTaken => "name_taken",
            Self::HostPortTaken => "host_port_taken",
            Self::DomainTaken => "domain_taken",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Fields,
            Self::NameTaken,
            Self::HostPortTaken,
            Self::DomainTaken,
        ]
        .into_iter()
        .find(|p| p.code() == code)
    }

    /// The errors to show for a returned form.
    pub fn errors(self, form: &ServiceForm) -> Vec<FieldError> {
        match self {
            Self::Fields => form.parse().err().unwrap_or_default(),
            // The URL carries no names (a crafted link could forge them), so the holder
            // and the value are unknown here.
            Self::NameTaken => vec![Taken::Name {
                name: String::new(),
            }
            .field_error()],
            Self::HostPortTaken => vec![FieldError::new(
                "ports",
                Taken::HostPort {
                    index: 0,
                    port: 0,
                    holder: Holder::Unknown,
                }
                .field_error()
                .message,
            )],
            Self::DomainTaken => vec![FieldError::new(
                "domains",
                Taken::Domain {
                    field: String::new(),
                    host: String::new(),
                    holder: Holder::Unknown,
                }
                .field_error()
                .message,
            )],
        }
    }
}
