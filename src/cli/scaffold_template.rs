//! {name}: a conftrail compliance rule, made by `conftrail rules new`. Change it to your needs.
//!
//! As generated, it judges security groups: NON_COMPLIANT when the description is empty or
//! starts with `forbiddenPrefix` (default: the `launch-wizard` text the console writes), so
//! nobody can tell what the group is for. The SDK already answers NOT_APPLICABLE for other
//! resource types and for deleted resources.

use conftrail_rule_sdk::prelude::*;
use serde::Deserialize;

/// Only the fields this rule reads: the rest of the configuration is skipped, not parsed.
/// No `#[serde(default)]`: an item without `description` is an evaluation error naming it
/// (``missing field `description` ``), not a group with an empty description.
#[derive(Deserialize)]
struct Group {
    description: String,
}

/// The rule.
pub struct DescribedGroups;

impl Rule for DescribedGroups {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];

    fn metadata() -> Metadata {
        Metadata::new("{name}", "0.1.0", "Security groups must say what they are for.").parameter(
            Parameter::optional("forbiddenPrefix", "Descriptions starting with this do not count.")
                .with_default("launch-wizard"),
        )
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let group: Group = item.configuration()?;
        let forbidden = ctx.param_or("forbiddenPrefix", "launch-wizard");
        let description = group.description.trim();
        Ok(if description.is_empty() {
            Evaluation::non_compliant("The security group has no description.")
        } else if !forbidden.is_empty() && description.starts_with(forbidden) {
            Evaluation::non_compliant(format!(
                "The description {description:?} was generated, not written."
            ))
        } else {
            Evaluation::compliant()
        })
    }
}

conftrail_rule_sdk::export_rule!(DescribedGroups);

#[cfg(test)]
mod tests {
    use super::*;
    use conftrail_rule_sdk::testing::item_from_json;

    #[test]
    fn generated_descriptions_do_not_count() {
        let item = item_from_json(
            r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","configurationItemStatus":"OK",
                "configuration":{"description":"launch-wizard-7 created 2024-01-01"}}"#,
        )
        .expect("item");
        let ctx = Context::new("{name}", Trigger::Change);
        let verdict = DescribedGroups::evaluate(&ctx, &item).expect("verdict");
        assert_eq!(verdict.compliance, Compliance::NonCompliant);
    }
}
