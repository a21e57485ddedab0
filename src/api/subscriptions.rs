//! Webhook subscriptions and their deliveries.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{blocking, ApiError, ApiState, JsonBody, Path};
use crate::config_file::SubscriptionSettings;
use crate::model::Subscription;

pub(super) async fn list_subscriptions(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(Json(json!({ "subscriptions": state.app.subscriptions()? })))).await
}

pub(super) async fn get_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<Json<Subscription>, ApiError> {
    blocking(move || Ok(Json(state.app.subscription(&name)?))).await
}

/// Adds or replaces a subscription; the name in the path wins over one in the body.
pub(super) async fn put_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    JsonBody(mut body): JsonBody<Value>,
) -> Result<Json<Subscription>, ApiError> {
    if let Some(object) = body.as_object_mut() {
        object.insert("name".into(), Value::String(name));
        object
            .entry("kinds")
            .or_insert_with(|| json!(["configuration", "compliance", "remediation"]));
    }
    let settings: SubscriptionSettings =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    blocking(move || Ok(Json(state.app.put_subscription(&settings, "body")?))).await
}

pub(super) async fn delete_subscription(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        state.app.remove_subscription(&name)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

pub(super) async fn list_deliveries(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(Json(json!({ "deliveries": state.app.deliveries(&name)? })))).await
}
