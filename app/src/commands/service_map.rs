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
    render_svg(&nodes, &edges)
}

// depends_on edges: wired when ServiceSpec has depends_on
// (`services.iter().map(|s| (s.name.as_str(), s.spec.depends_on.as_slice())).collect()`).
fn depends_on_edges(_services: &[ServiceView]) -> Vec<(&str, &[DependsOn])> {
    Vec::new()
}
