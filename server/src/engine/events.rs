//! Docker's event stream, narrowed to the lifecycle of Berth's containers (and, on a swarm
//! manager, to its services and nodes).

use super::client::Engine;
use super::containers::ContainerError;
use super::observed::{label_filter, LABEL_INSTANCE, LABEL_MANAGED, LABEL_SERVICE};
use bollard::query_parameters::EventsOptionsBuilder;
use futures::{Stream, StreamExt};
use uuid::Uuid;

impl Engine {
    /// Docker events for Berth's containers: the service id of each container that changed
    /// (`None` for a labelled container without a valid service label).
    pub async fn container_events(
        &self,
    ) -> Result<impl Stream<Item = Result<Option<Uuid>, ContainerError>>, ContainerError> {
        let docker = self.client().await?;
        let mut filters = label_filter(&[
            (LABEL_MANAGED, "true".to_owned()),
            (LABEL_INSTANCE, self.instance.to_string()),
        ]);
        filters.insert("type", vec!["container".to_owned()]);
        // Lifecycle only: health-check commands also make exec_* events, one per interval.
        filters.insert(
            "event",
            [
                "create",
                "start",
                "restart",
                "die",
                "stop",
                "destroy",
                "pause",
                "unpause",
                "oom",
                "health_status",
            ]
            .map(str::to_owned)
            .to_vec(),
        );
        let options = EventsOptionsBuilder::default().filters(&filters).build();
        Ok(docker.events(Some(options)).map(|event| {
            let event = event?;
            Ok(event
                .actor
                .and_then(|a| a.attributes)
                .and_then(|attrs| attrs.get(LABEL_SERVICE).and_then(|s| s.parse().ok())))
        }))
    }

    /// On a swarm manager: one item per service or node event (a service created, updated
    /// or removed, a node down, drained or back). They name no Berth service: the worker
    /// looks at every service.
    pub async fn swarm_events(
        &self,
    ) -> Result<impl Stream<Item = Result<(), ContainerError>>, ContainerError> {
        let docker = self.client().await?;
        let filters = std::collections::HashMap::from([(
            "type",
            vec!["service".to_owned(), "node".to_owned()],
        )]);
        let options = EventsOptionsBuilder::default().filters(&filters).build();
        Ok(docker
            .events(Some(options))
            .map(|event| event.map(|_| ()).map_err(ContainerError::from)))
    }
}
