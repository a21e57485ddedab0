//! Timestamps: one UTC type, one textual form out, many forms in.

use chrono::{
    DateTime, DurationRound, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, TimeZone, Utc,
};

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Formats a timestamp as AWS does: RFC 3339, milliseconds, `Z`.
pub fn format_time(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses the textual timestamp forms found in real inputs.
///
/// Accepts RFC 3339 with any fraction and offset (`2017-02-04T06:10:33.880000-05:00`), the same
/// without an offset or with a space instead of `T` (taken as UTC, as Panther writes them), a bare
/// date (midnight UTC), and epoch seconds or milliseconds written as digits.
pub fn parse_timestamp_text(text: &str) -> Option<Timestamp> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // RFC 3339 forbids some forms that real data uses: a space separator, or no seconds.
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = s.strip_suffix('Z').unwrap_or(s);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s.parse::<f64>().ok().and_then(epoch_to_time);
    }
    None
}

/// Truncates to whole milliseconds, the precision conftrail stores and prints.
pub fn truncate_to_millis(t: Timestamp) -> Timestamp {
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

/// The current time, to the millisecond.
pub fn now_millis() -> Timestamp {
    truncate_to_millis(Utc::now())
}

/// Interprets an epoch number by its size: seconds, milliseconds, microseconds or nanoseconds
/// (as a time in the years 1970 to 5138 reads in exactly one of them).
pub fn epoch_to_time(n: f64) -> Option<Timestamp> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    // 1e11 seconds is the year 5138: anything larger is a finer unit.
    let millis = if n < 1e11 {
        n * 1e3
    } else if n < 1e14 {
        n
    } else if n < 1e17 {
        n / 1e3
    } else {
        n / 1e6
    };
    if millis > 8.0e15 {
        return None;
    }
    Utc.timestamp_millis_opt(millis.round() as i64).single()
}

/// The first year a recorded time may fall in (the epoch).
pub const FIRST_YEAR: i32 = 1970;
/// The last year a recorded time may fall in.
pub const LAST_YEAR: i32 = 2199;

/// The time itself when it can be a real observation (years 1970 to 2199), else why not: a
/// year 0000, a negative year or epoch microseconds read as milliseconds are mistakes.
pub fn plausible_time(t: Timestamp) -> Result<Timestamp, String> {
    use chrono::Datelike;
    if (FIRST_YEAR..=LAST_YEAR).contains(&t.year()) {
        Ok(t)
    } else {
        Err(format!(
            "{} is outside the years {FIRST_YEAR} to {LAST_YEAR}",
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        ))
    }
}

/// Parses a command-line or query time (`--since`, `--at`): any form [`parse_timestamp_text`] accepts.
pub fn parse_time_arg(text: &str) -> Result<Timestamp, String> {
    parse_timestamp_text(text).ok_or_else(|| {
        format!(
            "invalid time {text:?}: expected RFC 3339 (2024-05-01T12:00:00Z), a date (2024-05-01) or epoch seconds"
        )
    })
}

/// Parses the end of a time range: as [`parse_time_arg`], except that a bare date means the
/// end of that day (its last millisecond), so a range from D until D is the whole of day D.
pub fn parse_until_arg(text: &str) -> Result<Timestamp, String> {
    let time = parse_time_arg(text)?;
    if NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").is_ok() {
        Ok(time + TimeDelta::days(1) - TimeDelta::milliseconds(1))
    } else {
        Ok(time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_date_until_is_the_end_of_that_day() {
        let end = parse_until_arg("2018-09-07").unwrap_or_default();
        assert_eq!(format_time(&end), "2018-09-07T23:59:59.999Z");
        let exact = parse_until_arg("2018-09-07T10:00:00Z").unwrap_or_default();
        assert_eq!(format_time(&exact), "2018-09-07T10:00:00.000Z");
        assert!(parse_until_arg("yesterday").is_err());
    }

    #[test]
    fn parses_real_world_forms() {
        let cases = [
            ("2016-06-09T08:59:59.139Z", "2016-06-09T08:59:59.139Z"),
            (
                "2017-02-04T06:10:33.880000-05:00",
                "2017-02-04T11:10:33.880Z",
            ),
            ("2021-01-24 04:55:45.000", "2021-01-24T04:55:45.000Z"),
            ("2021-01-24T04:55:45", "2021-01-24T04:55:45.000Z"),
            ("2024-05-01", "2024-05-01T00:00:00.000Z"),
            ("1481454243", "2016-12-11T11:04:03.000Z"),
            ("1481454243800", "2016-12-11T11:04:03.800Z"),
        ];
        for (input, want) in cases {
            let t = parse_timestamp_text(input).unwrap_or_else(|| panic!("{input} did not parse"));
            assert_eq!(format_time(&t), want, "{input}");
        }
    }

    #[test]
    fn epoch_numbers_are_read_by_their_size() {
        let want = "2016-12-11T11:04:03.800Z";
        for n in [
            1481454243.8,
            1481454243800.0,
            1481454243800000.0,
            1.4814542438e18,
        ] {
            let t = epoch_to_time(n).unwrap_or_else(|| panic!("{n}"));
            assert_eq!(format_time(&t), want, "{n}");
        }
    }

    #[test]
    fn impossible_years_are_refused() {
        for text in [
            "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
        ] {
            let t = parse_timestamp_text(text).unwrap_or_else(|| panic!("{text}"));
            let err = plausible_time(t).unwrap_err();
            assert!(err.contains("outside the years 1970 to 2199"), "{err}");
        }
        let t = parse_timestamp_text("2024-05-01").unwrap_or_default();
        assert_eq!(plausible_time(t), Ok(t));
    }

    #[test]
    fn rejects_garbage_with_a_message() {
        assert!(parse_timestamp_text("datetime.datetime(2020, 4, 22)").is_none());
        assert!(parse_timestamp_text("").is_none());
        let err = parse_time_arg("yesterday").unwrap_err();
        assert!(err.contains("yesterday"), "{err}");
    }
}
