//! Serde helpers shared by vendor wire models (no vendor's fields live here).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::domain::VendorData;

/// A vendor item parsed into `T`, with its JSON kept unchanged for `vendor_data`.
#[derive(Debug)]
pub(crate) struct WithRaw<T> {
    /// The typed reading.
    pub(crate) item: T,
    /// The item exactly as the vendor sent it.
    pub(crate) raw: VendorData,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WithRaw<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let item = parse_raw(&raw).map_err(serde::de::Error::custom)?;
        Ok(Self {
            item,
            raw: VendorData::from_raw(raw),
        })
    }
}

/// Reads one raw item into `T`; its text is parsed again, which costs far less than building
/// a JSON tree to read it from.
pub(crate) fn parse_raw<T: DeserializeOwned>(raw: &RawValue) -> serde_json::Result<T> {
    serde_json::from_str(raw.get())
}
