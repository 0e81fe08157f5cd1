//! Udesk's keys in a `[[sources]]` entry: the signing account and the robot whose sessions
//! are listed.

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::VendorKind;
use crate::vendors::VendorSettings;
use crate::vendors::config::{KeyError, VendorKeys, non_empty_secret, required};

/// Hash of Udesk's request signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignAlgorithm {
    /// SHA-1 (the KM robot API's default).
    #[default]
    Sha1,
    /// SHA-256 (newer tenants).
    Sha256,
}

/// Udesk KM robot credentials.
#[derive(Debug, Clone)]
pub struct UdeskSettings {
    /// `email` of the admin account that signs requests.
    pub email: String,
    /// `api_token` from the KM console.
    pub api_token: SecretString,
    /// `robot_id` whose sessions are listed.
    pub robot_id: i64,
    /// `sign_algorithm`: `sha1` (default) or `sha256`.
    pub sign_algorithm: SignAlgorithm,
}

/// The keys as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUdesk {
    email: Option<String>,
    api_token: Option<String>,
    robot_id: Option<i64>,
    sign_algorithm: Option<String>,
}

impl VendorKeys for RawUdesk {
    const DEFAULT_TIER: &'static str = "low";

    fn settings(self) -> Result<VendorSettings, KeyError> {
        let vendor = VendorKind::Udesk;
        let email = required(self.email, "email", vendor)?;
        if !email.contains('@') {
            return Err(KeyError::new("email", "is not an email address"));
        }
        let sign_algorithm = match self.sign_algorithm.as_deref() {
            None | Some("sha1") => SignAlgorithm::Sha1,
            Some("sha256") => SignAlgorithm::Sha256,
            Some(_) => {
                return Err(KeyError::new(
                    "sign_algorithm",
                    "must be `sha1` or `sha256`",
                ));
            }
        };
        Ok(VendorSettings::Udesk(UdeskSettings {
            email,
            api_token: non_empty_secret(self.api_token, "api_token", vendor)?,
            robot_id: required(self.robot_id, "robot_id", vendor)?,
            sign_algorithm,
        }))
    }
}
