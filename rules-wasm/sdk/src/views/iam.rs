//! IAM views.
//!
//! **MFA and AWS Config.** AWS Config's `AWS::IAM::User` item records the user's path, name,
//! id, ARN, creation date, inline policies (`userPolicyList`), groups (`groupList`), attached
//! managed policies and permissions boundary, and tags — but *not* MFA devices, login profile
//! or credential report fields (see `rdk_example_ci/AWS_IAM_User.json`). AWS's own
//! `iam-user-mfa-enabled` rule is periodic and calls IAM's `ListMFADevices`.
//!
//! So [`mfa_evidence`] looks for MFA information that an item may carry when it was recorded
//! by conftrail from another source (e.g. `aws iam list-mfa-devices` merged into the item, or a
//! generic-shape item), in this order:
//!
//! 1. `configuration.mfaDevices` (also `MFADevices`, `mfaDeviceList`): a list of devices, as
//!    `ListMFADevices` returns them; non-empty = MFA on.
//! 2. `configuration.mfaActive` (also `mfa_active`, as in the IAM credential report): a bool.
//! 3. the same keys in `supplementaryConfiguration` (`MfaDevices`, `MFADevices`, `mfaDevices`,
//!    `MfaActive`, `mfaActive`, `mfa_active`).
//!
//! When none is present the answer is [`MfaEvidence::Unknown`]: a plain AWS Config item cannot
//! tell whether the user has MFA. Absent and empty stay apart: `mfaDevices: []` is
//! `Devices(0)` (no MFA), a missing key is `Unknown`, never "no MFA".

use serde::Deserialize;

use crate::json::{lenient_bool, Text};
use crate::Item;

/// `AWS::IAM::User` configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IamUser<'a> {
    /// The user name.
    #[serde(borrow, default)]
    pub user_name: Option<Text<'a>>,
    /// `AIDA…`
    #[serde(borrow, default)]
    pub user_id: Option<Text<'a>>,
    /// The ARN.
    #[serde(borrow, default)]
    pub arn: Option<Text<'a>>,
    /// MFA devices, when the item carries them (AWS Config does not record them).
    #[serde(
        borrow,
        default,
        alias = "MFADevices",
        alias = "MfaDevices",
        alias = "mfaDeviceList"
    )]
    pub mfa_devices: Option<Vec<MfaDevice<'a>>>,
    /// Credential-report style flag, when the item carries it.
    #[serde(
        default,
        alias = "mfa_active",
        alias = "MfaActive",
        deserialize_with = "lenient_bool"
    )]
    pub mfa_active: Option<bool>,
}

/// An MFA device.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaDevice<'a> {
    /// Serial number or ARN.
    #[serde(borrow, default, alias = "SerialNumber")]
    pub serial_number: Option<Text<'a>>,
}

/// What an item says about a user's MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaEvidence {
    /// This many MFA devices are recorded (0 = none).
    Devices(usize),
    /// A recorded `mfaActive` flag.
    Active(bool),
    /// The item carries no MFA information (the case for AWS Config's own items).
    Unknown,
}

impl MfaEvidence {
    /// `Some(true)` when MFA is on, `Some(false)` when off, `None` when unknown.
    pub fn enabled(self) -> Option<bool> {
        match self {
            MfaEvidence::Devices(n) => Some(n > 0),
            MfaEvidence::Active(b) => Some(b),
            MfaEvidence::Unknown => None,
        }
    }
}

/// Reads the MFA information an `AWS::IAM::User` item carries (see the module docs).
pub fn mfa_evidence(item: &Item) -> Result<MfaEvidence, String> {
    let user: IamUser = item.configuration()?;
    if let Some(devices) = &user.mfa_devices {
        return Ok(MfaEvidence::Devices(devices.len()));
    }
    if let Some(active) = user.mfa_active {
        return Ok(MfaEvidence::Active(active));
    }
    for key in ["MfaDevices", "MFADevices", "mfaDevices"] {
        if let Some(devices) = item.supplementary::<Vec<MfaDevice>>(key)? {
            return Ok(MfaEvidence::Devices(devices.len()));
        }
    }
    for key in ["MfaActive", "mfaActive", "mfa_active"] {
        if let Some(text) = item.supplementary_value_json(key)? {
            if let Some(b) = crate::json::parse_bool(text.trim().trim_matches('"')) {
                return Ok(MfaEvidence::Active(b));
            }
        }
    }
    Ok(MfaEvidence::Unknown)
}
