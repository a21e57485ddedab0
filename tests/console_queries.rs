//! The use cases behind the console's pages, on a real store: a resource's timeline read a
//! window at a time says exactly what the whole timeline says, and the inventory's filters and
//! pages find what they should.

use conftrail::app::overview::InventoryQuery;
use conftrail::app::App;
use conftrail::evaluator::SummaryState;
use conftrail::query::ResourceSelector;
use conftrail::store::Store;
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

fn group(id: &str, minute: i64, open_ports: &[u16], tags: Value) -> Value {
    let time = chrono::DateTime::from_timestamp(1_735_689_600 + minute * 60, 0).expect("time");
    let permissions: Vec<Value> = open_ports
        .iter()
        .map(|p| {
            json!({"ipProtocol": "tcp", "fromPort": p, "toPort": p,
                        "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [],
                        "prefixListIds": [], "userIdGroupPairs": []})
        })
        .collect();
    json!({
        "version": "1.3", "accountId": ACCOUNT, "awsRegion": "us-east-1",
        "configurationItemCaptureTime": conftrail::model::format_time(&time),
        "configurationItemStatus": "OK",
        "arn": format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{id}"),
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": id,
        "resourceName": format!("{id}-name"), "tags": tags,
        "configuration": {"groupId": id, "groupName": format!("{id}-name"), "ipPermissions": permissions,
            "ipPermissionsEgress": [], "vpcId": "vpc-1"},
        "supplementaryConfiguration": {}
    })
}

fn call(n: usize, second: i64, id: &str) -> Value {
    let time = chrono::DateTime::from_timestamp(1_735_689_600 + second, 0).expect("time");
    json!({
        "eventVersion": "1.08", "eventTime": conftrail::model::format_time(&time),
        "eventSource": "ec2.amazonaws.com",
        "eventName": if n.is_multiple_of(3) { "RevokeSecurityGroupIngress" } else { "AuthorizeSecurityGroupIngress" },
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
        "userIdentity": {"type": "IAMUser", "userName": format!("dev-{}", n % 4),
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/dev-{}", n % 4), "accountId": ACCOUNT},
        "requestParameters": {"groupId": id},
        "eventID": format!("00000000-0000-4000-8000-{n:012}"), "readOnly": false,
        "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT,
    })
}

fn ingest(app: &App, body: Value) {
    let report = app
        .ingest_bytes("test", body.to_string().as_bytes(), true)
        .expect("ingest");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

fn selector(id: &str) -> ResourceSelector {
    ResourceSelector {
        resource_type: "AWS::EC2::SecurityGroup".into(),
        resource_id: id.into(),
        account_id: None,
        region: None,
    }
}

#[test]
fn a_timeline_read_a_window_at_a_time_equals_the_whole_timeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::new(Store::open(dir.path()).expect("store")).expect("app");
    let id = "sg-0000000000000window";
    // 47 versions ten minutes apart, SSH opened and closed in turn; two versions share a minute.
    let mut items: Vec<Value> = (0..46)
        .map(|v| {
            let ports: &[u16] = if v % 2 == 0 { &[443] } else { &[443, 22] };
            group(id, v * 10, ports, json!({"team": "web"}))
        })
        .collect();
    items.push(group(id, 450, &[443, 8080], json!({"team": "web"})));
    ingest(&app, json!({ "configurationItems": items }));
    // Calls before, at and just after capture times (within the linker's clock skew), and after
    // the latest version (pending).
    let seconds = (0..47 * 3).map(|n| {
        let version = (n / 3) as i64;
        match n % 3 {
            0 => version * 600 - 30,
            1 => version * 600,
            _ => version * 600 + 3,
        }
    });
    let mut records: Vec<Value> = seconds.enumerate().map(|(n, s)| call(n, s, id)).collect();
    records.push(call(999, 46 * 600 + 300, id));
    ingest(&app, json!({ "Records": records }));

    let whole = app.timeline(&selector(id)).expect("timeline");
    let mut paged = Vec::new();
    let mut before: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = app
            .timeline_page(&selector(id), before.as_deref(), 20)
            .expect("page");
        if pages == 0 {
            assert_eq!(page.pending_api_calls, whole.pending_api_calls);
            assert!(!page.pending_api_calls.is_empty());
        } else {
            assert!(page.pending_api_calls.is_empty());
        }
        pages += 1;
        paged.extend(page.entries);
        match page.older {
            Some(token) => before = Some(token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    paged.reverse();
    let json = |entries: &[conftrail::timeline::TimelineEntry]| {
        serde_json::to_value(entries).expect("json")
    };
    assert_eq!(json(&paged), json(&whole.entries));
    let linked: usize = whole
        .entries
        .iter()
        .map(|e| match e {
            conftrail::timeline::TimelineEntry::Configuration(v) => v.api_calls.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(
        linked + whole.pending_api_calls.len(),
        47 * 3 + 1,
        "every call is linked or pending"
    );
    assert!(linked > 100, "{linked}");
    assert!(app.timeline_page(&selector(id), Some("zz"), 20).is_err());
}

#[test]
fn the_inventory_filters_and_pages_without_losing_a_resource() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::new(Store::open(dir.path()).expect("store")).expect("app");
    let items: Vec<Value> = (0..7)
        .map(|n| {
            let ports: &[u16] = if n < 3 { &[22] } else { &[] };
            let team = if n % 2 == 0 { "web" } else { "data" };
            group(&format!("sg-inv{n:02}"), n, ports, json!({"team": team}))
        })
        .collect();
    ingest(&app, json!({ "configurationItems": items }));
    let ids = |query: &InventoryQuery| -> Vec<String> {
        let mut found = Vec::new();
        let mut query = query.clone();
        loop {
            let page = app.inventory(&query).expect("inventory");
            assert!(page.rows.len() <= query.limit.max(1));
            found.extend(page.rows.iter().map(|r| r.entry.resource_id.clone()));
            match page.next {
                Some(next) => query.after = Some(next),
                None => return found,
            }
        }
    };
    let all = InventoryQuery {
        limit: 2,
        ..InventoryQuery::default()
    };
    assert_eq!(ids(&all).len(), 7, "pages of two cover everything once");
    let bad = InventoryQuery {
        compliance: Some(SummaryState::NonCompliant),
        limit: 2,
        ..InventoryQuery::default()
    };
    assert_eq!(ids(&bad), ["sg-inv00", "sg-inv01", "sg-inv02"]);
    let good = InventoryQuery {
        compliance: Some(SummaryState::Compliant),
        rule: Some("restricted-ssh".into()),
        limit: 50,
        ..InventoryQuery::default()
    };
    assert_eq!(ids(&good), ["sg-inv03", "sg-inv04", "sg-inv05", "sg-inv06"]);
    let tagged = InventoryQuery {
        tag: Some("team=data".into()),
        limit: 50,
        ..InventoryQuery::default()
    };
    assert_eq!(ids(&tagged), ["sg-inv01", "sg-inv03", "sg-inv05"]);
    let by_arn = InventoryQuery {
        text: Some(format!("{ACCOUNT}:security-group/sg-inv04")),
        limit: 50,
        ..InventoryQuery::default()
    };
    assert_eq!(ids(&by_arn), ["sg-inv04"]);
    let page = app
        .inventory(&InventoryQuery {
            resource_type: Some("AWS::EC2::SecurityGroup".into()),
            text: Some("SG-INV06-NAME".into()),
            limit: 50,
            ..InventoryQuery::default()
        })
        .expect("inventory");
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].compliance, SummaryState::Compliant);
    let failing = app
        .inventory(&InventoryQuery {
            text: Some("sg-inv00".into()),
            limit: 50,
            ..InventoryQuery::default()
        })
        .expect("inventory");
    assert!(failing.rows[0]
        .non_compliant_rules
        .contains(&"restricted-ssh".to_string()));
    assert_eq!(failing.rows[0].compliance, SummaryState::NonCompliant);
    assert!(app
        .inventory(&InventoryQuery {
            after: Some("not a token".into()),
            limit: 5,
            ..InventoryQuery::default()
        })
        .is_err());
}

#[test]
fn the_dashboard_counts_each_resource_once_in_its_worst_state_and_follows_a_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::new(Store::open(dir.path()).expect("store")).expect("app");
    let items: Vec<Value> = (0..5)
        .map(|n| {
            let ports: &[u16] = if n < 2 { &[22] } else { &[] };
            group(&format!("sg-dash{n}"), n, ports, json!({}))
        })
        .collect();
    ingest(&app, json!({ "configurationItems": items }));
    let before = app.dashboard(3).expect("dashboard");
    assert_eq!(before.compliance, SummaryState::NonCompliant);
    assert_eq!(before.resource_counts["NON_COMPLIANT"], 2);
    assert_eq!(before.resource_counts["COMPLIANT"], 3);
    assert_eq!(before.resources_recorded, 5);
    let ssh = before
        .rules
        .iter()
        .find(|r| r.rule_name == "restricted-ssh")
        .expect("restricted-ssh");
    assert_eq!(
        (ssh.resources.non_compliant, ssh.resources.compliant),
        (2, 3)
    );
    assert!(before
        .recent_verdicts
        .iter()
        .all(|v| v.compliance == conftrail::model::Compliance::NonCompliant));
    let failing_pairs = before.trend.last().expect("today").non_compliant;
    assert!(failing_pairs >= 2, "{failing_pairs}");

    // SSH closed on one group: it moves to compliant, and today's movement says so.
    ingest(
        &app,
        json!({ "configurationItems": [group("sg-dash0", 60, &[], json!({}))] }),
    );
    let after = app.dashboard(3).expect("dashboard");
    assert_eq!(after.resource_counts["NON_COMPLIANT"], 1);
    assert_eq!(after.resource_counts["COMPLIANT"], 4);
    let today = after.trend.last().expect("today");
    assert!(today.non_compliant < failing_pairs);
    assert!(today.left >= 1, "{today:?}");
    let page = app
        .inventory(&InventoryQuery {
            compliance: Some(SummaryState::NonCompliant),
            limit: 50,
            ..InventoryQuery::default()
        })
        .expect("inventory");
    let ids: Vec<&str> = page
        .rows
        .iter()
        .map(|r| r.entry.resource_id.as_str())
        .collect();
    assert_eq!(ids, ["sg-dash1"]);
}
