//! `s3-bucket-public-read-prohibited`: a bucket is NON_COMPLIANT when its ACL grants Read or
//! FullControl to AllUsers or AuthenticatedUsers (unless IgnorePublicAcls is on, for the bucket
//! or the account), or its policy has an Allow statement for everyone (`*`, `{"AWS": "*"}`)
//! covering s3:GetObject / s3:ListBucket without a restricting condition (unless
//! RestrictPublicBuckets is on). `Deny` statements never make a bucket public.
//! The account-level settings are read with `lookup("AWS::S3::AccountPublicAccessBlock", <account>)`.

use conftrail_rule_sdk::policy::Access;
use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::s3::public_access_reasons;

pub struct S3BucketPublicReadProhibited;

impl Rule for S3BucketPublicReadProhibited {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::S3::Bucket"];

    fn metadata() -> Metadata {
        Metadata::new(
            "s3-bucket-public-read-prohibited",
            "1.0.0",
            "Checks that S3 buckets do not allow public read access, through their ACL or their bucket policy (Block Public Access settings of the bucket and the account are honoured).",
        )
    }

    fn evaluate(_ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let reasons = public_access_reasons(item, Access::Read)?;
        Ok(if reasons.is_empty() {
            Evaluation::compliant()
        } else {
            Evaluation::non_compliant(reasons.join(" "))
        })
    }
}

conftrail_rule_sdk::export_rule!(S3BucketPublicReadProhibited);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::S3BucketPublicReadProhibited as Rule;

    fn eval(item: &conftrail_rule_sdk::Item) -> Evaluation {
        testing::evaluate::<Rule>(&context(&[]), item).unwrap()
    }

    #[test]
    fn custodian_testing_99_is_publicly_readable() {
        for file in [
            "s3-lifecycle.json",
            "s3-lifecycle-and-predicate.json",
            "s3-rep-and-notify.json",
            "s3-website.json",
        ] {
            let item = realdata_item(&format!("config_items/custodian/config__{file}"));
            assert_eq!(item.resource_id(), "testing-99");
            let e = eval(&item);
            assert_eq!(e.compliance, Compliance::NonCompliant, "{file}");
            assert_eq!(
                e.annotation(),
                "The bucket ACL grants Read to AllUsers.",
                "{file}"
            );
        }
    }

    #[test]
    fn custodian_private_buckets_and_deny_star_policies_are_compliant() {
        for (file, id) in [
            ("s3.json", "config-rule-sanity"),
            ("s3-lifecycle-null-predicate.json", "storage-dev"),
            ("s3-website-redirect.json", "analysis-dev"),
            ("s3-from-rule.json", "c7n-fire-logs"),
            ("s3-from-rule-sans-accelerator.json", "c7n-fire-logs"),
        ] {
            let item = realdata_item(&format!("config_items/custodian/config__{file}"));
            assert_eq!(item.resource_id(), id);
            assert_eq!(eval(&item), Evaluation::compliant(), "{file}");
        }
    }

    #[test]
    fn rdk_bucket_is_compliant() {
        let item = realdata_item("config_items/rdk_example_ci/AWS_S3_Bucket.json");
        assert_eq!(eval(&item), Evaluation::compliant());
    }

    /// A bucket as AWS Config records it (private, no policy), with these supplementary values.
    fn bucket(supplementary: &str) -> conftrail_rule_sdk::Item {
        raw_bucket(&testing::bucket_supplementary(supplementary))
    }

    /// A bucket with exactly this supplementary configuration.
    fn raw_bucket(supplementary: &str) -> conftrail_rule_sdk::Item {
        item_from_json(&format!(
            r#"{{"resourceType":"AWS::S3::Bucket","resourceId":"b","awsAccountId":"111122223333","configurationItemStatus":"OK",
                "configuration":{{"name":"b"}},"supplementaryConfiguration":{supplementary}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn absent_acl_or_policy_is_an_error_unless_the_other_is_public() {
        let judge = |sup: &str| testing::evaluate::<Rule>(&context(&[]), &raw_bucket(sup));
        // `aws s3api` output recorded as a bucket: nothing AWS Config records is there
        let err = judge("{}").unwrap_err();
        assert_eq!(
            err,
            "supplementaryConfiguration.AccessControlList is absent (is the item in AWS Config's shape? AWS Config records AccessControlList for every item of this resource type); supplementaryConfiguration.BucketPolicy is absent (is the item in AWS Config's shape? AWS Config records BucketPolicy for every item of this resource type)"
        );
        let err = judge(r#"{"AccessControlList":{"grantList":[]}}"#).unwrap_err();
        assert!(
            err.starts_with("supplementaryConfiguration.BucketPolicy is absent"),
            "{err}"
        );
        // present and empty: not public
        let e =
            judge(r#"{"AccessControlList":{"grantList":[]},"BucketPolicy":{"policyText":null}}"#)
                .unwrap();
        assert_eq!(e, Evaluation::compliant());
        // a public ACL is an answer, policy or not
        let e = judge(
            r#"{"AccessControlList":{"grantList":[{"grantee":"AllUsers","permission":"Read"}]}}"#,
        )
        .unwrap();
        assert_eq!(e.annotation(), "The bucket ACL grants Read to AllUsers.");
    }

    const PUBLIC_POLICY: &str = r#"{"BucketPolicy":{"policyText":"{\"Statement\":[{\"Sid\":\"Pub\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"}}"#;

    #[test]
    fn public_policy() {
        let e = eval(&bucket(PUBLIC_POLICY));
        assert_eq!(
            e.annotation(),
            r#"The bucket policy statement "Pub" allows s3:GetObject to everyone."#
        );
        let e = eval(&bucket(&PUBLIC_POLICY.replace("Allow", "Deny")));
        assert_eq!(e, Evaluation::compliant());
    }

    #[test]
    fn block_public_access_neutralises() {
        let with_block = PUBLIC_POLICY.replace(
            r#"{"BucketPolicy""#,
            r#"{"PublicAccessBlockConfiguration":{"blockPublicAcls":false,"ignorePublicAcls":false,"blockPublicPolicy":true,"restrictPublicBuckets":true},"BucketPolicy""#,
        );
        assert_eq!(eval(&bucket(&with_block)), Evaluation::compliant());
        // account level, through the host lookup
        testing::set_lookup(&testing::realdata_item(
            "config_items/rdk_example_ci/AWS_S3_AccountPublicAccessBlock.json",
        ));
        let acct = item_from_json(
            r#"{"resourceType":"AWS::S3::AccountPublicAccessBlock","resourceId":"111122223333","configuration":{"blockPublicAcls":true,"ignorePublicAcls":true,"blockPublicPolicy":true,"restrictPublicBuckets":true}}"#,
        )
        .unwrap();
        testing::set_lookup(&acct);
        assert_eq!(eval(&bucket(PUBLIC_POLICY)), Evaluation::compliant());
        assert!(testing::take_lookup_calls().contains(&(
            "AWS::S3::AccountPublicAccessBlock".to_string(),
            "111122223333".to_string()
        )));
        testing::clear_lookups();
        assert_eq!(
            eval(&bucket(PUBLIC_POLICY)).compliance,
            Compliance::NonCompliant
        );
    }

    #[test]
    fn acl_and_policy_both_reported() {
        let sup = PUBLIC_POLICY.replace(
            r#"{"BucketPolicy""#,
            r#"{"AccessControlList":{"grantList":[{"grantee":{"uri":"http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},"permission":"FULL_CONTROL"}]},"BucketPolicy""#,
        );
        let e = eval(&bucket(&sup));
        assert_eq!(
            e.annotation(),
            r#"The bucket ACL grants FullControl to AuthenticatedUsers. The bucket policy statement "Pub" allows s3:GetObject to everyone."#
        );
    }

    #[test]
    fn write_only_grant_is_not_read() {
        let e = eval(&bucket(
            r#"{"AccessControlList":"{\"grantList\":[{\"grantee\":\"AllUsers\",\"permission\":\"Write\"}]}"}"#,
        ));
        assert_eq!(e, Evaluation::compliant());
    }

    #[test]
    fn deleted_bucket() {
        let item = item_from_json(r#"{"resourceType":"AWS::S3::Bucket","resourceId":"b","configurationItemStatus":"ResourceDeletedNotRecorded","configuration":null}"#).unwrap();
        assert_eq!(eval(&item).compliance, Compliance::NotApplicable);
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
