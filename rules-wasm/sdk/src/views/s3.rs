//! S3 bucket views and the public-access analysis shared by the S3 rules.
//!
//! Supplementary values of `AWS::S3::Bucket` read here (AWS Config's names):
//! `AccessControlList`, `BucketPolicy`, `PublicAccessBlockConfiguration`,
//! `ServerSideEncryptionConfiguration`, `BucketVersioningConfiguration`.
//!
//! `AccessControlList` comes in two shapes in real data: grantees as objects
//! (`{"id": "…", "displayName": …}` for accounts, `{"uri"|"identifier": "http://acs.amazonaws.com/groups/global/AllUsers"}`
//! for groups) or, for groups, as a bare name (`"grantee": "AllUsers"`), with permissions
//! spelled `Read` / `FullControl` or `READ` / `FULL_CONTROL`. Both are read.
//!
//! Absent versus not configured: AWS Config records `AccessControlList`, `BucketPolicy` (with
//! `policyText` null when there is none) and `BucketVersioningConfiguration` for every bucket, so
//! their absence is an error naming the key; `PublicAccessBlockConfiguration` and
//! `ServerSideEncryptionConfiguration` are only there when configured, so their absence means
//! off. Within a value, the fields rules judge by must be there (`grantList` or `grantSet`,
//! `policyText`, the four Block Public Access settings, `rules`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::Supplementary;
use crate::json::{lenient_bool, null_as_empty, nullable_list, Embedded, Text};
use crate::policy::{Access, PolicyDocument};
use crate::Item;

/// The resource type of the account-level public access block (its id is the account id).
pub const ACCOUNT_PUBLIC_ACCESS_BLOCK: &str = "AWS::S3::AccountPublicAccessBlock";

/// `AWS::S3::Bucket` configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket<'a> {
    /// The bucket name.
    #[serde(borrow, default)]
    pub name: Option<Text<'a>>,
    /// The owner.
    #[serde(borrow, default)]
    pub owner: Option<Owner<'a>>,
    /// When it was created.
    #[serde(borrow, default)]
    pub creation_date: Option<Text<'a>>,
}

/// A bucket owner.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner<'a> {
    /// Canonical user id.
    #[serde(borrow, default)]
    pub id: Option<Text<'a>>,
    /// Display name.
    #[serde(borrow, default)]
    pub display_name: Option<Text<'a>>,
}

/// `supplementaryConfiguration.AccessControlList`: `grantList` (or `Grants`) or `grantSet` must
/// be there (null reads as no grants), or reading fails: without them the grants cannot be seen.
#[derive(Debug, Clone, Default)]
pub struct AccessControlList {
    /// Grants (AWS Config's `grantList`).
    pub grant_list: Vec<Grant>,
    /// Grants, other serialisation (`grantSet`, usually null).
    pub grant_set: Vec<Grant>,
}

/// The JSON of an ACL, before the check that its grants are there.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AclFields {
    #[serde(
        default,
        alias = "grants",
        alias = "Grants",
        deserialize_with = "nullable_list"
    )]
    grant_list: Option<Vec<Grant>>,
    #[serde(default, deserialize_with = "nullable_list")]
    grant_set: Option<Vec<Grant>>,
}

impl<'de> Deserialize<'de> for AccessControlList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = AclFields::deserialize(d)?;
        if f.grant_list.is_none() && f.grant_set.is_none() {
            return Err(de::Error::custom(
                "the ACL has neither grantList nor grantSet (is the item in AWS Config's shape?)",
            ));
        }
        Ok(AccessControlList {
            grant_list: f.grant_list.unwrap_or_default(),
            grant_set: f.grant_set.unwrap_or_default(),
        })
    }
}

impl Supplementary for AccessControlList {
    const KEY: &'static str = "AccessControlList";
    const ALWAYS_RECORDED: bool = true;
}

impl AccessControlList {
    /// All grants (`grantList` then `grantSet`).
    pub fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.grant_list.iter().chain(&self.grant_set)
    }

    /// The first grant that gives a public group (AllUsers, AuthenticatedUsers) `access`.
    pub fn public_grant(&self, access: Access) -> Option<&Grant> {
        self.grants()
            .find(|g| g.grantee.is_public() && g.permission.gives(access))
    }
}

/// One ACL grant.
#[derive(Debug, Clone, Deserialize)]
pub struct Grant {
    /// Who.
    #[serde(alias = "Grantee")]
    pub grantee: Grantee,
    /// What.
    #[serde(alias = "Permission")]
    pub permission: Permission,
}

impl fmt::Display for Grant {
    /// `Read to AllUsers`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.permission, self.grantee)
    }
}

/// A grantee: a canonical user (`id`), an e-mail address, or a group (`uri`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grantee {
    /// Canonical user id.
    pub id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Group URI (`http://acs.amazonaws.com/groups/global/AllUsers`) or group name.
    pub uri: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// `CanonicalUser`, `Group`, `AmazonCustomerByEmail` when given.
    pub kind: Option<String>,
}

/// Group URIs' common prefix.
const GROUPS_PREFIX: &str = "http://acs.amazonaws.com/groups/";

impl Grantee {
    /// The group name (`AllUsers`, `AuthenticatedUsers`, `LogDelivery`) when the grantee is a
    /// group.
    pub fn group(&self) -> Option<&str> {
        let uri = self.uri.as_deref()?.trim();
        if let Some(rest) = uri
            .strip_prefix(GROUPS_PREFIX)
            .or_else(|| uri.strip_prefix("https://acs.amazonaws.com/groups/"))
        {
            return rest.rsplit('/').next();
        }
        if !uri.contains('/') && !uri.is_empty() {
            return Some(uri);
        }
        None
    }

    /// Whether the grantee is everyone (AllUsers) or every AWS account (AuthenticatedUsers).
    pub fn is_public(&self) -> bool {
        matches!(self.group(), Some(g) if g.eq_ignore_ascii_case("AllUsers") || g.eq_ignore_ascii_case("AuthenticatedUsers"))
    }
}

impl fmt::Display for Grantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(g) = self.group() {
            f.write_str(g)
        } else if let Some(id) = &self.id {
            write!(f, "canonical user {id}")
        } else if let Some(e) = &self.email {
            write!(f, "{e}")
        } else {
            f.write_str("(unknown grantee)")
        }
    }
}

impl<'de> Deserialize<'de> for Grantee {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Obj {
            #[serde(default, alias = "ID", alias = "Id")]
            id: Option<String>,
            #[serde(default, alias = "DisplayName")]
            display_name: Option<String>,
            #[serde(default, alias = "URI", alias = "Uri")]
            uri: Option<String>,
            #[serde(default)]
            identifier: Option<String>,
            #[serde(default)]
            type_identifier: Option<String>,
            #[serde(default, alias = "EmailAddress")]
            email_address: Option<String>,
            #[serde(default, rename = "type", alias = "Type")]
            kind: Option<String>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Grantee;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a grantee object or group name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Grantee, E> {
                Ok(Grantee {
                    uri: Some(v.to_string()),
                    kind: Some("Group".to_string()),
                    ..Grantee::default()
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Grantee, E> {
                Ok(Grantee::default())
            }
            fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<Grantee, A::Error> {
                let o = Obj::deserialize(de::value::MapAccessDeserializer::new(a))?;
                let mut g = Grantee {
                    id: o.id,
                    display_name: o.display_name,
                    uri: o.uri,
                    email: o.email_address,
                    kind: o.kind,
                };
                // Java SDK shape: {"identifier": …, "typeIdentifier": "id" | "uri" | "emailAddress"}
                if let Some(ident) = o.identifier {
                    match o.type_identifier.as_deref() {
                        Some("uri") => g.uri = g.uri.or(Some(ident)),
                        Some("emailAddress") => g.email = g.email.or(Some(ident)),
                        Some("id") => g.id = g.id.or(Some(ident)),
                        _ if ident.starts_with("http") => g.uri = g.uri.or(Some(ident)),
                        _ => g.id = g.id.or(Some(ident)),
                    }
                }
                Ok(g)
            }
        }
        d.deserialize_any(V)
    }
}

/// An ACL permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    /// FULL_CONTROL
    FullControl,
    /// READ (list / read objects)
    Read,
    /// WRITE (create, overwrite, delete objects)
    Write,
    /// READ_ACP
    ReadAcp,
    /// WRITE_ACP (change the ACL: amounts to write)
    WriteAcp,
    /// Anything else, as written.
    Other(String),
}

impl Permission {
    /// Parses `Read`, `READ`, `FullControl`, `FULL_CONTROL`, `full-control`, …
    pub fn parse(s: &str) -> Permission {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match norm.as_str() {
            "fullcontrol" => Permission::FullControl,
            "read" => Permission::Read,
            "write" => Permission::Write,
            "readacp" => Permission::ReadAcp,
            "writeacp" => Permission::WriteAcp,
            _ => Permission::Other(s.to_string()),
        }
    }

    /// Whether the permission gives `access`: read = Read or FullControl; write = Write,
    /// WriteAcp or FullControl.
    pub fn gives(&self, access: Access) -> bool {
        match access {
            Access::Read => matches!(self, Permission::Read | Permission::FullControl),
            Access::Write => matches!(
                self,
                Permission::Write | Permission::WriteAcp | Permission::FullControl
            ),
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Permission::FullControl => "FullControl",
            Permission::Read => "Read",
            Permission::Write => "Write",
            Permission::ReadAcp => "ReadAcp",
            Permission::WriteAcp => "WriteAcp",
            Permission::Other(s) => s,
        })
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Permission::parse(&s))
    }
}

/// `supplementaryConfiguration.BucketPolicy`: `{"policyText": "<policy JSON>" | null}`
/// (`policyText` required: null is "no policy", absent cannot be told from it).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BucketPolicy {
    /// The policy, parsed from the JSON text AWS records (an object is accepted too).
    pub policy_text: Embedded<PolicyDocument>,
}

impl Supplementary for BucketPolicy {
    const KEY: &'static str = "BucketPolicy";
    const ALWAYS_RECORDED: bool = true;
}

impl BucketPolicy {
    /// The policy document, if the bucket has a policy.
    pub fn document(&self) -> Option<&PolicyDocument> {
        self.policy_text.0.as_ref()
    }
}

/// Block Public Access settings (`supplementaryConfiguration.PublicAccessBlockConfiguration`
/// of a bucket, or the configuration of an `AWS::S3::AccountPublicAccessBlock`). The four
/// settings must be there (AWS writes all four); null reads as false.
#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PublicAccessBlock {
    /// Rejects new public ACLs.
    #[serde(alias = "BlockPublicAcls", deserialize_with = "lenient_flag")]
    pub block_public_acls: bool,
    /// Ignores existing public ACLs.
    #[serde(alias = "IgnorePublicAcls", deserialize_with = "lenient_flag")]
    pub ignore_public_acls: bool,
    /// Rejects new public policies.
    #[serde(alias = "BlockPublicPolicy", deserialize_with = "lenient_flag")]
    pub block_public_policy: bool,
    /// Limits access under a public policy to AWS services and the owner's account.
    #[serde(alias = "RestrictPublicBuckets", deserialize_with = "lenient_flag")]
    pub restrict_public_buckets: bool,
}

fn lenient_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(lenient_bool(d)?.unwrap_or(false))
}

impl Supplementary for PublicAccessBlock {
    const KEY: &'static str = "PublicAccessBlockConfiguration";
}

impl PublicAccessBlock {
    /// The names of the four settings that are off.
    pub fn disabled_settings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.block_public_acls {
            out.push("BlockPublicAcls");
        }
        if !self.ignore_public_acls {
            out.push("IgnorePublicAcls");
        }
        if !self.block_public_policy {
            out.push("BlockPublicPolicy");
        }
        if !self.restrict_public_buckets {
            out.push("RestrictPublicBuckets");
        }
        out
    }

    /// Settings on in either.
    pub fn or(self, other: PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// `supplementaryConfiguration.ServerSideEncryptionConfiguration` (absent when the bucket has
/// no default encryption; when there, `rules` must be).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServerSideEncryption {
    /// Encryption rules.
    #[serde(alias = "Rules", deserialize_with = "null_as_empty")]
    pub rules: Vec<SseRule>,
}

/// One default-encryption rule.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SseRule {
    /// `{sseAlgorithm, kmsMasterKeyID}`
    #[serde(default, alias = "ApplyServerSideEncryptionByDefault")]
    pub apply_server_side_encryption_by_default: Option<SseDefault>,
    /// S3 Bucket Keys.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub bucket_key_enabled: Option<bool>,
}

/// Default encryption.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SseDefault {
    /// `AES256`, `aws:kms`, `aws:kms:dsse`.
    #[serde(default, alias = "SSEAlgorithm", alias = "SseAlgorithm")]
    pub sse_algorithm: Option<String>,
    /// KMS key.
    #[serde(default, alias = "kmsMasterKeyID", alias = "KMSMasterKeyID")]
    pub kms_master_key_id: Option<String>,
}

impl Supplementary for ServerSideEncryption {
    const KEY: &'static str = "ServerSideEncryptionConfiguration";
}

impl ServerSideEncryption {
    /// The default encryption algorithm, if one is set.
    pub fn default_algorithm(&self) -> Option<&str> {
        self.rules.iter().find_map(|r| {
            r.apply_server_side_encryption_by_default
                .as_ref()
                .and_then(|d| d.sse_algorithm.as_deref())
                .map(str::trim)
                .filter(|a| !a.is_empty())
        })
    }
}

/// `supplementaryConfiguration.BucketVersioningConfiguration`. Within it, a missing `status` or
/// `isMfaDeleteEnabled` reads as never configured (the S3 API's GetBucketVersioning leaves
/// them out then).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BucketVersioning {
    /// `Enabled`, `Suspended` or `Off`.
    #[serde(default, alias = "Status")]
    pub status: Option<String>,
    /// MFA delete (null when never configured).
    #[serde(default, alias = "MFADelete", deserialize_with = "lenient_bool")]
    pub is_mfa_delete_enabled: Option<bool>,
}

impl Supplementary for BucketVersioning {
    const KEY: &'static str = "BucketVersioningConfiguration";
    const ALWAYS_RECORDED: bool = true;
}

impl BucketVersioning {
    /// Whether the status is `Enabled`.
    pub fn is_enabled(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("enabled"))
    }
}

/// Block Public Access as it applies to one bucket: the bucket's settings and, when recorded,
/// the account's.
#[derive(Debug, Clone, Copy, Default)]
pub struct EffectiveBlock {
    /// The bucket's own settings (`None` when not recorded).
    pub bucket: Option<PublicAccessBlock>,
    /// The account's (`AWS::S3::AccountPublicAccessBlock`, via the host lookup).
    pub account: Option<PublicAccessBlock>,
}

impl EffectiveBlock {
    /// Reads the bucket's settings and looks up the account's
    /// (`lookup("AWS::S3::AccountPublicAccessBlock", <account id>)`).
    pub fn of(item: &Item) -> Result<EffectiveBlock, String> {
        let bucket = item.supplementary_view::<PublicAccessBlock>()?;
        let account = match crate::lookup(ACCOUNT_PUBLIC_ACCESS_BLOCK, item.account_id()) {
            Some(a) if !a.is_deleted() && a.has_configuration() => {
                Some(a.configuration::<PublicAccessBlock>()?)
            }
            _ => None,
        };
        Ok(EffectiveBlock { bucket, account })
    }

    /// The settings in force: on when on at either level.
    pub fn combined(&self) -> PublicAccessBlock {
        self.bucket
            .unwrap_or_default()
            .or(self.account.unwrap_or_default())
    }

    /// Where a setting comes from: `"bucket"`, `"account"`, or `None` when off.
    pub fn source(&self, setting: impl Fn(&PublicAccessBlock) -> bool) -> Option<&'static str> {
        if self.bucket.as_ref().is_some_and(&setting) {
            Some("bucket")
        } else if self.account.as_ref().is_some_and(&setting) {
            Some("account")
        } else {
            None
        }
    }
}

/// Why a bucket allows the public `access`, one reason per path (ACL, policy); empty when it
/// does not.
///
/// A public ACL grant counts unless `IgnorePublicAcls` is on (bucket or account); a public
/// policy statement counts unless `RestrictPublicBuckets` is on. (`BlockPublicAcls` and
/// `BlockPublicPolicy` only reject *new* public ACLs and policies; they do not neutralise
/// existing ones.) A path that cannot be read (its value absent or malformed) is an error,
/// unless the other path already makes the bucket public: that answer stands.
pub fn public_access_reasons(item: &Item, access: Access) -> Result<Vec<String>, String> {
    let block = EffectiveBlock::of(item)?.combined();
    let mut reasons = Vec::new();
    let mut unreadable = Vec::new();
    if !block.ignore_public_acls {
        match item.supplementary_view::<AccessControlList>() {
            Ok(acl) => {
                if let Some(grant) = acl.as_ref().and_then(|a| a.public_grant(access)) {
                    reasons.push(format!("The bucket ACL grants {grant}."));
                }
            }
            Err(e) => unreadable.push(e),
        }
    }
    if !block.restrict_public_buckets {
        match item.supplementary_view::<BucketPolicy>() {
            Ok(policy) => {
                let document = policy.as_ref().and_then(BucketPolicy::document);
                if let Some(public) = document.and_then(|d| d.public_statement(access)) {
                    reasons.push(format!("The bucket policy {public}."));
                }
            }
            Err(e) => unreadable.push(e),
        }
    }
    if reasons.is_empty() && !unreadable.is_empty() {
        return Err(unreadable.join("; "));
    }
    Ok(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grantee_shapes() {
        let acl: AccessControlList = serde_json::from_str(
            r#"{"grantSet":null,"grantList":[
                {"grantee":{"id":"abc","displayName":null},"permission":"FullControl"},
                {"grantee":"AllUsers","permission":"Read"},
                {"grantee":{"identifier":"http://acs.amazonaws.com/groups/global/AuthenticatedUsers","typeIdentifier":"uri"},"permission":"WRITE"},
                {"grantee":{"uri":"http://acs.amazonaws.com/groups/s3/LogDelivery","type":"Group"},"permission":"WRITE_ACP"}
            ],"owner":{"id":"abc"},"isRequesterCharged":false}"#,
        )
        .unwrap();
        let g: Vec<&Grant> = acl.grants().collect();
        assert_eq!(g.len(), 4);
        assert_eq!(g[0].grantee.id.as_deref(), Some("abc"));
        assert!(!g[0].grantee.is_public());
        assert_eq!(g[1].grantee.group(), Some("AllUsers"));
        assert!(g[1].grantee.is_public());
        assert_eq!(g[2].grantee.group(), Some("AuthenticatedUsers"));
        assert_eq!(g[2].permission, Permission::Write);
        assert_eq!(g[3].grantee.group(), Some("LogDelivery"));
        assert!(!g[3].grantee.is_public());
        assert_eq!(
            acl.public_grant(Access::Read).unwrap().to_string(),
            "Read to AllUsers"
        );
        assert_eq!(
            acl.public_grant(Access::Write).unwrap().to_string(),
            "Write to AuthenticatedUsers"
        );
    }

    #[test]
    fn permissions() {
        assert_eq!(Permission::parse("FULL_CONTROL"), Permission::FullControl);
        assert_eq!(Permission::parse("FullControl"), Permission::FullControl);
        assert_eq!(Permission::parse("ReadAcp"), Permission::ReadAcp);
        assert!(
            Permission::FullControl.gives(Access::Read)
                && Permission::FullControl.gives(Access::Write)
        );
        assert!(!Permission::ReadAcp.gives(Access::Read));
        assert!(Permission::WriteAcp.gives(Access::Write));
    }

    #[test]
    fn other_views() {
        let b: PublicAccessBlock = serde_json::from_str(
            r#"{"blockPublicAcls":true,"ignorePublicAcls":"true","blockPublicPolicy":null,"RestrictPublicBuckets":"no"}"#,
        )
        .unwrap();
        assert_eq!(
            b.disabled_settings(),
            vec!["BlockPublicPolicy", "RestrictPublicBuckets"]
        );
        let v: BucketVersioning =
            serde_json::from_str(r#"{"status":"Enabled","isMfaDeleteEnabled":null}"#).unwrap();
        assert!(v.is_enabled() && v.is_mfa_delete_enabled.is_none());
        let v: BucketVersioning =
            serde_json::from_str(r#"{"status":"Suspended","isMfaDeleteEnabled":"true"}"#).unwrap();
        assert!(!v.is_enabled() && v.is_mfa_delete_enabled == Some(true));
        let s: ServerSideEncryption = serde_json::from_str(
            r#"{"rules":[{"applyServerSideEncryptionByDefault":{"sseAlgorithm":"aws:kms","kmsMasterKeyID":"k"},"bucketKeyEnabled":true}]}"#,
        )
        .unwrap();
        assert_eq!(s.default_algorithm(), Some("aws:kms"));
        let p: BucketPolicy = serde_json::from_str(r#"{"policyText":null}"#).unwrap();
        assert!(p.document().is_none());
        let p: BucketPolicy =
            serde_json::from_str(r#"{"policyText":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\"}]}"}"#)
                .unwrap();
        assert!(p
            .document()
            .unwrap()
            .public_statement(Access::Read)
            .is_some());
    }

    fn bucket(supplementary: &str) -> Item {
        crate::testing::item_from_json(&format!(
            r#"{{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":{{"name":"b"}},"supplementaryConfiguration":{supplementary}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn absent_values_are_errors_where_aws_config_always_records_them() {
        let empty = bucket("{}");
        for (err, key) in [
            (
                empty.supplementary_view::<AccessControlList>().unwrap_err(),
                "AccessControlList",
            ),
            (
                empty.supplementary_view::<BucketPolicy>().unwrap_err(),
                "BucketPolicy",
            ),
            (
                empty.supplementary_view::<BucketVersioning>().unwrap_err(),
                "BucketVersioningConfiguration",
            ),
        ] {
            assert_eq!(
                err,
                format!("supplementaryConfiguration.{key} is absent (is the item in AWS Config's shape? AWS Config records {key} for every item of this resource type)")
            );
        }
        // absent means "not configured" for these, as in AWS Config
        assert!(empty
            .supplementary_view::<PublicAccessBlock>()
            .unwrap()
            .is_none());
        assert!(empty
            .supplementary_view::<ServerSideEncryption>()
            .unwrap()
            .is_none());
        // null is recorded, empty
        let nulls = bucket(
            r#"{"AccessControlList":null,"BucketPolicy":null,"BucketVersioningConfiguration":null}"#,
        );
        assert!(nulls
            .supplementary_view::<AccessControlList>()
            .unwrap()
            .is_none());
        assert!(nulls
            .supplementary_view::<BucketPolicy>()
            .unwrap()
            .is_none());
        assert!(nulls
            .supplementary_view::<BucketVersioning>()
            .unwrap()
            .is_none());
        // another spelling is named
        let err = bucket(r#"{"accessControlList":{"grantList":[]}}"#)
            .supplementary_view::<AccessControlList>()
            .unwrap_err();
        assert!(
            err.ends_with("found accessControlList: another spelling of AccessControlList)"),
            "{err}"
        );
        // inside a value, the fields rules judge by must be there
        let err = bucket(r#"{"AccessControlList":{"owner":{"id":"x"}}}"#)
            .supplementary_view::<AccessControlList>()
            .unwrap_err();
        assert!(err.contains("neither grantList nor grantSet"), "{err}");
        let acl = bucket(r#"{"AccessControlList":{"Grants":[],"Owner":{"ID":"x"}}}"#);
        assert!(acl
            .supplementary_view::<AccessControlList>()
            .unwrap()
            .unwrap()
            .grants()
            .next()
            .is_none());
        let err = bucket(r#"{"BucketPolicy":{"Policy":"{}"}}"#)
            .supplementary_view::<BucketPolicy>()
            .unwrap_err();
        assert!(err.contains("missing field `policyText`"), "{err}");
        let err = bucket(r#"{"PublicAccessBlockConfiguration":{"blockPublicAcls":true}}"#)
            .supplementary_view::<PublicAccessBlock>()
            .unwrap_err();
        assert!(err.contains("missing field `ignorePublicAcls`"), "{err}");
        let err = bucket(r#"{"ServerSideEncryptionConfiguration":{}}"#)
            .supplementary_view::<ServerSideEncryption>()
            .unwrap_err();
        assert!(err.contains("missing field `rules`"), "{err}");
    }

    #[test]
    fn public_access_needs_both_paths_unless_one_is_public() {
        let public_acl =
            r#"{"AccessControlList":{"grantList":[{"grantee":"AllUsers","permission":"Read"}]}}"#;
        assert_eq!(
            public_access_reasons(&bucket(public_acl), Access::Read).unwrap(),
            vec!["The bucket ACL grants Read to AllUsers."]
        );
        let private_acl = r#"{"AccessControlList":{"grantList":[]}}"#;
        let err = public_access_reasons(&bucket(private_acl), Access::Read).unwrap_err();
        assert!(
            err.starts_with("supplementaryConfiguration.BucketPolicy is absent"),
            "{err}"
        );
        let both = r#"{"AccessControlList":{"grantList":[]},"BucketPolicy":{"policyText":null}}"#;
        assert!(public_access_reasons(&bucket(both), Access::Read)
            .unwrap()
            .is_empty());
    }
}
