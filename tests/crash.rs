//! Killing `conftrail ingest` (SIGKILL, a real process) never leaves the store unopenable or
//! inconsistent, and never loses what an earlier completed ingest reported.

use conftrail::query;
use conftrail::store::{HistoryOrder, HistoryQuery, Store};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn write_items(dir: &Path, prefix: &str, files: usize, per_file: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for f in 0..files {
        let items: Vec<_> = (0..per_file)
            .map(|i| {
                let id = format!("sg-{prefix}-{:06}", f * per_file + i);
                json!({"configurationItemVersion": "1.3", "awsAccountId": "1", "awsRegion": "eu-west-1",
                       "configurationItemCaptureTime": "2024-02-01T00:00:00Z", "configurationItemStatus": "OK",
                       "resourceType": "AWS::EC2::SecurityGroup", "resourceId": id,
                       "configuration": {"groupId": id, "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                         "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}]}], "description": "x".repeat(600)}})
            })
            .collect();
        std::fs::write(
            dir.join(format!("{prefix}-{f:03}.json")),
            serde_json::to_vec(&items).expect("json"),
        )
        .expect("write");
    }
}

fn ingest(data: &Path, input: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(data)
        .arg("ingest")
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn conftrail")
}

/// Every resource's latest state agrees with its stored versions.
fn check_consistent(store: &Store) -> usize {
    let mut count = 0;
    for entry in store.resources(None) {
        let summary = entry.expect("resource entry decodes");
        let page = store
            .history(
                &summary.key,
                &HistoryQuery {
                    order: HistoryOrder::Reverse,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .expect("history readable");
        assert_eq!(
            page.items.len() as u64,
            summary.state.version_count,
            "{}",
            summary.key
        );
        assert_eq!(
            page.items[0].version_number(),
            Some(summary.state.latest.version),
            "{}",
            summary.key
        );
        count += 1;
    }
    count
}

#[test]
fn killed_ingests_leave_a_consistent_store_with_everything_reported_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let first = dir.path().join("first");
    let big = dir.path().join("big");
    write_items(&first, "a", 1, 300);
    write_items(&big, "b", 40, 500);

    let out = ingest(&data, &first)
        .wait_with_output()
        .expect("first ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("300 new versions"));

    // Kill at different points of the big ingest; every time the store must open and agree with itself.
    for delay_ms in [50, 300, 800, 1500] {
        let mut child = ingest(&data, &big);
        std::thread::sleep(Duration::from_millis(delay_ms));
        // The ingest may have finished already on a fast machine; killing then is a no-op.
        let _ = child.kill();
        let _ = child.wait();
        let store = Store::open(&data).expect("store opens after a kill");
        let resources = check_consistent(&store);
        assert!(resources >= 300, "{resources}");
        for i in 0..300 {
            let sel = query::ResourceSelector {
                resource_type: "AWS::EC2::SecurityGroup".into(),
                resource_id: format!("sg-a-{i:06}"),
                ..Default::default()
            };
            let key = query::resolve(&store, &sel).expect("acknowledged resource present");
            let item = query::show(&store, &key, query::VersionSelector::Latest)
                .expect("acknowledged item readable");
            assert_eq!(item.configuration["groupId"], format!("sg-a-{i:06}"));
        }
    }

    // Finishing the big ingest afterwards records exactly what is missing.
    let out = ingest(&data, &big)
        .wait_with_output()
        .expect("final ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(&data).expect("open");
    assert_eq!(check_consistent(&store), 300 + 40 * 500);
}
