//! `iam-user-mfa-enabled`: an IAM user is NON_COMPLIANT when it has no MFA device.
//!
//! AWS Config does not record MFA devices in `AWS::IAM::User` items (AWS's own rule calls
//! IAM's ListMFADevices on a schedule). This rule reads MFA information when the item carries
//! it (`configuration.mfaDevices` as ListMFADevices returns them, or a credential-report
//! `mfaActive` flag, also under `supplementaryConfiguration`; see the SDK's `views::iam`).
//! When the item carries none, the `whenMfaUnknown` parameter decides: `NOT_APPLICABLE`
//! (default, with an annotation saying the MFA status is not recorded), `NON_COMPLIANT`, or
//! `error` (the evaluation is an error saying why). The default is NOT_APPLICABLE because AWS
//! Config's IAM user items never carry MFA data: an enabled-by-default managed rule should not
//! turn every user into an evaluation error.

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::iam::{mfa_evidence, MfaEvidence};

pub struct IamUserMfaEnabled;

impl Rule for IamUserMfaEnabled {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::IAM::User"];

    fn metadata() -> Metadata {
        Metadata::new("iam-user-mfa-enabled", "1.0.0", "Checks that IAM users have multi-factor authentication (MFA) enabled.").parameter(
            Parameter::optional(
                "whenMfaUnknown",
                "Verdict when the item does not record MFA devices (AWS Config's items do not): NOT_APPLICABLE, NON_COMPLIANT or error.",
            )
            .with_default("NOT_APPLICABLE"),
        )
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let unknown = ctx.param_or("whenMfaUnknown", "NOT_APPLICABLE");
        let unknown = match unknown.to_ascii_uppercase().replace('-', "_").as_str() {
            "ERROR" => None,
            other => Some(Compliance::from_aws_str(other).filter(|c| *c != Compliance::Compliant).ok_or_else(|| {
                format!("parameter whenMfaUnknown: expected NOT_APPLICABLE, NON_COMPLIANT or error, got {unknown:?}")
            })?),
        };
        let user = item.display_name();
        let evidence = mfa_evidence(item)?;
        Ok(match (evidence.enabled(), evidence) {
            (Some(true), _) => Evaluation::compliant(),
            (Some(false), MfaEvidence::Devices(_)) => {
                Evaluation::non_compliant(format!("User {user} has no MFA device."))
            }
            (Some(false), _) => {
                Evaluation::non_compliant(format!("User {user} does not have MFA active."))
            }
            (None, _) => {
                let why = format!(
                    "MFA status of user {user} is not recorded (AWS Config does not record MFA devices for IAM users)."
                );
                match unknown {
                    None => return Err(format!("{why} Set whenMfaUnknown to NON_COMPLIANT or NOT_APPLICABLE to get a verdict.")),
                    Some(c) => Evaluation::new(c, Some(why)),
                }
            }
        })
    }
}

conftrail_rule_sdk::export_rule!(IamUserMfaEnabled);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing::{self, context, item_from_json, realdata_item};
    use conftrail_rule_sdk::{Compliance, Evaluation};

    use super::IamUserMfaEnabled as Rule;

    fn user(configuration_extra: &str, supplementary: &str) -> conftrail_rule_sdk::Item {
        item_from_json(&format!(
            r#"{{"resourceType":"AWS::IAM::User","resourceId":"AIDA1","resourceName":"alice","awsRegion":"global",
                "configuration":{{"userName":"alice"{configuration_extra}}},"supplementaryConfiguration":{supplementary}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn aws_config_items_do_not_record_mfa() {
        let item = realdata_item("config_items/rdk_example_ci/AWS_IAM_User.json");
        let why = "MFA status of user johndoe is not recorded (AWS Config does not record MFA devices for IAM users).";
        // default: NOT_APPLICABLE, saying why
        let e = testing::evaluate::<Rule>(&context(&[]), &item).unwrap();
        assert_eq!(e, Evaluation::not_applicable(why));
        let err =
            testing::evaluate::<Rule>(&context(&[("whenMfaUnknown", "error")]), &item).unwrap_err();
        assert_eq!(
            err,
            format!(
                "{why} Set whenMfaUnknown to NON_COMPLIANT or NOT_APPLICABLE to get a verdict."
            )
        );
        let e = testing::evaluate::<Rule>(&context(&[("whenMfaUnknown", "NON_COMPLIANT")]), &item)
            .unwrap();
        assert_eq!(e, Evaluation::non_compliant(why));
        let e = testing::evaluate::<Rule>(&context(&[("whenMfaUnknown", "not-applicable")]), &item)
            .unwrap();
        assert_eq!(e.compliance, Compliance::NotApplicable);
        let err = testing::evaluate::<Rule>(&context(&[("whenMfaUnknown", "COMPLIANT")]), &item)
            .unwrap_err();
        assert!(err.starts_with("parameter whenMfaUnknown: "), "{err}");
    }

    #[test]
    fn metadata_default_is_not_applicable() {
        let m = testing::metadata::<Rule>();
        assert_eq!(m.parameters.len(), 1);
        assert_eq!(m.parameters[0].name, "whenMfaUnknown");
        assert_eq!(m.parameters[0].default.as_deref(), Some("NOT_APPLICABLE"));
        assert!(!m.parameters[0].required);
    }

    #[test]
    fn recorded_devices() {
        let e = testing::evaluate::<Rule>(
            &context(&[]),
            &user(
                r#","mfaDevices":[{"serialNumber":"arn:aws:iam::1:mfa/alice"}]"#,
                "{}",
            ),
        )
        .unwrap();
        assert_eq!(e, Evaluation::compliant());
        let e =
            testing::evaluate::<Rule>(&context(&[]), &user(r#","mfaDevices":[]"#, "{}")).unwrap();
        assert_eq!(e.annotation(), "User alice has no MFA device.");
        let e = testing::evaluate::<Rule>(
            &context(&[]),
            &user("", r#"{"MFADevices":"[{\"SerialNumber\":\"x\"}]"}"#),
        )
        .unwrap();
        assert_eq!(e, Evaluation::compliant());
        let e = testing::evaluate::<Rule>(&context(&[]), &user(r#","mfa_active":"false""#, "{}"))
            .unwrap();
        assert_eq!(e.annotation(), "User alice does not have MFA active.");
        let e =
            testing::evaluate::<Rule>(&context(&[]), &user("", r#"{"MfaActive":true}"#)).unwrap();
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
            if item.resource_type() != "AWS::IAM::User" {
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
