//! Counting a pull's progress from the engine's per-layer status messages (`Pulling fs
//! layer`, `Downloading` with bytes, `Download complete`, `Already exists`, …): pure, so
//! the counting is a unit test.

use std::collections::BTreeMap;

/// How far a pull is: bytes downloaded of the bytes known so far (a layer's size is known
/// once it starts downloading), and layers done of the layers seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullProgress {
    pub downloaded_bytes: u64,
    pub total_bytes: u64,
    pub layers_done: usize,
    pub layers: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Layer {
    current: u64,
    total: u64,
    done: bool,
}

/// The layers of one pull, as their status messages arrive.
#[derive(Debug, Default)]
pub struct PullTally {
    layers: BTreeMap<String, Layer>,
}

impl PullTally {
    /// Takes one status message of `layer` (`current`/`total`: its progress detail, bytes).
    pub fn see(&mut self, layer: &str, status: &str, current: Option<i64>, total: Option<i64>) {
        // Messages about the whole pull ("Pulling from …", "Digest: …") name a tag or
        // repository, not a layer; they come without a layer status we know.
        let known = matches!(
            status,
            "Pulling fs layer"
                | "Waiting"
                | "Downloading"
                | "Verifying Checksum"
                | "Download complete"
                | "Extracting"
                | "Pull complete"
                | "Already exists"
        );
        if !known {
            return;
        }
        let l = self.layers.entry(layer.to_owned()).or_default();
        let bytes = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
        match status {
            "Downloading" => {
                if let Some(t) = bytes(total) {
                    l.total = t;
                }
                if let Some(c) = bytes(current) {
                    l.current = c;
                }
            }
            "Verifying Checksum" | "Download complete" | "Extracting" => l.current = l.total,
            "Pull complete" | "Already exists" => {
                l.current = l.total;
                l.done = true;
            }
            _ => {}
        }
    }

    pub fn progress(&self) -> PullProgress {
        let mut p = PullProgress {
            layers: self.layers.len(),
            ..Default::default()
        };
        for l in self.layers.values() {
            p.downloaded_bytes += l.current.min(l.total.max(l.current));
            p.total_bytes += l.total;
            p.layers_done += usize::from(l.done);
        }
        p
    }
}

impl PullProgress {
    /// `downloading 12.3 of 40.0 MB, 2 of 5 layers done`.
    pub fn describe(&self) -> String {
        let mb = |b: u64| b as f64 / 1_000_000.0;
        format!(
            "downloading {:.1} of {:.1} MB, {} of {} layers done",
            mb(self.downloaded_bytes),
            mb(self.total_bytes),
            self.layers_done,
            self.layers
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_counted_as_they_download() {
        let mut t = PullTally::default();
        t.see("latest", "Pulling from demo", None, None);
        t.see("a", "Already exists", None, None);
        t.see("b", "Pulling fs layer", None, None);
        t.see("c", "Pulling fs layer", None, None);
        t.see("b", "Downloading", Some(1_000_000), Some(4_000_000));
        t.see("c", "Downloading", Some(500_000), Some(2_000_000));
        assert_eq!(
            t.progress(),
            PullProgress {
                downloaded_bytes: 1_500_000,
                total_bytes: 6_000_000,
                layers_done: 1,
                layers: 3
            }
        );
        t.see("c", "Download complete", None, None);
        t.see("c", "Extracting", Some(10), Some(2_000_000));
        t.see("c", "Pull complete", None, None);
        let p = t.progress();
        assert_eq!((p.downloaded_bytes, p.layers_done), (3_000_000, 2));
        assert_eq!(
            p.describe(),
            "downloading 3.0 of 6.0 MB, 2 of 3 layers done"
        );
    }
}
