//! The service map of an environment (`domain::service_map`): its services as boxes and
//! arrows from the services that use others, drawn as SVG on the server, for the
//! environment tab and `GET /api/v1/environments/{id}/map.svg`.
//!
//! The arrows of variable references are found in the environment's values as stored,
//! secret ones opened here on the server (a `DATABASE_URL` marked secret that names
//! `${{ db.HOST }}` is an arrow too); the map shows only service names, never a value.

use crate::commands::{project, Caller, CommandError, Deps};
use crate::domain::dependencies::DependsOn;
use crate::domain::service::ServiceView;
use crate::domain::service_map::{map_edges, render_svg, MapNode};
use crate::domain::variables::EnvironmentVariables;
use crate::store::variables as store;
use std::collections::BTreeMap;
use std::sync::Mutex;
use uuid::Uuid;

/// The map of one environment of the caller's team, as one `<svg>` element (see
/// [`render_svg`]). Viewers and above; `NotFound` for an unknown or another team's
/// environment.
pub async fn environment_map(
    deps: Deps<'_>,
    caller: &Caller,
    environment_id: Uuid,
) -> Result<String, CommandError> {
    let services = project::environment_services(deps, caller, environment_id).await?;
    Ok(render(deps, environment_id, &services).await)
}

/// The map of `services`, the environment's services as the caller's team has them
/// (already scoped: callers read them through [`project::environment_services`]). Never
/// fails: when the environment's values cannot be read (a secret that no longer opens),
/// the map is drawn without reference arrows and the reason logged.
pub async fn render(deps: Deps<'_>, environment_id: Uuid, services: &[ServiceView]) -> String {
    let nodes: Vec<MapNode> = services.iter().map(MapNode::from_view).collect();
    if nodes.is_empty() {
        return render_svg(&nodes, &[]);
    }
    let values = match store::snapshot(deps.pool, deps.secrets, environment_id).await {
        Ok(values) => values,
        Err(error) => {
            tracing::warn!(environment = %environment_id, %error, "service map drawn without reference arrows");
            EnvironmentVariables::default()
        }
    };
    let edges = map_edges(&values, depends_on_edges(services));
    // The same input gives the same drawing: most live refreshes change nothing on the
    // map and cost no layout.
    let input = format!("{nodes:?}{edges:?}");
    if let Some(svg) = remembered(environment_id, &input) {
        return svg;
    }
    // The layout is CPU work (tens of milliseconds for 50 services, more for hundreds):
    // off the request threads.
    let svg = match tokio::task::spawn_blocking(move || render_svg(&nodes, &edges)).await {
        Ok(svg) => svg,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    remember(environment_id, input, &svg);
    svg
}

/// The last map drawn per environment, with the input it was drawn from.
static LAST_DRAWN: Mutex<BTreeMap<Uuid, (String, String)>> = Mutex::new(BTreeMap::new());
/// Environments remembered at most (then forgotten all at once: a redraw is cheap enough).
const REMEMBERED: usize = 256;

fn remembered(environment_id: Uuid, input: &str) -> Option<String> {
    let last = LAST_DRAWN.lock().unwrap_or_else(|e| e.into_inner());
    match last.get(&environment_id) {
        Some((drawn_from, svg)) if drawn_from == input => Some(svg.clone()),
        _ => None,
    }
}

fn remember(environment_id: Uuid, input: String, svg: &str) {
    let mut last = LAST_DRAWN.lock().unwrap_or_else(|e| e.into_inner());
    if last.len() >= REMEMBERED && !last.contains_key(&environment_id) {
        last.clear();
    }
    last.insert(environment_id, (input, svg.to_owned()));
}

/// Each service's `depends_on`, for the map's dashed arrows.
fn depends_on_edges(services: &[ServiceView]) -> Vec<(&str, &[DependsOn])> {
    services
        .iter()
        .map(|s| (s.name.as_str(), s.spec.depends_on.as_slice()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawing_is_reused_only_for_the_same_input_of_the_same_environment() {
        let (env, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(remembered(env, "a"), None);
        remember(env, "a".into(), "<svg>a</svg>");
        assert_eq!(remembered(env, "a").as_deref(), Some("<svg>a</svg>"));
        assert_eq!(remembered(env, "b"), None);
        assert_eq!(remembered(other, "a"), None);
        remember(env, "b".into(), "<svg>b</svg>");
        assert_eq!(remembered(env, "a"), None);
        assert_eq!(remembered(env, "b").as_deref(), Some("<svg>b</svg>"));
    }
}
