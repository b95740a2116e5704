//! Live updates for the dashboard: one Postgres listener fanned out to every open stream
//! (the hub), container log following, and CPU/memory sampling.

mod hub;
pub mod logs;
pub mod metrics;
mod reader;

pub use hub::{HubMessage, LiveHub};
pub use metrics::MetricsSampler;
pub use reader::{EventReader, StreamEvent};
