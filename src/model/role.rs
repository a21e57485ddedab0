//! The roles of API tokens, as the configuration file, the API and the logs name them.

/// What a token may do; each role includes the ones before it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything.
    Read,
    /// Read, and push configuration items and events.
    Ingest,
    /// Everything, including rules and remediation.
    Admin,
}

impl Role {
    /// Parses `read`, `ingest` or `admin`.
    pub fn parse(text: &str) -> Result<Role, String> {
        match text {
            "read" => Ok(Role::Read),
            "ingest" => Ok(Role::Ingest),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: expected read, ingest or admin"
            )),
        }
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Ingest => "ingest",
            Role::Admin => "admin",
        }
    }
}
