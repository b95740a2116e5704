//! Services and deployments as people change them (dashboard, REST API). Every function is
//! scoped by team: another team's id behaves exactly like an id that does not exist.
//! The worker wakes on the database triggers' announcement of each committed change
//! (`berth_live`, the channel the live pages follow): no function here notifies by hand.

use super::audit::{record, spec_change, Target};
use super::builds::queue_build;
use super::routes::claim_domains;
use super::secret_box::SecretBox;
use super::StoreError;
use crate::domain::service::{
    CommitInfo, ContainerView, DeployStep, DeploymentLogLine, DeploymentState, DeploymentView,
    EventKind, FieldError, RouteStatus, ServiceEvent, ServiceSpec, ServiceStatus, ServiceView,
};
use serde_json::json;
use sqlx::{types::Json, PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no such service")]
    NotFound,
    #[error("the service definition is not valid")]
    Invalid(Vec<FieldError>),
    #[error("the service is being deleted")]
    Deleting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Store(StoreError::Db(e))
    }
}

/// Who or what asked for a change; recorded on the deployment it makes.
pub use super::audit::Actor;

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

pub(super) fn seal_env(spec: &mut ServiceSpec, service_id: Uuid, secrets: &SecretBox) {
    for (value, context) in secret_slots(spec, service_id) {
        *value = secrets.seal_text(value, &context);
    }
}

/// Opens every sealed secret in a stored spec (for the worker, and to compare specs).
pub fn open_env(
    spec: &mut ServiceSpec,
    service_id: Uuid,
    secrets: &SecretBox,
) -> Result<(), super::secret_box::SecretError> {
    for (value, context) in secret_slots(spec, service_id) {
        *value = secrets.open_text(value, &context)?;
    }
    Ok(())
}

pub(super) fn new_template() -> String {
    Uuid::new_v4().simple().to_string()[..12].to_owned()
}

pub(super) fn field_error(field: impl Into<String>, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// The service's stored spec (sealed), its row locked for the change; refused while it is
/// being deleted.
pub(super) async fn lock_service(
    tx: &mut Transaction<'_, Postgres>,
    actor: Actor,
    id: Uuid,
) -> Result<ServiceSpec, ServiceError> {
    let row: Option<(Json<ServiceSpec>, bool)> = sqlx::query_as(
        "SELECT spec, deleting FROM services WHERE id = $1 AND team_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        None => Err(ServiceError::NotFound),
        Some((_, true)) => Err(ServiceError::Deleting),
        Some((Json(spec), false)) => Ok(spec),
    }
}

/// Stores a new (sealed) spec once its host ports and domains are free.
async fn store_spec(
    tx: &mut Transaction<'_, Postgres>,
    actor: Actor,
    id: Uuid,
    sealed: &ServiceSpec,
) -> Result<(), ServiceError> {
    check_host_ports(tx, sealed, id, actor.team_id).await?;
    claim_domains(tx, id, actor.team_id, sealed.http.as_ref()).await?;
    sqlx::query("UPDATE services SET spec = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(Json(sealed))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Host ports are machine-wide: refuse one that another service already publishes.
async fn check_host_ports(
    tx: &mut Transaction<'_, Postgres>,
    spec: &ServiceSpec,
    this: Uuid,
    team_id: Uuid,
) -> Result<(), ServiceError> {
    for (i, p) in spec.ports.iter().enumerate() {
        let Some(host) = p.host else { continue };
        let holder: Option<(String, Uuid)> = sqlx::query_as(
            "SELECT s.name, s.team_id FROM services s, jsonb_array_elements(s.spec->'ports') port
             WHERE s.id <> $1 AND NOT s.deleting
               AND (port->>'host')::int = $2 AND coalesce(port->>'protocol', 'tcp') = $3
             LIMIT 1",
        )
        .bind(this)
        .bind(i32::from(host))
        .bind(match p.protocol {
            crate::domain::service::Protocol::Tcp => "tcp",
            crate::domain::service::Protocol::Udp => "udp",
        })
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((name, team)) = holder {
            let by = if team == team_id {
                format!("service {name}")
            } else {
                "a service of another team".to_owned()
            };
            return Err(field_error(
                format!("ports[{i}].host"),
                format!("Host port {host} is already published by {by}."),
            ));
        }
    }
    Ok(())
}

async fn insert_deployment(
    tx: &mut Transaction<'_, Postgres>,
    service_id: Uuid,
    actor: Actor,
    sealed_spec: &ServiceSpec,
    template: &str,
    trigger: &str,
) -> Result<Uuid, sqlx::Error> {
    // Superseded: an open deployment that a newer change replaces.
    sqlx::query(
        "UPDATE deployments SET state = 'superseded', finished_at = now(),
                reason = 'replaced by a newer change before it finished'
         WHERE service_id = $1 AND state IN ('pending', 'in_progress')",
    )
    .bind(service_id)
    .execute(&mut **tx)
    .await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO deployments (service_id, team_id, number, spec, template, trigger, triggered_by)
         VALUES ($1, $2,
                 (SELECT coalesce(max(number), 0) + 1 FROM deployments WHERE service_id = $1),
                 $3, $4, $5, $6)
         RETURNING id",
    )
    .bind(service_id)
    .bind(actor.team_id)
    .bind(Json(sealed_spec))
    .bind(template)
    .bind(trigger)
    .bind(actor.user_id())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// " by <name>" for a change a person made, for the timeline.
pub(super) async fn by(
    tx: &mut Transaction<'_, Postgres>,
    actor: Actor,
) -> Result<String, sqlx::Error> {
    let Some(user) = actor.user_id() else {
        return Ok(String::new());
    };
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(name.map(|n| format!(" by {n}")).unwrap_or_default())
}

/// "a.example.com, b.example.com → port 8080", or "no domains".
fn route_summary(route: Option<&crate::domain::service::HttpRoute>) -> String {
    match route {
        Some(r) => format!("{} → port {}", r.domains.join(", "), r.port),
        None => "no domains".to_owned(),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Creates a service and its first deployment. `spec` must be valid.
pub async fn create(
    pool: &PgPool,
    secrets: &SecretBox,
    actor: Actor,
    spec: ServiceSpec,
) -> Result<Uuid, ServiceError> {
    let id = Uuid::new_v4();
    let mut sealed = spec;
    if sealed.git.is_some() {
        sealed.image.clear(); // set by the first build
    }
    seal_env(&mut sealed, id, secrets);
    let mut tx = pool.begin().await?;
    let inserted =
        sqlx::query("INSERT INTO services (id, team_id, name, spec) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(actor.team_id)
            .bind(&sealed.name)
            .bind(Json(&sealed))
            .execute(&mut *tx)
            .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(field_error(
                "name",
                format!("This team already has a service named {}.", sealed.name),
            ))
        }
        other => other?,
    };
    check_host_ports(&mut tx, &sealed, id, actor.team_id).await?;
    claim_domains(&mut tx, id, actor.team_id, sealed.http.as_ref()).await?;
    let source = match &sealed.git {
        Some(git) => {
            queue_build(&mut tx, id, actor, "create", None, None).await?;
            format!("building {} from {}", git.branch, git.repo)
        }
        None => {
            insert_deployment(&mut tx, id, actor, &sealed, &new_template(), "create").await?;
            format!("image {}", sealed.image)
        }
    };
    let message = format!(
        "Created{}: {source}, {} replica(s).",
        by(&mut tx, actor).await?,
        sealed.replicas
    );
    add_event(&mut *tx, id, EventKind::Change, &message).await?;
    record(
        &mut tx,
        &actor,
        "service.create",
        Target::new("service", id, &sealed.name),
        json!({"source": source, "replicas": sealed.replicas}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing differs from what is stored.
    None,
    /// Only the replica count: containers are added or removed, none replaced.
    Scale,
    /// The HTTP route (and maybe the replica count): the proxy is told, no container is
    /// replaced.
    Reroute,
    /// A rolling deployment replaces every container.
    Rollout,
}

/// Replaces a service's spec. A secret variable sent with an empty value keeps the value
/// already stored under that key. `spec` must be valid.
pub async fn update(
    pool: &PgPool,
    secrets: &SecretBox,
    actor: Actor,
    id: Uuid,
    mut spec: ServiceSpec,
) -> Result<Change, ServiceError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT s.spec, s.deleting,
                (SELECT template FROM deployments d WHERE d.service_id = s.id
                 ORDER BY number DESC LIMIT 1) AS template
         FROM services s WHERE s.id = $1 AND s.team_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    if row.get::<bool, _>("deleting") {
        return Err(ServiceError::Deleting);
    }
    let Json(mut current): Json<ServiceSpec> = row.get("spec");
    let template: Option<String> = row.get("template");
    open_env(&mut current, id, secrets)
        .map_err(|e| ServiceError::Store(StoreError::Secret(e.to_string())))?;
    for var in spec
        .env
        .iter_mut()
        .filter(|v| v.secret && v.value.is_empty())
    {
        if let Some(old) = current.env.iter().find(|o| o.secret && o.key == var.key) {
            var.value = old.value.clone();
        }
    }
    if let (Some(new), Some(old)) = (spec.registry_auth.as_mut(), current.registry_auth.as_ref()) {
        if new.password.is_empty() {
            new.password = old.password.clone();
        }
    }
    if let (Some(new), Some(old)) = (
        spec.git.as_mut().and_then(|g| g.credentials.as_mut()),
        current.git.as_ref().and_then(|g| g.credentials.as_ref()),
    ) {
        if new.secret_mut().is_empty() && std::mem::discriminant(new) == std::mem::discriminant(old)
        {
            *new.secret_mut() = old.clone().secret_mut().clone();
        }
    }
    if spec.name != current.name {
        return Err(field_error("name", "A service cannot be renamed."));
    }
    // A git service's image is the one Berth built last: never taken from the request.
    let rebuild = match (&spec.git, &current.git) {
        (Some(new), Some(old)) => {
            spec.image = current.image.clone();
            new != old || current.image.is_empty()
        }
        (Some(_), None) => {
            spec.image.clear();
            true
        }
        (None, _) => false,
    };
    if rebuild {
        let summary = spec_change(&current, &spec);
        return rebuild_source(tx, secrets, actor, id, spec, summary).await;
    }
    // A new HTTP port must be proven by new replicas (health-checked on it) before
    // traffic moves there, so only domain and redirect changes keep the containers.
    let port = |s: &ServiceSpec| s.http.as_ref().map(|h| h.port);
    let same_containers = ServiceSpec {
        replicas: current.replicas,
        http: current.http.clone(),
        ..spec.clone()
    } == current
        && port(&spec) == port(&current);
    let change = if spec == current {
        Change::None
    } else if same_containers && spec.http == current.http {
        Change::Scale
    } else if same_containers {
        Change::Reroute
    } else {
        Change::Rollout
    };
    if change == Change::None {
        return Ok(change);
    }
    let summary = spec_change(&current, &spec);
    let mut sealed = spec;
    seal_env(&mut sealed, id, secrets);
    store_spec(&mut tx, actor, id, &sealed).await?;
    let action = if change == Change::Scale {
        "service.scale"
    } else {
        "service.update"
    };
    record(
        &mut tx,
        &actor,
        action,
        Target::new("service", id, &sealed.name),
        summary,
    )
    .await?;
    let (template, trigger) = match (change, template) {
        (Change::Scale, Some(t)) => (t, "scale"),
        (Change::Reroute, Some(t)) => (t, "update"),
        _ => (new_template(), "update"),
    };
    insert_deployment(&mut tx, id, actor, &sealed, &template, trigger).await?;
    let who = by(&mut tx, actor).await?;
    let (kind, message) = match change {
        Change::Scale => (
            EventKind::Scale,
            format!(
                "Scaled from {} to {} replica(s){who}.",
                current.replicas, sealed.replicas
            ),
        ),
        Change::Reroute => (
            EventKind::Change,
            format!(
                "HTTP route edited{who}: {}; no container replaced.",
                route_summary(sealed.http.as_ref())
            ),
        ),
        _ => (
            EventKind::Change,
            format!(
                "Definition edited{who}: image {}; rolling out.",
                sealed.image
            ),
        ),
    };
    add_event(&mut *tx, id, kind, &message).await?;
    tx.commit().await?;
    Ok(change)
}

/// A git service whose source changed (or that has no image yet): the definition is stored
/// and the branch head is built; the build's deployment rolls out the definition as it is
/// when the build ends.
async fn rebuild_source(
    mut tx: Transaction<'_, Postgres>,
    secrets: &SecretBox,
    actor: Actor,
    id: Uuid,
    mut spec: ServiceSpec,
    summary: serde_json::Value,
) -> Result<Change, ServiceError> {
    seal_env(&mut spec, id, secrets);
    store_spec(&mut tx, actor, id, &spec).await?;
    record(
        &mut tx,
        &actor,
        "service.update",
        Target::new("service", id, &spec.name),
        summary,
    )
    .await?;
    queue_build(&mut tx, id, actor, "update", None, None).await?;
    let git = spec.git.as_ref().expect("a git service");
    let message = format!(
        "Git source edited{}: building {} from {}.",
        by(&mut tx, actor).await?,
        git.branch,
        git.repo
    );
    add_event(&mut *tx, id, EventKind::Change, &message).await?;
    tx.commit().await?;
    Ok(Change::Rollout)
}

/// A new deployment that replaces every container: of the definition as it is now, or
/// (`from`: a deployment number) of an earlier deployment that went live — a rollback.
pub async fn redeploy(
    pool: &PgPool,
    actor: Actor,
    id: Uuid,
    from: Option<i32>,
) -> Result<(), ServiceError> {
    let mut tx = pool.begin().await?;
    let current = lock_service(&mut tx, actor, id).await?;
    let who = by(&mut tx, actor).await?;
    let (spec, trigger, message) = match from {
        None => {
            let spec = current;
            if spec.image.is_empty() {
                return Err(field_error(
                    "deployment",
                    "Nothing has been built for this service yet: deploy the branch first.",
                ));
            }
            (spec, "redeploy", format!("Redeploy requested{who}."))
        }
        Some(number) => {
            let earlier: Option<(Json<ServiceSpec>, String, bool)> = sqlx::query_as(
                "SELECT spec, state, image_removed FROM deployments WHERE service_id = $1 AND number = $2",
            )
            .bind(id)
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((Json(spec), state, image_removed)) = earlier else {
                return Err(field_error(
                    "deployment",
                    format!("There is no deployment #{number}."),
                ));
            };
            if state != DeploymentState::Succeeded.as_str() {
                return Err(field_error(
                    "deployment",
                    format!("Deployment #{number} never went live; only one that did can be rolled back to."),
                ));
            }
            if image_removed {
                return Err(field_error(
                    "deployment",
                    format!("The image of deployment #{number} was removed by image retention; it can't be rolled back to."),
                ));
            }
            store_spec(&mut tx, actor, id, &spec).await?;
            (
                spec,
                "rollback",
                format!("Rollback to deployment #{number} requested{who}."),
            )
        }
    };
    let deployment = insert_deployment(&mut tx, id, actor, &spec, &new_template(), trigger).await?;
    add_event(&mut *tx, id, EventKind::Deployment, &message).await?;
    record(
        &mut tx,
        &actor,
        &format!("service.{trigger}"),
        Target::new("service", id, &spec.name),
        json!({"deployment": deployment, "rollback_to": from, "image": spec.image}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The stored spec with secrets masked, for an edit form or a scale request.
pub async fn spec(pool: &PgPool, team_id: Uuid, id: Uuid) -> Result<ServiceSpec, ServiceError> {
    let spec: Option<Json<ServiceSpec>> =
        sqlx::query_scalar("SELECT spec FROM services WHERE id = $1 AND team_id = $2")
            .bind(id)
            .bind(team_id)
            .fetch_optional(pool)
            .await?;
    spec.map(|Json(s)| s.masked()).ok_or(ServiceError::NotFound)
}

/// Changes only the replica count (a deployment that replaces no container).
pub async fn scale(
    pool: &PgPool,
    secrets: &SecretBox,
    actor: Actor,
    id: Uuid,
    replicas: u32,
) -> Result<Change, ServiceError> {
    let mut spec = spec(pool, actor.team_id, id).await?;
    for var in spec.env.iter_mut().filter(|v| v.secret) {
        var.value.clear(); // keep what is stored
    }
    if let Some(auth) = spec.registry_auth.as_mut() {
        auth.password.clear();
    }
    spec.replicas = replicas;
    if let Err(errors) = spec.validate() {
        return Err(ServiceError::Invalid(errors));
    }
    update(pool, secrets, actor, id, spec).await
}

/// Stops (no replicas run; the count is kept) or starts a service again.
pub async fn set_stopped(
    pool: &PgPool,
    actor: Actor,
    id: Uuid,
    stopped: bool,
) -> Result<(), ServiceError> {
    let team_id = actor.team_id;
    let mut tx = pool.begin().await?;
    let updated: Option<(bool, String)> = sqlx::query_as(
        "UPDATE services SET stopped = $3, updated_at = now()
         WHERE id = $1 AND team_id = $2 RETURNING deleting, name",
    )
    .bind(id)
    .bind(team_id)
    .bind(stopped)
    .fetch_optional(&mut *tx)
    .await?;
    let name = match updated {
        None => return Err(ServiceError::NotFound),
        Some((true, _)) => return Err(ServiceError::Deleting),
        Some((false, name)) => name,
    };
    let who = by(&mut tx, actor).await?;
    let (kind, message) = if stopped {
        (EventKind::Stop, format!("Stopped{who}: no replicas run."))
    } else {
        (EventKind::Start, format!("Started again{who}."))
    };
    add_event(&mut *tx, id, kind, &message).await?;
    let action = if stopped {
        "service.stop"
    } else {
        "service.start"
    };
    record(
        &mut tx,
        &actor,
        action,
        Target::new("service", id, &name),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks a service for deletion; the worker removes its containers, then the row.
pub async fn delete(pool: &PgPool, actor: Actor, id: Uuid) -> Result<(), ServiceError> {
    let mut tx = pool.begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE services SET deleting = true, updated_at = now() WHERE id = $1 AND team_id = $2
         RETURNING name",
    )
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(name) = name else {
        return Err(ServiceError::NotFound);
    };
    record(
        &mut tx,
        &actor,
        "service.delete",
        Target::new("service", id, &name),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

const DEPLOYMENT_COLUMNS: &str = "d.id, d.service_id, d.number, d.trigger, u.name AS triggered_by,
    d.state, d.reason, d.created_at, d.started_at, d.finished_at, d.deadline, d.spec,
    d.commit_sha, d.commit_message, d.commit_author, d.provider, d.build_started_at,
    d.build_finished_at, d.image_removed";

fn deployment_from_row(row: &sqlx::postgres::PgRow) -> DeploymentView {
    let Json(spec): Json<ServiceSpec> = row.get("spec");
    DeploymentView {
        id: row.get("id"),
        service_id: row.get("service_id"),
        number: row.get("number"),
        trigger: row.get("trigger"),
        triggered_by: row.get("triggered_by"),
        state: DeploymentState::parse(row.get("state")).unwrap_or(DeploymentState::Failed),
        reason: row.get("reason"),
        created_at: row.get("created_at"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
        deadline: row.get("deadline"),
        spec: spec.masked(),
        commit: row
            .get::<Option<String>, _>("commit_sha")
            .map(|sha| CommitInfo {
                sha,
                message: row.get("commit_message"),
                author: row.get("commit_author"),
            }),
        provider: row.get("provider"),
        build_started_at: row.get("build_started_at"),
        build_finished_at: row.get("build_finished_at"),
        image_removed: row.get("image_removed"),
    }
}

fn container_from_row(row: &sqlx::postgres::PgRow) -> ContainerView {
    ContainerView {
        id: row.get("id"),
        name: row.get("name"),
        replica: crate::domain::service::ReplicaIndex::from_column(row.get("replica")),
        deployment_id: row.get("deployment_id"),
        state: row.get("state"),
        health: row.get("health"),
        exit_code: row.get("exit_code"),
        restart_count: row.get("restart_count"),
        started_at: row.get("started_at"),
        crash_looping: row.get("crash_looping"),
        last_logs: row.get("last_logs"),
        ip: row.get("ip"),
        observed_at: row.get("observed_at"),
    }
}

/// The team's services with their status, by name; `only` narrows to one service.
async fn views(
    pool: &PgPool,
    team_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<ServiceView>, StoreError> {
    let services = sqlx::query(
        "SELECT s.id, s.name, s.spec, s.stopped, s.deleting, s.created_at, s.updated_at,
                live.number AS live_number, live.template AS live_template,
                r.upstreams AS route_upstreams, r.error AS route_error
         FROM services s LEFT JOIN deployments live ON live.id = s.live_deployment_id
              LEFT JOIN service_routes r ON r.service_id = s.id
         WHERE s.team_id = $1 AND ($2::uuid IS NULL OR s.id = $2)
         ORDER BY s.name",
    )
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let latest = sqlx::query(&format!(
        "SELECT DISTINCT ON (d.service_id) {DEPLOYMENT_COLUMNS}
         FROM deployments d LEFT JOIN users u ON u.id = d.triggered_by
         WHERE d.team_id = $1 AND ($2::uuid IS NULL OR d.service_id = $2)
         ORDER BY d.service_id, d.number DESC"
    ))
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let containers = sqlx::query(
        "SELECT * FROM containers WHERE team_id = $1 AND ($2::uuid IS NULL OR service_id = $2)
         ORDER BY replica, name",
    )
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let latest: Vec<DeploymentView> = latest.iter().map(deployment_from_row).collect();
    Ok(services
        .iter()
        .map(|row| {
            let id: Uuid = row.get("id");
            let Json(spec): Json<ServiceSpec> = row.get("spec");
            let stopped: bool = row.get("stopped");
            let deleting: bool = row.get("deleting");
            let live_number: Option<i32> = row.get("live_number");
            let latest_deployment = latest.iter().find(|d| d.service_id == id).cloned();
            let containers: Vec<ContainerView> = containers
                .iter()
                .filter(|c| c.get::<Uuid, _>("service_id") == id)
                .map(container_from_row)
                .collect();
            let rolling_out = latest_deployment
                .as_ref()
                .is_some_and(|d| d.state.is_active());
            let failed = live_number.is_none()
                && latest_deployment.as_ref().is_some_and(|d| {
                    matches!(
                        d.state,
                        DeploymentState::Failed | DeploymentState::RolledBack
                    )
                });
            let desired = if stopped { 0 } else { spec.replicas };
            ServiceView {
                id,
                name: row.get("name"),
                status: ServiceStatus::summarize(
                    desired,
                    deleting,
                    rolling_out,
                    failed,
                    &containers,
                ),
                spec: spec.masked(),
                stopped,
                deleting,
                live_deployment: live_number,
                latest_deployment,
                containers,
                route: row
                    .get::<Option<i32>, _>("route_upstreams")
                    .map(|upstreams| RouteStatus {
                        upstreams,
                        error: row.get("route_error"),
                    }),
                urls: Vec::new(),
                created_at: row.get("created_at"),
                updated_at: row.get("updated_at"),
            }
        })
        .collect())
}

pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<ServiceView>, StoreError> {
    views(pool, team_id, None).await
}

pub async fn get(pool: &PgPool, team_id: Uuid, id: Uuid) -> Result<ServiceView, ServiceError> {
    views(pool, team_id, Some(id))
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)
}

/// A service's deployments, newest first.
pub async fn deployments(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
    limit: i64,
) -> Result<Vec<DeploymentView>, ServiceError> {
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM services WHERE id = $1 AND team_id = $2")
            .bind(service_id)
            .bind(team_id)
            .fetch_optional(pool)
            .await?;
    exists.ok_or(ServiceError::NotFound)?;
    let rows = sqlx::query(&format!(
        "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d LEFT JOIN users u ON u.id = d.triggered_by
         WHERE d.team_id = $1 AND d.service_id = $2 ORDER BY d.number DESC LIMIT $3"
    ))
    .bind(team_id)
    .bind(service_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(deployment_from_row).collect())
}

/// One deployment and its log.
pub async fn deployment(
    pool: &PgPool,
    team_id: Uuid,
    id: Uuid,
) -> Result<(DeploymentView, Vec<DeploymentLogLine>), ServiceError> {
    let row = sqlx::query(&format!(
        "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d LEFT JOIN users u ON u.id = d.triggered_by
         WHERE d.team_id = $1 AND d.id = $2"
    ))
    .bind(team_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(ServiceError::NotFound)?;
    let lines = sqlx::query_as::<_, (chrono::DateTime<chrono::Utc>, String, Option<String>)>(
        "SELECT at, line, step FROM deployment_logs WHERE deployment_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(at, line, step)| DeploymentLogLine {
        at,
        line,
        step: step.as_deref().and_then(DeployStep::parse),
    })
    .collect();
    Ok((deployment_from_row(&row), lines))
}

/// A service's timeline, newest first.
pub async fn events(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
    limit: i64,
) -> Result<Vec<ServiceEvent>, StoreError> {
    let rows = sqlx::query_as::<_, (chrono::DateTime<chrono::Utc>, String, String)>(
        "SELECT at, kind, message FROM service_events
         WHERE team_id = $1 AND service_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(team_id)
    .bind(service_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, kind, message)| {
            Some(ServiceEvent {
                at,
                kind: EventKind::parse(&kind)?,
                message,
            })
        })
        .collect())
}

/// Adds to a service's timeline (inside the change's transaction, when there is one).
pub async fn add_event<'e>(
    db: impl sqlx::PgExecutor<'e>,
    service_id: Uuid,
    kind: EventKind,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO service_events (team_id, service_id, kind, message)
         SELECT team_id, id, $2, $3 FROM services WHERE id = $1",
    )
    .bind(service_id)
    .bind(kind.as_str())
    .bind(message)
    .execute(db)
    .await?;
    Ok(())
}
