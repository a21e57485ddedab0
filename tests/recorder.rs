//! The recorder against a real sled store on disk: versions, duplicates, out-of-order arrival,
//! deletions, history paging and diffs.

use conftrail::app::ingest::{ingest_bytes, IngestReport};
use conftrail::diff::ChangeType;
use conftrail::model::{parse_time_arg, Timestamp};
use conftrail::query::{self, QueryError, ResourceSelector, VersionSelector};
use conftrail::store::{HistoryOrder, HistoryQuery, PageToken, Store};
use serde_json::{json, Value};

const SG: &str = "AWS::EC2::SecurityGroup";

fn sg_item(id: &str, account: &str, time: &str, ports: &[u16], status: &str) -> Value {
    let perms: Vec<Value> = ports
        .iter()
        .map(|p| json!({"ipProtocol": "tcp", "fromPort": p, "toPort": p, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}))
        .collect();
    let configuration = if status == "ResourceDeleted" {
        Value::Null
    } else {
        json!({"groupId": id, "groupName": "web", "ipPermissions": perms, "ipPermissionsEgress": []})
    };
    json!({
        "configurationItemVersion": "1.3", "awsAccountId": account, "configurationItemCaptureTime": time,
        "configurationItemStatus": status, "configurationStateId": 1, "resourceType": SG, "resourceId": id,
        "resourceName": "web", "awsRegion": "us-east-1", "tags": {}, "relationships": [],
        "configuration": configuration, "supplementaryConfiguration": {}
    })
}

fn ingest(store: &Store, doc: &Value) -> IngestReport {
    let report = ingest_bytes(store, "test", doc.to_string().as_bytes()).expect("ingest");
    assert_eq!(report.errors, 0, "{:?}", report.problems);
    report
}

fn key(store: &Store, id: &str) -> conftrail::model::ResourceKey {
    query::resolve(
        store,
        &ResourceSelector {
            resource_type: SG.into(),
            resource_id: id.into(),
            ..Default::default()
        },
    )
    .expect("resolve")
}

fn t(text: &str) -> Timestamp {
    parse_time_arg(text).expect("time")
}

fn minute(i: usize) -> String {
    let base = t("2024-01-01T00:00:00Z");
    conftrail::model::format_time(&(base + chrono::TimeDelta::minutes(i as i64)))
}

#[test]
fn many_versions_page_through_history_in_both_orders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let items: Vec<Value> = (0..250)
        .map(|i| sg_item("sg-many", "1", &minute(i), &[1000 + i as u16], "OK"))
        .collect();
    let report = ingest(&store, &Value::Array(items));
    assert_eq!(
        (report.items, report.new_versions, report.unchanged),
        (250, 250, 0)
    );
    let key = key(&store, "sg-many");

    for order in [HistoryOrder::Forward, HistoryOrder::Reverse] {
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let page = store
                .history(
                    &key,
                    &HistoryQuery {
                        order,
                        limit: 100,
                        after,
                        ..Default::default()
                    },
                )
                .expect("history");
            pages += 1;
            seen.extend(page.items.iter().map(|i| i.version_number().expect("meta")));
            match page.next {
                Some(token) => {
                    after = Some(PageToken::decode(&token.encode()).expect("token round trip"))
                }
                None => break,
            }
        }
        assert_eq!(pages, 3);
        let mut want: Vec<u64> = (1..=250).collect();
        if order == HistoryOrder::Reverse {
            want.reverse();
        }
        assert_eq!(seen, want, "{order:?}");
    }

    // A time window is inclusive at both ends, as AWS's earlierTime/laterTime.
    let page = store
        .history(
            &key,
            &HistoryQuery {
                since: Some(t(&minute(10))),
                until: Some(t(&minute(19))),
                order: HistoryOrder::Forward,
                limit: 100,
                after: None,
            },
        )
        .expect("window");
    let versions: Vec<u64> = page
        .items
        .iter()
        .filter_map(|i| i.version_number())
        .collect();
    assert_eq!(versions, (11..=20).collect::<Vec<u64>>());
    assert!(page.next.is_none());

    // The version in force between two captures is the earlier one.
    let at = t(&minute(42)) + chrono::TimeDelta::seconds(30);
    let item = query::show(&store, &key, VersionSelector::At(at)).expect("at");
    assert_eq!(item.version_number(), Some(43));
    assert!(matches!(
        query::show(&store, &key, VersionSelector::At(t("2023-12-31"))),
        Err(QueryError::NothingAt { .. })
    ));
    assert!(matches!(
        query::show(&store, &key, VersionSelector::Number(251)),
        Err(QueryError::NoSuchVersion { max: 250, .. })
    ));
}

#[test]
fn identical_snapshots_are_counted_not_stored_and_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path()).expect("open");
        let v1 = sg_item("sg-dup", "1", "2024-01-01T00:00:00Z", &[22], "OK");
        let same_later = sg_item("sg-dup", "1", "2024-01-02T00:00:00Z", &[22], "OK");
        let r = ingest(&store, &json!([v1, v1, same_later]));
        assert_eq!((r.new_versions, r.unchanged), (1, 2));
        // Re-delivering the whole document again is a no-op.
        let r = ingest(&store, &json!([v1, same_later]));
        assert_eq!((r.new_versions, r.unchanged), (0, 2));
        // Relationship order and key order inside the configuration are not changes.
        let mut reordered = sg_item("sg-dup", "1", "2024-01-03T00:00:00Z", &[22], "OK");
        reordered["configuration"] = serde_json::from_str(
            r#"{"ipPermissionsEgress": [], "ipPermissions": [{"toPort": 22, "fromPort": 22, "ipRanges": ["0.0.0.0/0"], "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipProtocol": "tcp"}], "groupName": "web", "groupId": "sg-dup"}"#,
        )
        .expect("json");
        assert_eq!(ingest(&store, &reordered).unchanged, 1);
        // A tag change is a change.
        let mut tagged = sg_item("sg-dup", "1", "2024-01-04T00:00:00Z", &[22], "OK");
        tagged["tags"] = json!({"env": "prod"});
        assert_eq!(ingest(&store, &tagged).new_versions, 1);
    }
    let store = Store::open(dir.path()).expect("reopen");
    let key = key(&store, "sg-dup");
    let state = store.latest_state(&key).expect("state").expect("exists");
    assert_eq!(state.version_count, 2);
    assert_eq!(state.latest.version, 2);
}

#[test]
fn late_items_take_their_place_in_time_without_becoming_latest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    ingest(
        &store,
        &sg_item("sg-late", "1", "2024-01-01T00:00:00Z", &[443], "OK"),
    );
    ingest(
        &store,
        &sg_item("sg-late", "1", "2024-01-03T00:00:00Z", &[443, 80, 22], "OK"),
    );
    // Arrives last, captured in between.
    let r = ingest(
        &store,
        &sg_item("sg-late", "1", "2024-01-02T00:00:00Z", &[443, 80], "OK"),
    );
    assert_eq!((r.new_versions, r.out_of_order), (1, 1));
    let key = key(&store, "sg-late");
    let latest = query::show(&store, &key, VersionSelector::Latest).expect("latest");
    assert_eq!(latest.version_number(), Some(2));
    let forward: Vec<u64> = store
        .history(
            &key,
            &HistoryQuery {
                order: HistoryOrder::Forward,
                limit: 10,
                ..Default::default()
            },
        )
        .expect("history")
        .items
        .iter()
        .filter_map(|i| i.version_number())
        .collect();
    assert_eq!(forward, vec![1, 3, 2]);

    // Default diff: latest (2) against the one before it in time (3): only port 22 appeared.
    let diff = query::diff(&store, &key, None, None).expect("diff");
    assert_eq!((diff.from_version, diff.to_version), (Some(3), 2));
    let paths: Vec<&String> = diff
        .configuration_item_diff
        .changed_properties
        .keys()
        .collect();
    assert_eq!(paths, vec!["Configuration.IpPermissions.2"]);
    assert_eq!(
        diff.configuration_item_diff.changed_properties["Configuration.IpPermissions.2"]
            .change_type,
        ChangeType::Create
    );

    // A late item equal to its predecessor or its successor adds nothing.
    let same_as_before = ingest(
        &store,
        &sg_item("sg-late", "1", "2024-01-01T12:00:00Z", &[443], "OK"),
    );
    let same_as_after = ingest(
        &store,
        &sg_item("sg-late", "1", "2024-01-02T12:00:00Z", &[443, 80, 22], "OK"),
    );
    assert_eq!((same_as_before.unchanged, same_as_after.unchanged), (1, 1));
    // Older than everything: a new first version.
    let first = ingest(
        &store,
        &sg_item("sg-late", "1", "2023-12-01T00:00:00Z", &[], "OK"),
    );
    assert_eq!((first.new_versions, first.out_of_order), (1, 1));
    let state = store.latest_state(&key).expect("state").expect("exists");
    assert_eq!((state.version_count, state.latest.version), (4, 2));
    assert_eq!(
        conftrail::model::format_time(
            &chrono::DateTime::from_timestamp_millis(state.first_time_ms).expect("ms")
        ),
        "2023-12-01T00:00:00.000Z"
    );
}

#[test]
fn deletions_are_versions_and_recreation_follows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    ingest(
        &store,
        &sg_item("sg-del", "1", "2024-01-01T00:00:00Z", &[22], "OK"),
    );
    let r = ingest(
        &store,
        &sg_item(
            "sg-del",
            "1",
            "2024-01-02T00:00:00Z",
            &[],
            "ResourceDeleted",
        ),
    );
    assert_eq!((r.deleted, r.new_versions), (1, 0));
    let again = ingest(
        &store,
        &sg_item(
            "sg-del",
            "1",
            "2024-01-02T06:00:00Z",
            &[],
            "ResourceDeleted",
        ),
    );
    assert_eq!(again.unchanged, 1);
    let key = key(&store, "sg-del");
    let listed: Vec<_> = query::resources(&store, Some(SG))
        .collect::<Result<_, _>>()
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].configuration_item_status, "ResourceDeleted");
    let diff = query::diff(&store, &key, None, None).expect("diff");
    assert_eq!(diff.configuration_item_diff.change_type, ChangeType::Delete);
    assert!(diff
        .configuration_item_diff
        .changed_properties
        .contains_key("Configuration"));
    let r = ingest(
        &store,
        &sg_item(
            "sg-del",
            "1",
            "2024-01-05T00:00:00Z",
            &[22],
            "ResourceDiscovered",
        ),
    );
    assert_eq!(r.new_versions, 1);
    let shown = query::show(&store, &key, VersionSelector::Latest).expect("show");
    assert_eq!(
        shown.configuration_item_status.as_str(),
        "ResourceDiscovered"
    );
    // Explicit from/to.
    let diff = query::diff(&store, &key, Some(1), Some(3)).expect("diff 1..3");
    assert_eq!(diff.configuration_item_diff.change_type, ChangeType::Update);
    assert_eq!(
        diff.configuration_item_diff
            .changed_properties
            .keys()
            .collect::<Vec<_>>(),
        vec!["ConfigurationItemStatus"]
    );
}

#[test]
fn the_same_id_in_two_accounts_needs_an_account() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    ingest(
        &store,
        &json!([
            sg_item("sg-shared", "111", "2024-01-01T00:00:00Z", &[22], "OK"),
            sg_item("sg-shared", "222", "2024-01-01T00:00:00Z", &[80], "OK"),
            sg_item("sg-shared0", "111", "2024-01-01T00:00:00Z", &[80], "OK"),
        ]),
    );
    let mut sel = ResourceSelector {
        resource_type: SG.into(),
        resource_id: "sg-shared".into(),
        ..Default::default()
    };
    let err = query::resolve(&store, &sel).expect_err("ambiguous");
    assert!(
        err.to_string().contains("111/us-east-1, 222/us-east-1"),
        "{err}"
    );
    sel.account_id = Some("222".into());
    assert_eq!(
        query::resolve(&store, &sel).expect("resolved").account_id,
        "222"
    );
    sel.resource_id = "sg-nope".into();
    assert!(matches!(
        query::resolve(&store, &sel),
        Err(QueryError::NotFound { .. })
    ));
}

#[test]
fn page_tokens_are_validated() {
    for bad in [
        "",
        "zz",
        "not-a-token-not-a-token-not-a-to",
        "00000000000000000000000000000000",
    ] {
        let err = PageToken::decode(bad).expect_err(bad);
        assert!(err.contains("invalid page token"), "{err}");
    }
}
