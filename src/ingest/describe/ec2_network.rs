//! EC2 `DescribeVpcs` and `DescribeSubnets` output → `AWS::EC2::VPC` and `AWS::EC2::Subnet`
//! configuration items.
//!
//! AWS Config's items hold the VPC or subnet as EC2 describes it, keys in camelCase. The
//! members copied are those AWS Config's items show (the real items under
//! `tests/data/realdata` and the properties AWS Config lists for each type); newer members of
//! describe output (`BlockPublicAccessStates`, `SubnetArn`, `AvailabilityZoneId`, …) are not.
//! Members EC2 leaves out stay out, as in 1.3 items; the CIDR association lists are written
//! only when EC2 writes them.

use super::{
    item, tag, DescribeError, Described, DescribedItem, Fields, Kind, Member, IN_VPC, VPC_TYPE,
};
use crate::model::Timestamp;
use serde_json::{Map, Value};

/// The resource type VPCs become.
pub const VPC: &str = VPC_TYPE;

/// The list `DescribeVpcs` output holds the VPCs in.
pub const VPCS: &str = "Vpcs";

/// The resource type subnets become.
pub const SUBNET: &str = "AWS::EC2::Subnet";

/// The list `DescribeSubnets` output holds the subnets in.
pub const SUBNETS: &str = "Subnets";

/// AWS Config's availability zone for a VPC, which spans its region's zones.
const VPC_ZONE: &str = "Multiple Availability Zones";

/// The state of a CIDR block association.
const CIDR_STATE: &[Member] = &[("State", Kind::Text)];

/// The members of a VPC AWS Config shows, but `VpcId` and `OwnerId` (required) and `Tags`.
const VPC_MEMBERS: &[Member] = &[
    ("CidrBlock", Kind::Text),
    (
        "CidrBlockAssociationSet",
        Kind::Objects(&[
            ("AssociationId", Kind::Text),
            ("CidrBlock", Kind::Text),
            ("CidrBlockState", Kind::Object(CIDR_STATE)),
        ]),
    ),
    ("DhcpOptionsId", Kind::Text),
    ("InstanceTenancy", Kind::Text),
    (
        "Ipv6CidrBlockAssociationSet",
        Kind::Objects(&[
            ("AssociationId", Kind::Text),
            ("Ipv6CidrBlock", Kind::Text),
            ("Ipv6CidrBlockState", Kind::Object(CIDR_STATE)),
        ]),
    ),
    ("IsDefault", Kind::Boolean),
    ("State", Kind::Text),
];

/// The members of a subnet AWS Config shows, but `SubnetId` and `OwnerId` (required) and
/// `Tags`.
const SUBNET_MEMBERS: &[Member] = &[
    ("AssignIpv6AddressOnCreation", Kind::Boolean),
    ("AvailabilityZone", Kind::Text),
    ("AvailableIpAddressCount", Kind::Integer),
    ("CidrBlock", Kind::Text),
    ("DefaultForAz", Kind::Boolean),
    (
        "Ipv6CidrBlockAssociationSet",
        Kind::Objects(&[
            ("AssociationId", Kind::Text),
            ("Ipv6CidrBlock", Kind::Text),
            ("Ipv6CidrBlockState", Kind::Object(CIDR_STATE)),
        ]),
    ),
    ("MapPublicIpOnLaunch", Kind::Boolean),
    ("State", Kind::Text),
    ("VpcId", Kind::Text),
];

/// Maps one VPC of `DescribeVpcs` output (as the AWS CLI or an SDK writes it: `VpcId`,
/// `CidrBlock`, …) to AWS Config's configuration item for it.
///
/// The output does not say which region it came from: `region` says; without it, `awsRegion`
/// is left empty, the ARN has no region, and a warning says so. `captured_at` is when the VPC
/// was described.
pub fn vpc_item(
    vpc: Value,
    region: Option<&str>,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut v = Fields::resource(vpc, "a VPC")?;
    let vpc_id = v.required_text("VpcId")?;
    let owner_id = v.required_text("OwnerId")?;
    let tags = v.objects("Tags", tag)?;
    let mut configuration = Map::new();
    v.copy(VPC_MEMBERS, &mut configuration)?;
    configuration.insert("vpcId".into(), vpc_id.as_str().into());
    configuration.insert("ownerId".into(), owner_id.as_str().into());
    item(
        Described {
            resource_type: VPC,
            arn_resource: format!("vpc/{vpc_id}"),
            resource_id: vpc_id,
            resource_name: None,
            account_id: owner_id,
            own_arn: None,
            region: region.map(str::to_string),
            availability_zone: Some(VPC_ZONE.to_string()),
            tags,
            // What a VPC contains AWS Config learns from the other resources' descriptions.
            relationships: Vec::new(),
            configuration,
        },
        captured_at,
    )
}

/// Maps one subnet of `DescribeSubnets` output (as the AWS CLI or an SDK writes it:
/// `SubnetId`, `AvailabilityZone`, …) to AWS Config's configuration item for it.
///
/// The region is `region`, else the one of the subnet's `SubnetArn` (newer output), else the
/// one of its availability zone, which is also the item's `availabilityZone`; without any,
/// `awsRegion` is left empty, the ARN has no region, and a warning says so. `captured_at` is
/// when the subnet was described.
pub fn subnet_item(
    subnet: Value,
    region: Option<&str>,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut s = Fields::resource(subnet, "a subnet")?;
    let subnet_id = s.required_text("SubnetId")?;
    let owner_id = s.required_text("OwnerId")?;
    let own_arn = s.text("SubnetArn")?;
    let tags = s.objects("Tags", tag)?;
    let mut configuration = Map::new();
    s.copy(SUBNET_MEMBERS, &mut configuration)?;
    configuration.insert("subnetId".into(), subnet_id.as_str().into());
    configuration.insert("ownerId".into(), owner_id.as_str().into());
    let text = |key: &str| {
        configuration
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let zone = text("availabilityZone");
    let relationships = text("vpcId")
        .map(|vpc| (VPC_TYPE, vpc, IN_VPC))
        .into_iter()
        .collect();
    item(
        Described {
            resource_type: SUBNET,
            arn_resource: format!("subnet/{subnet_id}"),
            resource_id: subnet_id,
            resource_name: None,
            account_id: owner_id,
            own_arn,
            region: region.map(str::to_string),
            availability_zone: zone,
            tags,
            relationships,
            configuration,
        },
        captured_at,
    )
}

#[cfg(test)]
mod tests;
