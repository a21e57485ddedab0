//! The one HTTP client of every outbound call (remediation webhooks, notification deliveries,
//! the CLI's server mode, the demo): one connection pool; statuses come back as answers for
//! the caller to classify, and redirects are not followed (they would re-send or drop a body
//! somewhere nobody configured). Per-call limits such as timeouts are set on the request.

use std::sync::OnceLock;

/// The shared client.
pub fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("conftrail/", env!("CARGO_PKG_VERSION")))
            // The collector describes several resources of one endpoint at once, and
            // remediation runs several actions: each keeps its connection (ureq keeps 3).
            .max_idle_connections_per_host(8)
            .max_idle_connections(64)
            .build()
            .into()
    })
}
