//! When a job runs: a five-field cron expression (minute hour day-of-month month
//! day-of-week, Vixie cron's rules, read by the `croner` crate) in the instance's time
//! zone (an IANA name, `chrono-tz`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule(Cron);

impl Schedule {
    /// Parses five fields; the error says what is wrong, in words.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let fields = expr.split_whitespace().count();
        if expr.contains('@') {
            return Err("Schedule: write the five fields (minute hour day month weekday); @nicknames are not accepted.".into());
        }
        if fields != 5 {
            return Err(format!(
                "Schedule: five fields (minute hour day month weekday), e.g. \"*/15 * * * *\"; got {fields}."
            ));
        }
        CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expr)
            .map(Schedule)
            .map_err(|e| format!("Schedule: {e}."))
    }

    /// The next `n` times after `after`, in `tz`.
    pub fn next_runs(&self, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        self.0
            .iter_after(after.with_timezone(&tz))
            .take(n)
            .collect()
    }

    /// The times it fell due in `(after, until]`, at most `limit` of them, in UTC.
    pub fn due_between(
        &self,
        tz: Tz,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        self.0
            .iter_after(after.with_timezone(&tz))
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t <= until)
            .take(limit)
            .collect()
    }
}

/// An IANA time zone name (`Europe/Berlin`, `UTC`); the error names what was given.
pub fn time_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("{name:?} is not an IANA time zone name (e.g. UTC, Europe/Berlin)"))
}

/// The next five runs shown with a job, RFC 3339 with the zone's offset.
pub fn preview(expr: &str, tz: Tz, now: DateTime<Utc>) -> Vec<String> {
    Schedule::parse(expr)
        .map(|s| {
            s.next_runs(tz, now, 5)
                .iter()
                .map(|t| t.to_rfc3339())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_runs_are_in_the_time_zone() {
        let s = Schedule::parse("30 2 * * *").unwrap();
        let tz = time_zone("Europe/Berlin").unwrap();
        let runs = s.next_runs(tz, at("2026-01-10T12:00:00Z"), 2);
        assert_eq!(runs[0].to_rfc3339(), "2026-01-11T02:30:00+01:00");
        assert_eq!(runs[1].to_rfc3339(), "2026-01-12T02:30:00+01:00");
    }

    #[test]
    fn every_minute_previews_five_minutes() {
        let p = preview("* * * * *", Tz::UTC, at("2026-01-10T12:00:30Z"));
        assert_eq!(
            p,
            [
                "2026-01-10T12:01:00+00:00",
                "2026-01-10T12:02:00+00:00",
                "2026-01-10T12:03:00+00:00",
                "2026-01-10T12:04:00+00:00",
                "2026-01-10T12:05:00+00:00"
            ]
        );
    }

    #[test]
    fn due_between_is_after_exclusive_until_inclusive() {
        let s = Schedule::parse("*/10 * * * *").unwrap();
        let due = s.due_between(
            Tz::UTC,
            at("2026-01-10T12:00:00Z"),
            at("2026-01-10T12:30:00Z"),
            10,
        );
        assert_eq!(due.len(), 3);
        assert_eq!(
            due[0],
            Utc.with_ymd_and_hms(2026, 1, 10, 12, 10, 0).unwrap()
        );
        let none = s.due_between(
            Tz::UTC,
            at("2026-01-10T12:00:00Z"),
            at("2026-01-10T12:09:59Z"),
            10,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn bad_expressions_and_zones_say_why() {
        assert!(Schedule::parse("* * * *")
            .unwrap_err()
            .contains("five fields"));
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("@daily").is_err());
        assert!(time_zone("Mars/Olympus").unwrap_err().contains("IANA"));
    }
}
