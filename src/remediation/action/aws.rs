//! AWS actions: the change one of AWS's common remediation documents makes, decided from the
//! judged configuration item and made through AWS's API with the collector's credentials.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ActionRequest;
use crate::collector::aws::changes::{self, IngressPermission};
use crate::collector::aws::retry::is_retryable;
use crate::collector::aws::{AwsClient, AwsError};
use crate::model::{ActionResult, AttemptOutcome, AwsAction, AwsOperation, ConfigurationItem};

/// The IPv4 range that means anyone.
const WORLD_V4: &str = "0.0.0.0/0";
/// The IPv6 range that means anyone.
const WORLD_V6: &str = "::/0";

/// Grantees that make an S3 ACL public.
const PUBLIC_GRANTEES: [&str; 2] = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/// Days after which `deactivate-old-access-keys` deactivates a key, without `maxAgeDays`.
const DEFAULT_MAX_KEY_AGE_DAYS: i64 = 90;

/// What an AWS action works on and with.
pub struct AwsTarget<'a> {
    /// Signs for the resource's account; none when no collector account is configured for it.
    pub client: Option<&'a AwsClient>,
    /// The judged configuration item.
    pub item: &'a ConfigurationItem,
    /// The action's parameters, resolved from the item.
    pub parameters: &'a BTreeMap<String, Value>,
}

/// Runs one attempt of an AWS action.
pub(super) fn run_aws(action: &AwsAction, request: &ActionRequest<'_>) -> ActionResult {
    let permanent = |message: String| ActionResult::plain(AttemptOutcome::Permanent, message);
    let Some(target) = &request.aws else {
        return permanent("an aws action runs only as a remediation of a judged resource".into());
    };
    let item = target.item;
    let operation = action.operation;
    if item.resource_type != operation.resource_type() {
        return permanent(format!(
            "{} changes {}, not {} {}",
            operation.as_str(),
            operation.resource_type(),
            item.resource_type,
            item.resource_id
        ));
    }
    let Some(client) = target.client else {
        return permanent(format!(
            "no collector account signs for account {}: add it to [[collector.accounts]] in the server's configuration",
            item.account_id
        ));
    };
    let outcome = match operation {
        AwsOperation::RevokeWorldOpenIngress => revoke_world_open(client, item, target.parameters),
        AwsOperation::PutPublicAccessBlock => {
            changes::block_bucket_public_access(client, &item.aws_region, &item.resource_id)
                .map(|()| "blocked all public access to the bucket".to_string())
        }
        AwsOperation::EnableDefaultEncryption => {
            let key = text_parameter(target.parameters, "kmsKeyId");
            changes::enable_bucket_encryption(
                client,
                &item.aws_region,
                &item.resource_id,
                key.as_deref(),
            )
            .map(|()| match key {
                Some(key) => format!("set default encryption to SSE-KMS with {key}"),
                None => "set default encryption to SSE-S3 (AES256)".to_string(),
            })
        }
        AwsOperation::EnableVersioning => {
            changes::enable_bucket_versioning(client, &item.aws_region, &item.resource_id)
                .map(|()| "enabled versioning".to_string())
        }
        AwsOperation::RemovePublicAclGrants => remove_public_grants(client, item),
        AwsOperation::DeactivateOldAccessKeys => match max_key_age(target.parameters) {
            Ok(days) => deactivate_old_keys(client, item, days),
            Err(message) => return permanent(message),
        },
    };
    match outcome {
        Ok(message) => ActionResult::plain(AttemptOutcome::Succeeded, message),
        Err(e) => ActionResult::plain(failure_outcome(&e), e.to_string()),
    }
}

/// Throttling, server errors and lost connections may pass; AWS refusing the request (access
/// denied, invalid parameters) will not.
fn failure_outcome(error: &AwsError) -> AttemptOutcome {
    match error {
        AwsError::Service { status, code, .. } if !is_retryable(*status, code.as_deref()) => {
            AttemptOutcome::Permanent
        }
        AwsError::Service { .. } | AwsError::Transport { .. } | AwsError::Credentials(_) => {
            AttemptOutcome::Retryable
        }
        AwsError::Request(_) | AwsError::Answer { .. } | AwsError::Model(_) => {
            AttemptOutcome::Permanent
        }
    }
}

fn revoke_world_open(
    client: &AwsClient,
    item: &ConfigurationItem,
    parameters: &BTreeMap<String, Value>,
) -> Result<String, AwsError> {
    let ports = match text_parameter(parameters, "ports") {
        None => None,
        Some(text) => Some(parse_ports(&text).map_err(AwsError::Request)?),
    };
    let open = world_open_permissions(&item.configuration, ports.as_deref());
    if open.is_empty() {
        return Ok("no ingress permission is open to the world on those ports".into());
    }
    let group = &item.resource_id;
    match changes::revoke_ingress(client, &item.aws_region, group, &open) {
        // Already revoked by someone else: what the job wanted is true.
        Err(e) if e.code() == Some("InvalidPermission.NotFound") => {}
        other => other?,
    }
    let what: Vec<String> = open.iter().map(describe_permission).collect();
    Ok(format!("revoked from {group}: {}", what.join("; ")))
}

/// The ingress permissions of a group's configuration (AWS Config's camelCase) open to
/// 0.0.0.0/0 or ::/0, each with only its world ranges, that cover one of `ports` (all when
/// none are given; a permission for all protocols covers every port).
pub fn world_open_permissions(
    configuration: &Value,
    ports: Option<&[i64]>,
) -> Vec<IngressPermission> {
    let empty = Vec::new();
    let permissions = configuration
        .get("ipPermissions")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let mut open = Vec::new();
    for permission in permissions {
        let protocol = match permission.get("ipProtocol") {
            Some(Value::String(p)) => p.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        let from_port = permission.get("fromPort").and_then(Value::as_i64);
        let to_port = permission.get("toPort").and_then(Value::as_i64);
        let all_protocols = protocol == "-1";
        let ported = matches!(protocol.as_str(), "tcp" | "udp" | "6" | "17");
        let covers = |port: i64| {
            all_protocols
                || (ported
                    && from_port.is_none_or(|from| from == -1 || from <= port)
                    && to_port.is_none_or(|to| to == -1 || port <= to))
        };
        if let Some(ports) = ports {
            if !ports.iter().any(|p| covers(*p)) {
                continue;
            }
        }
        let v4 = ranges(permission, "ipv4Ranges", "cidrIp").chain(
            permission
                .get("ipRanges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        let ipv4_ranges: Vec<String> = v4
            .filter(|cidr| *cidr == WORLD_V4)
            .take(1)
            .map(str::to_string)
            .collect();
        let ipv6_ranges: Vec<String> = ranges(permission, "ipv6Ranges", "cidrIpv6")
            .filter(|cidr| *cidr == WORLD_V6)
            .take(1)
            .map(str::to_string)
            .collect();
        if ipv4_ranges.is_empty() && ipv6_ranges.is_empty() {
            continue;
        }
        open.push(IngressPermission {
            protocol,
            from_port: from_port.filter(|_| !all_protocols),
            to_port: to_port.filter(|_| !all_protocols),
            ipv4_ranges,
            ipv6_ranges,
        });
    }
    open
}

fn ranges<'a>(permission: &'a Value, list: &str, key: &'a str) -> impl Iterator<Item = &'a str> {
    permission
        .get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(move |range| range.get(key).and_then(Value::as_str))
}

fn describe_permission(permission: &IngressPermission) -> String {
    let ports = match (permission.from_port, permission.to_port) {
        (Some(from), Some(to)) if from == to => format!(" {from}"),
        (Some(from), Some(to)) => format!(" {from}-{to}"),
        _ => String::new(),
    };
    let protocol = match permission.protocol.as_str() {
        "-1" => "all traffic",
        other => other,
    };
    let ranges = [&permission.ipv4_ranges[..], &permission.ipv6_ranges[..]].concat();
    format!("{protocol}{ports} from {}", ranges.join(" and "))
}

/// `"22"`, `"22,3389"` or `[22, 3389]` as JSON text.
fn parse_ports(text: &str) -> Result<Vec<i64>, String> {
    let cleaned = text.trim().trim_start_matches('[').trim_end_matches(']');
    cleaned
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.parse::<i64>() {
            Ok(port) if (0..=65535).contains(&port) => Ok(port),
            _ => Err(format!(
                "parameter ports: {p:?} is not a port (0-65535); give ports as \"22,3389\""
            )),
        })
        .collect()
}

fn remove_public_grants(client: &AwsClient, item: &ConfigurationItem) -> Result<String, AwsError> {
    let (region, bucket) = (&item.aws_region, &item.resource_id);
    let acl = changes::bucket_acl(client, region, bucket)?;
    let grants: Vec<Value> = acl
        .get("Grants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (public, kept): (Vec<Value>, Vec<Value>) = grants.into_iter().partition(|grant| {
        grant
            .pointer("/Grantee/URI")
            .and_then(Value::as_str)
            .is_some_and(|uri| PUBLIC_GRANTEES.contains(&uri))
    });
    if public.is_empty() {
        return Ok("the bucket's ACL grants nothing to everyone or to all AWS users".into());
    }
    let owner = acl.get("Owner").cloned().unwrap_or(Value::Null);
    changes::put_bucket_acl(client, region, bucket, &owner, &kept)?;
    let removed: Vec<String> = public
        .iter()
        .map(|grant| {
            let who = grant
                .pointer("/Grantee/URI")
                .and_then(Value::as_str)
                .and_then(|uri| uri.rsplit('/').next())
                .unwrap_or("?");
            let permission = grant
                .get("Permission")
                .and_then(Value::as_str)
                .unwrap_or("?");
            format!("{permission} to {who}")
        })
        .collect();
    Ok(format!(
        "removed from the bucket's ACL: {}",
        removed.join(", ")
    ))
}

fn max_key_age(parameters: &BTreeMap<String, Value>) -> Result<i64, String> {
    match text_parameter(parameters, "maxAgeDays") {
        None => Ok(DEFAULT_MAX_KEY_AGE_DAYS),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(days) if days >= 0 => Ok(days),
            _ => Err(format!(
                "parameter maxAgeDays: {text:?} is not a number of days"
            )),
        },
    }
}

fn deactivate_old_keys(
    client: &AwsClient,
    item: &ConfigurationItem,
    max_age_days: i64,
) -> Result<String, AwsError> {
    let user = item.resource_name.as_deref().unwrap_or(&item.resource_id);
    let now = chrono::Utc::now();
    let mut deactivated = Vec::new();
    for key in changes::access_keys(client, user)? {
        let created =
            chrono::DateTime::parse_from_rfc3339(&key.created).map_err(|e| AwsError::Answer {
                operation: "ListAccessKeys",
                reason: format!("{}: CreateDate {:?}: {e}", key.id, key.created),
            })?;
        let age = now - created.with_timezone(&chrono::Utc);
        let age_days = age.num_days();
        if key.status == "Active" && age > chrono::Duration::days(max_age_days) {
            changes::deactivate_access_key(client, user, &key.id)?;
            deactivated.push(format!("{} ({age_days} days old)", key.id));
        }
    }
    Ok(if deactivated.is_empty() {
        format!("{user} has no active access key older than {max_age_days} days")
    } else {
        format!(
            "deactivated access keys of {user}: {}",
            deactivated.join(", ")
        )
    })
}

/// A parameter as text: a JSON string as is, anything else as JSON.
fn text_parameter(parameters: &BTreeMap<String, Value>, name: &str) -> Option<String> {
    match parameters.get(name)? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group() -> Value {
        json!({"ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
             "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}, {"cidrIp": "10.0.0.0/8"}],
             "ipRanges": ["0.0.0.0/0", "10.0.0.0/8"],
             "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
             "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]},
            {"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389,
             "ipv4Ranges": [{"cidrIp": "192.168.0.0/16"}]},
            {"ipProtocol": "udp", "fromPort": 1000, "toPort": 2000,
             "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
            {"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}
        ]})
    }

    fn permission(
        protocol: &str,
        ports: Option<(i64, i64)>,
        v4: bool,
        v6: bool,
    ) -> IngressPermission {
        IngressPermission {
            protocol: protocol.into(),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
            ipv4_ranges: if v4 { vec![WORLD_V4.into()] } else { vec![] },
            ipv6_ranges: if v6 { vec![WORLD_V6.into()] } else { vec![] },
        }
    }

    #[test]
    fn only_the_world_ranges_of_the_permissions_on_the_ports_asked_are_chosen() {
        let cases: [(Option<&[i64]>, Vec<IngressPermission>); 4] = [
            (
                Some(&[22]),
                vec![
                    permission("tcp", Some((22, 22)), true, true),
                    permission("-1", None, true, false),
                ],
            ),
            (
                Some(&[1500]),
                vec![
                    permission("udp", Some((1000, 2000)), false, true),
                    permission("-1", None, true, false),
                ],
            ),
            (Some(&[3389]), vec![permission("-1", None, true, false)]),
            (
                None,
                vec![
                    permission("tcp", Some((22, 22)), true, true),
                    permission("tcp", Some((443, 443)), true, false),
                    permission("udp", Some((1000, 2000)), false, true),
                    permission("-1", None, true, false),
                ],
            ),
        ];
        for (ports, expected) in cases {
            assert_eq!(
                world_open_permissions(&group(), ports),
                expected,
                "ports {ports:?}"
            );
        }
    }

    #[test]
    fn ports_parameters_are_read_or_refused_by_name() {
        assert_eq!(parse_ports("22, 3389").unwrap(), vec![22, 3389]);
        assert_eq!(parse_ports("[22,3389]").unwrap(), vec![22, 3389]);
        let error = parse_ports("22,ssh").unwrap_err();
        assert!(error.contains("ports") && error.contains("ssh"), "{error}");
        assert!(parse_ports("70000").is_err());
    }

    #[test]
    fn the_key_age_is_a_whole_number_of_days() {
        let params = |v: Value| BTreeMap::from([("maxAgeDays".to_string(), v)]);
        assert_eq!(max_key_age(&BTreeMap::new()).unwrap(), 90);
        assert_eq!(max_key_age(&params(json!("30"))).unwrap(), 30);
        assert_eq!(max_key_age(&params(json!(7))).unwrap(), 7);
        assert!(max_key_age(&params(json!("soon")))
            .unwrap_err()
            .contains("maxAgeDays"));
    }

    #[test]
    fn refusals_are_permanent_and_throttling_is_not() {
        let service = |status, code: &str| AwsError::Service {
            service: "ec2",
            operation: "RevokeSecurityGroupIngress",
            status,
            code: Some(code.into()),
            message: String::new(),
            request_id: None,
        };
        assert_eq!(
            failure_outcome(&service(403, "UnauthorizedOperation")),
            AttemptOutcome::Permanent
        );
        assert_eq!(
            failure_outcome(&service(400, "RequestLimitExceeded")),
            AttemptOutcome::Retryable
        );
        assert_eq!(
            failure_outcome(&service(503, "ServiceUnavailable")),
            AttemptOutcome::Retryable
        );
    }
}
