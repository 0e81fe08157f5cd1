//! Megaview's records and their generator: conversation heads at start, the list item and the
//! ASR transcript built per answer from the conversation's own streams.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::Rng;
use serde::Serialize;

use crate::data::{
    Keys, Local, Purpose, SHARED_CUSTOMER_ID, Window, line, message_count, round2, round3,
    small_index, uuid_from,
};
use crate::phrases::{EN_PROSPECT, EN_SALES, ZH_PROSPECT, ZH_SALES};
use crate::{RecordSummary, SandboxConfig};

/// Megaview's conversations.
pub(crate) struct MegaviewData {
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

    /// Ground truth of every conversation, oldest first (see `Sandbox::records`).
    pub(crate) fn records(&self) -> Vec<RecordSummary> {
        self.conversations
            .iter()
            .map(|c| RecordSummary {
                native_id: c.id.to_string(),
                customer_id: Some(c.deal_id().to_string()),
                agent_id: Some(c.open_user_id().to_owned()),
                sort_time: Some(c.begin_at),
            })
            .collect()
    }
}

fn origin_id(origin: uuid::Uuid) -> String {
    format!("fscd-{origin}")
}

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

pub(crate) fn megaview(config: &SandboxConfig, window: &Window, n: u32) -> MegaviewData {
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
