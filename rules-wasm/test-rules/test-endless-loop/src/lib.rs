//! Hostile test rule: `evaluate` spins forever (the host must stop it with its deadline).

use conftrail_rule_sdk::prelude::*;

pub struct EndlessLoop;

impl Rule for EndlessLoop {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];
    const SCREEN_ITEMS: bool = false;

    fn metadata() -> Metadata {
        Metadata::new(
            "test-endless-loop",
            "1.0.0",
            "Test rule: evaluate never returns.",
        )
    }

    fn evaluate(_ctx: &Context, _item: &Item) -> Result<Evaluation, String> {
        let mut n: u64 = 0;
        loop {
            // black_box keeps the loop from being optimised away
            n = core::hint::black_box(n.wrapping_add(1));
        }
    }
}

conftrail_rule_sdk::export_rule!(EndlessLoop);
