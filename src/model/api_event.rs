//! An API call as CloudTrail records it, with the fields conftrail indexes pulled out.

use super::{time_serde, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who made a call: CloudTrail's `userIdentity`, flattened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `Root`, `IAMUser`, `AssumedRole`, `FederatedUser`, `AWSService`, …
    #[serde(rename = "type", skip_serializing_if = "Option::is_none", default)]
    pub identity_type: Option<String>,
    /// The principal id (`AIDA…`, `AROA…:session`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub principal_id: Option<String>,
    /// The caller's ARN (for an assumed role: the session's `assumed-role/…/session` ARN).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arn: Option<String>,
    /// The account the caller belongs to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// `userName`, for IAM users.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_name: Option<String>,
    /// ARN of the role (or user) that issued the session, for temporary credentials.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub session_issuer_arn: Option<String>,
    /// Name of the session issuer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub session_issuer_name: Option<String>,
    /// The AWS service that made the call on the caller's behalf.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub invoked_by: Option<String>,
}

/// A resource named in a record's `resources[]` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventResource {
    /// `ARN` (may be absent).
    #[serde(rename = "ARN", skip_serializing_if = "Option::is_none", default)]
    pub arn: Option<String>,
    /// `type`, e.g. `AWS::S3::Bucket`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none", default)]
    pub resource_type: Option<String>,
    /// `accountId` of the resource.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
}

/// One CloudTrail record, with the fields conftrail filters and links on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiEvent {
    /// `eventID`: unique per event; duplicates are stored once.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `eventTime`, to the millisecond.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub event_time: Timestamp,
    /// `eventSource`, e.g. `ec2.amazonaws.com`.
    pub event_source: String,
    /// `eventName`, e.g. `AuthorizeSecurityGroupIngress`.
    pub event_name: String,
    /// `awsRegion`.
    pub aws_region: String,
    /// The account the call was made in: `recipientAccountId`, else the caller's account.
    pub account_id: String,
    /// Who called.
    pub user_identity: UserIdentity,
    /// The user name CloudTrail's console shows (see `resolve_username`).
    pub username: String,
    /// `sourceIPAddress`.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `userIdentity.accessKeyId`.
    pub access_key_id: Option<String>,
    /// `errorCode`: set when the call failed (then it changed nothing).
    pub error_code: Option<String>,
    /// `errorMessage`.
    pub error_message: Option<String>,
    /// `readOnly`: true for calls that only read.
    pub read_only: bool,
    /// `eventType` (`AwsApiCall`, `AwsServiceEvent`, `AwsConsoleAction`, …).
    pub event_type: Option<String>,
    /// `requestID`.
    #[serde(rename = "requestID")]
    pub request_id: Option<String>,
    /// `resources[]` as the record lists them.
    pub resources: Vec<EventResource>,
    /// The whole record as it arrived, unchanged.
    pub record: Value,
}

impl ApiEvent {
    /// Whether the call could have changed something: a write that did not fail.
    pub fn is_successful_write(&self) -> bool {
        !self.read_only && self.error_code.is_none()
    }

    /// `requestParameters` of the record (`null` when absent).
    pub fn request_parameters(&self) -> &Value {
        self.record.get("requestParameters").unwrap_or(&Value::Null)
    }

    /// `responseElements` of the record (`null` when absent).
    pub fn response_elements(&self) -> &Value {
        self.record.get("responseElements").unwrap_or(&Value::Null)
    }
}

/// The user name CloudTrail's console shows for a caller: `userName`, else the session issuer's
/// name, else the last part of the ARN, else the principal id.
pub fn resolve_username(identity: &UserIdentity) -> String {
    let non_empty = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    non_empty(&identity.user_name)
        .or_else(|| non_empty(&identity.session_issuer_name))
        .or_else(|| {
            identity
                .arn
                .as_deref()
                .and_then(arn_last_part)
                .map(str::to_string)
        })
        .or_else(|| non_empty(&identity.principal_id))
        .or_else(|| non_empty(&identity.invoked_by))
        .unwrap_or_default()
}

/// The last `/`- or `:`-separated part of an ARN (`arn:aws:iam::1:user/a/bob` → `bob`).
pub fn arn_last_part(arn: &str) -> Option<&str> {
    let tail = arn.rsplit(['/', ':']).next()?;
    (!tail.is_empty()).then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_follows_the_console() {
        let mut id = UserIdentity {
            user_name: Some("alice".into()),
            session_issuer_name: Some("Admin".into()),
            arn: Some("arn:aws:sts::1:assumed-role/Admin/bob".into()),
            principal_id: Some("AROA:bob".into()),
            ..UserIdentity::default()
        };
        assert_eq!(resolve_username(&id), "alice");
        id.user_name = None;
        assert_eq!(resolve_username(&id), "Admin");
        id.session_issuer_name = Some(String::new());
        assert_eq!(resolve_username(&id), "bob");
        id.arn = Some("arn:aws:iam::123456789012:root".into());
        assert_eq!(resolve_username(&id), "root");
        id.arn = None;
        assert_eq!(resolve_username(&id), "AROA:bob");
        assert_eq!(resolve_username(&UserIdentity::default()), "");
    }
}
