//! Notification channels, their rules and the delivery log (which is also the sender's
//! queue). Every read and write is scoped by team. Other parts of Berth that have news
//! call [`enqueue`] — in their own transaction, or with the pool — and return at once:
//! the sender task (server/src/notify) does the sending.

use super::StoreError;
use crate::domain::notification::{
    ChannelKind, ChannelView, DeliveryStatus, DeliveryView, Event, NotifyEvent, SmtpSettings,
    ValidChannel,
};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// The sealing context of a channel's secret (webhook signing secret or SMTP password).
pub fn secret_context(channel_id: Uuid) -> String {
    format!("notify:{channel_id}")
}

fn events_of(raw: Vec<String>) -> Vec<NotifyEvent> {
    raw.iter().filter_map(|e| NotifyEvent::parse(e)).collect()
}

fn event_names(events: &[NotifyEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.as_str()).collect()
}

fn view(r: &sqlx::postgres::PgRow) -> ChannelView {
    let smtp: Option<Json<SmtpSettings>> = r.get("smtp");
    ChannelView {
        id: r.get("id"),
        name: r.get("name"),
        kind: ChannelKind::parse(r.get::<&str, _>("kind")).unwrap_or(ChannelKind::Webhook),
        url: r.get("url"),
        smtp: smtp.map(|j| j.0),
        has_secret: r.get::<Option<String>, _>("secret_sealed").is_some(),
        events: events_of(r.get("events")),
        created_at: r.get("created_at"),
    }
}

const CHANNEL_COLUMNS: &str = "id, name, kind, url, smtp, secret_sealed, events, created_at";

/// The team's channels, by name.
pub async fn channels(pool: &PgPool, team_id: Uuid) -> Result<Vec<ChannelView>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE team_id = $1 ORDER BY name, id"
    ))
    .bind(team_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(view).collect())
}

/// One of the team's channels; `NotFound` for another team's.
pub async fn channel(pool: &PgPool, team_id: Uuid, id: Uuid) -> Result<ChannelView, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE team_id = $1 AND id = $2"
    ))
    .bind(team_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(view(&row))
}

/// Whether `e` is the refusal of a second channel with one name in a team.
pub fn is_name_taken(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(d)) if d.code().as_deref() == Some("23505"))
}

/// Creates a channel with id `id`; `sealed_secret` is its secret sealed with
/// [`secret_context`]`(id)`. A name the team uses already: see [`is_name_taken`].
pub async fn insert_channel(
    conn: &mut sqlx::PgConnection,
    team_id: Uuid,
    id: Uuid,
    c: &ValidChannel,
    sealed_secret: Option<String>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO notification_channels (id, team_id, name, kind, url, smtp, secret_sealed, events)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(team_id)
    .bind(&c.name)
    .bind(c.kind.as_str())
    .bind(&c.url)
    .bind(c.smtp.as_ref().map(Json))
    .bind(sealed_secret)
    .bind(event_names(&c.events))
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces a channel; `sealed_secret` `None` keeps the stored secret (unless the kind
/// changed, which drops it).
pub async fn update_channel(
    conn: &mut sqlx::PgConnection,
    team_id: Uuid,
    id: Uuid,
    c: &ValidChannel,
    sealed_secret: Option<String>,
) -> Result<(), StoreError> {
    let changed = sqlx::query(
        "UPDATE notification_channels
            SET name = $3, url = $5, smtp = $6, events = $8, updated_at = now(),
                secret_sealed = CASE WHEN $7::text IS NOT NULL THEN $7
                                     WHEN kind = $4 THEN secret_sealed END,
                kind = $4
          WHERE team_id = $1 AND id = $2",
    )
    .bind(team_id)
    .bind(id)
    .bind(&c.name)
    .bind(c.kind.as_str())
    .bind(&c.url)
    .bind(c.smtp.as_ref().map(Json))
    .bind(sealed_secret)
    .bind(event_names(&c.events))
    .execute(conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a channel and its delivery log.
pub async fn delete_channel(
    conn: &mut sqlx::PgConnection,
    team_id: Uuid,
    id: Uuid,
) -> Result<(), StoreError> {
    let gone = sqlx::query("DELETE FROM notification_channels WHERE team_id = $1 AND id = $2")
        .bind(team_id)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Queues `event` for every channel of `team_id` whose rules name it; answers how many
/// deliveries were queued. Cheap (one INSERT … SELECT) and never sends: call it in the
/// transaction that records what happened, or with the pool right after, e.g.
/// `notifications::enqueue(&pool, team_id, &Event::plain(NotifyEvent::BackupFailed, msg))`.
pub async fn enqueue<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    team_id: Uuid,
    event: &Event,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO notification_deliveries (team_id, channel_id, event, payload)
         SELECT team_id, id, $2, $3 FROM notification_channels
          WHERE team_id = $1 AND $2 = ANY(events)",
    )
    .bind(team_id)
    .bind(event.event.as_str())
    .bind(Json(event))
    .execute(executor)
    .await?
    .rows_affected())
}

/// Queues `event` for one channel of the team whatever its rules (the "send test"
/// button); answers the delivery's id.
pub async fn enqueue_to(
    conn: &mut sqlx::PgConnection,
    team_id: Uuid,
    channel_id: Uuid,
    event: &Event,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO notification_deliveries (team_id, channel_id, event, payload)
         SELECT team_id, id, $3, $4 FROM notification_channels WHERE team_id = $1 AND id = $2
         RETURNING id",
    )
    .bind(team_id)
    .bind(channel_id)
    .bind(event.event.as_str())
    .bind(Json(event))
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

fn delivery(r: &sqlx::postgres::PgRow) -> DeliveryView {
    let payload: Json<Event> = r.get("payload");
    let status = DeliveryStatus::parse(r.get("status"));
    DeliveryView {
        id: r.get("id"),
        channel_id: r.get("channel_id"),
        event: r.get("event"),
        message: payload.0.message,
        status,
        attempts: r.get("attempts"),
        last_error: r.get("last_error"),
        created_at: r.get("created_at"),
        finished_at: r.get("finished_at"),
        next_attempt_at: (status == DeliveryStatus::Pending).then(|| r.get("next_attempt_at")),
    }
}

/// A channel's delivery log, newest first: at most `limit` rows with an id below `before`.
/// `NotFound` when the channel is not the team's.
pub async fn deliveries(
    pool: &PgPool,
    team_id: Uuid,
    channel_id: Uuid,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<DeliveryView>, StoreError> {
    channel(pool, team_id, channel_id).await?;
    let rows = sqlx::query(
        "SELECT id, channel_id, event, payload, status, attempts, last_error, created_at,
                finished_at, next_attempt_at
           FROM notification_deliveries
          WHERE team_id = $1 AND channel_id = $2 AND ($3::bigint IS NULL OR id < $3)
          ORDER BY id DESC LIMIT $4",
    )
    .bind(team_id)
    .bind(channel_id)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(delivery).collect())
}

/// A delivery the sender took: what to send, and where.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub team_id: Uuid,
    pub channel_id: Uuid,
    pub kind: ChannelKind,
    pub url: Option<String>,
    pub smtp: Option<SmtpSettings>,
    pub secret_sealed: Option<String>,
    pub event: Event,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// Takes up to `limit` due deliveries for sending: each is held for `hold` (its next
/// attempt pushed that far), so another sender (a second berth) skips it, and a sender
/// that dies mid-send leaves it to be retried.
pub async fn take_due(
    pool: &PgPool,
    limit: i64,
    hold: std::time::Duration,
) -> Result<Vec<DueDelivery>, StoreError> {
    let rows = sqlx::query(
        "WITH due AS (
             SELECT id FROM notification_deliveries
              WHERE status = 'pending' AND next_attempt_at <= now()
              ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         UPDATE notification_deliveries d
            SET next_attempt_at = now() + make_interval(secs => $2)
           FROM due, notification_channels c
          WHERE d.id = due.id AND c.id = d.channel_id
         RETURNING d.id, d.team_id, d.channel_id, c.kind, c.url, c.smtp, c.secret_sealed,
                   d.payload, d.attempts",
    )
    .bind(limit)
    .bind(hold.as_secs_f64())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let smtp: Option<Json<SmtpSettings>> = r.get("smtp");
            let payload: Json<Event> = r.get("payload");
            DueDelivery {
                id: r.get("id"),
                team_id: r.get("team_id"),
                channel_id: r.get("channel_id"),
                kind: ChannelKind::parse(r.get::<&str, _>("kind")).unwrap_or(ChannelKind::Webhook),
                url: r.get("url"),
                smtp: smtp.map(|j| j.0),
                secret_sealed: r.get("secret_sealed"),
                event: payload.0,
                attempts: r.get("attempts"),
            }
        })
        .collect())
}

/// Records an attempt: delivered (`error` `None`), failed for good (`retry_in` `None`), or
/// failed and due again after `retry_in`.
pub async fn record_attempt(
    pool: &PgPool,
    id: i64,
    error: Option<&str>,
    retry_in: Option<std::time::Duration>,
) -> Result<(), StoreError> {
    let status = match (error, retry_in) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "pending",
        (Some(_), None) => "failed",
    };
    sqlx::query(
        "UPDATE notification_deliveries
            SET attempts = attempts + 1, status = $2, last_error = $3,
                next_attempt_at = now() + make_interval(secs => $4),
                finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error.map(|e| e.chars().take(1000).collect::<String>()))
    .bind(retry_in.unwrap_or_default().as_secs_f64())
    .execute(pool)
    .await?;
    Ok(())
}
