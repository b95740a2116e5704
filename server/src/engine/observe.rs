//! Reading what containers do: their output (once or followed) and their CPU/memory use.

use super::client::Engine;
use super::containers::ContainerError;
use app::domain::service::cpu_percent;
use bollard::container::LogOutput;
use bollard::query_parameters::{LogsOptionsBuilder, StatsOptionsBuilder};
use futures::{Stream, StreamExt};

/// A chunk of a container's output and which stream it came from.
#[derive(Debug, Clone)]
pub struct OutputChunk {
    pub stderr: bool,
    pub bytes: Vec<u8>,
}

/// One reading of a container's resource use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub cpu_pct: f64,
    pub mem_bytes: u64,
}

impl Engine {
    /// A container's output: the last `tail` lines (`None`: all) printed since `since` (unix
    /// seconds, 0 for ever), then (with `follow`) everything it prints until it stops or the
    /// stream is dropped. With `timestamps` each line starts with Docker's RFC 3339 time.
    pub async fn output(
        &self,
        id: &str,
        tail: Option<usize>,
        since: i64,
        follow: bool,
        timestamps: bool,
    ) -> Result<
        impl Stream<Item = Result<OutputChunk, ContainerError>> + Send + 'static,
        ContainerError,
    > {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .timestamps(timestamps)
            .since(since.clamp(0, i64::from(i32::MAX)) as i32)
            .tail(&tail.map_or_else(|| "all".to_owned(), |n| n.to_string()))
            .build();
        let docker = self.client().await?;
        Ok(docker
            .logs(id, Some(options))
            .filter_map(|chunk| async move {
                match chunk {
                    Ok(LogOutput::StdErr { message }) => Some(Ok(OutputChunk {
                        stderr: true,
                        bytes: message.to_vec(),
                    })),
                    Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                        Some(Ok(OutputChunk {
                            stderr: false,
                            bytes: message.to_vec(),
                        }))
                    }
                    Ok(LogOutput::StdIn { .. }) => None,
                    Err(e) => Some(Err(e.into())),
                }
            }))
    }

    /// CPU (over the engine's own ~1 s window) and memory of a running container.
    pub async fn usage(&self, id: &str) -> Result<Usage, ContainerError> {
        let options = StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(false)
            .build();
        let docker = self.client().await?;
        let mut stats = std::pin::pin!(docker.stats(id, Some(options)));
        let s = match stats.next().await {
            Some(s) => s?,
            None => {
                return Ok(Usage {
                    cpu_pct: 0.0,
                    mem_bytes: 0,
                })
            }
        };
        let cpu = s.cpu_stats.unwrap_or_default();
        let pre = s.precpu_stats.unwrap_or_default();
        let total = |c: &bollard::models::ContainerCpuStats| {
            c.cpu_usage
                .as_ref()
                .and_then(|u| u.total_usage)
                .unwrap_or(0)
        };
        let cpu_pct = cpu_percent(
            total(&cpu),
            total(&pre),
            cpu.system_cpu_usage.unwrap_or(0),
            pre.system_cpu_usage.unwrap_or(0),
            cpu.online_cpus.unwrap_or(1),
        );
        let memory = s.memory_stats.unwrap_or_default();
        // What `docker stats` shows: usage less the reclaimable page cache.
        let cache = memory
            .stats
            .as_ref()
            .and_then(|m| {
                m.get("inactive_file")
                    .or_else(|| m.get("total_inactive_file"))
                    .copied()
            })
            .unwrap_or(0);
        Ok(Usage {
            cpu_pct,
            mem_bytes: memory.usage.unwrap_or(0).saturating_sub(cache),
        })
    }
}
