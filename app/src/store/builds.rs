//! Push to deploy: the build queue, webhook secrets and deliveries, and image retention.
//!
//! A build is a deployment row that starts `queued`. The leader's builder claims one with
//! `FOR UPDATE SKIP LOCKED`, marks it `building`, and when the image is built turns it into
//! a `pending` deployment of the service's definition as it is then, with the new image;
//! the worker rolls it out like any other.

use super::change::audit_entry::{record, Actor, By, Target};
use super::change::{add_event, clip, queue_build, BuildCommit};
use super::secret_box::SecretBox;
use super::spec_secrets::open_env;
use super::StoreError;
use crate::domain::service::{CommitInfo, EventKind, GitSource, ServiceSpec};
use serde_json::json;
use sqlx::{types::Json, PgPool, Row};
use uuid::Uuid;

pub use super::change::deployment::BUILD_CHANNEL;

pub use crate::domain::service::Provider;

/// The context a webhook secret is sealed with: bound to its service.
pub fn webhook_context(service_id: Uuid) -> String {
    format!("webhook:{service_id}")
}

/// Whether a service has a webhook secret (the page says so, without showing it).
pub async fn has_webhook_secret(
    pool: &PgPool,
    team_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    let has: Option<bool> = sqlx::query_scalar(
        "SELECT webhook_secret IS NOT NULL FROM services WHERE id = $1 AND team_id = $2",
    )
    .bind(id)
    .bind(team_id)
    .fetch_optional(pool)
    .await?;
    has.ok_or(StoreError::NotFound)
}

/// What a webhook request is checked against.
pub struct HookTarget {
    pub team_id: Uuid,
    pub branch: String,
    /// The secret in full; `None` when none was generated yet (every request is refused).
    pub secret: Option<String>,
}

/// The webhook settings of a git service; `None` for an unknown, deleted or image service.
pub async fn hook_target(
    pool: &PgPool,
    secrets: &SecretBox,
    id: Uuid,
) -> Result<Option<HookTarget>, StoreError> {
    let row: Option<(Uuid, Json<ServiceSpec>, Option<String>)> = sqlx::query_as(
        "SELECT team_id, spec, webhook_secret FROM services WHERE id = $1 AND NOT deleting",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some((team_id, Json(spec), sealed)) = row else {
        return Ok(None);
    };
    let Some(git) = spec.git else {
        return Ok(None);
    };
    let secret = sealed
        .map(|s| secrets.open_text(&s, &webhook_context(id)))
        .transpose()
        .map_err(|e| StoreError::Secret(e.to_string()))?;
    Ok(Some(HookTarget {
        team_id,
        branch: git.branch,
        secret,
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Queued {
        deployment: Uuid,
        number: i32,
    },
    /// This delivery was taken before: nothing new is queued.
    Duplicate,
    /// The pushed commit is already live, or already on its way (a build of it queued or
    /// running, or its rollout pending or in progress): nothing new is queued. A captured
    /// delivery re-sent under a new delivery id (forges do not sign the id) ends here.
    AlreadyThere(CommitPlace),
}

/// Where a pushed commit already is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitPlace {
    /// The service's live deployment was built from it.
    Live,
    /// A deployment of it is queued, building, pending or rolling out.
    OnItsWay,
}

/// Where `sha` already is for the service, if anywhere (read under the service's lock).
async fn commit_place(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    service_id: Uuid,
    sha: &str,
) -> Result<Option<CommitPlace>, StoreError> {
    let place: Option<String> = sqlx::query_scalar(
        "SELECT CASE
             WHEN EXISTS (SELECT 1 FROM services s JOIN deployments d ON d.id = s.live_deployment_id
                          WHERE s.id = $1 AND lower(d.commit_sha) = lower($2)) THEN 'live'
             WHEN EXISTS (SELECT 1 FROM deployments
                          WHERE service_id = $1 AND lower(commit_sha) = lower($2)
                            AND state IN ('queued', 'building', 'pending', 'in_progress'))
                  THEN 'on_its_way'
         END",
    )
    .bind(service_id)
    .bind(sha)
    .fetch_one(&mut **tx)
    .await?;
    Ok(match place.as_deref() {
        Some("live") => Some(CommitPlace::Live),
        Some(_) => Some(CommitPlace::OnItsWay),
        None => None,
    })
}

/// Queues the build of a verified push, once per delivery id, unless its commit is
/// already live or on its way ([`PushOutcome::AlreadyThere`]; the delivery is then not
/// kept either).
pub async fn queue_push(
    pool: &PgPool,
    service_id: Uuid,
    team_id: Uuid,
    provider: Provider,
    delivery: &str,
    commit: &CommitInfo,
) -> Result<PushOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let fresh = sqlx::query(
        "INSERT INTO webhook_deliveries (service_id, delivery) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(service_id)
    .bind(clip(delivery, 200))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(PushOutcome::Duplicate);
    }
    let name: String = sqlx::query_scalar("SELECT name FROM services WHERE id = $1 FOR UPDATE")
        .bind(service_id)
        .fetch_one(&mut *tx)
        .await?;
    if let Some(place) = commit_place(&mut tx, service_id, &commit.sha).await? {
        return Ok(PushOutcome::AlreadyThere(place));
    }
    let actor = Actor {
        team_id,
        by: By::Webhook(provider),
        ip: None,
    };
    let pushed = BuildCommit { provider, commit };
    let (deployment, number) =
        queue_build(&mut tx, service_id, actor, "webhook", Some(pushed)).await?;
    let message = format!(
        "Push of {}{} from {}: build #{number} queued.",
        commit.short(),
        commit
            .author
            .as_deref()
            .map(|a| format!(" by {a}"))
            .unwrap_or_default(),
        provider.label()
    );
    add_event(&mut *tx, service_id, EventKind::Build, &message).await?;
    record(
        &mut tx,
        &actor,
        "build.queued",
        Target::new("service", service_id, &name),
        json!({"deployment": deployment, "number": number, "commit": commit.sha,
               "author": commit.author, "delivery": clip(delivery, 200)}),
    )
    .await?;
    // Deliveries are kept a week: enough to catch a forge's retries.
    sqlx::query(
        "DELETE FROM webhook_deliveries WHERE service_id = $1
         AND received_at < now() - interval '7 days'",
    )
    .bind(service_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(PushOutcome::Queued { deployment, number })
}

/// A build the builder took from the queue.
#[derive(Debug, Clone)]
pub struct BuildJob {
    pub deployment_id: Uuid,
    pub number: i32,
    pub service_id: Uuid,
    pub service: String,
    pub team_slug: String,
    /// Secrets opened.
    pub git: GitSource,
    /// `None`: build the branch head.
    pub commit: Option<String>,
    pub attempt: i32,
}

/// Takes the oldest queued build of a service with no build running, if any, for `owner`.
pub async fn claim_build(
    pool: &PgPool,
    secrets: &SecretBox,
    owner: Uuid,
) -> Result<Option<BuildJob>, StoreError> {
    let row = sqlx::query(
        "UPDATE deployments d SET state = 'building', lease_owner = $1,
                build_attempts = build_attempts + 1,
                build_started_at = coalesce(build_started_at, now())
         WHERE d.id = (
             SELECT q.id FROM deployments q
             WHERE q.state = 'queued' AND NOT EXISTS (
                 SELECT 1 FROM deployments b WHERE b.service_id = q.service_id AND b.state = 'building')
             ORDER BY q.created_at LIMIT 1
             FOR UPDATE SKIP LOCKED)
         RETURNING d.id, d.number, d.service_id, d.commit_sha, d.build_attempts",
    )
    .bind(owner)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: Uuid = row.get("id");
    let service_id: Uuid = row.get("service_id");
    let source = async {
        let (name, slug, Json(mut spec)): (String, String, Json<ServiceSpec>) = sqlx::query_as(
            "SELECT s.name, t.slug, s.spec FROM services s JOIN teams t ON t.id = s.team_id
             WHERE s.id = $1",
        )
        .bind(service_id)
        .fetch_one(pool)
        .await?;
        open_env(&mut spec, service_id, secrets).map_err(|e| StoreError::Secret(e.to_string()))?;
        Ok::<_, StoreError>((name, slug, spec.git))
    };
    // Claimed, so it must end: a build that cannot even start is failed, not left running.
    let (name, slug, git) = match source.await {
        Ok((name, slug, Some(git))) => (name, slug, git),
        Ok((_, _, None)) => {
            finish_build_failed(pool, id, "The service is no longer built from git.").await?;
            return Ok(None);
        }
        Err(e) => {
            finish_build_failed(pool, id, &format!("The build could not start: {e}")).await?;
            return Err(e);
        }
    };
    Ok(Some(BuildJob {
        deployment_id: id,
        number: row.get("number"),
        service_id,
        service: name,
        team_slug: slug,
        git,
        commit: row.get("commit_sha"),
        attempt: row.get("build_attempts"),
    }))
}

/// Builds left `building` by a berth that stopped: run once more, or failed after that.
/// Only the leader builds, so when it starts every `building` row is an orphan.
pub async fn recover_orphaned_builds(pool: &PgPool) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let failed: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE deployments SET state = 'failed', finished_at = now(), build_finished_at = now(),
                lease_owner = NULL,
                reason = 'Berth stopped during this build twice; it was not retried again.'
         WHERE state = 'building' AND build_attempts >= 2 RETURNING id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let requeued: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE deployments SET state = 'queued', lease_owner = NULL
         WHERE state = 'building' RETURNING id",
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO deployment_logs (deployment_id, line)
         SELECT id, 'Berth stopped during this build; it is built again.' FROM unnest($1::uuid[]) id",
    )
    .bind(&requeued)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((failed.len() + requeued.len()) as u64)
}

/// A successful build: the deployment becomes a rollout of the service's definition as it
/// is now, with the new image, and replaces any rollout still open.
pub async fn finish_build_ok(
    pool: &PgPool,
    deployment_id: Uuid,
    image: &str,
    commit: &CommitInfo,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT s.id, s.spec, s.deleting, d.state FROM deployments d JOIN services s ON s.id = d.service_id
         WHERE d.id = $1 FOR UPDATE OF s, d",
    )
    .bind(deployment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let service_id: Uuid = row.get("id");
    if row.get::<bool, _>("deleting") || row.get::<String, _>("state") != "building" {
        return Ok(());
    }
    let Json(mut spec): Json<ServiceSpec> = row.get("spec");
    spec.image = image.to_owned();
    sqlx::query("UPDATE services SET spec = $2, updated_at = now() WHERE id = $1")
        .bind(service_id)
        .bind(Json(&spec))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE deployments SET state = 'superseded', finished_at = now(),
                reason = 'replaced by a newer build before it finished'
         WHERE service_id = $1 AND state IN ('pending', 'in_progress')",
    )
    .bind(service_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE deployments SET state = 'pending', spec = $2, build_finished_at = now(),
                lease_owner = NULL, commit_sha = $3,
                commit_message = coalesce(commit_message, $4),
                commit_author = coalesce(commit_author, $5)
         WHERE id = $1",
    )
    .bind(deployment_id)
    .bind(Json(&spec))
    .bind(&commit.sha)
    .bind(commit.message.as_deref().map(|m| clip(m, 2000)))
    .bind(commit.author.as_deref().map(|a| clip(a, 200)))
    .execute(&mut *tx)
    .await?;
    add_event(
        &mut *tx,
        service_id,
        EventKind::Build,
        &format!("Built {image}; rolling out."),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A failed build: the live deployment keeps serving.
pub async fn finish_build_failed(
    pool: &PgPool,
    deployment_id: Uuid,
    reason: &str,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let service: Option<Uuid> = sqlx::query_scalar(
        "UPDATE deployments SET state = 'failed', reason = $2, finished_at = now(),
                build_finished_at = now(), lease_owner = NULL
         WHERE id = $1 AND state = 'building' RETURNING service_id",
    )
    .bind(deployment_id)
    .bind(clip(reason, 2000))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(service_id) = service {
        add_event(
            &mut *tx,
            service_id,
            EventKind::Build,
            &format!("Build failed: {}", clip(reason, 300)),
        )
        .await?;
        super::worker::audit_outcome(
            &mut tx,
            service_id,
            deployment_id,
            "build.failed",
            Some(reason),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether a build is still wanted (not superseded, its service not being deleted).
pub async fn build_wanted(pool: &PgPool, deployment_id: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT d.state = 'building' AND NOT s.deleting
         FROM deployments d JOIN services s ON s.id = d.service_id WHERE d.id = $1",
    )
    .bind(deployment_id)
    .fetch_optional(pool)
    .await?
    .unwrap_or(false))
}

/// The built images of a service that retention keeps: those of the live deployment, of
/// any deployment not finished, and of the newest `keep` deployments that went live.
pub async fn images_to_keep(
    pool: &PgPool,
    service_id: Uuid,
    keep: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT image FROM (
             SELECT d.spec->>'image' AS image FROM deployments d
             WHERE d.service_id = $1 AND (d.state IN ('pending', 'in_progress')
                   OR d.id = (SELECT live_deployment_id FROM services WHERE id = $1))
             UNION ALL
             (SELECT spec->>'image' FROM deployments
              WHERE service_id = $1 AND state = 'succeeded' ORDER BY number DESC LIMIT $2)
         ) kept WHERE image IS NOT NULL AND image <> ''",
    )
    .bind(service_id)
    .bind(keep)
    .fetch_all(pool)
    .await?)
}

/// Marks the deployments whose image retention removed: they can't be rolled back to.
pub async fn mark_images_removed(
    pool: &PgPool,
    service_id: Uuid,
    images: &[String],
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE deployments SET image_removed = true
         WHERE service_id = $1 AND spec->>'image' = ANY($2)",
    )
    .bind(service_id)
    .bind(images)
    .execute(pool)
    .await?;
    Ok(())
}
