//! When a rollout pulls its image: the per-service pull policy (Compose's names) and the
//! rule that gives the one a service follows when it names none.

use super::{parse_image_ref, ServiceSpec};
use serde::{Deserialize, Serialize};

/// Whether a rollout asks the registry for the image before it starts containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum PullPolicy {
    /// Pull on every rollout, even when the engine has the tag: a tag that moved is
    /// picked up. A failed pull of an image the engine has falls back to that image
    /// (with a warning) unless the service gives registry credentials.
    Always,
    /// Pull only when the engine does not have the image.
    IfMissing,
    /// Never pull: the rollout fails when the engine does not have the image.
    Never,
}

impl PullPolicy {
    pub const ALL: [PullPolicy; 3] = [PullPolicy::Always, PullPolicy::IfMissing, PullPolicy::Never];

    /// The name in specs and forms: `always`, `if-missing`, `never`.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "always",
            PullPolicy::IfMissing => "if-missing",
            PullPolicy::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<PullPolicy> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl ServiceSpec {
    /// The pull policy a rollout of this spec follows: the one it sets; else `if-missing`
    /// for an image pinned by digest (`name@sha256:…` never changes) and `always` for a
    /// tag. A git service's image is built by Berth on this engine and never pulled
    /// (`never`, whatever is set).
    pub fn effective_pull_policy(&self) -> PullPolicy {
        if self.git.is_some() {
            return PullPolicy::Never;
        }
        if let Some(p) = self.pull_policy {
            return p;
        }
        match parse_image_ref(&self.image) {
            Ok(r) if r.digest.is_some() => PullPolicy::IfMissing,
            _ => PullPolicy::Always,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> ServiceSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_tag_is_pulled_always_and_a_digest_only_when_missing() {
        let tag = spec(serde_json::json!({"name": "web", "image": "localhost:5000/demo:latest"}));
        assert_eq!(tag.pull_policy, None);
        assert_eq!(tag.effective_pull_policy(), PullPolicy::Always);
        let untagged = spec(serde_json::json!({"name": "web", "image": "nginx"}));
        assert_eq!(untagged.effective_pull_policy(), PullPolicy::Always);
        let pinned = spec(serde_json::json!({"name": "web",
            "image": format!("localhost:5000/demo@sha256:{}", "a".repeat(64))}));
        assert_eq!(pinned.effective_pull_policy(), PullPolicy::IfMissing);
    }

    #[test]
    fn a_set_policy_wins_except_for_a_built_image() {
        let never =
            spec(serde_json::json!({"name": "web", "image": "demo:1", "pull_policy": "never"}));
        assert_eq!(never.pull_policy, Some(PullPolicy::Never));
        assert_eq!(never.effective_pull_policy(), PullPolicy::Never);
        let missing = spec(
            serde_json::json!({"name": "web", "image": "demo:1", "pull_policy": "if-missing"}),
        );
        assert_eq!(missing.effective_pull_policy(), PullPolicy::IfMissing);
        let built = spec(
            serde_json::json!({"name": "web", "image": "berth/t/web:abc",
            "git": {"repo": "https://example.com/r.git", "branch": "main"}}),
        );
        assert_eq!(built.effective_pull_policy(), PullPolicy::Never);
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for p in PullPolicy::ALL {
            assert_eq!(PullPolicy::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(PullPolicy::parse("missing"), None);
        assert!(serde_json::from_value::<ServiceSpec>(
            serde_json::json!({"name": "web", "image": "demo:1", "pull_policy": "sometimes"})
        )
        .is_err());
    }
}
