//! Udesk's records and their generator: session heads (with the counters their logs add up to)
//! and customers at start, the session item built per answer. The logs are in `logs.rs`.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::Rng;
use serde::Serialize;

use super::logs::{ud_counts, ud_steps};
use crate::data::{
    Keys, Local, Purpose, SECONDS, SHARED_CUSTOMER_ID, Stream, Window, message_count, small_index,
};
use crate::{RecordSummary, SandboxConfig};

/// Udesk sessions.
pub(crate) struct UdeskData {
    pub(super) keys: Keys,
    pub(super) tz: Tz,
    pub(super) robot_id: i64,
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
    pub(super) switched: bool,
    pub(super) english: bool,
    pub(super) total: u16,
    channel: u8,
    pub(super) survey_option: u32,
    ip_location: bool,
    dialogue_desc: bool,
    /// Log ids of this session are above this and at most `5 × total` past it.
    pub(super) log_base: i64,
    /// Suggestion ids of this session start right after this.
    pub(super) suggestion_base: i64,
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
    pub(super) suggestions: u32,
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

    /// Ground truth of every conversation, oldest first (see `Sandbox::records`).
    pub(crate) fn records(&self) -> Vec<RecordSummary> {
        self.sessions
            .iter()
            .map(|s| RecordSummary {
                native_id: s.id.to_string(),
                customer_id: self.customer(s).map(|c| c.id.to_string()),
                agent_id: None,
                sort_time: Some(s.start_at),
            })
            .collect()
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

pub(crate) fn udesk(config: &SandboxConfig, window: &Window, n: u32) -> UdeskData {
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
