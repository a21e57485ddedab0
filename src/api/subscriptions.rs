//! Webhook subscriptions and their deliveries.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::{blocking, Acting, ApiError, ApiState, JsonBody, Path};
use crate::app::lists::{DeliveryList, SubscriptionList};
use crate::config_file::SubscriptionSettings;
use crate::model::Subscription;

/// Webhook subscriptions.
#[utoipa::path(get, path = "/v1/subscriptions", tag = "subscriptions",
    responses((status = 200, description = "every subscription", body = SubscriptionList)))]
pub(super) async fn list_subscriptions(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<SubscriptionList>, ApiError> {
    blocking(move || {
        let subscriptions = state.app.subscriptions()?;
        Ok(Json(SubscriptionList { subscriptions }))
    })
    .await
}

/// A subscription named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct SubscriptionName {
    /// The subscription's name.
    name: String,
}

/// One subscription.
#[utoipa::path(get, path = "/v1/subscriptions/{name}", tag = "subscriptions",
    params(SubscriptionName),
    responses((status = 200, description = "the subscription", body = Subscription)))]
pub(super) async fn get_subscription(
    State(state): State<Arc<ApiState>>,
    Path(SubscriptionName { name }): Path<SubscriptionName>,
) -> Result<Json<Subscription>, ApiError> {
    blocking(move || Ok(Json(state.app.subscription(&name)?))).await
}

/// Add or replace a subscription.
///
/// The settings of `[[subscriptions]]` in the configuration file, keys in camelCase (the file's
/// snake_case is accepted too); the name in the path wins over one in the body. A subscription
/// read with GET can be sent back as it is.
#[utoipa::path(put, path = "/v1/subscriptions/{name}", tag = "subscriptions",
    params(SubscriptionName),
    request_body(content = SubscriptionSettings, description = "the settings"),
    responses((status = 200, description = "the stored subscription", body = Subscription)))]
pub(super) async fn put_subscription(
    Acting(app): Acting,
    Path(SubscriptionName { name }): Path<SubscriptionName>,
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
    blocking(move || Ok(Json(app.put_subscription(&settings, "body")?))).await
}

/// Remove a subscription.
#[utoipa::path(delete, path = "/v1/subscriptions/{name}", tag = "subscriptions",
    params(SubscriptionName), responses((status = 204, description = "removed")))]
pub(super) async fn delete_subscription(
    Acting(app): Acting,
    Path(SubscriptionName { name }): Path<SubscriptionName>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        app.remove_subscription(&name)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// A subscription's deliveries with every attempt.
#[utoipa::path(get, path = "/v1/subscriptions/{name}/deliveries", tag = "subscriptions",
    params(SubscriptionName),
    responses((status = 200, description = "the deliveries", body = DeliveryList)))]
pub(super) async fn list_deliveries(
    State(state): State<Arc<ApiState>>,
    Path(SubscriptionName { name }): Path<SubscriptionName>,
) -> Result<Json<DeliveryList>, ApiError> {
    blocking(move || {
        let deliveries = state.app.deliveries(&name)?;
        Ok(Json(DeliveryList { deliveries }))
    })
    .await
}
