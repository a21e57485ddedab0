//! S3's answers about a bucket → `AWS::S3::Bucket` configuration items, and s3control's
//! `GetPublicAccessBlock` → `AWS::S3::AccountPublicAccessBlock`.
//!
//! S3 has no describe call for a bucket: a collector asks one call per setting and hands the
//! answers over as a [`BucketDescription`], each in the shape boto3 and the AWS CLI write
//! (`Grants`, `TargetBucket`, …).
//!
//! AWS Config's item for a bucket keeps `configuration` small (`name`, `owner`,
//! `creationDate`) and puts each setting in its own `supplementaryConfiguration` value. Those
//! values are the AWS SDK for Java's (v1) model objects written field by field, nulls included,
//! so their members are spelled as that SDK's fields are, not as S3's API is: the ACL's
//! `grantList` with group grantees as bare names (`"AllUsers"`) and permissions as `FullControl`,
//! versioning as `{status, isMfaDeleteEnabled}` with `Off` for a bucket never versioned, logging
//! as `{destinationBucketName, logFilePrefix}`, a lifecycle rule's expiration as
//! `expirationInDays` with -1 for none, and so on. AWS Config always records
//! `AccessControlList`, `BucketPolicy` (`policyText` null without a policy),
//! `BucketVersioningConfiguration` and `BucketLoggingConfiguration`; it leaves the others out
//! when S3 answers that nothing is configured, and so does the mapping.
//!
//! What the mapping does not write, for want of the calls: `IsRequesterPaysEnabled`,
//! `BucketAccelerateConfiguration`, `BucketNotificationConfiguration`,
//! `BucketWebsiteConfiguration`, `BucketReplicationConfiguration`, `BucketCrossOriginConfiguration`
//! and `ObjectLockConfiguration`. Members S3 added after the shapes AWS Config's items show were
//! fixed (a lifecycle rule's `NewerNoncurrentVersions`, logging's `TargetObjectKeyFormat`, an
//! encryption rule's `BlockedEncryptionTypes`) are not copied either.
//!
//! The spellings come from real items (`tests/data/realdata/config_items/`) for the ACL,
//! policy, versioning, logging, tagging and lifecycle values, and from AWS Config's resource
//! schema (awslabs/aws-config-resource-schema) for `PublicAccessBlockConfiguration` and
//! `ServerSideEncryptionConfiguration`. No real item here shows `BucketOwnershipControls`, a
//! grantee named by e-mail or a lifecycle date: they follow the SDK's classes as the other
//! values do (`{rules: [{objectOwnership}]}`, `{emailAddress}`, dates as `creationDate` is
//! written), which is unconfirmed.

use super::{finish_item, partition, tag, DescribeError, DescribedItem, Envelope, Fields};
use crate::model::{format_time, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The resource type buckets become.
pub const BUCKET: &str = "AWS::S3::Bucket";

/// The resource type of an account's Block Public Access settings (its id is the account id).
pub const ACCOUNT_PUBLIC_ACCESS_BLOCK: &str = "AWS::S3::AccountPublicAccessBlock";

/// What S3 said about one bucket, call by call, each answer in boto3's output shape (as
/// `aws s3api` prints it, `ResponseMetadata` allowed and ignored). `None` where the call
/// answered that nothing is configured (`NoSuchBucketPolicy`,
/// `NoSuchPublicAccessBlockConfiguration`, `ServerSideEncryptionConfigurationNotFoundError`,
/// `NoSuchTagSet`, `OwnershipControlsNotFoundError`, `NoSuchLifecycleConfiguration`).
#[derive(Debug, Clone, PartialEq)]
pub struct BucketDescription {
    /// The bucket's name (`ListBuckets`).
    pub name: String,
    /// When it was created (`ListBuckets`' `CreationDate`).
    pub creation_date: Option<Timestamp>,
    /// Its region, from `GetBucketLocation` and already normalised: a null or empty location is
    /// `us-east-1`, `EU` is `eu-west-1`.
    pub region: String,
    /// The account that owns it (from STS, not the canonical user id S3 shows).
    pub account_id: String,
    /// `GetBucketAcl`: `{Owner: {DisplayName?, ID}, Grants: [{Grantee: {Type, ID?, URI?,
    /// DisplayName?, EmailAddress?}, Permission}]}`.
    pub acl: Value,
    /// `GetBucketPolicy`: the `Policy` text.
    pub policy: Option<String>,
    /// `GetBucketPolicyStatus`: `{PolicyStatus: {IsPublic}}`. Read for its shape only: AWS
    /// Config's item has no place for it.
    pub policy_status: Option<Value>,
    /// `GetPublicAccessBlock`: `{PublicAccessBlockConfiguration: {BlockPublicAcls, …}}`.
    pub public_access_block: Option<Value>,
    /// `GetBucketEncryption`: `{ServerSideEncryptionConfiguration: {Rules: […]}}`.
    pub encryption: Option<Value>,
    /// `GetBucketVersioning`: `{Status?, MFADelete?}` (`{}` when never enabled).
    pub versioning: Value,
    /// `GetBucketLogging`: `{LoggingEnabled?: {TargetBucket, TargetPrefix}}`.
    pub logging: Value,
    /// `GetBucketTagging`: `{TagSet: [{Key, Value}]}`.
    pub tagging: Option<Value>,
    /// `GetBucketOwnershipControls`: `{OwnershipControls: {Rules: [{ObjectOwnership}]}}`.
    pub ownership_controls: Option<Value>,
    /// `GetBucketLifecycleConfiguration`: `{Rules: […]}`.
    pub lifecycle: Option<Value>,
}

/// Maps what S3 said about a bucket to AWS Config's configuration item for it (item version
/// 1.3, status `OK`, captured at `captured_at`).
///
/// Errors name the field by the [`BucketDescription`] member and its path in S3's answer
/// (`acl.Grants[1].Permission`). Without a creation date the item leaves `creationDate` and
/// `resourceCreationTime` out, and a warning says so.
pub fn bucket_item(
    bucket: BucketDescription,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let BucketDescription {
        name,
        creation_date,
        region,
        account_id,
        acl,
        policy,
        policy_status,
        public_access_block,
        encryption,
        versioning,
        logging,
        tagging,
        ownership_controls,
        lifecycle,
    } = bucket;
    let name = not_empty("name", name)?;
    let region = not_empty("region", region)?;
    let account_id = not_empty("account_id", account_id)?;
    let (owner, acl) = access_control_list(Fields::of(acl, "acl".into())?)?;
    if policy.as_deref() == Some("") {
        return Err(DescribeError::Empty("policy".into()));
    }
    if let Some(status) = policy_status {
        Fields::of(status, "policy_status".into())?
            .required_object("PolicyStatus")?
            .boolean("IsPublic")?;
    }
    let versioning = versioning_configuration(Fields::of(versioning, "versioning".into())?)?;
    let logging = logging_configuration(Fields::of(logging, "logging".into())?)?;
    let block = public_access_block
        .map(|b| block_settings(Fields::of(b, "public_access_block".into())?))
        .transpose()?;
    let encryption = encryption
        .map(|e| encryption_configuration(Fields::of(e, "encryption".into())?))
        .transpose()?;
    let tags = tagging
        .map(|t| Fields::of(t, "tagging".into())?.required_objects("TagSet", tag))
        .transpose()?;
    let ownership = ownership_controls
        .map(|o| ownership_configuration(Fields::of(o, "ownership_controls".into())?))
        .transpose()?;
    let lifecycle = lifecycle
        .map(|l| {
            let rules =
                Fields::of(l, "lifecycle".into())?.required_objects("Rules", lifecycle_rule)?;
            Ok::<_, DescribeError>(json!({ "rules": rules }))
        })
        .transpose()?;

    let mut warnings = Vec::new();
    let created = creation_date.as_ref().map(format_time);
    let mut configuration = Map::new();
    configuration.insert("name".into(), name.as_str().into());
    configuration.insert("owner".into(), owner);
    match &created {
        Some(created) => {
            configuration.insert("creationDate".into(), created.as_str().into());
        }
        None => warnings.push(
            "configuration.creationDate: not given (ListBuckets says it); left out, and so is \
             resourceCreationTime"
                .to_string(),
        ),
    }

    let tagged = tags.is_some();
    let tag_map: BTreeMap<String, String> = tags.unwrap_or_default().into_iter().collect();
    let mut supplementary = Map::new();
    let mut add = |key: &str, value: Value| supplementary.insert(key.to_string(), value);
    add("AccessControlList", acl);
    add("BucketPolicy", json!({ "policyText": policy }));
    add("BucketVersioningConfiguration", versioning);
    add("BucketLoggingConfiguration", logging);
    if let Some(block) = block {
        add("PublicAccessBlockConfiguration", block);
    }
    if let Some(encryption) = encryption {
        add("ServerSideEncryptionConfiguration", encryption);
    }
    if tagged {
        add(
            "BucketTaggingConfiguration",
            json!({ "tagSets": [{ "tags": &tag_map }] }),
        );
    }
    if let Some(ownership) = ownership {
        add("BucketOwnershipControls", ownership);
    }
    if let Some(lifecycle) = lifecycle {
        add("BucketLifecycleConfiguration", lifecycle);
    }

    let arn = format!("arn:{}:s3:::{name}", partition(&region));
    finish_item(
        Envelope {
            status: "OK",
            resource_type: BUCKET,
            resource_id: name.clone(),
            resource_name: Some(name),
            account_id,
            arn: Some(arn),
            region,
            availability_zone: Some("Regional".into()),
            creation_time: created,
            tags: tag_map,
            relationships: Vec::new(),
            configuration: configuration.into(),
            supplementary,
        },
        captured_at,
        warnings,
    )
}

/// Maps an account's Block Public Access settings (s3control's `GetPublicAccessBlock` answer,
/// `{PublicAccessBlockConfiguration: {BlockPublicAcls, …}}`) to AWS Config's item for them,
/// recorded in `region` and captured at `captured_at`.
///
/// `None` (`NoSuchPublicAccessBlockConfiguration`: nothing set) becomes a `ResourceDeleted` item
/// with no configuration, as AWS Config records settings that were removed: the answer cannot
/// tell removed from never set, and rules that look the settings up skip a deleted item as they
/// do a missing one.
pub fn account_public_access_block_item(
    account_id: &str,
    region: &str,
    block: Option<Value>,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let account_id = not_empty("account_id", account_id.to_string())?;
    let region = not_empty("region", region.to_string())?;
    let (status, configuration) = match block {
        Some(block) => ("OK", block_settings(Fields::of(block, "block".into())?)?),
        None => ("ResourceDeleted", Value::Null),
    };
    finish_item(
        Envelope {
            status,
            resource_type: ACCOUNT_PUBLIC_ACCESS_BLOCK,
            resource_id: account_id.clone(),
            resource_name: None,
            account_id,
            arn: None,
            region,
            availability_zone: Some("Not Applicable".into()),
            creation_time: None,
            tags: BTreeMap::new(),
            relationships: Vec::new(),
            configuration,
            supplementary: Map::new(),
        },
        captured_at,
        Vec::new(),
    )
}

/// A text member of the description that must not be empty.
fn not_empty(field: &str, value: String) -> Result<String, DescribeError> {
    if value.is_empty() {
        Err(DescribeError::Empty(field.to_string()))
    } else {
        Ok(value)
    }
}

/// AWS Config's `AccessControlList` for a `GetBucketAcl` answer, and the owner as
/// `configuration.owner` shows it.
fn access_control_list(mut acl: Fields) -> Result<(Value, Value), DescribeError> {
    let owner = owner(acl.required_object("Owner")?)?;
    let grants = acl.objects("Grants", grant)?;
    let list = json!({
        "grantSet": null,
        "grantList": grants,
        "owner": owner,
        "isRequesterCharged": false,
    });
    Ok((owner, list))
}

/// `{ID, DisplayName?}` → `{displayName, id}`.
fn owner(mut o: Fields) -> Result<Value, DescribeError> {
    let id = o.required_text("ID")?;
    let display_name = o.text("DisplayName")?;
    Ok(json!({ "displayName": display_name, "id": id }))
}

/// The S3 group URIs and the names AWS Config writes for them.
const GROUPS: [(&str, &str); 3] = [
    (
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "AllUsers",
    ),
    (
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
        "AuthenticatedUsers",
    ),
    (
        "http://acs.amazonaws.com/groups/s3/LogDelivery",
        "LogDelivery",
    ),
];

/// S3's permissions and AWS Config's spellings of them.
const PERMISSIONS: [(&str, &str); 5] = [
    ("FULL_CONTROL", "FullControl"),
    ("READ", "Read"),
    ("WRITE", "Write"),
    ("READ_ACP", "ReadAcp"),
    ("WRITE_ACP", "WriteAcp"),
];

/// One grant: `{grantee, permission}`.
fn grant(mut g: Fields) -> Result<Value, DescribeError> {
    let grantee = grantee(g.required_object("Grantee")?)?;
    let permission = g.required_text("Permission")?;
    let Some((_, permission)) = PERMISSIONS.iter().find(|(s3, _)| *s3 == permission) else {
        return Err(g.unreadable(
            "Permission",
            "one of FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP",
            &permission,
        ));
    };
    Ok(json!({ "grantee": grantee, "permission": permission }))
}

/// A grantee as AWS Config writes it: `{id, displayName}` for an account, the group's name
/// (`"AllUsers"`) for a group (its URI when the group is not one S3 documents), and
/// `{emailAddress}` for a grantee named by e-mail.
fn grantee(mut g: Fields) -> Result<Value, DescribeError> {
    let kind = g.required_text("Type")?;
    match kind.as_str() {
        "CanonicalUser" => {
            let id = g.required_text("ID")?;
            let display_name = g.text("DisplayName")?;
            Ok(json!({ "id": id, "displayName": display_name }))
        }
        "Group" => {
            let uri = g.required_text("URI")?;
            let name = GROUPS
                .iter()
                .find(|(known, _)| *known == uri)
                .map_or(uri.as_str(), |(_, name)| name);
            Ok(name.into())
        }
        "AmazonCustomerByEmail" => Ok(json!({ "emailAddress": g.required_text("EmailAddress")? })),
        other => Err(g.unreadable(
            "Type",
            "one of CanonicalUser, Group, AmazonCustomerByEmail",
            other,
        )),
    }
}

/// `{Status?, MFADelete?}` → `{status, isMfaDeleteEnabled}`, status `Off` when never enabled.
fn versioning_configuration(mut v: Fields) -> Result<Value, DescribeError> {
    let status = v.text("Status")?.unwrap_or_else(|| "Off".to_string());
    let mfa_delete = match v.text("MFADelete")?.as_deref() {
        None => Value::Null,
        Some("Enabled") => true.into(),
        Some("Disabled") => false.into(),
        Some(other) => return Err(v.unreadable("MFADelete", "Enabled or Disabled", other)),
    };
    Ok(json!({ "status": status, "isMfaDeleteEnabled": mfa_delete }))
}

/// `{LoggingEnabled?: {TargetBucket, TargetPrefix}}` → `{destinationBucketName,
/// logFilePrefix}`, both null when logging is off.
fn logging_configuration(mut l: Fields) -> Result<Value, DescribeError> {
    let (bucket, prefix) = match l.object("LoggingEnabled")? {
        None => (None, None),
        Some(mut enabled) => (
            Some(enabled.required_text("TargetBucket")?),
            enabled.text("TargetPrefix")?,
        ),
    };
    Ok(json!({ "destinationBucketName": bucket, "logFilePrefix": prefix }))
}

/// `{PublicAccessBlockConfiguration: {BlockPublicAcls, …}}` → `{blockPublicAcls, …}`; a
/// setting S3 leaves out is off.
fn block_settings(mut b: Fields) -> Result<Value, DescribeError> {
    let mut c = b.required_object("PublicAccessBlockConfiguration")?;
    let mut out = Map::new();
    for (s3, config) in [
        ("BlockPublicAcls", "blockPublicAcls"),
        ("IgnorePublicAcls", "ignorePublicAcls"),
        ("BlockPublicPolicy", "blockPublicPolicy"),
        ("RestrictPublicBuckets", "restrictPublicBuckets"),
    ] {
        out.insert(config.into(), c.boolean(s3)?.unwrap_or(false).into());
    }
    Ok(Value::Object(out))
}

/// `{ServerSideEncryptionConfiguration: {Rules}}` → `{rules: [{applyServerSideEncryptionByDefault:
/// {sseAlgorithm, kmsMasterKeyID}, bucketKeyEnabled}]}`.
fn encryption_configuration(mut e: Fields) -> Result<Value, DescribeError> {
    let rules = e
        .required_object("ServerSideEncryptionConfiguration")?
        .required_objects("Rules", |mut r| {
            let default = match r.object("ApplyServerSideEncryptionByDefault")? {
                None => Value::Null,
                Some(mut d) => json!({
                    "sseAlgorithm": d.required_text("SSEAlgorithm")?,
                    "kmsMasterKeyID": d.text("KMSMasterKeyID")?,
                }),
            };
            Ok(json!({
                "applyServerSideEncryptionByDefault": default,
                "bucketKeyEnabled": r.boolean("BucketKeyEnabled")?,
            }))
        })?;
    Ok(json!({ "rules": rules }))
}

/// `{OwnershipControls: {Rules: [{ObjectOwnership}]}}` → `{rules: [{objectOwnership}]}`.
fn ownership_configuration(mut o: Fields) -> Result<Value, DescribeError> {
    let rules = o
        .required_object("OwnershipControls")?
        .required_objects("Rules", |mut r| {
            Ok(json!({ "objectOwnership": r.required_text("ObjectOwnership")? }))
        })?;
    Ok(json!({ "rules": rules }))
}

/// One lifecycle rule as AWS Config writes it: every member there, -1 for days not set, null or
/// false for the rest.
fn lifecycle_rule(mut r: Fields) -> Result<Value, DescribeError> {
    let id = r.text("ID")?;
    let prefix = r.text("Prefix")?;
    let status = r.required_text("Status")?;
    let filter = r
        .object("Filter")?
        .map(|f| Ok::<_, DescribeError>(json!({ "predicate": predicate(f)? })))
        .transpose()?;
    let (expiration_days, expiration_date, delete_marker) = match r.object("Expiration")? {
        None => (None, None, None),
        Some(mut e) => (
            e.integer("Days")?,
            e.time("Date")?.as_ref().map(format_time),
            e.boolean("ExpiredObjectDeleteMarker")?,
        ),
    };
    let noncurrent_days = match r.object("NoncurrentVersionExpiration")? {
        None => None,
        Some(mut e) => e.integer("NoncurrentDays")?,
    };
    let transitions = optional_list(&mut r, "Transitions", |mut t| {
        Ok(json!({
            "days": t.integer("Days")?.unwrap_or(-1),
            "date": t.time("Date")?.as_ref().map(format_time),
            "storageClass": t.text("StorageClass")?,
        }))
    })?;
    let noncurrent_transitions = optional_list(&mut r, "NoncurrentVersionTransitions", |mut t| {
        Ok(json!({
            "days": t.integer("NoncurrentDays")?.unwrap_or(-1),
            "storageClass": t.text("StorageClass")?,
        }))
    })?;
    let abort = r
        .object("AbortIncompleteMultipartUpload")?
        .map(|mut a| {
            Ok::<_, DescribeError>(
                json!({ "daysAfterInitiation": a.integer("DaysAfterInitiation")? }),
            )
        })
        .transpose()?;
    Ok(json!({
        "id": id,
        "prefix": prefix,
        "status": status,
        "filter": filter,
        "expirationInDays": expiration_days.unwrap_or(-1),
        "expiredObjectDeleteMarker": delete_marker.unwrap_or(false),
        "noncurrentVersionExpirationInDays": noncurrent_days.unwrap_or(-1),
        "expirationDate": expiration_date,
        "transitions": transitions,
        "noncurrentVersionTransitions": noncurrent_transitions,
        "abortIncompleteMultipartUpload": abort,
    }))
}

/// A list that AWS Config writes as null when S3 leaves it out.
fn optional_list(
    r: &mut Fields,
    key: &str,
    read: impl FnMut(Fields) -> Result<Value, DescribeError>,
) -> Result<Value, DescribeError> {
    if r.obj.get(key).is_none_or(Value::is_null) {
        return Ok(Value::Null);
    }
    Ok(r.objects(key, read)?.into())
}

/// A lifecycle filter's predicate: `{type: "LifecyclePrefixPredicate", prefix}`,
/// `{type: "LifecycleTagPredicate", tag: {key, value}}`, the object size predicates, or
/// `{type: "LifecycleAndOperator", operands: […]}`; null for an empty filter.
fn predicate(mut f: Fields) -> Result<Value, DescribeError> {
    let mut found = conditions(&mut f, "Tag")?;
    if let Some(mut and) = f.object("And")? {
        let operands = conditions(&mut and, "Tags")?;
        found.push(json!({ "type": "LifecycleAndOperator", "operands": operands }));
    }
    match found.len() {
        0 => Ok(Value::Null),
        1 => Ok(found.remove(0)),
        // S3 allows one: several are combined with `And`.
        _ => Err(DescribeError::WrongType {
            field: f.path.clone(),
            expected: "one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, And",
            found: "several",
        }),
    }
}

/// The predicates in a filter or an `And`, in the order S3 lists them: the prefix, the tags
/// (under `tags_key`: `Tag` holds one, `Tags` a list), the object sizes.
fn conditions(f: &mut Fields, tags_key: &str) -> Result<Vec<Value>, DescribeError> {
    let mut out = Vec::new();
    if let Some(prefix) = f.text("Prefix")? {
        out.push(json!({ "type": "LifecyclePrefixPredicate", "prefix": prefix }));
    }
    let tags = if tags_key == "Tag" {
        f.object("Tag")?.map(tag).transpose()?.into_iter().collect()
    } else {
        f.objects(tags_key, tag)?
    };
    for (key, value) in tags {
        out.push(json!({ "type": "LifecycleTagPredicate", "tag": { "key": key, "value": value } }));
    }
    if let Some(size) = f.integer("ObjectSizeGreaterThan")? {
        out.push(json!({ "type": "LifecycleObjectSizeGreaterThanPredicate", "objectSizeGreaterThan": size }));
    }
    if let Some(size) = f.integer("ObjectSizeLessThan")? {
        out.push(
            json!({ "type": "LifecycleObjectSizeLessThanPredicate", "objectSizeLessThan": size }),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
