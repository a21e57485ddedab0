//! EC2 `DescribeSecurityGroups` output → `AWS::EC2::SecurityGroup` configuration items.
//!
//! AWS Config's item for a group (item version 1.3) holds the group as EC2 describes it with
//! its keys in camelCase, except that each permission's `IpRanges` is written `ipv4Ranges` with
//! the legacy `ipRanges` (the bare CIDR strings) next to it, and lists EC2 leaves out are
//! written empty. Members EC2 leaves out (the ports of protocol `-1`) stay out, as in 1.3
//! items. Members AWS Config does not show (`SecurityGroupArn`, new in describe output) are
//! not copied into `configuration`.

use super::{partition, tag, DescribeError, DescribedItem, Fields, ITEM_VERSION};
use crate::ingest::config_item::{arn_part, parse_item};
use crate::ingest::json_type::type_name;
use crate::model::{format_time, looks_like_region, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The resource type groups become.
pub const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";

/// The list `DescribeSecurityGroups` output holds the groups in.
pub const SECURITY_GROUPS: &str = "SecurityGroups";

/// AWS Config's name for a group's link to its VPC.
const IN_VPC: &str = "Is contained in Vpc";

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
    let mut g = match group {
        Value::Object(obj) => Fields {
            obj,
            path: String::new(),
        },
        other => {
            return Err(DescribeError::NotAnObject {
                what: "a security group",
                found: type_name(&other),
            })
        }
    };
    let group_id = g.required_text("GroupId")?;
    let owner_id = g.required_text("OwnerId")?;
    let group_name = g.text("GroupName")?;
    let description = g.text("Description")?;
    let vpc_id = g.text("VpcId")?;
    let given_arn = g.text("SecurityGroupArn")?;
    let ingress = g.objects("IpPermissions", permission)?;
    let egress = g.objects("IpPermissionsEgress", permission)?;
    let tags = g.objects("Tags", tag)?;

    let mut warnings = Vec::new();
    let region = region
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .or_else(|| arn_part(given_arn.as_deref(), 3).filter(|r| looks_like_region(r)));
    let arn = match (&region, given_arn) {
        // EC2's own ARN also names the partition.
        (Some(r), Some(arn)) if arn_part(Some(&arn), 3).as_ref() == Some(r) => arn,
        (Some(r), _) => format!(
            "arn:{}:ec2:{r}:{owner_id}:security-group/{group_id}",
            partition(r)
        ),
        (None, _) => {
            warnings.push(
                "awsRegion: describe output does not say which region it came from; left \
                 empty, and the ARN has no region"
                    .to_string(),
            );
            format!("arn:aws:ec2::{owner_id}:security-group/{group_id}")
        }
    };

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
    configuration.insert(
        "tags".into(),
        tags.iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect(),
    );
    if let Some(vpc) = &vpc_id {
        configuration.insert("vpcId".into(), vpc.as_str().into());
    }

    let relationships: Vec<Value> = vpc_id
        .iter()
        .map(|vpc| {
            json!({"resourceId": vpc, "resourceName": null, "resourceType": "AWS::EC2::VPC", "name": IN_VPC})
        })
        .collect();
    let tag_map: BTreeMap<String, String> = tags.into_iter().collect();
    let mut item = Map::new();
    let mut set = |key: &str, value: Value| item.insert(key.to_string(), value);
    set("configurationItemVersion", ITEM_VERSION.into());
    set(
        "configurationItemCaptureTime",
        format_time(&captured_at).into(),
    );
    set("configurationItemStatus", "OK".into());
    // Empty in every 1.3 item. The state id is AWS Config's own counter: there is none here.
    set("configurationStateMd5Hash", "".into());
    set("awsAccountId", owner_id.into());
    set("ARN", arn.into());
    set("resourceType", SECURITY_GROUP.into());
    set("resourceId", group_id.into());
    if let Some(name) = group_name {
        set("resourceName", name.into());
    }
    set("awsRegion", region.unwrap_or_default().into());
    set("availabilityZone", "Not Applicable".into());
    set("tags", json!(tag_map));
    set("relatedEvents", json!([]));
    set("relationships", relationships.into());
    set("configuration", configuration.into());
    set("supplementaryConfiguration", json!({}));
    let parsed = parse_item(item).map_err(DescribeError::Item)?;
    warnings.extend(parsed.warnings);
    Ok(DescribedItem {
        item: parsed.item,
        warnings,
    })
}

/// One `IpPermission`, as AWS Config 1.3 writes it.
fn permission(mut p: Fields) -> Result<Value, DescribeError> {
    let protocol = p.required_text("IpProtocol")?;
    let from_port = p.integer("FromPort")?;
    let to_port = p.integer("ToPort")?;
    let ipv4 = p.objects("IpRanges", |r| entry(r, "CidrIp", &["Description"]))?;
    let ipv6 = p.objects("Ipv6Ranges", |r| entry(r, "CidrIpv6", &["Description"]))?;
    let prefix_lists = p.objects("PrefixListIds", |r| {
        entry(r, "PrefixListId", &["Description"])
    })?;
    let pairs = p.objects("UserIdGroupPairs", |r| {
        optional_texts(
            r,
            &[
                "Description",
                "GroupId",
                "GroupName",
                "PeeringStatus",
                "UserId",
                "VpcId",
                "VpcPeeringConnectionId",
            ],
        )
        .map(Value::Object)
    })?;
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

/// An object with one required text member and optional ones, keys in camelCase.
fn entry(
    mut r: Fields,
    required: &str,
    optional: &[&str],
) -> Result<Map<String, Value>, DescribeError> {
    let value = r.required_text(required)?;
    let mut out = optional_texts(r, optional)?;
    out.insert(camel(required), value.into());
    Ok(out)
}

/// The text members among `keys` that are present, keys in camelCase.
fn optional_texts(mut r: Fields, keys: &[&str]) -> Result<Map<String, Value>, DescribeError> {
    let mut out = Map::new();
    for key in keys {
        if let Some(value) = r.text(key)? {
            out.insert(camel(key), value.into());
        }
    }
    Ok(out)
}

/// `CidrIpv6` → `cidrIpv6`: EC2's member names with the first letter lowered, as AWS Config
/// writes them.
fn camel(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
