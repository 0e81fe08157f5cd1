//! Serde helpers shared by vendor wire models (no vendor's fields live here).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A vendor item parsed into `T`, with its JSON kept unchanged for `vendor_data`.
#[derive(Debug)]
pub(crate) struct WithRaw<T> {
    /// The typed reading.
    pub(crate) item: T,
    /// The item exactly as the vendor sent it.
    pub(crate) raw: Value,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WithRaw<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        let item = T::deserialize(&raw).map_err(serde::de::Error::custom)?;
        Ok(Self { item, raw })
    }
}
