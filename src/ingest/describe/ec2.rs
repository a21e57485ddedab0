//! EC2 `DescribeSecurityGroups` output → `AWS::EC2::SecurityGroup` configuration items.
//!
//! AWS Config's item for a group (item version 1.3) holds the group as EC2 describes it with
//! its keys in camelCase, except that each permission's `IpRanges` is written `ipv4Ranges` with
//! the legacy `ipRanges` (the bare CIDR strings) next to it, and lists EC2 leaves out are
//! written empty. Members EC2 leaves out (the ports of protocol `-1`) stay out, as in 1.3
//! items. Members AWS Config does not show (`SecurityGroupArn`, new in describe output) are
//! not copied into `configuration`.

use super::{
    camel, item, tag, DescribeError, Described, DescribedItem, Fields, Kind, Member, IN_VPC,
    VPC_TYPE,
};
use crate::model::Timestamp;
use serde_json::{Map, Value};

/// The resource type groups become.
pub const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";

/// The list `DescribeSecurityGroups` output holds the groups in.
pub const SECURITY_GROUPS: &str = "SecurityGroups";

/// The members of a `UserIdGroupPair` AWS Config shows.
const GROUP_PAIR: &[Member] = &[
    ("Description", Kind::Text),
    ("GroupId", Kind::Text),
    ("GroupName", Kind::Text),
    ("PeeringStatus", Kind::Text),
    ("UserId", Kind::Text),
    ("VpcId", Kind::Text),
    ("VpcPeeringConnectionId", Kind::Text),
];

/// The optional members of an IP range or prefix list entry.
const RANGE: &[Member] = &[("Description", Kind::Text)];

/// Maps one group of `DescribeSecurityGroups` output (as the AWS CLI or an SDK writes it:
/// `GroupId`, `IpPermissions`, …) to AWS Config's configuration item for it.
///
/// The output does not say which region it came from: `region` says, or else the group's
/// `SecurityGroupArn` (newer output); without either, `awsRegion` is left empty, the ARN has no
/// region, and a warning says so. `captured_at` is when the group was described.
pub fn security_group_item(
    group: Value,
    region: Option<&str>,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut g = Fields::resource(group, "a security group")?;
    let group_id = g.required_text("GroupId")?;
    let owner_id = g.required_text("OwnerId")?;
    let group_name = g.text("GroupName")?;
    let description = g.text("Description")?;
    let vpc_id = g.text("VpcId")?;
    let own_arn = g.text("SecurityGroupArn")?;
    let ingress = g.objects("IpPermissions", permission)?;
    let egress = g.objects("IpPermissionsEgress", permission)?;
    let tags = g.objects("Tags", tag)?;

    let mut configuration = Map::new();
    if let Some(description) = description {
        configuration.insert("description".into(), description.into());
    }
    if let Some(name) = &group_name {
        configuration.insert("groupName".into(), name.as_str().into());
    }
    configuration.insert("ipPermissions".into(), ingress.into());
    configuration.insert("ownerId".into(), owner_id.as_str().into());
    configuration.insert("groupId".into(), group_id.as_str().into());
    configuration.insert("ipPermissionsEgress".into(), egress.into());
    if let Some(vpc) = &vpc_id {
        configuration.insert("vpcId".into(), vpc.as_str().into());
    }
    item(
        Described {
            resource_type: SECURITY_GROUP,
            arn_resource: format!("security-group/{group_id}"),
            resource_id: group_id,
            resource_name: group_name,
            account_id: owner_id,
            own_arn,
            region: region.map(str::to_string),
            availability_zone: Some("Not Applicable".to_string()),
            tags,
            relationships: vpc_id
                .map(|vpc| (VPC_TYPE, vpc, IN_VPC))
                .into_iter()
                .collect(),
            configuration,
        },
        captured_at,
    )
}

/// One `IpPermission`, as AWS Config 1.3 writes it.
fn permission(mut p: Fields) -> Result<Value, DescribeError> {
    let protocol = p.required_text("IpProtocol")?;
    let from_port = p.integer("FromPort")?;
    let to_port = p.integer("ToPort")?;
    let ipv4 = p.objects("IpRanges", |r| entry(r, "CidrIp"))?;
    let ipv6 = p.objects("Ipv6Ranges", |r| entry(r, "CidrIpv6"))?;
    let prefix_lists = p.objects("PrefixListIds", |r| entry(r, "PrefixListId"))?;
    let pairs = p.objects("UserIdGroupPairs", |r| r.copied(GROUP_PAIR))?;
    // The legacy list: the same CIDRs as bare strings.
    let ip_ranges: Vec<Value> = ipv4
        .iter()
        .filter_map(|r| r.get("cidrIp").cloned())
        .collect();
    let mut out = Map::new();
    if let Some(port) = from_port {
        out.insert("fromPort".into(), port.into());
    }
    out.insert("ipProtocol".into(), protocol.into());
    out.insert("ipv6Ranges".into(), objects(ipv6));
    out.insert("prefixListIds".into(), objects(prefix_lists));
    if let Some(port) = to_port {
        out.insert("toPort".into(), port.into());
    }
    out.insert("userIdGroupPairs".into(), pairs.into());
    out.insert("ipv4Ranges".into(), objects(ipv4));
    out.insert("ipRanges".into(), ip_ranges.into());
    Ok(Value::Object(out))
}

fn objects(maps: Vec<Map<String, Value>>) -> Value {
    maps.into_iter().map(Value::Object).collect()
}

/// An IP range or prefix list entry: one required text member and a description, keys in
/// camelCase.
fn entry(mut r: Fields, required: &str) -> Result<Map<String, Value>, DescribeError> {
    let value = r.required_text(required)?;
    let mut out = Map::new();
    r.copy(RANGE, &mut out)?;
    out.insert(camel(required), value.into());
    Ok(out)
}

#[cfg(test)]
mod tests;
