//! The one place requests to AWS are built, signed (SigV4), paced, sent and retried, and their
//! errors read. Service modules say what to ask; this says how.

use super::credentials::CredentialChain;
use super::endpoint::{Endpoint, Endpoints, Service};
use super::retry::{is_retryable, is_throttling, Pacer, RetryPolicy};
use super::xml;
use super::AwsError;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Largest response body read: AWS pages are far smaller; a larger body is an error.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// How long one request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A request, before signing.
#[derive(Debug, Clone)]
pub struct Request {
    /// The service.
    pub service: Service,
    /// The operation's name, for errors and metrics (`DescribeSecurityGroups`).
    pub operation: &'static str,
    /// The region of the resources asked about.
    pub region: String,
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub method: &'static str,
    /// Path and query, already percent-encoded, from `/`.
    pub path: String,
    /// Headers besides those signing adds.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The bucket or account the host names on AWS's endpoints; see [`url`].
    pub host_label: Option<HostLabel>,
}

/// What an S3 or S3 Control request names in the host on AWS's endpoints, and how it is named
/// on a configured one (an emulator, which serves every bucket and account on one host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostLabel {
    /// A bucket: virtual-hosted on AWS (`https://{bucket}.s3.{region}.amazonaws.com/?acl`), or
    /// in the path (`https://s3.{region}.amazonaws.com/{bucket}?acl`) when its name is not one
    /// DNS label, as a name with dots is not (it would not match S3's TLS certificate);
    /// always in the path on a configured endpoint (`{base}/{bucket}?acl`).
    Bucket(String),
    /// An account (S3 Control): `https://{account}.s3-control.{region}.amazonaws.com` on AWS;
    /// left out on a configured endpoint, where the `x-amz-account-id` header alone names it.
    Account(String),
}

/// The URL a request is sent to: the endpoint's base and the request's path, with the bucket or
/// account of [`Request::host_label`] put where the endpoint wants it.
pub fn url(endpoint: &Endpoint, request: &Request) -> String {
    let base = &endpoint.base;
    let path = &request.path;
    let in_host = |label: &str| match base.split_once("://") {
        Some((scheme, host)) => format!("{scheme}://{label}.{host}{path}"),
        None => format!("{label}.{base}{path}"),
    };
    match &request.host_label {
        None => format!("{base}{path}"),
        Some(HostLabel::Bucket(bucket)) if endpoint.custom || !is_dns_label(bucket) => {
            // `/?acl` → `/{bucket}?acl`; a key's path (`/a/b`) follows the bucket.
            let rest = match path.strip_prefix('/') {
                Some(rest) if rest.is_empty() || rest.starts_with('?') => rest,
                _ => path.as_str(),
            };
            format!("{base}/{bucket}{rest}")
        }
        Some(HostLabel::Bucket(bucket)) => in_host(bucket),
        Some(HostLabel::Account(_)) if endpoint.custom => format!("{base}{path}"),
        Some(HostLabel::Account(account)) => in_host(account),
    }
}

/// Whether a bucket name can be a host's first label: 3 to 63 lower-case letters, digits and
/// hyphens, not starting or ending with a hyphen.
fn is_dns_label(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Request {
    /// A REST call (S3, S3 Control): `GET` of `path` (from `/`, query included, already
    /// percent-encoded), no body.
    pub fn rest(
        service: Service,
        region: &str,
        operation: &'static str,
        path: impl Into<String>,
    ) -> Request {
        Request {
            service,
            operation,
            region: region.to_string(),
            method: "GET",
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            host_label: None,
        }
    }

    /// The same request with another method and a body of the content type given.
    pub fn with_body(mut self, method: &'static str, content_type: &str, body: Vec<u8>) -> Request {
        self.method = method;
        self.headers
            .push(("content-type".to_string(), content_type.to_string()));
        self.body = body;
        self
    }

    /// The same request with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The same request about one bucket.
    pub fn in_bucket(mut self, bucket: &str) -> Request {
        self.host_label = Some(HostLabel::Bucket(bucket.to_string()));
        self
    }

    /// The same request about one account (S3 Control): in the host on AWS, and in the
    /// `x-amz-account-id` header.
    pub fn for_account(mut self, account_id: &str) -> Request {
        self.host_label = Some(HostLabel::Account(account_id.to_string()));
        self.headers
            .push(("x-amz-account-id".to_string(), account_id.to_string()));
        self
    }

    /// A query-protocol call (EC2, IAM, STS): `Action`, `Version` and the parameters,
    /// form-encoded in a POST body.
    pub fn query(
        service: Service,
        region: &str,
        action: &'static str,
        version: &str,
        params: &[(String, String)],
    ) -> Request {
        let mut form = form_urlencoded(&[("Action", action), ("Version", version)]);
        for (name, value) in params {
            form.push('&');
            form.push_str(&form_urlencoded(&[(name.as_str(), value.as_str())]));
        }
        Request {
            service,
            operation: action,
            region: region.to_string(),
            method: "POST",
            path: "/".to_string(),
            headers: vec![(
                "content-type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            )],
            body: form.into_bytes(),
            host_label: None,
        }
    }

    /// A JSON-protocol call (CloudTrail, awsJson1_1): `POST /` of the input as JSON, the
    /// operation named in `X-Amz-Target` as `{target_prefix}.{operation}`.
    pub fn json(
        service: Service,
        region: &str,
        target_prefix: &str,
        operation: &'static str,
        input: &serde_json::Value,
    ) -> Request {
        Request {
            service,
            operation,
            region: region.to_string(),
            method: "POST",
            path: "/".to_string(),
            headers: vec![
                (
                    "content-type".to_string(),
                    "application/x-amz-json-1.1".to_string(),
                ),
                (
                    "x-amz-target".to_string(),
                    format!("{target_prefix}.{operation}"),
                ),
            ],
            body: input.to_string().into_bytes(),
            host_label: None,
        }
    }
}

fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status (2xx).
    pub status: u16,
    /// Response headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Requests-per-second limits by service name, and the retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSettings {
    /// Requests per second by [`Service::name`]; services not named are not paced.
    pub rates: BTreeMap<String, f64>,
    /// Retries of throttled and transient failures.
    pub retry: RetryPolicy,
}

impl Default for ClientSettings {
    fn default() -> Self {
        // Below AWS's documented steady rates for describe and list calls, so that a sweep
        // leaves room for the account's other callers.
        let rates = [("ec2", 20.0), ("s3", 50.0), ("iam", 10.0), ("sts", 5.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        ClientSettings {
            rates,
            retry: RetryPolicy::default(),
        }
    }
}

/// Counts of what a client sent, for reports and metrics.
#[derive(Debug, Default)]
pub struct ClientCounters {
    /// Requests sent, retries included.
    pub requests: AtomicU64,
    /// Retries after throttling.
    pub throttled: AtomicU64,
    /// Retries after other transient failures.
    pub retried: AtomicU64,
}

/// A client for one account's credentials.
#[derive(Debug)]
pub struct AwsClient {
    credentials: CredentialChain,
    endpoints: Endpoints,
    settings: ClientSettings,
    pacer: Pacer,
    /// What was sent.
    pub counters: ClientCounters,
}

impl AwsClient {
    /// A client signing with `credentials`, sending to `endpoints`.
    pub fn new(
        credentials: CredentialChain,
        endpoints: Endpoints,
        settings: ClientSettings,
    ) -> AwsClient {
        AwsClient {
            credentials,
            endpoints,
            settings,
            pacer: Pacer::default(),
            counters: ClientCounters::default(),
        }
    }

    /// The region the credential chain's configuration names.
    pub fn default_region(&self) -> Option<&str> {
        self.credentials.default_region()
    }

    /// The endpoint of a service for a region.
    pub fn endpoint(&self, service: Service, region: &str) -> Endpoint {
        self.endpoints.resolve(service, region)
    }

    /// Sends a request, retrying throttling and transient failures with backoff; an AWS
    /// error answer becomes [`AwsError::Service`] with its code and message.
    pub fn send(&self, request: &Request) -> Result<Response, AwsError> {
        let endpoint = self.endpoints.resolve(request.service, &request.region);
        let url = url(&endpoint, request);
        let rate = self
            .settings
            .rates
            .get(request.service.name())
            .copied()
            .unwrap_or(0.0);
        let policy = self.settings.retry;
        let mut attempt = 1;
        loop {
            self.pacer.wait(request.service.name(), rate);
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = self.send_once(request, &endpoint, &url);
            let throttled = matches!(&outcome, Err(AwsError::Service { status, code, .. })
                if is_throttling(*status, code.as_deref()));
            crate::metrics::aws_request(
                request.service.name(),
                match &outcome {
                    Ok(_) => "ok",
                    Err(_) if throttled => "throttled",
                    Err(_) => "error",
                },
            );
            let retry = match &outcome {
                Ok(_) => false,
                Err(AwsError::Service { status, code, .. }) => {
                    let counter = if throttled {
                        &self.counters.throttled
                    } else {
                        &self.counters.retried
                    };
                    let retry = is_retryable(*status, code.as_deref());
                    if retry {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    retry
                }
                Err(AwsError::Transport { retryable, .. }) => {
                    if *retryable {
                        self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    }
                    *retryable
                }
                Err(_) => false,
            };
            if !retry || attempt >= policy.max_attempts {
                return outcome;
            }
            let wait = policy.backoff(attempt);
            tracing::debug!(
                service = request.service.name(),
                operation = request.operation,
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %outcome.as_ref().err().map(ToString::to_string).unwrap_or_default(),
                "retrying AWS request"
            );
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn send_once(
        &self,
        request: &Request,
        endpoint: &Endpoint,
        url: &str,
    ) -> Result<Response, AwsError> {
        let headers = self.signed_headers(request, endpoint, url)?;
        let agent = crate::http::agent();
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(url);
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let http_request = builder
            .body(request.body.clone())
            .map_err(|e| AwsError::Request(format!("{} {url}: {e}", request.method)))?;
        let config = agent
            .configure_request(http_request)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build();
        let mut response = match agent.run(config) {
            Ok(response) => response,
            Err(e) => {
                let retryable = !matches!(
                    e,
                    ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl
                );
                return Err(AwsError::Transport {
                    operation: request.operation,
                    url: url.to_string(),
                    reason: e.to_string(),
                    retryable,
                });
            }
        };
        let status = response.status().as_u16();
        let response_headers: BTreeMap<String, String> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_RESPONSE_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| AwsError::Transport {
                operation: request.operation,
                url: url.to_string(),
                reason: format!("reading the answer: {e}"),
                retryable: true,
            })?;
        if body.len() as u64 > MAX_RESPONSE_BYTES {
            return Err(AwsError::Request(format!(
                "{}: the answer is larger than {MAX_RESPONSE_BYTES} bytes",
                request.operation
            )));
        }
        if (200..300).contains(&status) {
            return Ok(Response {
                status,
                headers: response_headers,
                body,
            });
        }
        Err(service_error(request, status, &response_headers, &body))
    }

    /// The request's headers plus those SigV4 adds.
    fn signed_headers(
        &self,
        request: &Request,
        endpoint: &Endpoint,
        url: &str,
    ) -> Result<Vec<(String, String)>, AwsError> {
        let credentials = self.credentials.credentials()?;
        let identity: Identity = credentials.into();
        let mut settings = SigningSettings::default();
        if request.service.signing_name() == "s3" {
            // S3 signs the path as sent, encoded once, and wants the payload's hash.
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&endpoint.signing_region)
            .name(request.service.signing_name())
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| AwsError::Request(format!("signing parameters: {e}")))?
            .into();
        let signable = SignableRequest::new(
            request.method,
            url,
            request
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&request.body),
        )
        .map_err(|e| AwsError::Request(format!("signing {url}: {e}")))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| AwsError::Request(format!("signing {url}: {e}")))?
            .into_parts();
        let (signing_headers, _) = instructions.into_parts();
        let mut headers = request.headers.clone();
        headers.extend(
            signing_headers
                .into_iter()
                .map(|h| (h.name().to_string(), h.value().to_string())),
        );
        Ok(headers)
    }
}

/// Reads an error answer: `Code` and `Message` wherever the protocol puts them (EC2's
/// `Response/Errors/Error`, the query protocol's `ErrorResponse/Error`, S3's `Error`), or the
/// JSON protocol's `__type` and `message`.
fn service_error(
    request: &Request,
    status: u16,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> AwsError {
    let (mut code, mut message) = (None, None);
    if let Ok(root) = xml::parse(body) {
        let text = |name: &str| {
            (root.name == name)
                .then(|| root.text.clone())
                .or_else(|| root.find_text(name).map(str::to_string))
                .filter(|t| !t.is_empty())
        };
        code = text("Code");
        message = text("Message");
    } else if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        code = value
            .get("__type")
            .and_then(|v| v.as_str())
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
        message = ["message", "Message"]
            .iter()
            .find_map(|k| value.get(*k).and_then(|v| v.as_str()))
            .map(str::to_string);
    }
    // S3 answers HEAD and some errors with no body: the header names the code.
    let code = code.or_else(|| headers.get("x-amz-error-code").cloned());
    AwsError::Service {
        service: request.service.name(),
        operation: request.operation,
        status,
        code,
        message: message.unwrap_or_default(),
        request_id: headers
            .get("x-amzn-requestid")
            .or_else(|| headers.get("x-amz-request-id"))
            .cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request::query(
            Service::Ec2,
            "us-east-1",
            "DescribeSecurityGroups",
            "2016-11-15",
            &[],
        )
    }

    #[test]
    fn query_requests_are_form_encoded() {
        let r = Request::query(
            Service::Ec2,
            "eu-west-1",
            "DescribeSecurityGroups",
            "2016-11-15",
            &[("NextToken".into(), "a+b/c=".into())],
        );
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "Action=DescribeSecurityGroups&Version=2016-11-15&NextToken=a%2Bb%2Fc%3D"
        );
        assert_eq!(r.method, "POST");
    }

    #[test]
    fn json_requests_name_the_operation_in_the_target_header() {
        let r = Request::json(
            Service::CloudTrail,
            "eu-west-1",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
            "DescribeTrails",
            &serde_json::json!({"includeShadowTrails": false}),
        );
        assert_eq!((r.method, r.path.as_str()), ("POST", "/"));
        assert!(r.headers.contains(&(
            "x-amz-target".to_string(),
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails".to_string()
        )));
        assert!(r.headers.contains(&(
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string()
        )));
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            r#"{"includeShadowTrails":false}"#
        );
    }

    fn endpoint(base: &str, custom: bool) -> Endpoint {
        Endpoint {
            base: base.to_string(),
            signing_region: "eu-west-1".to_string(),
            custom,
        }
    }

    #[test]
    fn buckets_go_in_the_host_on_aws_and_in_the_path_on_a_configured_endpoint() {
        let acl =
            Request::rest(Service::S3, "eu-west-1", "GetBucketAcl", "/?acl").in_bucket("logs-1");
        let aws = endpoint("https://s3.eu-west-1.amazonaws.com", false);
        let moto = endpoint("http://127.0.0.1:5000", true);
        assert_eq!(
            url(&aws, &acl),
            "https://logs-1.s3.eu-west-1.amazonaws.com/?acl"
        );
        assert_eq!(url(&moto, &acl), "http://127.0.0.1:5000/logs-1?acl");
        // A name with dots would not match S3's certificate: in the path on AWS too.
        let dotted = acl.clone().in_bucket("www.example.com");
        assert_eq!(
            url(&aws, &dotted),
            "https://s3.eu-west-1.amazonaws.com/www.example.com?acl"
        );
        let root = Request::rest(Service::S3, "eu-west-1", "HeadBucket", "/").in_bucket("logs-1");
        assert_eq!(
            url(&aws, &root),
            "https://logs-1.s3.eu-west-1.amazonaws.com/"
        );
        assert_eq!(url(&moto, &root), "http://127.0.0.1:5000/logs-1");
        let key =
            Request::rest(Service::S3, "eu-west-1", "GetObject", "/a/b.txt").in_bucket("logs-1");
        assert_eq!(url(&moto, &key), "http://127.0.0.1:5000/logs-1/a/b.txt");
        // No bucket: the service's own path.
        let list = Request::rest(
            Service::S3,
            "eu-west-1",
            "ListBuckets",
            "/?max-buckets=1000",
        );
        assert_eq!(
            url(&aws, &list),
            "https://s3.eu-west-1.amazonaws.com/?max-buckets=1000"
        );
        assert!(!is_dns_label("ab") && !is_dns_label("-ab") && !is_dns_label("Abc"));
        assert!(is_dns_label("a-b-1"));
    }

    #[test]
    fn the_account_goes_in_s3_controls_host_on_aws_only_and_always_in_a_header() {
        let block = Request::rest(
            Service::S3Control,
            "eu-west-1",
            "GetPublicAccessBlock",
            "/v20180820/configuration/publicAccessBlock",
        )
        .for_account("123456789012");
        assert_eq!(
            url(&endpoint("https://s3-control.eu-west-1.amazonaws.com", false), &block),
            "https://123456789012.s3-control.eu-west-1.amazonaws.com/v20180820/configuration/publicAccessBlock"
        );
        assert_eq!(
            url(&endpoint("http://127.0.0.1:5000", true), &block),
            "http://127.0.0.1:5000/v20180820/configuration/publicAccessBlock"
        );
        assert!(block
            .headers
            .contains(&("x-amz-account-id".to_string(), "123456789012".to_string())));
    }

    #[test]
    fn error_answers_of_each_protocol_name_code_and_message() {
        let ec2 = br#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r-1</RequestID></Response>"#;
        let e = service_error(&request(), 503, &BTreeMap::new(), ec2);
        let AwsError::Service {
            code,
            message,
            status,
            ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            (code.as_deref(), message.as_str(), status),
            (Some("RequestLimitExceeded"), "Request limit exceeded.", 503)
        );
        let s3 = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
        let e = service_error(&request(), 503, &BTreeMap::new(), s3);
        assert!(e.to_string().contains("SlowDown: Please reduce"), "{e}");
        let json = br#"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#;
        let e = service_error(&request(), 400, &BTreeMap::new(), json);
        assert!(
            e.to_string().contains("ThrottlingException: Rate exceeded"),
            "{e}"
        );
        let headers = BTreeMap::from([("x-amz-error-code".to_string(), "NoSuchKey".to_string())]);
        let e = service_error(&request(), 404, &headers, b"");
        assert!(e.to_string().contains("NoSuchKey"), "{e}");
    }
}
