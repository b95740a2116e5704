//! Which form field a spec error belongs to.

use super::super::ServiceSpec;

/// The form field a spec error belongs to: `env[2].key` → `env` (or `secret_env`).
pub fn form_field(spec_field: &str, spec: &ServiceSpec) -> String {
    let head = spec_field
        .split(['[', '.'])
        .next()
        .unwrap_or(spec_field)
        .to_owned();
    match head.as_str() {
        "env" => {
            let index: Option<usize> = spec_field
                .strip_prefix("env[")
                .and_then(|r| r.split(']').next())
                .and_then(|n| n.parse().ok());
            match index.and_then(|i| spec.env.get(i)) {
                Some(v) if v.secret => "secret_env".into(),
                _ => "env".into(),
            }
        }
        "cpu_millis" => "cpu".into(),
        "placement" => match spec_field {
            "placement.spread" => "placement_spread".into(),
            "placement.max_per_node" => "placement_max_per_node".into(),
            _ => "placement_constraints".into(),
        },
        "git" => match spec_field {
            "git.repo" => "git_repo".into(),
            "git.branch" => "git_branch".into(),
            "git.dockerfile" => "git_dockerfile".into(),
            "git.context" => "git_context".into(),
            f if f.starts_with("git.build_args") => "git_build_args".into(),
            f if f.starts_with("git.credentials.") => "git_secret".into(),
            _ => "git_credentials".into(),
        },
        "http" => match spec_field {
            "http.port" => "http_port".into(),
            "http.www_redirect" => "www_redirect".into(),
            _ => "domains".into(),
        },
        "registry_auth" => match spec_field.rsplit('.').next() {
            Some("password") => "registry_password".into(),
            _ => "registry_username".into(),
        },
        "health_check" => match spec_field.rsplit('.').next() {
            Some("path") => "health_path".into(),
            Some("port") => "health_port".into(),
            Some("argv") => "health_command".into(),
            Some("host") => "health_host".into(),
            Some(f @ ("interval_s" | "timeout_s" | "retries" | "start_period_s")) => {
                format!("health_{f}")
            }
            _ => "health_kind".into(),
        },
        _ => head,
    }
}
