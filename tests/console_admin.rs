//! The console's rules and remediation pages end to end: a real `conftrail serve` over HTTP, a
//! security group that the managed rule `restricted-ssh` judges NON_COMPLIANT, and an admin
//! and a reader signed in with session cookies, posting forms as a browser does.

mod common;

use common::server::{Server, ADMIN, READ};
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
const SG: &str = "sg-0c0501e0000000001";
const RULE: &str = "restricted-ssh";

/// A security group open to the world on SSH.
fn open_ssh_group() -> Value {
    json!({
        "configurationItemVersion": "1.3", "awsAccountId": ACCOUNT,
        "configurationItemCaptureTime": "2026-01-05T10:00:00.000Z",
        "configurationItemStatus": "OK", "resourceType": "AWS::EC2::SecurityGroup", "resourceId": SG,
        "resourceName": "bastion", "awsRegion": REGION, "availabilityZone": "Not Applicable",
        "ARN": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{SG}"),
        "tags": {}, "relatedEvents": [], "relationships": [],
        "configuration": {"groupId": SG, "groupName": "bastion", "description": "bastion", "vpcId": "vpc-1",
            "ownerId": ACCOUNT, "ipPermissionsEgress": [], "tags": [],
            "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ["0.0.0.0/0"],
                "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []}]},
        "supplementaryConfiguration": {}
    })
}

/// An answer: status, `Location`, body.
struct Answer {
    status: u16,
    location: String,
    body: String,
}

/// A browser of the console: one session cookie, redirects not followed.
struct Browser {
    base: String,
    agent: ureq::Agent,
    cookie: String,
}

impl Browser {
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into()
    }

    /// Signs in with `token`: the sign-in form's 303 and its session cookie.
    fn sign_in(server: &Server, token: &str) -> Browser {
        let agent = Browser::agent();
        let mut response = agent
            .post(format!("{}/sign-in", server.base))
            .content_type("application/x-www-form-urlencoded")
            .send(form(&[("token", token), ("next", "/rules")]))
            .expect("sign in");
        let status = response.status().as_u16();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("conftrail_session="))
            .and_then(|v| v.split(';').next())
            .map(|id| format!("conftrail_session={id}"));
        let body = response.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 303, "sign-in: {body}");
        assert_eq!(
            response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some("/rules")
        );
        Browser {
            base: server.base.clone(),
            agent,
            cookie: cookie.expect("a session cookie"),
        }
    }

    fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.body_mut().read_to_string().expect("body");
        Answer {
            status,
            location,
            body,
        }
    }

    fn get(&self, path: &str) -> Answer {
        Browser::answer(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .call()
                .expect("GET"),
        )
    }

    /// A page that must be there: its HTML.
    fn page(&self, path: &str) -> String {
        let answer = self.get(path);
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        answer.body
    }

    /// POSTs a form from `origin` (the console's own when none).
    fn post_from(&self, origin: Option<&str>, path: &str, fields: &[(&str, &str)]) -> Answer {
        let origin = origin.map_or_else(|| self.base.clone(), str::to_string);
        Browser::answer(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .header("Origin", &origin)
                .content_type("application/x-www-form-urlencoded")
                .send(form(fields))
                .expect("POST"),
        )
    }

    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post_from(None, path, fields)
    }
}

fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).expect("form")
}

/// The CSRF secret the page's forms carry.
fn csrf(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .unwrap_or_else(|| panic!("no csrf field in:\n{page}"))
        + r#"name="csrf" value=""#.len();
    let secret = &page[at..at + page[at..].find('"').expect("end of value")];
    assert_eq!(secret.len(), 64, "{secret}");
    secret.to_string()
}

/// The table rows of a page.
fn rows(page: &str) -> Vec<&str> {
    page.split("<tr>")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap_or(r))
        .collect()
}

/// The one row containing `needle`.
fn row<'a>(page: &'a str, needle: &str) -> &'a str {
    let found: Vec<&str> = rows(page)
        .into_iter()
        .filter(|r| r.contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "rows with {needle:?}: {found:#?}");
    found[0]
}

fn rule_enabled(server: &Server) -> bool {
    let (status, rule) = server.request(ADMIN, "GET", &format!("/v1/rules/{RULE}"), None);
    assert_eq!(status, 200, "{rule}");
    let rule: Value = serde_json::from_str(&rule).expect("json");
    rule["enabled"].as_bool().expect("enabled")
}

const NON_COMPLIANT: &str = r#"<span aria-hidden="true">✗</span> Non-compliant"#;

#[test]
fn admins_manage_rules_and_remediation_from_the_console_and_readers_cannot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&tmp.path().join("data"));
    server.ingest(&open_ssh_group().to_string());
    server.wait_json(
        &format!("/v1/compliance?rule={RULE}"),
        "restricted-ssh judges the open group",
        |answer| {
            answer["verdicts"].as_array().is_some_and(|v| {
                v.iter()
                    .any(|v| v["resourceId"] == SG && v["compliance"] == "NON_COMPLIANT")
            })
        },
    );
    // A webhook nobody answers: jobs run and fail, which is all the page needs to show.
    let (status, body) = server.request(
        ADMIN,
        "PUT",
        &format!("/v1/remediation/configurations/{RULE}"),
        Some(r#"{"action": "webhook", "url": "http://127.0.0.1:9/fix", "max_attempts": 1}"#),
    );
    assert_eq!(status, 200, "{body}");

    // Not signed in: sent to sign-in, then back.
    let anonymous = Browser::agent()
        .get(format!("{}/rules", server.base))
        .call()
        .expect("GET");
    assert_eq!(anonymous.status().as_u16(), 303);
    assert_eq!(
        anonymous
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/sign-in?next=%2Frules")
    );

    let admin = Browser::sign_in(&server, ADMIN);

    // The rules list: the rule is there, non-compliant, and non-compliant rules come first.
    let rules = admin.page("/rules");
    let ssh = row(&rules, &format!(r#"href="/rules/{RULE}""#));
    assert!(ssh.contains(NON_COMPLIANT), "{ssh}");
    assert!(ssh.contains("Enabled"), "{ssh}");
    assert!(ssh.contains("AWS::EC2::SecurityGroup"), "{ssh}");
    assert!(
        ssh.contains(r#"<td class="num">1</td>"#),
        "one non-compliant resource: {ssh}"
    );
    let states: Vec<bool> = rows(&rules)
        .iter()
        .filter(|r| r.contains(r#"href="/rules/"#))
        .map(|r| r.contains(NON_COMPLIANT))
        .collect();
    assert!(states.len() > 5, "every managed rule is listed: {states:?}");
    assert!(
        states.windows(2).all(|w| w[0] || !w[1]),
        "non-compliant rules first: {states:?}"
    );

    // The rule's page lists the resource, linked, with its verdict and annotation.
    let page = admin.page(&format!("/rules/{RULE}"));
    let resource = row(&page, SG);
    assert!(resource.contains(NON_COMPLIANT), "{resource}");
    // Askama writes `&` in attributes as `&#38;`.
    assert!(
        resource.replace("&#38;", "&").contains(&format!(
            r#"href="/resource?type=AWS%3A%3AEC2%3A%3ASecurityGroup&id={SG}&account={ACCOUNT}&region={REGION}""#
        )),
        "{resource}"
    );
    assert!(
        resource.contains("Port 22 (SSH) is open to 0.0.0.0/0"),
        "the annotation: {resource}"
    );
    assert!(resource.contains("<time datetime="), "{resource}");
    assert!(
        page.contains(&format!(r#"action="/rules/{RULE}/settings""#)),
        "{page}"
    );
    assert!(page.contains(&format!(r#"action="/rules/{RULE}/evaluate""#)));
    let secret = csrf(&page);

    // Parameters that are not JSON: 400 naming the field; nothing changes.
    let bad = admin.post(
        &format!("/rules/{RULE}/settings"),
        &[("csrf", &secret), ("parameters", "{not json")],
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("parameters: not valid JSON"),
        "{}",
        bad.body
    );

    // Disable: 303 back to the rule's page with a notice; the API agrees.
    let disabled = admin.post(
        &format!("/rules/{RULE}/settings"),
        &[("csrf", &secret), ("enabled", "false")],
    );
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    assert_eq!(disabled.location, format!("/rules/{RULE}?done=disabled"));
    let page = admin.page(&disabled.location);
    assert!(
        page.contains(r#"<span aria-hidden="true">○</span> Disabled"#),
        "{page}"
    );
    assert!(
        page.contains(r#"class="notice" role="status">The rule is disabled"#),
        "{page}"
    );
    assert!(page.contains(">Enable</button>"), "now offers to enable it");
    assert!(!rule_enabled(&server));

    // Without the CSRF field, or from another site: refused, nothing changes.
    let no_csrf = admin.post(&format!("/rules/{RULE}/settings"), &[("enabled", "true")]);
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
    assert!(
        no_csrf.body.contains("CSRF secret is missing"),
        "{}",
        no_csrf.body
    );
    let cross_site = admin.post_from(
        Some("http://evil.example"),
        &format!("/rules/{RULE}/settings"),
        &[("csrf", &secret), ("enabled", "true")],
    );
    assert_eq!(cross_site.status, 403, "{}", cross_site.body);
    assert!(
        cross_site.body.contains("from another site"),
        "{}",
        cross_site.body
    );
    assert!(!rule_enabled(&server));

    // A reader sees the rule and its resources, but no write controls, and cannot post.
    let reader = Browser::sign_in(&server, READ);
    let page = reader.page(&format!("/rules/{RULE}"));
    assert!(row(&page, SG).contains(NON_COMPLIANT));
    assert!(
        !page.split("<form").skip(1).any(|f| f
            .split('>')
            .next()
            .unwrap_or("")
            .contains("/settings")),
        "no settings form for a reader: {page}"
    );
    assert!(!page.contains("/evaluate"), "{page}");
    let reader_secret = csrf(&page); // the sign-out form's
    let forced = reader.post(
        &format!("/rules/{RULE}/settings"),
        &[("csrf", &reader_secret), ("enabled", "true")],
    );
    assert_eq!(forced.status, 403, "{}", forced.body);
    assert!(
        forced.body.contains("needs the admin role"),
        "{}",
        forced.body
    );
    assert!(!rule_enabled(&server));
    let remediation = reader.page("/remediation");
    assert!(!remediation.contains(r#"action="/remediation/run""#));
    assert!(!remediation.contains(r#"action="/remediation/exceptions""#));

    // Enable again, then evaluate now: the notice gives the counts.
    let enabled = admin.post(
        &format!("/rules/{RULE}/settings"),
        &[("csrf", &secret), ("enabled", "true")],
    );
    assert_eq!(enabled.status, 303, "{}", enabled.body);
    assert!(rule_enabled(&server));
    let evaluated = admin.post(&format!("/rules/{RULE}/evaluate"), &[("csrf", &secret)]);
    assert_eq!(evaluated.status, 303, "{}", evaluated.body);
    assert!(
        evaluated
            .location
            .starts_with(&format!("/rules/{RULE}?done=evaluated")),
        "{}",
        evaluated.location
    );
    let page = admin.page(&evaluated.location);
    assert!(
        page.contains("Evaluated now: 1 evaluations, 1 non-compliant, 0 errors."),
        "{page}"
    );

    // Run now: a manual job for the group, listed with its resource and origin.
    let remediation = admin.page("/remediation");
    let config = row(&remediation, "http://127.0.0.1:9/fix");
    assert!(
        config.contains("webhook") && config.contains(RULE),
        "{config}"
    );
    let target = [
        ("csrf", secret.as_str()),
        ("rule", RULE),
        ("type", "AWS::EC2::SecurityGroup"),
        ("id", SG),
        ("account", ""),
        ("region", ""),
    ];
    let run = admin.post("/remediation/run", &target);
    assert_eq!(run.status, 303, "{}", run.body);
    assert!(
        run.location.starts_with("/remediation?done=queued&job="),
        "{}",
        run.location
    );
    let remediation = admin.page(&run.location);
    assert!(
        remediation.contains("Remediation queued (job "),
        "{remediation}"
    );
    let job = row(&remediation, "(manual)");
    assert!(job.contains(SG) && job.contains(RULE), "{job}");
    let filtered = admin.page("/remediation?state=cancelled");
    assert!(
        filtered.contains("No job matches these filters."),
        "{filtered}"
    );
    let bad_state = admin.get("/remediation?state=sleeping");
    assert_eq!(bad_state.status, 400);
    assert!(
        bad_state.body.contains("state: unknown job state"),
        "{}",
        bad_state.body
    );

    // An exception: listed with its reason, expiry and state; then removed.
    let mut fields = target.to_vec();
    fields.extend([
        ("reason", "bastion kept open for the migration"),
        ("expires", "7d"),
    ]);
    let added = admin.post("/remediation/exceptions", &fields);
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(added.location, "/remediation?done=exception-added");
    let remediation = admin.page(&added.location);
    assert!(remediation.contains("Exception added"), "{remediation}");
    let exception = row(&remediation, "bastion kept open for the migration");
    assert!(
        exception.contains(SG) && exception.contains(RULE),
        "{exception}"
    );
    assert!(
        exception.contains(r#"<span aria-hidden="true">●</span> Active"#),
        "{exception}"
    );
    assert!(
        exception.contains("<time datetime="),
        "expires in 7 days: {exception}"
    );
    let (_, listed) = server.request(READ, "GET", "/v1/remediation/exceptions", None);
    assert!(
        listed.contains("bastion kept open for the migration"),
        "{listed}"
    );
    let no_reason = admin.post("/remediation/exceptions", &target);
    assert_eq!(no_reason.status, 400);
    assert!(no_reason.body.contains("reason:"), "{}", no_reason.body);
    let removed = admin.post("/remediation/exceptions/remove", &target);
    assert_eq!(removed.status, 303, "{}", removed.body);
    let remediation = admin.page(&removed.location);
    assert!(remediation.contains("Exception removed."), "{remediation}");
    assert!(!remediation.contains("bastion kept open for the migration"));

    server.stop();
}
