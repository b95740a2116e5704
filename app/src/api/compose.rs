//! Server function behind an environment tab's "Import compose file": the same command,
//! rules and permissions as `POST /api/v1/environments/{id}/compose`.

use crate::domain::compose::{ComposePlan, ComposeProblem};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The plan of an import (`dry_run`: not applied), or every problem of a refused file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComposeAnswer {
    pub plan: Option<ComposePlan>,
    /// By path (`services.web.volumes[0]`; `yaml` for the whole file); nothing was stored.
    pub problems: Vec<ComposeProblem>,
}

/// A compose form posted without JavaScript (`POST /environments/{id}/compose`), for the
/// environment tab the server renders in answer: the file as sent, and what came of it
/// (`Err`: a refusal that is not about the file, such as the caller's role).
#[derive(Debug, Clone)]
pub struct PostedCompose {
    pub environment: uuid::Uuid,
    pub yaml: String,
    pub answer: Result<ComposeAnswer, String>,
}

/// A preview's or an import's outcome as the page shows it: the plan, or every problem of
/// a refused file; any other refusal as it was.
#[cfg(feature = "ssr")]
pub fn answer(
    done: Result<ComposePlan, crate::commands::CommandError>,
) -> Result<ComposeAnswer, crate::commands::CommandError> {
    use crate::commands::CommandError;
    match done {
        Ok(plan) => Ok(ComposeAnswer {
            plan: Some(plan),
            problems: Vec::new(),
        }),
        Err(CommandError::Invalid(fields)) => Ok(ComposeAnswer {
            plan: None,
            problems: fields
                .into_iter()
                .map(|f| ComposeProblem {
                    path: f.field,
                    message: f.message,
                })
                .collect(),
        }),
        Err(e) => Err(e),
    }
}

#[server(name = ImportCompose, prefix = "/api", endpoint = "import_compose")]
pub async fn import_compose(
    environment: String,
    yaml: String,
    dry_run: bool,
) -> Result<ComposeAnswer, ServerFnError> {
    use super::team::guard;
    use crate::commands::compose as command;
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&environment, "environment")?;
    let done = if dry_run {
        command::preview(ctx.deps(), &caller, id, &yaml).await
    } else {
        command::import(ctx.deps(), &caller, id, &yaml).await
    };
    answer(done).map_err(|e| guard::refused("environment", e))
}
