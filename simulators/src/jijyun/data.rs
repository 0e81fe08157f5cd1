//! Jijyun's records and their generator: chat heads and customers at start, each chat's
//! messages built per answer from its own streams.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use serde::Serialize;

use crate::data::{
    Keys, Purpose, SHARED_CUSTOMER_ID, Window, hex_id, line, message_count, small_index, uuid_from,
};
use crate::phrases::{ZH_AGENT_REPLIES, ZH_INBOX_AI, ZH_INBOX_VISITOR};
use crate::{RecordSummary, SandboxConfig};

/// Jijyun chats.
pub(crate) struct JijyunData {
    pub(super) keys: Keys,
    /// Sorted by hidden creation time ascending.
    pub(super) chats: Vec<JjHead>,
    pub(crate) customers: Vec<String>,
    /// Chat positions per customer, newest first.
    pub(super) by_customer: HashMap<String, Vec<u32>>,
}

/// What the chat record filters on.
#[derive(Debug)]
pub(super) struct JjHead {
    pub(super) index: u32,
    pub(super) chat_id: String,
    customer: u8,
    pub(super) created_at: DateTime<Utc>,
    pub(super) source: &'static str,
    pub(super) robot: &'static str,
    pub(super) seat: Option<&'static str>,
    human: bool,
    total: u16,
}

/// One item of `/v1/openapi/chat/record` `Data`.
#[derive(Debug, Serialize)]
pub(super) struct JjChat<'a> {
    chat_id: &'a str,
    messages: Vec<JjMessage>,
}

/// One message of a chat.
#[derive(Debug, Serialize)]
pub(super) struct JjMessage {
    content: String,
    message_type: &'static str,
    sender_type: &'static str,
}

/// Values of the `chat_source` filter.
pub(super) const JJ_SOURCES: [&str; 5] = ["企业微信", "微信公众号", "抖音", "网页", "小红书"];
/// Values of the `chat_robot` filter.
pub(super) const JJ_ROBOTS: [&str; 2] = ["robot-1001", "robot-1002"];
/// Values of the `seat_member` filter.
pub(super) const JJ_SEATS: [&str; 4] = ["seat-2001", "seat-2002", "seat-2003", "seat-2004"];

impl JijyunData {
    /// The `customer_id` of `head`.
    pub(super) fn customer_id(&self, head: &JjHead) -> &str {
        self.customers
            .get(usize::from(head.customer))
            .map_or("", String::as_str)
    }

    /// The record item of `head`, messages in conversation order.
    pub(super) fn item<'a>(&self, head: &'a JjHead) -> JjChat<'a> {
        let rng = &mut self.keys.stream(head.index, Purpose::Text);
        let human = head.human;
        let total = usize::from(head.total);
        let ai_count = if human { (total * 2 / 5).max(1) } else { total };
        let mut messages = Vec::with_capacity(total);
        for k in 0..ai_count {
            let (content, sender_type) = if human && k + 1 == ai_count {
                ("好的，正在为您转接人工客服。", "客服")
            } else if human && k + 2 == ai_count {
                ("转人工", "用户")
            } else if k % 2 == 0 {
                (line(rng, ZH_INBOX_VISITOR), "用户")
            } else {
                (line(rng, ZH_INBOX_AI), "客服")
            };
            messages.push(JjMessage {
                content: content.to_owned(),
                message_type: "AI对话",
                sender_type,
            });
        }
        for k in ai_count..total {
            let (content, sender_type) = if (k - ai_count) % 2 == 0 {
                let prefix = if rng.random_bool(0.5) {
                    "人工回复"
                } else {
                    "客服回复"
                };
                (format!("{prefix}: {}", line(rng, ZH_AGENT_REPLIES)), "客服")
            } else {
                (format!("访客发送: {}", line(rng, ZH_INBOX_VISITOR)), "用户")
            };
            messages.push(JjMessage {
                content,
                message_type: "人工对话",
                sender_type,
            });
        }
        JjChat {
            chat_id: &head.chat_id,
            messages,
        }
    }

    /// Ground truth of every conversation, oldest first (see `Sandbox::records`).
    pub(crate) fn records(&self) -> Vec<RecordSummary> {
        self.chats
            .iter()
            .map(|c| RecordSummary {
                native_id: c.chat_id.clone(),
                customer_id: Some(self.customer_id(c).to_owned()),
                agent_id: None,
                sort_time: None,
            })
            .collect()
    }
}

pub(crate) fn jijyun(config: &SandboxConfig, window: &Window, n: u32) -> JijyunData {
    let keys = Keys::new(config.seed, 0x6a69_6a79);
    let vendor = &mut keys.stream(0, Purpose::Vendor);
    let customer_count = vendor.random_range(8..=12);
    let mut customers: Vec<String> = (0..customer_count).map(|_| hex_id(vendor, 16)).collect();
    customers[0] = SHARED_CUSTOMER_ID.to_string();
    let mut chats = Vec::with_capacity(n as usize);
    let mut previous: Option<DateTime<Utc>> = None;
    for index in 0..n {
        let rng = &mut keys.stream(index, Purpose::Head);
        let created_at = match previous {
            Some(t) if index % 40 == 5 => t,
            _ => window.instant(rng, TimeDelta::zero()),
        };
        previous = Some(created_at);
        let customer = if (index as usize) < customers.len() {
            index as u8
        } else {
            small_index(rng, customers.len())
        };
        let human = rng.random_bool(0.35);
        let total = message_count(rng, index).max(if human { 5 } else { 1 }) as u16;
        let chat_id = format!(
            "{}-{}",
            uuid_from(rng),
            rng.random_range(100_000..1_000_000)
        );
        chats.push(JjHead {
            index,
            chat_id,
            customer,
            created_at,
            source: line(rng, &JJ_SOURCES),
            robot: line(rng, &JJ_ROBOTS),
            seat: human.then(|| line(rng, &JJ_SEATS)),
            human,
            total,
        });
    }
    chats.sort_by_key(|c| (c.created_at, c.index));
    let mut by_customer: HashMap<String, Vec<u32>> = HashMap::new();
    for (at, chat) in chats.iter().enumerate().rev() {
        let customer = customers
            .get(usize::from(chat.customer))
            .cloned()
            .unwrap_or_default();
        by_customer.entry(customer).or_default().push(at as u32);
    }
    JijyunData {
        keys,
        chats,
        customers,
        by_customer,
    }
}
