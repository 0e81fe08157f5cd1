//! A vendor's own item, kept as the exact JSON text it sent and shared, never re-parsed.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// The JSON of one vendor item, as received. Cloning it is a reference-count increment.
///
/// An item read from a page is a position in that page's [`VendorAnswer`], which all its
/// items share: reading a page copies no item, and finds where the items lie in the text
/// only when one of them is asked for (`include=vendor_data`, which few requests carry).
#[derive(Clone)]
pub struct VendorData(Repr);

#[derive(Clone)]
enum Repr {
    Whole(Arc<str>),
    InAnswer {
        answer: Arc<VendorAnswer>,
        index: usize,
    },
}

/// Finds the raw text of an answer's items, in the order they were read typed: the same
/// envelope read with `&RawValue` items.
pub type LocateItems = for<'a> fn(&'a str) -> serde_json::Result<Vec<&'a RawValue>>;

/// The text of one vendor answer, shared by the items read from it.
pub struct VendorAnswer {
    text: Box<str>,
    locate: LocateItems,
    items: OnceLock<Vec<Range<usize>>>,
}

impl VendorAnswer {
    /// An answer's text and how to find its items in it.
    pub fn new(text: Box<str>, locate: LocateItems) -> Arc<Self> {
        Arc::new(Self {
            text,
            locate,
            items: OnceLock::new(),
        })
    }

    /// The `index`th item of the answer; `null` when the text has no such item, which
    /// cannot happen for an index its items were read with (both readings walk the same
    /// array of the same text).
    fn item(&self, index: usize) -> &str {
        let items = self.items.get_or_init(|| {
            let base = self.text.as_ptr() as usize;
            (self.locate)(&self.text)
                .map(|raws| {
                    raws.iter()
                        .map(|raw| {
                            // Out of the text only if `locate` broke its contract; then
                            // `get` below finds no such range.
                            let start = (raw.get().as_ptr() as usize).wrapping_sub(base);
                            start..start.wrapping_add(raw.get().len())
                        })
                        .collect()
                })
                .unwrap_or_default()
        });
        items
            .get(index)
            .and_then(|range| self.text.get(range.clone()))
            .unwrap_or("null")
    }
}

impl VendorData {
    /// The `index`th item of `answer`, in the order `answer`'s locator finds them.
    pub fn in_answer(answer: &Arc<VendorAnswer>, index: usize) -> Self {
        Self(Repr::InAnswer {
            answer: Arc::clone(answer),
            index,
        })
    }

    /// Keeps JSON text that serde already checked, on its own.
    pub fn from_raw(raw: &RawValue) -> Self {
        Self(Repr::Whole(Arc::from(raw.get())))
    }

    /// Encodes a parsed value (for data that only exists as a tree, e.g. in tests).
    pub fn from_value(value: &serde_json::Value) -> Self {
        Self(Repr::Whole(Arc::from(value.to_string())))
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        match &self.0 {
            Repr::Whole(text) => text,
            Repr::InAnswer { answer, index } => answer.item(*index),
        }
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
    /// Writes the text unchanged. serde_json writes raw text only from a `RawValue`, and
    /// making one checks the text again: a cost paid only when a client asks for
    /// `vendor_data`, never while reading a page.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue =
            serde_json::from_str(self.json()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
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
        let data = VendorData::from_raw(&raw);
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

    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(borrow)]
        list: Vec<&'a RawValue>,
    }

    fn locate(text: &str) -> serde_json::Result<Vec<&RawValue>> {
        Ok(serde_json::from_str::<Page<'_>>(text)?.list)
    }

    #[test]
    fn items_of_one_answer_share_its_text_and_are_found_when_asked_for() {
        let answer = VendorAnswer::new(r#"{"list": [{"id": "é1"}, 2, "three"]}"#.into(), locate);
        let items: Vec<_> = (0..3).map(|i| VendorData::in_answer(&answer, i)).collect();
        assert!(
            answer.items.get().is_none(),
            "nothing located before it is asked"
        );
        let jsons: Vec<_> = items.iter().map(VendorData::json).collect();
        assert_eq!(jsons, [r#"{"id": "é1"}"#, "2", r#""three""#]);
        assert_eq!(Arc::strong_count(&answer), 4);
        #[derive(Serialize)]
        struct View {
            v: VendorData,
        }
        let view = View {
            v: items[0].clone(),
        };
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            r#"{"v":{"id": "é1"}}"#
        );
    }

    #[test]
    fn an_index_the_text_does_not_have_reads_as_null() {
        let answer = VendorAnswer::new(r#"{"list": [1]}"#.into(), locate);
        assert_eq!(VendorData::in_answer(&answer, 1).json(), "null");
        let broken = VendorAnswer::new(r#"{"list": 1}"#.into(), locate);
        assert_eq!(VendorData::in_answer(&broken, 0).json(), "null");
    }
}
