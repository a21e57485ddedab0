//! Cron schedules: when a periodic rule or a housekeeping task is due.
//!
//! A task remembers when it last ran. It is due when a fire time of its schedule lies after
//! that and at or before now. After downtime, however many fire times were missed, the task runs
//! once: the next due time is computed from the run, not from the missed ticks.

use std::str::FromStr;

use crate::model::Timestamp;

/// The task name under which a rule's schedule remembers its last run.
pub fn rule_task(rule: &str) -> String {
    format!("rule:{rule}")
}

/// The task name of the event retention purge.
pub const PURGE_TASK: &str = "housekeeping:purge-events";

/// A parsed cron expression (the `cron` crate's syntax: seconds first, optional year).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    text: String,
    schedule: cron::Schedule,
}

impl CronSchedule {
    /// Parses an expression such as `0 */15 * * * *`; a five-field Unix expression gets a
    /// leading `0` for seconds, as users coming from crontab write them.
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        let trimmed = text.trim();
        let fields = trimmed.split_whitespace().count();
        let expression = if fields == 5 {
            format!("0 {trimmed}")
        } else {
            trimmed.to_string()
        };
        let schedule = cron::Schedule::from_str(&expression).map_err(|e| {
            format!(
                "invalid cron expression {text:?}: {e} (expected sec min hour day-of-month month day-of-week [year], e.g. \"0 */15 * * * *\")"
            )
        })?;
        if schedule.after(&chrono::Utc::now()).next().is_none() {
            return Err(format!("cron expression {text:?} never fires again"));
        }
        Ok(CronSchedule {
            text: trimmed.to_string(),
            schedule,
        })
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        self.schedule.after(&t).next()
    }

    /// Whether a task that last ran (or was set up) at `last` is due at `now`.
    pub fn is_due(&self, last: Timestamp, now: Timestamp) -> bool {
        self.next_after(last).is_some_and(|next| next <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2024, 5, 1, h, m, s)
            .single()
            .expect("valid time")
    }

    #[test]
    fn fires_after_the_last_run_and_once_after_downtime() {
        let every_15 = CronSchedule::parse("0 */15 * * * *").expect("valid");
        assert_eq!(every_15.next_after(at(10, 0, 0)), Some(at(10, 15, 0)));
        assert!(!every_15.is_due(at(10, 0, 0), at(10, 14, 59)));
        assert!(every_15.is_due(at(10, 0, 0), at(10, 15, 0)));
        // Down from 10:00 to 13:07: due (once); after running at 13:07 the next is 13:15.
        assert!(every_15.is_due(at(10, 0, 0), at(13, 7, 0)));
        assert!(!every_15.is_due(at(13, 7, 0), at(13, 14, 0)));
    }

    #[test]
    fn unix_five_field_expressions_get_seconds() {
        let hourly = CronSchedule::parse("30 * * * *").expect("valid");
        assert_eq!(hourly.next_after(at(10, 0, 0)), Some(at(10, 30, 0)));
        assert_eq!(hourly.as_str(), "30 * * * *");
    }

    #[test]
    fn bad_expressions_are_explained() {
        let err = CronSchedule::parse("every five minutes").expect_err("invalid");
        assert!(
            err.contains("invalid cron expression \"every five minutes\""),
            "{err}"
        );
        let err = CronSchedule::parse("0 0 0 1 1 * 2001").expect_err("past");
        assert!(err.contains("never fires again"), "{err}");
    }
}
