//! A name, host port or domain that another service already holds: refused as data, so the
//! form, the REST API and the no-JavaScript form return each say it from this one place.

use super::FieldError;
use serde::{Deserialize, Serialize};

/// Who holds what was asked for. Another team's service is never named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Holder {
    /// A service of the caller's own team, by name.
    Service(String),
    OtherTeam,
    /// Not known to the teller (a form returned without JavaScript carries no names).
    Unknown,
}

impl Holder {
    fn words(&self) -> String {
        match self {
            Holder::Service(name) => format!("service {name}"),
            Holder::OtherTeam => "a service of another team".to_owned(),
            Holder::Unknown => "another service".to_owned(),
        }
    }
}

/// What another service already holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Taken {
    /// The team has a service of that name (names are unique per team).
    Name { name: String },
    /// `ports[index].host` is published by another service (host ports are machine-wide).
    HostPort {
        index: usize,
        port: u16,
        holder: Holder,
    },
    /// A domain (`field`: `http.domains[i]`, or `http.www_redirect` for its `www.` twin)
    /// belongs to another service (domains are unique across all teams).
    Domain {
        field: String,
        host: String,
        holder: Holder,
    },
}

impl Taken {
    /// The refusal as a field error of the service spec.
    pub fn field_error(&self) -> FieldError {
        match self {
            Taken::Name { name } if name.is_empty() => FieldError::new(
                "name",
                "This environment already has a service with this name.",
            ),
            Taken::Name { name } => FieldError::new(
                "name",
                format!("This environment already has a service named {name}."),
            ),
            Taken::HostPort {
                index,
                port,
                holder,
            } => FieldError::new(
                format!("ports[{index}].host"),
                if *port == 0 {
                    format!(
                        "A host port here is already published by {}.",
                        holder.words()
                    )
                } else {
                    format!(
                        "Host port {port} is already published by {}.",
                        holder.words()
                    )
                },
            ),
            Taken::Domain {
                field,
                host,
                holder,
            } => FieldError::new(
                field.clone(),
                if host.is_empty() {
                    format!("A domain here is already used by {}.", holder.words())
                } else {
                    format!("{host} is already used by {}.", holder.words())
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_teams_service_is_never_named() {
        let e = Taken::Domain {
            field: "http.domains[0]".into(),
            host: "a.example.com".into(),
            holder: Holder::OtherTeam,
        }
        .field_error();
        assert_eq!(e.field, "http.domains[0]");
        assert_eq!(
            e.message,
            "a.example.com is already used by a service of another team."
        );
        let own = Taken::HostPort {
            index: 1,
            port: 8080,
            holder: Holder::Service("api".into()),
        }
        .field_error();
        assert_eq!(own.field, "ports[1].host");
        assert_eq!(
            own.message,
            "Host port 8080 is already published by service api."
        );
    }
}
