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

#[server(name = ImportCompose, prefix = "/api", endpoint = "import_compose")]
pub async fn import_compose(
    environment: String,
    yaml: String,
    dry_run: bool,
) -> Result<ComposeAnswer, ServerFnError> {
    use super::team::guard;
    use crate::commands::{compose as command, CommandError};
    let (ctx, caller) = crate::api::context::caller()?;
    let id = guard::id(&environment, "environment")?;
    let done = if dry_run {
        command::preview(ctx.deps(), &caller, id, &yaml).await
    } else {
        command::import(ctx.deps(), &caller, id, &yaml).await
    };
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
        Err(e) => Err(guard::refused("environment", e)),
    }
}
