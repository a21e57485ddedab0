//! STS: which account the credentials belong to.

use super::{decode_answer, model, AwsClient, AwsError, Request, Service};

/// The account id of the caller (`GetCallerIdentity`).
pub fn caller_account(client: &AwsClient, region: &str) -> Result<String, AwsError> {
    let request = Request::query(Service::Sts, region, "GetCallerIdentity", "2011-06-15", &[]);
    let answer = client.send(&request)?;
    let output = decode_answer(model::sts()?, "GetCallerIdentity", &answer.body)?;
    output
        .get("Account")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .ok_or_else(|| AwsError::Answer {
            operation: "GetCallerIdentity",
            reason: "no Account in the answer".into(),
        })
}
