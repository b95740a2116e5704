//! A git service's push webhook as its page shows it: one URL per forge, and whether a
//! secret exists (the secret itself only right after it is generated).

use serde::{Deserialize, Serialize};

/// Which forge sends a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    GitHub,
    GitLab,
    Gitea,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::GitHub, Provider::GitLab, Provider::Gitea];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Gitea => "gitea",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Provider::GitHub => "GitHub",
            Provider::GitLab => "GitLab",
            Provider::Gitea => "Gitea/Forgejo",
        }
    }

    /// Where to enter the URL and secret in the forge, in words.
    pub fn instructions(self) -> &'static str {
        match self {
            Provider::GitHub => "Repository → Settings → Webhooks → Add webhook. Payload URL: the URL below; Content type: application/json; Secret: the webhook secret; events: just the push event.",
            Provider::GitLab => "Project → Settings → Webhooks → Add new webhook. URL: the URL below; Secret token: the webhook secret; Trigger: Push events (you may filter to the branch).",
            Provider::Gitea => "Repository → Settings → Webhooks → Add webhook → Gitea (or Forgejo). Target URL: the URL below; HTTP method POST; POST content type application/json; Secret: the webhook secret; Trigger on: push events.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookUrl {
    pub provider: Provider,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    pub has_secret: bool,
    /// Only in the answer that generated it: shown once, never stored in the clear.
    pub secret: Option<String>,
    pub urls: Vec<WebhookUrl>,
}

/// Where other systems reach this Berth: `BERTH_PUBLIC_URL`, or (unset) the host a request
/// came to.
pub fn public_base(public_url: Option<&str>, request_host: Option<&str>) -> String {
    match public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", request_host.unwrap_or("localhost")),
    }
}

impl WebhookInfo {
    /// `base`: the public URL of the dashboard (`https://berth.example.com`).
    pub fn new(base: &str, service_id: uuid::Uuid, has_secret: bool) -> Self {
        let base = base.trim_end_matches('/');
        WebhookInfo {
            has_secret,
            secret: None,
            urls: Provider::ALL
                .into_iter()
                .map(|provider| WebhookUrl {
                    provider,
                    url: format!("{base}/hooks/{}/{service_id}", provider.as_str()),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_per_forge() {
        let id = uuid::Uuid::nil();
        let info = WebhookInfo::new("https://berth.example.com/", id, false);
        let urls: Vec<_> = info.urls.iter().map(|u| u.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                format!("https://berth.example.com/hooks/github/{id}"),
                format!("https://berth.example.com/hooks/gitlab/{id}"),
                format!("https://berth.example.com/hooks/gitea/{id}"),
            ]
        );
    }
}
