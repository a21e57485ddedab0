//! `sg-ingress-from-approved-cidrs`: a security group is NON_COMPLIANT when one of its ingress
//! permissions accepts traffic from a CIDR (IPv4 or IPv6) that does not lie inside one of the
//! networks of the required parameter `approvedCidrs` (comma-separated, e.g.
//! `10.0.0.0/8,192.168.0.0/16,fd00::/8`). The annotation names the first such CIDR and the
//! permission's protocol and ports. Sources that are other security groups (`userIdGroupPairs`)
//! or prefix lists are not CIDRs and are accepted. Networks are compared as networks, not as
//! text: `10.20.0.0/16` is inside `10.0.0.0/8`, `0.0.0.0/0` is inside nothing but `0.0.0.0/0`.

use std::net::IpAddr;

use conftrail_rule_sdk::prelude::*;
use conftrail_rule_sdk::views::ec2::SecurityGroup;

pub struct SgIngressFromApprovedCidrs;

impl Rule for SgIngressFromApprovedCidrs {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];

    fn metadata() -> Metadata {
        Metadata::new(
            "sg-ingress-from-approved-cidrs",
            "1.0.0",
            "Checks that security groups only accept traffic from approved networks.",
        )
        .parameter(Parameter::required(
            "approvedCidrs",
            "Networks ingress may come from, comma-separated CIDRs (e.g. 10.0.0.0/8,192.168.0.0/16).",
        ))
    }

    fn evaluate(ctx: &Context, item: &Item) -> Result<Evaluation, String> {
        let approved = approved_cidrs(ctx).map_err(|e| format!("parameter approvedCidrs: {e}"))?;
        let group = SecurityGroup::from_item(item)?;
        // Err when the item has no `ipPermissions` (not AWS Config's shape): never "no ingress"
        for permission in group.ip_permissions()? {
            for cidr in permission.cidrs().filter(|c| !c.trim().is_empty()) {
                let source = Net::parse(cidr).map_err(|e| format!("configuration: {e}"))?;
                if !approved.iter().any(|a| a.contains(&source)) {
                    return Ok(Evaluation::non_compliant(format!(
                        "Ingress from {cidr} ({}) is not inside an approved CIDR ({}).",
                        permission.describe(),
                        ctx.param_csv("approvedCidrs").join(",")
                    )));
                }
            }
        }
        Ok(Evaluation::compliant())
    }
}

/// The networks of `approvedCidrs`: at least one, none with bits set after its prefix (a
/// `10.1.0.0/8`-style typo).
fn approved_cidrs(ctx: &Context) -> Result<Vec<Net>, String> {
    let cidrs = ctx.param_csv("approvedCidrs");
    if cidrs.is_empty() {
        return Err("at least one CIDR is required (e.g. 10.0.0.0/8)".into());
    }
    let exact = |c: &&str| match Net::parse(c)? {
        net if net.addr & !net.mask() == 0 => Ok(net),
        net => Err(format!("{c:?} has bits set after its /{} prefix", net.len)),
    };
    cidrs.iter().map(exact).collect()
}

/// An IPv4 or IPv6 network. IPv4 addresses sit in the top 32 bits, so one mask fits both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    v6: bool,
    addr: u128,
    len: u8,
}

impl Net {
    /// Parses `10.0.0.0/8` or `2001:db8::/32`; an address without `/` is one host.
    pub fn parse(text: &str) -> Result<Net, String> {
        let text = text.trim();
        let (addr, len) = text
            .split_once('/')
            .map_or((text, None), |(a, l)| (a, Some(l)));
        let (v6, addr, max) = match addr.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => (false, u128::from(u32::from(a)) << 96, 32),
            Ok(IpAddr::V6(a)) => (true, u128::from(a), 128),
            Err(_) => return Err(format!("{text:?} is not an IPv4 or IPv6 CIDR")),
        };
        let len = match len.map(|l| l.parse().ok().filter(|l| *l <= max)) {
            None => max,
            Some(Some(len)) => len,
            Some(None) => return Err(format!("{text:?}: the prefix length must be 0 to {max}")),
        };
        Ok(Net { v6, addr, len })
    }

    fn mask(&self) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(self.len))
            .unwrap_or(0)
    }

    /// Whether `other` lies wholly inside this network (same IP version).
    pub fn contains(&self, other: &Net) -> bool {
        self.v6 == other.v6 && self.len <= other.len && (self.addr ^ other.addr) & self.mask() == 0
    }
}

conftrail_rule_sdk::export_rule!(SgIngressFromApprovedCidrs);

#[cfg(test)]
mod tests;
