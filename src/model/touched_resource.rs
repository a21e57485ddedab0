//! Which resource an API call touched, and how: what the linker ties to configuration versions.

/// What a call does to a resource it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The call creates the resource (it links to its first version).
    Create,
    /// The call deletes it.
    Delete,
    /// The call changes these property paths (prefixes such as `Configuration.IpPermissions`).
    Modify(Vec<String>),
    /// Named by the record's `resources[]` only: a touch of unknown kind.
    Unknown,
}

/// A resource an API call names, spelled as AWS Config records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchedResource {
    /// AWS Config resource type, e.g. `AWS::EC2::SecurityGroup`.
    pub resource_type: String,
    /// What the call names it by: an id (`sg-…`), a bucket name, an IAM name, or an ARN.
    pub identifier: String,
    /// The resource's account.
    pub account_id: String,
    /// The resource's region (`global` for IAM, as AWS Config records it).
    pub region: String,
    /// What the call does to it.
    pub effect: Effect,
}
