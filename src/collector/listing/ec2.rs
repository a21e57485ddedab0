//! EC2 listings: security groups, instances (from their reservations), VPCs and subnets.

use super::{not_collected, text, Listing};
use crate::collector::aws::{ec2, AwsClient, AwsError};
use crate::ingest::describe::ec2_instance::{self, INSTANCE, RESERVATIONS};
use crate::ingest::describe::ec2_network::{self, SUBNET, SUBNETS, VPC, VPCS};
use crate::ingest::describe::{ec2 as describe_ec2, DescribeError, DescribedItem};
use crate::model::Timestamp;
use serde_json::Value;

/// How an EC2 type is described: the call, where its answer lists the resources, each one's
/// id member, the parameter that names one, the error code for an id that does not exist,
/// and the mapping to an item.
pub(super) struct Ec2Type {
    resource_type: &'static str,
    operation: &'static str,
    list: &'static str,
    id: &'static str,
    id_param: &'static str,
    not_found: &'static str,
    /// The mapping of one resource; none for instances, which come in reservations (see
    /// [`add_reservation`]).
    map: Option<MapResource>,
}

/// Maps one described resource of a region, captured at a time, to its item.
type MapResource = fn(Value, Option<&str>, Timestamp) -> Result<DescribedItem, DescribeError>;

/// The EC2 types the collector describes.
const EC2_TYPES: [Ec2Type; 4] = [
    Ec2Type {
        resource_type: describe_ec2::SECURITY_GROUP,
        operation: "DescribeSecurityGroups",
        list: describe_ec2::SECURITY_GROUPS,
        id: "GroupId",
        id_param: "GroupId.1",
        not_found: "InvalidGroup.NotFound",
        map: Some(describe_ec2::security_group_item),
    },
    Ec2Type {
        resource_type: VPC,
        operation: "DescribeVpcs",
        list: VPCS,
        id: "VpcId",
        id_param: "VpcId.1",
        not_found: "InvalidVpcID.NotFound",
        map: Some(ec2_network::vpc_item),
    },
    Ec2Type {
        resource_type: SUBNET,
        operation: "DescribeSubnets",
        list: SUBNETS,
        id: "SubnetId",
        id_param: "SubnetId.1",
        not_found: "InvalidSubnetID.NotFound",
        map: Some(ec2_network::subnet_item),
    },
    Ec2Type {
        resource_type: INSTANCE,
        operation: "DescribeInstances",
        list: RESERVATIONS,
        id: "InstanceId",
        id_param: "InstanceId.1",
        not_found: "InvalidInstanceID.NotFound",
        map: None,
    },
];

/// An instance EC2 still lists for a while after it ended: AWS Config records it deleted.
const TERMINATED: &str = "terminated";

/// Lists every resource of `kind` in `region`, every page.
pub(super) fn list(
    client: &AwsClient,
    region: &str,
    kind: &Ec2Type,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    let resources = ec2::describe_all(client, region, kind.operation, kind.list)?;
    let mut listing = Listing::default();
    add_resources(&mut listing, kind, resources, region, captured_at);
    Ok(listing)
}

/// Maps the resources of an answer (groups, VPCs, subnets, or reservations of instances).
fn add_resources(
    listing: &mut Listing,
    kind: &Ec2Type,
    resources: Vec<Value>,
    region: &str,
    at: Timestamp,
) {
    for resource in resources {
        match kind.map {
            Some(map) => {
                let id = text(&resource, kind.id);
                listing.add(id, map(resource, Some(region), at));
            }
            None => add_reservation(listing, resource, region, at),
        }
    }
}

/// The instances of one reservation, ended ones left out (so they are recorded deleted).
fn add_reservation(listing: &mut Listing, reservation: Value, region: &str, at: Timestamp) {
    let live = |instance: &Value| {
        instance.pointer("/State/Name").and_then(Value::as_str) != Some(TERMINATED)
    };
    let ids: Vec<Option<String>> = reservation
        .get("Instances")
        .and_then(Value::as_array)
        .map(|instances| {
            instances
                .iter()
                .map(|i| text(i, "InstanceId").filter(|_| live(i)))
                .collect()
        })
        .unwrap_or_default();
    match ec2_instance::reservation_items(reservation, Some(region), at) {
        Ok(instances) => {
            for ((_, mapped), id) in instances.into_iter().zip(ids) {
                if id.is_some() {
                    listing.add(id, mapped);
                }
            }
        }
        Err(e) => {
            // The reservation itself is unreadable: its instances exist, unmapped.
            for id in ids.into_iter().flatten() {
                listing.add(Some(id), Err(e.clone()));
            }
        }
    }
}

/// How `resource_type` is described, when it is an EC2 type the collector describes.
pub(super) fn kind(resource_type: &str) -> Result<&'static Ec2Type, AwsError> {
    EC2_TYPES
        .iter()
        .find(|t| t.resource_type == resource_type)
        .ok_or_else(|| not_collected(resource_type))
}

/// Describes one resource of `kind` again: its item, or `None` when EC2 says it does not exist.
pub(super) fn describe(
    client: &AwsClient,
    region: &str,
    kind: &Ec2Type,
    resource_id: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let filter = [(kind.id_param.to_string(), resource_id.to_string())];
    let answer = match ec2::describe_some(client, region, kind.operation, &filter) {
        Ok(answer) => answer,
        Err(e) if e.code() == Some(kind.not_found) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut listing = Listing::default();
    add_resources(
        &mut listing,
        kind,
        list_of(answer, kind.list),
        region,
        captured_at,
    );
    if let Some(problem) = listing.unmapped.first() {
        return Err(AwsError::Answer {
            operation: kind.operation,
            reason: problem.clone(),
        });
    }
    Ok(listing
        .items
        .into_iter()
        .find(|d| d.item.resource_id == resource_id))
}

fn list_of(mut answer: Value, list: &str) -> Vec<Value> {
    match answer.get_mut(list).map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}
