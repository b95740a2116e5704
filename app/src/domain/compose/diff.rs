//! The preview of an import into an environment that has services already: what each
//! service of the file does (create, update which fields, nothing), and which services the
//! file leaves alone. The service change classifier decides what an update does to the
//! running containers.

use super::{ComposeApp, ComposeService, DefinedService, ImportChange};
use crate::domain::service::{
    classify, keep_stored_order, repo_origin, spec_change, HealthProbe, ServiceSpec,
};

/// One entry per service of `imported` (in the file's order), then one per service of
/// `existing` the file does not name. Give `existing` with secrets open, so that a secret
/// variable the file sets to the same value is no change.
pub fn diff(existing: &[DefinedService], imported: &ComposeApp) -> Vec<ImportChange> {
    let mut out = Vec::new();
    for service in &imported.services {
        let name = service.spec.name.clone();
        let Some(old) = existing.iter().find(|e| e.spec.name == name) else {
            out.push(ImportChange::Create { service: name });
            continue;
        };
        let new = as_stored(service, &old.spec);
        let fields: Vec<String> = spec_change(&old.spec, &new)
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        if fields.is_empty() {
            out.push(ImportChange::Unchanged { service: name });
        } else {
            // Only `depends_on` differing replaces no container (`reroute`).
            out.push(ImportChange::Update {
                service: name,
                fields,
                change: classify(&old.spec, &new),
            });
        }
    }
    for old in existing {
        if !imported
            .services
            .iter()
            .any(|s| s.spec.name == old.spec.name)
        {
            out.push(ImportChange::NotInFile {
                service: old.spec.name.clone(),
            });
        }
    }
    out
}

/// The spec an import would store over `stored`: what Compose cannot say is kept from the
/// stored service (registry credentials; for a build, the repository, branch, credentials
/// and the image built last), and variables keep their stored order.
pub fn as_stored(service: &ComposeService, stored: &ServiceSpec) -> ServiceSpec {
    let mut new = service.spec.clone();
    if new.registry_auth.is_none() && new.image == stored.image {
        new.registry_auth = stored.registry_auth.clone();
    }
    if let (Some(build), Some(git)) = (&service.build, &stored.git) {
        // The caller sets the source from the environment's repository; without it the
        // stored one (or the file's x-berth.git), with the stored credentials for its host.
        if new.git.is_none() {
            let (repo, branch) = match &build.repository {
                Some(r) => (r.repository.as_str(), r.branch.as_str()),
                None => (git.repo.as_str(), git.branch.as_str()),
            };
            let same_host = repo_origin(repo) == repo_origin(&git.repo);
            let credentials = git.credentials.clone().filter(|_| same_host);
            new.git = Some(build.git_source(repo, branch, credentials));
        }
        new.image = stored.image.clone();
        new.registry_auth = stored.registry_auth.clone();
    }
    // A turned-off check carries timings that mean nothing: keep the stored ones.
    if let (Some(h), Some(old)) = (new.health_check.as_mut(), stored.health_check.as_ref()) {
        if h.probe == HealthProbe::None && old.probe == HealthProbe::None {
            h.clone_from(old);
        }
    }
    keep_stored_order(&mut new, stored);
    new
}
