//! The changes conftrail makes through AWS's API (remediation): each call as AWS documents it,
//! nothing decided here about whether it should be made.

use super::{decode_rest_answer, model, xml, AwsClient, AwsError, Request, Service};
use quick_xml::escape::escape;
use serde_json::Value;

/// The EC2 API version of the model.
const EC2_VERSION: &str = "2016-11-15";

/// The IAM API version.
const IAM_VERSION: &str = "2010-05-08";

/// S3's XML namespace, which S3 wants on the root of a request body.
const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// An ingress permission to revoke: the protocol, its ports, and the ranges it is open to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressPermission {
    /// `tcp`, `udp`, `icmp`, a protocol number, or `-1` for all.
    pub protocol: String,
    /// First port (ICMP type); none for all.
    pub from_port: Option<i64>,
    /// Last port (ICMP code); none for all.
    pub to_port: Option<i64>,
    /// IPv4 ranges (`0.0.0.0/0`).
    pub ipv4_ranges: Vec<String>,
    /// IPv6 ranges (`::/0`).
    pub ipv6_ranges: Vec<String>,
}

/// `RevokeSecurityGroupIngress` of exactly these permissions of a group.
pub fn revoke_ingress(
    client: &AwsClient,
    region: &str,
    group_id: &str,
    permissions: &[IngressPermission],
) -> Result<(), AwsError> {
    let mut params = vec![("GroupId".to_string(), group_id.to_string())];
    for (i, permission) in permissions.iter().enumerate() {
        let at = format!("IpPermissions.{}", i + 1);
        params.push((format!("{at}.IpProtocol"), permission.protocol.clone()));
        if let Some(port) = permission.from_port {
            params.push((format!("{at}.FromPort"), port.to_string()));
        }
        if let Some(port) = permission.to_port {
            params.push((format!("{at}.ToPort"), port.to_string()));
        }
        for (j, cidr) in permission.ipv4_ranges.iter().enumerate() {
            params.push((format!("{at}.IpRanges.{}.CidrIp", j + 1), cidr.clone()));
        }
        for (j, cidr) in permission.ipv6_ranges.iter().enumerate() {
            params.push((format!("{at}.Ipv6Ranges.{}.CidrIpv6", j + 1), cidr.clone()));
        }
    }
    let request = Request::query(
        Service::Ec2,
        region,
        "RevokeSecurityGroupIngress",
        EC2_VERSION,
        &params,
    );
    client.send(&request).map(drop)
}

/// `PutPublicAccessBlock` of a bucket with all four settings on.
pub fn block_bucket_public_access(
    client: &AwsClient,
    region: &str,
    bucket: &str,
) -> Result<(), AwsError> {
    let body = format!(
        "<PublicAccessBlockConfiguration xmlns=\"{S3_NAMESPACE}\">\
         <BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>\
         <BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>\
         </PublicAccessBlockConfiguration>"
    );
    put_bucket_setting(
        client,
        region,
        bucket,
        "PutPublicAccessBlock",
        "publicAccessBlock",
        body,
    )
}

/// `PutBucketEncryption`: SSE-KMS with `kms_key_id`, else SSE-S3 (AES256).
pub fn enable_bucket_encryption(
    client: &AwsClient,
    region: &str,
    bucket: &str,
    kms_key_id: Option<&str>,
) -> Result<(), AwsError> {
    let rule = match kms_key_id {
        Some(key) => format!(
            "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{}</KMSMasterKeyID>",
            escape(key)
        ),
        None => "<SSEAlgorithm>AES256</SSEAlgorithm>".to_string(),
    };
    let body = format!(
        "<ServerSideEncryptionConfiguration xmlns=\"{S3_NAMESPACE}\"><Rule>\
         <ApplyServerSideEncryptionByDefault>{rule}</ApplyServerSideEncryptionByDefault>\
         </Rule></ServerSideEncryptionConfiguration>"
    );
    put_bucket_setting(
        client,
        region,
        bucket,
        "PutBucketEncryption",
        "encryption",
        body,
    )
}

/// `PutBucketVersioning` with versioning enabled (MFA delete left as it is).
pub fn enable_bucket_versioning(
    client: &AwsClient,
    region: &str,
    bucket: &str,
) -> Result<(), AwsError> {
    let body = format!(
        "<VersioningConfiguration xmlns=\"{S3_NAMESPACE}\"><Status>Enabled</Status></VersioningConfiguration>"
    );
    put_bucket_setting(
        client,
        region,
        bucket,
        "PutBucketVersioning",
        "versioning",
        body,
    )
}

/// A bucket's ACL as `GetBucketAcl` answers it: `{Owner: {ID, DisplayName}, Grants: [{Grantee:
/// {Type, ID, URI, EmailAddress, DisplayName}, Permission}]}`.
pub fn bucket_acl(client: &AwsClient, region: &str, bucket: &str) -> Result<Value, AwsError> {
    const OPERATION: &str = "GetBucketAcl";
    let request = Request::rest(Service::S3, region, OPERATION, "/?acl").in_bucket(bucket);
    let answer = client.send(&request)?;
    decode_rest_answer(model::s3()?, OPERATION, &answer.body)
}

/// `PutBucketAcl` with the owner and grants given, in `GetBucketAcl`'s shape.
pub fn put_bucket_acl(
    client: &AwsClient,
    region: &str,
    bucket: &str,
    owner: &Value,
    grants: &[Value],
) -> Result<(), AwsError> {
    let body = acl_body(owner, grants);
    put_bucket_setting(client, region, bucket, "PutBucketAcl", "acl", body)
}

/// The `AccessControlPolicy` document of an owner and grants in `GetBucketAcl`'s shape.
fn acl_body(owner: &Value, grants: &[Value]) -> String {
    fn field<'v>(value: &'v Value, key: &str) -> Option<std::borrow::Cow<'v, str>> {
        value.get(key).and_then(Value::as_str).map(escape)
    }
    let mut body = format!("<AccessControlPolicy xmlns=\"{S3_NAMESPACE}\"><Owner>");
    if let Some(id) = field(owner, "ID") {
        body.push_str(&format!("<ID>{id}</ID>"));
    }
    body.push_str("</Owner><AccessControlList>");
    for grant in grants {
        let grantee = grant.get("Grantee").unwrap_or(&Value::Null);
        let kind = field(grantee, "Type").unwrap_or_default();
        body.push_str(&format!(
            "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"{kind}\">"
        ));
        for key in ["ID", "URI", "EmailAddress"] {
            if let Some(value) = field(grantee, key) {
                body.push_str(&format!("<{key}>{value}</{key}>"));
            }
        }
        let permission = field(grant, "Permission").unwrap_or_default();
        body.push_str(&format!(
            "</Grantee><Permission>{permission}</Permission></Grant>"
        ));
    }
    body.push_str("</AccessControlList></AccessControlPolicy>");
    body
}

/// An IAM access key as `ListAccessKeys` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AKIA…`.
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// When it was made (ISO 8601 as IAM writes it).
    pub created: String,
}

/// Every access key of an IAM user (`ListAccessKeys`, every page).
pub fn access_keys(client: &AwsClient, user: &str) -> Result<Vec<AccessKey>, AwsError> {
    const OPERATION: &str = "ListAccessKeys";
    let mut keys = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("UserName".to_string(), user.to_string())];
        if let Some(marker) = &marker {
            params.push(("Marker".to_string(), marker.clone()));
        }
        let request = Request::query(Service::Iam, "us-east-1", OPERATION, IAM_VERSION, &params);
        let answer = client.send(&request)?;
        let root = xml::parse(&answer.body).map_err(|e| AwsError::Answer {
            operation: OPERATION,
            reason: e.to_string(),
        })?;
        let result = root.child("ListAccessKeysResult").unwrap_or(&root);
        if let Some(list) = result.child("AccessKeyMetadata") {
            for member in &list.children {
                let text = |name: &str| member.find_text(name).unwrap_or_default().to_string();
                keys.push(AccessKey {
                    id: text("AccessKeyId"),
                    status: text("Status"),
                    created: text("CreateDate"),
                });
            }
        }
        marker = match result.find_text("IsTruncated") {
            Some("true") => result.find_text("Marker").map(str::to_string),
            _ => None,
        };
        if marker.is_none() {
            return Ok(keys);
        }
    }
}

/// `UpdateAccessKey` to `Inactive`.
pub fn deactivate_access_key(client: &AwsClient, user: &str, key_id: &str) -> Result<(), AwsError> {
    let params = [
        ("UserName".to_string(), user.to_string()),
        ("AccessKeyId".to_string(), key_id.to_string()),
        ("Status".to_string(), "Inactive".to_string()),
    ];
    let request = Request::query(
        Service::Iam,
        "us-east-1",
        "UpdateAccessKey",
        IAM_VERSION,
        &params,
    );
    client.send(&request).map(drop)
}

/// `PUT /{bucket}?{query}` with an XML body, its integrity sent as S3 asks of these calls
/// (`Content-MD5` is required by some; a SHA-256 checksum header is accepted in its place).
fn put_bucket_setting(
    client: &AwsClient,
    region: &str,
    bucket: &str,
    operation: &'static str,
    query: &str,
    body: String,
) -> Result<(), AwsError> {
    use base64::Engine;
    use sha2::Digest;
    let checksum = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body));
    let request = Request::rest(Service::S3, region, operation, format!("/?{query}"))
        .in_bucket(bucket)
        .with_body("PUT", "application/xml", body.into_bytes())
        .with_header("x-amz-checksum-sha256", &checksum);
    client.send(&request).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_acl_body_reads_back_as_the_owner_and_grants_given() {
        let owner = json!({"ID": "owner&1", "DisplayName": "me"});
        let grants = [
            json!({"Grantee": {"Type": "CanonicalUser", "ID": "owner&1"}, "Permission": "FULL_CONTROL"}),
            json!({"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"}),
        ];
        let body = acl_body(&owner, &grants);
        let decoded = xml::decode(
            model::s3().unwrap(),
            &xml::parse(body.as_bytes()).unwrap(),
            "GetBucketAclOutput",
        )
        .unwrap();
        assert_eq!(decoded["Owner"]["ID"], "owner&1");
        assert_eq!(decoded["Grants"][0]["Grantee"]["ID"], "owner&1");
        assert_eq!(decoded["Grants"][0]["Permission"], "FULL_CONTROL");
        assert_eq!(
            decoded["Grants"][1]["Grantee"]["URI"],
            "http://acs.amazonaws.com/groups/s3/LogDelivery"
        );
        assert_eq!(decoded["Grants"][1]["Grantee"]["Type"], "Group");
        assert_eq!(decoded["Grants"].as_array().unwrap().len(), 2);
    }
}
