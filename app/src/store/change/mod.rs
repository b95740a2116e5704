//! The shared floor of every write to a service: one transaction that locks the service
//! row, and inside it the steps a change is made of — store the definition (claiming its
//! host ports and domains), insert a deployment or queue a build, add a timeline event,
//! write the audit entry. Committing wakes the worker: triggers on `services` and
//! `deployments` announce the change on `berth_live`, the channel the live pages follow
//! too. Besides the environment a new service goes to (`projects`), this module imports no
//! other store module: the table modules and the command layer build on it.

pub mod audit_entry;
mod claims;
pub mod deployment;

use crate::domain::service::{DeploymentState, EventKind, ServiceSpec, Taken, VolumesOnDelete};
use crate::store::StoreError;
use audit_entry::{record, Actor, Target};
use sqlx::{types::Json, PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

pub use deployment::{queue_build, BuildCommit};

/// A fresh container-name template: replicas of one template are interchangeable.
pub fn new_template() -> String {
    Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// At most `max_chars` characters of `s` (for values a forge or a build hands us).
pub fn clip(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
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

/// An earlier deployment, as a rollback needs it.
#[derive(Debug, Clone)]
pub struct EarlierDeployment {
    /// Sealed, as stored.
    pub spec: ServiceSpec,
    pub state: Option<DeploymentState>,
    pub image_removed: bool,
    /// The image it ran (`sha256:…`) and its registry digest, when recorded.
    pub image_id: Option<String>,
    pub image_digest: Option<String>,
}

/// A transaction a change is made in.
pub type Tx = Transaction<'static, Postgres>;

/// One change to one service, in one transaction, its row locked (`FOR UPDATE`) from the
/// start. Dropped without [`ServiceChange::commit`], nothing of it is kept.
pub struct ServiceChange {
    tx: Transaction<'static, Postgres>,
    pub id: Uuid,
    pub actor: Actor,
    /// The stored definition, sealed.
    pub stored: ServiceSpec,
    /// The container-name template of the newest deployment, if any.
    pub template: Option<String>,
    /// When the service row last changed: the version an `If-Match` names.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ServiceChange {
    /// Locks the service of the actor's team. Another team's id is [`StoreError::NotFound`];
    /// a service being deleted is [`StoreError::Deleting`].
    pub async fn lock(pool: &PgPool, actor: Actor, id: Uuid) -> Result<Self, StoreError> {
        match Self::lock_even_deleting(pool, actor, id).await? {
            (_, true) => Err(StoreError::Deleting),
            (change, false) => Ok(change),
        }
    }

    /// Like [`ServiceChange::lock`], also for a service being deleted; says whether it is.
    pub async fn lock_even_deleting(
        pool: &PgPool,
        actor: Actor,
        id: Uuid,
    ) -> Result<(Self, bool), StoreError> {
        Self::lock_even_deleting_in(pool.begin().await?, actor, id).await
    }

    /// [`ServiceChange::lock`] inside the caller's transaction `tx` (see
    /// [`ServiceChange::release`]).
    pub async fn lock_in(tx: Tx, actor: Actor, id: Uuid) -> Result<Self, StoreError> {
        match Self::lock_even_deleting_in(tx, actor, id).await? {
            (_, true) => Err(StoreError::Deleting),
            (change, false) => Ok(change),
        }
    }

    async fn lock_even_deleting_in(
        mut tx: Tx,
        actor: Actor,
        id: Uuid,
    ) -> Result<(Self, bool), StoreError> {
        let row = sqlx::query(
            "SELECT s.spec, s.deleting, s.updated_at,
                    (SELECT template FROM deployments d WHERE d.service_id = s.id
                     ORDER BY number DESC LIMIT 1) AS template
             FROM services s WHERE s.id = $1 AND s.team_id = $2 FOR UPDATE",
        )
        .bind(id)
        .bind(actor.team_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let Json(stored): Json<ServiceSpec> = row.get("spec");
        let change = ServiceChange {
            tx,
            id,
            actor,
            stored,
            template: row.get("template"),
            updated_at: row.get("updated_at"),
        };
        Ok((change, row.get("deleting")))
    }

    /// Inserts a new service (`sealed`: its definition with secrets sealed) with its
    /// claims into `environment` of the actor's team (another team's is
    /// [`StoreError::NotFound`]; `None`: the team's default project's `production`, made
    /// when missing); a name the environment already uses is [`Taken::Name`].
    /// The change is made in `tx`, the caller's open transaction (a clone puts all its
    /// copies in one: [`ServiceChange::release`] hands it back).
    pub async fn insert(
        mut tx: Tx,
        actor: Actor,
        id: Uuid,
        environment: Option<Uuid>,
        sealed: &ServiceSpec,
    ) -> Result<Self, StoreError> {
        let environment = match environment {
            Some(env) => sqlx::query_scalar(
                "SELECT id FROM environments WHERE id = $1 AND team_id = $2 FOR SHARE",
            )
            .bind(env)
            .bind(actor.team_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?,
            None => crate::store::projects::default_environment(&mut tx, &actor).await?,
        };
        let inserted = sqlx::query(
            "INSERT INTO services (id, team_id, environment_id, name, spec)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(actor.team_id)
        .bind(environment)
        .bind(&sealed.name)
        .bind(Json(sealed))
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(StoreError::Taken(Taken::Name {
                    name: sealed.name.clone(),
                }))
            }
            other => other?,
        };
        claims::check_host_ports(&mut tx, sealed, id, actor.team_id).await?;
        claims::claim_domains(&mut tx, id, actor.team_id, sealed.http.as_ref()).await?;
        Ok(ServiceChange {
            tx,
            id,
            actor,
            stored: sealed.clone(),
            template: None,
            updated_at: chrono::Utc::now(),
        })
    }

    /// Stores a new (sealed) definition once its host ports and domains are free.
    pub async fn store_spec(&mut self, sealed: &ServiceSpec) -> Result<(), StoreError> {
        let (id, team) = (self.id, self.actor.team_id);
        claims::check_host_ports(&mut self.tx, sealed, id, team).await?;
        claims::claim_domains(&mut self.tx, id, team, sealed.http.as_ref()).await?;
        sqlx::query("UPDATE services SET spec = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(Json(sealed))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// A `pending` deployment of `sealed` for the worker to roll out; an open deployment
    /// it replaces is superseded. Returns the deployment's id.
    pub async fn deploy(
        &mut self,
        sealed: &ServiceSpec,
        template: &str,
        trigger: &str,
    ) -> Result<Uuid, StoreError> {
        Ok(
            deployment::insert(&mut self.tx, self.id, self.actor, sealed, template, trigger)
                .await?,
        )
    }

    /// Queues a build of the branch head (`trigger`: `create`, `update`, `deploy`).
    /// Returns the deployment's id and number.
    pub async fn queue_build(&mut self, trigger: &str) -> Result<(Uuid, i32), StoreError> {
        Ok(queue_build(&mut self.tx, self.id, self.actor, trigger, None).await?)
    }

    /// An earlier deployment of this service by number.
    pub async fn earlier(&mut self, number: i32) -> Result<Option<EarlierDeployment>, StoreError> {
        type Row = (
            Json<ServiceSpec>,
            String,
            bool,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT spec, state, image_removed, image_id, image_digest
             FROM deployments WHERE service_id = $1 AND number = $2",
        )
        .bind(self.id)
        .bind(number)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(
            |(Json(spec), state, image_removed, image_id, image_digest)| EarlierDeployment {
                spec,
                state: DeploymentState::parse(&state),
                image_removed,
                image_id,
                image_digest,
            },
        ))
    }

    /// Gives the new deployment `deployment` the image an earlier one ran (`image_id`,
    /// `sha256:…`, with its registry digest): its rollout runs exactly that image and
    /// does not pull.
    pub async fn pin_image(
        &mut self,
        deployment: Uuid,
        image_id: &str,
        digest: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE deployments SET image_id = $3, image_digest = $4
             WHERE id = $1 AND service_id = $2",
        )
        .bind(deployment)
        .bind(self.id)
        .bind(image_id)
        .bind(digest)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Stops (no replicas run; the count is kept) or starts the service.
    pub async fn set_stopped(&mut self, stopped: bool) -> Result<(), StoreError> {
        sqlx::query("UPDATE services SET stopped = $2, updated_at = now() WHERE id = $1")
            .bind(self.id)
            .bind(stopped)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Marks the service for deletion: the worker removes its containers, then (with
    /// [`VolumesOnDelete::Delete`]) the volumes no other service of the team uses, then
    /// the row.
    pub async fn mark_deleting(&mut self, volumes: VolumesOnDelete) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE services SET deleting = true, delete_volumes = $2, updated_at = now()
             WHERE id = $1",
        )
        .bind(self.id)
        .bind(volumes == VolumesOnDelete::Delete)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// What the deletion under way does with the volumes (as first asked).
    pub async fn volumes_on_delete(&mut self) -> Result<VolumesOnDelete, StoreError> {
        let delete: bool = sqlx::query_scalar("SELECT delete_volumes FROM services WHERE id = $1")
            .bind(self.id)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(if delete {
            VolumesOnDelete::Delete
        } else {
            VolumesOnDelete::Keep
        })
    }

    /// Replaces the webhook secret (sealed).
    pub async fn set_webhook_secret(&mut self, sealed: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE services SET webhook_secret = $2 WHERE id = $1")
            .bind(self.id)
            .bind(sealed)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// " by <name>" when a person made the change, else "" (for the timeline).
    pub async fn by_whom(&mut self) -> Result<String, StoreError> {
        let Some(user) = self.actor.user_id() else {
            return Ok(String::new());
        };
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(name.map(|n| format!(" by {n}")).unwrap_or_default())
    }

    /// Adds to the service's timeline.
    pub async fn event(&mut self, kind: EventKind, message: &str) -> Result<(), StoreError> {
        add_event(&mut *self.tx, self.id, kind, message).await
    }

    /// Writes the audit entry of this change (`action`, e.g. `service.update`).
    pub async fn audit(
        &mut self,
        action: &str,
        summary: serde_json::Value,
    ) -> Result<(), StoreError> {
        let name = self.stored.name.clone();
        let target = Target::new("service", self.id, &name);
        record(&mut self.tx, &self.actor, action, target, summary).await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }

    /// The change's transaction, uncommitted, for the caller to add more changes to (a
    /// compose import stores all its services in one) and commit: nothing of it is kept
    /// before, and the worker and builder are woken (`NOTIFY`) only when it commits.
    pub fn release(self) -> Tx {
        self.tx
    }
}
