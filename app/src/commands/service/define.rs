//! Creating a service and changing its definition.

use crate::commands::dependencies;
use crate::commands::variables::check_service;
use crate::commands::{Caller, CommandError, Deps};
use crate::domain::service::{
    adopt_stored_image, check_repo_target, check_repo_url, classify, keep_stored_order,
    keep_stored_secrets, spec_change, wording, Change, EventKind, ServiceSpec,
};
use crate::domain::Permission;
use crate::store::change::{new_template, ServiceChange, Tx};
use crate::store::spec_secrets::{open_env, seal_env};
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

/// Creates a service and its first deployment (a git service: its first build) in
/// `environment` of the caller's team (`None`: the default project's `production`, made
/// when missing), its typed fields normalised first (see [`ServiceSpec::normalise`]).
/// Returns the new service's id.
pub async fn create(
    deps: Deps<'_>,
    caller: &Caller,
    environment: Option<Uuid>,
    spec: ServiceSpec,
) -> Result<Uuid, CommandError> {
    let tx = deps.pool.begin().await?;
    let (id, tx) = define_new(deps, tx, caller, environment, spec, Origin::New).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create`] inside the caller's transaction `tx`, handed back uncommitted (its first
/// deployment or build starts when the caller commits). The service's references are
/// left to the caller, which checks all the services it stores together
/// (`variables::check_services`): inside one transaction each would miss the others.
pub async fn create_in(
    deps: Deps<'_>,
    tx: Tx,
    caller: &Caller,
    environment: Option<Uuid>,
    spec: ServiceSpec,
) -> Result<(Uuid, Tx), CommandError> {
    define_new(deps, tx, caller, environment, spec, Origin::Import).await
}

async fn define_new(
    deps: Deps<'_>,
    tx: Tx,
    caller: &Caller,
    environment: Option<Uuid>,
    mut spec: ServiceSpec,
    origin: Origin<'_>,
) -> Result<(Uuid, Tx), CommandError> {
    caller.may(Permission::ManageServices)?;
    spec.normalise();
    spec.validate().map_err(CommandError::Invalid)?;
    check_reachable(deps, &spec).await?;
    insert(deps, tx, caller, environment, spec, origin).await
}

/// Where a new service comes from: what its audit entry says, and whether its references
/// are checked here.
enum Origin<'a> {
    /// A form or the API: checked here.
    New,
    /// A compose import: checked by the caller, for the whole file at once.
    Import,
    /// A clone's copy of `<environment>/<service>`: checked in its source environment.
    Copy(&'a str),
}

/// A clone's copy of a service (`spec`: valid, secrets open) into `environment`, written
/// in the clone's transaction `tx` and handed back with it (its deployment or build is
/// seen by the worker once the clone commits); `from` (`<environment>/<service>`) goes
/// into its audit entry. Its variables are not checked again: they were checked in the
/// source environment, and the copy a reference names may not be in yet.
pub async fn insert_copy(
    deps: Deps<'_>,
    caller: &Caller,
    tx: Tx,
    environment: Uuid,
    spec: ServiceSpec,
    from: &str,
) -> Result<Tx, CommandError> {
    let (_, tx) = insert(
        deps,
        tx,
        caller,
        Some(environment),
        spec,
        Origin::Copy(from),
    )
    .await?;
    Ok(tx)
}

/// Stores a valid new service (`spec`: secrets open) in `tx` and queues its first
/// deployment or build.
async fn insert(
    deps: Deps<'_>,
    tx: Tx,
    caller: &Caller,
    environment: Option<Uuid>,
    spec: ServiceSpec,
    origin: Origin<'_>,
) -> Result<(Uuid, Tx), CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    // A clone's copies were checked in their source environment (and go in one by one,
    // so a copy may refer to one that is not in yet).
    if matches!(origin, Origin::New) {
        check_service(deps, actor.team_id, environment, &spec).await?;
        dependencies::check_service(deps, actor.team_id, environment, &spec).await?;
    }
    let cloned_from = match origin {
        Origin::Copy(from) => Some(from),
        Origin::New | Origin::Import => None,
    };
    let id = Uuid::new_v4();
    let mut sealed = spec;
    if sealed.git.is_some() {
        sealed.image.clear(); // set by the first build
    }
    seal_env(&mut sealed, id, deps.secrets);
    let mut change = ServiceChange::insert(tx, actor, id, environment, &sealed).await?;
    if sealed.git.is_some() {
        change.queue_build("create").await?;
    } else {
        change.deploy(&sealed, &new_template(), "create").await?;
    }
    let who = change.by_whom().await?;
    change
        .event(EventKind::Change, &wording::created(&who, &sealed))
        .await?;
    let mut summary = json!({"source": wording::source(&sealed), "replicas": sealed.replicas});
    if let Some(from) = cloned_from {
        summary["cloned_from"] = json!(from);
    }
    change.audit("service.create", summary).await?;
    Ok((id, change.release()))
}

/// Replaces a service's definition (typed fields normalised first, see
/// [`ServiceSpec::normalise`]). A secret sent empty keeps the stored one; variables keep
/// their stored order; a git
/// service keeps its built image and is built again when its source changed. Answers what
/// the running service does: nothing, scale, reroute or roll out.
pub async fn update(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    spec: ServiceSpec,
) -> Result<Change, CommandError> {
    update_if(deps, caller, id, spec, |_| true).await
}

/// [`update`] only while `current(version)` holds for the stored version (when the service
/// row last changed, read under the row lock): an `If-Match` that names an older version
/// is [`CommandError::Stale`] and changes nothing.
pub async fn update_if(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    spec: ServiceSpec,
    current: impl FnOnce(DateTime<Utc>) -> bool,
) -> Result<Change, CommandError> {
    let tx = deps.pool.begin().await?;
    let (kind, tx) = redefine(deps, tx, caller, id, spec, current, Origin::New).await?;
    tx.commit().await?;
    Ok(kind)
}

/// [`update`] inside the caller's transaction `tx`, handed back uncommitted (a rollout or
/// build starts when the caller commits). References are left to the caller, as for
/// [`create_in`].
pub async fn update_in(
    deps: Deps<'_>,
    tx: Tx,
    caller: &Caller,
    id: Uuid,
    spec: ServiceSpec,
) -> Result<(Change, Tx), CommandError> {
    redefine(deps, tx, caller, id, spec, |_| true, Origin::Import).await
}

async fn redefine(
    deps: Deps<'_>,
    tx: Tx,
    caller: &Caller,
    id: Uuid,
    mut spec: ServiceSpec,
    current: impl FnOnce(DateTime<Utc>) -> bool,
    origin: Origin<'_>,
) -> Result<(Change, Tx), CommandError> {
    let actor = caller.may(Permission::ManageServices)?;
    spec.normalise();
    spec.validate().map_err(CommandError::Invalid)?;
    let mut change = ServiceChange::lock_in(tx, actor, id).await?;
    if !current(change.updated_at) {
        return Err(CommandError::Stale);
    }
    let mut stored = change.stored.clone();
    open_env(&mut stored, id, deps.secrets).map_err(|e| StoreError::Secret(e.to_string()))?;
    let moved = keep_stored_secrets(&mut spec, &stored);
    keep_stored_order(&mut spec, &stored);
    if !moved.is_empty() {
        return Err(CommandError::Invalid(moved));
    }
    let repo = |s: &ServiceSpec| s.git.as_ref().map(|g| g.repo.clone());
    if repo(&spec) != repo(&stored) {
        check_reachable(deps, &spec).await?;
    }
    if spec.name != stored.name {
        return Err(CommandError::field("name", "A service cannot be renamed."));
    }
    if matches!(origin, Origin::New) {
        let environment = crate::store::variables::environment_of(deps.pool, id).await?;
        check_service(deps, change.actor.team_id, Some(environment), &spec).await?;
        dependencies::check_service(deps, change.actor.team_id, Some(environment), &spec).await?;
    }
    if adopt_stored_image(&mut spec, &stored) {
        return rebuild(deps, change, &stored, spec).await;
    }
    let kind = classify(&stored, &spec);
    if kind == Change::None {
        return Ok((kind, change.release()));
    }
    let summary = spec_change(&stored, &spec);
    let mut sealed = spec;
    seal_env(&mut sealed, id, deps.secrets);
    change.store_spec(&sealed).await?;
    let action = if kind == Change::Scale {
        "service.scale"
    } else {
        "service.update"
    };
    change.audit(action, summary).await?;
    // Scaling and rerouting keep the containers, so they keep their name template.
    let (template, trigger) = match (kind, change.template.clone()) {
        (Change::Scale, Some(t)) => (t, "scale"),
        (Change::Reroute, Some(t)) => (t, "update"),
        _ => (new_template(), "update"),
    };
    change.deploy(&sealed, &template, trigger).await?;
    let who = change.by_whom().await?;
    let event = if kind == Change::Scale {
        EventKind::Scale
    } else {
        EventKind::Change
    };
    let message = wording::edited(&who, kind, &stored, &sealed);
    change.event(event, &message).await?;
    Ok((kind, change.release()))
}

/// A git repository Berth may fetch from: not an internal address (unless the instance
/// owner allows private targets), a local path only below BERTH_GIT_LOCAL_ROOT. A 422 on
/// `git.repo` otherwise. Judged again, after resolution, when a build connects.
async fn check_reachable(deps: Deps<'_>, spec: &ServiceSpec) -> Result<(), CommandError> {
    let Some(git) = &spec.git else { return Ok(()) };
    let Ok(location) = check_repo_url(&git.repo) else {
        return Ok(()); // validate() answered already
    };
    let allow_private = crate::store::settings::allow_private_targets(deps.pool).await?;
    check_repo_target(&location, allow_private, deps.git_local_root)
        .map_err(|m| CommandError::field("git.repo", m))
}

/// A git service whose source changed (or that has no image yet): the definition is stored
/// and the branch head is built; the build's deployment rolls out the definition as it is
/// when the build ends.
async fn rebuild(
    deps: Deps<'_>,
    mut change: ServiceChange,
    stored: &ServiceSpec,
    mut spec: ServiceSpec,
) -> Result<(Change, Tx), CommandError> {
    let summary = spec_change(stored, &spec);
    seal_env(&mut spec, change.id, deps.secrets);
    change.store_spec(&spec).await?;
    change.audit("service.update", summary).await?;
    change.queue_build("update").await?;
    let who = change.by_whom().await?;
    let git = spec.git.as_ref().expect("a git service");
    let message = wording::git_source_edited(&who, git);
    change.event(EventKind::Change, &message).await?;
    Ok((Change::Rollout, change.release()))
}

/// Changes only the replica count (0–50): a deployment that replaces no container.
pub async fn scale(
    deps: Deps<'_>,
    caller: &Caller,
    id: Uuid,
    replicas: u32,
) -> Result<Change, CommandError> {
    caller.may(Permission::ManageServices)?;
    let mut spec = crate::store::services::spec(deps.pool, caller.actor.team_id, id).await?;
    // The masked secrets go back empty: empty keeps what is stored.
    for var in spec.env.iter_mut().filter(|v| v.secret) {
        var.value.clear();
    }
    if let Some(auth) = spec.registry_auth.as_mut() {
        auth.password.clear();
    }
    if let Some(c) = spec.git.as_mut().and_then(|g| g.credentials.as_mut()) {
        c.secret_mut().clear();
    }
    spec.replicas = replicas;
    update(deps, caller, id, spec).await
}
