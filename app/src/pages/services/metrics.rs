//! CPU and memory charts of a service: SVG drawn from the samples, no chart library. The
//! samples are re-read every few seconds while the page is open.

use crate::api::services::service_metrics;
use crate::components::refresh_every;
use crate::domain::service::{MetricSample, ReplicaIndex, ServiceMetrics};
use leptos::prelude::*;
use std::time::Duration;

const W: f64 = 600.0;
const H: f64 = 110.0;

#[component]
pub fn MetricsCharts(id: String) -> impl IntoView {
    let metrics = Resource::new(move || id.clone(), service_metrics);
    // An in-memory read: cheap enough to ask often, so the first samples show quickly.
    refresh_every(Duration::from_secs(2), move || metrics.refetch());
    view! {
        <section class="card" id="metrics">
            <h2>"CPU and memory"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match metrics.await {
                        Ok(m) if m.total.is_empty() => view! { <p class="muted">"Sampling… the first figures appear within seconds while this page is open."</p> }.into_any(),
                        Ok(m) => view! { <Charts m=m /> }.into_any(),
                        Err(e) => view! { <p class="banner error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Charts(m: ServiceMetrics) -> impl IntoView {
    let last = m.total.last().copied();
    let cpu_max = m.total.iter().map(|s| s.cpu_pct).fold(5.0, f64::max) * 1.1;
    let limit_total: Option<u64> = m
        .containers
        .iter()
        .map(|c| c.mem_limit)
        .sum::<Option<u64>>()
        .filter(|_| !m.containers.is_empty());
    let mem_peak = m.total.iter().map(|s| s.mem_bytes).max().unwrap_or(0);
    let mem_max = (limit_total.unwrap_or(0).max(mem_peak) as f64 * 1.1).max(1.0);
    let span = Span::of(&m.total);
    let cpu_line = span.points(&m.total, |s| s.cpu_pct, cpu_max);
    let mem_line = span.points(&m.total, |s| s.mem_bytes as f64, mem_max);
    let limit_y = limit_total.map(|l| H - l as f64 / mem_max * H);
    view! {
        <div class="charts">
            <figure>
                <figcaption>"CPU " <strong id="cpu-now">{last.map(|s| format!("{:.1} %", s.cpu_pct))}</strong> <span class="muted">" (100 % = one core)"</span></figcaption>
                <svg viewBox=format!("0 0 {W} {H}") class="chart" role="img" aria-label="CPU use over time">
                    <polyline points=cpu_line class="line cpu" />
                </svg>
            </figure>
            <figure>
                <figcaption>"Memory " <strong id="mem-now">{last.map(|s| mib(s.mem_bytes))}</strong>
                    {limit_total.map(|l| view! { <span class="muted">" of " {mib(l)} " limit"</span> })}</figcaption>
                <svg viewBox=format!("0 0 {W} {H}") class="chart" role="img" aria-label="Memory use over time">
                    {limit_y.map(|y| view! { <line x1="0" x2=W y1=y y2=y class="limit" /> })}
                    <polyline points=mem_line class="line mem" />
                </svg>
            </figure>
        </div>
        <table class="table" id="container-metrics">
            <thead><tr><th>"Replica"</th><th>"Container"</th><th>"CPU"</th><th>"Memory"</th></tr></thead>
            <tbody>
                {m.containers.into_iter().filter_map(|c| {
                    let s = c.samples.last().copied()?;
                    Some(view! {
                        <tr><td>{ReplicaIndex::label(c.replica)}</td><td><code>{c.name}</code></td><td>{format!("{:.1} %", s.cpu_pct)}</td><td>{mib(s.mem_bytes)}</td></tr>
                    })
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The time range a chart covers.
struct Span {
    start: i64,
    millis: f64,
}

impl Span {
    fn of(samples: &[MetricSample]) -> Span {
        let start = samples.first().map_or(0, |s| s.at.timestamp_millis());
        let end = samples.last().map_or(0, |s| s.at.timestamp_millis());
        Span {
            start,
            millis: ((end - start) as f64).max(1.0),
        }
    }

    /// SVG polyline points: time across, `value` (0..max) up. A single sample is drawn as
    /// a level line across the chart.
    fn points(
        &self,
        samples: &[MetricSample],
        value: impl Fn(&MetricSample) -> f64,
        max: f64,
    ) -> String {
        let level = |v: f64| H - (v / max).clamp(0.0, 1.0) * H;
        if let [only] = samples {
            let y = level(value(only));
            return format!("0,{y:.1} {W},{y:.1}");
        }
        samples
            .iter()
            .map(|s| {
                let x = (s.at.timestamp_millis() - self.start) as f64 / self.millis * W;
                let y = level(value(s));
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
