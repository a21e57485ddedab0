//! The web console in a real browser (Debian's Chromium, headless, through chromedriver)
//! against a real `conftrail serve` holding the demo scenario: sign-in, the dashboard's live
//! update, inventory filters, a resource's timeline (versions, diff, linked caller, verdict
//! transitions), event search and CSV download, an admin's exception, and a read token that
//! sees no write control and is refused when it forces one. Screenshots of every page land in
//! `target/console-screenshots/`.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::Browser;
use common::server::{Server, ADMIN, READ};

const WEB_SG: &str = "sg-0d3m0web00000001";

/// The demo scenario's items and calls, without its remediation (so non-compliance stays).
fn scenario_server(data: &std::path::Path) -> Server {
    let server = Server::start(data);
    for file in [
        "01-baseline-items.json",
        "02-baseline-events.json",
        "03-changes-items.json",
        "04-changes-events.json",
        "05-late-events.json",
    ] {
        let path = format!("{}/examples/scenario/{file}", env!("CARGO_MANIFEST_DIR"));
        server.ingest(&std::fs::read_to_string(&path).expect("scenario file"));
    }
    server
}

async fn sign_in(browser: &Browser, server: &Server, token: &str) {
    browser
        .open(&format!("{}/", server.base), "input[name=token]")
        .await;
    browser.fill("input[name=token]", token).await;
    browser.click("form[action='/sign-in'] button").await;
    browser.wait_for("nav[aria-label=Main]").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_follows_a_change_from_the_dashboard_to_its_cause_and_exempts_it() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = scenario_server(data.path());
    let browser = Browser::start().await;
    let base = server.base.clone();

    // Not signed in: the console asks for a token, and refuses a wrong one.
    browser
        .open(&format!("{base}/inventory"), "input[name=token]")
        .await;
    browser.screenshot("sign-in").await;
    browser
        .fill("input[name=token]", "not-a-token-0123456789")
        .await;
    browser.click("form[action='/sign-in'] button").await;
    browser
        .wait_for_text("That token is not one this server knows.")
        .await;
    // The refusal is in the audit trail (written off the request's thread).
    let started = std::time::Instant::now();
    loop {
        let (code, audit) = server.request(ADMIN, "GET", "/v1/audit", None);
        assert_eq!(code, 200, "{audit}");
        if audit.contains("POST /sign-in") {
            assert!(audit.contains("unauthenticated"), "{audit}");
            break;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "no refusal recorded: {audit}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sign_in(&browser, &server, ADMIN).await;

    // The dashboard: rules by state, non-compliant first, and it updates live.
    browser.open(&format!("{base}/"), "#panels").await;
    browser.wait_for("#live-status.good").await;
    let rules = browser.text("#rules-h + table tbody tr").await;
    assert!(rules.contains("Non-compliant"), "first rule row: {rules}");
    assert!(browser
        .text("#panels")
        .await
        .contains("6 resources recorded"));
    browser.screenshot("dashboard").await;
    server.ingest(
        &serde_json::json!({
            "configurationItems": [{
                "configurationItemVersion": "1.3",
                "configurationItemCaptureTime": "2025-03-10T11:00:00Z",
                "configurationItemStatus": "ResourceDiscovered",
                "resourceType": "AWS::S3::Bucket",
                "resourceId": "acme-live-update",
                "awsAccountId": "444455556666",
                "awsRegion": "eu-west-1",
                "configuration": {"name": "acme-live-update"}
            }]
        })
        .to_string(),
    );
    browser.wait_for_text("7 resources recorded").await;

    // Inventory: non-compliant security groups only.
    browser
        .open(&format!("{base}/inventory"), "form.filters")
        .await;
    browser
        .client
        .execute(
            "document.querySelector('select[name=compliance]').value = 'NON_COMPLIANT';
             document.querySelector('select[name=type]').value = 'AWS::EC2::SecurityGroup';",
            vec![],
        )
        .await
        .expect("choose filters");
    browser.click("form.filters button[type=submit]").await;
    browser.wait_for_text("Resources on this page").await;
    let table = browser.text("main table").await;
    assert!(table.contains(WEB_SG), "{table}");
    assert!(table.contains("restricted-ssh"), "{table}");
    assert!(!table.contains("acme-demo-assets"), "{table}");
    browser.screenshot("inventory").await;

    // The resource page: versions newest first, changed paths, linked caller, transitions.
    browser
        .click(&format!("main table a[href*='{WEB_SG}']"))
        .await;
    browser.wait_for("ol.timeline").await;
    let timeline = browser.text("ol.timeline").await;
    assert!(timeline.contains("Version 2"), "{timeline}");
    assert!(
        timeline.contains("Configuration.IpPermissions.1"),
        "{timeline}"
    );
    assert!(
        timeline.contains("AuthorizeSecurityGroupIngress"),
        "{timeline}"
    );
    assert!(
        timeline.contains("dev-alice"),
        "the caller's name: {timeline}"
    );
    assert!(timeline.contains("Likely cause"), "{timeline}");
    assert!(
        timeline.contains("Compliant → ✗ Non-compliant"),
        "a verdict transition: {timeline}"
    );
    assert!(timeline.contains("Port 22 (SSH) is open"), "{timeline}");
    let version_2 = browser.text("ol.timeline li.configuration").await;
    assert!(
        version_2.starts_with("CONFIGURATION Version 2"),
        "{version_2}"
    );
    // A version's JSON, to copy.
    browser
        .click("li.configuration button[hx-get^='/resource/version']")
        .await;
    browser.wait_for("#json-2").await;
    let json = browser.text("#diff-2").await;
    assert!(json.contains("Copy JSON of version 2"), "{json}");
    assert!(
        json.contains("\"resourceId\": \"sg-0d3m0web00000001\""),
        "{json}"
    );

    // A linked call opens its request and full record.
    browser
        .click("li.configuration .call details summary")
        .await;
    browser.wait_for_text("Full record").await;
    let record = browser.text("li.configuration .call details").await;
    assert!(
        record.contains("\"groupId\": \"sg-0d3m0web00000001\""),
        "{record}"
    );
    browser
        .click("li.configuration button[hx-get^='/resource/diff']")
        .await;
    browser.wait_for("#diff-2 table.diff tr.add").await;
    let diff = browser.text("#diff-2").await;
    assert!(
        diff.contains("\"ToPort\": 22") || diff.contains("\"toPort\": 22"),
        "{diff}"
    );
    browser.click("#diff-2 button[hx-get*='mode=split']").await;
    browser.wait_for("#diff-2 table.diff td.add").await;
    browser
        .client
        .execute(
            "document.querySelector('#diff-2').scrollIntoView();",
            vec![],
        )
        .await
        .expect("scroll");
    browser.screenshot("resource-diff").await;
    browser
        .client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll");
    browser.screenshot("resource").await;

    // Keyboard: the first Tab reaches the skip link, the next ones the navigation, with a
    // visible focus outline.
    let resource_url = browser.client.current_url().await.expect("url");
    browser.open(resource_url.as_str(), "ol.timeline").await;
    let body = browser
        .client
        .find(fantoccini::Locator::Css("body"))
        .await
        .expect("body");
    body.send_keys("\u{e004}").await.expect("tab");
    let active = browser
        .client
        .execute(
            "return [document.activeElement.textContent.trim(),
                     getComputedStyle(document.activeElement).outlineStyle]",
            vec![],
        )
        .await
        .expect("active element");
    assert_eq!(active, serde_json::json!(["Skip to content", "solid"]));

    // A narrow window: the page reflows instead of scrolling sideways.
    browser
        .client
        .set_window_size(420, 800)
        .await
        .expect("narrow window");
    let overflow = browser
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .expect("scroll width");
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "sideways scroll: {overflow}"
    );
    browser.screenshot("resource-narrow").await;
    browser
        .client
        .set_window_size(1280, 800)
        .await
        .expect("window size");

    // As admin, an exception, then seen on the timeline.
    browser
        .client
        .execute(
            "document.querySelector('form[action=\"/remediation/exceptions\"] select[name=rule]').value = 'restricted-ssh';",
            vec![],
        )
        .await
        .expect("choose rule");
    browser
        .fill(
            "form[action='/remediation/exceptions'] input[name=reason]",
            "bastion access during the migration",
        )
        .await;
    browser
        .click("form[action='/remediation/exceptions'] button")
        .await;
    browser.wait_for("li.exception").await;
    let exception = browser.text("li.exception").await;
    assert!(exception.contains("restricted-ssh"), "{exception}");
    assert!(
        exception.contains("bastion access during the migration"),
        "{exception}"
    );
    assert!(exception.contains("Active"), "{exception}");

    // Bad input is an error page that names it.
    browser
        .open(&format!("{base}/inventory?compliance=bogus"), "h1")
        .await;
    assert_eq!(browser.text("h1").await, "400 Bad Request");
    assert!(browser.text("main").await.contains("compliance: \"bogus\""));
    browser
        .open(&format!("{base}/inventory?after=garbage"), "h1")
        .await;
    assert!(browser.text("main").await.contains("after: not a token"));

    // Event history: read-only calls hidden, a search, a record, the CSV download.
    browser
        .open(&format!("{base}/events"), "form.filters")
        .await;
    let events = browser.text("main table").await;
    assert!(
        !events.contains("DescribeSecurityGroups"),
        "read-only shown: {events}"
    );
    browser
        .fill("input[name=eventName]", "PutBucketPolicy")
        .await;
    browser.click("form.filters button[type=submit]").await;
    browser.wait_for_text("contractor-bob").await;
    let found = browser.text("main table tbody").await;
    assert_eq!(found.matches("PutBucketPolicy").count(), 1, "{found}");
    browser.click("main table tbody details summary").await;
    browser.wait_for_text("PublicReadGetObject").await;
    browser.screenshot("events").await;
    browser.click("a[download='events.csv']").await;
    let csv = std::fs::read_to_string(browser.downloaded(".csv").await).expect("csv");
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .is_some_and(|h| h.starts_with("Event ID,Event time,User name,Event name")));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(rows[0].contains("PutBucketPolicy") && rows[0].contains("contractor-bob"));

    // The rules and remediation pages, for the screenshots.
    browser.open(&format!("{base}/rules"), "main table").await;
    browser.screenshot("rules").await;
    browser.open(&format!("{base}/remediation"), "main").await;
    browser
        .wait_for_text("bastion access during the migration")
        .await;
    browser.screenshot("remediation").await;

    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_token_sees_no_write_control_and_a_forced_write_is_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = scenario_server(data.path());
    let browser = Browser::start().await;
    sign_in(&browser, &server, READ).await;
    let resource = format!(
        "{}/resource?type=AWS::EC2::SecurityGroup&id={WEB_SG}",
        server.base
    );
    browser.open(&resource, "ol.timeline").await;
    let forms = browser
        .client
        .execute(
            "return document.querySelectorAll('form[method=post]:not([action=\"/sign-out\"])').length",
            vec![],
        )
        .await
        .expect("count forms");
    assert_eq!(
        forms,
        serde_json::json!(0),
        "write forms offered to a reader"
    );
    assert!(browser.text("header").await.contains("read"));
    browser.screenshot("resource-read-only").await;

    // Forced anyway, with the session's own CSRF secret: refused, and nothing recorded.
    let status = browser
        .client
        .execute_async(
            "const done = arguments[0];
             const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
             const body = new URLSearchParams({csrf, type: 'AWS::EC2::SecurityGroup',
                 id: 'sg-0d3m0web00000001', rule: 'restricted-ssh', reason: 'forced'});
             fetch('/remediation/exceptions', {method: 'POST', body}).then(r => done(r.status));",
            vec![],
        )
        .await
        .expect("forced post");
    assert_eq!(status, serde_json::json!(403));
    let (code, exceptions) = server.request(ADMIN, "GET", "/v1/remediation/exceptions", None);
    assert_eq!(code, 200);
    assert!(!exceptions.contains("forced"), "{exceptions}");

    // The session reads through the API as well (the CSV download), but never writes there.
    let status = browser
        .client
        .execute_async(
            "const done = arguments[0];
             Promise.all([
               fetch('/v1/events?format=csv').then(r => r.status),
               fetch('/v1/rules/restricted-ssh', {method: 'PATCH', body: '{\"enabled\":false}',
                     headers: {'Content-Type': 'application/json'}}).then(r => r.status),
             ]).then(done);",
            vec![],
        )
        .await
        .expect("api calls");
    assert_eq!(status, serde_json::json!([200, 401]));

    // Signing out ends the session.
    browser.click("form[action='/sign-out'] button").await;
    browser.wait_for("input[name=token]").await;
    browser.open(&resource, "input[name=token]").await;
    browser.close().await;
}
