//! `s3-bucket-level-public-access-prohibited`: a bucket is NON_COMPLIANT unless all four Block
//! Public Access settings (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
//! RestrictPublicBuckets) are on, each either for the bucket
//! (`supplementaryConfiguration.PublicAccessBlockConfiguration`) or for the whole account
//! (`lookup("AWS::S3::AccountPublicAccessBlock", <account>)`). Buckets named in
//! `excludedPublicBuckets` (comma-separated) are COMPLIANT.

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::s3::EffectiveBlock;

pub struct S3BucketLevelPublicAccessProhibited;

impl Rule for S3BucketLevelPublicAccessProhibited {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::S3::Bucket"];

    fn metadata() -> Metadata {
        Metadata::new(
            "s3-bucket-level-public-access-prohibited",
            "1.0.0",
            "Checks that S3 Block Public Access is fully on for each bucket (bucket or account settings), except for excluded buckets.",
        )
        .parameter(Parameter::optional("excludedPublicBuckets", "Names of buckets allowed to be public, comma-separated."))
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let name = item.display_name();
        if ctx
            .param_csv("excludedPublicBuckets")
            .iter()
            .any(|b| *b == name || *b == item.resource_id())
        {
            return Ok(Evaluation::compliant_because(format!(
                "Bucket {name} is listed in excludedPublicBuckets."
            )));
        }
        let block = EffectiveBlock::of(item)?;
        let off = block.combined().disabled_settings();
        if off.is_empty() {
            return Ok(Evaluation::compliant());
        }
        let scope = if block.account.is_some() {
            "off at both bucket and account level"
        } else {
            "off for this bucket (no account-level settings recorded)"
        };
        Ok(Evaluation::non_compliant(format!(
            "Block Public Access settings {scope}: {}.",
            off.join(", ")
        )))
    }
}

conftrail_rule_sdk::export_rule!(S3BucketLevelPublicAccessProhibited);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::Evaluation;

    use super::S3BucketLevelPublicAccessProhibited as Rule;

    fn bucket(supplementary: &str) -> conftrail_rule_sdk::Item {
        item_from_json(&format!(
            r#"{{"resourceType":"AWS::S3::Bucket","resourceId":"my-bucket","resourceName":"my-bucket","awsAccountId":"123456789012",
                "configuration":{{"name":"my-bucket"}},"supplementaryConfiguration":{supplementary}}}"#
        ))
        .unwrap()
    }

    const ALL_ON: &str = r#"{"PublicAccessBlockConfiguration":{"blockPublicAcls":true,"ignorePublicAcls":true,"blockPublicPolicy":true,"restrictPublicBuckets":true}}"#;

    #[test]
    fn bucket_settings() {
        testing::clear_lookups();
        let e = testing::evaluate::<Rule>(&context(&[]), &bucket(ALL_ON)).unwrap();
        assert_eq!(e, Evaluation::compliant());
        let partial = ALL_ON.replace(
            r#""blockPublicPolicy":true"#,
            r#""blockPublicPolicy":false"#,
        );
        let e = testing::evaluate::<Rule>(&context(&[]), &bucket(&partial)).unwrap();
        assert_eq!(e.annotation(), "Block Public Access settings off for this bucket (no account-level settings recorded): BlockPublicPolicy.");
        let e = testing::evaluate::<Rule>(&context(&[]), &bucket("{}")).unwrap();
        assert_eq!(
            e.annotation(),
            "Block Public Access settings off for this bucket (no account-level settings recorded): BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets."
        );
    }

    #[test]
    fn incomplete_settings_are_an_error() {
        testing::clear_lookups();
        // absent: not configured (AWS Config leaves it out then)
        let e = testing::evaluate::<Rule>(&context(&[]), &bucket("{}")).unwrap();
        assert_eq!(e.compliance, conftrail_rule_sdk::Compliance::NonCompliant);
        // recorded, but a setting is missing: it cannot be told off from unseen
        let err = testing::evaluate::<Rule>(
            &context(&[]),
            &bucket(r#"{"PublicAccessBlockConfiguration":{"blockPublicAcls":true,"ignorePublicAcls":true,"blockPublicPolicy":true}}"#),
        )
        .unwrap_err();
        assert!(
            err.contains("missing field `restrictPublicBuckets`"),
            "{err}"
        );
    }

    #[test]
    fn excluded_buckets() {
        testing::clear_lookups();
        let e = testing::evaluate::<Rule>(
            &context(&[("excludedPublicBuckets", "www-site, my-bucket")]),
            &bucket("{}"),
        )
        .unwrap();
        assert_eq!(
            e,
            Evaluation::compliant_because("Bucket my-bucket is listed in excludedPublicBuckets.")
        );
        let e = testing::evaluate::<Rule>(
            &context(&[("excludedPublicBuckets", "my-bucket-2")]),
            &bucket("{}"),
        )
        .unwrap();
        assert_eq!(e.compliance, conftrail_rule_sdk::Compliance::NonCompliant);
    }

    #[test]
    fn account_settings_from_lookup() {
        testing::clear_lookups();
        testing::set_lookup(&realdata_item(
            "config_items/rdk_example_ci/AWS_S3_AccountPublicAccessBlock.json",
        ));
        let e = testing::evaluate::<Rule>(&context(&[]), &bucket("{}")).unwrap();
        assert_eq!(e, Evaluation::compliant());
        // the rdk bucket is in another account (934654633380): not covered
        let rdk = realdata_item("config_items/rdk_example_ci/AWS_S3_Bucket.json");
        let e = testing::evaluate::<Rule>(&context(&[]), &rdk).unwrap();
        assert_eq!(e.compliance, conftrail_rule_sdk::Compliance::NonCompliant);
        testing::clear_lookups();
    }

    #[test]
    fn account_partly_on() {
        testing::clear_lookups();
        let acct = item_from_json(
            r#"{"resourceType":"AWS::S3::AccountPublicAccessBlock","resourceId":"123456789012","configuration":{"blockPublicAcls":true,"ignorePublicAcls":true,"blockPublicPolicy":false,"restrictPublicBuckets":false}}"#,
        )
        .unwrap();
        testing::set_lookup(&acct);
        let e = testing::evaluate::<Rule>(&context(&[]), &bucket("{}")).unwrap();
        assert_eq!(e.annotation(), "Block Public Access settings off at both bucket and account level: BlockPublicPolicy, RestrictPublicBuckets.");
        testing::clear_lookups();
    }

    /// Every configuration item of the real-data set: the rule decides (no error), and items of
    /// other resource types are NOT_APPLICABLE.
    #[test]
    fn realdata_sweep() {
        let ctx = conftrail_rule_sdk::testing::context(&[]);
        let verdicts = conftrail_rule_sdk::testing::sweep::<Rule>(&ctx, |_, _| false);
        assert!(verdicts
            .iter()
            .any(|(_, e)| !e.annotation().starts_with("This rule does not judge")));
        for (file, item) in conftrail_rule_sdk::testing::realdata_items() {
            if item.resource_type() != "AWS::S3::Bucket" {
                let e = conftrail_rule_sdk::testing::evaluate::<Rule>(
                    &conftrail_rule_sdk::testing::context(&[]),
                    &item,
                )
                .unwrap();
                assert_eq!(
                    e.compliance,
                    conftrail_rule_sdk::Compliance::NotApplicable,
                    "{file}"
                );
            }
        }
    }
}
