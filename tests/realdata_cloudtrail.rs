//! Every real CloudTrail sample under `tests/data/realdata/cloudtrail/` (third-party files, see
//! `tests/data/realdata/SOURCES.md`) read and parsed the way `conftrail ingest` reads files, each
//! checked against the outcome written down for it in
//! `tests/data/realdata/cloudtrail_expected.json`: every file ingests or reports precisely.
//!
//! The expectations were worked out by reading the files, not by running conftrail.

use conftrail::ingest::{
    collect_files, parse_document, read_document, ParsedRecord, RecordOutcome,
};
use conftrail::model::{format_time, ApiEvent};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What parsing one file must give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcome {
    events: usize,
    /// Warnings on the events, all together.
    warnings: usize,
    /// Every skipped record in document order: (location, substring of the note).
    skipped: Vec<(String, String)>,
    /// Every invalid record in document order: (location, substring of the reason).
    invalid: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFile {
    description: String,
    files: BTreeMap<String, Outcome>,
}

/// Events per folder in the shared set's `cloudtrail/INVENTORY.json` (records it could read,
/// the CSV's rows included).
const INVENTORY_EVENTS: [(&str, usize); 7] = [
    ("aws_processing_library_edge_cases", 25),
    ("custodian_eventbridge", 9),
    ("otrf_security_datasets", 404),
    ("panther_rule_tests", 464),
    ("plaso", 6),
    ("stratus-red-team", 310),
    ("trailscraper", 2),
];

/// Rows of `otrf_security_datasets/AWS_S3_HoneyBucketLogs.csv`, which the inventory counts as
/// events. It is a CSV export, not CloudTrail JSON; a directory walk does not pick it up.
const OTRF_CSV_ROWS: usize = 301;

fn cloudtrail_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realdata/cloudtrail")
}

fn load_expected() -> Result<BTreeMap<String, Outcome>, Box<dyn std::error::Error>> {
    let path = cloudtrail_dir().with_file_name("cloudtrail_expected.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let parsed: ExpectedFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if parsed.description.trim().is_empty() {
        return Err(format!("{}: empty description", path.display()).into());
    }
    Ok(parsed.files)
}

/// Every input file of the tree as conftrail walks it, `/`-separated relative to the tree, with
/// its parsed records.
fn parse_tree() -> Result<BTreeMap<String, Vec<ParsedRecord>>, Box<dyn std::error::Error>> {
    let root = cloudtrail_dir();
    let mut out = BTreeMap::new();
    for path in collect_files(std::slice::from_ref(&root))? {
        let rel = path
            .strip_prefix(&root)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let bytes = read_document(&path)?;
        out.insert(rel, parse_document(&bytes));
    }
    Ok(out)
}

fn parse_file(rel: &str) -> Result<Vec<ParsedRecord>, Box<dyn std::error::Error>> {
    Ok(parse_document(&read_document(&cloudtrail_dir().join(rel))?))
}

fn events_of(records: &[ParsedRecord]) -> Vec<(&str, &ApiEvent)> {
    records
        .iter()
        .filter_map(|r| match &r.outcome {
            RecordOutcome::Event(e) => Some((r.location.as_str(), e.as_ref())),
            _ => None,
        })
        .collect()
}

fn problems_of(records: &[ParsedRecord], skipped: bool) -> Vec<(String, String)> {
    records
        .iter()
        .filter_map(|r| match (&r.outcome, skipped) {
            (RecordOutcome::Skipped(note), true) | (RecordOutcome::Invalid(note), false) => {
                Some((r.location.clone(), note.clone()))
            }
            _ => None,
        })
        .collect()
}

fn matches(got: &[(String, String)], want: &[(String, String)]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|((gl, gr), (wl, wr))| gl == wl && gr.contains(wr.as_str()))
}

#[test]
fn every_file_ingests_or_reports_precisely() -> TestResult {
    let expected = load_expected()?;
    let parsed = parse_tree()?;
    let got_files: Vec<&String> = parsed.keys().collect();
    let want_files: Vec<&String> = expected.keys().collect();
    assert_eq!(got_files, want_files, "files found by the directory walk");

    let mut failures = Vec::new();
    for (file, want) in &expected {
        let records = &parsed[file];
        let events = events_of(records).len();
        let warnings: usize = records
            .iter()
            .filter(|r| matches!(r.outcome, RecordOutcome::Event(_)))
            .map(|r| r.warnings.len())
            .sum();
        let skipped = problems_of(records, true);
        let invalid = problems_of(records, false);
        if events != want.events || warnings != want.warnings {
            failures.push(format!(
                "{file}: (events, warnings) = ({events}, {warnings}), want ({}, {})",
                want.events, want.warnings
            ));
        }
        if !matches(&skipped, &want.skipped) {
            failures.push(format!(
                "{file}: skipped {skipped:?}, want {:?}",
                want.skipped
            ));
        }
        if !matches(&invalid, &want.invalid) {
            failures.push(format!(
                "{file}: invalid {invalid:?}, want {:?}",
                want.invalid
            ));
        }
        // Every warning is about one field and says what was done about it.
        for r in records {
            for w in &r.warnings {
                assert!(
                    w.contains(": ") && !w.trim().is_empty(),
                    "{file} {}: vague warning {w:?}",
                    r.location
                );
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    Ok(())
}

#[test]
fn folder_totals_agree_with_the_inventory() -> TestResult {
    let parsed = parse_tree()?;
    let mut per_folder: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (file, records) in &parsed {
        let folder = file.split('/').next().unwrap_or_default();
        let entry = per_folder.entry(folder).or_default();
        entry.0 += events_of(records).len();
        // Records read but rejected; a document that is not JSON at all holds none the
        // inventory could count (it lists SerializerTestFileBadJsonFormat.json as unparsed).
        entry.1 += records
            .iter()
            .filter(|r| matches!(r.outcome, RecordOutcome::Invalid(_)) && !r.location.is_empty())
            .count();
    }
    for (folder, inventory) in INVENTORY_EVENTS {
        let (events, invalid) = per_folder.get(folder).copied().unwrap_or_default();
        let ours = events + invalid;
        // The inventory counts the OTRF CSV's rows; it is not CloudTrail JSON and not read.
        let want = if folder == "otrf_security_datasets" {
            inventory - OTRF_CSV_ROWS
        } else {
            inventory
        };
        assert_eq!(
            ours, want,
            "{folder}: events {events} + invalid records {invalid}"
        );
    }
    let total: usize = per_folder.values().map(|(events, _)| events).sum();
    // 23 + 9 + 103 + 444 + 6 + 310 + 2: the invalid records are the all-null record, a record
    // with a wrong eventTime (processing library) and 20 Panther tests without time or source.
    assert_eq!(total, 897, "events in the whole tree");
    Ok(())
}

#[test]
fn stratus_security_group_ingress() -> TestResult {
    let records = parse_file(
        "stratus-red-team/aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
    )?;
    let events = events_of(&records);
    assert_eq!(events.len(), 1, "{records:?}");
    let (location, e) = events[0];
    assert_eq!(location, "[0]");
    assert_eq!(e.event_name, "AuthorizeSecurityGroupIngress");
    assert_eq!(e.event_id, "9fd68588-ecbf-4528-a345-199fa6bb0821");
    assert_eq!(e.username, "christophe");
    assert_eq!(e.source_ip_address.as_deref(), Some("253.243.215.253"));
    assert_eq!(e.account_id, "032092706103");
    assert_eq!(e.aws_region, "us-northeast-1r");
    assert_eq!(e.access_key_id.as_deref(), Some("AKIAXW7UJ577KFYIAHIM"));
    assert_eq!(format_time(&e.event_time), "2024-08-01T12:23:55.000Z");
    assert!(e.is_successful_write());
    assert!(records[0].warnings.is_empty(), "{:?}", records[0].warnings);
    Ok(())
}

#[test]
fn plaso_lookup_events_lines() -> TestResult {
    let records = parse_file("plaso/aws_cloudtrail_lookup_events.jsonl")?;
    let events = events_of(&records);
    let names: Vec<(&str, &str)> = events
        .iter()
        .map(|(loc, e)| (*loc, e.event_name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("line 1 > CloudTrailEvent", "DescribeInstances"),
            ("line 2 > CloudTrailEvent", "TerminateInstances"),
            ("line 3 > CloudTrailEvent", "StopInstances"),
            ("line 4 > CloudTrailEvent", "SharedSnapshotVolumeCreated"),
            ("line 5 > CloudTrailEvent", "RunInstances"),
            ("line 6 > CloudTrailEvent", "CreateSecurityGroup"),
        ]
    );
    let (_, create) = events[5];
    assert_eq!(
        create.response_elements()["groupId"],
        "sg-01234567890123456"
    );
    assert!(!create.read_only);
    assert_eq!(create.username, "fakeusername");
    assert_eq!(format_time(&create.event_time), "2022-02-07T22:19:04.000Z");
    // The stored record is the decoded CloudTrailEvent, not the lookup-events entry.
    assert!(create.record.get("CloudTrailEvent").is_none());
    assert_eq!(create.record["eventName"], "CreateSecurityGroup");
    let (_, describe) = events[0];
    assert!(describe.read_only);
    Ok(())
}

#[test]
fn panther_string_ports_and_panther_times() -> TestResult {
    let records = parse_file("panther_rule_tests/panther_cloudtrail_rule_tests.jsonl")?;
    let line_100 = records
        .iter()
        .find(|r| r.location == "line 100 > Log")
        .ok_or("line 100 not parsed")?;
    let RecordOutcome::Event(e) = &line_100.outcome else {
        return Err(format!("line 100: {:?}", line_100.outcome).into());
    };
    assert_eq!(e.event_name, "AuthorizeSecurityGroupIngress");
    assert_eq!(e.event_id, "504b492f-7832-406b-a4fd-45a13e48adc4");
    // Panther's normalised time, taken as UTC.
    assert_eq!(format_time(&e.event_time), "2021-01-24T04:55:45.000Z");
    // The console writes ports as strings; the record keeps them as they were.
    let text = e.request_parameters().to_string();
    assert!(text.contains(r#""fromPort":"443""#), "{text}");

    // A time with nanoseconds, as Panther's newer tests write it.
    let nanos = events_of(&records)
        .into_iter()
        .find(|(_, e)| {
            e.record["eventTime"]
                .as_str()
                .is_some_and(|t| t.ends_with(".000000000"))
        })
        .ok_or("no event with a nanosecond time")?;
    assert!(format_time(&nanos.1.event_time).ends_with(".000Z"));
    Ok(())
}

#[test]
fn processing_library_edge_cases() -> TestResult {
    let dir = "aws_processing_library_edge_cases";
    let records = parse_file(&format!("{dir}/SerializerTestFileBadJsonFormat.json"))?;
    assert_eq!(records.len(), 1);
    assert!(
        matches!(&records[0].outcome, RecordOutcome::Invalid(r) if r.starts_with("not valid JSON: ") && r.contains("line 37")),
        "{records:?}"
    );

    let records = parse_file(&format!("{dir}/SQSMessageBody.json"))?;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].location, "Message");
    assert!(
        matches!(&records[0].outcome, RecordOutcome::Skipped(n) if n == "CloudTrail delivery notification: names 2 log files in s3://my-test-bucket; ingest those files"),
        "{records:?}"
    );

    let records = parse_file(&format!("{dir}/SerializerAllFieldsNull.json"))?;
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].location, "Records[0]");
    assert!(
        matches!(&records[0].outcome, RecordOutcome::Invalid(r) if r == "eventTime: expected a string, found null; eventSource: expected a string, found null; eventName: expected a string, found null"),
        "{records:?}"
    );
    let RecordOutcome::Event(e) = &records[1].outcome else {
        return Err(format!("Records[1]: {:?}", records[1].outcome).into());
    };
    assert_eq!(e.account_id, "recipientAccountId2");
    assert_eq!(e.resources.len(), 3);

    let records = parse_file(&format!("{dir}/SerializerTestFileMissField.json"))?;
    let invalid = problems_of(&records, false);
    assert_eq!(
        invalid,
        [(
            "Records[3]".to_string(),
            r#"eventTime: "ThisIsAWrongEventTime" is not a time"#.to_string()
        )]
    );
    // Record 2 has a userIdentity with nothing but a sessionContext: an event all the same.
    let RecordOutcome::Event(e) = &records[2].outcome else {
        return Err(format!("Records[2]: {:?}", records[2].outcome).into());
    };
    assert_eq!(e.username, "");
    assert_eq!(e.account_id, "recipientAccountId3");

    // No record here has an eventID: each gets a derived one, the same on every read, and the
    // compact gzip copy of SerializerTestFile.json derives the same ids as the original.
    let plain = parse_file(&format!("{dir}/SerializerTestFile.json"))?;
    let compact = parse_file(&format!("{dir}/SerializerTestFileCompact.json.gz"))?;
    let ids = |records: &[ParsedRecord]| -> Vec<String> {
        events_of(records)
            .iter()
            .map(|(_, e)| e.event_id.clone())
            .collect()
    };
    assert_eq!(ids(&plain).len(), 6);
    assert_eq!(ids(&plain), ids(&compact));
    assert_eq!(
        ids(&plain),
        ids(&parse_file(&format!("{dir}/SerializerTestFile.json"))?)
    );
    for r in &plain {
        assert_eq!(r.warnings.len(), 1, "{r:?}");
        assert!(r.warnings[0].starts_with("eventID missing: derived conftrail-"));
    }
    let RecordOutcome::Event(e) =
        &parse_file(&format!("{dir}/SerializerVariousUserIdentityTestFile.json"))?[0].outcome
    else {
        return Err("SerializerVariousUserIdentityTestFile.json: no event".into());
    };
    assert_eq!(
        e.user_identity.session_issuer_arn.as_deref(),
        Some("sessionIssuerArn1")
    );
    assert_eq!(e.username, "sessionIssuerUserName1");
    Ok(())
}

#[test]
fn eventbridge_and_bare_custodian_events() -> TestResult {
    let wrapped = parse_file("custodian_eventbridge/event-cloud-trail-create-bucket.json")?;
    let events = events_of(&wrapped);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "detail");
    assert_eq!(events[0].1.event_name, "CreateBucket");
    let bare = parse_file("custodian_eventbridge/event-cloud-trail-create-db.json")?;
    let events = events_of(&bare);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "");
    assert_eq!(events[0].1.event_name, "CreateDBInstance");
    Ok(())
}

#[test]
fn logstash_export_takes_time_from_timestamp() -> TestResult {
    let records =
        parse_file("otrf_security_datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json")?;
    assert_eq!(records.len(), 103);
    let RecordOutcome::Event(e) = &records[0].outcome else {
        return Err(format!("line 1: {:?}", records[0].outcome).into());
    };
    assert_eq!(records[0].location, "line 1");
    assert_eq!(e.event_name, "DescribeInstanceTypes");
    assert_eq!(format_time(&e.event_time), "2020-09-14T00:44:23.000Z");
    assert_eq!(e.username, "pedro");
    assert!(e.read_only);
    assert_eq!(
        records[0].warnings,
        ["eventTime missing: taken from @timestamp (a Logstash export)"]
    );
    Ok(())
}
