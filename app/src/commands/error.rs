//! The one error every command answers with. Adapters map it: the REST API to a status and
//! a JSON body, the dashboard to messages beside the fields, a form without JavaScript to a
//! redirect with a problem code.

use crate::domain::service::{FieldError, Taken};
use crate::store::{team::TeamError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Input that breaks the rules, every broken rule with its field.
    #[error("the input is not valid")]
    Invalid(Vec<FieldError>),
    /// A name, host port or domain another service holds.
    #[error("already taken")]
    Taken(Taken),
    /// No such thing in the caller's team (also what another team's id gets).
    #[error("not found")]
    NotFound,
    /// The caller's role does not allow this.
    #[error("your role does not allow this")]
    Forbidden,
    /// A rule about roles refused it (e.g. granting above one's own role); says which.
    #[error("{0}")]
    ForbiddenBecause(String),
    /// A rule that belongs to no one field refused the input; says which.
    #[error("{0}")]
    Unprocessable(String),
    /// The thing is in a state that refuses this (e.g. being deleted); says why.
    #[error("{0}")]
    Conflict(String),
    /// The caller named a version (`If-Match`) that is no longer the stored one.
    #[error("changed since it was read")]
    Stale,
    /// The server failed (logged where it is turned into an answer).
    #[error(transparent)]
    Internal(StoreError),
}

impl CommandError {
    /// One broken rule of `field`.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        CommandError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The field errors to show beside a form's fields: the broken rules, or the one
    /// taken field; empty for errors that belong to no field.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            CommandError::Invalid(errors) => errors.clone(),
            CommandError::Taken(taken) => vec![taken.field_error()],
            _ => Vec::new(),
        }
    }

    /// What a person reads, in one line.
    pub fn message(&self) -> String {
        match self {
            CommandError::Invalid(_) | CommandError::Taken(_) => self
                .field_errors()
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" "),
            CommandError::NotFound => "No such service.".to_owned(),
            CommandError::Forbidden => "Your role does not allow this.".to_owned(),
            CommandError::Stale => {
                "It was changed since you read it: read it again, then retry.".to_owned()
            }
            CommandError::ForbiddenBecause(why)
            | CommandError::Unprocessable(why)
            | CommandError::Conflict(why) => why.clone(),
            CommandError::Internal(_) => {
                "Something went wrong on the server; it was logged.".to_owned()
            }
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => CommandError::NotFound,
            StoreError::Deleting => CommandError::Conflict("The service is being deleted.".into()),
            StoreError::Taken(taken) => CommandError::Taken(taken),
            StoreError::Invalid(e) => CommandError::Invalid(vec![e]),
            StoreError::Conflict(why) => CommandError::Conflict(why),
            other => CommandError::Internal(other),
        }
    }
}

impl From<TeamError> for CommandError {
    fn from(e: TeamError) -> Self {
        match e {
            TeamError::NotFound => CommandError::NotFound,
            TeamError::Forbidden(why) => CommandError::ForbiddenBecause(why),
            TeamError::Invalid(why) => CommandError::Unprocessable(why),
            TeamError::Conflict(why) => CommandError::Conflict(why),
            TeamError::Store(e) => e.into(),
        }
    }
}

impl From<sqlx::Error> for CommandError {
    fn from(e: sqlx::Error) -> Self {
        CommandError::Internal(StoreError::Db(e))
    }
}
