//! Webhook actions: POST the document, classify the answer (2xx, retryable, permanent).

use std::io::Read;
use std::time::Duration;

use super::{lossy_trimmed, timed_out, ActionRequest};
use crate::model::{
    now_millis, signature, ActionResult, AttemptOutcome, WebhookAction, SIGNATURE_HEADER,
};

/// How much of a webhook response body goes into the message.
const BODY_EXCERPT_BYTES: usize = 300;
/// User-Agent sent with every webhook.
const USER_AGENT: &str = "conftrail-remediation";

/// POSTs the document and classifies the response.
pub(super) fn run_webhook(webhook: &WebhookAction, request: &ActionRequest<'_>) -> ActionResult {
    let body = match serde_json::to_vec(request.document) {
        Ok(body) => body,
        Err(e) => {
            return ActionResult::plain(
                AttemptOutcome::Permanent,
                format!("cannot encode document: {e}"),
            );
        }
    };
    // A secret that cannot be read fails the same way every time, until someone fixes it.
    let headers = match webhook.resolved_headers() {
        Ok(headers) => headers,
        Err(e) => return ActionResult::plain(AttemptOutcome::Permanent, e),
    };
    let signature = match webhook.signing() {
        Some(secret) => match secret.reveal() {
            Ok(secret) => Some(signature(
                secret.as_bytes(),
                now_millis().timestamp(),
                &body,
            )),
            Err(e) => {
                return ActionResult::plain(
                    AttemptOutcome::Permanent,
                    format!("signing secret: {e}"),
                )
            }
        },
        None => None,
    };
    // The shared client returns statuses (classified below) and follows no redirect.
    let mut builder = crate::http::agent()
        .post(webhook.url.as_str())
        .config()
        .timeout_global(Some(request.timeout))
        .build()
        .header("User-Agent", USER_AGENT)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", request.idempotency_key);
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(signature) = signature {
        builder = builder.header(SIGNATURE_HEADER, signature);
    }
    match builder.send(&body[..]) {
        Ok(mut response) => classify_response(&mut response),
        Err(ureq::Error::Timeout(_)) => timed_out(request.timeout),
        Err(ureq::Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            timed_out(request.timeout)
        }
        Err(e) => {
            // Bad configuration fails identically every time; network trouble may pass.
            let outcome = match e {
                ureq::Error::BadUri(_)
                | ureq::Error::Http(_)
                | ureq::Error::RequireHttpsOnly(_)
                | ureq::Error::InvalidProxyUrl => AttemptOutcome::Permanent,
                _ => AttemptOutcome::Retryable,
            };
            ActionResult::plain(outcome, format!("POST {} failed: {e}", webhook.url))
        }
    }
}

/// Turns an HTTP response into a result.
fn classify_response(response: &mut ureq::http::Response<ureq::Body>) -> ActionResult {
    let status = response.status();
    let code = status.as_u16();
    let outcome = match code {
        200..=299 => AttemptOutcome::Succeeded,
        408 | 429 => AttemptOutcome::Retryable,
        300..=499 => AttemptOutcome::Permanent,
        _ => AttemptOutcome::Retryable,
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    };
    let retry_after = match outcome {
        AttemptOutcome::Retryable => header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs),
        _ => None,
    };
    let mut message = format!("HTTP {code}");
    if let Some(reason) = status.canonical_reason() {
        message.push(' ');
        message.push_str(reason);
    }
    if status.is_redirection() {
        let location = header("location").unwrap_or_else(|| "(none)".to_string());
        message.push_str(&format!(": redirect not followed: Location {location}"));
    }
    let excerpt = body_excerpt(response.body_mut());
    if !excerpt.is_empty() {
        message.push_str(": ");
        message.push_str(&excerpt);
    }
    ActionResult {
        outcome,
        message,
        http_status: Some(code),
        exit_code: None,
        retry_after,
        output: String::new(),
    }
}

/// The start of a response body as trimmed, lossy UTF-8.
fn body_excerpt(body: &mut ureq::Body) -> String {
    let mut bytes = Vec::with_capacity(BODY_EXCERPT_BYTES);
    // A failed or slow body read leaves whatever arrived; the status already decided the outcome.
    let _ = body
        .as_reader()
        .take(BODY_EXCERPT_BYTES as u64)
        .read_to_end(&mut bytes);
    lossy_trimmed(&bytes)
}
