//! The remediation call carries what a fixer needs to act: the judged configuration item, the
//! API calls linked to the change that made it non-compliant, and where the resource is in the
//! API. A real webhook receiver on 127.0.0.1, the `conftrail` binary, then `serve` to follow
//! the links.

mod common;

use std::time::Duration;

use common::server::{Server, READ};
use common::{conftrail, examples, json, ok_stdout};

const RULE: &str = "s3-bucket-public-read-prohibited";

#[test]
fn the_action_gets_the_item_the_calls_that_caused_it_and_links() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    ok_stdout(&conftrail(&data, &["ingest", &examples()]));
    let (url, received) = common::receiver::start(|_| 200);
    ok_stdout(&conftrail(
        &data,
        &[
            "remediation",
            "set",
            RULE,
            "--action",
            "webhook",
            "--url",
            &url,
        ],
    ));
    // Version 2 of the bucket was made public by bob's PutBucketAcl (examples/data).
    let run = json(&conftrail(
        &data,
        &[
            "remediation",
            "run",
            RULE,
            "AWS::S3::Bucket",
            "acme-invoices",
            "--json",
        ],
    ));
    assert_eq!(run["job"]["state"], "succeeded", "{run}");
    let document = received
        .recv_timeout(Duration::from_secs(10))
        .expect("the webhook was called")
        .json();

    assert_eq!(document["configurationVersion"], 2, "{document}");
    let item = &document["configurationItem"];
    assert_eq!(item["resourceId"], "acme-invoices", "{document}");
    assert_eq!(item["conftrail"]["version"], 2, "{document}");
    assert!(
        item["supplementaryConfiguration"]["AccessControlList"].is_object(),
        "{item}"
    );

    let calls = document["apiCalls"].as_array().expect("apiCalls");
    let cause = calls
        .iter()
        .find(|c| c["likelyCause"] == true)
        .expect("a likely cause");
    assert_eq!(cause["eventName"], "PutBucketAcl", "{cause}");
    assert_eq!(cause["username"], "bob", "{cause}");
    assert_eq!(cause["sourceIPAddress"], "198.51.100.91", "{cause}");

    // The links lead to the resource and its timeline on a server holding this store.
    let links = &document["links"];
    let resource = links["resource"].as_str().expect("resource link");
    assert_eq!(
        resource,
        "/v1/resources/AWS::S3::Bucket/acme-invoices?account=111122223333&region=us-east-1"
    );
    let server = Server::start(&data);
    for link in [resource, links["timeline"].as_str().unwrap_or_default()] {
        let text = ureq::get(&format!("{}{link}", server.base))
            .header("Authorization", &format!("Bearer {READ}"))
            .call()
            .expect("the link answers")
            .body_mut()
            .read_to_string()
            .expect("body");
        let answer: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert!(
            answer.to_string().contains("acme-invoices"),
            "{link}: {answer}"
        );
    }
    let job = links["job"].as_str().expect("job link");
    assert_eq!(job, format!("/v1/remediation/jobs/{}", run["job"]["id"]));
    server.stop();
}
