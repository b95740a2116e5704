//! Projects and their environments: every read and write scoped by team (another team's
//! id is `NotFound`), every change audited in its own transaction. An environment goes
//! only once it has no service (the foreign key refuses otherwise), a project only once
//! none of its environments has one; the worker removes a deleted environment's network.

use super::audit::{record, Actor, Target};
use super::StoreError;
use crate::domain::environment_repository::EnvironmentRepository;
use crate::domain::project::{
    environment_network, environment_volume_prefix, team_network, team_volume_prefix,
    EnvironmentView, Placement, ProjectForm, ProjectView, ServicePlace, DEFAULT_PROJECT,
    FIRST_ENVIRONMENT,
};
use crate::domain::service::FieldError;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: Uuid,
    name: String,
    description: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(sqlx::FromRow)]
struct EnvironmentRow {
    id: Uuid,
    project_id: Uuid,
    name: String,
    network: String,
    services: i64,
    repository: Option<sqlx::types::Json<EnvironmentRepository>>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<EnvironmentRow> for EnvironmentView {
    fn from(r: EnvironmentRow) -> Self {
        EnvironmentView {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            network: r.network,
            services: r.services,
            repository: r.repository.map(|r| r.0.masked()),
            created_at: r.created_at,
        }
    }
}

const ENVIRONMENT_COLUMNS: &str =
    "e.id, e.project_id, e.name, e.network, e.created_at, e.repository,
    (SELECT count(*) FROM services s WHERE s.environment_id = e.id) AS services";

/// The team's projects by name (`only`: just that one), each with its environments.
async fn views(
    pool: &PgPool,
    team_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<ProjectView>, StoreError> {
    let projects: Vec<ProjectRow> = sqlx::query_as(
        "SELECT id, name, description, created_at FROM projects
         WHERE team_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY name",
    )
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    let mut environments: Vec<EnvironmentRow> = sqlx::query_as(&format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments e
         WHERE e.team_id = $1 AND ($2::uuid IS NULL OR e.project_id = $2)
         ORDER BY e.created_at, e.name"
    ))
    .bind(team_id)
    .bind(only)
    .fetch_all(pool)
    .await?;
    Ok(projects
        .into_iter()
        .map(|p| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                environments.drain(..).partition(|e| e.project_id == p.id);
            environments = rest;
            ProjectView {
                id: p.id,
                name: p.name,
                description: p.description,
                environments: mine.into_iter().map(Into::into).collect(),
                created_at: p.created_at,
            }
        })
        .collect())
}

/// The team's projects by name, each with its environments (oldest first).
pub async fn list(pool: &PgPool, team_id: Uuid) -> Result<Vec<ProjectView>, StoreError> {
    views(pool, team_id, None).await
}

/// One project of the team.
pub async fn get(pool: &PgPool, team_id: Uuid, id: Uuid) -> Result<ProjectView, StoreError> {
    views(pool, team_id, Some(id))
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// One environment of the team.
pub async fn environment(
    pool: &PgPool,
    team_id: Uuid,
    id: Uuid,
) -> Result<EnvironmentView, StoreError> {
    let row: Option<EnvironmentRow> = sqlx::query_as(&format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments e WHERE e.team_id = $1 AND e.id = $2"
    ))
    .bind(team_id)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(Into::into).ok_or(StoreError::NotFound)
}

/// Where the services of environment `id` live on the engine (any team: the worker's).
pub async fn placement(db: &PgPool, id: Uuid) -> Result<Placement, StoreError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT network, volume_prefix FROM environments WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    let (network, volume_prefix) = row.ok_or(StoreError::NotFound)?;
    Ok(Placement {
        environment_id: id,
        network,
        volume_prefix,
    })
}

/// Where service `service_id` of the team lives (project and environment, by id and name).
pub async fn place_of(
    pool: &PgPool,
    team_id: Uuid,
    service_id: Uuid,
) -> Result<ServicePlace, StoreError> {
    let row: Option<(Uuid, String, Uuid, String)> = sqlx::query_as(
        "SELECT p.id, p.name, e.id, e.name FROM services s
           JOIN environments e ON e.id = s.environment_id
           JOIN projects p ON p.id = e.project_id
          WHERE s.id = $1 AND s.team_id = $2",
    )
    .bind(service_id)
    .bind(team_id)
    .fetch_optional(pool)
    .await?;
    let (project_id, project, environment_id, environment) = row.ok_or(StoreError::NotFound)?;
    Ok(ServicePlace {
        project_id,
        project,
        environment_id,
        environment,
    })
}

/// Whether the team already has an environment with this network (its first one holds
/// the team network).
async fn network_taken(conn: &mut PgConnection, network: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM environments WHERE network = $1)")
            .bind(network)
            .fetch_one(conn)
            .await?,
    )
}

/// Inserts an environment `name` into the project. The team's first environment (no
/// environment holds the team network yet) gets the team's network and volume names, as
/// every team had before projects; any other gets names from its own id.
async fn insert_environment(
    conn: &mut PgConnection,
    team_id: Uuid,
    project_id: Uuid,
    name: &str,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    let (network, prefix) = if network_taken(conn, &team_network(team_id)).await? {
        (environment_network(id), environment_volume_prefix(id))
    } else {
        (team_network(team_id), team_volume_prefix(team_id))
    };
    let inserted = sqlx::query(
        "INSERT INTO environments (id, team_id, project_id, name, network, volume_prefix)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(team_id)
    .bind(project_id)
    .bind(name)
    .bind(&network)
    .bind(&prefix)
    .execute(&mut *conn)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Invalid(FieldError::new(
            "name",
            format!("This project already has an environment named {name}."),
        ))),
        other => other.map(|_| id).map_err(Into::into),
    }
}

/// The environment a service created without one goes to: the team's `default` project's
/// `production`, both created when missing (and audited as the actor's).
pub async fn default_environment(
    conn: &mut PgConnection,
    actor: &Actor,
) -> Result<Uuid, StoreError> {
    let team_id = actor.team_id;
    let find = "SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id
                 WHERE p.team_id = $1 AND p.name = $2 AND e.name = $3";
    let existing: Option<Uuid> = sqlx::query_scalar(find)
        .bind(team_id)
        .bind(DEFAULT_PROJECT)
        .bind(FIRST_ENVIRONMENT)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    // Two first services at once: one creates, the other waits on the unique key and finds.
    sqlx::query(
        "INSERT INTO projects (team_id, name) VALUES ($1, $2) ON CONFLICT (team_id, name) DO NOTHING",
    )
    .bind(team_id)
    .bind(DEFAULT_PROJECT)
    .execute(&mut *conn)
    .await?;
    let project_id: Uuid =
        sqlx::query_scalar("SELECT id FROM projects WHERE team_id = $1 AND name = $2")
            .bind(team_id)
            .bind(DEFAULT_PROJECT)
            .fetch_one(&mut *conn)
            .await?;
    let id = insert_environment(conn, team_id, project_id, FIRST_ENVIRONMENT).await?;
    record(
        conn,
        actor,
        "environment.create",
        Target::new("environment", id, FIRST_ENVIRONMENT),
        json!({"project": DEFAULT_PROJECT, "for": "a service created without an environment"}),
    )
    .await?;
    Ok(id)
}

/// Creates a project with its `production` environment.
pub async fn create(pool: &PgPool, actor: &Actor, form: &ProjectForm) -> Result<Uuid, StoreError> {
    let mut tx = pool.begin().await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO projects (team_id, name, description) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(actor.team_id)
    .bind(&form.name)
    .bind(&form.description)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| project_taken(e, &form.name))?;
    let env = insert_environment(&mut tx, actor.team_id, id, FIRST_ENVIRONMENT).await?;
    record(
        &mut tx,
        actor,
        "project.create",
        Target::new("project", id, &form.name),
        json!({"description": form.description, "environment": env}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn project_taken(e: sqlx::Error, name: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Invalid(FieldError::new(
            "name",
            format!("This team already has a project named {name}."),
        ))
    } else {
        e.into()
    }
}

/// Renames a project and replaces its description.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    form: &ProjectForm,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let old: Option<String> =
        sqlx::query_scalar("SELECT name FROM projects WHERE id = $1 AND team_id = $2 FOR UPDATE")
            .bind(id)
            .bind(actor.team_id)
            .fetch_optional(&mut *tx)
            .await?;
    let old = old.ok_or(StoreError::NotFound)?;
    sqlx::query("UPDATE projects SET name = $2, description = $3 WHERE id = $1")
        .bind(id)
        .bind(&form.name)
        .bind(&form.description)
        .execute(&mut *tx)
        .await
        .map_err(|e| project_taken(e, &form.name))?;
    record(
        &mut tx,
        actor,
        "project.update",
        Target::new("project", id, &form.name),
        json!({"from": old, "name": form.name, "description": form.description}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a project and its environments, once none of them has a service.
pub async fn delete(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
    delete_if_empty(pool, actor, id, &PROJECT).await
}

/// A project or an environment, as [`delete_if_empty`] deletes it.
struct Holder {
    /// Its table.
    table: &'static str,
    /// The audit target's kind (`project.delete`, `environment.delete`).
    kind: &'static str,
    /// How a refusal names it.
    label: &'static str,
    /// Counts the services it holds; `$1` is its id.
    count_services: &'static str,
}

const PROJECT: Holder = Holder {
    table: "projects",
    kind: "project",
    label: "Project",
    count_services: "SELECT count(*) FROM services s JOIN environments e ON e.id = s.environment_id
          WHERE e.project_id = $1",
};

const ENVIRONMENT: Holder = Holder {
    table: "environments",
    kind: "environment",
    label: "Environment",
    count_services: "SELECT count(*) FROM services WHERE environment_id = $1",
};

/// Deletes the team's project or environment `id` (audited `<kind>.delete`) when it holds
/// no service; `NotFound` for another team's, `Conflict` naming the count otherwise.
async fn delete_if_empty(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    holder: &Holder,
) -> Result<(), StoreError> {
    let Holder {
        table,
        kind,
        label,
        count_services,
    } = *holder;
    let mut tx = pool.begin().await?;
    let name: Option<String> = sqlx::query_scalar(&format!(
        "SELECT name FROM {table} WHERE id = $1 AND team_id = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut *tx)
    .await?;
    let name = name.ok_or(StoreError::NotFound)?;
    let services: i64 = sqlx::query_scalar(count_services)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if services > 0 {
        return Err(StoreError::Conflict(format!(
            "{label} {name} still has {services} service(s): delete them first."
        )));
    }
    sqlx::query(&format!("DELETE FROM {table} WHERE id = $1"))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| still_used(e, &name))?;
    record(
        &mut tx,
        actor,
        &format!("{kind}.delete"),
        Target::new(kind, id, &name),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A foreign-key refusal: a service arrived meanwhile.
fn still_used(e: sqlx::Error, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::Conflict(format!("{name} still has services: delete them first."))
        }
        _ => e.into(),
    }
}

/// Creates an empty environment in the team's project `project_id`, in the caller's
/// transaction (a clone adds its services to it before committing).
pub async fn create_environment(
    conn: &mut PgConnection,
    actor: &Actor,
    project_id: Uuid,
    name: &str,
    cloned_from: Option<&str>,
) -> Result<Uuid, StoreError> {
    let project: Option<String> =
        sqlx::query_scalar("SELECT name FROM projects WHERE id = $1 AND team_id = $2")
            .bind(project_id)
            .bind(actor.team_id)
            .fetch_optional(&mut *conn)
            .await?;
    let project = project.ok_or(StoreError::NotFound)?;
    let id = insert_environment(conn, actor.team_id, project_id, name).await?;
    record(
        conn,
        actor,
        "environment.create",
        Target::new("environment", id, name),
        json!({"project": project, "cloned_from": cloned_from}),
    )
    .await?;
    Ok(id)
}

/// Renames an environment (its network and volumes keep their names).
pub async fn rename_environment(
    pool: &PgPool,
    actor: &Actor,
    id: Uuid,
    name: &str,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let old: Option<String> = sqlx::query_scalar(
        "SELECT name FROM environments WHERE id = $1 AND team_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(actor.team_id)
    .fetch_optional(&mut *tx)
    .await?;
    let old = old.ok_or(StoreError::NotFound)?;
    let renamed = sqlx::query("UPDATE environments SET name = $2 WHERE id = $1")
        .bind(id)
        .bind(name)
        .execute(&mut *tx)
        .await;
    match renamed {
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Invalid(FieldError::new(
                "name",
                format!("This project already has an environment named {name}."),
            )))
        }
        other => other?,
    };
    record(
        &mut tx,
        actor,
        "environment.rename",
        Target::new("environment", id, name),
        json!({"from": old}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an environment that has no service (a service being deleted still counts: its
/// containers may still be on the network).
pub async fn delete_environment(pool: &PgPool, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
    delete_if_empty(pool, actor, id, &ENVIRONMENT).await
}

/// The networks of every environment (for the worker: any network it made that is not
/// one of these belongs to a deleted environment).
pub async fn networks(pool: &PgPool) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT network FROM environments")
        .fetch_all(pool)
        .await?)
}

/// The stored (sealed) definitions of an environment's services, by name; services being
/// deleted left out. For a clone.
pub async fn environment_specs(
    pool: &PgPool,
    team_id: Uuid,
    environment_id: Uuid,
) -> Result<Vec<(Uuid, crate::domain::service::ServiceSpec)>, StoreError> {
    let rows: Vec<(Uuid, sqlx::types::Json<crate::domain::service::ServiceSpec>)> = sqlx::query_as(
        "SELECT id, spec FROM services
              WHERE team_id = $1 AND environment_id = $2 AND NOT deleting ORDER BY name",
    )
    .bind(team_id)
    .bind(environment_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id, s)| (id, s.0)).collect())
}
