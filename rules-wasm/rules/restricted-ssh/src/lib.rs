//! `restricted-ssh` (AWS: INCOMING_SSH_DISABLED): a security group is NON_COMPLIANT when an
//! ingress permission lets `0.0.0.0/0` or `::/0` reach TCP port 22 (protocol tcp with
//! fromPort ≤ 22 ≤ toPort, or protocol -1).

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::ec2::Ingress;

pub struct RestrictedSsh;

impl Rule for RestrictedSsh {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];

    fn metadata() -> Metadata {
        Metadata::new(
            "restricted-ssh",
            "1.0.0",
            "Checks that no security group lets the whole internet (0.0.0.0/0 or ::/0) reach TCP port 22.",
        )
    }

    fn evaluate(_ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        // Ingress scans the configuration lazily: no JSON tree, no allocation, early exit.
        Ok(match Ingress::of(item)?.world_open_tcp_port(22)? {
            Some(open) => Evaluation::non_compliant(format!("Port 22 (SSH) is open to {open}.")),
            None => Evaluation::compliant(),
        })
    }
}

conftrail_rule_sdk::export_rule!(RestrictedSsh);

#[cfg(test)]
mod tests;
