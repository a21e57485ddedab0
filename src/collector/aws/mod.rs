//! A thin typed client for the AWS operations the collector calls: credentials from the
//! standard chain (`aws-config`), SigV4 signing (`aws-sigv4`), the shared HTTP client, responses
//! read with botocore's own models (trimmed, in `models/`). One place for endpoints, pacing,
//! retries and errors ([`client`]); one module per service says what to ask.

pub mod changes;
pub mod client;
pub mod credentials;
pub mod ec2;
pub mod endpoint;
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
    let op = model
        .operation(operation)
        .ok_or_else(|| unreadable(format!("the {} model has no such operation", model.service)))?;
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
    let op = model
        .operation(operation)
        .ok_or_else(|| unreadable(format!("the {} model has no such operation", model.service)))?;
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
