//! The secrets inside a service definition (secret env values, the registry password, git
//! credentials), sealed before the definition is stored and opened for the worker, the
//! builder, and to compare a stored definition with a new one. Each is bound to its
//! service and slot, so a sealed value moved elsewhere does not open.

use super::secret_box::{SecretBox, SecretError};
use crate::domain::service::ServiceSpec;
use uuid::Uuid;

/// The context a secret env value is sealed with: bound to its service and key.
pub fn env_context(service_id: Uuid, key: &str) -> String {
    format!("env:{service_id}:{key}")
}

fn registry_context(service_id: Uuid) -> String {
    format!("registry:{service_id}")
}

/// Every secret of a spec (secret env values, the registry password) with the context it
/// is sealed under.
fn secret_slots(spec: &mut ServiceSpec, service_id: Uuid) -> Vec<(&mut String, String)> {
    let mut slots: Vec<(&mut String, String)> = spec
        .env
        .iter_mut()
        .filter(|v| v.secret)
        .map(|v| {
            let context = env_context(service_id, &v.key);
            (&mut v.value, context)
        })
        .collect();
    if let Some(auth) = spec.registry_auth.as_mut() {
        slots.push((&mut auth.password, registry_context(service_id)));
    }
    if let Some(c) = spec.git.as_mut().and_then(|g| g.credentials.as_mut()) {
        slots.push((c.secret_mut(), format!("git:{service_id}")));
    }
    slots
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
