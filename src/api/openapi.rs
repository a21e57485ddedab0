//! The endpoint table and the OpenAPI document generated from it: the router is built from
//! the same table, and query parameters are read from the handlers' parameter types, so the
//! document cannot drift from the routes.

use axum::http::Method;
use axum::routing::MethodRouter;
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::auth::Role;
use super::ApiState;

/// What a request body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// A JSON object with the keys the configuration file uses.
    Json,
    /// Configuration items or CloudTrail events in any accepted shape, gzip or not.
    Documents,
    /// A WebAssembly rule component.
    Wasm,
}

/// One route: method, path, who may call it, and what it takes.
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// Path with `{param}` segments.
    pub path: &'static str,
    /// Role needed (`None`: open, such as `/healthz`).
    pub role: Option<Role>,
    /// One line for the document.
    pub summary: &'static str,
    /// Query parameter names, from the handler's parameter type.
    pub query: &'static [&'static str],
    /// Request body.
    pub body: BodyKind,
    /// Media type of a success answer.
    pub produces: &'static str,
    /// The handler.
    pub handler: MethodRouter<Arc<ApiState>>,
}

/// The field names a struct deserialises (its query parameters), read from serde's own
/// description of the type: a deserializer that stops at `deserialize_struct`.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Capture(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> de::Deserializer<'de> for &mut Capture {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut capture = Capture(None);
    let _ = T::deserialize(&mut capture);
    capture.0.unwrap_or(&[])
}

/// The OpenAPI 3.1 document for `endpoints`.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut paths = Map::new();
    for endpoint in endpoints {
        let mut parameters: Vec<Value> = endpoint
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(endpoint.query.iter().map(
            |name| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}}),
        ));
        let mut operation = json!({
            "summary": endpoint.summary,
            "operationId": format!("{} {}", endpoint.method, endpoint.path),
            "parameters": parameters,
            "responses": {
                "200": {"description": "success", "content": {endpoint.produces: {}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
            },
        });
        let body = match endpoint.body {
            BodyKind::None => None,
            BodyKind::Json => Some(json!({"application/json": {"schema": {"type": "object"}}})),
            BodyKind::Documents => Some(json!({
                "application/json": {}, "application/x-ndjson": {}, "application/gzip": {}
            })),
            BodyKind::Wasm => Some(json!({"application/wasm": {}})),
        };
        if let Some(content) = body {
            operation["requestBody"] = json!({"required": true, "content": content});
            operation["responses"]["413"] = json!({"$ref": "#/components/responses/Error"});
        }
        if endpoint.body == BodyKind::Wasm {
            operation["responses"]["422"] = json!({"$ref": "#/components/responses/Error"});
        }
        if let Some(role) = endpoint.role {
            operation["security"] = json!([{"bearer": []}]);
            operation["x-conftrail-role"] = json!(role.as_str());
        }
        let entry = paths
            .entry(endpoint.path.to_string())
            .or_insert_with(|| json!({}));
        entry[endpoint.method.as_str().to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "conftrail", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {
                "description": "error",
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                }}},
            }},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Params {
        rule: Option<String>,
        #[serde(rename = "type")]
        resource_type: Option<String>,
    }

    #[test]
    fn field_names_come_from_serde() {
        assert_eq!(field_names::<Params>(), &["rule", "type"]);
        assert!(field_names::<String>().is_empty());
    }
}
