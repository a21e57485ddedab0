//! Credentials from the standard AWS chain (environment, shared config and credentials
//! profiles, SSO, web identity, container and instance metadata), through `aws-config`, with an
//! optional role to assume; cached until shortly before they expire.

use super::AwsError;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Credentials are renewed this long before they expire.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Which credentials an account's requests are signed with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialSettings {
    /// A profile of the shared config and credentials files; the default chain without one.
    pub profile: Option<String>,
    /// A role to assume with those credentials (another account's, say).
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for.
    pub external_id: Option<String>,
}

/// A source of credentials, resolved once and renewed as they expire.
pub struct CredentialChain {
    provider: SharedCredentialsProvider,
    /// The region the chain's configuration names (`AWS_REGION`, the profile's `region`).
    default_region: Option<String>,
    cached: Mutex<Option<Credentials>>,
}

impl std::fmt::Debug for CredentialChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialChain")
            .field("default_region", &self.default_region)
            .finish_non_exhaustive()
    }
}

impl CredentialChain {
    /// Loads the chain the settings name (reads files and environment; fetches nothing yet,
    /// except that a role's provider is prepared).
    pub fn load(settings: &CredentialSettings) -> Result<CredentialChain, AwsError> {
        let settings = settings.clone();
        block_on(async move {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(profile) = &settings.profile {
                loader = loader.profile_name(profile);
            }
            let config = loader.load().await;
            let base = config
                .credentials_provider()
                .ok_or_else(|| AwsError::Credentials("no credential provider found".into()))?;
            let provider = match &settings.role_arn {
                Some(role) => {
                    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role)
                        .session_name("conftrail-collector")
                        .configure(&config);
                    if let Some(id) = &settings.external_id {
                        builder = builder.external_id(id);
                    }
                    SharedCredentialsProvider::new(builder.build_from_provider(base).await)
                }
                None => base,
            };
            Ok(CredentialChain {
                provider,
                default_region: config.region().map(|r| r.to_string()),
                cached: Mutex::new(None),
            })
        })?
    }

    /// Fixed credentials (tests, and keys given in the configuration).
    pub fn fixed(credentials: Credentials, default_region: Option<String>) -> CredentialChain {
        CredentialChain {
            provider: SharedCredentialsProvider::new(credentials.clone()),
            default_region,
            cached: Mutex::new(Some(credentials)),
        }
    }

    /// The region the chain's configuration names, if any.
    pub fn default_region(&self) -> Option<&str> {
        self.default_region.as_deref()
    }

    /// Credentials valid for a few more minutes at least.
    pub fn credentials(&self) -> Result<Credentials, AwsError> {
        let mut cached = self
            .cached
            .lock()
            .map_err(|_| AwsError::Credentials("credential cache poisoned".into()))?;
        if let Some(credentials) = cached.as_ref().filter(|c| fresh(c)) {
            return Ok(credentials.clone());
        }
        let provider = self.provider.clone();
        let credentials = block_on(async move { provider.provide_credentials().await })?
            .map_err(|e| AwsError::Credentials(error_chain(&e)))?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

fn fresh(credentials: &Credentials) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > SystemTime::now() + RENEW_BEFORE)
}

/// An error and its sources, as one line (the chain's errors nest the reason deep).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs an `aws-config` future to completion on a thread of its own with its own small
/// runtime, so it works the same from the CLI, from a server worker and from inside a runtime.
fn block_on<F>(future: F) -> Result<F::Output, AwsError>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("conftrail-credentials".into())
            .spawn_scoped(scope, move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| runtime.block_on(future))
            })
            .map_err(|e| AwsError::Credentials(format!("cannot start a thread: {e}")))?
            .join()
            .map_err(|_| AwsError::Credentials("the credential provider panicked".into()))?
            .map_err(|e| AwsError::Credentials(format!("cannot start a runtime: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_credentials_are_found_and_cached() {
        // Fixed credentials stand for what the chain returns; the chain itself is exercised
        // end to end against moto in tests/collector.rs.
        let chain = CredentialChain::fixed(
            Credentials::new("AKID", "SECRET", None, None, "test"),
            Some("eu-west-1".into()),
        );
        assert_eq!(chain.credentials().unwrap().access_key_id(), "AKID");
        assert_eq!(chain.default_region(), Some("eu-west-1"));
    }

    #[test]
    fn credentials_about_to_expire_are_not_fresh() {
        let soon = Credentials::new(
            "A",
            "S",
            None,
            Some(SystemTime::now() + Duration::from_secs(60)),
            "test",
        );
        assert!(!fresh(&soon));
        let later = Credentials::new(
            "A",
            "S",
            None,
            Some(SystemTime::now() + Duration::from_secs(3600)),
            "test",
        );
        assert!(fresh(&later));
    }
}
