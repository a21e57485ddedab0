//! S3's answers about a bucket, mapped to configuration items, judged by the managed S3 rules
//! as AWS Config's own items for the same buckets are. The answers are in
//! `tests/data/describe/s3/` (each names the real item it matches, see the folder's README);
//! `src/ingest/describe/s3/tests.rs` compares the items themselves.

mod common;

use std::sync::Arc;

use common::repo;
use conftrail::ingest::describe::s3::{
    account_public_access_block_item, bucket_item, BucketDescription,
};
use conftrail::ingest::{parse_document, RecordOutcome};
use conftrail::model::{parse_timestamp_text, ConfigurationItem};
use conftrail::rules::managed::{ManagedRule, MANAGED_RULES};
use conftrail::rules::registry::inspect;
use conftrail::rules::{
    Compliance, Limits, Outcome, ResourceLookup, RuleCall, RuleEngine, RuleInput, RuleInstance,
    Trigger,
};
use serde_json::{json, Value};

fn read_json(path: &str) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The only item in a file of AWS Config's, as ingest reads it.
fn real_item(file: &str) -> ConfigurationItem {
    let path = repo(&format!("tests/data/realdata/config_items/{file}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut records = parse_document(&bytes);
    assert_eq!(records.len(), 1, "{file}");
    match records.remove(0).outcome {
        RecordOutcome::Item(item) => *item,
        other => panic!("{file}: {other:?}"),
    }
}

/// A [`BucketDescription`] written as JSON: the struct's members by name, `creation_date` as
/// text, null for `None`.
fn description(mut d: Value) -> BucketDescription {
    let mut take = |key: &str| {
        d.as_object_mut()
            .and_then(|o| o.remove(key))
            .unwrap_or_else(|| panic!("the description has no {key}"))
    };
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => panic!("expected text, found {other}"),
    };
    let optional = |v: Value| (!v.is_null()).then_some(v);
    BucketDescription {
        name: text(take("name")),
        creation_date: optional(take("creation_date"))
            .map(|t| parse_timestamp_text(&text(t)).expect("creation_date")),
        region: text(take("region")),
        account_id: text(take("account_id")),
        acl: take("acl"),
        policy: optional(take("policy")).map(text),
        policy_status: optional(take("policy_status")),
        public_access_block: optional(take("public_access_block")),
        encryption: optional(take("encryption")),
        versioning: take("versioning"),
        logging: take("logging"),
        tagging: optional(take("tagging")),
        ownership_controls: optional(take("ownership_controls")),
        lifecycle: optional(take("lifecycle")),
    }
}

/// Each described bucket, mapped, with AWS Config's item for it.
fn pairs() -> Vec<(String, ConfigurationItem, ConfigurationItem)> {
    let dir = repo("tests/data/describe/s3");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    files
        .into_iter()
        .map(|path| {
            let file = path.display().to_string();
            let mut fixture = read_json(&file);
            let aws = real_item(
                fixture["aws_config_item"]
                    .as_str()
                    .expect("aws_config_item"),
            );
            let mapped = bucket_item(
                description(fixture["description"].take()),
                chrono::Utc::now(),
            )
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .item;
            (file, mapped, aws)
        })
        .collect()
}

/// A managed rule, compiled once, answering `lookup` from `resources`.
struct Rule {
    engine: Arc<RuleEngine>,
    component: wasmtime::component::Component,
    name: String,
}

impl Rule {
    fn new(rule: &ManagedRule) -> Rule {
        let engine = RuleEngine::new().expect("engine");
        let inspected = inspect(&engine, None, rule.wasm).expect("rule loads");
        Rule {
            engine,
            component: inspected.component,
            name: inspected.metadata.name,
        }
    }

    /// The verdict and annotation; an error fails the test (neither item may be unreadable).
    fn verdict(
        &self,
        params: &str,
        item: &ConfigurationItem,
        resources: Vec<ConfigurationItem>,
    ) -> (Compliance, Option<String>) {
        let resources: Arc<dyn ResourceLookup> = Arc::new(resources);
        let mut instance =
            RuleInstance::new(&self.engine, &self.component, resources, Limits::default())
                .expect("instance");
        let report = instance.evaluate(
            &RuleCall {
                rule_name: &self.name,
                parameters: params,
                trigger: Trigger::Change,
                previous: None,
            },
            &RuleInput::from_item(item),
        );
        match report.outcome {
            Outcome::Verdict(v) => (v.compliance, v.annotation),
            Outcome::Error { reason, .. } => {
                panic!("{} on {}: {reason}", self.name, item.resource_id)
            }
        }
    }
}

/// The parameters each rule is run with: none, and those that change what it checks.
fn parameter_sets(rule: &str, bucket: &str) -> Vec<String> {
    let mut sets = vec!["{}".to_string()];
    match rule {
        "s3-bucket-versioning-enabled" => sets.push(r#"{"isMfaDeleteEnabled":"true"}"#.into()),
        "s3-bucket-level-public-access-prohibited" => {
            sets.push(json!({ "excludedPublicBuckets": bucket }).to_string())
        }
        _ => {}
    }
    sets
}

#[test]
fn every_managed_s3_rule_judges_mapped_buckets_as_aws_configs_items() {
    let rules: Vec<&ManagedRule> = MANAGED_RULES
        .iter()
        .filter(|r| r.name.starts_with("s3-"))
        .collect();
    assert_eq!(rules.len(), 5, "the managed S3 rules");
    let pairs = pairs();
    let mut seen = Vec::new();
    for managed in rules {
        let rule = Rule::new(managed);
        for (file, mapped, aws) in &pairs {
            for params in parameter_sets(managed.name, &aws.resource_id) {
                let theirs = rule.verdict(&params, aws, Vec::new());
                let mine = rule.verdict(&params, mapped, Vec::new());
                assert_eq!(mine, theirs, "{} {params} on {file}", managed.name);
                seen.push(theirs.0);
            }
        }
    }
    // The buckets between them give both answers (testing-99's ACL grants AllUsers Read).
    assert!(seen.contains(&Compliance::Compliant) && seen.contains(&Compliance::NonCompliant));
}

#[test]
fn mapped_account_settings_serve_the_bucket_level_rule_as_aws_configs_item() {
    let aws = real_item("rdk_example_ci/AWS_S3_AccountPublicAccessBlock.json");
    let answer = json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true,
        "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}});
    let mapped = account_public_access_block_item(
        &aws.account_id,
        &aws.aws_region,
        Some(answer),
        chrono::Utc::now(),
    )
    .expect("mapped")
    .item;
    let unset = account_public_access_block_item(
        &aws.account_id,
        &aws.aws_region,
        None,
        chrono::Utc::now(),
    )
    .expect("mapped")
    .item;
    let managed = MANAGED_RULES
        .iter()
        .find(|r| r.name == "s3-bucket-level-public-access-prohibited")
        .expect("the rule");
    let rule = Rule::new(managed);
    // A bucket of that account, without settings of its own.
    let mut fixture = read_json(&repo(
        "tests/data/describe/s3/rdk_mborch-test-bucket-config-item.json",
    ));
    let mut d = description(fixture["description"].take());
    d.account_id = aws.account_id.clone();
    let bucket = bucket_item(d, chrono::Utc::now()).expect("mapped").item;

    let with_theirs = rule.verdict("{}", &bucket, vec![aws]);
    assert_eq!(with_theirs.0, Compliance::Compliant);
    assert_eq!(rule.verdict("{}", &bucket, vec![mapped]), with_theirs);
    // Settings not set: as if AWS Config had recorded none.
    let without = rule.verdict("{}", &bucket, Vec::new());
    assert_eq!(without.0, Compliance::NonCompliant);
    assert_eq!(rule.verdict("{}", &bucket, vec![unset]), without);
}
