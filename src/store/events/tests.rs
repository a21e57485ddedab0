use super::*;
use crate::model::parse_timestamp_text;
use serde_json::json;

fn at(text: &str) -> Timestamp {
    parse_timestamp_text(text).unwrap()
}

fn event(id: &str, time: &str, name: &str, user: &str) -> StoredEvent {
    StoredEvent {
        event: ApiEvent {
            event_id: id.to_string(),
            event_time: at(time),
            event_source: "ec2.amazonaws.com".into(),
            event_name: name.into(),
            aws_region: "us-east-1".into(),
            account_id: "111122223333".into(),
            user_identity: UserIdentity {
                identity_type: Some("IAMUser".into()),
                arn: Some(format!("arn:aws:iam::111122223333:user/{user}")),
                user_name: Some(user.into()),
                ..UserIdentity::default()
            },
            username: user.into(),
            source_ip_address: Some("198.51.100.7".into()),
            user_agent: None,
            access_key_id: Some(format!("AKIA{user}")),
            error_code: None,
            error_message: None,
            read_only: name.starts_with("Describe"),
            event_type: Some("AwsApiCall".into()),
            request_id: None,
            resources: Vec::new(),
            record: json!({"eventID": id, "eventName": name}),
        },
        touched: vec![TouchedResource {
            resource_type: "AWS::EC2::SecurityGroup".into(),
            identifier: "sg-1".into(),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            effect: Effect::Modify(vec!["Configuration.IpPermissions".into()]),
        }],
    }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn ids(page: &EventPage) -> Vec<&str> {
    page.events
        .iter()
        .map(|e| e.event.event_id.as_str())
        .collect()
}

fn query(filters: &[(EventAttribute, &str)]) -> EventQuery {
    EventQuery {
        filters: filters.iter().map(|(a, v)| (*a, v.to_string())).collect(),
        limit: 50,
        ..EventQuery::default()
    }
}

fn sample(store: &Store) {
    let events = [
        event(
            "e1",
            "2024-05-01T10:00:00Z",
            "AuthorizeSecurityGroupIngress",
            "alice",
        ),
        event(
            "e2",
            "2024-05-01T11:00:00Z",
            "DescribeSecurityGroups",
            "alice",
        ),
        event(
            "e3",
            "2024-05-01T12:00:00Z",
            "RevokeSecurityGroupIngress",
            "bob",
        ),
        event(
            "e4",
            "2024-05-01T13:00:00Z",
            "AuthorizeSecurityGroupIngress",
            "bob",
        ),
        event(
            "e5",
            "2024-05-01T14:00:00Z",
            "AuthorizeSecurityGroupIngress",
            "alice",
        ),
    ];
    let writes = store.put_events(&events).unwrap();
    assert_eq!(writes.stored, 5);
}

#[test]
fn stores_once_per_event_id_and_round_trips() {
    let (_dir, store) = store();
    sample(&store);
    let again = [
        event(
            "e1",
            "2024-05-01T10:00:00Z",
            "AuthorizeSecurityGroupIngress",
            "alice",
        ),
        event("e6", "2024-05-01T15:00:00Z", "CreateTags", "carol"),
        event("e6", "2024-05-01T15:00:00Z", "CreateTags", "carol"),
    ];
    let writes = store.put_events(&again).unwrap();
    assert_eq!(
        writes,
        EventWrites {
            stored: 1,
            stored_positions: vec![1],
            duplicates: 2
        }
    );
    let e1 = store.event("e1").unwrap().unwrap();
    assert_eq!(
        e1,
        event(
            "e1",
            "2024-05-01T10:00:00Z",
            "AuthorizeSecurityGroupIngress",
            "alice"
        )
    );
    assert!(store.event("nope").unwrap().is_none());
}

#[test]
fn filters_combine_newest_first() {
    let (_dir, store) = store();
    sample(&store);
    use EventAttribute::*;
    let all = store.lookup_events(&query(&[])).unwrap();
    assert_eq!(ids(&all), ["e5", "e4", "e3", "e2", "e1"]);
    let alice = store.lookup_events(&query(&[(Username, "alice")])).unwrap();
    assert_eq!(ids(&alice), ["e5", "e2", "e1"]);
    let both = store
        .lookup_events(&query(&[
            (Username, "alice"),
            (EventName, "AuthorizeSecurityGroupIngress"),
        ]))
        .unwrap();
    assert_eq!(ids(&both), ["e5", "e1"]);
    // The user's ARN and access key find the same calls.
    let by_arn = store
        .lookup_events(&query(&[
            (Username, "arn:aws:iam::111122223333:user/bob"),
            (AccessKeyId, "AKIAbob"),
            (ResourceName, "sg-1"),
            (ResourceType, "AWS::EC2::SecurityGroup"),
            (ReadOnly, "false"),
            (EventSource, "ec2.amazonaws.com"),
        ]))
        .unwrap();
    assert_eq!(ids(&by_arn), ["e4", "e3"]);
    let read_only = store.lookup_events(&query(&[(ReadOnly, "true")])).unwrap();
    assert_eq!(ids(&read_only), ["e2"]);
    let none = store
        .lookup_events(&query(&[(Username, "alice"), (Username, "bob")]))
        .unwrap();
    assert!(none.events.is_empty());
    let mut ranged = query(&[(EventName, "AuthorizeSecurityGroupIngress")]);
    ranged.since = Some(at("2024-05-01T10:00:00.001Z"));
    ranged.until = Some(at("2024-05-01T13:00:00Z"));
    assert_eq!(ids(&store.lookup_events(&ranged).unwrap()), ["e4"]);
    let mut by_id = query(&[(Username, "bob")]);
    by_id.event_id = Some("e3".into());
    assert_eq!(ids(&store.lookup_events(&by_id).unwrap()), ["e3"]);
    by_id.event_id = Some("e1".into());
    assert!(store.lookup_events(&by_id).unwrap().events.is_empty());
}

#[test]
fn pages_follow_tokens_without_gaps_or_repeats() {
    let (_dir, store) = store();
    sample(&store);
    let mut q = query(&[(EventAttribute::EventSource, "ec2.amazonaws.com")]);
    q.limit = 2;
    let mut seen = Vec::new();
    loop {
        let page = store.lookup_events(&q).unwrap();
        seen.extend(ids(&page).iter().map(|s| s.to_string()));
        match page.next {
            Some(token) => {
                let text = token.encode();
                q.after = Some(EventPageToken::decode(&text).unwrap());
            }
            None => break,
        }
    }
    assert_eq!(seen, ["e5", "e4", "e3", "e2", "e1"]);
    assert!(EventPageToken::decode("e1.zz").is_err());
    assert!(EventPageToken::decode("garbage").is_err());
}

#[test]
fn resource_calls_are_successful_writes_in_time_order() {
    let (_dir, store) = store();
    sample(&store);
    let mut failed = event(
        "e9",
        "2024-05-01T12:30:00Z",
        "AuthorizeSecurityGroupIngress",
        "eve",
    );
    failed.event.error_code = Some("UnauthorizedOperation".into());
    let mut other_account = event(
        "e10",
        "2024-05-01T12:40:00Z",
        "AuthorizeSecurityGroupIngress",
        "eve",
    );
    other_account.touched[0].account_id = "444455556666".into();
    store.put_events(&[failed, other_account]).unwrap();
    let calls = store
        .calls_on_resource(
            "AWS::EC2::SecurityGroup",
            &["sg-1", "web"],
            "111122223333",
            "us-east-1",
            None,
            None,
        )
        .unwrap();
    let names: Vec<&str> = calls.iter().map(|c| c.event.event_id.as_str()).collect();
    assert_eq!(
        names,
        ["e1", "e3", "e4", "e5"],
        "read-only, failed and other-account calls are not links"
    );
    assert!(matches!(calls[0].effect, Effect::Modify(_)));
    let window = store
        .calls_on_resource(
            "AWS::EC2::SecurityGroup",
            &["sg-1"],
            "111122223333",
            "us-east-1",
            Some(at("2024-05-01T12:00:00Z").timestamp_millis()),
            Some(at("2024-05-01T13:00:00Z").timestamp_millis()),
        )
        .unwrap();
    assert_eq!(window.len(), 2);
}

#[test]
fn purge_removes_old_events_and_every_index_entry() {
    let (_dir, store) = store();
    sample(&store);
    let cutoff = at("2024-05-01T12:30:00Z");
    let going = store.events_before(cutoff).unwrap();
    assert_eq!(going.count, 3);
    let purged = store.purge_events_before(cutoff).unwrap();
    assert_eq!(purged, going, "the dry run counts what the purge deletes");
    assert!(purged.oldest <= purged.newest && purged.newest < Some(cutoff));
    assert_eq!(store.events_before(cutoff).unwrap().count, 0);
    assert_eq!(
        ids(&store.lookup_events(&query(&[])).unwrap()),
        ["e5", "e4"]
    );
    assert!(store.event("e1").unwrap().is_none());
    let alice = store
        .lookup_events(&query(&[(EventAttribute::Username, "alice")]))
        .unwrap();
    assert_eq!(ids(&alice), ["e5"]);
    // Nothing of e1..e3 is left behind in any index.
    let left: Vec<_> = store
        .events
        .range::<&[u8], _>(..)
        .map(|entry| entry.unwrap().0)
        .filter(|k| k.windows(2).any(|w| w == b"e1" || w == b"e2" || w == b"e3"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A purged event can be ingested again.
    let writes = store
        .put_events(&[event(
            "e1",
            "2024-05-01T10:00:00Z",
            "AuthorizeSecurityGroupIngress",
            "alice",
        )])
        .unwrap();
    assert_eq!(writes.stored, 1);
}

#[test]
fn segments_of_several_batches_in_one_hour_intersect_exactly() {
    let (_dir, store) = store();
    let all: Vec<StoredEvent> = (0..300)
        .map(|i| {
            let user = if i % 3 == 0 { "alice" } else { "bob" };
            let name = if i % 2 == 0 {
                "AuthorizeSecurityGroupIngress"
            } else {
                "CreateTags"
            };
            let time = format!("2024-05-01T10:{:02}:{:02}Z", i / 60, i % 60);
            event(&format!("ev{i:03}"), &time, name, user)
        })
        .collect();
    // Three batches, delivered out of order.
    for chunk in [&all[200..], &all[..100], &all[100..200]] {
        store.put_events(chunk).unwrap();
    }
    let mut q = query(&[
        (EventAttribute::Username, "alice"),
        (EventAttribute::EventName, "AuthorizeSecurityGroupIngress"),
    ]);
    q.limit = 7;
    let mut seen = Vec::new();
    loop {
        let page = store.lookup_events(&q).unwrap();
        seen.extend(ids(&page).iter().map(|s| s.to_string()));
        match page.next {
            Some(token) => q.after = Some(token),
            None => break,
        }
    }
    let expected: Vec<String> = (0..300)
        .rev()
        .filter(|i| i % 6 == 0)
        .map(|i| format!("ev{i:03}"))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        store.event("ev150").unwrap().unwrap().event.event_id,
        "ev150"
    );
}
