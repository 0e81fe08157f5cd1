//! Serde helpers shared by vendor wire models (no vendor's fields live here).

use std::fmt;

use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::domain::{LocateItems, VendorAnswer, VendorData};

/// A vendor item parsed into `T`, with its JSON kept unchanged for `vendor_data`.
#[derive(Debug)]
pub(crate) struct WithRaw<T> {
    /// The typed reading.
    pub(crate) item: T,
    /// The item exactly as the vendor sent it.
    pub(crate) raw: VendorData,
}

/// A vendor answer's text, read typed first; its items then share it as their
/// `vendor_data` (see [`VendorAnswer`]).
///
/// Reading each item's raw text while parsing and then the item from that text, as the
/// gateway did before, cost a second pass over every item with a parser of its own and
/// two copies of its text; most requests never ask for `vendor_data`.
pub(crate) struct AnswerText(Box<str>);

/// Its length only: an answer's text is the vendor's, and never reaches a log line.
impl fmt::Debug for AnswerText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnswerText({} bytes)", self.0.len())
    }
}

impl From<&str> for AnswerText {
    fn from(text: &str) -> Self {
        Self(Box::from(text))
    }
}

impl AnswerText {
    /// The body as text, or `None` when it is not UTF-8 (and so not JSON).
    pub(crate) fn new(body: &[u8]) -> Option<Self> {
        std::str::from_utf8(body).ok().map(Self::from)
    }

    /// Reads a `T` from the text.
    pub(crate) fn read<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_str(&self.0)
    }

    /// Reads a `T` from an answer's body, with the body's text for the items read from
    /// it. The text is `None` when the body is not UTF-8; `T` is then read from the bytes,
    /// only to say why it is not what was expected.
    pub(crate) fn read_body<T: DeserializeOwned>(
        body: &[u8],
    ) -> (serde_json::Result<T>, Option<Self>) {
        match Self::new(body) {
            Some(text) => (text.read(), Some(text)),
            None => (serde_json::from_slice(body), None),
        }
    }

    /// The items read typed from this answer, each keeping the answer for its
    /// `vendor_data`; `locate` reads the same list's raw items, when one is asked for.
    pub(crate) fn into_items<T>(self, items: Vec<T>, locate: LocateItems) -> Vec<WithRaw<T>> {
        let answer = VendorAnswer::new(self.0, locate);
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| WithRaw {
                item,
                raw: VendorData::in_answer(&answer, index),
            })
            .collect()
    }
}

/// Reads one raw item into `T`; its text is parsed again, which costs far less than building
/// a JSON tree to read it from.
pub(crate) fn parse_raw<T: DeserializeOwned>(raw: &RawValue) -> serde_json::Result<T> {
    serde_json::from_str(raw.get())
}

/// `#[serde(default = "wire::none")]` for an optional payload: `#[serde(default)]` would
/// ask `T: Default` of every payload type.
pub(crate) fn none<T>() -> Option<T> {
    None
}

/// A field a vendor sends as a number in one answer and a string in the next. Booleans,
/// arrays and objects read as [`Scalar::Other`], so an odd field never fails its item.
///
/// Read by hand rather than with `#[serde(untagged)]`, which buffers every value before
/// trying each variant: that cost a seventh of the gateway's CPU on Megaview pages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Int(i64),
    Float(f64),
    Text(String),
    Other,
}

impl Scalar {
    /// The integer it spells: an integer, a whole float, or trimmed decimal text.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            // `as` saturates; the range check keeps that from mattering.
            Self::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Self::Text(text) => text.trim().parse().ok(),
            Self::Float(_) | Self::Other => None,
        }
    }

    /// The value as text: an integer's digits, a float as JSON writes it, text trimmed
    /// (vendors' business codes come either way).
    pub(crate) fn as_text(&self) -> Option<String> {
        match self {
            Self::Int(number) => Some(number.to_string()),
            Self::Float(number) => Some(serde_json::Number::from_f64(*number)?.to_string()),
            Self::Text(text) => Some(text.trim().to_owned()),
            Self::Other => None,
        }
    }

    /// [`Scalar::as_i64`], when it is not negative.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|n| u64::try_from(n).ok())
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string")
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::Scalar;

    #[test]
    fn a_scalar_reads_numbers_and_text_and_tolerates_anything_else() {
        let read = |json: &str| serde_json::from_str::<Option<Scalar>>(json).unwrap();
        assert_eq!(read("42"), Some(Scalar::Int(42)));
        assert_eq!(read("-7"), Some(Scalar::Int(-7)));
        assert_eq!(
            read("18446744073709551615"),
            Some(Scalar::Float(u64::MAX as f64))
        );
        assert_eq!(read("1.5"), Some(Scalar::Float(1.5)));
        assert_eq!(read(r#"" 12 ""#), Some(Scalar::Text(" 12 ".to_owned())));
        assert_eq!(read(r#""a\"b""#), Some(Scalar::Text("a\"b".to_owned())));
        assert_eq!(read("null"), None);
        for other in ["true", "[1, [2]]", r#"{"a": {"b": 1}}"#] {
            assert_eq!(read(other), Some(Scalar::Other), "{other}");
        }
    }

    #[test]
    fn a_scalar_spells_an_integer_only_when_it_is_whole() {
        assert_eq!(Scalar::Float(3.0).as_i64(), Some(3));
        assert_eq!(Scalar::Float(3.5).as_i64(), None);
        assert_eq!(Scalar::Float(1.0e300).as_i64(), None);
        assert_eq!(Scalar::Text(" 17 ".to_owned()).as_i64(), Some(17));
        assert_eq!(Scalar::Text("x".to_owned()).as_i64(), None);
        assert_eq!(Scalar::Int(-1).as_u64(), None);
        assert_eq!(Scalar::Other.as_i64(), None);
    }
}
