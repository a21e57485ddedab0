//! Hostile test rule: `evaluate` logs 10,000 lines (level info, `log line N of 10000`, N from
//! 1) and then returns COMPLIANT.

use conftrail_rule_sdk::log;
use conftrail_rule_sdk::prelude::*;

pub struct LogFlood;

/// Number of lines logged per evaluation.
pub const LINES: usize = 10_000;

impl Rule for LogFlood {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];
    const SCREEN_ITEMS: bool = false;

    fn metadata() -> Metadata {
        Metadata::new(
            "test-log-flood",
            "1.0.0",
            "Test rule: logs 10,000 lines, then COMPLIANT.",
        )
    }

    fn evaluate(_ctx: &Context, _item: &Item) -> Result<Evaluation, String> {
        for n in 1..=LINES {
            log::info!("log line {n} of {LINES}");
        }
        Ok(Evaluation::compliant())
    }
}

conftrail_rule_sdk::export_rule!(LogFlood);

#[cfg(test)]
mod tests {
    use conftrail_rule_sdk::testing;
    use conftrail_rule_sdk::{Evaluation, LogLevel};

    #[test]
    fn logs_ten_thousand_lines() {
        testing::log_to_stderr(false);
        testing::take_logs();
        let item = testing::item_from_json(
            r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1"}"#,
        )
        .unwrap();
        let e = testing::evaluate::<super::LogFlood>(&testing::context(&[]), &item).unwrap();
        assert_eq!(e, Evaluation::compliant());
        let logs = testing::take_logs();
        assert_eq!(logs.len(), 10_000);
        assert_eq!(logs[0], (LogLevel::Info, "log line 1 of 10000".to_string()));
        assert_eq!(logs[9_999].1, "log line 10000 of 10000");
    }
}
