//! Who is looking: the signed-in session (or, on a server without tokens, the open-access
//! operator), sign-in and sign-out, and the checks every write passes (admin role, same
//! origin, CSRF secret).

use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::net::SocketAddr;

use super::page::{render, Layout};
use super::{ConsoleState, PageError};
use crate::app::App;
use crate::auth::sessions::{clear_cookie, session_cookie, set_cookie};
use crate::auth::{Role, OPEN_ACCESS};
use crate::model::Actor;

/// Largest form body a console write takes.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The person using the console.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The token's name (or open access).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// The secret their forms carry.
    pub csrf: String,
    /// Whether they signed in (false on a server without tokens: nothing to sign out of).
    pub signed_in: bool,
    /// Their address, for the audit trail.
    source: Option<String>,
}

impl Viewer {
    /// Whether the write controls are offered.
    pub fn is_admin(&self) -> bool {
        self.role >= Role::Admin
    }

    /// The application acting as this viewer (recorded so in the audit trail).
    pub fn app(&self, app: &App) -> App {
        app.acting_as(Actor {
            name: format!("{} (console)", self.name),
            source: self.source.clone(),
        })
    }
}

impl FromRequestParts<Arc<ConsoleState>> for Viewer {
    type Rejection = PageError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ConsoleState>,
    ) -> Result<Self, PageError> {
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.to_string());
        if !state.tokens.is_enabled() {
            return Ok(Viewer {
                name: OPEN_ACCESS.into(),
                role: Role::Admin,
                csrf: state.open_csrf.clone(),
                signed_in: false,
                source,
            });
        }
        let session = parts
            .headers
            .get(COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(session_cookie)
            .and_then(|id| state.sessions.get(id));
        match session {
            Some(session) => Ok(Viewer {
                name: session.name,
                role: session.role,
                csrf: session.csrf,
                signed_in: true,
                source,
            }),
            None => Err(PageError::SignIn(
                parts
                    .uri
                    .path_and_query()
                    .map_or("/".to_string(), |p| p.to_string()),
            )),
        }
    }
}

/// A form posted by a signed-in viewer, from this site, with the session's CSRF secret.
pub struct Posted<T> {
    /// Who posted.
    pub viewer: Viewer,
    /// The form's fields.
    pub form: T,
}

/// A write from a console form: a [`Posted`] form whose viewer is an admin.
pub struct Write<T> {
    /// Who writes.
    pub viewer: Viewer,
    /// The form's fields.
    pub form: T,
}

/// The CSRF field every form carries.
#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<T: DeserializeOwned> FromRequest<Arc<ConsoleState>> for Posted<T> {
    type Rejection = PageError;
    async fn from_request(request: Request, state: &Arc<ConsoleState>) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        check_origin(&parts.headers)?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| PageError::bad_request("the form is larger than 64 KiB"))?;
        let presented = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                serde_urlencoded::from_bytes::<CsrfField>(&bytes)
                    .ok()
                    .and_then(|f| f.csrf)
            });
        if !presented.is_some_and(|p| same_secret(&p, &viewer.csrf)) {
            return Err(PageError::forbidden(
                "the form's CSRF secret is missing or stale; reload the page and try again",
            ));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| PageError::bad_request(format!("form: {e}")))?;
        Ok(Posted { viewer, form })
    }
}

impl<T: DeserializeOwned> FromRequest<Arc<ConsoleState>> for Write<T> {
    type Rejection = PageError;
    async fn from_request(request: Request, state: &Arc<ConsoleState>) -> Result<Self, PageError> {
        let Posted { viewer, form } = Posted::from_request(request, state).await?;
        if !viewer.is_admin() {
            return Err(PageError::forbidden(format!(
                "this needs the admin role; you are signed in with a {} token",
                viewer.role.as_str()
            )));
        }
        Ok(Write { viewer, form })
    }
}

/// Compares secrets without stopping at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Refuses a write whose `Origin` is another site (browsers send it on every POST).
fn check_origin(headers: &HeaderMap) -> Result<(), PageError> {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    if origin_host.is_some() && origin_host == host {
        Ok(())
    } else {
        Err(PageError::forbidden(format!(
            "a write from another site ({origin}) is refused"
        )))
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    next: String,
    error: Option<String>,
}

/// Where to go after signing in.
#[derive(Deserialize)]
pub(super) struct Next {
    next: Option<String>,
}

/// Only paths on this site (never `//host` or a scheme).
pub(super) fn local_path(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".into())
}

/// `GET /sign-in`.
pub(super) async fn sign_in_page(
    State(state): State<Arc<ConsoleState>>,
    axum::extract::Query(Next { next }): axum::extract::Query<Next>,
) -> Result<Response, PageError> {
    if !state.tokens.is_enabled() {
        return Ok(Redirect::to("/").into_response());
    }
    render(&SignInPage {
        layout: Layout::anonymous("Sign in"),
        next: local_path(next),
        error: None,
    })
    .map(IntoResponse::into_response)
}

/// The sign-in form.
#[derive(Deserialize)]
pub(super) struct SignInForm {
    token: String,
    next: Option<String>,
}

/// `POST /sign-in`: a token for a session cookie.
pub(super) async fn sign_in(
    State(state): State<Arc<ConsoleState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<SignInForm>,
) -> Result<Response, PageError> {
    check_origin(&headers)?;
    let next = local_path(form.next);
    let Some((name, role)) = state.tokens.identify(&form.token) else {
        tracing::warn!("console sign-in refused: unknown token");
        state.refusals.record(
            &state.app,
            "POST /sign-in".into(),
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.to_string()),
            crate::auth::Denied::Unauthenticated,
        );
        let page = render(&SignInPage {
            layout: Layout::anonymous("Sign in"),
            next,
            error: Some("That token is not one this server knows.".into()),
        })?;
        return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
    };
    let (id, _) = state
        .sessions
        .start(name, role)
        .map_err(|e| PageError::internal(e.to_string()))?;
    tracing::info!(token = name, "console sign-in");
    // Behind a proxy that terminates TLS, the cookie must only travel over HTTPS.
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    Ok(([(SET_COOKIE, set_cookie(&id, secure))], Redirect::to(&next)).into_response())
}

/// `POST /sign-out`.
pub(super) async fn sign_out(
    State(state): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    _posted: Posted<CsrfOnly>,
) -> Response {
    if let Some(id) = headers
        .get(COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(session_cookie)
    {
        state.sessions.end(id);
    }
    ([(SET_COOKIE, clear_cookie())], Redirect::to("/sign-in")).into_response()
}

/// A form with nothing but its CSRF secret.
#[derive(Deserialize)]
pub(super) struct CsrfOnly {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/rules?x=1".into())), "/rules?x=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "rules"] {
            assert_eq!(local_path(Some(bad.into())), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn writes_from_another_origin_are_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "127.0.0.1:8080".parse().expect("header"));
        assert!(check_origin(&headers).is_ok());
        headers.insert(ORIGIN, "http://127.0.0.1:8080".parse().expect("header"));
        assert!(check_origin(&headers).is_ok());
        headers.insert(ORIGIN, "http://evil.example".parse().expect("header"));
        assert!(check_origin(&headers).is_err());
        headers.insert(ORIGIN, "null".parse().expect("header"));
        assert!(check_origin(&headers).is_err());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
