//! Source names, vendor keys and public conversation ids (`<source>:<native id>`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Why a client-supplied id or name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidId(pub String);

/// Longest source name, in characters (all ASCII).
pub const MAX_SOURCE_NAME_LEN: usize = 64;

/// A configured source name: `[a-z0-9-]+`, at most 64 characters. It prefixes every id
/// the source issues, so it can never contain `:`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceName(String);

impl SourceName {
    /// The name as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SourceName {
    type Err = InvalidId;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_SOURCE_NAME_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidId(format!(
                "`{}` is not a source name (1 to 64 characters of a-z, 0-9 and -)",
                raw.escape_default()
            )))
        }
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The vendors the gateway speaks to. The key is the `vendor` value of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VendorKind {
    /// Megaview (深维智信): sales calls, video and IM.
    Megaview,
    /// GPTBots: AI agent conversations.
    Gptbots,
    /// Udesk KM robot: chatbot sessions.
    Udesk,
    /// 语聚AI (Jijyun): AI assistant inbox.
    Jijyun,
}

impl VendorKind {
    /// Every vendor, in a stable order.
    pub const ALL: [VendorKind; 4] = [Self::Megaview, Self::Gptbots, Self::Udesk, Self::Jijyun];

    /// The vendor key used in configuration, filters and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Megaview => "megaview",
            Self::Gptbots => "gptbots",
            Self::Udesk => "udesk",
            Self::Jijyun => "jijyun",
        }
    }
}

impl FromStr for VendorKind {
    type Err = InvalidId;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| {
                InvalidId(format!(
                    "`{}` is not a vendor (one of megaview, gptbots, udesk, jijyun)",
                    raw.escape_default()
                ))
            })
    }
}

impl fmt::Display for VendorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Public conversation id: `<source>:<native id>`, e.g. `helpdesk:457955`.
///
/// Client input goes through `FromStr`, so a parsed id is always safe to route on. The
/// native part is whatever the vendor uses (it may itself contain `:`), and is always
/// percent-encoded before it goes into an upstream URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConversationId {
    source: SourceName,
    native: String,
}

/// Longest native id the gateway accepts from a client, in characters (what a JSON Schema
/// `pattern` can count, so the OpenAPI document states the limit exactly).
pub const MAX_NATIVE_ID_LEN: usize = 256;

impl ConversationId {
    /// Builds an id from parts a vendor handed us.
    pub fn new(source: SourceName, native: impl Into<String>) -> Self {
        Self {
            source,
            native: native.into(),
        }
    }

    /// The source that issued the id.
    pub fn source(&self) -> &SourceName {
        &self.source
    }

    /// The vendor's own id.
    pub fn native(&self) -> &str {
        &self.native
    }

    /// Compares the ids' text (`<source>:<native id>`) without building it.
    pub fn text_cmp(&self, other: &Self) -> Ordering {
        if self.source == other.source {
            return self.native.cmp(&other.native);
        }
        self.text_bytes().cmp(other.text_bytes())
    }

    /// Compares the id's text with `text`, without building it.
    pub fn text_cmp_str(&self, text: &str) -> Ordering {
        let source = self.source.as_str();
        match text
            .strip_prefix(source)
            .and_then(|rest| rest.strip_prefix(':'))
        {
            Some(native) => self.native.as_str().cmp(native),
            None => self.text_bytes().cmp(text.bytes()),
        }
    }

    fn text_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let source = self.source.as_str().bytes();
        source.chain([b':']).chain(self.native.bytes())
    }
}

impl FromStr for ConversationId {
    type Err = InvalidId;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let (source, native) = raw.split_once(':').ok_or_else(|| {
            InvalidId("a conversation id has the form `<source>:<native id>`".to_owned())
        })?;
        if native.is_empty() || native.chars().count() > MAX_NATIVE_ID_LEN {
            return Err(InvalidId(format!(
                "the native part of a conversation id must be 1 to {MAX_NATIVE_ID_LEN} characters"
            )));
        }
        if native.chars().any(char::is_control) {
            return Err(InvalidId(
                "a conversation id may not contain control characters".to_owned(),
            ));
        }
        Ok(Self {
            source: source.parse()?,
            native: native.to_owned(),
        })
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.native)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn text_order_is_the_order_of_the_written_ids(
            a in "[a-z0-9-]{1,3}:[ -~]{1,4}",
            b in "[a-z0-9-]{1,3}:[ -~]{1,4}",
        ) {
            let (x, y): (ConversationId, ConversationId) = (a.parse().unwrap(), b.parse().unwrap());
            proptest::prop_assert_eq!(x.text_cmp(&y), a.cmp(&b));
            proptest::prop_assert_eq!(x.text_cmp_str(&b), a.cmp(&b));
        }
    }

    #[test]
    fn conversation_id_round_trips_when_native_part_contains_colons() {
        let id: ConversationId = "inbox:57a2:5c82-1".parse().unwrap();
        assert_eq!(id.source().as_str(), "inbox");
        assert_eq!(id.native(), "57a2:5c82-1");
        assert_eq!(id.to_string(), "inbox:57a2:5c82-1");
    }

    #[test]
    fn conversation_id_is_refused_when_malformed() {
        for raw in [
            "",
            "nocolon",
            ":123",
            "sales:",
            "Sales:1",
            "sa les:1",
            "a:b\u{0}c",
        ] {
            assert!(
                raw.parse::<ConversationId>().is_err(),
                "{raw:?} was accepted"
            );
        }
    }

    #[test]
    fn source_name_accepts_only_lowercase_digits_and_dashes() {
        assert!("help-desk-2".parse::<SourceName>().is_ok());
        for raw in ["", "Help", "a_b", "a:b", &"x".repeat(65)] {
            assert!(raw.parse::<SourceName>().is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn native_id_length_counts_characters_as_the_openapi_pattern_does() {
        let longest = format!("helpdesk:{}", "会".repeat(MAX_NATIVE_ID_LEN));
        assert!(longest.parse::<ConversationId>().is_ok());
        let longer = format!("helpdesk:{}", "a".repeat(MAX_NATIVE_ID_LEN + 1));
        assert!(longer.parse::<ConversationId>().is_err());
    }
}
