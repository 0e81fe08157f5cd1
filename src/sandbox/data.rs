//! Deterministic dataset behind the simulators: compact headers at start, messages on request.
//!
//! Each conversation draws from its own generators, keyed by the seed, the vendor, its generation
//! index and a purpose (header, shape, text, order), so any part of it comes out the same alone,
//! again, or in any order. At start only the header draws run, plus, where a list item summarises
//! the messages (Megaview, Udesk), the shape draws that summary needs, which allocate no text;
//! the text draws run only when a request needs them. Wire structs are built per answer.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::seq::IndexedRandom;
use rand::{Rng, RngCore};
use serde::{Serialize, Serializer};

use super::{RecordSummary, SandboxConfig, SimVendor};

/// Every vendor's conversations.
pub(super) struct Dataset {
    pub(super) megaview: MegaviewData,
    pub(super) gptbots: GptbotsData,
    pub(super) udesk: UdeskData,
    pub(super) jijyun: JijyunData,
}

impl Dataset {
    pub(super) fn generate(config: &SandboxConfig) -> Self {
        let window = Window::new(config);
        // Indexes are u32 to keep headers small; far beyond any supported size.
        let n = u32::try_from(config.conversations_per_vendor).unwrap_or(u32::MAX);
        let window = &window;
        // The vendors share nothing, so they are generated side by side.
        std::thread::scope(|scope| {
            let megaview = scope.spawn(move || megaview(config, window, n));
            let gptbots = scope.spawn(move || gptbots(config, window, n));
            let udesk = scope.spawn(move || udesk(config, window, n));
            let jijyun = jijyun(config, window, n);
            Self {
                megaview: joined(megaview.join()),
                gptbots: joined(gptbots.join()),
                udesk: joined(udesk.join()),
                jijyun,
            }
        })
    }

    pub(super) fn records(&self, vendor: SimVendor) -> Vec<RecordSummary> {
        match vendor {
            SimVendor::Megaview => self
                .megaview
                .conversations
                .iter()
                .map(|c| RecordSummary {
                    native_id: c.id.to_string(),
                    customer_id: Some(c.deal_id().to_string()),
                    agent_id: Some(c.open_user_id().to_owned()),
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
                    customer_id: Some(c.user_id().to_owned()),
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
                    customer_id: self.udesk.customer(s).map(|c| c.id.to_string()),
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
                    customer_id: Some(self.jijyun.customer_id(c).to_owned()),
                    agent_id: None,
                    sort_time: None,
                })
                .collect(),
        }
    }
}

/// The value of a finished generator thread; its panic, if any, goes on in this thread.
fn joined<T>(result: std::thread::Result<T>) -> T {
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// ---------------------------------------------------------------------------------------------
// Generators

/// What a generator of one conversation is for; each purpose is an independent stream.
#[derive(Clone, Copy)]
enum Purpose {
    /// Vendor-wide values (customers, bot id), drawn once.
    Vendor = 1,
    /// Everything a list filters, sorts or shows without the messages.
    Head = 2,
    /// What a list item's message summary is computed from: kinds, speakers, timings (for
    /// Megaview the whole transcript, whose text is borrowed from the pools).
    Shape = 3,
    /// The messages' text, ids and attachments.
    Text = 4,
    /// The key of the arbitrary list order.
    Order = 5,
}

/// One vendor's generator keys: everything a stream needs besides the index and purpose.
#[derive(Clone, Copy, Debug)]
pub(super) struct Keys {
    base: u64,
}

impl Keys {
    fn new(seed: u64, vendor_salt: u64) -> Self {
        Self {
            base: mix(mix(seed) ^ vendor_salt),
        }
    }

    fn stream(self, index: u32, purpose: Purpose) -> Stream {
        Stream(mix(mix(self.base ^ u64::from(index)) ^ purpose as u64))
    }

    /// The key conversation `index` sorts by when lists are in arbitrary order.
    pub(super) fn order(self, index: u32) -> u64 {
        self.stream(index, Purpose::Order).next_u64()
    }
}

/// SplitMix64: small, fast even unoptimised, and well mixed enough for made-up data.
#[derive(Debug)]
struct Stream(u64);

impl RngCore for Stream {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A time the vendor sends as naive text in the configured zone; formatted only when serialised.
#[derive(Clone, Copy, Debug)]
pub(super) struct Local {
    at: DateTime<Utc>,
    tz: Tz,
    format: &'static str,
}

impl Local {
    fn new(tz: Tz, at: DateTime<Utc>, format: &'static str) -> Self {
        Self { at, tz, format }
    }
}

impl Serialize for Local {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.at.with_timezone(&self.tz).format(self.format))
    }
}

const SECONDS: &str = "%Y-%m-%d %H:%M:%S";

// ---------------------------------------------------------------------------------------------
// Megaview

/// Megaview's conversations.
pub(super) struct MegaviewData {
    pub(super) keys: Keys,
    tz: Tz,
    /// Sorted by (`begin_time`, `id`) ascending; ids grow with the position.
    pub(super) conversations: Vec<MvHead>,
    by_origin: HashMap<uuid::Uuid, u32>,
    pub(super) deal_ids: HashSet<i64>,
    pub(super) user_ids: HashSet<String>,
}

/// What the list filters and sorts on, plus the summary of the transcript it shows.
#[derive(Debug)]
pub(super) struct MvHead {
    pub(super) index: u32,
    pub(super) id: i64,
    pub(super) begin_at: DateTime<Utc>,
    salesman: u8,
    deal: u8,
    kind: &'static str,
    /// `false`: the transcript is still being produced (`501200`).
    pub(super) asr_ready: bool,
    origin: uuid::Uuid,
    summary: MvSummary,
}

impl MvHead {
    /// The deal (customer) this conversation belongs to.
    pub(super) fn deal_id(&self) -> i64 {
        MV_DEALS[usize::from(self.deal)].0
    }

    /// The salesman's `open_user_id`.
    pub(super) fn open_user_id(&self) -> &'static str {
        MV_SALESMEN[usize::from(self.salesman)].0
    }

    /// The conversation's `type`.
    pub(super) fn kind(&self) -> &'static str {
        self.kind
    }
}

/// The list fields computed from the transcript.
#[derive(Clone, Copy, Debug, Default)]
struct MvSummary {
    duration: u32,
    word_count: u32,
    salesman_percent: f64,
    customer_sentence_count: u32,
    salesman_sentence_count: u32,
}

/// One item of `conversations/list`, exactly the documented fields.
#[derive(Debug, Serialize)]
pub(super) struct MvConversation {
    id: i64,
    name: String,
    begin_time: Local,
    #[serde(rename = "type")]
    kind: &'static str,
    duration: u32,
    word_count: u32,
    salesman_percent: f64,
    deal_id: String,
    open_user_id: &'static str,
    customer_sentence_count: u32,
    salesman_sentence_count: u32,
    account_id: i64,
    origin_conversation_id: String,
}

/// One sentence of an ASR file.
#[derive(Debug, Serialize)]
pub(super) struct MvSentence {
    entity_id: i64,
    name: &'static str,
    entity_type: &'static str,
    content: &'static str,
    begin_time: f64,
    end_time: f64,
    begin_percent: f64,
    end_percent: f64,
    channel: i64,
    order: u32,
}

impl MegaviewData {
    /// The conversation with Megaview id `id`.
    pub(super) fn find(&self, id: i64) -> Option<&MvHead> {
        let at = self
            .conversations
            .binary_search_by_key(&id, |c| c.id)
            .ok()?;
        self.conversations.get(at)
    }

    /// The conversation whose `origin_conversation_id` is exactly `raw`.
    pub(super) fn find_origin(&self, raw: &str) -> Option<&MvHead> {
        let uuid = uuid::Uuid::try_parse(raw.strip_prefix("fscd-")?).ok()?;
        let head = self
            .conversations
            .get(*self.by_origin.get(&uuid)? as usize)?;
        // Other spellings of the same UUID (upper case, no hyphens) are not the vendor's id.
        (origin_id(head.origin) == raw).then_some(head)
    }

    /// The list item of `head`.
    pub(super) fn item(&self, head: &MvHead) -> MvConversation {
        let (deal_id, company, contact, english) = MV_DEALS[usize::from(head.deal)];
        let name = match (head.kind, english) {
            ("audio", false) => format!("{company} - 电话沟通"),
            ("video", false) => format!("{company} 产品演示会议"),
            ("doc", false) => format!("企业微信会话 - {contact}"),
            ("audio", true) => format!("Discovery call with {company}"),
            ("video", true) => format!("{company} product demo"),
            _ => format!("WeCom chat with {contact}"),
        };
        let summary = head.summary;
        MvConversation {
            id: head.id,
            name,
            begin_time: Local::new(self.tz, head.begin_at, "%Y-%m-%dT%H:%M:%S"),
            kind: head.kind,
            duration: summary.duration,
            word_count: summary.word_count,
            salesman_percent: summary.salesman_percent,
            deal_id: deal_id.to_string(),
            open_user_id: head.open_user_id(),
            customer_sentence_count: summary.customer_sentence_count,
            salesman_sentence_count: summary.salesman_sentence_count,
            account_id: 112 + i64::from(head.deal) * 17,
            origin_conversation_id: origin_id(head.origin),
        }
    }

    /// The ASR file of `head`.
    pub(super) fn sentences(&self, head: &MvHead) -> Vec<MvSentence> {
        mv_transcript(self.keys, head).0
    }
}

fn origin_id(origin: uuid::Uuid) -> String {
    format!("fscd-{origin}")
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

fn megaview(config: &SandboxConfig, window: &Window, n: u32) -> MegaviewData {
    let keys = Keys::new(config.seed, 0x6d65_6761);
    let mut drafts: Vec<(MvHead, i64)> = Vec::with_capacity(n as usize);
    let mut previous: Option<DateTime<Utc>> = None;
    for index in 0..n {
        let rng = &mut keys.stream(index, Purpose::Head);
        let begin_at = match previous {
            Some(t) if index % 40 == 5 => t,
            _ => window.instant(rng, TimeDelta::hours(8)),
        };
        previous = Some(begin_at);
        let salesman = small_index(rng, MV_SALESMEN.len());
        let deal = small_index(rng, MV_DEALS.len());
        let kind = match rng.random_range(0..100) {
            0..=54 => "audio",
            55..=74 => "video",
            _ => "doc",
        };
        let origin = uuid_from(rng);
        let id_step = rng.random_range(1..=37);
        let mut head = MvHead {
            index,
            id: 0,
            begin_at,
            salesman,
            deal,
            kind,
            asr_ready: index % 30 != 11,
            origin,
            summary: MvSummary::default(),
        };
        head.summary = mv_transcript(keys, &head).1;
        drafts.push((head, id_step));
    }
    drafts.sort_by_key(|(head, _)| (head.begin_at, head.index));
    let mut id = 55_000_i64;
    let conversations: Vec<MvHead> = drafts
        .into_iter()
        .map(|(mut head, step)| {
            id += step;
            head.id = id;
            head
        })
        .collect();
    MegaviewData {
        keys,
        tz: config.timezone,
        by_origin: conversations
            .iter()
            .enumerate()
            .map(|(at, c)| (c.origin, at as u32))
            .collect(),
        deal_ids: MV_DEALS.iter().map(|d| d.0).collect(),
        user_ids: MV_SALESMEN.iter().map(|s| s.0.to_owned()).collect(),
        conversations,
    }
}

/// The transcript of `head` and the list fields that summarise it, from its shape stream.
fn mv_transcript(keys: Keys, head: &MvHead) -> (Vec<MvSentence>, MvSummary) {
    let rng = &mut keys.stream(head.index, Purpose::Shape);
    let (_, salesman_name, salesman_entity) = MV_SALESMEN[usize::from(head.salesman)];
    let (_, _, contact, english) = MV_DEALS[usize::from(head.deal)];
    let count = message_count(rng, head.index);
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
    let contents: Vec<&'static str> = speakers
        .iter()
        .map(|&s| line(rng, if s { sales_lines } else { customer_lines }))
        .collect();

    let customer_entity = 80_000 + i64::from(head.deal);
    let person = |salesman: bool| {
        if salesman {
            (salesman_entity, salesman_name, "host_salesman", 0)
        } else {
            (customer_entity, contact, "customer_contact", 1)
        }
    };
    let mut sentences = Vec::with_capacity(count);
    let salesman_sentence_count = speakers.iter().filter(|s| **s).count() as u32;
    let mut summary = MvSummary {
        customer_sentence_count: count as u32 - salesman_sentence_count,
        salesman_sentence_count,
        ..MvSummary::default()
    };
    if head.kind == "doc" {
        let mut at = head.begin_at.timestamp_millis() as f64 / 1000.0;
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
                content,
                begin_time: round3(at),
                end_time: round3(at),
                begin_percent: round2(k as f64 * 100.0 / count as f64),
                end_percent: round2((k + 1) as f64 * 100.0 / count as f64),
                channel: 0,
                order: k as u32,
            });
        }
        summary.word_count = total_chars as u32;
        summary.salesman_percent =
            round2(salesman_chars as f64 * 100.0 / total_chars.max(1) as f64);
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
                content,
                begin_time: *begin,
                end_time: *end,
                begin_percent: round2(begin * 100.0 / total),
                end_percent: round2(end * 100.0 / total),
                channel,
                order: k as u32,
            });
        }
        summary.duration = total as u32;
        summary.salesman_percent = round2(salesman_time * 100.0 / spoken_time.max(0.01));
    }
    (sentences, summary)
}

// ---------------------------------------------------------------------------------------------
// GPTBots

/// GPTBots conversations.
pub(super) struct GptbotsData {
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

fn gptbots(config: &SandboxConfig, window: &Window, n: u32) -> GptbotsData {
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

// ---------------------------------------------------------------------------------------------
// Udesk

/// Udesk sessions.
pub(super) struct UdeskData {
    pub(super) keys: Keys,
    tz: Tz,
    robot_id: i64,
    customers: Vec<UdCustomer>,
    /// Sorted by (`startTime`, `id`) ascending; ids grow with the position.
    pub(super) sessions: Vec<UdHead>,
}

/// What the session list filters, sorts and shows; the counters summarise the logs.
#[derive(Debug)]
pub(super) struct UdHead {
    pub(super) index: u32,
    pub(super) id: i64,
    pub(super) start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    customer: Option<u8>,
    switched: bool,
    english: bool,
    total: u16,
    channel: u8,
    pub(super) survey_option: u32,
    ip_location: bool,
    dialogue_desc: bool,
    /// Log ids of this session are above this and at most `5 × total` past it.
    log_base: i64,
    /// Suggestion ids of this session start right after this.
    suggestion_base: i64,
    pub(super) counts: UdCounts,
}

impl UdHead {
    /// `isSwitchStaff`.
    pub(super) fn is_switch_staff(&self) -> u32 {
        u32::from(self.switched)
    }

    /// `channelId`.
    pub(super) fn channel_id(&self) -> i64 {
        UD_CHANNELS[usize::from(self.channel)].0
    }
}

/// The message counters of a session item.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct UdCounts {
    pub(super) customer_msg_count: u32,
    pub(super) robot_msg_count: u32,
    pub(super) robot_replied_count: u32,
    pub(super) unknown_question_count: u32,
    pub(super) useful_response_count: u32,
    pub(super) useless_response_count: u32,
    pub(super) direct_response_count: u32,
    pub(super) suggest_question_count: u32,
    pub(super) un_suggest_question_count: u32,
    suggestions: u32,
}

/// One item of `POST /api/v1/sessions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdSession<'a> {
    id: i64,
    robot_id: i64,
    start_time: Local,
    end_time: Local,
    total_count: u32,
    ip_location: Option<String>,
    customer_msg_count: u32,
    robot_msg_count: u32,
    robot_replied_count: u32,
    unknown_question_count: u32,
    useful_response_count: u32,
    useless_response_count: u32,
    survey_option: u32,
    survey_comment: Option<&'static str>,
    is_switch_staff: u32,
    app_name: &'static str,
    channel_id: i64,
    channel_name: Option<&'static str>,
    customer: Option<&'a UdCustomer>,
    call_id: Option<String>,
    dialogue_desc: Option<&'static str>,
    direct_response_count: u32,
    suggest_question_count: u32,
    un_suggest_question_count: u32,
}

/// The `customer` object of a session.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdCustomer {
    pub(super) id: i64,
    nickname: &'static str,
    ip: String,
    province: &'static str,
    city: &'static str,
    level: &'static str,
    pub(super) platform: &'static str,
    src: &'static str,
    src_url: &'static str,
    web_plugin_name: &'static str,
    org_name: Option<&'static str>,
    email: Option<String>,
    phone: Option<String>,
    tags: Option<&'static str>,
    desc: Option<String>,
    generated_channel: Option<String>,
    login_url: Option<String>,
    session_url: &'static str,
    dialogue_desc: Option<String>,
    /// The id the tenant's own system uses (`keywordsSource` 5): `ext-{id}`.
    #[serde(skip)]
    pub(super) external_id: String,
}

/// One item of `GET /api/v1/sessions/{id}/logs`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdLog {
    id: i64,
    pub(super) user_type: i32,
    pub(super) content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<i32>,
    session_id: i64,
    create_time: Local,
    #[serde(skip_serializing_if = "Option::is_none")]
    survey_option_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_result: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    question_content: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answer_content: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    leading_word: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    question_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_log_suggest_found_response_list: Option<Vec<UdSuggestion>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommendation_guidance: Option<&'static str>,
    tags: Vec<&'static str>,
    extra_answer_content: Vec<UdExtraAnswer>,
    robot_id: i64,
    create_user_id: i64,
    log_type: i32,
}

/// A suggested question under a robot answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdSuggestion {
    id: i64,
    log_id: i64,
    question_id: i64,
    question_content: &'static str,
    answer_content: Option<String>,
    hit_flag: i32,
}

/// An extra bubble sent after a robot answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UdExtraAnswer {
    log_id: String,
    ans_content: serde_json::Value,
    msg_type: &'static str,
    tags: Vec<String>,
    ans_type: i32,
    delay_millis: i64,
    km_delay_millis: i64,
    create_time: Local,
}

impl UdeskData {
    /// The session with id `id`.
    pub(super) fn find(&self, id: i64) -> Option<&UdHead> {
        let at = self.sessions.binary_search_by_key(&id, |s| s.id).ok()?;
        self.sessions.get(at)
    }

    /// The customer of `head`, if the session has one.
    pub(super) fn customer(&self, head: &UdHead) -> Option<&UdCustomer> {
        self.customers.get(usize::from(head.customer?))
    }

    /// The list item of `head`.
    pub(super) fn item<'a>(&'a self, head: &UdHead) -> UdSession<'a> {
        let (channel_id, channel_name, app_name) = UD_CHANNELS[usize::from(head.channel)];
        let customer = self.customer(head);
        let counts = head.counts;
        UdSession {
            id: head.id,
            robot_id: self.robot_id,
            start_time: Local::new(self.tz, head.start_at, SECONDS),
            end_time: Local::new(self.tz, head.end_at, SECONDS),
            total_count: u32::from(head.total),
            ip_location: customer
                .filter(|_| head.ip_location)
                .map(|c| format!("{}{}", c.province, c.city)),
            customer_msg_count: counts.customer_msg_count,
            robot_msg_count: counts.robot_msg_count,
            robot_replied_count: counts.robot_replied_count,
            unknown_question_count: counts.unknown_question_count,
            useful_response_count: counts.useful_response_count,
            useless_response_count: counts.useless_response_count,
            survey_option: head.survey_option,
            survey_comment: (head.survey_option == 4).then_some("答案不准确"),
            is_switch_staff: head.is_switch_staff(),
            app_name,
            channel_id,
            channel_name,
            customer,
            call_id: None,
            dialogue_desc: head.dialogue_desc.then_some("咨询产品与售后"),
            direct_response_count: counts.direct_response_count,
            suggest_question_count: counts.suggest_question_count,
            un_suggest_question_count: counts.un_suggest_question_count,
        }
    }

    /// Every log of `head`, oldest first.
    pub(super) fn logs(&self, head: &UdHead) -> Vec<UdLog> {
        let tz = self.tz;
        let robot_id = self.robot_id;
        let english = head.english;
        let steps = ud_steps(
            self.keys,
            head.index,
            head.start_at,
            head.total,
            head.switched,
        );
        let rng = &mut self.keys.stream(head.index, Purpose::Text);
        let base = |content: String, step: &UdStep| UdLog {
            id: 0,
            user_type: step.role.user_type(),
            content,
            content_type: None,
            session_id: head.id,
            create_time: Local::new(tz, step.at, SECONDS),
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
            create_user_id: 4271,
            log_type: step.role.log_type(),
        };
        let (questions, answers) = if english {
            (EN_SUPPORT_QUESTIONS, EN_SUPPORT_ANSWERS)
        } else {
            (ZH_SUPPORT_QUESTIONS, ZH_SUPPORT_ANSWERS)
        };
        let mut log_id = head.log_base;
        let mut suggestion_id = head.suggestion_base;
        let mut last_question = "";
        let mut logs: Vec<UdLog> = Vec::with_capacity(steps.len());
        for step in &steps {
            log_id += rng.random_range(1..=5);
            let mut log = match step.role {
                UdRole::Welcome => {
                    let mut welcome = base(
                        if english {
                            "Hi, I'm the virtual assistant. How can I help you today?"
                        } else {
                            "您好，智能客服小U很高兴为您服务！"
                        }
                        .to_owned(),
                        step,
                    );
                    welcome.leading_word = Some(if english {
                        "You may ask"
                    } else {
                        "猜你想问"
                    });
                    welcome.tags = vec!["常驻入口转人工"];
                    welcome
                }
                UdRole::Handoff => {
                    let mut handoff = base(
                        if english {
                            "Transferring you to a human agent, please wait."
                        } else {
                            "正在为您转接人工客服，请稍候。"
                        }
                        .to_owned(),
                        step,
                    );
                    handoff.content_type = Some(1);
                    handoff
                }
                UdRole::HumanQuestion => {
                    let mut question = base(line(rng, questions).to_owned(), step);
                    question.source = Some(1);
                    question
                }
                UdRole::HumanReply => {
                    let replies = if english {
                        EN_AGENT_REPLIES
                    } else {
                        ZH_AGENT_REPLIES
                    };
                    let mut reply = base(line(rng, replies).to_owned(), step);
                    reply.content_type = Some(1);
                    reply
                }
                UdRole::Question => {
                    let roll = rng.random_range(0..100);
                    let question = line(rng, questions);
                    last_question = question;
                    let (content, content_type) = match roll {
                        0..=5 => (udesk_media(rng, "voice", "amr"), Some(9)),
                        6..=10 => (udesk_media(rng, "image", "jpg"), Some(11)),
                        11..=12 => (udesk_media(rng, "video", "mp4"), Some(19)),
                        13..=15 => ("https://www.example.com/orders/track".to_owned(), Some(10)),
                        16..=55 => (question.to_owned(), Some(1)),
                        _ => (question.to_owned(), None),
                    };
                    let mut log = base(content, step);
                    log.content_type = content_type;
                    log.query_result = step.query_result;
                    log.source = Some(1);
                    log
                }
                UdRole::Answer => {
                    let roll = rng.random_range(0..100);
                    let answer = line(rng, answers);
                    let (content, content_type) = match roll {
                        0..=29 => (format!("<p>{answer}</p><p><br></p>"), Some(2)),
                        30..=33 => (udesk_media(rng, "image", "png"), Some(11)),
                        34..=35 => (udesk_media(rng, "video", "mp4"), Some(19)),
                        36..=39 => (
                            "https://help.example.com/articles/1024".to_owned(),
                            Some(10),
                        ),
                        _ => (answer.to_owned(), Some(1)),
                    };
                    let mut log = base(content, step);
                    log.content_type = content_type;
                    log.query_result = step.query_result;
                    log.question_content = Some(last_question);
                    log.answer_content = Some(answer);
                    log.question_id = Some(rng.random_range(4_000_000..6_000_000));
                    log.survey_option_id = step.survey;
                    if step.suggested {
                        let mut list = Vec::with_capacity(2);
                        for _ in 0..2 {
                            suggestion_id += 1;
                            list.push(UdSuggestion {
                                id: suggestion_id,
                                log_id,
                                question_id: rng.random_range(5_000_000..6_000_000),
                                question_content: line(rng, questions),
                                answer_content: None,
                                hit_flag: 0,
                            });
                        }
                        log.session_log_suggest_found_response_list = Some(list);
                        log.recommendation_guidance = Some(if english {
                            "<p>Hello, would you like to ask about the following questions?</p>"
                        } else {
                            "<p>您好，您是否想咨询以下问题？</p>"
                        });
                    }
                    if rng.random_bool(0.05) {
                        log.extra_answer_content = vec![UdExtraAnswer {
                            log_id: format!("{log_id}_1"),
                            ans_content: serde_json::json!({ "content": line(rng, FOLLOW_UPS) }),
                            msg_type: "text",
                            tags: Vec::new(),
                            ans_type: 1,
                            delay_millis: 1000,
                            km_delay_millis: 1000,
                            create_time: Local::new(tz, step.at, SECONDS),
                        }];
                    }
                    log
                }
            };
            log.id = log_id;
            logs.push(log);
        }
        logs
    }
}

/// What one log is, which fixes its `userType` and `logType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UdRole {
    Welcome,
    Question,
    Answer,
    Handoff,
    HumanQuestion,
    HumanReply,
}

impl UdRole {
    fn user_type(self) -> i32 {
        match self {
            Self::Welcome | Self::Answer | Self::Handoff => 1,
            Self::Question | Self::HumanQuestion => 2,
            Self::HumanReply => 3,
        }
    }

    fn log_type(self) -> i32 {
        match self {
            Self::Welcome => 1,
            Self::Answer | Self::HumanReply => 2,
            Self::Handoff => 3,
            Self::Question | Self::HumanQuestion => 4,
        }
    }
}

/// The shape of one log: everything the session item counts, without text.
#[derive(Clone, Copy, Debug)]
struct UdStep {
    at: DateTime<Utc>,
    role: UdRole,
    query_result: Option<i32>,
    survey: Option<i32>,
    suggested: bool,
}

/// The shapes of a session's logs, from its shape stream.
fn ud_steps(
    keys: Keys,
    index: u32,
    start_at: DateTime<Utc>,
    total: u16,
    switched: bool,
) -> Vec<UdStep> {
    let rng = &mut keys.stream(index, Purpose::Shape);
    let total = usize::from(total);
    let switch_at = if switched {
        (total * 2 / 5).max(2)
    } else {
        usize::MAX
    };
    let mut at = start_at;
    let mut steps = Vec::with_capacity(total);
    for k in 0..total {
        if k > 0 {
            at += TimeDelta::seconds(rng.random_range(1..=90));
        }
        let role = if k == 0 {
            UdRole::Welcome
        } else if k == switch_at {
            UdRole::Handoff
        } else if k > switch_at {
            if (k - switch_at) % 2 == 1 {
                UdRole::HumanQuestion
            } else {
                UdRole::HumanReply
            }
        } else if k % 2 == 1 {
            UdRole::Question
        } else {
            UdRole::Answer
        };
        let mut step = UdStep {
            at,
            role,
            query_result: None,
            survey: None,
            suggested: false,
        };
        match role {
            UdRole::Question => step.query_result = Some(1),
            UdRole::Answer => {
                step.query_result = Some(match rng.random_range(0..100) {
                    0..=69 => 1,
                    70..=79 => 2,
                    80..=87 => 7,
                    88..=93 => 3,
                    _ => 6,
                });
                step.survey = match rng.random_range(0..10) {
                    0 => Some(1),
                    1 => Some(2),
                    _ => None,
                };
                step.suggested = rng.random_bool(0.2);
            }
            _ => {}
        }
        steps.push(step);
    }
    steps
}

fn ud_counts(steps: &[UdStep]) -> UdCounts {
    let users = |user_type: i32| {
        steps
            .iter()
            .filter(|s| s.role.user_type() == user_type)
            .count() as u32
    };
    let answers = |f: &dyn Fn(&UdStep) -> bool| {
        steps
            .iter()
            .filter(|s| s.role.log_type() == 2 && f(s))
            .count() as u32
    };
    UdCounts {
        customer_msg_count: users(2),
        robot_msg_count: users(1),
        robot_replied_count: answers(&|s| matches!(s.query_result, Some(1 | 2 | 10))),
        unknown_question_count: answers(&|s| s.query_result == Some(6)),
        useful_response_count: answers(&|s| s.survey == Some(1)),
        useless_response_count: answers(&|s| s.survey == Some(2)),
        direct_response_count: answers(&|s| s.query_result == Some(1)),
        suggest_question_count: answers(&|s| s.query_result == Some(7)),
        un_suggest_question_count: answers(&|s| s.query_result == Some(3)),
        suggestions: 2 * steps.iter().filter(|s| s.suggested).count() as u32,
    }
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

fn udesk_customers(rng: &mut Stream) -> Vec<UdCustomer> {
    let mut next_customer = 1_415_457_662_i64;
    let mut customers: Vec<UdCustomer> = UD_CUSTOMERS
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
            let web = platform == "web";
            UdCustomer {
                id,
                nickname,
                ip,
                province,
                city,
                level,
                platform,
                src: if web { "官网" } else { "" },
                src_url: if web {
                    "https://www.example.com/pricing"
                } else {
                    ""
                },
                web_plugin_name: if web { "官网插件" } else { "" },
                org_name: known.then_some("示例贸易有限公司"),
                email: known.then(|| format!("customer{}@example.com", id % 10_000)),
                phone: known.then(|| format!("138{:08}", id % 100_000_000)),
                tags: known.then_some("重点客户"),
                desc: None,
                generated_channel: None,
                login_url: None,
                session_url: if web {
                    "https://www.example.com/help"
                } else {
                    ""
                },
                dialogue_desc: None,
                external_id: format!("ext-{id}"),
            }
        })
        .collect();
    if let Some(first) = customers.first_mut() {
        first.id = SHARED_CUSTOMER_ID;
        first.external_id = format!("ext-{SHARED_CUSTOMER_ID}");
    }
    customers
}

fn udesk(config: &SandboxConfig, window: &Window, n: u32) -> UdeskData {
    let keys = Keys::new(config.seed, 0x7564_6573);
    let customers = udesk_customers(&mut keys.stream(0, Purpose::Vendor));
    let mut drafts: Vec<(UdHead, i64)> = Vec::with_capacity(n as usize);
    let mut previous: Option<DateTime<Utc>> = None;
    for index in 0..n {
        let rng = &mut keys.stream(index, Purpose::Head);
        let start_at = match previous {
            Some(t) if index % 40 == 5 => t,
            _ => window.instant(rng, TimeDelta::hours(8)),
        };
        previous = Some(start_at);
        let customer = (!rng.random_bool(0.12)).then(|| small_index(rng, customers.len()));
        let switched = rng.random_bool(0.15);
        let english = customer
            .and_then(|c| customers.get(usize::from(c)))
            .is_some_and(|c| c.nickname.is_ascii())
            || rng.random_bool(0.1);
        let total = message_count(rng, index).max(if switched { 4 } else { 1 }) as u16;
        let channel = small_index(rng, UD_CHANNELS.len());
        let survey_option = rng.random_range(1..=4);
        let ip_location = customer.is_some() && rng.random_bool(0.5);
        let dialogue_desc = rng.random_bool(0.2);
        let id_step = rng.random_range(1..=19);
        let steps = ud_steps(keys, index, start_at, total, switched);
        drafts.push((
            UdHead {
                index,
                id: 0,
                start_at,
                end_at: steps.last().map_or(start_at, |s| s.at),
                customer,
                switched,
                english,
                total,
                channel,
                survey_option,
                ip_location,
                dialogue_desc,
                log_base: 0,
                suggestion_base: 0,
                counts: ud_counts(&steps),
            },
            id_step,
        ));
    }
    drafts.sort_by_key(|(head, _)| (head.start_at, head.index));

    // Ids straddle 2^31 so 32-bit readers break on real-looking data.
    let total_logs: i64 = drafts.iter().map(|(s, _)| i64::from(s.total)).sum();
    let mut session_id = (1_i64 << 31) - (i64::from(n) / 2) * 10;
    let mut log_base = (1_i64 << 31) - total_logs * 5 / 2;
    let mut suggestion_base = 647_194_600_i64;
    let sessions = drafts
        .into_iter()
        .map(|(mut head, step)| {
            session_id += step;
            head.id = session_id;
            head.log_base = log_base;
            log_base += 5 * i64::from(head.total);
            head.suggestion_base = suggestion_base;
            suggestion_base += i64::from(head.counts.suggestions);
            head
        })
        .collect();
    UdeskData {
        keys,
        tz: config.timezone,
        robot_id: config.credentials.udesk_robot_id,
        customers,
        sessions,
    }
}

fn udesk_media(rng: &mut Stream, kind: &str, extension: &str) -> String {
    format!(
        "https://km-oss.udesk.cn/{kind}/{}.{extension}",
        hex_id(rng, 10)
    )
}

// ---------------------------------------------------------------------------------------------
// Jijyun

/// Jijyun chats.
pub(super) struct JijyunData {
    pub(super) keys: Keys,
    /// Sorted by hidden creation time ascending.
    pub(super) chats: Vec<JjHead>,
    pub(super) customers: Vec<String>,
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
}

fn jijyun(config: &SandboxConfig, window: &Window, n: u32) -> JijyunData {
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
    fn instant(&self, rng: &mut Stream, margin: TimeDelta) -> DateTime<Utc> {
        let usable_s = ((self.span_ms - margin.num_milliseconds()) / 1000).max(1);
        self.start + TimeDelta::seconds(rng.random_range(0..usable_s))
    }

    /// Milliseconds since the epoch in `[start, anchor)`.
    fn instant_ms(&self, rng: &mut Stream) -> i64 {
        self.start.timestamp_millis() + rng.random_range(0..self.span_ms.max(1))
    }
}

/// Messages of conversation `index`: mostly short, some long, every 25th over 100.
fn message_count(rng: &mut Stream, index: u32) -> usize {
    if index % 25 == 3 {
        return rng.random_range(101..=150);
    }
    match rng.random_range(0..100) {
        0..=5 => 1,
        6..=55 => rng.random_range(2..=12),
        _ => rng.random_range(13..=60),
    }
}

/// A position in a constant table of at most 256 entries.
fn small_index(rng: &mut Stream, len: usize) -> u8 {
    rng.random_range(0..len.clamp(1, 256)) as u8
}

fn pick<'a, T>(rng: &mut Stream, items: &'a [T]) -> &'a T {
    // Every pool is a non-empty constant or a non-empty generated list.
    items.choose(rng).unwrap_or(&items[0])
}

fn line(rng: &mut Stream, items: &[&'static str]) -> &'static str {
    pick::<&'static str>(rng, items)
}

fn weighted(rng: &mut Stream, items: &[(&'static str, u32)]) -> &'static str {
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

fn hex_id(rng: &mut Stream, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

fn base62_id(rng: &mut Stream, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn uuid_from(rng: &mut Stream) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
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
