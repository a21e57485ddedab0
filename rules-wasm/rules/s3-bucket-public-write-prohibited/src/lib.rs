//! `s3-bucket-public-write-prohibited`: a bucket is NON_COMPLIANT when its ACL grants Write,
//! WriteAcp or FullControl to AllUsers or AuthenticatedUsers (unless IgnorePublicAcls is on, for the bucket
//! or the account), or its policy has an Allow statement for everyone (`*`, `{"AWS": "*"}`)
//! covering s3:PutObject, s3:DeleteObject, s3:PutObjectAcl, s3:PutBucketAcl, s3:PutBucketPolicy or
//! s3:DeleteBucket* without a restricting condition (unless
//! RestrictPublicBuckets is on). `Deny` statements never make a bucket public.
//! The account-level settings are read with `lookup("AWS::S3::AccountPublicAccessBlock", <account>)`.

use conftrail_rule_sdk::policy::Access;
use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::s3::public_access_reasons;

pub struct S3BucketPublicWriteProhibited;

impl Rule for S3BucketPublicWriteProhibited {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::S3::Bucket"];

    fn metadata() -> Metadata {
        Metadata::new(
            "s3-bucket-public-write-prohibited",
            "1.0.0",
            "Checks that S3 buckets do not allow public write access, through their ACL or their bucket policy (Block Public Access settings of the bucket and the account are honoured).",
        )
    }

    fn evaluate(_ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let reasons = public_access_reasons(item, Access::Write)?;
        Ok(if reasons.is_empty() {
            Evaluation::compliant()
        } else {
            Evaluation::non_compliant(reasons.join(" "))
        })
    }
}

conftrail_rule_sdk::export_rule!(S3BucketPublicWriteProhibited);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::S3BucketPublicWriteProhibited as Rule;

    fn eval(item: &conftrail_rule_sdk::Item) -> Evaluation {
        testing::evaluate::<Rule>(&context(&[]), item).unwrap()
    }

    #[test]
    fn realdata_buckets_are_not_publicly_writable() {
        for file in [
            "custodian/config__s3-lifecycle.json",
            "custodian/config__s3-website.json",
            "custodian/config__s3.json",
            "custodian/config__s3-lifecycle-null-predicate.json",
            "custodian/config__s3-website-redirect.json",
            "custodian/config__s3-from-rule.json",
            "rdk_example_ci/AWS_S3_Bucket.json",
        ] {
            let item = realdata_item(&format!("config_items/{file}"));
            assert_eq!(eval(&item), Evaluation::compliant(), "{file}");
        }
    }

    /// A bucket as AWS Config records it (private, no policy), with these supplementary values.
    fn bucket(supplementary: &str) -> conftrail_rule_sdk::Item {
        raw_bucket(&testing::bucket_supplementary(supplementary))
    }

    /// A bucket with exactly this supplementary configuration.
    fn raw_bucket(supplementary: &str) -> conftrail_rule_sdk::Item {
        item_from_json(&format!(
            r#"{{"resourceType":"AWS::S3::Bucket","resourceId":"b","awsAccountId":"1","configuration":{{"name":"b"}},"supplementaryConfiguration":{supplementary}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn absent_acl_or_policy_is_an_error_unless_the_other_is_public() {
        let judge = |sup: &str| testing::evaluate::<Rule>(&context(&[]), &raw_bucket(sup));
        let err = judge(r#"{"BucketPolicy":{"policyText":null}}"#).unwrap_err();
        assert!(
            err.starts_with("supplementaryConfiguration.AccessControlList is absent"),
            "{err}"
        );
        let e =
            judge(r#"{"AccessControlList":{"grantList":[]},"BucketPolicy":{"policyText":null}}"#)
                .unwrap();
        assert_eq!(e, Evaluation::compliant());
        let e = judge(r#"{"BucketPolicy":{"policyText":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\"}}"}}"#).unwrap();
        assert_eq!(
            e.annotation(),
            "The bucket policy statement #1 allows s3:PutObject to everyone."
        );
    }

    #[test]
    fn public_write_grants() {
        for (perm, shown) in [
            ("Write", "Write"),
            ("WRITE_ACP", "WriteAcp"),
            ("FullControl", "FullControl"),
        ] {
            let e = eval(&bucket(&format!(
                r#"{{"AccessControlList":{{"grantList":[{{"grantee":"AllUsers","permission":"{perm}"}}]}}}}"#
            )));
            assert_eq!(
                e.annotation(),
                format!("The bucket ACL grants {shown} to AllUsers.")
            );
        }
        let e = eval(&bucket(
            r#"{"AccessControlList":{"grantList":[{"grantee":"AllUsers","permission":"Read"}]}}"#,
        ));
        assert_eq!(e, Evaluation::compliant());
        let e = eval(&bucket(
            r#"{"PublicAccessBlockConfiguration":{"blockPublicAcls":false,"ignorePublicAcls":true,"blockPublicPolicy":false,"restrictPublicBuckets":false},"AccessControlList":{"grantList":[{"grantee":"AllUsers","permission":"Write"}]}}"#,
        ));
        assert_eq!(e, Evaluation::compliant());
    }

    #[test]
    fn public_write_policies() {
        let e = eval(&bucket(
            r#"{"BucketPolicy":{"policyText":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:Put*\"]}}"}}"#,
        ));
        assert_eq!(e.compliance, Compliance::NonCompliant);
        assert_eq!(
            e.annotation(),
            "The bucket policy statement #1 allows s3:PutObject to everyone."
        );
        let e = eval(&bucket(
            r#"{"BucketPolicy":{"policyText":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Condition\":{\"StringEquals\":{\"aws:SourceVpce\":\"vpce-1\"}}}}"}}"#,
        ));
        assert_eq!(e, Evaluation::compliant());
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
