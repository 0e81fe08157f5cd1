//! A normalized conversation and the order the gateway lists conversations in.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::{ConversationId, VendorData, VendorKind};

/// One conversation as the gateway understands it, whatever vendor it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// `<source>:<native id>`.
    pub id: ConversationId,
    /// The vendor of the source that issued it.
    pub vendor: VendorKind,
    /// Subject or name, where the vendor has one.
    pub title: Option<String>,
    /// Channel or conversation type (e.g. `voice_call`, `chat`, `api`, `web`).
    pub channel: Option<String>,
    /// When the conversation started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// When its last message was sent.
    pub last_message_at: Option<DateTime<Utc>>,
    /// Length in seconds (calls and sessions).
    pub duration_seconds: Option<u64>,
    /// Number of messages or sentences.
    pub message_count: Option<u64>,
    /// The vendor's id of the customer or end user.
    pub customer_id: Option<String>,
    /// The vendor's id of the human agent or salesperson.
    pub agent_id: Option<String>,
    /// The vendor's id of the bot or agent application.
    pub bot_id: Option<String>,
    /// The vendor's own item, unchanged.
    pub vendor_data: VendorData,
}

/// Where a conversation sorts: newest first by `started_at`, or `last_message_at` where the
/// vendor has no start time; ties by id; conversations with neither time come last.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// The time the conversation sorts by, in milliseconds since the epoch.
    pub time_ms: Option<i64>,
    /// The full conversation id, `<source>:<native id>`.
    pub id: String,
}

impl Conversation {
    /// The time this conversation sorts by.
    pub fn sort_time(&self) -> Option<DateTime<Utc>> {
        self.started_at.or(self.last_message_at)
    }

    /// Its position in the gateway's list order.
    pub fn sort_key(&self) -> SortKey {
        SortKey {
            time_ms: self.sort_time_ms(),
            id: self.id.to_string(),
        }
    }

    /// How it compares with `other` in the list order: `sort_key` order, without building
    /// the keys (sorting a page would otherwise allocate an id string per comparison).
    pub fn list_order(&self, other: &Self) -> Ordering {
        by_time(self.sort_time_ms(), other.sort_time_ms()).then_with(|| self.id.text_cmp(&other.id))
    }

    /// Whether it lists after `key`: `self.sort_key() > *key`, without building the key.
    pub fn lists_after(&self, key: &SortKey) -> bool {
        by_time(self.sort_time_ms(), key.time_ms)
            .then_with(|| self.id.text_cmp_str(&key.id))
            .is_gt()
    }

    fn sort_time_ms(&self) -> Option<i64> {
        self.sort_time().map(|t| t.timestamp_millis())
    }
}

/// Newest first; no time last.
fn by_time(a: Option<i64>, b: Option<i64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        by_time(self.time_ms, other.time_ms).then_with(|| self.id.cmp(&other.id))
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(time_ms: Option<i64>, id: &str) -> Conversation {
        Conversation {
            id: id.parse().unwrap(),
            vendor: VendorKind::Gptbots,
            title: None,
            channel: None,
            started_at: time_ms.and_then(DateTime::from_timestamp_millis),
            ended_at: None,
            last_message_at: None,
            duration_seconds: None,
            message_count: None,
            customer_id: None,
            agent_id: None,
            bot_id: None,
            vendor_data: VendorData::from_value(&serde_json::json!({})),
        }
    }

    proptest::proptest! {
        #[test]
        fn list_order_and_lists_after_agree_with_sort_keys(
            a in (proptest::option::of(0i64..3), "[ab]{1,2}:[0-9a]{1,2}"),
            b in (proptest::option::of(0i64..3), "[ab]{1,2}:[0-9a]{1,2}"),
        ) {
            let (x, y) = (conversation(a.0, &a.1), conversation(b.0, &b.1));
            proptest::prop_assert_eq!(x.list_order(&y), x.sort_key().cmp(&y.sort_key()));
            proptest::prop_assert_eq!(x.lists_after(&y.sort_key()), x.sort_key() > y.sort_key());
        }
    }

    fn key(time_ms: Option<i64>, id: &str) -> SortKey {
        SortKey {
            time_ms,
            id: id.to_owned(),
        }
    }

    #[test]
    fn sort_key_orders_newest_first_then_by_id_then_untimed_last() {
        let mut keys = [
            key(None, "b:1"),
            key(Some(10), "b:2"),
            key(Some(20), "z:9"),
            key(None, "a:1"),
            key(Some(10), "a:2"),
        ];
        keys.sort();
        let ids: Vec<_> = keys.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["z:9", "a:2", "b:2", "a:1", "b:1"]);
    }
}
