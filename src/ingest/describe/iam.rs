//! IAM users, roles and customer managed policies → `AWS::IAM::User`, `AWS::IAM::Role` and
//! `AWS::IAM::Policy` configuration items.
//!
//! Each resource is read in the shape of `aws iam get-account-authorization-details` output
//! (`UserDetailList`, `RoleDetailList`, `Policies`; the collector puts what its list and get
//! calls answered into the same shape), so a file of that output and a sweep give the same
//! items. AWS Config records IAM resources in the region `global`, named by their unique id
//! (`AIDA…`, `AROA…`, `ANPA…`) with the name as `resourceName`, and writes `configuration` in
//! camelCase as `tests/data/realdata/config_items/rdk_example_ci/AWS_IAM_*.json` show.
//!
//! Choices where AWS Config's items do not settle the shape:
//! - Policy documents (inline policies, trust policies, policy versions) are written decoded,
//!   as JSON objects: IAM's answers URL-encode them, the CLI's files hold them decoded.
//! - `policyVersionList` holds the default version only, with its document: the version in
//!   force (a version that is not the default changes nothing).
//! - A user's MFA devices go in `configuration.mfaDevices` as `ListMFADevices` returns them
//!   (`userName`, `serialNumber`, `enableDate`), which the `iam-user-mfa-enabled` rule reads;
//!   absent (not empty) when the source does not say, as a file of authorization details does
//!   not. Access keys (`AccessKeys`: `accessKeyId`, `status`, `createDate`) and the console
//!   password (`LoginProfile`: `createDate`, `passwordResetRequired`) go in
//!   `supplementaryConfiguration`, `LoginProfile` only when the user has one.
//! - Only customer managed policies become items; relationships name them (`Is attached to
//!   CustomerManagedPolicy`) by their id, so a user's or role's item needs the ids of the
//!   policies and groups it names ([`IamContext`]). AWS managed policies stay in
//!   `attachedManagedPolicies` without a relationship.

use super::{finish_item, tag, DescribeError, DescribedItem, Envelope, Fields, Kind, Member};
use crate::ingest::config_item::arn_part;
use crate::model::{format_time, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The resource type IAM users become.
pub const USER: &str = "AWS::IAM::User";
/// The resource type IAM roles become.
pub const ROLE: &str = "AWS::IAM::Role";
/// The resource type customer managed policies become.
pub const POLICY: &str = "AWS::IAM::Policy";
/// The resource type of IAM groups (named by users' relationships).
pub const GROUP: &str = "AWS::IAM::Group";

/// The region AWS Config records IAM resources in.
pub const GLOBAL: &str = "global";

/// `get-account-authorization-details`' list of users.
pub const USER_DETAILS: &str = "UserDetailList";
/// `get-account-authorization-details`' list of roles.
pub const ROLE_DETAILS: &str = "RoleDetailList";
/// `get-account-authorization-details`' list of groups.
pub const GROUP_DETAILS: &str = "GroupDetailList";
/// `get-account-authorization-details`' list of managed policies.
pub const POLICIES: &str = "Policies";

/// AWS Config's name for the link from a user or role to a customer managed policy.
const TO_POLICY: &str = "Is attached to CustomerManagedPolicy";
/// AWS Config's name for the link from a user (or a policy) to a group.
const TO_GROUP: &str = "Is attached to Group";
/// AWS Config's name for the link from a policy to a user.
const TO_USER: &str = "Is attached to User";
/// AWS Config's name for the link from a policy to a role.
const TO_ROLE: &str = "Is attached to Role";

/// The account part of AWS managed policies' ARNs (`arn:aws:iam::aws:policy/…`).
const AWS_MANAGED: &str = "aws";

/// What a user's or role's item names besides the resource itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamContext {
    /// Group name → group id (`AGPA…`).
    pub group_ids: BTreeMap<String, String>,
    /// Customer managed policy ARN → policy id (`ANPA…`).
    pub policy_ids: BTreeMap<String, String>,
}

/// A user, group or role a managed policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attachment {
    /// [`USER`], [`GROUP`] or [`ROLE`].
    pub resource_type: &'static str,
    /// Its unique id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// Whether a managed policy's ARN is an AWS managed policy's (which AWS Config does not record).
pub fn is_aws_managed(policy_arn: &str) -> bool {
    arn_part(Some(policy_arn), 4).as_deref() == Some(AWS_MANAGED)
}

/// An inline policy: `{PolicyName, PolicyDocument}`.
fn inline_policy(mut p: Fields) -> Result<Value, DescribeError> {
    let name = p.required_text("PolicyName")?;
    let document = p.document("PolicyDocument")?;
    Ok(json!({"policyName": name, "policyDocument": document}))
}

/// An attached managed policy: `{PolicyName, PolicyArn}`.
fn attached_policy(mut p: Fields) -> Result<(String, String), DescribeError> {
    Ok((
        p.required_text("PolicyName")?,
        p.required_text("PolicyArn")?,
    ))
}

const PERMISSIONS_BOUNDARY: &[Member] = &[
    ("PermissionsBoundaryType", Kind::Text),
    ("PermissionsBoundaryArn", Kind::Text),
];

impl Fields {
    /// A policy document: decoded JSON as the CLI writes it, or the URL-encoded JSON text IAM
    /// answers with (plain JSON text too). Null when absent.
    fn document(&mut self, key: &str) -> Result<Value, DescribeError> {
        match self.take(key) {
            None => Ok(Value::Null),
            Some(Value::String(text)) => {
                let parsed = serde_json::from_str::<Value>(&text).ok().or_else(|| {
                    percent_encoding::percent_decode_str(&text)
                        .decode_utf8()
                        .ok()
                        .and_then(|decoded| serde_json::from_str(&decoded).ok())
                });
                parsed.ok_or_else(|| self.unreadable(key, "a JSON policy document", &text))
            }
            Some(value @ Value::Object(_)) => Ok(value),
            Some(other) => Err(self.wrong(key, "a policy document", &other)),
        }
    }

    /// `Tags` as `(key, value)` pairs, in order.
    fn tags(&mut self) -> Result<Vec<(String, String)>, DescribeError> {
        self.objects("Tags", tag)
    }
}

/// The members of a managed-policy relationship list and `attachedManagedPolicies`.
fn attached_policies(
    list: Vec<(String, String)>,
    ctx: &IamContext,
    relationships: &mut Vec<Value>,
    warnings: &mut Vec<String>,
) -> Value {
    let mut out = Vec::new();
    for (name, arn) in list {
        if !is_aws_managed(&arn) {
            match ctx.policy_ids.get(&arn) {
                Some(id) => relationships.push(relationship(POLICY, id, &name, TO_POLICY)),
                None => warnings.push(format!(
                    "relationships: the id of policy {arn} is not known; no relationship to it"
                )),
            }
        }
        out.push(json!({"policyName": name, "policyArn": arn}));
    }
    out.into()
}

fn relationship(resource_type: &str, id: &str, name: &str, relationship: &str) -> Value {
    json!({"resourceType": resource_type, "resourceId": id, "resourceName": name, "name": relationship})
}

/// The account of an IAM ARN (`arn:aws:iam::123456789012:user/alice`).
fn account_of(arn: &str, field: &str) -> Result<String, DescribeError> {
    arn_part(Some(arn), 4).ok_or_else(|| DescribeError::Unreadable {
        field: field.to_string(),
        expected: "an IAM ARN naming the account",
        found: arn.chars().take(super::SHOWN_TEXT).collect(),
    })
}

/// What every IAM item has: `global`, `Not Applicable`, created when IAM says, tags as a map.
struct IamResource {
    resource_type: &'static str,
    id: String,
    name: String,
    arn: String,
    created: Option<Timestamp>,
    tags: Vec<(String, String)>,
}

/// A user's or role's name, id, ARN and creation time (`names` and `ids`: the member in IAM's
/// answer and the key in AWS Config's item), and its configuration begun with them and its path,
/// in AWS Config's order. Tags are read by the caller.
fn principal(
    f: &mut Fields,
    resource_type: &'static str,
    names: (&str, &str),
    ids: (&str, &str),
) -> Result<(IamResource, Map<String, Value>), DescribeError> {
    let name = f.required_text(names.0)?;
    let id = f.required_text(ids.0)?;
    let arn = f.required_text("Arn")?;
    let path = f.text("Path")?;
    let created = f.time("CreateDate")?;
    let mut configuration = Map::new();
    configuration.insert("path".into(), path.into());
    configuration.insert(names.1.into(), name.clone().into());
    configuration.insert(ids.1.into(), id.clone().into());
    configuration.insert("arn".into(), arn.clone().into());
    configuration.insert(
        "createDate".into(),
        created.as_ref().map(format_time).into(),
    );
    let resource = IamResource {
        resource_type,
        id,
        name,
        arn,
        created,
        tags: Vec::new(),
    };
    Ok((resource, configuration))
}

fn iam_item(
    r: IamResource,
    mut configuration: Map<String, Value>,
    relationships: Vec<Value>,
    supplementary: Map<String, Value>,
    captured_at: Timestamp,
    warnings: Vec<String>,
) -> Result<DescribedItem, DescribeError> {
    let account_id = account_of(&r.arn, "Arn")?;
    configuration.insert(
        "tags".into(),
        r.tags
            .iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect(),
    );
    // AWS Config names each related resource once.
    let relationships: BTreeSet<String> = relationships.iter().map(Value::to_string).collect();
    let relationships = relationships
        .iter()
        .filter_map(|r| serde_json::from_str(r).ok())
        .collect();
    finish_item(
        Envelope {
            status: "OK",
            resource_type: r.resource_type,
            resource_id: r.id,
            resource_name: Some(r.name),
            account_id,
            arn: Some(r.arn),
            region: GLOBAL.into(),
            availability_zone: Some("Not Applicable".into()),
            creation_time: r.created.map(|t| format_time(&t)),
            tags: r.tags.into_iter().collect(),
            relationships,
            configuration: configuration.into(),
            supplementary,
        },
        captured_at,
        warnings,
    )
}

/// AWS Config's item for a user, from an entry of `UserDetailList` (with, from the collector,
/// `MFADevices`, `AccessKeys` and `LoginProfile` as IAM's calls answer them).
pub fn user_item(
    user: Value,
    ctx: &IamContext,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut u = Fields::resource(user, "an IAM user")?;
    let (mut resource, mut configuration) =
        principal(&mut u, USER, ("UserName", "userName"), ("UserId", "userId"))?;
    let mut warnings = Vec::new();
    let mut relationships = Vec::new();
    let inline = u.objects("UserPolicyList", inline_policy)?;
    let mut groups = Vec::new();
    for (field, group) in u.list("GroupList")? {
        let Value::String(group) = group else {
            return Err(DescribeError::WrongType {
                field,
                expected: "a group name",
                found: super::type_name(&group),
            });
        };
        match ctx.group_ids.get(&group) {
            Some(gid) => relationships.push(relationship(GROUP, gid, &group, TO_GROUP)),
            None => warnings.push(format!(
                "relationships: the id of group {group} is not known; no relationship to it"
            )),
        }
        groups.push(Value::String(group));
    }
    let attached = u.objects("AttachedManagedPolicies", attached_policy)?;
    let attached = attached_policies(attached, ctx, &mut relationships, &mut warnings);
    configuration.insert("userPolicyList".into(), inline.into());
    configuration.insert("groupList".into(), groups.into());
    configuration.insert("attachedManagedPolicies".into(), attached);
    u.copy(
        &[("PermissionsBoundary", Kind::Object(PERMISSIONS_BOUNDARY))],
        &mut configuration,
    )?;
    if u.obj.get("MFADevices").is_some_and(|v| !v.is_null()) {
        let devices = u.objects("MFADevices", |d| {
            d.copied(&[
                ("UserName", Kind::Text),
                ("SerialNumber", Kind::Text),
                ("EnableDate", Kind::Time),
            ])
        })?;
        configuration.insert("mfaDevices".into(), devices.into());
    }
    resource.tags = u.tags()?;
    let mut supplementary = Map::new();
    if u.obj.get("AccessKeys").is_some_and(|v| !v.is_null()) {
        let keys = u.objects("AccessKeys", |k| {
            k.copied(&[
                ("AccessKeyId", Kind::Text),
                ("Status", Kind::Text),
                ("CreateDate", Kind::Time),
            ])
        })?;
        supplementary.insert("AccessKeys".into(), keys.into());
    }
    if let Some(profile) = u.object("LoginProfile")? {
        let profile = profile.copied(&[
            ("CreateDate", Kind::Time),
            ("PasswordResetRequired", Kind::Boolean),
        ])?;
        supplementary.insert("LoginProfile".into(), profile);
    }
    iam_item(
        resource,
        configuration,
        relationships,
        supplementary,
        captured_at,
        warnings,
    )
}

/// AWS Config's item for a role, from an entry of `RoleDetailList` (or `GetRole`'s `Role`
/// with `RolePolicyList`, `AttachedManagedPolicies` and `InstanceProfileList` added).
pub fn role_item(
    role: Value,
    ctx: &IamContext,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut r = Fields::resource(role, "an IAM role")?;
    let (mut resource, mut configuration) =
        principal(&mut r, ROLE, ("RoleName", "roleName"), ("RoleId", "roleId"))?;
    let trust = r.document("AssumeRolePolicyDocument")?;
    let mut warnings = Vec::new();
    let mut relationships = Vec::new();
    let inline = r.objects("RolePolicyList", inline_policy)?;
    let attached = r.objects("AttachedManagedPolicies", attached_policy)?;
    let attached = attached_policies(attached, ctx, &mut relationships, &mut warnings);
    let profiles = r.objects("InstanceProfileList", |p| {
        p.copied(&[
            ("Path", Kind::Text),
            ("InstanceProfileName", Kind::Text),
            ("InstanceProfileId", Kind::Text),
            ("Arn", Kind::Text),
            ("CreateDate", Kind::Time),
        ])
    })?;
    configuration.insert("assumeRolePolicyDocument".into(), trust);
    configuration.insert("instanceProfileList".into(), profiles.into());
    configuration.insert("rolePolicyList".into(), inline.into());
    configuration.insert("attachedManagedPolicies".into(), attached);
    r.copy(
        &[
            ("Description", Kind::Text),
            ("MaxSessionDuration", Kind::Integer),
            ("PermissionsBoundary", Kind::Object(PERMISSIONS_BOUNDARY)),
        ],
        &mut configuration,
    )?;
    resource.tags = r.tags()?;
    iam_item(
        resource,
        configuration,
        relationships,
        Map::new(),
        captured_at,
        warnings,
    )
}

/// AWS Config's item for a customer managed policy, from an entry of `Policies` (or
/// `GetPolicy`'s `Policy` with `PolicyVersionList` holding `GetPolicyVersion`'s version), with
/// the users, groups and roles it is attached to.
pub fn policy_item(
    policy: Value,
    attached_to: &[Attachment],
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut p = Fields::resource(policy, "an IAM managed policy")?;
    let name = p.required_text("PolicyName")?;
    let id = p.required_text("PolicyId")?;
    let arn = p.required_text("Arn")?;
    let created = p.time("CreateDate")?;
    let default_version = p.text("DefaultVersionId")?;
    let versions = p.objects("PolicyVersionList", |mut v| {
        let document = v.document("Document")?;
        let mut out = Map::new();
        out.insert("document".into(), document);
        v.copy(
            &[
                ("VersionId", Kind::Text),
                ("IsDefaultVersion", Kind::Boolean),
                ("CreateDate", Kind::Time),
            ],
            &mut out,
        )?;
        Ok(out)
    })?;
    // The version in force only (see the module's notes).
    let versions: Vec<Value> = versions
        .into_iter()
        .filter(|v| {
            v.get("isDefaultVersion") == Some(&Value::Bool(true))
                || (default_version.is_some()
                    && v.get("versionId").and_then(Value::as_str) == default_version.as_deref())
        })
        .map(Value::Object)
        .collect();
    let mut configuration = Map::new();
    configuration.insert("policyName".into(), name.clone().into());
    configuration.insert("policyId".into(), id.clone().into());
    configuration.insert("arn".into(), arn.clone().into());
    p.copy(&[("Path", Kind::Text)], &mut configuration)?;
    configuration.insert("defaultVersionId".into(), default_version.into());
    p.copy(
        &[
            ("AttachmentCount", Kind::Integer),
            ("PermissionsBoundaryUsageCount", Kind::Integer),
            ("IsAttachable", Kind::Boolean),
            ("Description", Kind::Text),
        ],
        &mut configuration,
    )?;
    configuration.insert(
        "createDate".into(),
        created.as_ref().map(format_time).into(),
    );
    p.copy(&[("UpdateDate", Kind::Time)], &mut configuration)?;
    configuration.insert("policyVersionList".into(), versions.into());
    let tags = p.tags()?;
    let relationships = attached_to
        .iter()
        .map(|a| {
            let name = match a.resource_type {
                USER => TO_USER,
                GROUP => TO_GROUP,
                _ => TO_ROLE,
            };
            relationship(a.resource_type, &a.id, &a.name, name)
        })
        .collect();
    iam_item(
        IamResource {
            resource_type: POLICY,
            id,
            name,
            arn,
            created,
            tags,
        },
        configuration,
        relationships,
        Map::new(),
        captured_at,
        Vec::new(),
    )
}

/// What one entry of a file of authorization details became.
#[derive(Debug)]
pub enum DetailOutcome {
    /// An item, or why the entry could not be one.
    Item(Box<Result<DescribedItem, DescribeError>>),
    /// An entry AWS Config does not record (an AWS managed policy, a group), and why.
    Skipped(String),
}

/// Every user, role and customer managed policy of `aws iam get-account-authorization-details`
/// output, each with its location (`UserDetailList[0]`). Groups are read for the ids users'
/// relationships name; policies' relationships come from who attaches them in the same file.
pub fn authorization_details_items(
    mut details: Map<String, Value>,
    captured_at: Timestamp,
) -> Vec<(String, DetailOutcome)> {
    let mut take = |key: &str| match details.remove(key) {
        Some(Value::Array(items)) => Ok(items),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(other) => Err((key.to_string(), other)),
    };
    let lists = [USER_DETAILS, ROLE_DETAILS, GROUP_DETAILS, POLICIES].map(&mut take);
    let mut out = Vec::new();
    let [users, roles, groups, policies] = lists.map(|list| match list {
        Ok(items) => items,
        Err((key, other)) => {
            out.push((
                key.clone(),
                DetailOutcome::Item(Box::new(Err(DescribeError::WrongType {
                    field: key,
                    expected: "an array",
                    found: super::type_name(&other),
                }))),
            ));
            Vec::new()
        }
    });
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let mut ctx = IamContext::default();
    let mut attachments: BTreeMap<String, Vec<Attachment>> = BTreeMap::new();
    let mut note = |entry: &Value, resource_type, id_key, name_key| {
        let (Some(id), Some(name)) = (text(entry, id_key), text(entry, name_key)) else {
            return;
        };
        let attached = entry
            .get("AttachedManagedPolicies")
            .and_then(Value::as_array);
        for arn in attached
            .into_iter()
            .flatten()
            .filter_map(|p| text(p, "PolicyArn"))
        {
            attachments.entry(arn).or_default().push(Attachment {
                resource_type,
                id: id.clone(),
                name: name.clone(),
            });
        }
    };
    for user in &users {
        note(user, USER, "UserId", "UserName");
    }
    for role in &roles {
        note(role, ROLE, "RoleId", "RoleName");
    }
    for group in &groups {
        note(group, GROUP, "GroupId", "GroupName");
        if let (Some(name), Some(id)) = (text(group, "GroupName"), text(group, "GroupId")) {
            ctx.group_ids.insert(name, id);
        }
    }
    for policy in &policies {
        if let (Some(arn), Some(id)) = (text(policy, "Arn"), text(policy, "PolicyId")) {
            ctx.policy_ids.insert(arn, id);
        }
    }
    for (i, user) in users.into_iter().enumerate() {
        let location = format!("{USER_DETAILS}[{i}]");
        out.push((
            location,
            DetailOutcome::Item(Box::new(user_item(user, &ctx, captured_at))),
        ));
    }
    for (i, role) in roles.into_iter().enumerate() {
        let location = format!("{ROLE_DETAILS}[{i}]");
        out.push((
            location,
            DetailOutcome::Item(Box::new(role_item(role, &ctx, captured_at))),
        ));
    }
    for i in 0..groups.len() {
        out.push((
            format!("{GROUP_DETAILS}[{i}]"),
            DetailOutcome::Skipped(
                "IAM group: read for the ids users' relationships name; not recorded itself".into(),
            ),
        ));
    }
    for (i, policy) in policies.into_iter().enumerate() {
        let location = format!("{POLICIES}[{i}]");
        let arn = text(&policy, "Arn").unwrap_or_default();
        if is_aws_managed(&arn) {
            out.push((
                location,
                DetailOutcome::Skipped(format!(
                    "{arn}: an AWS managed policy (AWS Config records customer managed ones only)"
                )),
            ));
            continue;
        }
        let mut attached = attachments.remove(&arn).unwrap_or_default();
        attached.sort();
        attached.dedup();
        out.push((
            location,
            DetailOutcome::Item(Box::new(policy_item(policy, &attached, captured_at))),
        ));
    }
    out
}

/// Whether a document is `get-account-authorization-details` output: one of its entity lists,
/// or (with `--filter LocalManagedPolicy`) `Policies` whose entries hold their versions, which
/// `ListPolicies`' entries do not.
pub fn is_authorization_details(obj: &Map<String, Value>) -> bool {
    [USER_DETAILS, ROLE_DETAILS, GROUP_DETAILS]
        .iter()
        .any(|k| obj.contains_key(*k))
        || obj
            .get(POLICIES)
            .and_then(Value::as_array)
            .and_then(|policies| policies.first())
            .is_some_and(|p| p.get("PolicyVersionList").is_some())
}

#[cfg(test)]
mod tests;
