//! What every vendor's `config.rs` shares: the [`VendorKeys`] trait its keys implement, the
//! error its checks return, and the functions for required keys and secrets.
//!
//! A vendor's keys are read from the part of its `[[sources]]` entry left once the common
//! keys (name, vendor, URL, timeout, zone, quota) are taken out; `crate::config` does that and
//! prefixes every key named here with `sources[N].`.

use secrecy::SecretString;
use serde::de::{self, DeserializeOwned, Visitor};

use super::VendorSettings;
use crate::domain::VendorKind;

/// What a vendor's `config.rs` provides: its keys as a serde struct (with
/// `#[serde(deny_unknown_fields)]`), their checks, and its default quota tier.
pub trait VendorKeys: DeserializeOwned {
    /// Quota tier (`low`, `medium` or `high`) of a source that sets no `rate_limit`.
    const DEFAULT_TIER: &'static str;

    /// The checked settings, or the first key whose value is missing or wrong.
    fn settings(self) -> Result<VendorSettings, KeyError>;
}

/// A vendor key that is missing or has a bad value. `key` is relative to the source's
/// entry (`api_token`, `transcript_hosts[1]`). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// The key, e.g. `robot_id`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl KeyError {
    /// `key` is wrong because of `message`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// What the config loader needs to know of one vendor.
#[derive(Clone, Copy)]
pub struct VendorConfig {
    /// Every key the vendor takes, besides the common ones.
    pub keys: &'static [&'static str],
    /// Quota tier of a source that sets no `rate_limit`.
    pub default_tier: &'static str,
    /// Reads and checks the vendor's keys.
    pub read: fn(toml::Table) -> Result<VendorSettings, KeyError>,
}

impl VendorConfig {
    /// The config of the vendor whose keys are `K`.
    pub fn of<K: VendorKeys>() -> Self {
        Self {
            keys: key_names::<K>(),
            default_tier: K::DEFAULT_TIER,
            read: read::<K>,
        }
    }
}

/// Deserializes `keys` into `K` and checks them. A serde error names the key it is about;
/// its message may quote the value, so the caller redacts secrets from it.
fn read<K: VendorKeys>(keys: toml::Table) -> Result<VendorSettings, KeyError> {
    let raw: K = serde_path_to_error::deserialize(toml::Value::Table(keys))
        .map_err(|err| KeyError::new(err.path().to_string(), err.into_inner().to_string()))?;
    raw.settings()
}

/// `value`, or an error naming `key` when it is absent.
pub fn required<T>(value: Option<T>, key: &str, vendor: VendorKind) -> Result<T, KeyError> {
    value.ok_or_else(|| KeyError::new(key, format!("is required for vendor `{vendor}`")))
}

/// A required secret that is not blank.
pub fn non_empty_secret(
    value: Option<String>,
    key: &str,
    vendor: VendorKind,
) -> Result<SecretString, KeyError> {
    let value = required(value, key, vendor)?;
    if value.trim().is_empty() {
        return Err(KeyError::new(key, "must not be empty"));
    }
    Ok(SecretString::from(value))
}

/// The field names of the serde struct `T`, as serde sees them (renames applied), so a list
/// of keys is never written twice.
pub fn key_names<T: DeserializeOwned>() -> &'static [&'static str] {
    /// A deserializer that only records the fields it is asked for.
    struct Fields(Option<&'static [&'static str]>);

    #[derive(Debug)]
    struct Stop;

    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field names recorded")
        }
    }

    impl std::error::Error for Stop {}

    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Self
        }
    }

    impl<'de> de::Deserializer<'de> for &mut Fields {
        type Error = Stop;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut fields = Fields(None);
    let _ = T::deserialize(&mut fields);
    fields.0.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        api_key: Option<String>,
        #[serde(rename = "robot")]
        robot_id: Option<i64>,
    }

    #[test]
    fn key_names_reads_the_fields_serde_expects() {
        assert_eq!(key_names::<Sample>(), ["api_key", "robot"]);
        assert!(key_names::<String>().is_empty());
    }

    #[test]
    fn every_vendor_has_keys_and_a_known_default_tier() {
        for kind in VendorKind::ALL {
            let config = super::super::vendor_config(kind);
            assert!(!config.keys.is_empty(), "{kind}");
            assert!(
                ["low", "medium", "high"].contains(&config.default_tier),
                "{kind}"
            );
        }
    }
}
