//! GPTBots' records and their generator: conversation heads at start, the page item and the
//! v2 messages built per answer from the conversation's own streams.

use std::collections::HashMap;

use chrono::DateTime;
use rand::{Rng, RngCore};
use serde::Serialize;

use crate::data::{
    Keys, Purpose, Stream, Window, base62_id, hex_id, line, message_count, round2, small_index,
    weighted,
};
use crate::phrases::{EN_ANSWERS, EN_QUESTIONS, FOLLOW_UPS, ZH_ANSWERS, ZH_QUESTIONS};
use crate::{RecordSummary, SandboxConfig};

/// GPTBots conversations.
pub(crate) struct GptbotsData {
    pub(super) keys: Keys,
    bot_id: String,
    /// Sorted by `recent_chat_time` descending, ties by `conversation_id`.
    pub(super) conversations: Vec<GbHead>,
    by_id: HashMap<String, u32>,
}

/// What the conversation page filters, sorts and shows.
#[derive(Debug)]
pub(super) struct GbHead {
    pub(super) index: u32,
    pub(super) conversation_id: String,
    pub(super) recent_chat_time: i64,
    pub(super) conversation_type: &'static str,
    user: u8,
    anonymous: Option<u64>,
    english: bool,
    message_count: u16,
    /// The first question, which is also the subject.
    question: u8,
    cost_credit: f64,
}

impl GbHead {
    /// The conversation's `user_id`.
    pub(super) fn user_id(&self) -> &'static str {
        GB_USERS[usize::from(self.user)]
    }

    fn question(&self) -> &'static str {
        let pool = if self.english {
            EN_QUESTIONS
        } else {
            ZH_QUESTIONS
        };
        pool.get(usize::from(self.question))
            .copied()
            .unwrap_or_default()
    }
}

/// One item of `/v1/bot/conversation/page`.
#[derive(Debug, Serialize)]
pub(super) struct GbConversation<'a> {
    conversation_id: &'a str,
    user_id: &'static str,
    recent_chat_time: i64,
    subject: String,
    conversation_type: &'static str,
    message_count: usize,
    cost_credit: f64,
    bot_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    anonymous_id: Option<String>,
}

/// One item of `/v2/messages` `conversation_content`.
#[derive(Debug, Serialize)]
pub(super) struct GbMessage {
    message_id: String,
    parent_message_id: String,
    create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    feedback: Option<&'static str>,
    role: &'static str,
    content: Vec<GbContent>,
}

/// One branch of a message's content.
#[derive(Debug, Serialize)]
pub(super) struct GbContent {
    #[serde(skip_serializing_if = "Option::is_none")]
    from_component_branch: Option<&'static str>,
    branch_content: Vec<GbBlock>,
}

/// A typed block: `text` carries `text`, the others an array under the field named like the type.
#[derive(Debug, Default, Serialize)]
pub(super) struct GbBlock {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<Vec<GbFile>>,
}

/// An attachment of a media block.
#[derive(Debug, Serialize)]
pub(super) struct GbFile {
    url: String,
    format: &'static str,
    name: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<&'static str>,
}

impl GptbotsData {
    /// The conversation with `conversation_id` `id`.
    pub(super) fn find(&self, id: &str) -> Option<&GbHead> {
        self.conversations.get(*self.by_id.get(id)? as usize)
    }

    /// The page item of `head`.
    pub(super) fn item<'a>(&'a self, head: &'a GbHead) -> GbConversation<'a> {
        GbConversation {
            conversation_id: &head.conversation_id,
            user_id: head.user_id(),
            recent_chat_time: head.recent_chat_time,
            subject: head.question().chars().take(40).collect(),
            conversation_type: head.conversation_type,
            message_count: usize::from(head.message_count),
            cost_credit: head.cost_credit,
            bot_id: &self.bot_id,
            anonymous_id: head.anonymous.map(|a| format!("anon_{a:016x}")),
        }
    }

    /// Every message of `head`, oldest first.
    pub(super) fn messages(&self, head: &GbHead) -> Vec<GbMessage> {
        let rng = &mut self.keys.stream(head.index, Purpose::Text);
        let count = usize::from(head.message_count);
        let recent = head.recent_chat_time;
        let mut gaps = vec![0_i64; count];
        for gap in gaps.iter_mut().skip(1) {
            *gap = rng.random_range(1_500..240_000);
        }
        let mut times = vec![recent; count];
        for k in (0..count.saturating_sub(1)).rev() {
            times[k] = times[k + 1] - gaps[k + 1];
        }
        let (questions, answers) = if head.english {
            (EN_QUESTIONS, EN_ANSWERS)
        } else {
            (ZH_QUESTIONS, ZH_ANSWERS)
        };

        let mut messages: Vec<GbMessage> = Vec::with_capacity(count);
        for (k, create_time) in times.iter().copied().enumerate() {
            let message_id = hex_id(rng, 12);
            let parent_message_id = messages
                .last()
                .map(|m| m.message_id.clone())
                .unwrap_or_default();
            let message = if k % 2 == 0 {
                let question = if k == 0 {
                    head.question()
                } else {
                    line(rng, questions)
                };
                GbMessage {
                    message_id,
                    parent_message_id,
                    create_time,
                    feedback: None,
                    role: "user",
                    content: vec![GbContent {
                        from_component_branch: None,
                        branch_content: user_blocks(rng, question),
                    }],
                }
            } else {
                let answer = line(rng, answers);
                let feedback = match rng.random_range(0..100) {
                    0..=14 => Some("POSITIVE"),
                    15..=19 => Some("NEGATIVE"),
                    _ => None,
                };
                GbMessage {
                    message_id,
                    parent_message_id,
                    create_time,
                    feedback,
                    role: "assistant",
                    content: assistant_content(rng, answer),
                }
            };
            messages.push(message);
        }
        messages
    }

    /// Ground truth of every conversation, oldest first (see `Sandbox::records`).
    pub(crate) fn records(&self) -> Vec<RecordSummary> {
        self.conversations
            .iter()
            .rev()
            .map(|c| RecordSummary {
                native_id: c.conversation_id.clone(),
                customer_id: Some(c.user_id().to_owned()),
                agent_id: None,
                sort_time: DateTime::from_timestamp_millis(c.recent_chat_time),
            })
            .collect()
    }
}

const GB_USERS: [&str; 9] = [
    "3",
    "88001234",
    "33",
    "1024",
    "u-7731",
    "u-8842",
    "cust_2291",
    "cust_5120",
    "vip_0007",
];

/// Conversation types in the data with their weights.
const GB_TYPES: [(&str, u32); 8] = [
    ("API", 40),
    ("EMBED", 15),
    ("WIDGET", 15),
    ("WHATSAPP_META", 10),
    ("SHARE", 5),
    ("DINGTALK", 5),
    ("TELEGRAM", 5),
    ("SLACK", 5),
];

pub(crate) fn gptbots(config: &SandboxConfig, window: &Window, n: u32) -> GptbotsData {
    let keys = Keys::new(config.seed, 0x6770_7462);
    let bot_id = hex_id(&mut keys.stream(0, Purpose::Vendor), 12);
    let mut conversations = Vec::with_capacity(n as usize);
    let mut previous: Option<i64> = None;
    for index in 0..n {
        let rng = &mut keys.stream(index, Purpose::Head);
        let recent = match previous {
            Some(t) if index % 40 == 5 => t,
            _ => window.instant_ms(rng),
        };
        previous = Some(recent);
        let conversation_type = weighted(rng, &GB_TYPES);
        let anonymous =
            (conversation_type != "API" && rng.random_bool(0.6)).then(|| rng.next_u64());
        let user = small_index(rng, GB_USERS.len());
        let english = rng.random_bool(0.5);
        let message_count = message_count(rng, index) as u16;
        let question = small_index(
            rng,
            if english {
                EN_QUESTIONS.len()
            } else {
                ZH_QUESTIONS.len()
            },
        );
        let assistant_turns = f64::from(message_count / 2);
        let cost_credit = round2(assistant_turns * rng.random_range(0.004..0.06));
        let conversation_id = if index % 2 == 0 {
            hex_id(rng, 12)
        } else {
            base62_id(rng, 20)
        };
        conversations.push(GbHead {
            index,
            conversation_id,
            recent_chat_time: recent,
            conversation_type,
            user,
            anonymous,
            english,
            message_count,
            question,
            cost_credit,
        });
    }
    conversations.sort_by(|a, b| {
        b.recent_chat_time
            .cmp(&a.recent_chat_time)
            .then_with(|| a.conversation_id.cmp(&b.conversation_id))
    });
    GptbotsData {
        keys,
        bot_id,
        by_id: conversations
            .iter()
            .enumerate()
            .map(|(at, c)| (c.conversation_id.clone(), at as u32))
            .collect(),
        conversations,
    }
}

fn text_block(text: &'static str) -> GbBlock {
    GbBlock {
        kind: "text",
        text: Some(text),
        ..GbBlock::default()
    }
}

fn gb_file(rng: &mut Stream, stem: &str, format: &'static str) -> GbFile {
    let key = hex_id(rng, 8);
    GbFile {
        url: format!("https://files.gptbots.ai/attachments/{key}.{format}"),
        format,
        name: format!("{stem}.{format}"),
        size: rng.random_range(2_048..8_000_000),
        transcript: None,
    }
}

/// A media block: `files` go under the field named like `kind`.
fn media_block(kind: &'static str, files: Vec<GbFile>) -> GbBlock {
    let mut block = GbBlock {
        kind,
        ..GbBlock::default()
    };
    let slot = match kind {
        "image" => &mut block.image,
        "audio" => &mut block.audio,
        "document" => &mut block.document,
        "video" => &mut block.video,
        _ => &mut block.file,
    };
    *slot = Some(files);
    block
}

fn user_blocks(rng: &mut Stream, question: &'static str) -> Vec<GbBlock> {
    let attachment = match rng.random_range(0..100) {
        0..=5 => {
            let mut voice = gb_file(rng, "voice-message", "mp3");
            voice.transcript = Some(question);
            return vec![media_block("audio", vec![voice])];
        }
        6..=11 => {
            let files = vec![
                gb_file(rng, "screenshot", "png"),
                gb_file(rng, "receipt", "jpeg"),
            ];
            Some(media_block("image", files))
        }
        12..=15 => Some(media_block(
            "document",
            vec![gb_file(rng, "contract-draft", "pdf")],
        )),
        16..=18 => Some(media_block(
            "video",
            vec![gb_file(rng, "screen-recording", "mp4")],
        )),
        19..=21 => Some(media_block("file", vec![gb_file(rng, "export", "csv")])),
        _ => None,
    };
    std::iter::once(text_block(question))
        .chain(attachment)
        .collect()
}

fn assistant_content(rng: &mut Stream, answer: &'static str) -> Vec<GbContent> {
    let roll = rng.random_range(0..100);
    let mut blocks = vec![text_block(answer)];
    if roll < 5 {
        blocks.push(media_block("image", vec![gb_file(rng, "chart", "png")]));
    } else if roll < 8 {
        blocks.push(media_block("file", vec![gb_file(rng, "quotation", "xlsx")]));
    }
    if roll >= 90 {
        // A FlowAgent answer: each component branch speaks separately.
        return vec![
            GbContent {
                from_component_branch: Some("1"),
                branch_content: blocks,
            },
            GbContent {
                from_component_branch: Some("2"),
                branch_content: vec![text_block(line(rng, FOLLOW_UPS))],
            },
        ];
    }
    vec![GbContent {
        from_component_branch: Some(""),
        branch_content: blocks,
    }]
}
