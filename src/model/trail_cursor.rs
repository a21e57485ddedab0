//! How far the collector has read a CloudTrail trail's log files under one region's prefix.
//!
//! CloudTrail names a log file after the end of the period it covers
//! (`…/2026/12/07/111122223333_CloudTrail_us-east-1_20261207T1805Z_x1y2.json.gz`), so keys sort
//! in time order, but a file can arrive minutes after one with a later name. The cursor
//! therefore keeps every key read within the last [`TrailCursor::WINDOW_MINUTES`] of names,
//! and lists from the newest key older than that: a late file is read, none is read twice.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The read position in one (account, region) of a trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrailCursor {
    /// The account whose logs these are.
    pub account_id: String,
    /// The region whose logs these are.
    pub region: String,
    /// Every key up to this one (in S3's order) has been read or is older than the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Keys after `after` already read.
    #[serde(default)]
    pub recent: BTreeSet<String>,
    /// Files read in all.
    pub files_read: u64,
    /// The last file read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_file: Option<String>,
    /// When it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_at: Option<String>,
}

impl TrailCursor {
    /// How far behind the newest file read a late file is still picked up.
    pub const WINDOW_MINUTES: i64 = 60;

    /// A cursor at the start of a region's logs.
    pub fn new(account_id: &str, region: &str) -> TrailCursor {
        TrailCursor {
            account_id: account_id.to_string(),
            region: region.to_string(),
            ..TrailCursor::default()
        }
    }

    /// Whether `key` is still to be read.
    pub fn is_new(&self, key: &str) -> bool {
        self.after.as_deref().is_none_or(|after| key > after) && !self.recent.contains(key)
    }

    /// Notes `key` read at `read_at`, and moves the start of the window past the keys whose
    /// names are more than [`Self::WINDOW_MINUTES`] older than the newest read.
    pub fn mark_read(&mut self, key: &str, read_at: String) {
        self.recent.insert(key.to_string());
        self.files_read += 1;
        self.last_file = Some(key.to_string());
        self.last_read_at = Some(read_at);
        let Some(newest) = self.recent.iter().filter_map(|k| name_minutes(k)).max() else {
            return;
        };
        let old: Vec<String> = self
            .recent
            .iter()
            .filter(|k| name_minutes(k).is_some_and(|m| m < newest - Self::WINDOW_MINUTES))
            .cloned()
            .collect();
        for key in old {
            self.recent.remove(&key);
            if self
                .after
                .as_deref()
                .is_none_or(|after| key.as_str() > after)
            {
                self.after = Some(key);
            }
        }
    }
}

/// The time in a CloudTrail log file's name (`_20261207T1805Z_`), in minutes since the epoch.
pub fn name_minutes(key: &str) -> Option<i64> {
    let name = key.rsplit('/').next()?;
    name.split('_').find_map(|part| {
        let time = chrono::NaiveDateTime::parse_from_str(part, "%Y%m%dT%H%MZ").ok()?;
        Some(time.and_utc().timestamp() / 60)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(day: u32, time: &str, tag: &str) -> String {
        format!(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/{day:02}/111122223333_CloudTrail_us-east-1_202612{day:02}T{time}Z_{tag}.json.gz"
        )
    }

    #[test]
    fn names_give_their_time() {
        assert_eq!(
            name_minutes(&key(7, "1805", "a")),
            Some(
                chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
                    .unwrap()
                    .and_hms_opt(18, 5, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp()
                    / 60
            )
        );
        assert_eq!(name_minutes("AWSLogs/x/notes.txt"), None);
    }

    #[test]
    fn a_late_file_inside_the_window_is_read_and_none_twice() {
        let mut cursor = TrailCursor::new("111122223333", "us-east-1");
        for k in [
            key(7, "1000", "a"),
            key(7, "1030", "b"),
            key(7, "1200", "c"),
        ] {
            assert!(cursor.is_new(&k));
            cursor.mark_read(&k, "t".into());
        }
        // 10:00 and 10:30 are more than an hour older than 12:00: behind the cursor now.
        assert_eq!(cursor.after, Some(key(7, "1030", "b")));
        assert_eq!(cursor.recent.len(), 1);
        for read in [
            key(7, "1000", "a"),
            key(7, "1030", "b"),
            key(7, "1200", "c"),
        ] {
            assert!(!cursor.is_new(&read), "{read} read twice");
        }
        // A file for 11:15 arrives late: still inside the window, so it is read.
        let late = key(7, "1115", "d");
        assert!(cursor.is_new(&late));
        cursor.mark_read(&late, "t".into());
        assert!(!cursor.is_new(&late));
        assert_eq!(cursor.files_read, 4);
        assert_eq!(cursor.last_file, Some(late));
        // The next day's files sort after everything.
        assert!(cursor.is_new(&key(8, "0005", "e")));
    }

    #[test]
    fn keys_without_a_time_stay_in_the_window() {
        let mut cursor = TrailCursor::new("111122223333", "us-east-1");
        cursor.mark_read(
            "AWSLogs/111122223333/CloudTrail/us-east-1/odd.json",
            "t".into(),
        );
        cursor.mark_read(&key(9, "2300", "z"), "t".into());
        assert_eq!(cursor.after, None);
        assert!(!cursor.is_new("AWSLogs/111122223333/CloudTrail/us-east-1/odd.json"));
    }
}
