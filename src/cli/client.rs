//! The HTTP client of `--server` mode: requests to a running `conftrail serve`, answers decoded
//! into the same types the local use cases return, errors in the server's own words.

use anyhow::{anyhow, bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Largest answer read (an events page of 100,000 records fits).
const MAX_ANSWER_BYTES: u64 = 512 * 1024 * 1024;

/// No query parameters.
pub const NO_QUERY: &[(&str, &str)] = &[];

/// A server's base URL and the bearer token sent with every request.
pub struct Client {
    base: String,
    token: Option<String>,
}

/// A request body.
pub enum Body<'a> {
    /// No body.
    None,
    /// JSON.
    Json(serde_json::Value),
    /// Raw bytes with their content type.
    Bytes(&'a [u8], &'static str),
}

impl Client {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: Option<String>) -> Result<Client> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--server {base:?}: expected an http:// or https:// URL");
        }
        Ok(Client { base, token })
    }

    /// `/v1/resources/{type}/{id}…`: path segments percent-encoded.
    pub fn path(segments: &[&str]) -> String {
        crate::query::api_path(segments)
    }

    /// GET, decoded.
    pub fn get<T: DeserializeOwned>(&self, path: &str, query: &impl Serialize) -> Result<T> {
        self.send("GET", path, query, Body::None)
    }

    /// Any method, decoded (an empty answer decodes as JSON null).
    pub fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        query: &impl Serialize,
        body: Body<'_>,
    ) -> Result<T> {
        let text = self.call(method, path, query, body)?;
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text)
            .with_context(|| format!("{method} {path}: the server's answer is not what this conftrail expects (a different version?)"))
    }

    /// Any method; the answer's text. A status of 300 or more is an error with the server's
    /// message.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        query: &impl Serialize,
        body: Body<'_>,
    ) -> Result<String> {
        let (status, text) = self.exchange(method, path, query, body)?;
        if status >= 300 {
            return Err(server_error(status, &text));
        }
        Ok(text)
    }

    /// Any method; the answer's status and text, whatever the status.
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        query: &impl Serialize,
        body: Body<'_>,
    ) -> Result<(u16, String)> {
        let query = serde_urlencoded::to_string(query)
            .map_err(|e| anyhow!("cannot encode the request's parameters: {e}"))?;
        let url = if query.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{query}", self.base)
        };
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = &self.token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        let response = match body {
            Body::None => crate::http::agent().run(builder.body(())?),
            Body::Json(value) => crate::http::agent().run(
                builder
                    .header("Content-Type", "application/json")
                    .body(value.to_string())?,
            ),
            Body::Bytes(bytes, content_type) => crate::http::agent().run(
                builder
                    .header("Content-Type", content_type)
                    .body(bytes.to_vec())?,
            ),
        };
        let mut response = response.map_err(|e| {
            anyhow!(
                "cannot reach the server at {}: {e} (is `conftrail serve` running there?)",
                self.base
            )
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .with_context(|| format!("{method} {path}: reading the answer"))?;
        Ok((status, text))
    }
}

/// The server's `{error, message}` as an error (the message is what a local run would say).
pub fn server_error(status: u16, text: &str) -> anyhow::Error {
    #[derive(serde::Deserialize)]
    struct Answer {
        message: String,
    }
    match serde_json::from_str::<Answer>(text) {
        Ok(answer) if status == 401 || status == 403 => anyhow!(
            "{} (pass a token with --token or CONFTRAIL_TOKEN)",
            answer.message
        ),
        Ok(answer) => anyhow!("{}", answer.message),
        Err(_) => anyhow!("the server answered {status}: {}", text.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded_and_types_stay_readable() {
        assert_eq!(
            Client::path(&["", "v1", "resources", "AWS::EC2::SecurityGroup", "a/b c"]),
            "/v1/resources/AWS::EC2::SecurityGroup/a%2Fb%20c"
        );
    }

    #[test]
    fn server_errors_keep_the_message() {
        let e = server_error(
            404,
            r#"{"error":"notFound","message":"no rule named \"x\""}"#,
        );
        assert_eq!(e.to_string(), "no rule named \"x\"");
        let e = server_error(
            401,
            r#"{"error":"unauthorized","message":"a token is required"}"#,
        );
        assert!(e.to_string().contains("--token"));
        assert!(server_error(502, "bad gateway").to_string().contains("502"));
    }

    #[test]
    fn only_http_urls_are_servers() {
        assert!(Client::new("ftp://x", None).is_err());
        assert!(Client::new("http://127.0.0.1:8080/", None).is_ok());
    }
}
