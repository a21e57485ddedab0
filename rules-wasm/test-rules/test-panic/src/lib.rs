//! Hostile test rule: `evaluate` panics with "boom: this rule always panics". The SDK's panic
//! hook sends the message and its location to the host log (level error); the module then
//! traps (panic = "abort").

use conftrail_rule_sdk::prelude::*;

pub struct Panic;

impl Rule for Panic {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];
    const SCREEN_ITEMS: bool = false;

    fn metadata() -> Metadata {
        Metadata::new("test-panic", "1.0.0", "Test rule: evaluate panics.")
    }

    fn evaluate(_ctx: &Context, _item: &Item) -> Result<Evaluation, String> {
        panic!("boom: this rule always panics")
    }
}

conftrail_rule_sdk::export_rule!(Panic);

#[cfg(test)]
mod tests {
    #[test]
    #[should_panic(expected = "boom: this rule always panics")]
    fn panics() {
        let item = conftrail_rule_sdk::testing::item_from_json(
            r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1"}"#,
        )
        .unwrap();
        let _ = conftrail_rule_sdk::testing::evaluate::<super::Panic>(
            &conftrail_rule_sdk::testing::context(&[]),
            &item,
        );
    }
}
