//! Live updates for the dashboard: one Postgres listener fanned out to every open stream
//! (the hub), container log following, a run's output as it is kept, and CPU/memory
//! sampling.

mod hub;
pub mod logs;
pub mod metrics;
mod reader;
pub mod run_output;

pub use hub::{HubMessage, LiveHub};
pub use metrics::MetricsSampler;
pub use reader::{EventReader, StreamEvent};
