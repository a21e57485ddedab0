//! The managed rules shipped with conftrail, built from `rules-wasm/rules/*` with the same SDK a
//! user would use. Their compiled modules are committed under `rules-wasm/dist/`
//! (`rules-wasm/build.sh` rebuilds them; `.ci/run` checks they match their sources).

/// A managed rule: its registered name and its compiled core module.
pub struct ManagedRule {
    /// Registered name (also the rule's own name).
    pub name: &'static str,
    /// The core module built by `rules-wasm/build.sh`.
    pub wasm: &'static [u8],
}

macro_rules! managed {
    ($($name:literal),* $(,)?) => {
        &[$(ManagedRule {
            name: $name,
            wasm: include_bytes!(concat!("../../rules-wasm/dist/", $name, ".wasm")),
        }),*]
    };
}

/// Every managed rule, installed and enabled in every store.
pub const MANAGED_RULES: &[ManagedRule] = managed![
    "restricted-ssh",
    "restricted-common-ports",
    "vpc-sg-open-only-to-authorized-ports",
    "s3-bucket-public-read-prohibited",
    "s3-bucket-public-write-prohibited",
    "s3-bucket-level-public-access-prohibited",
    "s3-bucket-server-side-encryption-enabled",
    "s3-bucket-versioning-enabled",
    "ec2-instance-no-public-ip",
    "required-tags",
    "iam-user-mfa-enabled",
    "ec2-instance-no-world-open-ssh",
];
