//! The secrets inside a service definition (secret env values, the registry password, git
//! credentials), sealed before the definition is stored and opened for the worker, the
//! builder, and to compare a stored definition with a new one. Each is bound to its
//! service and slot, and a credential also to the host it is for (the repository's origin,
//! the image's registry), so a sealed value moved elsewhere, or a definition pointed at
//! another host behind Berth's back, does not open.

use super::secret_box::{SecretBox, SecretError};
use crate::domain::service::{registry_host, repo_origin, GitSource, RegistryAuth, ServiceSpec};
use uuid::Uuid;

/// The context a secret env value is sealed with: bound to its service and key.
pub fn env_context(service_id: Uuid, key: &str) -> String {
    format!("env:{service_id}:{key}")
}

/// The registry password's context: its service and the registry it is for.
fn registry_context(service_id: Uuid, image: &str) -> String {
    format!("registry:{service_id}:{}", registry_host(image))
}

/// The git credential's context: its service and the repository origin it is for.
fn git_context(service_id: Uuid, repo: &str) -> String {
    format!("git:{service_id}:{}", repo_origin(repo))
}

/// The host-bound credentials of a spec (the registry password, the git token or deploy
/// key), each with the context it was sealed under before it was bound to its host
/// (`registry:{id}`, `git:{id}`) and the one it is sealed under now. Takes the spec's
/// fields, so its env can be borrowed alongside.
fn credential_slots<'a>(
    image: &str,
    registry_auth: &'a mut Option<RegistryAuth>,
    git: &'a mut Option<GitSource>,
    service_id: Uuid,
) -> Vec<(&'a mut String, String, String)> {
    let mut slots = Vec::new();
    if let Some(auth) = registry_auth.as_mut() {
        let bound = registry_context(service_id, image);
        slots.push((&mut auth.password, format!("registry:{service_id}"), bound));
    }
    if let Some(g) = git.as_mut() {
        let bound = git_context(service_id, &g.repo);
        if let Some(c) = g.credentials.as_mut() {
            slots.push((c.secret_mut(), format!("git:{service_id}"), bound));
        }
    }
    slots
}

/// Every secret of a spec (secret env values, the registry password, git credentials) with
/// the context it is sealed under.
fn secret_slots(spec: &mut ServiceSpec, service_id: Uuid) -> Vec<(&mut String, String)> {
    let credentials = credential_slots(
        &spec.image,
        &mut spec.registry_auth,
        &mut spec.git,
        service_id,
    );
    spec.env
        .iter_mut()
        .filter(|v| v.secret)
        .map(|v| {
            let context = env_context(service_id, &v.key);
            (&mut v.value, context)
        })
        .chain(
            credentials
                .into_iter()
                .map(|(value, _, bound)| (value, bound)),
        )
        .collect()
}

pub fn seal_env(spec: &mut ServiceSpec, service_id: Uuid, secrets: &SecretBox) {
    for (value, context) in secret_slots(spec, service_id) {
        *value = secrets.seal_text(value, &context);
    }
}

/// Opens every sealed secret in a stored spec (for the worker, and to compare specs).
pub fn open_env(
    spec: &mut ServiceSpec,
    service_id: Uuid,
    secrets: &SecretBox,
) -> Result<(), SecretError> {
    for (value, context) in secret_slots(spec, service_id) {
        *value = secrets.open_text(value, &context)?;
    }
    Ok(())
}

/// Credentials sealed before they were bound to their host (context `git:{id}`,
/// `registry:{id}`) are sealed again under their host's context. Answers how many values
/// changed; a value that opens under neither is left as it is (opening it will fail).
pub fn bind_credentials_to_hosts(
    spec: &mut ServiceSpec,
    service_id: Uuid,
    secrets: &SecretBox,
) -> usize {
    let mut changed = 0;
    let slots = credential_slots(
        &spec.image,
        &mut spec.registry_auth,
        &mut spec.git,
        service_id,
    );
    for (value, legacy, bound) in slots {
        if secrets.open_text(value, &bound).is_ok() {
            continue;
        }
        if let Ok(plain) = secrets.open_text(value, &legacy) {
            *value = secrets.seal_text(&plain, &bound);
            changed += 1;
        }
    }
    changed
}
