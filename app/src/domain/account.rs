//! The first-run and sign-in forms, and the rules their fields follow. The same functions run
//! in the browser (inline hints) and on the server (the check that counts).

use super::FormError;
use serde::{Deserialize, Serialize};

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const NAME_MAX_CHARS: usize = 100;
pub const TEAM_NAME_MAX_CHARS: usize = 60;

/// First run: the owner account and the first team.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupForm {
    pub email: String,
    pub name: String,
    pub password: String,
    pub team_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
}

/// A setup form whose fields passed every rule, trimmed and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSetup {
    pub email: String,
    pub name: String,
    pub password: String,
    pub team_name: String,
    pub team_slug: String,
}

impl SetupForm {
    /// All errors, in form order (empty when valid).
    pub fn errors(&self) -> Vec<FormError> {
        [
            validate_email(&self.email).err(),
            validate_name(&self.name).err(),
            validate_new_password(&self.password).err(),
            validate_team_name(&self.team_name).err(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub fn validate(&self) -> Result<ValidSetup, FormError> {
        let team_name = validate_team_name(&self.team_name)?;
        let valid = ValidSetup {
            email: validate_email(&self.email)?,
            name: validate_name(&self.name)?,
            password: validate_new_password(&self.password)?.to_owned(),
            team_slug: slugify(&team_name),
            team_name,
        };
        Ok(valid)
    }
}

impl LoginForm {
    /// Only shape is checked at sign-in; a password that breaks today's rules may still be
    /// someone's real password, so it is simply "wrong" if it does not match.
    pub fn validate(&self) -> Result<(String, &str), FormError> {
        let email = validate_email(&self.email)?;
        if self.password.is_empty() {
            return Err(FormError::PasswordMissing);
        }
        if self.password.chars().count() > PASSWORD_MAX_CHARS {
            return Err(FormError::PasswordTooLong);
        }
        Ok((email, &self.password))
    }
}

/// Trims and lower-cases; accepts `local@domain.tld` without spaces or control characters.
pub fn validate_email(raw: &str) -> Result<String, FormError> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(FormError::EmailMissing);
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(FormError::EmailTooLong);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(FormError::EmailInvalid);
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>' | '"' | ',' | ';')
        });
    if !domain_ok || !local_ok {
        return Err(FormError::EmailInvalid);
    }
    Ok(email.to_lowercase())
}

pub fn validate_name(raw: &str) -> Result<String, FormError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FormError::NameMissing);
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(FormError::NameTooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(FormError::NameInvalid);
    }
    Ok(name.to_owned())
}

/// Length rules only (counted in characters, not bytes); no composition rules, as NIST 800-63B advises.
pub fn validate_new_password(password: &str) -> Result<&str, FormError> {
    let chars = password.chars().count();
    if chars == 0 {
        Err(FormError::PasswordMissing)
    } else if chars < PASSWORD_MIN_CHARS {
        Err(FormError::PasswordTooShort)
    } else if chars > PASSWORD_MAX_CHARS {
        Err(FormError::PasswordTooLong)
    } else {
        Ok(password)
    }
}

pub fn validate_team_name(raw: &str) -> Result<String, FormError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FormError::TeamNameMissing);
    }
    if name.chars().count() > TEAM_NAME_MAX_CHARS {
        return Err(FormError::TeamNameTooLong);
    }
    if name.chars().any(char::is_control) || slugify(name).is_empty() {
        return Err(FormError::TeamNameInvalid);
    }
    Ok(name.to_owned())
}

/// A DNS-label-like slug: lowercase ASCII letters and digits joined by single '-'.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(63);
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(email: &str, name: &str, password: &str, team: &str) -> SetupForm {
        SetupForm {
            email: email.into(),
            name: name.into(),
            password: password.into(),
            team_name: team.into(),
        }
    }

    #[test]
    fn valid_setup_is_normalised() {
        let v = setup(
            "  Ada@Example.COM ",
            " Ada Lovelace ",
            "correct horse",
            " Analytical Engines! ",
        )
        .validate()
        .unwrap();
        assert_eq!(v.email, "ada@example.com");
        assert_eq!(v.name, "Ada Lovelace");
        assert_eq!(v.team_name, "Analytical Engines!");
        assert_eq!(v.team_slug, "analytical-engines");
    }

    #[test]
    fn emails() {
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@exa mple.com",
            "ada@.example.com",
            "ada@example..com",
            "<x>@example.com",
            "ada@example.com\n",
        ] {
            let trimmed_ok = bad.trim() != bad && validate_email(bad.trim()).is_ok();
            assert!(
                trimmed_ok || validate_email(bad).is_err(),
                "{bad:?} accepted"
            );
        }
        assert_eq!(validate_email(""), Err(FormError::EmailMissing));
        assert_eq!(
            validate_email(&format!("{}@example.com", "a".repeat(250))),
            Err(FormError::EmailTooLong)
        );
        assert!(validate_email("ops+berth@sub.example.co.uk").is_ok());
        assert!(validate_email("jürgen@müller.de").is_ok());
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert_eq!(validate_new_password(""), Err(FormError::PasswordMissing));
        assert_eq!(
            validate_new_password("short"),
            Err(FormError::PasswordTooShort)
        );
        assert_eq!(
            validate_new_password(&"x".repeat(10_000)),
            Err(FormError::PasswordTooLong)
        );
        assert!(validate_new_password(&"é".repeat(10)).is_ok());
        assert!(validate_new_password(&"x".repeat(256)).is_ok());
    }

    #[test]
    fn every_setup_error_is_reported_in_form_order() {
        let errs = setup("nope", "", "short", "!!!").errors();
        assert_eq!(
            errs,
            vec![
                FormError::EmailInvalid,
                FormError::NameMissing,
                FormError::PasswordTooShort,
                FormError::TeamNameInvalid
            ]
        );
    }

    #[test]
    fn names_and_teams() {
        assert_eq!(validate_name(&"n".repeat(101)), Err(FormError::NameTooLong));
        assert_eq!(validate_name("a\u{7}b"), Err(FormError::NameInvalid));
        assert_eq!(
            validate_team_name(&"t".repeat(61)),
            Err(FormError::TeamNameTooLong)
        );
        assert_eq!(validate_team_name("   "), Err(FormError::TeamNameMissing));
        assert_eq!(slugify("--Hello,  World--"), "hello-world");
        assert_eq!(slugify(&"ab".repeat(60)).len(), 63);
    }

    #[test]
    fn login_checks_shape_only() {
        let ok = LoginForm {
            email: "A@b.io".into(),
            password: "x".into(),
        };
        assert_eq!(ok.validate().unwrap(), ("a@b.io".to_owned(), "x"));
        let long = LoginForm {
            email: "a@b.io".into(),
            password: "x".repeat(10_000),
        };
        assert_eq!(long.validate().unwrap_err(), FormError::PasswordTooLong);
    }
}
