//! `GET /v1/stream`: server-sent events of configuration, compliance and remediation changes.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

use axum::http::HeaderMap;
use futures_util::StreamExt as _;

use super::{ApiError, ApiState, Query};
use crate::notify::{LiveNotification, Notification, NotificationKind, Resumed};

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
/// One `event:` per notification kind, `data:` the notification's JSON, `id:` its id. A client
/// that reconnects with `Last-Event-ID` first gets the notifications it missed that the server
/// still keeps (the latest 1024, built for up to 10 minutes after the last client left); when
/// some are gone, or the server restarted, an `event: lagged` says so (`missed`: how many, or
/// null when unknown) and the client should reload the state it shows.
#[utoipa::path(get, path = "/v1/stream", tag = "operations", params(StreamParams,
        ("Last-Event-ID" = Option<String>, Header, description = "the id of the last event seen, to resume after it")),
    responses((status = 200, description = "an endless stream of notifications",
        content_type = "text/event-stream", body = String)))]
pub(super) async fn stream(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
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
    let wanted = move |n: &Notification| {
        kinds.contains(&n.kind)
            && params
                .resource_type
                .as_ref()
                .is_none_or(|t| n.resource_type.as_ref() == Some(t))
    };
    let last_id = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request("Last-Event-ID: not visible ASCII"))
        })
        .transpose()?;
    let notifier = state.app.notifier();
    let (listener, resumed) = match last_id {
        Some(id) => notifier.resume(id),
        None => (notifier.listen(), Resumed::default()),
    };
    let mut first: Vec<Event> = Vec::new();
    if let Some(missed) = resumed.missed {
        first.push(lagged(missed));
    }
    // Live notifications up to this one were in the backlog already.
    let replayed_up_to = resumed.backlog.last().map_or(0, |n| n.seq);
    first.extend(
        resumed
            .backlog
            .iter()
            .filter(|n| wanted(&n.notification))
            .map(|n| event_of(n)),
    );
    let backlog = futures_util::stream::iter(first.into_iter().map(Ok::<_, Infallible>));
    let closing = state.closing.subscribe();
    let live =
        futures_util::stream::unfold((listener, closing), move |(mut listener, mut closing)| {
            let wanted = wanted.clone();
            async move {
                loop {
                    let next = tokio::select! {
                        next = listener.receiver.recv() => next,
                        _ = closing.wait_for(|closing| *closing) => return None,
                    };
                    let event = match next {
                        Ok(n) if n.seq <= replayed_up_to || !wanted(&n.notification) => continue,
                        Ok(n) => event_of(&n),
                        // A slow client is told what it missed instead of slowing writers down.
                        Err(RecvError::Lagged(missed)) => lagged(Some(missed)),
                        Err(RecvError::Closed) => return None,
                    };
                    return Some((Ok::<_, Infallible>(event), (listener, closing)));
                }
            }
        });
    Ok(Sse::new(backlog.chain(live))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One notification as a server-sent event.
fn event_of(n: &LiveNotification) -> Event {
    Event::default()
        .id(n.id.clone())
        .event(n.notification.kind.as_str())
        .data(n.notification.body.to_string())
}

/// Says how many notifications a client missed (null: unknown).
fn lagged(missed: Option<u64>) -> Event {
    Event::default()
        .event("lagged")
        .data(serde_json::json!({ "missed": missed }).to_string())
}
