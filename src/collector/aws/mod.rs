//! A thin typed client for the AWS operations the collector calls: credentials from the
//! standard chain (`aws-config`), SigV4 signing (`aws-sigv4`), the shared HTTP client, responses
//! read with botocore's own models (trimmed, in `models/`). One place for endpoints, pacing,
//! retries and errors ([`client`]); one module per service says what to ask.

pub mod changes;
pub mod client;
pub mod cloudtrail;
pub mod credentials;
pub mod ec2;
pub mod endpoint;
pub mod iam;
pub mod model;
pub mod retry;
pub mod s3;
pub mod s3_objects;
pub mod sqs;
pub mod sts;
pub mod xml;

pub use client::{AwsClient, ClientSettings, HostLabel, Request, Response};
pub use credentials::{CredentialChain, CredentialSettings};
pub use endpoint::{Endpoint, Endpoints, Service};

/// Why a call to AWS failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    /// No credentials, or the chain failed to produce them.
    #[error("AWS credentials: {0}")]
    Credentials(String),
    /// The request could not be built or signed.
    #[error("AWS request: {0}")]
    Request(String),
    /// The request did not get an answer (connection, timeout).
    #[error("{operation}: no answer from {url}: {reason}")]
    Transport {
        /// The operation.
        operation: &'static str,
        /// Where it was sent.
        url: String,
        /// What went wrong.
        reason: String,
        /// Whether another try may succeed.
        retryable: bool,
    },
    /// AWS answered with an error.
    #[error("{service} {operation}: HTTP {status}{}{}{}",
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
        if message.is_empty() { String::new() } else { format!(": {message}") },
        request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Service {
        /// The service (`ec2`).
        service: &'static str,
        /// The operation.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// AWS's error code (`UnauthorizedOperation`).
        code: Option<String>,
        /// AWS's message.
        message: String,
        /// AWS's request id, for support cases.
        request_id: Option<String>,
    },
    /// The answer could not be read.
    #[error("{operation}: unreadable answer: {reason}")]
    Answer {
        /// The operation.
        operation: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// An embedded model could not be read (a build defect).
    #[error(transparent)]
    Model(#[from] model::ModelError),
}

impl AwsError {
    /// AWS's error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// Decodes a query-protocol or EC2 answer (XML) as the operation's output shape.
pub fn decode_answer(
    model: &model::ServiceModel,
    operation: &'static str,
    body: &[u8],
) -> Result<serde_json::Value, AwsError> {
    let unreadable = |reason: String| AwsError::Answer { operation, reason };
    let op = operation_of(model, operation)?;
    let root = xml::parse(body).map_err(|e| unreadable(e.to_string()))?;
    let Some(output) = &op.output else {
        return Ok(serde_json::Value::Object(Default::default()));
    };
    // The query protocol wraps the output (`<GetCallerIdentityResult>`); EC2 does not.
    let element = match &op.result_wrapper {
        Some(wrapper) => root
            .child(wrapper)
            .ok_or_else(|| unreadable(format!("no {wrapper} element")))?,
        None => &root,
    };
    xml::decode(model, element, output).map_err(|e| unreadable(e.to_string()))
}

/// The operation as the model describes it; an error when the model lacks it (a build defect).
fn operation_of<'m>(
    model: &'m model::ServiceModel,
    operation: &'static str,
) -> Result<&'m model::Operation, AwsError> {
    model.operation(operation).ok_or_else(|| AwsError::Answer {
        operation,
        reason: format!("the {} model has no such operation", model.service),
    })
}

/// Decodes a rest-xml answer (S3, S3 Control) as the operation's output shape. With a payload
/// member, the body is that member: its root element decoded as the member's shape, or, for a
/// string or blob (`GetBucketPolicy`'s `Policy`), the body's text. Without one, the root element
/// is the output shape. An empty body is an output with nothing in it.
pub fn decode_rest_answer(
    model: &model::ServiceModel,
    operation: &'static str,
    body: &[u8],
) -> Result<serde_json::Value, AwsError> {
    use serde_json::{Map, Value};
    let unreadable = |reason: String| AwsError::Answer { operation, reason };
    let op = operation_of(model, operation)?;
    let Some(output) = &op.output else {
        return Ok(Value::Object(Map::new()));
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let Some(payload) = &op.payload else {
        let root = xml::parse(body).map_err(|e| unreadable(e.to_string()))?;
        return xml::decode(model, &root, output).map_err(|e| unreadable(e.to_string()));
    };
    let member = match model.shape(output) {
        Some(model::Shape::Structure { members }) => members
            .iter()
            .find(|(name, _)| name == payload)
            .map(|(_, member)| member),
        _ => None,
    }
    .ok_or_else(|| unreadable(format!("{output} has no payload member {payload}")))?;
    let value = match model.shape(&member.shape) {
        Some(model::Shape::Scalar(model::ScalarKind::Text)) => {
            Value::String(String::from_utf8_lossy(body).into_owned())
        }
        _ => {
            let root = xml::parse(body).map_err(|e| unreadable(e.to_string()))?;
            xml::decode(model, &root, &member.shape).map_err(|e| unreadable(e.to_string()))?
        }
    };
    let mut out = Map::new();
    out.insert(payload.clone(), value);
    Ok(Value::Object(out))
}

/// Decodes a JSON-protocol answer (CloudTrail) as boto3 returns it: the body's JSON, with the
/// output shape's timestamps (epoch seconds on the wire) as ISO 8601 text, as the XML
/// protocols give them. An empty body is an output with nothing in it.
pub fn decode_json_answer(
    model: &model::ServiceModel,
    operation: &'static str,
    body: &[u8],
) -> Result<serde_json::Value, AwsError> {
    use serde_json::{Map, Value};
    let unreadable = |reason: String| AwsError::Answer { operation, reason };
    let op = operation_of(model, operation)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let mut value: Value = serde_json::from_slice(body).map_err(|e| unreadable(e.to_string()))?;
    if !value.is_object() {
        return Err(unreadable("the answer is not a JSON object".into()));
    }
    if let Some(output) = &op.output {
        json_times(model, output, &mut value, 0);
    }
    Ok(value)
}

/// Shapes nest (event selectors hold lists of structures) but never this deep; a model that
/// refers to itself stops here.
const MAX_SHAPE_DEPTH: usize = 32;

/// Rewrites the epoch-second timestamps in `value` (of shape `shape`) as ISO 8601 text.
fn json_times(
    model: &model::ServiceModel,
    shape: &str,
    value: &mut serde_json::Value,
    depth: usize,
) {
    use serde_json::Value;
    if depth > MAX_SHAPE_DEPTH {
        return;
    }
    match (model.shape(shape), value) {
        (Some(model::Shape::Scalar(model::ScalarKind::Time)), value) => {
            if let Some(text) = value.as_f64().and_then(epoch_text) {
                *value = Value::String(text);
            }
        }
        (Some(model::Shape::Structure { members }), Value::Object(obj)) => {
            for (name, member) in members {
                if let Some(v) = obj.get_mut(name) {
                    json_times(model, &member.shape, v, depth + 1);
                }
            }
        }
        (Some(model::Shape::List { member, .. }), Value::Array(items)) => {
            for item in items {
                json_times(model, &member.shape, item, depth + 1);
            }
        }
        (Some(model::Shape::Map { value: v, .. }), Value::Object(obj)) => {
            for item in obj.values_mut() {
                json_times(model, &v.shape, item, depth + 1);
            }
        }
        _ => {}
    }
}

/// Epoch seconds (with a fraction) as ISO 8601 text in UTC.
fn epoch_text(seconds: f64) -> Option<String> {
    let millis = (seconds * 1000.0).round();
    if !millis.is_finite() {
        return None;
    }
    chrono::DateTime::from_timestamp_millis(millis as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn json_answers_keep_their_members_and_get_iso_times() {
        let body = br#"{"IsLogging": true, "StartLoggingTime": 1700000000.5, "LatestDeliveryError": null}"#;
        let value =
            decode_json_answer(model::cloudtrail().unwrap(), "GetTrailStatus", body).unwrap();
        assert_eq!(value["IsLogging"], true);
        assert_eq!(value["StartLoggingTime"], "2023-11-14T22:13:20.500Z");
        let empty =
            decode_json_answer(model::cloudtrail().unwrap(), "GetTrailStatus", b"").unwrap();
        assert_eq!(empty, serde_json::json!({}));
        let e =
            decode_json_answer(model::cloudtrail().unwrap(), "GetTrailStatus", b"[1]").unwrap_err();
        assert!(e.to_string().contains("GetTrailStatus"), "{e}");
    }
}
