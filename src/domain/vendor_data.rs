//! A vendor's own item, kept as the exact JSON text it sent and shared, never re-parsed.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// The JSON of one vendor item, as received. Cloning it is a reference-count increment, so
/// pages cut from cached vendor answers share it instead of copying a JSON tree per item.
#[derive(Clone)]
pub struct VendorData(Arc<RawValue>);

impl VendorData {
    /// Keeps JSON text that serde already checked.
    pub fn from_raw(raw: Box<RawValue>) -> Self {
        Self(Arc::from(raw))
    }

    /// Encodes a parsed value (for data that only exists as a tree, e.g. in tests).
    pub fn from_value(value: &serde_json::Value) -> Self {
        // Serializing a `Value` cannot fail: its map keys are strings.
        Self::from_raw(serde_json::value::to_raw_value(value).expect("a JSON value encodes"))
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The item parsed into a tree (for inspection; the gateway itself never needs it).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.json()).expect("vendor data holds valid JSON")
    }
}

impl PartialEq for VendorData {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl fmt::Debug for VendorData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl Serialize for VendorData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl From<serde_json::Value> for VendorData {
    fn from(value: serde_json::Value) -> Self {
        Self::from_value(&value)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_the_vendor_text_and_serializes_it_unchanged() {
        let raw = RawValue::from_string(r#"{"b": 1, "a": [2.50, "x"]}"#.to_owned()).unwrap();
        let data = VendorData::from_raw(raw);
        assert_eq!(data.json(), r#"{"b": 1, "a": [2.50, "x"]}"#);
        #[derive(Serialize)]
        struct View {
            v: VendorData,
        }
        let view = View { v: data.clone() };
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            r#"{"v":{"b": 1, "a": [2.50, "x"]}}"#
        );
        assert_eq!(data.to_value()["a"][1], "x");
        assert_eq!(data, data.clone());
    }

    #[test]
    fn values_round_trip() {
        let value = json!({ "id": 7, "tags": ["a"], "nested": { "n": null } });
        assert_eq!(VendorData::from(value.clone()).to_value(), value);
    }
}
