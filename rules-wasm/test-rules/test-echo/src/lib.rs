//! Test rule for the host's plumbing: `evaluate` returns NON_COMPLIANT with an annotation of
//! exactly 300 characters (so the host's 256-character cut shows), built as
//!
//! `trigger=<trigger> rule=<rule-name> previous=<yes|no> resource=<resource-id> params=<parameters JSON> |`
//!
//! followed by `0123456789` repeated up to 300 characters (ASCII only). If that prefix is
//! already longer than 300 characters it is returned whole. Its metadata asks for the previous
//! version (`wants-previous = true`) so the host's `previous` plumbing can be tested, and
//! declares one optional parameter, `greeting` (no default), so the host's tests can pass
//! parameters to it.

use conftrail_rule_sdk::prelude::*;

pub struct Echo;

/// Length of the annotation.
pub const LENGTH: usize = 300;

impl Rule for Echo {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];
    const SCREEN_ITEMS: bool = false;

    fn metadata() -> Metadata {
        Metadata::new(
            "test-echo",
            "1.0.0",
            "Test rule: echoes its inputs in a 300-character annotation.",
        )
        .parameter(Parameter::optional("greeting", "echoed back"))
        .wants_previous(true)
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        Ok(Evaluation::non_compliant(echo(ctx, item)))
    }
}

/// The annotation (see the crate docs).
pub fn echo(ctx: &Context, item: &Item) -> String {
    let mut s = format!(
        "trigger={} rule={} previous={} resource={} params={} |",
        ctx.trigger(),
        ctx.rule_name(),
        if ctx.previous().is_some() {
            "yes"
        } else {
            "no"
        },
        item.resource_id(),
        ctx.parameters_json(),
    );
    let digits = b"0123456789";
    let mut i = 0;
    while s.chars().count() < LENGTH {
        s.push(digits[i % 10] as char);
        i += 1;
    }
    s
}

conftrail_rule_sdk::export_rule!(Echo);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing;
    use conftrail_rule_sdk::{Compliance, Context, Trigger};

    #[test]
    fn echoes_in_300_characters() {
        let item = testing::realdata_item("config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json");
        let ctx = Context::new("my-echo", Trigger::Manual).with_param("k", "v");
        let e = testing::evaluate::<super::Echo>(&ctx, &item).unwrap();
        assert_eq!(e.compliance, Compliance::NonCompliant);
        let a = e.annotation();
        assert_eq!(a.len(), 300);
        assert!(a.starts_with(r#"trigger=manual rule=my-echo previous=no resource=sg-1d56fc66 params={"k":"v"} |0123456789"#), "{a}");
        let ctx = ctx.with_previous(item.clone());
        let e = testing::evaluate::<super::Echo>(&ctx, &item).unwrap();
        assert!(e.annotation().contains("previous=yes"));
        let m = testing::metadata::<super::Echo>();
        assert!(m.wants_previous);
        assert_eq!(m.parameters.len(), 1);
        let p = &m.parameters[0];
        assert_eq!(
            (p.name.as_str(), p.description.as_str()),
            ("greeting", "echoed back")
        );
        assert_eq!((p.default.as_deref(), p.required), (None, false));
        let ctx = Context::new("my-echo", Trigger::Change).with_param("greeting", "hello");
        let e = testing::evaluate::<super::Echo>(&ctx, &item).unwrap();
        assert!(
            e.annotation().contains(r#"params={"greeting":"hello"} |"#),
            "{}",
            e.annotation()
        );
    }
}
