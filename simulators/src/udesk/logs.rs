//! Udesk's session logs: their shapes, drawn at start because the session item counts them, and
//! their text, ids and attachments, drawn only when a request asks for the logs.

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use serde::Serialize;

use super::data::{UdCounts, UdHead, UdeskData};
use crate::data::{Keys, Local, Purpose, SECONDS, Stream, hex_id, line};
use crate::phrases::{
    EN_AGENT_REPLIES, EN_SUPPORT_ANSWERS, EN_SUPPORT_QUESTIONS, FOLLOW_UPS, ZH_AGENT_REPLIES,
    ZH_SUPPORT_ANSWERS, ZH_SUPPORT_QUESTIONS,
};

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
pub(super) struct UdStep {
    pub(super) at: DateTime<Utc>,
    role: UdRole,
    query_result: Option<i32>,
    survey: Option<i32>,
    suggested: bool,
}

/// The shapes of a session's logs, from its shape stream.
pub(super) fn ud_steps(
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

pub(super) fn ud_counts(steps: &[UdStep]) -> UdCounts {
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

fn udesk_media(rng: &mut Stream, kind: &str, extension: &str) -> String {
    format!(
        "https://km-oss.udesk.cn/{kind}/{}.{extension}",
        hex_id(rng, 10)
    )
}
