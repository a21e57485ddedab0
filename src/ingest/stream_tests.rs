//! Reading documents as streams: JSON lines detection, large documents read element by element
//! with the same outcome as small ones, and the bounds.

use super::*;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;
use std::io::Write;
use std::ops::ControlFlow;

fn item(id: &str) -> String {
    json!({"resourceType": "AWS::S3::Bucket", "resourceId": id, "configuration": {"pad": "x".repeat(200)}})
        .to_string()
}

/// Each record's location and outcome kind (`item`, `event`, `skipped`, or the invalid reason).
fn summary(bytes: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    read_records(bytes, &mut |record, _| {
        let what = match record.outcome {
            RecordOutcome::Item(item) => format!("item {}", item.resource_id),
            RecordOutcome::Event(_) => "event".to_string(),
            RecordOutcome::Skipped(_) => "skipped".to_string(),
            RecordOutcome::Invalid(reason) => reason,
        };
        out.push((record.location, what));
        ControlFlow::Continue(())
    });
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

#[test]
fn a_bad_first_line_of_json_lines_is_one_bad_record() {
    let good = format!("{}\n{}\n", item("b1"), item("b2"));
    let bad_first_lines: [&[u8]; 8] = [
        b"{broken",
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "#,
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "b0", "configuration": {"#,
        b"{\"resourceType\": \"AWS::S3::Bucket\", \"resourceId\": \"\xff\xfe\"}",
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "b0", "size": 1e400}"#,
        b"NaN",
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "b0", "size": 01}"#,
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "b0",}"#,
    ];
    for first in bad_first_lines {
        let mut doc = first.to_vec();
        doc.push(b'\n');
        doc.extend_from_slice(good.as_bytes());
        let records = summary(&doc);
        let shown = String::from_utf8_lossy(first);
        assert_eq!(records.len(), 3, "{shown}: {records:?}");
        assert_eq!(records[0].0, "line 1", "{shown}");
        assert!(
            records[0].1.starts_with("not valid JSON: "),
            "{shown}: {records:?}"
        );
        assert_eq!(
            records[1..],
            [
                ("line 2".to_string(), "item b1".to_string()),
                ("line 3".to_string(), "item b2".to_string())
            ],
            "{shown}"
        );
    }
}

#[test]
fn a_document_over_several_lines_is_still_one_document() {
    let cases = [
        format!("[\n{}\n]\n", item("b1")),
        format!("[\n  {},\n  {}\n]", item("b1"), item("b2")),
        format!(
            "{{\n  \"fileVersion\": \"1.0\",\n  \"configurationItems\": [\n{}\n  ]\n}}",
            item("b1")
        ),
        "\u{feff}\n\n{\n\"resourceType\": \"AWS::S3::Bucket\",\n\"resourceId\": \"b1\"\n}\n\n"
            .to_string(),
    ];
    for doc in cases {
        let records = summary(doc.as_bytes());
        assert!(!records.is_empty(), "{doc}");
        assert!(
            records.iter().all(|(_, what)| what.starts_with("item ")),
            "{doc}: {records:?}"
        );
    }
    // Broken over several lines: one error for the document, as before.
    let records = summary(b"{\n  \"resourceType\": \"T\",\n  \"resourceId\": \n");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].0, "");
    assert!(
        records[0].1.starts_with("not valid JSON: EOF"),
        "{records:?}"
    );
}

#[test]
fn blank_lines_count_and_a_bom_is_skipped() {
    let doc = format!("\u{feff}\n{}\n\n{}\n", item("b1"), item("b2"));
    assert_eq!(
        summary(doc.as_bytes()),
        [
            ("line 2".to_string(), "item b1".to_string()),
            ("line 4".to_string(), "item b2".to_string())
        ]
    );
}

/// A document larger than a record is streamed; the outcome is the one of reading it whole.
#[test]
fn large_documents_are_read_element_by_element_with_the_same_outcome() {
    let count = MAX_RECORD_BYTES / 200;
    let items: Vec<String> = (0..count).map(|i| item(&format!("b{i}"))).collect();
    let list = items.join(",");
    let docs = [
        (format!("[{list}]"), "["),
        (
            format!(r#"{{"fileVersion": "1.0", "configurationItems": [{list}], "x": 1}}"#),
            "configurationItems[",
        ),
        (
            format!(r#"{{"baseConfigurationItems": [{list}], "unprocessedResourceKeys": []}}"#),
            "baseConfigurationItems[",
        ),
        (items.join("\n"), "line "),
    ];
    for (doc, prefix) in docs {
        assert!(doc.len() > MAX_RECORD_BYTES);
        for bytes in [doc.as_bytes().to_vec(), gzip(doc.as_bytes())] {
            let records = summary(&bytes);
            assert_eq!(records.len(), count, "{prefix}");
            for (i, (location, what)) in records.iter().enumerate() {
                let want = if prefix == "line " {
                    format!("line {}", i + 1)
                } else {
                    format!("{prefix}{i}]")
                };
                assert_eq!(location, &want);
                assert_eq!(what, &format!("item b{i}"));
            }
        }
    }
}

#[test]
fn large_describe_output_is_read_group_by_group() {
    let group = |i: usize| {
        json!({"GroupId": format!("sg-{i}"), "OwnerId": "111122223333", "GroupName": "x".repeat(200),
            "IpPermissions": [], "IpPermissionsEgress": []})
        .to_string()
    };
    let count = MAX_RECORD_BYTES / 200;
    let list: Vec<String> = (0..count).map(group).collect();
    let doc = format!(
        r#"{{"SecurityGroups": [{}], "NextToken": "t"}}"#,
        list.join(",")
    );
    assert!(doc.len() > MAX_RECORD_BYTES);
    let records = summary(doc.as_bytes());
    assert_eq!(records.len(), count);
    for (i, (location, what)) in records.iter().enumerate() {
        assert_eq!(location, &format!("SecurityGroups[{i}]"));
        assert_eq!(what, &format!("item sg-{i}"));
    }
}

#[test]
fn large_describe_instances_output_is_read_reservation_by_reservation() {
    let reservation = |i: usize| {
        json!({"OwnerId": "111122223333", "ReservationId": format!("r-{i}"), "Instances": [
            {"InstanceId": format!("i-{i}"), "InstanceType": "t3.nano", "KeyName": "x".repeat(200),
             "Placement": {"AvailabilityZone": "us-east-1a"}}]})
        .to_string()
    };
    let count = MAX_RECORD_BYTES / 200;
    let list: Vec<String> = (0..count).map(reservation).collect();
    let doc = format!(r#"{{"Reservations": [{}]}}"#, list.join(","));
    assert!(doc.len() > MAX_RECORD_BYTES);
    let records = summary(doc.as_bytes());
    assert_eq!(records.len(), count);
    for (i, (location, what)) in records.iter().enumerate() {
        assert_eq!(location, &format!("Reservations[{i}].Instances[0]"));
        assert_eq!(what, &format!("item i-{i}"));
    }
}

#[test]
fn streamed_envelopes_keep_their_rules() {
    let pad = format!(r#""pad": "{}""#, "x".repeat(MAX_RECORD_BYTES));
    let record = json!({"eventVersion": "1.08", "eventTime": "2024-05-01T09:00:00Z",
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "awsRegion": "us-east-1",
        "eventID": "e1", "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"}});
    // The list is read wherever it is, the other fields are budgeted apart from its elements.
    let doc =
        format!(r#"{{"Records": [{record}, 5, {{"eventSource": "aws:s3", "s3": {{}}}}], {pad}}}"#);
    assert_eq!(
        summary(doc.as_bytes()),
        [
            ("Records[0]".to_string(), "event".to_string()),
            (
                "Records[1]".to_string(),
                "expected a CloudTrail record (an object), found a number".to_string()
            ),
            ("Records[2]".to_string(), "skipped".to_string()),
        ]
    );
    // A list that is not an array is reported as before.
    let doc = format!(r#"{{{pad}, "Records": {{"a": 1}}}}"#);
    assert_eq!(
        summary(doc.as_bytes()),
        [(
            "Records".to_string(),
            "expected an array of CloudTrail records, found an object".to_string()
        )]
    );
    // What an envelope holds besides its list is bounded too.
    let doc = format!(r#"{{{pad}, "other": {{{pad}}}, "Records": []}}"#);
    let records = summary(doc.as_bytes());
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].0, "");
    assert!(records[0].1.starts_with("larger than"), "{records:?}");
    let doc = r#"{"Events": "no"}"#;
    assert_eq!(
        summary(doc.as_bytes()),
        [(
            "Events".to_string(),
            "expected an array of lookup-events entries, found a string".to_string()
        )]
    );
}

#[test]
fn a_record_too_large_is_refused_with_where_it_is() {
    let big = item(&"b".repeat(MAX_RECORD_BYTES + 256 * 1024));
    // Streamed: the document stops at the record.
    let doc = format!("[{}, {big}, {}]", item("b0"), item("b2"));
    let records = summary(doc.as_bytes());
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0], ("[0]".to_string(), "item b0".to_string()));
    assert_eq!(records[1].0, "[1]");
    assert!(
        records[1].1.starts_with(&format!(
            "larger than {MAX_RECORD_BYTES} bytes of JSON, the most a record may be"
        )),
        "{records:?}"
    );
    // A document that is one record.
    let records = summary(big.as_bytes());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, "");
    assert!(records[0].1.starts_with("larger than"), "{records:?}");
    // JSON lines: only that line.
    let doc = format!("{}\n{big}\n{}\n", item("b0"), item("b2"));
    let records = summary(doc.as_bytes());
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records[1].0, "line 2");
    assert!(records[1].1.starts_with("longer than"), "{records:?}");
    assert_eq!(records[2], ("line 3".to_string(), "item b2".to_string()));
}

/// An item whose configuration is `zeros` zeros: little JSON, a large tree.
fn zeros_item(id: &str, zeros: usize) -> String {
    format!(
        r#"{{"resourceType": "AWS::S3::Bucket", "resourceId": "{id}", "configuration": {{"z": [{}0]}}}}"#,
        "0,".repeat(zeros)
    )
}

#[test]
fn a_record_taking_too_much_memory_is_refused_and_the_rest_read() {
    let zeros = MAX_RECORD_MEMORY / 64;
    let (small, big) = (zeros_item("b0", 10), zeros_item("big", zeros));
    let pad = item(&"p".repeat(MAX_RECORD_BYTES));
    let docs = [
        // Read whole, then streamed (the pad makes the document larger than a record).
        (format!("[{small}, {big}, {}]", item("b2")), "[1]"),
        (format!("[{small}, {big}, {}, {pad}]", item("b2")), "[1]"),
        (format!("{small}\n{big}\n{}\n", item("b2")), "line 2"),
        (format!("{small}\n{big}\n{}\n{pad}\n", item("b2")), "line 2"),
    ];
    for (doc, at) in docs {
        let records = summary(doc.as_bytes());
        assert_eq!(records[0].1, "item b0", "{at}");
        assert_eq!(records[1].0, at);
        assert!(
            records[1]
                .1
                .starts_with("takes more than 33554432 bytes of memory once parsed"),
            "{records:?}"
        );
        assert_eq!(records[2].1, "item b2", "{at}");
    }
    // JSON in a string counts for the record that holds it.
    let inner = format!("[{}0]", "0,".repeat(zeros));
    let doc = json!({"resourceType": "AWS::S3::Bucket", "resourceId": "s", "configuration": inner});
    let records = summary(doc.to_string().as_bytes());
    assert_eq!(records.len(), 1);
    assert!(
        records[0]
            .1
            .starts_with("configuration: string holds JSON that takes more than"),
        "{records:?}"
    );
}

#[test]
fn the_first_record_of_a_value_carries_its_weight() {
    let doc = format!(
        "[{}, {{\"configurationItems\": [{}, {}]}}]",
        zeros_item("a", 1000),
        item("b"),
        item("c")
    );
    let mut weights = Vec::new();
    read_records(doc.as_bytes(), &mut |record, weight| {
        weights.push((record.location, weight));
        ControlFlow::Continue(())
    });
    assert_eq!(weights.len(), 3, "{weights:?}");
    assert!(weights[0].1 > 64 * 1000, "{weights:?}");
    assert_eq!(weights[1].0, "[1] > configurationItems[0]");
    assert!(weights[1].1 > 0);
    assert_eq!(weights[2].1, 0);
}

#[test]
fn records_per_document_are_capped() {
    for doc in [
        format!("[{}{{}}]", "{},".repeat(MAX_RECORDS_PER_DOCUMENT)),
        "{}\n".repeat(MAX_RECORDS_PER_DOCUMENT + 1),
    ] {
        let (mut count, mut last) = (0usize, None);
        read_records(doc.as_bytes(), &mut |record, _| {
            count += 1;
            last = Some(record);
            ControlFlow::Continue(())
        });
        assert_eq!(count, MAX_RECORDS_PER_DOCUMENT + 1);
        let last = last.expect("records");
        assert_eq!(last.location, "");
        assert!(
            matches!(&last.outcome, RecordOutcome::Invalid(r)
                if r.starts_with(&format!("more than {MAX_RECORDS_PER_DOCUMENT} records in one document"))),
            "{last:?}"
        );
    }
}

#[test]
fn nesting_deeper_than_the_limit_names_the_limit() {
    for doc in [
        format!(
            "{}{}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        ),
        format!(
            "{}{}\n",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        )
        .repeat(2),
    ] {
        let records = summary(doc.as_bytes());
        assert!(
            records[0].1.starts_with(
                "nested deeper than 127 levels, the most accepted (recursion limit exceeded at \
                 line 1 column 128)"
            ),
            "{records:?}"
        );
    }
    let ok = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
    assert!(!summary(ok.as_bytes())[0].1.contains("recursion limit"));
}

#[test]
fn the_sink_can_stop_a_document() {
    let doc = format!("[{}]", vec![item("b"); 10].join(","));
    let mut seen = 0;
    read_records(doc.as_bytes(), &mut |_, _| {
        seen += 1;
        ControlFlow::Break(())
    });
    assert_eq!(seen, 1);
}

#[test]
fn broken_gzip_and_empty_documents_say_so() {
    let mut bytes = gzip(item("b1").as_bytes());
    bytes.truncate(bytes.len() / 2);
    let records = summary(&bytes);
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(
        records[0].1.starts_with("not a valid gzip stream"),
        "{records:?}"
    );
    assert_eq!(
        summary(&gzip(b" \n ")),
        [("".to_string(), "empty document".to_string())]
    );
}

#[test]
fn invalid_json_rejects_a_document_whole_or_stops_a_streamed_one() {
    // Read whole: nothing of it is recorded, as it always was.
    let doc = format!(
        "[{}, {}, {{broken}}, {}]",
        item("b0"),
        item("b1"),
        item("b3")
    );
    let records = summary(doc.as_bytes());
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].0, "");
    assert!(
        records[0]
            .1
            .starts_with("not valid JSON: key must be a string at line 1 column ")
            && !records[0].1.contains("rest of the document"),
        "{records:?}"
    );
    // Streamed: what was read before is kept, and the error says the rest was not read.
    let pad = item(&"p".repeat(MAX_RECORD_BYTES / 2));
    let doc = format!("[{}, {pad}, {pad}, {{broken}}, {}]", item("b0"), item("b3"));
    let records = summary(doc.as_bytes());
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(records[0], ("[0]".to_string(), "item b0".to_string()));
    assert_eq!(records[3].0, "");
    assert!(
        records[3]
            .1
            .starts_with("not valid JSON: key must be a string at line 1 column")
            && records[3]
                .1
                .ends_with("(the rest of the document was not read)"),
        "{records:?}"
    );
}
