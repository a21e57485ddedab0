//! SQS: the messages of a queue (S3's notifications of new trail files), received with a long
//! poll and deleted once taken.

use super::{xml, AwsClient, AwsError, Request, Service};

/// The SQS API version of the query protocol.
const VERSION: &str = "2012-11-05";

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// What deletes it.
    pub receipt_handle: String,
    /// Its body (an S3 event notification, for trail queues).
    pub body: String,
}

/// Up to 10 messages of the queue at `queue_url`, waiting up to `wait_seconds` (at most 20)
/// for the first (`ReceiveMessage`).
pub fn receive(
    client: &AwsClient,
    region: &str,
    queue_url: &str,
    wait_seconds: u32,
) -> Result<Vec<Message>, AwsError> {
    const OPERATION: &str = "ReceiveMessage";
    let params = [
        ("QueueUrl".to_string(), queue_url.to_string()),
        ("MaxNumberOfMessages".to_string(), "10".to_string()),
        (
            "WaitTimeSeconds".to_string(),
            wait_seconds.min(20).to_string(),
        ),
    ];
    let answer = client.send(&Request::query(
        Service::Sqs,
        region,
        OPERATION,
        VERSION,
        &params,
    ))?;
    let root = xml::parse(&answer.body).map_err(|e| AwsError::Answer {
        operation: OPERATION,
        reason: e.to_string(),
    })?;
    let result = root.child("ReceiveMessageResult").unwrap_or(&root);
    Ok(result
        .children
        .iter()
        .filter(|m| m.name == "Message")
        .filter_map(|m| {
            Some(Message {
                receipt_handle: m.child("ReceiptHandle")?.text.clone(),
                body: m.child("Body").map(|b| b.text.clone()).unwrap_or_default(),
            })
        })
        .collect())
}

/// Deletes one received message (`DeleteMessage`).
pub fn delete(
    client: &AwsClient,
    region: &str,
    queue_url: &str,
    receipt_handle: &str,
) -> Result<(), AwsError> {
    let params = [
        ("QueueUrl".to_string(), queue_url.to_string()),
        ("ReceiptHandle".to_string(), receipt_handle.to_string()),
    ];
    client
        .send(&Request::query(
            Service::Sqs,
            region,
            "DeleteMessage",
            VERSION,
            &params,
        ))
        .map(drop)
}
