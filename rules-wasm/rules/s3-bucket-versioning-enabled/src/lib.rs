//! `s3-bucket-versioning-enabled`: a bucket is NON_COMPLIANT unless its versioning status is
//! `Enabled`; with `isMfaDeleteEnabled` = `true`, MFA delete must be on too (`false` or unset:
//! not checked).

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::s3::BucketVersioning;

pub struct S3BucketVersioningEnabled;

impl Rule for S3BucketVersioningEnabled {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::S3::Bucket"];

    fn metadata() -> Metadata {
        Metadata::new(
            "s3-bucket-versioning-enabled",
            "1.0.0",
            "Checks that versioning is enabled for S3 buckets, and optionally MFA delete.",
        )
        .parameter(Parameter::optional(
            "isMfaDeleteEnabled",
            "true: MFA delete must be enabled too.",
        ))
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let want_mfa_delete = ctx.param_bool("isMfaDeleteEnabled")?.unwrap_or(false);
        let versioning = item
            .supplementary_view::<BucketVersioning>()?
            .unwrap_or_default();
        if !versioning.is_enabled() {
            let status = versioning.status.as_deref().unwrap_or("not configured");
            return Ok(Evaluation::non_compliant(format!(
                "Versioning is {status}, not Enabled."
            )));
        }
        if want_mfa_delete && versioning.is_mfa_delete_enabled != Some(true) {
            return Ok(Evaluation::non_compliant(
                "Versioning is Enabled but MFA delete is not (isMfaDeleteEnabled is true).",
            ));
        }
        Ok(Evaluation::compliant())
    }
}

conftrail_rule_sdk::export_rule!(S3BucketVersioningEnabled);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::S3BucketVersioningEnabled as Rule;

    #[test]
    fn realdata() {
        for (file, expected, annotation) in [
            (
                "rdk_example_ci/AWS_S3_Bucket.json",
                Compliance::Compliant,
                "",
            ),
            (
                "custodian/config__s3-lifecycle-null-predicate.json",
                Compliance::Compliant,
                "",
            ),
            (
                "custodian/config__s3-rep-and-notify.json",
                Compliance::Compliant,
                "",
            ),
            (
                "custodian/config__s3-lifecycle.json",
                Compliance::NonCompliant,
                "Versioning is Suspended, not Enabled.",
            ),
            (
                "custodian/config__s3-website.json",
                Compliance::NonCompliant,
                "Versioning is Off, not Enabled.",
            ),
            (
                "custodian/config__s3-from-rule.json",
                Compliance::NonCompliant,
                "Versioning is Off, not Enabled.",
            ),
        ] {
            let e = testing::evaluate::<Rule>(
                &context(&[]),
                &realdata_item(&format!("config_items/{file}")),
            )
            .unwrap();
            assert_eq!(
                (e.compliance, e.annotation()),
                (expected, annotation),
                "{file}"
            );
        }
    }

    #[test]
    fn mfa_delete_parameter() {
        let rdk = realdata_item("config_items/rdk_example_ci/AWS_S3_Bucket.json"); // isMfaDeleteEnabled: null
        let e =
            testing::evaluate::<Rule>(&context(&[("isMfaDeleteEnabled", "true")]), &rdk).unwrap();
        assert_eq!(
            e.annotation(),
            "Versioning is Enabled but MFA delete is not (isMfaDeleteEnabled is true)."
        );
        let e =
            testing::evaluate::<Rule>(&context(&[("isMfaDeleteEnabled", "FALSE")]), &rdk).unwrap();
        assert_eq!(e, Evaluation::compliant());
        let mfa = item_from_json(
            r#"{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":{},"supplementaryConfiguration":{"BucketVersioningConfiguration":{"status":"Enabled","isMfaDeleteEnabled":true}}}"#,
        )
        .unwrap();
        let e =
            testing::evaluate::<Rule>(&context(&[("isMfaDeleteEnabled", "true")]), &mfa).unwrap();
        assert_eq!(e, Evaluation::compliant());
        let err = testing::evaluate::<Rule>(&context(&[("isMfaDeleteEnabled", "yes")]), &mfa)
            .unwrap_err();
        assert_eq!(
            err,
            "parameter isMfaDeleteEnabled: expected true or false, got \"yes\""
        );
    }

    #[test]
    fn absent_versioning_is_an_error_not_off() {
        // AWS Config records BucketVersioningConfiguration for every bucket ("Off" when never
        // enabled): without it, the item cannot show the versioning
        let b = item_from_json(r#"{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":{},"supplementaryConfiguration":{}}"#).unwrap();
        let err = testing::evaluate::<Rule>(&context(&[]), &b).unwrap_err();
        assert_eq!(
            err,
            "supplementaryConfiguration.BucketVersioningConfiguration is absent (is the item in AWS Config's shape? AWS Config records BucketVersioningConfiguration for every item of this resource type)"
        );
        // recorded but null: not configured
        let b = item_from_json(r#"{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":{},"supplementaryConfiguration":{"BucketVersioningConfiguration":null}}"#).unwrap();
        let e = testing::evaluate::<Rule>(&context(&[]), &b).unwrap();
        assert_eq!(e.annotation(), "Versioning is not configured, not Enabled.");
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
