//! Phrase tables the generators draw message text from, in Chinese and English; several vendors
//! share some of them (support questions, agent replies, follow-ups). Data only.

pub(super) const ZH_SALES: &[&str] = &[
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

pub(super) const ZH_PROSPECT: &[&str] = &[
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

pub(super) const EN_SALES: &[&str] = &[
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

pub(super) const EN_PROSPECT: &[&str] = &[
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

pub(super) const ZH_QUESTIONS: &[&str] = &[
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

pub(super) const ZH_ANSWERS: &[&str] = &[
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

pub(super) const EN_QUESTIONS: &[&str] = &[
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

pub(super) const EN_ANSWERS: &[&str] = &[
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

pub(super) const FOLLOW_UPS: &[&str] = &[
    "还有其他可以帮您的吗？",
    "Is there anything else I can help with?",
    "如需人工服务，请回复“转人工”。",
];

pub(super) const ZH_SUPPORT_QUESTIONS: &[&str] = &[
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

pub(super) const ZH_SUPPORT_ANSWERS: &[&str] = &[
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

pub(super) const EN_SUPPORT_QUESTIONS: &[&str] = &[
    "How long does shipping take?",
    "How do I change my delivery address?",
    "My coupon code does not work",
    "Can I talk to a human?",
    "What are your opening hours?",
    "How long do refunds take?",
];

pub(super) const EN_SUPPORT_ANSWERS: &[&str] = &[
    "Standard shipping takes 3-5 business days.",
    "You can edit the address under My Orders before the parcel ships.",
    "Coupons apply only above the minimum spend and before they expire.",
    "Our agents are available from 9am to 9pm every day.",
    "Refunds reach your original payment method within 3 business days.",
];

pub(super) const ZH_AGENT_REPLIES: &[&str] = &[
    "您好，我是人工客服小李，请问有什么可以帮您？",
    "已经帮您查询到订单，明天上午会送达。",
    "这个问题我帮您登记一下，稍后专员联系您。",
    "好的，已为您申请退款，请留意短信通知。",
    "不客气，祝您生活愉快！",
];

pub(super) const EN_AGENT_REPLIES: &[&str] = &[
    "Hi, this is Sam from support. How can I help?",
    "I found your order, it will arrive tomorrow morning.",
    "I've escalated this to our billing team.",
    "Your refund has been issued, you'll get an email shortly.",
];

pub(super) const ZH_INBOX_VISITOR: &[&str] = &[
    "你好",
    "你们的课程怎么收费？",
    "有没有周末班？",
    "可以试听吗？",
    "我想找人工",
    "地址在哪里？",
    "好的谢谢",
    "Do you have English courses?",
];

pub(super) const ZH_INBOX_AI: &[&str] = &[
    "您好，我是智能助手，很高兴为您服务。",
    "我们的课程按学期收费，每学期 3800 元。",
    "周六和周日都有开班，上午和下午各一场。",
    "可以免费试听一节课，请留下您的联系方式。",
    "Yes, we offer English courses for all levels.",
];
