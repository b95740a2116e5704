//! The environments' Docker networks this Berth made: listed, and removed once their
//! environment is gone. One still in use (a container Berth does not own joined it) is
//! kept and tried again on the next resync.

use super::client::Engine;
use super::containers::{is_status, ContainerError};
use super::observed::{label_filter, LABEL_INSTANCE, LABEL_MANAGED};
use bollard::query_parameters::ListNetworksOptionsBuilder;

impl Engine {
    /// The names of the networks this Berth instance made.
    pub async fn managed_networks(&self) -> Result<Vec<String>, ContainerError> {
        let labels = [
            (LABEL_MANAGED, "true".to_owned()),
            (LABEL_INSTANCE, self.instance.to_string()),
        ];
        let options = ListNetworksOptionsBuilder::default()
            .filters(&label_filter(&labels))
            .build();
        Ok(self
            .client()
            .await?
            .list_networks(Some(options))
            .await?
            .into_iter()
            .filter_map(|n| n.name)
            .collect())
    }

    /// Removes a network; one already gone is success. `Ok(false)`: still in use, kept.
    pub async fn remove_network(&self, name: &str) -> Result<bool, ContainerError> {
        match self.client().await?.remove_network(name).await {
            Ok(()) => Ok(true),
            Err(e) if is_status(&e, 404) => Ok(true),
            Err(e) if is_status(&e, 403) || is_status(&e, 409) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
