//! EC2 `DescribeInstances` output → `AWS::EC2::Instance` configuration items.
//!
//! AWS Config's item for an instance holds the instance as EC2 describes it, keys in camelCase
//! and times in AWS Config's form (`2017-04-05T22:15:53.000Z`). The members copied are those
//! AWS Config's instance items show: the real items under `tests/data/realdata`, the properties
//! AWS Config lists for the type, and the 1.3 instance of the bundled example scenario. Newer
//! members of describe output (`Ipv6Address`, `TpmSupport`, `UsageOperationUpdateTime`,
//! `Placement.AvailabilityZoneId`, `NetworkInterfaces[].Ipv4Prefixes`, …) are not copied.
//!
//! Members EC2 leaves out stay out, as in 1.3 items, with two kinds of exception that rules
//! rely on: `publicIpAddress` is written null when EC2 leaves it out (the instance has no public
//! IPv4 address; AWS Config writes the member on every instance, and a rule needs it to say
//! "none"), and the lists AWS Config writes on every instance (`securityGroups`,
//! `networkInterfaces`, `blockDeviceMappings`, `productCodes`, `tags`, and each interface's
//! `groups` and `privateIpAddresses`) are written empty when EC2 leaves them out.
//!
//! The instance's owner is on its reservation (`Reservations[].OwnerId`), not on the instance:
//! [`reservation_items`] maps a whole reservation.

use super::{
    item, tag, DescribeError, Described, DescribedItem, Fields, Kind, Member, IN_VPC, VPC_TYPE,
};
use crate::model::Timestamp;
use serde_json::{Map, Value};

/// The resource type instances become.
pub const INSTANCE: &str = "AWS::EC2::Instance";

/// The list `DescribeInstances` output holds the reservations in.
pub const RESERVATIONS: &str = "Reservations";

/// AWS Config's relationship names and related types for an instance.
const HAS_INTERFACE: (&str, &str) = ("AWS::EC2::NetworkInterface", "Contains NetworkInterface");
const HAS_GROUP: (&str, &str) = (
    "AWS::EC2::SecurityGroup",
    "Is associated with SecurityGroup",
);
const IN_SUBNET: (&str, &str) = ("AWS::EC2::Subnet", "Is contained in Subnet");
const HAS_VOLUME: (&str, &str) = ("AWS::EC2::Volume", "Is attached to Volume");

/// `{GroupName, GroupId}`, of the instance and of each interface.
const GROUP: &[Member] = &[("GroupName", Kind::Text), ("GroupId", Kind::Text)];

/// A public address of an interface or of one of its private addresses.
const ASSOCIATION: &[Member] = &[
    ("CarrierIp", Kind::Text),
    ("IpOwnerId", Kind::Text),
    ("PublicDnsName", Kind::Text),
    ("PublicIp", Kind::Text),
];

const PRIVATE_IP: &[Member] = &[
    ("Association", Kind::Object(ASSOCIATION)),
    ("Primary", Kind::Boolean),
    ("PrivateDnsName", Kind::Text),
    ("PrivateIpAddress", Kind::Text),
];

const ATTACHMENT: &[Member] = &[
    ("AttachTime", Kind::Time),
    ("AttachmentId", Kind::Text),
    ("DeleteOnTermination", Kind::Boolean),
    ("DeviceIndex", Kind::Integer),
    ("NetworkCardIndex", Kind::Integer),
    ("Status", Kind::Text),
];

const NETWORK_INTERFACE: &[Member] = &[
    ("Association", Kind::Object(ASSOCIATION)),
    ("Attachment", Kind::Object(ATTACHMENT)),
    ("Description", Kind::Text),
    ("Groups", Kind::ObjectsOrEmpty(GROUP)),
    ("InterfaceType", Kind::Text),
    (
        "Ipv6Addresses",
        Kind::Objects(&[("Ipv6Address", Kind::Text)]),
    ),
    ("MacAddress", Kind::Text),
    ("NetworkInterfaceId", Kind::Text),
    ("OwnerId", Kind::Text),
    ("PrivateDnsName", Kind::Text),
    ("PrivateIpAddress", Kind::Text),
    ("PrivateIpAddresses", Kind::ObjectsOrEmpty(PRIVATE_IP)),
    ("SourceDestCheck", Kind::Boolean),
    ("Status", Kind::Text),
    ("SubnetId", Kind::Text),
    ("VpcId", Kind::Text),
];

const EBS: &[Member] = &[
    ("AttachTime", Kind::Time),
    ("DeleteOnTermination", Kind::Boolean),
    ("Status", Kind::Text),
    ("VolumeId", Kind::Text),
];

const BLOCK_DEVICE: &[Member] = &[("DeviceName", Kind::Text), ("Ebs", Kind::Object(EBS))];

const PLACEMENT: &[Member] = &[
    ("Affinity", Kind::Text),
    ("AvailabilityZone", Kind::Text),
    ("GroupName", Kind::Text),
    ("HostId", Kind::Text),
    ("HostResourceGroupArn", Kind::Text),
    ("PartitionNumber", Kind::Integer),
    ("SpreadDomain", Kind::Text),
    ("Tenancy", Kind::Text),
];

/// The members of an instance AWS Config shows, but `InstanceId` (required) and `Tags`.
const INSTANCE_MEMBERS: &[Member] = &[
    ("AmiLaunchIndex", Kind::Integer),
    ("Architecture", Kind::Text),
    ("BlockDeviceMappings", Kind::ObjectsOrEmpty(BLOCK_DEVICE)),
    ("BootMode", Kind::Text),
    ("CapacityReservationId", Kind::Text),
    (
        "CapacityReservationSpecification",
        Kind::Object(&[
            ("CapacityReservationPreference", Kind::Text),
            (
                "CapacityReservationTarget",
                Kind::Object(&[
                    ("CapacityReservationId", Kind::Text),
                    ("CapacityReservationResourceGroupArn", Kind::Text),
                ]),
            ),
        ]),
    ),
    ("ClientToken", Kind::Text),
    (
        "CpuOptions",
        Kind::Object(&[
            ("CoreCount", Kind::Integer),
            ("ThreadsPerCore", Kind::Integer),
        ]),
    ),
    ("CurrentInstanceBootMode", Kind::Text),
    ("EbsOptimized", Kind::Boolean),
    (
        "ElasticGpuAssociations",
        Kind::Objects(&[
            ("ElasticGpuAssociationId", Kind::Text),
            ("ElasticGpuAssociationState", Kind::Text),
            // A string in EC2's model, not a timestamp.
            ("ElasticGpuAssociationTime", Kind::Text),
            ("ElasticGpuId", Kind::Text),
        ]),
    ),
    (
        "ElasticInferenceAcceleratorAssociations",
        Kind::Objects(&[
            ("ElasticInferenceAcceleratorArn", Kind::Text),
            ("ElasticInferenceAcceleratorAssociationId", Kind::Text),
            ("ElasticInferenceAcceleratorAssociationState", Kind::Text),
            ("ElasticInferenceAcceleratorAssociationTime", Kind::Time),
        ]),
    ),
    ("EnaSupport", Kind::Boolean),
    (
        "EnclaveOptions",
        Kind::Object(&[("Enabled", Kind::Boolean)]),
    ),
    (
        "HibernationOptions",
        Kind::Object(&[("Configured", Kind::Boolean)]),
    ),
    ("Hypervisor", Kind::Text),
    (
        "IamInstanceProfile",
        Kind::Object(&[("Arn", Kind::Text), ("Id", Kind::Text)]),
    ),
    ("ImageId", Kind::Text),
    ("InstanceLifecycle", Kind::Text),
    ("InstanceType", Kind::Text),
    ("KernelId", Kind::Text),
    ("KeyName", Kind::Text),
    ("LaunchTime", Kind::Time),
    (
        "Licenses",
        Kind::Objects(&[("LicenseConfigurationArn", Kind::Text)]),
    ),
    (
        "MaintenanceOptions",
        Kind::Object(&[("AutoRecovery", Kind::Text)]),
    ),
    (
        "MetadataOptions",
        Kind::Object(&[
            ("HttpEndpoint", Kind::Text),
            ("HttpProtocolIpv6", Kind::Text),
            ("HttpPutResponseHopLimit", Kind::Integer),
            ("HttpTokens", Kind::Text),
            ("InstanceMetadataTags", Kind::Text),
            ("State", Kind::Text),
        ]),
    ),
    ("Monitoring", Kind::Object(&[("State", Kind::Text)])),
    ("NetworkInterfaces", Kind::ObjectsOrEmpty(NETWORK_INTERFACE)),
    ("OutpostArn", Kind::Text),
    ("Placement", Kind::Object(PLACEMENT)),
    ("Platform", Kind::Text),
    ("PlatformDetails", Kind::Text),
    ("PrivateDnsName", Kind::Text),
    (
        "PrivateDnsNameOptions",
        Kind::Object(&[
            ("EnableResourceNameDnsAAAARecord", Kind::Boolean),
            ("EnableResourceNameDnsARecord", Kind::Boolean),
            ("HostnameType", Kind::Text),
        ]),
    ),
    ("PrivateIpAddress", Kind::Text),
    (
        "ProductCodes",
        Kind::ObjectsOrEmpty(&[
            ("ProductCodeId", Kind::Text),
            ("ProductCodeType", Kind::Text),
        ]),
    ),
    ("PublicDnsName", Kind::Text),
    ("PublicIpAddress", Kind::Text),
    ("RamdiskId", Kind::Text),
    ("RootDeviceName", Kind::Text),
    ("RootDeviceType", Kind::Text),
    ("SecurityGroups", Kind::ObjectsOrEmpty(GROUP)),
    ("SourceDestCheck", Kind::Boolean),
    ("SpotInstanceRequestId", Kind::Text),
    ("SriovNetSupport", Kind::Text),
    (
        "State",
        Kind::Object(&[("Code", Kind::Integer), ("Name", Kind::Text)]),
    ),
    (
        "StateReason",
        Kind::Object(&[("Code", Kind::Text), ("Message", Kind::Text)]),
    ),
    ("StateTransitionReason", Kind::Text),
    ("SubnetId", Kind::Text),
    ("UsageOperation", Kind::Text),
    ("VirtualizationType", Kind::Text),
    ("VpcId", Kind::Text),
];

/// Maps one instance of `DescribeInstances` output (an element of `Reservations[].Instances`,
/// as the AWS CLI or an SDK writes it: `InstanceId`, `NetworkInterfaces`, …) to AWS Config's
/// configuration item for it.
///
/// `reservation_owner` is the `OwnerId` of the instance's reservation, the instance's account.
/// Without it (instances taken out of their reservations with `--query`), the owner of the
/// first network interface stands in, with a warning. The region is `region`, else the one of
/// the instance's availability zone (`Placement.AvailabilityZone`), which is also the item's
/// `availabilityZone`; without either, `awsRegion` is left empty, the ARN has no region, and a
/// warning says so. `captured_at` is when the instance was described.
pub fn instance_item(
    instance: Value,
    reservation_owner: Option<&str>,
    region: Option<&str>,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut i = Fields::resource(instance, "an instance")?;
    let instance_id = i.required_text("InstanceId")?;
    let tags = i.objects("Tags", tag)?;
    let mut configuration = Map::new();
    i.copy(INSTANCE_MEMBERS, &mut configuration)?;
    configuration.insert("instanceId".into(), instance_id.as_str().into());
    // EC2 leaves the member out when there is no public address; AWS Config writes null.
    configuration
        .entry("publicIpAddress")
        .or_insert(Value::Null);

    let mut warnings = Vec::new();
    let account_id = match reservation_owner.filter(|o| !o.is_empty()) {
        Some(owner) => owner.to_string(),
        None => match text_at(&configuration, &["networkInterfaces", "0", "ownerId"]) {
            Some(owner) if !owner.is_empty() => {
                warnings.push(
                    "awsAccountId: the reservation's OwnerId was not given; taken from \
                     NetworkInterfaces[0].OwnerId"
                        .to_string(),
                );
                owner.to_string()
            }
            _ => {
                return Err(DescribeError::Missing(
                    "OwnerId of the reservation (and no network interface names an owner)"
                        .to_string(),
                ))
            }
        },
    };
    let zone = text_at(&configuration, &["placement", "availabilityZone"]).map(str::to_string);

    let mut relationships = Vec::new();
    let mut relate = |(resource_type, name): (&'static str, &'static str), id: Option<&str>| {
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            relationships.push((resource_type, id.to_string(), name));
        }
    };
    for interface in list_at(&configuration, "networkInterfaces") {
        relate(HAS_INTERFACE, text_at(interface, &["networkInterfaceId"]));
    }
    for group in list_at(&configuration, "securityGroups") {
        relate(HAS_GROUP, text_at(group, &["groupId"]));
    }
    relate(IN_SUBNET, text_at(&configuration, &["subnetId"]));
    for device in list_at(&configuration, "blockDeviceMappings") {
        relate(HAS_VOLUME, text_at(device, &["ebs", "volumeId"]));
    }
    relate((VPC_TYPE, IN_VPC), text_at(&configuration, &["vpcId"]));

    let mut described = item(
        Described {
            resource_type: INSTANCE,
            arn_resource: format!("instance/{instance_id}"),
            resource_id: instance_id,
            // AWS Config gives instances no resource name.
            resource_name: None,
            account_id,
            own_arn: None,
            region: region.map(str::to_string),
            availability_zone: zone,
            tags,
            relationships,
            configuration,
        },
        captured_at,
    )?;
    warnings.append(&mut described.warnings);
    described.warnings = warnings;
    Ok(described)
}

/// One instance of a reservation: its path in the reservation (`Instances[1]`) and what
/// became of it.
pub type ReservedInstance = (String, Result<DescribedItem, DescribeError>);

/// The items of one reservation of `DescribeInstances` output: each instance of its
/// `Instances`, with its path in the reservation (`Instances[1]`) and what became of it. An
/// error when the reservation itself cannot be read (not an object, `OwnerId` not text,
/// `Instances` missing or not a list).
pub fn reservation_items(
    reservation: Value,
    region: Option<&str>,
    captured_at: Timestamp,
) -> Result<Vec<ReservedInstance>, DescribeError> {
    let mut r = Fields::resource(reservation, "a reservation")?;
    let owner = r.text("OwnerId")?;
    Ok(r.required_list("Instances")?
        .into_iter()
        .map(|(path, instance)| {
            let described = instance_item(instance, owner.as_deref(), region, captured_at);
            (path, described)
        })
        .collect())
}

/// The text at `path` in a mapped configuration (object keys, or list indices as digits).
fn text_at<'a>(value: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (first, rest) = path.split_first()?;
    let mut at = value.get(*first)?;
    for key in rest {
        at = match at {
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            other => other.get(*key)?,
        };
    }
    at.as_str()
}

/// The objects of the list `key` in a mapped configuration.
fn list_at<'a>(
    value: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a Map<String, Value>> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

#[cfg(test)]
mod tests;
