//! English and Simplified Chinese: the language of a page comes from `?lang=` (which also sets
//! the `lang` cookie) or the cookie; English by default. Region names are shown in both.

use axum::http::request::Parts;
use axum_extra::extract::cookie::CookieJar;

pub use counterpart_app::lang::Lang;

/// The language a request asks for: `?lang=` first, then the cookie.
pub fn lang_of(parts: &Parts) -> Lang {
    if let Some(lang) = chosen(parts) {
        return lang;
    }
    let jar = CookieJar::from_headers(&parts.headers);
    match jar.get("lang").map(|c| c.value()) {
        Some("zh") => Lang::Zh,
        _ => Lang::En,
    }
}

/// Whether the request chose the language explicitly (so the cookie should remember it).
pub fn chosen(parts: &Parts) -> Option<Lang> {
    let query = parts.uri.query().unwrap_or("");
    query.split('&').find_map(|pair| match pair {
        "lang=zh" => Some(Lang::Zh),
        "lang=en" => Some(Lang::En),
        _ => None,
    })
}

/// The pages' own phrases, by key.
pub trait Phrases {
    /// The phrase for `key` in this language; the key itself when it has none.
    fn t(self, key: &'static str) -> &'static str;
}

impl Phrases for Lang {
    fn t(self, key: &'static str) -> &'static str {
        match PHRASES.iter().find(|(k, _, _)| *k == key) {
            Some((_, en, zh)) => match self {
                Lang::En => en,
                Lang::Zh => zh,
            },
            None => key,
        }
    }
}

/// Every phrase of the pages: key, English, Chinese.
const PHRASES: &[(&str, &str, &str)] = &[
    ("app", "Counterpart", "对口支援管理"),
    ("overview", "Overview", "总览"),
    ("projects", "Projects", "项目"),
    ("project", "Project", "项目"),
    ("posted", "Posted", "已记录"),
    ("ledger", "Ledger", "资金台账"),
    ("pairing", "Pairing", "结对方案"),
    ("assessment", "Assessment", "年度考核"),
    ("audit", "Audit log", "审计日志"),
    ("security_events", "Security events", "安全事件"),
    (
        "security_events_note",
        "Sign-ins, failed sign-ins, refused requests and unknown tokens since the server started (the latest 200 shown; all are in the server's log).",
        "自服务器启动以来的登录、登录失败、被拒绝的请求和未知令牌（显示最近 200 条；全部记录在服务器日志中）。",
    ),
    ("sign_in", "Sign in", "登录"),
    ("sign_out", "Sign out", "退出"),
    ("signed_in_as", "Signed in as", "当前用户"),
    ("switch", "中文", "English"),
    ("name", "Account", "账号"),
    ("password", "Password", "密码"),
    ("account", "Account", "账户"),
    (
        "one_time_code",
        "One-time code (if two-step sign-in is on)",
        "一次性验证码（如已开启两步登录）",
    ),
    ("key", "Key", "密钥"),
    ("second_factor", "Two-step sign-in", "两步登录"),
    (
        "second_factor_on",
        "On: every sign-in asks for a code from your authenticator app. To turn it off or move it to a new phone, ask the program office.",
        "已开启：每次登录都需要身份验证器应用中的验证码。如需关闭或更换手机，请联系项目办公室。",
    ),
    (
        "second_factor_off",
        "Off: a password alone signs in.",
        "未开启：仅凭密码即可登录。",
    ),
    ("second_factor_set_up", "Set it up", "开启"),
    (
        "second_factor_setup",
        "Add this key to an authenticator app (any app for time-based codes), then type your password and the code the app shows. Every session of this account then ends: sign in again with a code.",
        "请将此密钥添加到身份验证器应用（任何基于时间的验证码应用），然后输入密码和应用显示的验证码。之后该账户的所有会话都将结束：请使用验证码重新登录。",
    ),
    (
        "second_factor_turn_on",
        "Turn on two-step sign-in",
        "开启两步登录",
    ),
    (
        "second_factor_missing",
        "This server requires two-step sign-in and the account has none yet: ask the program office to set it up (second_factor_required)",
        "本服务器要求两步登录，而该账户尚未开启：请联系项目办公室开启 (second_factor_required)",
    ),
    ("current_password", "Current password", "当前密码"),
    ("new_password", "New password", "新密码"),
    ("new_password_again", "New password again", "再次输入新密码"),
    ("change_password", "Change password", "修改密码"),
    (
        "password_changed",
        "The password is changed; every other session of this account has ended.",
        "密码已修改；该账户的其他会话均已结束。",
    ),
    (
        "password_policy",
        "At least 10 characters of any kind, and not easy to guess: common and breached passwords, names, dates, keyboard patterns and the account's own name or office are refused. A few uncommon words together make a strong password.",
        "至少 10 个任意字符，且不易被猜中：常见密码、泄露过的密码、名称、日期、键盘序列以及账户本身的名称或单位均不可用。几个不常见的词组合在一起就是强密码。",
    ),
    ("provider", "Provider", "支援方"),
    ("recipient", "Recipient", "受援地"),
    ("category", "Category", "类别"),
    ("status", "Status", "状态"),
    ("date", "Date", "日期"),
    ("housing_units", "Homes", "住房（套）"),
    ("school_places", "School places", "学位"),
    ("hospital_beds", "Hospital beds", "病床"),
    ("jobs", "Jobs", "就业岗位"),
    ("people_trained", "People trained", "培训人数"),
    ("beneficiaries", "Beneficiaries", "受益人数"),
    ("year", "Year", "年份"),
    ("budget", "Budget (yuan)", "预算（元）"),
    ("title", "Title", "名称"),
    ("title_en", "Title (English)", "英文名称"),
    ("title_zh", "Title (Chinese)", "中文名称"),
    ("id", "Id", "编号"),
    ("filter", "Filter", "筛选"),
    ("new_project", "Record a project", "登记项目"),
    ("record", "Record", "登记"),
    ("transfers", "Transfers", "资金往来"),
    ("kind", "Kind", "类型"),
    ("amount", "Amount (yuan)", "金额（元）"),
    ("value_date", "Value date", "起息日"),
    ("corrects", "Corrects", "更正"),
    ("post_transfer", "Post a transfer", "记录资金"),
    ("post", "Post", "提交"),
    ("sign_off", "Sign off", "验收确认"),
    ("signed_off", "Signed off", "已验收"),
    ("not_signed_off", "Not signed off yet", "尚未验收"),
    ("awaiting", "Awaiting your sign-off", "待您验收"),
    (
        "awaiting_other",
        "Awaiting the recipient's sign-off",
        "待受援方验收",
    ),
    ("steps", "Steps of the project's life", "项目进展"),
    ("next_step", "Next step", "下一步"),
    ("record_step", "Record the step", "记录进展"),
    ("step_recorded", "Step recorded", "已记录进展"),
    ("page", "Page", "页"),
    ("of", "of", "共"),
    ("next", "Next", "下一页"),
    ("previous", "Previous", "上一页"),
    ("provenance", "Provenance", "数据来源"),
    (
        "funds_by_year",
        "Funds disbursed by year and category",
        "历年按类别拨付资金",
    ),
    (
        "pairs_map",
        "Who helps whom: recipient areas by provider",
        "结对关系：受援地按支援方着色",
    ),
    ("poverty", "Poverty against the target", "贫困人口与目标"),
    (
        "series_simulated",
        "simulated series; targets published",
        "模拟序列；目标为公开数据",
    ),
    (
        "series_published",
        "published series and targets",
        "公开序列与目标",
    ),
    (
        "simulated_banner",
        "Demo: projects, money, people and outcome series are SIMULATED records made by a generator; the pairing table and published figures are real.",
        "演示数据：项目、资金、人员和成效序列均为生成器模拟的记录；结对关系和公开数据为真实数据。",
    ),
    ("scorecard", "Provider scorecard", "支援方记分卡"),
    ("recipient_page", "Recipient", "受援地"),
    ("when", "When", "时间"),
    ("who", "Who", "操作人"),
    ("what", "What", "操作"),
    ("target", "Record", "对象"),
    ("before", "Before", "之前"),
    ("after", "After", "之后"),
    ("people", "People", "人员"),
    ("role", "Role", "身份"),
    (
        "weight_fit",
        "Fit: points per shared tag",
        "契合度：每个共同标签的分数",
    ),
    ("weight_gap", "Gap: up to", "差距：最多"),
    (
        "weight_proportionality",
        "Proportionality: penalty per unit off",
        "比例：每单位偏离的罚分",
    ),
    (
        "weight_continuity",
        "Continuity: per kept pair",
        "延续性：每个保留结对",
    ),
    (
        "why_not_provider",
        "Why not this provider…",
        "为何不让此支援方…",
    ),
    ("why_not_recipient", "…with this area?", "…支援此地区？"),
    ("propose", "Propose", "生成方案"),
    (
        "pairing_controls_note",
        "Change the weights to see another proposal, or pick a provider and an area to see what forcing that pair would cost and which pairs it would displace. Each proposal takes a few seconds.",
        "修改权重可得到另一方案；选择支援方和地区，可查看强制该结对的代价及其将替换的结对。每次生成方案需要数秒。",
    ),
    (
        "pairing_sign_in_note",
        "The proposal for the program's default weights. The program office and auditors, signed in, can change the weights and ask why a pair is not proposed.",
        "按项目默认权重生成的方案。项目办公室和审计人员登录后可修改权重，并查询某结对为何未被提出。",
    ),
    (
        "pairing_staff_only",
        "Only the program office and auditors may change the weights or ask about a pair: sign in as one",
        "只有项目办公室和审计人员可以修改权重或查询结对：请以其身份登录",
    ),
    (
        "published_pairing_table",
        "the published 2010 pairing table",
        "公开的2010年结对表",
    ),
    ("postings", "Postings", "派驻人次"),
    ("postings_total", "Postings", "派驻人次合计"),
    ("error", "Error", "错误"),
    ("download_csv", "Download CSV", "下载 CSV"),
    ("all", "all", "全部"),
    (
        "computing",
        "The pairing proposal is being computed (a few seconds); reload the page.",
        "结对方案计算中（数秒），请刷新页面。",
    ),
    ("denied_other", "You may not do this", "您无权执行此操作"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_has_one_key_and_both_languages() {
        let mut keys: Vec<&str> = PHRASES.iter().map(|p| p.0).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before, "a key appears twice in PHRASES");
        for (key, en, zh) in PHRASES {
            assert!(!en.is_empty() && !zh.is_empty(), "{key} lacks a language");
            assert!(
                !zh.is_ascii() || matches!(*key, "switch"),
                "{key}: the Chinese {zh:?} is not Chinese"
            );
        }
        assert_eq!(Lang::Zh.t("ledger"), "资金台账");
        assert_eq!(Lang::Zh.t("series_published"), "公开序列与目标");
        assert_eq!(Lang::En.t("ledger"), "Ledger");
        assert_eq!(Lang::Zh.t("no_such_key"), "no_such_key");
    }
}
