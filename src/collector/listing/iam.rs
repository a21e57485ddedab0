//! IAM listings: users, roles and customer managed policies. Each is listed, then described in
//! full by name (by ARN for a policy), the same way whether a sweep lists it or an API call
//! names it, so the two give the same item. Each description is put in the shape of
//! `get-account-authorization-details` output for the mapping to read.

use super::{text, unreadable, Found, Listing};
use crate::collector::aws::iam::{call, call_if_exists, list_all, pages};
use crate::collector::aws::{AwsClient, AwsError};
use crate::collector::each::describe_each;
use crate::ingest::describe::iam::{self, Attachment, IamContext, GROUP, POLICY, ROLE, USER};
use crate::ingest::describe::DescribedItem;
use crate::model::Timestamp;
use serde_json::{Map, Value};

/// Lists every resource of an IAM type in the account.
pub(super) fn list(
    client: &AwsClient,
    resource_type: &str,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    let found = match resource_type {
        USER | ROLE => {
            let (operation, list_key, id_key, name_key) = if resource_type == USER {
                ("ListUsers", "Users", "UserId", "UserName")
            } else {
                ("ListRoles", "Roles", "RoleId", "RoleName")
            };
            let ctx = context(client)?;
            describe_each(list_all(client, operation, &[], list_key)?, |entry| {
                let (Some(id), Some(name)) = (text(&entry, id_key), text(&entry, name_key)) else {
                    return Found::Unlisted(format!("{operation}: an entry without a name or id"));
                };
                let described = if resource_type == USER {
                    describe_user(client, &name, &ctx, captured_at)
                } else {
                    describe_role(client, &name, &ctx, captured_at)
                };
                match described {
                    // The name is gone by now, or is someone else's (deleted and made again).
                    Ok(None) => Found::Nothing,
                    Ok(Some(item)) if item.item.resource_id != id => Found::Nothing,
                    Ok(Some(item)) => Found::Described(id, Ok(Box::new(item))),
                    Err(e) => Found::Failed(id, e),
                }
            })
        }
        POLICY => describe_each(local_policies(client)?, |entry| {
            let (Some(id), Some(arn)) = (text(&entry, "PolicyId"), text(&entry, "Arn")) else {
                return Found::Unlisted("ListPolicies: an entry without an id or ARN".into());
            };
            match describe_policy(client, &arn, captured_at) {
                Ok(None) => Found::Nothing,
                Ok(Some(item)) => Found::Described(id, Ok(Box::new(item))),
                Err(e) => Found::Failed(id, e),
            }
        }),
        other => return Err(super::not_collected(other)),
    };
    let mut listing = Listing::default();
    listing.take(found);
    Ok(listing)
}

/// Describes one IAM resource again, named as API calls name it: a user or role by name, a
/// policy by ARN, name or id. `None` when IAM has no such resource.
pub(super) fn describe(
    client: &AwsClient,
    resource_type: &str,
    identifier: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    match resource_type {
        USER => describe_user(client, identifier, &context(client)?, captured_at),
        ROLE => describe_role(client, identifier, &context(client)?, captured_at),
        POLICY if identifier.starts_with("arn:") => {
            describe_policy(client, identifier, captured_at)
        }
        POLICY => {
            let found = local_policies(client)?.into_iter().find(|p| {
                text(p, "PolicyName").as_deref() == Some(identifier)
                    || text(p, "PolicyId").as_deref() == Some(identifier)
            });
            match found.and_then(|p| text(&p, "Arn")) {
                Some(arn) => describe_policy(client, &arn, captured_at),
                None => Ok(None),
            }
        }
        other => Err(super::not_collected(other)),
    }
}

/// The account's customer managed policies (`ListPolicies`, `Scope=Local`).
fn local_policies(client: &AwsClient) -> Result<Vec<Value>, AwsError> {
    list_all(client, "ListPolicies", &[("Scope", "Local")], "Policies")
}

/// The ids of the account's customer managed policies, which users' and roles' relationships
/// name. (Groups' ids come with each user's groups.)
fn context(client: &AwsClient) -> Result<IamContext, AwsError> {
    let mut ctx = IamContext::default();
    for policy in local_policies(client)? {
        if let (Some(arn), Some(id)) = (text(&policy, "Arn"), text(&policy, "PolicyId")) {
            ctx.policy_ids.insert(arn, id);
        }
    }
    Ok(ctx)
}

/// A list of the answer, empty when absent.
fn take_list(answer: &mut Value, key: &str) -> Vec<Value> {
    match answer.get_mut(key).map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// The inline policies (`{PolicyName, PolicyDocument}`) of a user or role: the names from
/// `list_operation`, each document from `get_operation`.
fn inline_policies(
    client: &AwsClient,
    list_operation: &'static str,
    get_operation: &'static str,
    owner_key: &str,
    owner: &str,
) -> Result<Vec<Value>, AwsError> {
    let mut policies = Vec::new();
    for name in list_all(client, list_operation, &[(owner_key, owner)], "PolicyNames")? {
        let Some(name) = name.as_str() else { continue };
        let answer = call(
            client,
            get_operation,
            &[(owner_key, owner), ("PolicyName", name)],
        )?;
        let mut policy = Map::new();
        policy.insert("PolicyName".into(), name.into());
        policy.insert(
            "PolicyDocument".into(),
            answer.get("PolicyDocument").cloned().unwrap_or(Value::Null),
        );
        policies.push(policy.into());
    }
    Ok(policies)
}

/// One user: `GetUser`, its inline and attached policies, groups, MFA devices, access keys and
/// login profile. `None` when IAM has no such user.
fn describe_user(
    client: &AwsClient,
    name: &str,
    ctx: &IamContext,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let Some(mut answer) = call_if_exists(client, "GetUser", &[("UserName", name)])? else {
        return Ok(None);
    };
    let Some(Value::Object(mut user)) = answer.get_mut("User").map(Value::take) else {
        return Err(AwsError::Answer {
            operation: "GetUser",
            reason: format!("{name}: no User in the answer"),
        });
    };
    let who = [("UserName", name)];
    let inline = inline_policies(
        client,
        "ListUserPolicies",
        "GetUserPolicy",
        "UserName",
        name,
    )?;
    let attached = list_all(client, "ListAttachedUserPolicies", &who, "AttachedPolicies")?;
    let groups = list_all(client, "ListGroupsForUser", &who, "Groups")?;
    let mfa = list_all(client, "ListMFADevices", &who, "MFADevices")?;
    let keys = list_all(client, "ListAccessKeys", &who, "AccessKeyMetadata")?;
    let profile = call_if_exists(client, "GetLoginProfile", &who)?
        .and_then(|mut a| a.get_mut("LoginProfile").map(Value::take));
    let mut ctx = ctx.clone();
    let mut group_names = Vec::new();
    for group in &groups {
        if let (Some(group), Some(id)) = (text(group, "GroupName"), text(group, "GroupId")) {
            ctx.group_ids.insert(group.clone(), id);
            group_names.push(Value::String(group));
        }
    }
    user.insert("UserPolicyList".into(), inline.into());
    user.insert("AttachedManagedPolicies".into(), attached.into());
    user.insert("GroupList".into(), group_names.into());
    user.insert("MFADevices".into(), mfa.into());
    user.insert("AccessKeys".into(), keys.into());
    if let Some(profile) = profile {
        user.insert("LoginProfile".into(), profile);
    }
    iam::user_item(user.into(), &ctx, captured_at)
        .map(Some)
        .map_err(|e| unreadable(USER, name, e))
}

/// One role: `GetRole`, its inline and attached policies and instance profiles. `None` when
/// IAM has no such role.
fn describe_role(
    client: &AwsClient,
    name: &str,
    ctx: &IamContext,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let Some(mut answer) = call_if_exists(client, "GetRole", &[("RoleName", name)])? else {
        return Ok(None);
    };
    let Some(Value::Object(mut role)) = answer.get_mut("Role").map(Value::take) else {
        return Err(AwsError::Answer {
            operation: "GetRole",
            reason: format!("{name}: no Role in the answer"),
        });
    };
    let who = [("RoleName", name)];
    let inline = inline_policies(
        client,
        "ListRolePolicies",
        "GetRolePolicy",
        "RoleName",
        name,
    )?;
    let attached = list_all(client, "ListAttachedRolePolicies", &who, "AttachedPolicies")?;
    let profiles = list_all(
        client,
        "ListInstanceProfilesForRole",
        &who,
        "InstanceProfiles",
    )?;
    // Changes on every use of the role: not configuration.
    role.remove("RoleLastUsed");
    role.insert("RolePolicyList".into(), inline.into());
    role.insert("AttachedManagedPolicies".into(), attached.into());
    role.insert("InstanceProfileList".into(), profiles.into());
    iam::role_item(role.into(), ctx, captured_at)
        .map(Some)
        .map_err(|e| unreadable(ROLE, name, e))
}

/// One customer managed policy: `GetPolicy`, its default version's document and who it is
/// attached to. `None` when IAM has no such policy.
fn describe_policy(
    client: &AwsClient,
    arn: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let Some(mut answer) = call_if_exists(client, "GetPolicy", &[("PolicyArn", arn)])? else {
        return Ok(None);
    };
    let Some(Value::Object(mut policy)) = answer.get_mut("Policy").map(Value::take) else {
        return Err(AwsError::Answer {
            operation: "GetPolicy",
            reason: format!("{arn}: no Policy in the answer"),
        });
    };
    let mut versions = Vec::new();
    if let Some(default) = policy.get("DefaultVersionId").and_then(Value::as_str) {
        let version = call_if_exists(
            client,
            "GetPolicyVersion",
            &[("PolicyArn", arn), ("VersionId", default)],
        )?;
        if let Some(version) = version.and_then(|mut v| v.get_mut("PolicyVersion").map(Value::take))
        {
            versions.push(version);
        }
    }
    policy.insert("PolicyVersionList".into(), versions.into());
    let mut attached = Vec::new();
    for mut page in pages(client, "ListEntitiesForPolicy", &[("PolicyArn", arn)])? {
        for (list, resource_type, id_key, name_key) in [
            ("PolicyUsers", USER, "UserId", "UserName"),
            ("PolicyGroups", GROUP, "GroupId", "GroupName"),
            ("PolicyRoles", ROLE, "RoleId", "RoleName"),
        ] {
            for entity in take_list(&mut page, list) {
                if let (Some(id), Some(name)) = (text(&entity, id_key), text(&entity, name_key)) {
                    attached.push(Attachment {
                        resource_type,
                        id,
                        name,
                    });
                }
            }
        }
    }
    attached.sort();
    iam::policy_item(policy.into(), &attached, captured_at)
        .map(Some)
        .map_err(|e| unreadable(POLICY, arn, e))
}
