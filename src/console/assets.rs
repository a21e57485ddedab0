//! The console's static files, compiled into the binary (nothing is fetched at run time).

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::PageError;

/// Name, content type and bytes of each file.
const FILES: [(&str, &str, &[u8]); 3] = [
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/htmx.min.js"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/console.css"),
    ),
];

/// `GET /assets/{file}`.
pub(super) async fn serve(Path(file): Path<String>) -> Result<Response, PageError> {
    let (_, content_type, bytes) = FILES
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| PageError::not_found(format!("no asset {file}")))?;
    Ok((
        [
            (CONTENT_TYPE, *content_type),
            // Served from the binary: a new release may change them, so revalidate hourly.
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        *bytes,
    )
        .into_response())
}
