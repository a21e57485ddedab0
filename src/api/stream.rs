//! `GET /v1/stream`: server-sent events of configuration, compliance and remediation changes.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

use super::{ApiError, ApiState, Query};
use crate::notify::NotificationKind;

/// Which notifications a stream carries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct StreamParams {
    /// Comma-separated kinds: configuration, compliance, remediation (default: all three).
    kinds: Option<String>,
    /// Only this resource type.
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
}

/// Server-sent events of configuration, compliance and remediation changes.
///
/// One `event:` per notification kind, `data:` the notification's JSON.
#[utoipa::path(get, path = "/v1/stream", tag = "operations", params(StreamParams),
    responses((status = 200, description = "an endless stream of notifications",
        content_type = "text/event-stream", body = String)))]
pub(super) async fn stream(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<StreamParams>,
) -> Result<Response, ApiError> {
    let kinds: Vec<NotificationKind> = match &params.kinds {
        None => vec![
            NotificationKind::Configuration,
            NotificationKind::Compliance,
            NotificationKind::Remediation,
        ],
        Some(text) => text
            .split(',')
            .map(|k| {
                NotificationKind::parse(k.trim())
                    .filter(|k| *k != NotificationKind::ApiEvent)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "kinds: {k:?} is not configuration, compliance or remediation"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let receiver = state.app.notifier().listen();
    let closing = state.closing.subscribe();
    let events =
        futures_util::stream::unfold((receiver, closing), move |(mut receiver, mut closing)| {
            let kinds = kinds.clone();
            let resource_type = params.resource_type.clone();
            async move {
                loop {
                    let next = tokio::select! {
                        next = receiver.recv() => next,
                        _ = closing.wait_for(|closing| *closing) => return None,
                    };
                    let event = match next {
                        Ok(n) => {
                            if !kinds.contains(&n.kind)
                                || resource_type
                                    .as_ref()
                                    .is_some_and(|t| n.resource_type.as_ref() != Some(t))
                            {
                                continue;
                            }
                            Event::default()
                                .event(n.kind.as_str())
                                .data(n.body.to_string())
                        }
                        // A slow client is told what it missed instead of slowing writers down.
                        Err(RecvError::Lagged(missed)) => Event::default()
                            .event("lagged")
                            .data(format!("{{\"missed\":{missed}}}")),
                        Err(RecvError::Closed) => return None,
                    };
                    return Some((Ok::<_, Infallible>(event), (receiver, closing)));
                }
            }
        });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}
