//! How what a person types is tidied before the rules judge it: one rule per kind of
//! field, applied to every definition (REST API, dashboard form, server functions) by the
//! service commands before validation, so `"Web"` and `" web "` mean the same everywhere.
//!
//! Surrounding whitespace goes from single-line values; DNS names (the service name, the
//! domains) are lowercased, as DNS ignores case. What reaches a program as data is never
//! touched: env keys and values, command arguments, build arguments and secrets.

use super::{GitCredentials, HealthProbe, ServiceSpec};

/// A DNS name as typed: without surrounding whitespace, lowercase (`" App.Example.COM "`
/// → `"app.example.com"`).
pub fn dns_name(typed: &str) -> String {
    typed.trim().to_lowercase()
}

/// A single-line value whose case matters (an image reference, a repository URL, a branch,
/// a path, a user name): without surrounding whitespace.
pub fn single_line(typed: &str) -> String {
    typed.trim().to_owned()
}

impl ServiceSpec {
    /// Applies the rules above to every typed field, in place.
    pub fn normalise(&mut self) {
        let line = |s: &mut String| *s = single_line(s);
        self.name = dns_name(&self.name);
        line(&mut self.image);
        if let Some(route) = self.http.as_mut() {
            for domain in &mut route.domains {
                *domain = dns_name(domain);
            }
        }
        if let Some(git) = self.git.as_mut() {
            line(&mut git.repo);
            line(&mut git.branch);
            line(&mut git.dockerfile);
            line(&mut git.context);
            if let Some(GitCredentials::Token { username, .. }) = git.credentials.as_mut() {
                line(username);
            }
        }
        if let Some(auth) = self.registry_auth.as_mut() {
            line(&mut auth.username);
        }
        for d in &mut self.depends_on {
            d.service = dns_name(&d.service);
        }
        // Label keys are tidied; their values are data, as env values are.
        if self.labels.keys().any(|k| single_line(k) != *k) {
            self.labels = std::mem::take(&mut self.labels)
                .into_iter()
                .map(|(k, v)| (single_line(&k), v))
                .collect();
        }
        for volume in &mut self.volumes {
            line(&mut volume.name);
            line(&mut volume.path);
        }
        if let Some(HealthProbe::Http { path, .. }) =
            self.health_check.as_mut().map(|h| &mut h.probe)
        {
            line(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_domains_are_trimmed_and_lowercased() {
        assert_eq!(dns_name(" Web "), "web");
        assert_eq!(dns_name("App.Example.COM\t"), "app.example.com");
        assert_eq!(
            single_line("  registry.example.com/Team/app:V1 "),
            "registry.example.com/Team/app:V1"
        );
    }

    #[test]
    fn a_spec_is_tidied_but_its_data_is_left_alone() {
        let mut spec: ServiceSpec = serde_json::from_value(json!({
            "name": " Web ", "image": " nginx:1.27\n",
            "command": [" sh ", "-c", "echo  hi "],
            "env": [{"key": "GREETING", "value": "  Hello\n"},
                    {"key": "TOKEN", "value": " s3cret ", "secret": true}],
            "http": {"domains": [" App.Example.com "], "port": 80},
            "registry_auth": {"username": " ada ", "password": " pw "},
            "volumes": [{"name": " data ", "path": " /var/data "}],
            "git": {"repo": " https://example.com/a.git ", "branch": " Main ",
                    "build_args": [{"key": "V", "value": " 1 "}],
                    "credentials": {"kind": "token", "username": " bot ", "token": " t "}}
        }))
        .unwrap();
        spec.normalise();
        assert_eq!(spec.name, "web");
        assert_eq!(spec.image, "nginx:1.27");
        assert_eq!(spec.http.as_ref().unwrap().domains, ["app.example.com"]);
        assert_eq!(spec.registry_auth.as_ref().unwrap().username, "ada");
        assert_eq!(spec.registry_auth.as_ref().unwrap().password, " pw ");
        assert_eq!(
            (spec.volumes[0].name.as_str(), spec.volumes[0].path.as_str()),
            ("data", "/var/data")
        );
        assert_eq!(spec.command, [" sh ", "-c", "echo  hi "]);
        assert_eq!(spec.env[0].value, "  Hello\n");
        assert_eq!(spec.env[1].value, " s3cret ");
        let git = spec.git.unwrap();
        assert_eq!(
            (git.repo.as_str(), git.branch.as_str()),
            ("https://example.com/a.git", "Main")
        );
        assert_eq!(git.build_args[0].value, " 1 ");
        assert_eq!(
            git.credentials,
            Some(GitCredentials::Token {
                username: "bot".into(),
                token: " t ".into()
            })
        );
    }
}
