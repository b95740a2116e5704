//! Backups: a service's plan (schedule, stop or not, retention), the backups made, and the
//! pure rules — what a plan may say, which backups retention removes, when one is due.

use super::service::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What every backup of Berth's own database carries (its manifest, the README, the page).
pub const KEY_WARNING: &str = "A backup of Berth's database without the secret key cannot open the sealed secrets (secret env values, webhook secrets, registry passwords): keep the key, separately and safely.";

/// The most backups a plan keeps by count, and the longest age in days.
pub const MAX_KEEP_LAST: i32 = 1000;
pub const MAX_AGE_DAYS: i32 = 3650;

/// How a service's volumes (or Berth's database) are backed up. Every field optional: a
/// plan with no schedule is run on demand only; with no retention every backup is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BackupPlan {
    /// A cron expression (5 fields, or 6 with seconds first), read in the instance's time
    /// zone (BERTH_TIME_ZONE, like jobs): `0 3 * * *` is every day at 03:00 there. Empty
    /// or absent: no scheduled backups.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Stop the service while its volumes are archived (a consistent copy of a database's
    /// files), then start it again. Ignored for Berth's own database.
    #[serde(default)]
    pub stop_service: bool,
    /// Keep only the newest N successful backups (1..=1000).
    #[serde(default)]
    pub keep_last: Option<i32>,
    /// Remove successful backups older than this many days (1..=3650).
    #[serde(default)]
    pub max_age_days: Option<i32>,
}

impl BackupPlan {
    /// Trims the schedule (an empty one is none); the broken rules, each naming its field.
    pub fn validate(mut self) -> Result<BackupPlan, Vec<FieldError>> {
        let mut errors = Vec::new();
        self.schedule = self
            .schedule
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(s) = &self.schedule {
            if let Err(why) = check_schedule(s) {
                errors.push(FieldError::new("schedule", why));
            }
        }
        if self
            .keep_last
            .is_some_and(|n| !(1..=MAX_KEEP_LAST).contains(&n))
        {
            errors.push(FieldError::new(
                "keep_last",
                format!("Keep between 1 and {MAX_KEEP_LAST} backups."),
            ));
        }
        if self
            .max_age_days
            .is_some_and(|n| !(1..=MAX_AGE_DAYS).contains(&n))
        {
            errors.push(FieldError::new(
                "max_age_days",
                format!("Between 1 and {MAX_AGE_DAYS} days."),
            ));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// Whether `schedule` is a cron expression Berth runs: a sentence saying why not.
pub fn check_schedule(schedule: &str) -> Result<(), String> {
    if schedule.len() > 100 || schedule.chars().any(char::is_control) {
        return Err("A cron expression is one short line.".into());
    }
    #[cfg(feature = "ssr")]
    {
        next_run(schedule, chrono_tz::Tz::UTC, Utc::now()).map(|_| ())
    }
    #[cfg(not(feature = "ssr"))]
    {
        Ok(())
    }
}

/// The first time `schedule`, read in `tz`, fires strictly after `after`; why not, if it
/// cannot be read or never fires.
#[cfg(feature = "ssr")]
pub fn next_run(
    schedule: &str,
    tz: chrono_tz::Tz,
    after: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let cron: croner::Cron = schedule
        .parse()
        .map_err(|e| format!("Not a cron expression ({e}); for example 0 3 * * *."))?;
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("This schedule never runs ({e})."))
}

/// Whether a plan with `schedule` (read in `tz`), last run at `last_run`, is due at `now`:
/// its next time after the last run has come.
#[cfg(feature = "ssr")]
pub fn is_due(
    schedule: &str,
    tz: chrono_tz::Tz,
    last_run: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    next_run(schedule, tz, last_run).is_ok_and(|next| next <= now)
}

/// The next five times `schedule` fires after `now`, RFC 3339 with `tz`'s offset (what
/// jobs show too); none without a schedule.
#[cfg(feature = "ssr")]
pub fn preview(schedule: Option<&str>, tz: chrono_tz::Tz, now: DateTime<Utc>) -> Vec<String> {
    let Some(s) = schedule else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut after = now;
    while out.len() < 5 {
        let Ok(next) = next_run(s, tz, after) else {
            break;
        };
        out.push(next.with_timezone(&tz).to_rfc3339());
        after = next;
    }
    out
}

/// A plan as shown: its fields, the time zone its schedule is read in, and its next runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BackupPlanView {
    pub schedule: Option<String>,
    pub stop_service: bool,
    pub keep_last: Option<i32>,
    pub max_age_days: Option<i32>,
    /// The IANA time zone the schedule is read in (BERTH_TIME_ZONE).
    pub time_zone: String,
    /// The next five scheduled runs, RFC 3339 with the zone's offset.
    pub next_runs: Vec<String>,
}

impl BackupPlanView {
    #[cfg(feature = "ssr")]
    pub fn of(plan: BackupPlan, tz: chrono_tz::Tz, now: DateTime<Utc>) -> BackupPlanView {
        BackupPlanView {
            next_runs: preview(plan.schedule.as_deref(), tz, now),
            schedule: plan.schedule,
            stop_service: plan.stop_service,
            keep_last: plan.keep_last,
            max_age_days: plan.max_age_days,
            time_zone: tz.name().to_owned(),
        }
    }

    /// The plan it shows.
    pub fn plan(&self) -> BackupPlan {
        BackupPlan {
            schedule: self.schedule.clone(),
            stop_service: self.stop_service,
            keep_last: self.keep_last,
            max_age_days: self.max_age_days,
        }
    }
}

/// What a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BackupKind {
    /// A service's named volumes: a `.tar.gz` of each volume's files.
    Volumes,
    /// Berth's own database: `pg_dump --format=custom`.
    Database,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Volumes => "volumes",
            BackupKind::Database => "database",
        }
    }
}

/// One backup, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Backup {
    pub id: Uuid,
    pub kind: BackupKind,
    /// The service whose volumes it holds (none for Berth's database).
    pub service_id: Option<Uuid>,
    /// `manual` or `schedule`.
    pub trigger: String,
    /// `queued`, `running`, `succeeded`, `failed` (see `error`), `deleted` (by retention).
    pub state: String,
    /// The archive's file name in the backup folder.
    pub file: Option<String>,
    pub size_bytes: Option<i64>,
    /// SHA-256 of the archive, hex; checked before a restore.
    pub sha256: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The last restore from it: `queued`, `running`, `succeeded`, `failed`.
    pub restore_state: Option<String>,
    pub restore_error: Option<String>,
    pub restored_at: Option<DateTime<Utc>>,
    /// Where the archive was uploaded: `s3://bucket/key` (none without a destination).
    #[serde(default)]
    pub remote: Option<String>,
}

/// A finished backup as retention sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// The backups retention removes at `now`: beyond the newest `keep_last`, and older than
/// `max_age_days`. The newest backup is never removed (a plan always keeps one copy).
pub fn expired(
    mut backups: Vec<Kept>,
    keep_last: Option<i32>,
    max_age_days: Option<i32>,
    now: DateTime<Utc>,
) -> Vec<Uuid> {
    backups.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    backups
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, b)| {
            keep_last.is_some_and(|n| *i >= n.max(1) as usize)
                || max_age_days
                    .is_some_and(|d| now - b.created_at > chrono::Duration::days(d as i64))
        })
        .map(|(_, b)| b.id)
        .collect()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, 3, 0, 0).unwrap()
    }

    fn kept(n: u32) -> Vec<Kept> {
        (1..=n)
            .map(|d| Kept {
                id: Uuid::from_u128(d as u128),
                created_at: at(d),
            })
            .collect()
    }

    #[test]
    fn keep_last_removes_the_oldest() {
        let gone = expired(kept(3), Some(2), None, at(4));
        assert_eq!(gone, [Uuid::from_u128(1)]);
        assert!(expired(kept(3), None, None, at(4)).is_empty());
    }

    #[test]
    fn max_age_removes_old_ones_but_never_the_newest() {
        let gone = expired(kept(3), None, Some(1), at(4));
        assert_eq!(gone, [Uuid::from_u128(2), Uuid::from_u128(1)]);
        assert_eq!(expired(kept(1), None, Some(1), at(30)), Vec::<Uuid>::new());
    }

    #[test]
    fn plans_are_checked_field_by_field() {
        let bad = BackupPlan {
            schedule: Some("every day".into()),
            stop_service: false,
            keep_last: Some(0),
            max_age_days: Some(4000),
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["schedule", "keep_last", "max_age_days"]);
        let good = BackupPlan {
            schedule: Some("  0 3 * * * ".into()),
            keep_last: Some(2),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(good.schedule.as_deref(), Some("0 3 * * *"));
        let none = BackupPlan {
            schedule: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(none.validate().unwrap().schedule, None);
    }

    #[test]
    fn a_daily_schedule_is_due_once_a_day() {
        let utc = chrono_tz::Tz::UTC;
        assert_eq!(next_run("0 3 * * *", utc, at(1)).unwrap(), at(2));
        assert!(!is_due(
            "0 3 * * *",
            utc,
            at(1),
            at(1) + chrono::Duration::hours(23)
        ));
        assert!(is_due("0 3 * * *", utc, at(1), at(2)));
    }

    #[test]
    fn schedules_are_read_in_the_instance_time_zone() {
        // 03:00 in Berlin (winter, +01:00) is 02:00 UTC.
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            next_run("0 3 * * *", berlin, at(1)).unwrap(),
            at(2) - chrono::Duration::hours(1)
        );
        let view = BackupPlanView::of(
            BackupPlan {
                schedule: Some("0 3 * * *".into()),
                ..Default::default()
            },
            berlin,
            at(1),
        );
        assert_eq!(view.time_zone, "Europe/Berlin");
        assert_eq!(view.next_runs.len(), 5);
        assert_eq!(view.next_runs[0], "2026-12-02T03:00:00+01:00");
        assert_eq!(view.next_runs[1], "2026-12-03T03:00:00+01:00");
        assert!(BackupPlanView::of(BackupPlan::default(), berlin, at(1))
            .next_runs
            .is_empty());
    }
}
