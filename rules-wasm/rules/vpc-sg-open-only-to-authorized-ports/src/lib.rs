//! `vpc-sg-open-only-to-authorized-ports`: only security groups with an ingress permission open
//! to the whole internet are judged (others are NOT_APPLICABLE, without annotation, as in the
//! reference rule). Such a group is NON_COMPLIANT
//! when a world-open TCP (or UDP) port range is not wholly inside one range of
//! `authorizedTcpPorts` (or `authorizedUdpPorts`), or when that parameter is not set.
//!
//! This follows the awslabs reference rule (aws-config-rules, python/
//! VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS) and reproduces its annotations exactly: permissions
//! are checked in order, UDP before TCP for protocol -1, and the first offending one is
//! reported. Extensions: `::/0` and the legacy `ipRanges` strings count as world-open too, and
//! protocols given as numbers (6, 17) are read. CIDRs are compared as text, so `10.0.0.0/0`
//! is not world-open (as in the reference). A blank parameter is treated as not set.

use conftrail_rule_sdk::net::{PortList, PortRange};
use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::ec2::Ingress;

pub struct VpcSgOpenOnlyToAuthorizedPorts;

impl Rule for VpcSgOpenOnlyToAuthorizedPorts {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];

    fn metadata() -> Metadata {
        Metadata::new(
            "vpc-sg-open-only-to-authorized-ports",
            "1.0.0",
            "Checks that security groups open to the whole internet (0.0.0.0/0 or ::/0) only open authorized TCP and UDP ports.",
        )
        .parameter(Parameter::optional("authorizedTcpPorts", "TCP ports that may be open to the world, comma-separated, ranges allowed (e.g. 443,1020-1025)."))
        .parameter(Parameter::optional("authorizedUdpPorts", "UDP ports that may be open to the world, comma-separated, ranges allowed (e.g. 500,1020-1025)."))
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let tcp = ctx.param_ports("authorizedTcpPorts")?;
        let udp = ctx.param_ports("authorizedUdpPorts")?;
        let mut any_open = false;
        for open in Ingress::of(item)?.world_open()? {
            any_open = true;
            let protocol = &open.protocol;
            if protocol.covers_udp() {
                if let Some(why) =
                    unauthorized("UDP", "authorizedUdpPorts", udp.as_ref(), open.ports)
                {
                    return Ok(Evaluation::non_compliant(why));
                }
            }
            if protocol.covers_tcp() {
                if let Some(why) =
                    unauthorized("TCP", "authorizedTcpPorts", tcp.as_ref(), open.ports)
                {
                    return Ok(Evaluation::non_compliant(why));
                }
            }
        }
        // Like the reference rule, no annotation for a group that is not open to the world.
        Ok(if any_open {
            Evaluation::compliant()
        } else {
            Evaluation::new(Compliance::NotApplicable, None)
        })
    }
}

/// The reference rule's annotation when `ports` are not authorized, else None.
fn unauthorized(
    protocol: &str,
    parameter: &str,
    authorized: Option<&PortList>,
    ports: PortRange,
) -> Option<String> {
    match authorized {
        None => Some(format!("No {protocol} port is authorized to be open, according to the {parameter} parameter.")),
        Some(list) if !list.covers(&ports) => Some(format!(
            "One or more {protocol} ports ({ports}) are not in range of the {parameter} parameter ({list})."
        )),
        Some(_) => None,
    }
}

conftrail_rule_sdk::export_rule!(VpcSgOpenOnlyToAuthorizedPorts);

#[cfg(test)]
mod tests;
