//! The rules a job and a one-off command must meet; form, REST API and import share them.

use super::JobInput;
use crate::domain::service::{is_dns_label, FieldError};

/// Arguments a command may have.
pub const MAX_ARGS: usize = 64;
/// Bytes one argument may have.
pub const MAX_ARG_BYTES: usize = 4096;
/// The longest timeout: a day, in seconds.
pub const MAX_TIMEOUT_S: i32 = 86_400;

/// Every broken rule of a job, each with its field (`name`, `schedule`, `command[1]`,
/// `timeout_s`). The schedule's syntax is checked on the server ([`super::schedule`]).
pub fn validate_job(job: &JobInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !is_dns_label(&job.name) {
        errors.push(FieldError::new(
            "name",
            "Name: 1–63 lowercase letters, digits and '-', not starting or ending with '-'.",
        ));
    }
    #[cfg(feature = "ssr")]
    if let Err(why) = super::schedule::Schedule::parse(&job.schedule) {
        errors.push(FieldError::new("schedule", why));
    }
    errors.extend(validate_command(&job.command, job.timeout_s));
    errors
}

/// Every broken rule of a command and its timeout (`command`, `command[i]`, `timeout_s`).
pub fn validate_command(command: &[String], timeout_s: i32) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if command.is_empty() || command[0].trim().is_empty() {
        errors.push(FieldError::new(
            "command",
            "Command: give the program to run (and its arguments, one per item).",
        ));
    }
    if command.len() > MAX_ARGS {
        errors.push(FieldError::new(
            "command",
            format!("Command: at most {MAX_ARGS} arguments."),
        ));
    }
    for (i, arg) in command.iter().enumerate() {
        if arg.len() > MAX_ARG_BYTES {
            errors.push(FieldError::new(
                format!("command[{i}]"),
                format!("Command argument {}: at most {MAX_ARG_BYTES} bytes.", i + 1),
            ));
        } else if arg.contains('\0') {
            errors.push(FieldError::new(
                format!("command[{i}]"),
                format!("Command argument {}: no NUL characters.", i + 1),
            ));
        }
    }
    if !(1..=MAX_TIMEOUT_S).contains(&timeout_s) {
        errors.push(FieldError::new(
            "timeout_s",
            format!("Timeout: 1 to {MAX_TIMEOUT_S} seconds."),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::jobs::{ConcurrencyPolicy, MissedRuns};

    fn job() -> JobInput {
        JobInput {
            name: "nightly".into(),
            schedule: "*/5 * * * *".into(),
            command: vec!["psql".into(), "-c".into(), "select 1".into()],
            timeout_s: 60,
            concurrency: ConcurrencyPolicy::Forbid,
            missed_runs: MissedRuns::RunOnce,
            enabled: true,
        }
    }

    fn fields(j: &JobInput) -> Vec<String> {
        validate_job(j).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_job_passes() {
        assert!(validate_job(&job()).is_empty());
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let mut j = job();
        j.name = "Bad Name".into();
        j.command = vec!["ok".into(), "x".repeat(MAX_ARG_BYTES + 1)];
        j.timeout_s = 0;
        assert_eq!(fields(&j), ["name", "command[1]", "timeout_s"]);
        j = job();
        j.command = vec![];
        j.timeout_s = MAX_TIMEOUT_S + 1;
        assert_eq!(fields(&j), ["command", "timeout_s"]);
        j.command = vec!["a".into(); MAX_ARGS + 1];
        j.timeout_s = 5;
        assert_eq!(fields(&j), ["command"]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_wrong_schedule_is_named() {
        for bad in ["", "* * * *", "61 * * * *", "* * * * * *", "every minute"] {
            let mut j = job();
            j.schedule = bad.into();
            assert_eq!(fields(&j), ["schedule"], "{bad:?}");
        }
    }
}
