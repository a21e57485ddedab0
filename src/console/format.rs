//! How values read on a page: times in UTC (the browser adds local time on hover), and states
//! as an icon and a word, so colour is never the only sign.

use crate::model::{format_time, parse_timestamp_text, JobState, Timestamp};

/// A time as pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Time {
    /// RFC 3339, for `<time datetime>` (and the local time the script adds).
    pub iso: String,
    /// `2026-12-07 20:55:27 UTC`.
    pub shown: String,
}

impl Time {
    /// A stored time.
    pub fn of(t: &Timestamp) -> Time {
        Time {
            iso: format_time(t),
            shown: t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        }
    }

    /// A time kept as text (answers carry RFC 3339); shown as given when it does not parse.
    pub fn text(text: &str) -> Time {
        match parse_timestamp_text(text) {
            Some(t) => Time::of(&t),
            None => Time {
                iso: text.to_string(),
                shown: text.to_string(),
            },
        }
    }
}

/// A state as an icon, a word and a class (the colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    /// CSS class.
    pub class: &'static str,
    /// A symbol that says the same without colour.
    pub icon: &'static str,
    /// The word.
    pub word: &'static str,
}

impl Badge {
    /// A compliance (`NON_COMPLIANT`, `COMPLIANT`, `NOT_APPLICABLE`, `INSUFFICIENT_DATA`).
    pub fn compliance(state: &str) -> Badge {
        match state {
            "NON_COMPLIANT" => Badge {
                class: "bad",
                icon: "✗",
                word: "Non-compliant",
            },
            "COMPLIANT" => Badge {
                class: "good",
                icon: "✓",
                word: "Compliant",
            },
            "NOT_APPLICABLE" => Badge {
                class: "quiet",
                icon: "–",
                word: "Not applicable",
            },
            _ => Badge {
                class: "quiet",
                icon: "?",
                word: "No verdict",
            },
        }
    }

    /// A remediation job's state.
    pub fn job(state: JobState) -> Badge {
        let (class, icon) = match state {
            JobState::Queued | JobState::InProgress => ("busy", "…"),
            JobState::Succeeded | JobState::Verified => ("good", "✓"),
            JobState::NotEffective | JobState::Failed => ("bad", "✗"),
            JobState::Cancelled => ("quiet", "–"),
        };
        let word = match state {
            JobState::Queued => "Queued",
            JobState::InProgress => "In progress",
            JobState::Succeeded => "Succeeded",
            JobState::Verified => "Verified",
            JobState::NotEffective => "Not effective",
            JobState::Failed => "Failed",
            JobState::Cancelled => "Cancelled",
        };
        Badge { class, icon, word }
    }

    /// Enabled or disabled.
    pub fn enabled(enabled: bool) -> Badge {
        if enabled {
            Badge {
                class: "good",
                icon: "●",
                word: "Enabled",
            }
        } else {
            Badge {
                class: "quiet",
                icon: "○",
                word: "Disabled",
            }
        }
    }
}

/// A query string from pairs, leaving out empty values.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let pairs: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// What a link keeps as it is (names are mostly `a-z0-9-`).
const KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path segment or query value, percent-encoded.
pub fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, KEPT).to_string()
}

/// An element id made of `prefix` and the letters and digits of `name`.
pub fn dom_id(prefix: &str, name: &str) -> String {
    let safe: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{prefix}-{safe}")
}

/// The link to a rule's page.
pub fn rule_link(name: &str) -> String {
    format!("/rules/{}", encode(name))
}

/// The link to the page of a judged resource.
pub fn judged_link(resource: &crate::model::EvaluatedResource) -> String {
    resource_link(
        &resource.resource_type,
        &resource.resource_id,
        &resource.account_id,
        &resource.aws_region,
    )
}

/// A filter's value as given, trimmed; none when empty.
pub fn given(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The link to a resource's page.
pub fn resource_link(
    resource_type: &str,
    resource_id: &str,
    account: &str,
    region: &str,
) -> String {
    format!(
        "/resource?{}",
        query_string([
            ("type", resource_type),
            ("id", resource_id),
            ("account", account),
            ("region", region),
        ])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_utc_and_keep_the_instant() {
        let t = Time::text("2026-12-07T21:55:27+01:00");
        assert_eq!(t.shown, "2026-12-07 20:55:27 UTC");
        assert_eq!(t.iso, "2026-12-07T20:55:27.000Z");
        assert_eq!(Time::text("yesterday").shown, "yesterday");
    }

    #[test]
    fn links_encode_their_values() {
        assert_eq!(
            resource_link("AWS::S3::Bucket", "a b&c", "1", ""),
            "/resource?type=AWS%3A%3AS3%3A%3ABucket&id=a+b%26c&account=1"
        );
    }
}
