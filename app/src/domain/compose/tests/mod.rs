//! The translator as a person meets it: files in, definitions or named problems out.

use super::*;
use crate::domain::dependencies::DependsCondition as DependsOnCondition;
use crate::domain::service::{HealthProbe, PortSpec, Protocol, RestartPolicy, VolumeMount};
use std::collections::BTreeMap;

mod fields;
mod files;
mod refusals;
mod round_trip;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The app a file defines (panics with the problems otherwise).
fn ok(yaml: &str) -> ComposeApp {
    ok_with(yaml, &vars(&[]))
}

fn ok_with(yaml: &str, shared: &BTreeMap<String, String>) -> ComposeApp {
    match import(yaml, shared) {
        Ok(app) => app,
        Err(problems) => panic!("refused: {problems:#?}\n{yaml}"),
    }
}

/// The one service of a file.
fn one(yaml: &str) -> ComposeService {
    let mut app = ok(yaml);
    assert_eq!(app.services.len(), 1);
    app.services.remove(0)
}

/// The problems of a refused file.
fn refused(yaml: &str) -> Vec<ComposeProblem> {
    match import(yaml, &vars(&[])) {
        Ok(app) => panic!("accepted: {app:#?}\n{yaml}"),
        Err(problems) => problems,
    }
}

/// The problem at `path`, whose message contains `words`.
#[track_caller]
fn has(problems: &[ComposeProblem], path: &str, words: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.path == path && p.message.contains(words)),
        "no problem at {path} saying {words:?} in {problems:#?}"
    );
}

/// A service `web` with the given lines under it (indented by the caller's 4 spaces).
fn web(lines: &str) -> String {
    format!("services:\n  web:\n    image: nginx:1.27\n{lines}volumes:\n  data:\n")
}
