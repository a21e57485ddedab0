//! `s3-bucket-server-side-encryption-enabled`: a bucket is COMPLIANT when it has default
//! encryption (`ServerSideEncryptionConfiguration` with an SSE algorithm) or when its bucket
//! policy denies `s3:PutObject` requests without server-side encryption (AES256 / aws:kms), as
//! AWS's rule accepts; NON_COMPLIANT otherwise.

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::s3::{BucketPolicy, ServerSideEncryption};

pub struct S3BucketServerSideEncryptionEnabled;

impl Rule for S3BucketServerSideEncryptionEnabled {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::S3::Bucket"];

    fn metadata() -> Metadata {
        Metadata::new(
            "s3-bucket-server-side-encryption-enabled",
            "1.0.0",
            "Checks that S3 buckets have default encryption, or a bucket policy that denies unencrypted uploads.",
        )
    }

    fn evaluate(_ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        if let Some(sse) = item.supplementary_view::<ServerSideEncryption>()? {
            if sse.default_algorithm().is_some() {
                return Ok(Evaluation::compliant());
            }
        }
        let policy = item.supplementary_view::<BucketPolicy>()?;
        if policy
            .as_ref()
            .and_then(BucketPolicy::document)
            .is_some_and(|d| d.denies_unencrypted_puts())
        {
            return Ok(Evaluation::compliant_because(
                "The bucket policy denies uploads without server-side encryption.",
            ));
        }
        Ok(Evaluation::non_compliant(
            "The bucket has no default encryption and its policy does not deny unencrypted uploads.",
        ))
    }
}

conftrail_rule_sdk::export_rule!(S3BucketServerSideEncryptionEnabled);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::S3BucketServerSideEncryptionEnabled as Rule;

    fn eval(item: &conftrail_rule_sdk::Item) -> Evaluation {
        testing::evaluate::<Rule>(&context(&[]), item).unwrap()
    }

    #[test]
    fn realdata() {
        // storage-dev and analysis-dev deny PutObject unless x-amz-server-side-encryption is set
        for file in [
            "s3-lifecycle-null-predicate.json",
            "s3-website-redirect.json",
        ] {
            let e = eval(&realdata_item(&format!(
                "config_items/custodian/config__{file}"
            )));
            assert_eq!(
                e.annotation(),
                "The bucket policy denies uploads without server-side encryption.",
                "{file}"
            );
            assert_eq!(e.compliance, Compliance::Compliant);
        }
        for file in [
            "custodian/config__s3-website.json",
            "custodian/config__s3.json",
            "rdk_example_ci/AWS_S3_Bucket.json",
        ] {
            let e = eval(&realdata_item(&format!("config_items/{file}")));
            assert_eq!(e.compliance, Compliance::NonCompliant, "{file}");
        }
    }

    /// A bucket as AWS Config records it (private, no policy), with these supplementary values.
    fn bucket(supplementary: &str) -> conftrail_rule_sdk::Item {
        raw_bucket(&testing::bucket_supplementary(supplementary))
    }

    /// A bucket with exactly this supplementary configuration.
    fn raw_bucket(supplementary: &str) -> conftrail_rule_sdk::Item {
        item_from_json(&format!(
            r#"{{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":{{"name":"b"}},"supplementaryConfiguration":{supplementary}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn absent_policy_is_an_error_without_default_encryption() {
        // no default encryption (absent: not configured, as AWS Config omits it) and no policy
        // recorded: whether the policy denies unencrypted uploads cannot be told
        let err = testing::evaluate::<Rule>(&context(&[]), &raw_bucket("{}")).unwrap_err();
        assert!(
            err.starts_with("supplementaryConfiguration.BucketPolicy is absent"),
            "{err}"
        );
        // default encryption is an answer on its own
        let sse = r#"{"ServerSideEncryptionConfiguration":{"rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"AES256"}}]}}"#;
        assert_eq!(eval(&raw_bucket(sse)), Evaluation::compliant());
        // a recorded encryption configuration without its rules cannot be read
        let err = testing::evaluate::<Rule>(
            &context(&[]),
            &bucket(r#"{"ServerSideEncryptionConfiguration":{"Rule":{}}}"#),
        )
        .unwrap_err();
        assert!(err.contains("missing field `rules`"), "{err}");
    }

    #[test]
    fn default_encryption() {
        let e = eval(&bucket(
            r#"{"ServerSideEncryptionConfiguration":{"rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"AES256","kmsMasterKeyID":null},"bucketKeyEnabled":false}]}}"#,
        ));
        assert_eq!(e, Evaluation::compliant());
        // JSON-string value, as in API-form items
        let e = eval(&bucket(
            r#"{"ServerSideEncryptionConfiguration":"{\"rules\":[{\"applyServerSideEncryptionByDefault\":{\"sseAlgorithm\":\"aws:kms\"}}]}"}"#,
        ));
        assert_eq!(e, Evaluation::compliant());
        let e = eval(&bucket(
            r#"{"ServerSideEncryptionConfiguration":{"rules":[]}}"#,
        ));
        assert_eq!(e.compliance, Compliance::NonCompliant);
        let e = eval(&bucket(r#"{"ServerSideEncryptionConfiguration":null}"#));
        assert_eq!(e.compliance, Compliance::NonCompliant);
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
