//! Assigning API calls to the configuration versions they caused.
//!
//! A call at time t on a resource belongs to the version whose interval
//! (previous capture time, this capture time] contains t: AWS Config captures a change after the
//! call that made it. Clocks of different services disagree a little, so a call up to
//! [`CLOCK_SKEW_MS`] after a capture time may still belong to that version: it does when it is
//! the kind of change that version made and not the kind the next one made (or there is no next
//! one yet). Calls after the latest version (beyond the allowance) are pending: their
//! configuration item has not arrived. Links are computed when asked, from what is stored, so
//! the order events and items arrive in never matters and re-ingesting changes nothing.

use crate::diff::ItemDiff;
use crate::store::ResourceCall;

/// How far after a capture time a call may be and still have caused that version.
pub const CLOCK_SKEW_MS: i64 = 5_000;

/// One version of a resource as the linker sees it.
#[derive(Debug, Clone, Copy)]
pub struct VersionSpan<'a> {
    /// Version number.
    pub version: u64,
    /// Capture time in milliseconds.
    pub time_ms: i64,
    /// What changed in it, against the version before.
    pub diff: &'a ItemDiff,
}

/// A call linked to a version.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedCall {
    /// The call and what it does to the resource.
    pub call: ResourceCall,
    /// Whether the call is the kind of change the version made (e.g. an ingress rule call
    /// and changed `Configuration.IpPermissions`).
    pub likely_cause: bool,
}

/// Calls assigned to versions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Links {
    /// Per version in the order given: the calls linked to it, in time order.
    pub per_version: Vec<Vec<LinkedCall>>,
    /// Calls after the last version given: their configuration item has not arrived yet.
    pub pending: Vec<ResourceCall>,
}

/// Assigns `calls` (any order) to `versions` (in capture-time order). Calls before the first
/// version belong to it.
pub fn assign(versions: &[VersionSpan<'_>], mut calls: Vec<ResourceCall>) -> Links {
    calls.sort_by(|a, b| {
        a.event
            .event_time
            .cmp(&b.event.event_time)
            .then_with(|| a.event.event_id.cmp(&b.event.event_id))
    });
    let mut links = Links {
        per_version: vec![Vec::new(); versions.len()],
        pending: Vec::new(),
    };
    for call in calls {
        let t = call.event.event_time.timestamp_millis();
        // First version captured at or after the call.
        let after = versions.partition_point(|v| v.time_ms < t);
        let within_skew = after
            .checked_sub(1)
            .filter(|&before| t - versions[before].time_ms <= CLOCK_SKEW_MS);
        let chosen = match within_skew {
            Some(before) => {
                let fits_before = call.effect.matches(versions[before].diff);
                let fits_after = versions
                    .get(after)
                    .is_some_and(|v| call.effect.matches(v.diff));
                if after == versions.len() || (fits_before && !fits_after) {
                    Some(before)
                } else {
                    Some(after)
                }
            }
            None if after < versions.len() => Some(after),
            None => None,
        };
        match chosen {
            Some(index) => {
                let likely_cause = call.effect.matches(versions[index].diff);
                links.per_version[index].push(LinkedCall { call, likely_cause });
            }
            None => links.pending.push(call),
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::ChangeType;
    use crate::model::{parse_timestamp_text, ApiEvent, Effect, UserIdentity};
    use serde_json::Value;

    fn diff(change_type: ChangeType, paths: &[&str]) -> ItemDiff {
        crate::diff::diff_of_paths(change_type, paths)
    }

    fn ms(text: &str) -> i64 {
        parse_timestamp_text(text).unwrap().timestamp_millis()
    }

    fn call(id: &str, time: &str, effect: Effect) -> ResourceCall {
        ResourceCall {
            event: ApiEvent {
                event_id: id.into(),
                event_time: parse_timestamp_text(time).unwrap(),
                event_source: "ec2.amazonaws.com".into(),
                event_name: id.into(),
                aws_region: "us-east-1".into(),
                account_id: "1".into(),
                user_identity: UserIdentity::default(),
                username: String::new(),
                source_ip_address: None,
                user_agent: None,
                access_key_id: None,
                error_code: None,
                error_message: None,
                read_only: false,
                event_type: None,
                request_id: None,
                resources: Vec::new(),
                record: Value::Null,
            },
            effect,
        }
    }

    fn linked(links: &Links) -> Vec<Vec<(String, bool)>> {
        links
            .per_version
            .iter()
            .map(|calls| {
                calls
                    .iter()
                    .map(|c| (c.call.event.event_id.clone(), c.likely_cause))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn calls_go_to_the_version_whose_interval_holds_them() {
        let created = diff(ChangeType::Create, &[]);
        let opened = diff(ChangeType::Update, &["Configuration.IpPermissions.0"]);
        let tagged = diff(ChangeType::Update, &["Tags.team"]);
        let versions = [
            VersionSpan {
                version: 1,
                time_ms: ms("2024-05-01T10:00:10Z"),
                diff: &created,
            },
            VersionSpan {
                version: 2,
                time_ms: ms("2024-05-01T11:00:00Z"),
                diff: &opened,
            },
            VersionSpan {
                version: 3,
                time_ms: ms("2024-05-01T12:00:00Z"),
                diff: &tagged,
            },
        ];
        let ingress = || Effect::Modify(vec!["Configuration.IpPermissions".into()]);
        let tags = || Effect::Modify(vec!["Tags".into()]);
        let links = assign(
            &versions,
            vec![
                call("late-tag", "2024-05-01T11:59:00Z", tags()),
                call("create", "2024-05-01T10:00:00Z", Effect::Create),
                call("open", "2024-05-01T10:30:00Z", ingress()),
                call("describe-ish", "2024-05-01T10:40:00Z", Effect::Unknown),
                call("after-latest", "2024-05-01T13:00:00Z", tags()),
            ],
        );
        assert_eq!(
            linked(&links),
            vec![
                vec![("create".to_string(), true)],
                vec![
                    ("open".to_string(), true),
                    ("describe-ish".to_string(), false)
                ],
                vec![("late-tag".to_string(), true)],
            ]
        );
        assert_eq!(links.pending.len(), 1);
        assert!(Effect::Create.matches(&created));
    }

    #[test]
    fn clock_skew_keeps_a_matching_call_with_the_version_just_before() {
        let opened = diff(ChangeType::Update, &["Configuration.IpPermissions.0"]);
        let tagged = diff(ChangeType::Update, &["Tags.team"]);
        let versions = [
            VersionSpan {
                version: 1,
                time_ms: ms("2024-05-01T11:00:00Z"),
                diff: &opened,
            },
            VersionSpan {
                version: 2,
                time_ms: ms("2024-05-01T11:00:30Z"),
                diff: &tagged,
            },
        ];
        let links = assign(
            &versions,
            vec![
                // 2 s after version 1's capture: the ingress call made version 1 ...
                call(
                    "open",
                    "2024-05-01T11:00:02Z",
                    Effect::Modify(vec!["Configuration.IpPermissions".into()]),
                ),
                // ... and the tag call 3 s after it made version 2.
                call(
                    "tag",
                    "2024-05-01T11:00:03Z",
                    Effect::Modify(vec!["Tags".into()]),
                ),
                // Within the allowance of the latest version: linked, not pending.
                call(
                    "tag-again",
                    "2024-05-01T11:00:33Z",
                    Effect::Modify(vec!["Tags".into()]),
                ),
            ],
        );
        assert_eq!(
            linked(&links),
            vec![
                vec![("open".to_string(), true)],
                vec![("tag".to_string(), true), ("tag-again".to_string(), true)],
            ]
        );
        assert!(links.pending.is_empty());
    }

    #[test]
    fn no_versions_means_everything_is_pending() {
        let links = assign(&[], vec![call("x", "2024-05-01T11:00:00Z", Effect::Create)]);
        assert!(links.per_version.is_empty());
        assert_eq!(links.pending.len(), 1);
    }
}
