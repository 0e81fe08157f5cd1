//! Deterministic dataset behind the simulators: every record of every vendor, generated once.
//! Records are stored in their vendor's wire shape; hidden fields (`#[serde(skip)]`) drive filters.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::{RecordSummary, SandboxConfig, SimVendor};

/// Every vendor's records.
pub(super) struct Dataset {
    pub(super) megaview: MegaviewData,
    pub(super) gptbots: GptbotsData,
    pub(super) udesk: UdeskData,
    pub(super) jijyun: JijyunData,
}

impl Dataset {
    pub(super) fn generate(config: &SandboxConfig) -> Self {
        let window = Window::new(config);
        let rng =
            |salt: u64| StdRng::seed_from_u64(config.seed.wrapping_mul(0x100_0000_01b3) ^ salt);
        Self {
            megaview: megaview(config, &window, &mut rng(0x6d65_6761)),
            gptbots: gptbots(config, &window, &mut rng(0x6770_7462)),
            udesk: udesk(config, &window, &mut rng(0x7564_6573)),
            jijyun: jijyun(config, &window, &mut rng(0x6a69_6a79)),
        }
    }

    pub(super) fn records(&self, vendor: SimVendor) -> Vec<RecordSummary> {
        match vendor {
            SimVendor::Megaview => self
                .megaview
                .conversations
                .iter()
                .map(|c| RecordSummary {
                    native_id: c.id.to_string(),
                    customer_id: Some(c.deal_id.clone()),
                    agent_id: Some(c.open_user_id.clone()),
                    sort_time: Some(c.begin_at),
                })
                .collect(),
            SimVendor::Gptbots => self
                .gptbots
                .conversations
                .iter()
                .rev()
                .map(|c| RecordSummary {
                    native_id: c.conversation_id.clone(),
                    customer_id: Some(c.user_id.clone()),
                    agent_id: None,
                    sort_time: DateTime::from_timestamp_millis(c.recent_chat_time),
                })
                .collect(),
            SimVendor::Udesk => self
                .udesk
                .sessions
                .iter()
                .map(|s| RecordSummary {
                    native_id: s.id.to_string(),
                    customer_id: s.customer.as_ref().map(|c| c.id.to_string()),
                    agent_id: None,
                    sort_time: Some(s.start_at),
                })
                .collect(),
            SimVendor::Jijyun => self
                .jijyun
                .chats
                .iter()
                .map(|c| RecordSummary {
                    native_id: c.chat_id.clone(),
                    customer_id: Some(c.customer_id.clone()),
                    agent_id: None,
                    sort_time: None,
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Megaview

/// Megaview's conversations, sorted by (`begin_time`, `id`) ascending.
pub(super) struct MegaviewData {
    pub(super) conversations: Vec<MvConversation>,
    pub(super) by_id: HashMap<i64, usize>,
    pub(super) by_origin: HashMap<String, usize>,
    pub(super) deal_ids: HashSet<i64>,
    pub(super) user_ids: HashSet<String>,
}

/// One item of `conversations/list`, exactly the documented fields.
#[derive(Debug, Serialize)]
pub(super) struct MvConversation {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) begin_time: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) duration: u32,
    pub(super) word_count: u32,
    pub(super) salesman_percent: f64,
    pub(super) deal_id: String,
    pub(super) open_user_id: String,
    pub(super) customer_sentence_count: u32,
    pub(super) salesman_sentence_count: u32,
    pub(super) account_id: i64,
    pub(super) origin_conversation_id: String,
    #[serde(skip)]
    pub(super) begin_at: DateTime<Utc>,
    #[serde(skip)]
    pub(super) deal: i64,
    /// `false`: the transcript is still being produced (`501200`).
    #[serde(skip)]
    pub(super) asr_ready: bool,
    #[serde(skip)]
    pub(super) sentences: Vec<MvSentence>,
}

/// One sentence of an ASR file.
#[derive(Debug, Serialize)]
pub(super) struct MvSentence {
    pub(super) entity_id: i64,
    pub(super) name: String,
    pub(super) entity_type: &'static str,
    pub(super) content: String,
    pub(super) begin_time: f64,
    pub(super) end_time: f64,
    pub(super) begin_percent: f64,
    pub(super) end_percent: f64,
    pub(super) channel: i64,
    pub(super) order: u32,
}

/// A CRM customer id every simulated vendor knows (synced across systems), so one
/// `customer_id` filter finds conversations from all four.
pub const SHARED_CUSTOMER_ID: i64 = 88_001_234;

const MV_SALESMEN: [(&str, &str, i64); 6] = [
    ("101aaa", "王磊", 50_101),
    ("aa102", "Emily Chen", 50_102),
    ("c3d103", "李静", 50_103),
    ("104eef", "Jason Liu", 50_104),
    ("g5h105", "赵敏", 50_105),
    ("106ijk", "陈晨", 50_106),
];

/// (deal id, company, contact, English-speaking)
const MV_DEALS: [(i64, &str, &str, bool); 13] = [
    (1012, "上海云启科技有限公司", "刘经理", false),
    (SHARED_CUSTOMER_ID, "苏州远航贸易", "钱总", false),
    (103, "Northwind Traders", "Mr. Smith", true),
    (2087, "杭州数帆信息技术", "周总", false),
    (3310, "Acme Robotics", "Ms. Garcia", true),
    (4121, "北京星河教育", "孙老师", false),
    (5005, "Globex Logistics", "Mr. Tanaka", true),
    (6230, "深圳智造电子", "吴主管", false),
    (7342, "Initech Software", "Ms. Novak", true),
    (8801, "广州优选零售", "郑女士", false),
    (9120, "Umbrella Health", "Dr. Patel", true),
    (10456, "成都天府文旅", "冯先生", false),
    (11873, "Stark Energy", "Ms. Kim", true),
];

fn megaview(config: &SandboxConfig, window: &Window, rng: &mut StdRng) -> MegaviewData {
    let tz = config.timezone;
    let mut drafts: Vec<(DateTime<Utc>, MvConversation)> = Vec::new();
    let mut previous: Option<DateTime<Utc>> = None;
    for i in 0..config.conversations_per_vendor {
        let begin_at = match previous {
            Some(t) if i % 40 == 5 => t,
            _ => window.instant(rng, TimeDelta::hours(8)),
        };
        previous = Some(begin_at);
        let (open_user_id, salesman_name, salesman_entity) = *pick(rng, &MV_SALESMEN);
        let deal_index = rng.random_range(0..MV_DEALS.len());
        let (deal_id, company, contact, english) = MV_DEALS[deal_index];
        let kind = match rng.random_range(0..100) {
            0..=54 => "audio",
            55..=74 => "video",
            _ => "doc",
        };
        let count = message_count(rng, i);
        let (sales_lines, customer_lines) = if english {
            (EN_SALES, EN_PROSPECT)
        } else {
            (ZH_SALES, ZH_PROSPECT)
        };

        let mut speakers = Vec::with_capacity(count);
        let mut salesman_speaks = true;
        for k in 0..count {
            if k > 0 && rng.random_bool(0.75) {
                salesman_speaks = !salesman_speaks;
            }
            speakers.push(salesman_speaks);
        }
        let contents: Vec<String> = speakers
            .iter()
            .map(|&s| pick(rng, if s { sales_lines } else { customer_lines }).to_string())
            .collect();

        let mut sentences = Vec::with_capacity(count);
        let duration;
        let word_count;
        let salesman_percent;
        let customer_entity = 80_000 + deal_index as i64;
        let person = |salesman: bool| {
            if salesman {
                (
                    salesman_entity,
                    salesman_name.to_owned(),
                    "host_salesman",
                    0,
                )
            } else {
                (customer_entity, contact.to_owned(), "customer_contact", 1)
            }
        };
        if kind == "doc" {
            let mut at = begin_at.timestamp_millis() as f64 / 1000.0;
            let total_chars: usize = contents.iter().map(|c| c.chars().count()).sum();
            let salesman_chars: usize = contents
                .iter()
                .zip(&speakers)
                .filter(|(_, s)| **s)
                .map(|(c, _)| c.chars().count())
                .sum();
            for (k, (content, &salesman)) in contents.iter().zip(&speakers).enumerate() {
                if k > 0 {
                    at += f64::from(rng.random_range(3_000..120_000)) / 1000.0;
                }
                let (entity_id, name, entity_type, _) = person(salesman);
                sentences.push(MvSentence {
                    entity_id,
                    name,
                    entity_type,
                    content: content.clone(),
                    begin_time: round3(at),
                    end_time: round3(at),
                    begin_percent: round2(k as f64 * 100.0 / count as f64),
                    end_percent: round2((k + 1) as f64 * 100.0 / count as f64),
                    channel: 0,
                    order: k as u32,
                });
            }
            duration = 0;
            word_count = total_chars as u32;
            salesman_percent = round2(salesman_chars as f64 * 100.0 / total_chars.max(1) as f64);
        } else {
            let mut at = f64::from(rng.random_range(0..4_000)) / 1000.0;
            let mut spans = Vec::with_capacity(count);
            for content in &contents {
                let length = content.chars().count() as f64;
                let spoken = round2(1.2 + length * rng.random_range(0.18..0.32));
                spans.push((round2(at), round2(at + spoken)));
                at += spoken + f64::from(rng.random_range(150..2_500)) / 1000.0;
            }
            let total = at.ceil().max(1.0);
            let salesman_time: f64 = spans
                .iter()
                .zip(&speakers)
                .filter(|(_, s)| **s)
                .map(|((b, e), _)| e - b)
                .sum();
            let spoken_time: f64 = spans.iter().map(|(b, e)| e - b).sum();
            for (k, ((begin, end), (content, &salesman))) in
                spans.iter().zip(contents.iter().zip(&speakers)).enumerate()
            {
                let (entity_id, name, entity_type, channel) = person(salesman);
                sentences.push(MvSentence {
                    entity_id,
                    name,
                    entity_type,
                    content: content.clone(),
                    begin_time: *begin,
                    end_time: *end,
                    begin_percent: round2(begin * 100.0 / total),
                    end_percent: round2(end * 100.0 / total),
                    channel,
                    order: k as u32,
                });
            }
            duration = total as u32;
            word_count = 0;
            salesman_percent = round2(salesman_time * 100.0 / spoken_time.max(0.01));
        }
        let salesman_sentence_count = speakers.iter().filter(|s| **s).count() as u32;
        let name = match (kind, english) {
            ("audio", false) => format!("{company} - 电话沟通"),
            ("video", false) => format!("{company} 产品演示会议"),
            ("doc", false) => format!("企业微信会话 - {contact}"),
            ("audio", true) => format!("Discovery call with {company}"),
            ("video", true) => format!("{company} product demo"),
            _ => format!("WeCom chat with {contact}"),
        };
        let origin_conversation_id = format!("fscd-{}", uuid_from(rng));
        drafts.push((
            begin_at,
            MvConversation {
                id: 0,
                name,
                begin_time: naive(tz, begin_at, "%Y-%m-%dT%H:%M:%S"),
                kind,
                duration,
                word_count,
                salesman_percent,
                deal_id: deal_id.to_string(),
                open_user_id: open_user_id.to_owned(),
                customer_sentence_count: count as u32 - salesman_sentence_count,
                salesman_sentence_count,
                account_id: 112 + deal_index as i64 * 17,
                origin_conversation_id,
                begin_at,
                deal: deal_id,
                asr_ready: i % 30 != 11,
                sentences,
            },
        ));
    }
    drafts.sort_by_key(|(at, _)| *at);
    let mut id = 55_000_i64;
    let conversations: Vec<MvConversation> = drafts
        .into_iter()
        .map(|(_, mut c)| {
            id += rng.random_range(1..=37);
            c.id = id;
            c
        })
        .collect();
    MegaviewData {
        by_id: conversations
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect(),
        by_origin: conversations
            .iter()
            .enumerate()
            .map(|(i, c)| (c.origin_conversation_id.clone(), i))
            .collect(),
        deal_ids: MV_DEALS.iter().map(|d| d.0).collect(),
        user_ids: MV_SALESMEN.iter().map(|s| s.0.to_owned()).collect(),
        conversations,
    }
}

// ---------------------------------------------------------------------------------------------
// GPTBots

/// GPTBots conversations, sorted by `recent_chat_time` descending, ties by `conversation_id`.
pub(super) struct GptbotsData {
    pub(super) conversations: Vec<GbConversation>,
    pub(super) by_id: HashMap<String, usize>,
}

/// One item of `/v1/bot/conversation/page`.
#[derive(Debug, Serialize)]
pub(super) struct GbConversation {
    pub(super) conversation_id: String,
    pub(super) user_id: String,
    pub(super) recent_chat_time: i64,
    pub(super) subject: String,
    pub(super) conversation_type: &'static str,
    pub(super) message_count: usize,
    pub(super) cost_credit: f64,
    pub(super) bot_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) anonymous_id: Option<String>,
    #[serde(skip)]
    pub(super) messages: Vec<GbMessage>,
}

/// One item of `/v2/messages` `conversation_content`.
#[derive(Debug, Serialize)]
pub(super) struct GbMessage {
    pub(super) message_id: String,
    pub(super) parent_message_id: String,
    pub(super) create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) feedback: Option<&'static str>,
    pub(super) role: &'static str,
    pub(super) content: Vec<GbContent>,
}

/// One branch of a message's content.
#[derive(Debug, Serialize)]
pub(super) struct GbContent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) from_component_branch: Option<String>,
    pub(super) branch_content: Vec<GbBlock>,
}

/// A typed block: `text` carries `text`, the others an array under the field named like the type.
#[derive(Debug, Default, Serialize)]
pub(super) struct GbBlock {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) image: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) audio: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) document: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) video: Option<Vec<GbFile>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) file: Option<Vec<GbFile>>,
}

/// An attachment of a media block.
#[derive(Debug, Serialize)]
pub(super) struct GbFile {
    pub(super) url: String,
    pub(super) format: &'static str,
    pub(super) name: String,
    pub(super) size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) transcript: Option<String>,
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

fn gptbots(config: &SandboxConfig, window: &Window, rng: &mut StdRng) -> GptbotsData {
    let bot_id = hex_id(rng, 12);
    let mut conversations = Vec::new();
    let mut previous: Option<i64> = None;
    for i in 0..config.conversations_per_vendor {
        let recent = match previous {
            Some(t) if i % 40 == 5 => t,
            _ => window.instant_ms(rng),
        };
        previous = Some(recent);
        let conversation_type = weighted(rng, &GB_TYPES);
        let anonymous_id = (conversation_type != "API" && rng.random_bool(0.6))
            .then(|| format!("anon_{}", hex_id(rng, 8)));
        let user_id = pick(rng, &GB_USERS).to_string();
        let english = rng.random_bool(0.5);
        let count = message_count(rng, i);

        let mut gaps = vec![0_i64; count];
        for gap in gaps.iter_mut().skip(1) {
            *gap = rng.random_range(1_500..240_000);
        }
        let mut times = vec![recent; count];
        for k in (0..count.saturating_sub(1)).rev() {
            times[k] = times[k + 1] - gaps[k + 1];
        }

        let mut messages: Vec<GbMessage> = Vec::with_capacity(count);
        let mut assistant_turns = 0_u32;
        for (k, create_time) in times.iter().copied().enumerate() {
            let message_id = hex_id(rng, 12);
            let parent_message_id = messages
                .last()
                .map(|m| m.message_id.clone())
                .unwrap_or_default();
            let message = if k % 2 == 0 {
                let question = pick(rng, if english { EN_QUESTIONS } else { ZH_QUESTIONS });
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
                assistant_turns += 1;
                let answer = pick(rng, if english { EN_ANSWERS } else { ZH_ANSWERS });
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
        let subject = messages
            .first()
            .and_then(|m| m.content.first())
            .and_then(|c| {
                c.branch_content.iter().find_map(|b| {
                    b.text
                        .clone()
                        .or_else(|| b.audio.as_ref()?.first()?.transcript.clone())
                })
            })
            .map(|text| text.chars().take(40).collect())
            .unwrap_or_default();
        let conversation_id = if i % 2 == 0 {
            hex_id(rng, 12)
        } else {
            base62_id(rng, 20)
        };
        conversations.push(GbConversation {
            conversation_id,
            user_id,
            recent_chat_time: recent,
            subject,
            conversation_type,
            message_count: messages.len(),
            cost_credit: round2(f64::from(assistant_turns) * rng.random_range(0.004..0.06)),
            bot_id: bot_id.clone(),
            anonymous_id,
            messages,
        });
    }
    conversations.sort_by(|a, b| {
        b.recent_chat_time
            .cmp(&a.recent_chat_time)
            .then_with(|| a.conversation_id.cmp(&b.conversation_id))
    });
    GptbotsData {
        by_id: conversations
            .iter()
            .enumerate()
            .map(|(i, c)| (c.conversation_id.clone(), i))
            .collect(),
        conversations,
    }
}

fn text_block(text: &str) -> GbBlock {
    GbBlock {
        kind: "text",
        text: Some(text.to_owned()),
        ..GbBlock::default()
    }
}

fn gb_file(rng: &mut StdRng, stem: &str, format: &'static str) -> GbFile {
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

fn user_blocks(rng: &mut StdRng, question: &str) -> Vec<GbBlock> {
    let attachment = match rng.random_range(0..100) {
        0..=5 => {
            let mut voice = gb_file(rng, "voice-message", "mp3");
            voice.transcript = Some(question.to_owned());
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

fn assistant_content(rng: &mut StdRng, answer: &str) -> Vec<GbContent> {
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
                from_component_branch: Some("1".to_owned()),
                branch_content: blocks,
            },
            GbContent {
                from_component_branch: Some("2".to_owned()),
                branch_content: vec![text_block(line(rng, FOLLOW_UPS))],
            },
        ];
    }
    vec![GbContent {
        from_component_branch: Some(String::new()),
        branch_content: blocks,
    }]
}

// ---------------------------------------------------------------------------------------------
// Udesk

/// Udesk sessions, sorted by (`startTime`, `id`) ascending.
pub(super) struct UdeskData {
    pub(super) sessions: Vec<UdSession>,
    pub(super) by_id: HashMap<i64, usize>,
}

/// One item of `POST /api/v1/sessions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdSession {
    pub(super) id: i64,
    pub(super) robot_id: i64,
    pub(super) start_time: String,
    pub(super) end_time: String,
    pub(super) total_count: u32,
    pub(super) ip_location: Option<String>,
    pub(super) customer_msg_count: u32,
    pub(super) robot_msg_count: u32,
    pub(super) robot_replied_count: u32,
    pub(super) unknown_question_count: u32,
    pub(super) useful_response_count: u32,
    pub(super) useless_response_count: u32,
    pub(super) survey_option: u32,
    pub(super) survey_comment: Option<String>,
    pub(super) is_switch_staff: u32,
    pub(super) app_name: String,
    pub(super) channel_id: i64,
    pub(super) channel_name: Option<String>,
    pub(super) customer: Option<UdCustomer>,
    pub(super) call_id: Option<String>,
    pub(super) dialogue_desc: Option<String>,
    pub(super) direct_response_count: u32,
    pub(super) suggest_question_count: u32,
    pub(super) un_suggest_question_count: u32,
    #[serde(skip)]
    pub(super) start_at: DateTime<Utc>,
    #[serde(skip)]
    pub(super) logs: Vec<UdLog>,
    /// Lower-cased message text: every message, robot, customer, human agent.
    #[serde(skip)]
    pub(super) texts: [String; 4],
}

/// The `customer` object of a session.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdCustomer {
    pub(super) id: i64,
    pub(super) nickname: String,
    pub(super) ip: String,
    pub(super) province: String,
    pub(super) city: String,
    pub(super) level: String,
    pub(super) platform: String,
    pub(super) src: String,
    pub(super) src_url: String,
    pub(super) web_plugin_name: String,
    pub(super) org_name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) tags: Option<String>,
    pub(super) desc: Option<String>,
    pub(super) generated_channel: Option<String>,
    pub(super) login_url: Option<String>,
    pub(super) session_url: String,
    pub(super) dialogue_desc: Option<String>,
    /// The id the tenant's own system uses (`keywordsSource` 5): `ext-{id}`.
    #[serde(skip)]
    pub(super) external_id: String,
}

/// One item of `GET /api/v1/sessions/{id}/logs`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdLog {
    pub(super) id: i64,
    pub(super) user_type: i32,
    pub(super) content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content_type: Option<i32>,
    pub(super) session_id: i64,
    pub(super) create_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) survey_option_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) query_result: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) source: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) question_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) answer_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) leading_word: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) question_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) session_log_suggest_found_response_list: Option<Vec<UdSuggestion>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) recommendation_guidance: Option<String>,
    pub(super) tags: Vec<String>,
    pub(super) extra_answer_content: Vec<UdExtraAnswer>,
    pub(super) robot_id: i64,
    pub(super) create_user_id: i64,
    pub(super) log_type: i32,
}

/// A suggested question under a robot answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdSuggestion {
    pub(super) id: i64,
    pub(super) log_id: i64,
    pub(super) question_id: i64,
    pub(super) question_content: String,
    pub(super) answer_content: Option<String>,
    pub(super) hit_flag: i32,
}

/// An extra bubble sent after a robot answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdExtraAnswer {
    pub(super) log_id: String,
    pub(super) ans_content: serde_json::Value,
    pub(super) msg_type: &'static str,
    pub(super) tags: Vec<String>,
    pub(super) ans_type: i32,
    pub(super) delay_millis: i64,
    pub(super) km_delay_millis: i64,
    pub(super) create_time: String,
}

/// (nickname, province, city, platform, level)
const UD_CUSTOMERS: [(&str, &str, &str, &str, &str); 10] = [
    ("访客8812", "北京", "北京", "web", "normal"),
    ("王女士", "上海", "上海", "微信", "vip"),
    ("Tom Baker", "广东", "深圳", "web", "normal"),
    ("李先生", "浙江", "杭州", "android", "normal"),
    ("小雨", "四川", "成都", "ios", "normal"),
    ("Anna Schmidt", "江苏", "南京", "api", "vip"),
    ("张工", "湖北", "武汉", "企业微信", "normal"),
    ("访客2290", "福建", "厦门", "web", "normal"),
    ("陈老板", "山东", "青岛", "微信小程序", "vip"),
    ("Maria Lopez", "天津", "天津", "web", "normal"),
];

const UD_CHANNELS: [(i64, Option<&str>, &str); 4] = [
    (82, None, "官网客服"),
    (91, Some("售后服务"), "售后机器人"),
    (104, Some("Global support"), "Support bot"),
    (117, Some("微信公众号"), "公众号助手"),
];

fn udesk(config: &SandboxConfig, window: &Window, rng: &mut StdRng) -> UdeskData {
    let tz = config.timezone;
    let robot_id = config.credentials.udesk_robot_id;
    let mut next_customer = 1_415_457_662_i64;
    let customers: Vec<UdCustomer> = UD_CUSTOMERS
        .iter()
        .map(|&(nickname, province, city, platform, level)| {
            next_customer += rng.random_range(1_000..900_000);
            let id = next_customer;
            let ip = format!(
                "{}.{}.{}.{}",
                rng.random_range(36..223),
                rng.random_range(0..255),
                rng.random_range(0..255),
                rng.random_range(1..254)
            );
            let known = level == "vip";
            UdCustomer {
                id,
                nickname: nickname.to_owned(),
                ip,
                province: province.to_owned(),
                city: city.to_owned(),
                level: level.to_owned(),
                platform: platform.to_owned(),
                src: if platform == "web" {
                    "官网".to_owned()
                } else {
                    String::new()
                },
                src_url: if platform == "web" {
                    "https://www.example.com/pricing".to_owned()
                } else {
                    String::new()
                },
                web_plugin_name: if platform == "web" {
                    "官网插件".to_owned()
                } else {
                    String::new()
                },
                org_name: known.then(|| "示例贸易有限公司".to_owned()),
                email: known.then(|| format!("customer{}@example.com", id % 10_000)),
                phone: known.then(|| format!("138{:08}", id % 100_000_000)),
                tags: known.then(|| "重点客户".to_owned()),
                desc: None,
                generated_channel: None,
                login_url: None,
                session_url: if platform == "web" {
                    "https://www.example.com/help".to_owned()
                } else {
                    String::new()
                },
                dialogue_desc: None,
                external_id: format!("ext-{id}"),
            }
        })
        .collect();
    let mut customers = customers;
    if let Some(first) = customers.first_mut() {
        first.id = SHARED_CUSTOMER_ID;
        first.external_id = format!("ext-{SHARED_CUSTOMER_ID}");
    }

    let mut drafts: Vec<UdSession> = Vec::new();
    let mut previous: Option<DateTime<Utc>> = None;
    for i in 0..config.conversations_per_vendor {
        let start_at = match previous {
            Some(t) if i % 40 == 5 => t,
            _ => window.instant(rng, TimeDelta::hours(8)),
        };
        previous = Some(start_at);
        let customer = (!rng.random_bool(0.12)).then(|| pick(rng, &customers).clone());
        let switched = rng.random_bool(0.15);
        let english =
            customer.as_ref().is_some_and(|c| c.nickname.is_ascii()) || rng.random_bool(0.1);
        let total = message_count(rng, i).max(if switched { 4 } else { 1 });
        let (channel_id, channel_name, app_name) = *pick(rng, &UD_CHANNELS);
        let logs = udesk_logs(rng, tz, robot_id, start_at, total, switched, english);
        let count =
            |user_type: i32| logs.iter().filter(|l| l.user_type == user_type).count() as u32;
        let answers: Vec<&UdLog> = logs.iter().filter(|l| l.log_type == 2).collect();
        let count_answers =
            |f: &dyn Fn(&UdLog) -> bool| answers.iter().filter(|l| f(l)).count() as u32;
        let text_of = |filter: &dyn Fn(&UdLog) -> bool| {
            logs.iter()
                .filter(|l| filter(l))
                .map(|l| l.content.to_lowercase())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let texts = [
            text_of(&|_| true),
            text_of(&|l| l.user_type == 1),
            text_of(&|l| l.user_type == 2),
            text_of(&|l| l.user_type != 1 && l.user_type != 2),
        ];
        let end_time = logs
            .last()
            .map(|l| l.create_time.clone())
            .unwrap_or_else(|| naive(tz, start_at, "%Y-%m-%d %H:%M:%S"));
        let survey_option = rng.random_range(1..=4);
        drafts.push(UdSession {
            id: 0,
            robot_id,
            start_time: naive(tz, start_at, "%Y-%m-%d %H:%M:%S"),
            end_time,
            total_count: logs.len() as u32,
            ip_location: customer
                .as_ref()
                .filter(|_| rng.random_bool(0.5))
                .map(|c| format!("{}{}", c.province, c.city)),
            customer_msg_count: count(2),
            robot_msg_count: count(1),
            robot_replied_count: count_answers(&|l| matches!(l.query_result, Some(1 | 2 | 10))),
            unknown_question_count: count_answers(&|l| l.query_result == Some(6)),
            useful_response_count: count_answers(&|l| l.survey_option_id == Some(1)),
            useless_response_count: count_answers(&|l| l.survey_option_id == Some(2)),
            survey_option,
            survey_comment: (survey_option == 4).then(|| "答案不准确".to_owned()),
            is_switch_staff: u32::from(switched),
            app_name: app_name.to_owned(),
            channel_id,
            channel_name: channel_name.map(str::to_owned),
            customer,
            call_id: None,
            dialogue_desc: rng.random_bool(0.2).then(|| "咨询产品与售后".to_owned()),
            direct_response_count: count_answers(&|l| l.query_result == Some(1)),
            suggest_question_count: count_answers(&|l| l.query_result == Some(7)),
            un_suggest_question_count: count_answers(&|l| l.query_result == Some(3)),
            start_at,
            logs,
            texts,
        });
    }
    drafts.sort_by_key(|s| s.start_at);

    // Ids straddle 2^31 so 32-bit readers break on real-looking data.
    let n = drafts.len() as i64;
    let mut session_id = (1_i64 << 31) - (n / 2) * 10;
    let total_logs: i64 = drafts.iter().map(|s| s.logs.len() as i64).sum();
    let mut log_id = (1_i64 << 31) - (total_logs / 3) * 3;
    let mut suggestion_id = 647_194_600_i64;
    for session in &mut drafts {
        session_id += rng.random_range(1..=19);
        session.id = session_id;
        for log in &mut session.logs {
            log_id += rng.random_range(1..=5);
            log.id = log_id;
            log.session_id = session_id;
            if let Some(list) = &mut log.session_log_suggest_found_response_list {
                for suggestion in list {
                    suggestion_id += 1;
                    suggestion.id = suggestion_id;
                    suggestion.log_id = log_id;
                }
            }
            for (n, extra) in log.extra_answer_content.iter_mut().enumerate() {
                extra.log_id = format!("{log_id}_{}", n + 1);
            }
        }
    }
    UdeskData {
        by_id: drafts.iter().enumerate().map(|(i, s)| (s.id, i)).collect(),
        sessions: drafts,
    }
}

fn udesk_logs(
    rng: &mut StdRng,
    tz: Tz,
    robot_id: i64,
    start_at: DateTime<Utc>,
    total: usize,
    switched: bool,
    english: bool,
) -> Vec<UdLog> {
    let create_user_id = 4271;
    let mut at = start_at;
    let mut logs: Vec<UdLog> = Vec::with_capacity(total);
    let switch_at = if switched {
        (total * 2 / 5).max(2)
    } else {
        usize::MAX
    };
    let agent_user_type = 3;
    let base = |content: String, user_type: i32, log_type: i32, at: DateTime<Utc>| UdLog {
        id: 0,
        user_type,
        content,
        content_type: None,
        session_id: 0,
        create_time: naive(tz, at, "%Y-%m-%d %H:%M:%S"),
        survey_option_id: None,
        query_result: None,
        source: None,
        question_content: None,
        answer_content: None,
        leading_word: None,
        question_id: None,
        session_log_suggest_found_response_list: None,
        recommendation_guidance: None,
        tags: Vec::new(),
        extra_answer_content: Vec::new(),
        robot_id,
        create_user_id,
        log_type,
    };
    let (questions, answers) = if english {
        (EN_SUPPORT_QUESTIONS, EN_SUPPORT_ANSWERS)
    } else {
        (ZH_SUPPORT_QUESTIONS, ZH_SUPPORT_ANSWERS)
    };
    let mut last_question = String::new();
    for k in 0..total {
        if k > 0 {
            at += TimeDelta::seconds(rng.random_range(1..=90));
        }
        let log = if k == 0 {
            let mut welcome = base(
                if english {
                    "Hi, I'm the virtual assistant. How can I help you today?".to_owned()
                } else {
                    "您好，智能客服小U很高兴为您服务！".to_owned()
                },
                1,
                1,
                at,
            );
            welcome.leading_word = Some(
                if english {
                    "You may ask"
                } else {
                    "猜你想问"
                }
                .to_owned(),
            );
            welcome.tags = vec!["常驻入口转人工".to_owned()];
            welcome
        } else if k == switch_at {
            let mut handoff = base(
                if english {
                    "Transferring you to a human agent, please wait.".to_owned()
                } else {
                    "正在为您转接人工客服，请稍候。".to_owned()
                },
                1,
                3,
                at,
            );
            handoff.content_type = Some(1);
            handoff
        } else if k > switch_at {
            if (k - switch_at) % 2 == 1 {
                let mut question = base(pick(rng, questions).to_string(), 2, 4, at);
                question.source = Some(1);
                question
            } else {
                let mut reply = base(
                    pick(
                        rng,
                        if english {
                            EN_AGENT_REPLIES
                        } else {
                            ZH_AGENT_REPLIES
                        },
                    )
                    .to_string(),
                    agent_user_type,
                    2,
                    at,
                );
                reply.content_type = Some(1);
                reply
            }
        } else if k % 2 == 1 {
            let roll = rng.random_range(0..100);
            let question = pick(rng, questions).to_string();
            last_question.clone_from(&question);
            let (content, content_type) = match roll {
                0..=5 => (udesk_media(rng, "voice", "amr"), Some(9)),
                6..=10 => (udesk_media(rng, "image", "jpg"), Some(11)),
                11..=12 => (udesk_media(rng, "video", "mp4"), Some(19)),
                13..=15 => ("https://www.example.com/orders/track".to_owned(), Some(10)),
                16..=55 => (question, Some(1)),
                _ => (question, None),
            };
            let mut log = base(content, 2, 4, at);
            log.content_type = content_type;
            log.query_result = Some(1);
            log.source = Some(1);
            log
        } else {
            let roll = rng.random_range(0..100);
            let answer = pick(rng, answers).to_string();
            let (content, content_type) = match roll {
                0..=29 => (format!("<p>{answer}</p><p><br></p>"), Some(2)),
                30..=33 => (udesk_media(rng, "image", "png"), Some(11)),
                34..=35 => (udesk_media(rng, "video", "mp4"), Some(19)),
                36..=39 => (
                    "https://help.example.com/articles/1024".to_owned(),
                    Some(10),
                ),
                _ => (answer.clone(), Some(1)),
            };
            let mut log = base(content, 1, 2, at);
            log.content_type = content_type;
            log.query_result = Some(match rng.random_range(0..100) {
                0..=69 => 1,
                70..=79 => 2,
                80..=87 => 7,
                88..=93 => 3,
                _ => 6,
            });
            log.question_content = Some(last_question.clone());
            log.answer_content = Some(answer);
            log.question_id = Some(rng.random_range(4_000_000..6_000_000));
            log.survey_option_id = match rng.random_range(0..10) {
                0 => Some(1),
                1 => Some(2),
                _ => None,
            };
            if rng.random_bool(0.2) {
                log.session_log_suggest_found_response_list = Some(
                    (0..2)
                        .map(|_| UdSuggestion {
                            id: 0,
                            log_id: 0,
                            question_id: rng.random_range(5_000_000..6_000_000),
                            question_content: pick(rng, questions).to_string(),
                            answer_content: None,
                            hit_flag: 0,
                        })
                        .collect(),
                );
                log.recommendation_guidance = Some(if english {
                    "<p>Hello, would you like to ask about the following questions?</p>".to_owned()
                } else {
                    "<p>您好，您是否想咨询以下问题？</p>".to_owned()
                });
            }
            if rng.random_bool(0.05) {
                log.extra_answer_content = vec![UdExtraAnswer {
                    log_id: String::new(),
                    ans_content: serde_json::json!({ "content": pick(rng, FOLLOW_UPS) }),
                    msg_type: "text",
                    tags: Vec::new(),
                    ans_type: 1,
                    delay_millis: 1000,
                    km_delay_millis: 1000,
                    create_time: naive(tz, at, "%Y-%m-%d %H:%M:%S"),
                }];
            }
            log
        };
        logs.push(log);
    }
    logs
}

fn udesk_media(rng: &mut StdRng, kind: &str, extension: &str) -> String {
    format!(
        "https://km-oss.udesk.cn/{kind}/{}.{extension}",
        hex_id(rng, 10)
    )
}

// ---------------------------------------------------------------------------------------------
// Jijyun

/// Jijyun chats, sorted by hidden creation time ascending.
pub(super) struct JijyunData {
    pub(super) chats: Vec<JjChat>,
    pub(super) customers: Vec<String>,
    /// Chat indexes per customer, newest first.
    pub(super) by_customer: HashMap<String, Vec<usize>>,
}

/// One item of `/v1/openapi/chat/record` `Data`.
#[derive(Debug, Serialize)]
pub(super) struct JjChat {
    pub(super) chat_id: String,
    pub(super) messages: Vec<JjMessage>,
    #[serde(skip)]
    pub(super) customer_id: String,
    #[serde(skip)]
    pub(super) created_at: DateTime<Utc>,
    #[serde(skip)]
    pub(super) source: &'static str,
    #[serde(skip)]
    pub(super) robot: &'static str,
    #[serde(skip)]
    pub(super) seat: Option<&'static str>,
}

/// One message of a chat.
#[derive(Debug, Serialize)]
pub(super) struct JjMessage {
    pub(super) content: String,
    pub(super) message_type: &'static str,
    pub(super) sender_type: &'static str,
}

/// Values of the `chat_source` filter.
pub(super) const JJ_SOURCES: [&str; 5] = ["企业微信", "微信公众号", "抖音", "网页", "小红书"];
/// Values of the `chat_robot` filter.
pub(super) const JJ_ROBOTS: [&str; 2] = ["robot-1001", "robot-1002"];
/// Values of the `seat_member` filter.
pub(super) const JJ_SEATS: [&str; 4] = ["seat-2001", "seat-2002", "seat-2003", "seat-2004"];

fn jijyun(config: &SandboxConfig, window: &Window, rng: &mut StdRng) -> JijyunData {
    let customer_count = rng.random_range(8..=12);
    let mut customers: Vec<String> = (0..customer_count).map(|_| hex_id(rng, 16)).collect();
    customers[0] = SHARED_CUSTOMER_ID.to_string();
    let mut chats = Vec::new();
    let mut previous: Option<DateTime<Utc>> = None;
    for i in 0..config.conversations_per_vendor {
        let created_at = match previous {
            Some(t) if i % 40 == 5 => t,
            _ => window.instant(rng, TimeDelta::zero()),
        };
        previous = Some(created_at);
        let customer_id = if i < customers.len() {
            customers[i].clone()
        } else {
            pick(rng, &customers).clone()
        };
        let human = rng.random_bool(0.35);
        let total = message_count(rng, i).max(if human { 5 } else { 1 });
        let ai_count = if human { (total * 2 / 5).max(1) } else { total };
        let mut messages = Vec::with_capacity(total);
        for k in 0..ai_count {
            let (content, sender_type) = if human && k + 1 == ai_count {
                ("好的，正在为您转接人工客服。".to_owned(), "客服")
            } else if human && k + 2 == ai_count {
                ("转人工".to_owned(), "用户")
            } else if k % 2 == 0 {
                (pick(rng, ZH_INBOX_VISITOR).to_string(), "用户")
            } else {
                (pick(rng, ZH_INBOX_AI).to_string(), "客服")
            };
            messages.push(JjMessage {
                content,
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
                (format!("{prefix}: {}", pick(rng, ZH_AGENT_REPLIES)), "客服")
            } else {
                (format!("访客发送: {}", pick(rng, ZH_INBOX_VISITOR)), "用户")
            };
            messages.push(JjMessage {
                content,
                message_type: "人工对话",
                sender_type,
            });
        }
        let chat_id = format!(
            "{}-{}",
            uuid_from(rng),
            rng.random_range(100_000..1_000_000)
        );
        chats.push(JjChat {
            chat_id,
            messages,
            customer_id,
            created_at,
            source: line(rng, &JJ_SOURCES),
            robot: line(rng, &JJ_ROBOTS),
            seat: human.then(|| *pick(rng, &JJ_SEATS)),
        });
    }
    chats.sort_by_key(|c| c.created_at);
    let mut by_customer: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, chat) in chats.iter().enumerate().rev() {
        by_customer
            .entry(chat.customer_id.clone())
            .or_default()
            .push(index);
    }
    JijyunData {
        chats,
        customers,
        by_customer,
    }
}

// ---------------------------------------------------------------------------------------------
// Shared generation helpers

/// The history window `[anchor - history_days, anchor)`.
struct Window {
    start: DateTime<Utc>,
    span_ms: i64,
}

impl Window {
    fn new(config: &SandboxConfig) -> Self {
        // A century is more history than any test needs and keeps the arithmetic in range.
        let span = TimeDelta::days(i64::from(config.history_days.min(36_500)));
        Self {
            start: config.anchor - span,
            span_ms: span.num_milliseconds(),
        }
    }

    /// A whole second in `[start, anchor - margin)`, so records that last up to `margin` still
    /// end before the anchor.
    fn instant(&self, rng: &mut StdRng, margin: TimeDelta) -> DateTime<Utc> {
        let usable_s = ((self.span_ms - margin.num_milliseconds()) / 1000).max(1);
        self.start + TimeDelta::seconds(rng.random_range(0..usable_s))
    }

    /// Milliseconds since the epoch in `[start, anchor)`.
    fn instant_ms(&self, rng: &mut StdRng) -> i64 {
        self.start.timestamp_millis() + rng.random_range(0..self.span_ms.max(1))
    }
}

/// Messages of conversation `index`: mostly short, some long, every 25th over 100.
fn message_count(rng: &mut StdRng, index: usize) -> usize {
    if index % 25 == 3 {
        return rng.random_range(101..=150);
    }
    match rng.random_range(0..100) {
        0..=5 => 1,
        6..=55 => rng.random_range(2..=12),
        _ => rng.random_range(13..=60),
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    // Every pool is a non-empty constant or a non-empty generated list.
    items.choose(rng).unwrap_or(&items[0])
}

fn line(rng: &mut StdRng, items: &[&'static str]) -> &'static str {
    pick::<&'static str>(rng, items)
}

fn weighted(rng: &mut StdRng, items: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    items[0].0
}

fn hex_id(rng: &mut StdRng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

fn base62_id(rng: &mut StdRng, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn uuid_from(rng: &mut StdRng) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn naive(tz: Tz, at: DateTime<Utc>, format: &str) -> String {
    at.with_timezone(&tz).format(format).to_string()
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

// ---------------------------------------------------------------------------------------------
// Text pools

const ZH_SALES: &[&str] = &[
    "您好，我是销售顾问，今天主要想了解一下贵公司目前的业务情况。",
    "我们的方案可以帮您把线索转化率提升百分之二十左右。",
    "您这边现在用的是哪一家的系统？使用下来有哪些痛点？",
    "这个功能在标准版里就有，不需要额外付费。",
    "价格方面我们可以按年付给您申请九折优惠。",
    "我稍后把报价单和案例资料发到您的邮箱。",
    "下周二下午您方便吗？我们可以安排一次线上演示。",
    "数据都存在国内的机房，符合等保三级的要求。",
    "实施周期一般是两到三周，我们会有专门的交付经理跟进。",
    "明白，那我先和技术同事确认一下对接方式再回复您。",
    "好的，合同模板我今天下班前发给法务。",
    "我们很多教育行业的客户也是这样用的。",
];

const ZH_PROSPECT: &[&str] = &[
    "我们主要是做企业培训的，销售团队大概五十人。",
    "现在最大的问题是销售跟进记录很难统一管理。",
    "价格能不能再优惠一点？预算今年比较紧。",
    "你们支持和企业微信打通吗？",
    "这个我需要和老板再商量一下。",
    "数据安全这块我们比较关心，能详细说说吗？",
    "之前用过别家的产品，效果一般。",
    "可以，先发一份报价给我看看。",
    "周二下午三点以后可以。",
    "好的，那就先这样，谢谢。",
    "我们IT部门会问接口文档的事情。",
    "试用期有多长时间？",
];

const EN_SALES: &[&str] = &[
    "Thanks for taking the time today, I'd love to hear how your team handles renewals right now.",
    "Our platform usually cuts the time reps spend on call notes by about half.",
    "Which CRM are you on at the moment?",
    "That integration is included in the standard plan.",
    "If you sign before the end of the quarter I can offer fifteen percent off.",
    "I'll send over the proposal and two case studies this afternoon.",
    "Would Thursday morning work for a deeper technical demo?",
    "All customer data stays in your region and is encrypted at rest.",
    "Onboarding typically takes two weeks with a dedicated success manager.",
    "Let me check with our solutions engineer and get back to you.",
    "Great, I'll loop in our legal team on the order form.",
];

const EN_PROSPECT: &[&str] = &[
    "We have about forty account executives across two regions.",
    "Honestly the biggest pain is that nobody updates the CRM after calls.",
    "Is there any flexibility on pricing? Budget is tight this year.",
    "Do you integrate with Salesforce and Slack?",
    "I'll need to run this by our VP before we commit.",
    "How do you handle data retention and GDPR requests?",
    "We tried a similar tool last year and adoption was poor.",
    "Sure, send me the proposal and I'll take a look.",
    "Thursday after ten works for me.",
    "Sounds good, thanks for your time.",
    "Our security team will want to see your SOC 2 report.",
];

const ZH_QUESTIONS: &[&str] = &[
    "2+3=?",
    "你们的退货政策是什么？",
    "帮我总结一下这份合同的要点",
    "如何重置我的账号密码？",
    "订单 20240518 什么时候发货？",
    "能推荐一款适合小团队的套餐吗？",
    "把这段话翻译成英文：欢迎参加我们的年度大会",
    "发票怎么开？",
    "你们支持哪些支付方式？",
    "帮我写一封跟进客户的邮件",
];

const ZH_ANSWERS: &[&str] = &[
    "2+3=5。",
    "自签收之日起七天内可无理由退货，商品需保持完好。",
    "这份合同的要点包括：服务期限一年、按季度付款、违约金为合同总额的百分之十。",
    "您可以在登录页点击“忘记密码”，按提示通过手机验证码重置。",
    "您的订单预计在 48 小时内发货，发货后会短信通知您。",
    "推荐您选择团队版，支持 10 个席位，性价比最高。",
    "Welcome to our annual conference.",
    "请在订单详情页点击“申请发票”，填写抬头和税号即可。",
    "我们支持微信支付、支付宝和银行转账。",
    "好的，以下是邮件草稿：尊敬的客户，感谢您上周抽出时间与我们交流……",
];

const EN_QUESTIONS: &[&str] = &[
    "Hello!",
    "What is your refund policy?",
    "Can you summarize the attached contract?",
    "How do I reset my password?",
    "When will order 88123 ship?",
    "Which plan is best for a team of five?",
    "Translate to Chinese: see you at the booth",
    "Do you offer an API for bulk export?",
    "What payment methods do you accept?",
    "Draft a follow-up email to a prospect",
];

const EN_ANSWERS: &[&str] = &[
    "Hi there! How can I help you today?",
    "You can request a full refund within 30 days of purchase.",
    "Key points: a 12-month term, quarterly billing and a 30-day termination notice.",
    "Click \"Forgot password\" on the sign-in page and follow the link we email you.",
    "Your order is packed and should ship within two business days.",
    "The Team plan fits best: five seats, shared inbox and analytics.",
    "展位见。",
    "Yes, the export API returns up to 1,000 records per page.",
    "We accept major credit cards, PayPal and bank transfer.",
    "Here is a draft: Hi Alex, thanks again for your time last week...",
];

const FOLLOW_UPS: &[&str] = &[
    "还有其他可以帮您的吗？",
    "Is there anything else I can help with?",
    "如需人工服务，请回复“转人工”。",
];

const ZH_SUPPORT_QUESTIONS: &[&str] = &[
    "如何长生不老",
    "快递几天能到？",
    "怎么修改收货地址？",
    "会员积分怎么兑换？",
    "商品有质量问题怎么办？",
    "转人工",
    "你们的营业时间是几点？",
    "优惠券为什么用不了？",
    "可以开专票吗？",
    "退款多久到账？",
];

const ZH_SUPPORT_ANSWERS: &[&str] = &[
    "找太上老君要一颗长生不老药\n吃唐僧肉\n吃人参果",
    "一般情况下江浙沪次日达，其他地区 2-4 天送达。",
    "订单发货前可以在“我的订单”中修改收货地址。",
    "积分可在会员中心兑换优惠券，100 积分抵 1 元。",
    "请拍照上传问题商品，我们将为您免费换货。",
    "客服在线时间为每天 9:00-21:00。",
    "优惠券需满足使用门槛且在有效期内才能使用。",
    "可以的，请在开票信息中选择增值税专用发票。",
    "退款将在 1-3 个工作日内原路退回。",
];

const EN_SUPPORT_QUESTIONS: &[&str] = &[
    "How long does shipping take?",
    "How do I change my delivery address?",
    "My coupon code does not work",
    "Can I talk to a human?",
    "What are your opening hours?",
    "How long do refunds take?",
];

const EN_SUPPORT_ANSWERS: &[&str] = &[
    "Standard shipping takes 3-5 business days.",
    "You can edit the address under My Orders before the parcel ships.",
    "Coupons apply only above the minimum spend and before they expire.",
    "Our agents are available from 9am to 9pm every day.",
    "Refunds reach your original payment method within 3 business days.",
];

const ZH_AGENT_REPLIES: &[&str] = &[
    "您好，我是人工客服小李，请问有什么可以帮您？",
    "已经帮您查询到订单，明天上午会送达。",
    "这个问题我帮您登记一下，稍后专员联系您。",
    "好的，已为您申请退款，请留意短信通知。",
    "不客气，祝您生活愉快！",
];

const EN_AGENT_REPLIES: &[&str] = &[
    "Hi, this is Sam from support. How can I help?",
    "I found your order, it will arrive tomorrow morning.",
    "I've escalated this to our billing team.",
    "Your refund has been issued, you'll get an email shortly.",
];

const ZH_INBOX_VISITOR: &[&str] = &[
    "你好",
    "你们的课程怎么收费？",
    "有没有周末班？",
    "可以试听吗？",
    "我想找人工",
    "地址在哪里？",
    "好的谢谢",
    "Do you have English courses?",
];

const ZH_INBOX_AI: &[&str] = &[
    "您好，我是智能助手，很高兴为您服务。",
    "我们的课程按学期收费，每学期 3800 元。",
    "周六和周日都有开班，上午和下午各一场。",
    "可以免费试听一节课，请留下您的联系方式。",
    "Yes, we offer English courses for all levels.",
];
