//! View models of the registration pages (Forms 2 and 3) for the askama templates in
//! `templates/registrations/`. They hold display strings only: national IDs arrive masked
//! (or whole, on the audited reveal), dates in the ROC calendar.

use askama::Template;
use querywarden_domain::roc_date::taipei_date;

use crate::i18n::Messages;
use crate::templates::{FormError, UserBar};

/// Today in Asia/Taipei: the ROC form in Chinese, ISO with the ROC year in English.
pub fn today_in(m: &Messages) -> String {
    let d = taipei_date(jiff::Timestamp::now());
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

/// A choice in a select or a checkbox list.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One line of an inbox: no personal data.
pub struct SummaryRow {
    pub no: String,
    pub date: String,
    pub state_code: String,
    pub state: String,
    pub items: String,
    pub basis: String,
    pub applicant: String,
    pub needer: String,
    pub querier: String,
    pub findings: String,
    pub valid_until: String,
    pub remaining: String,
}

pub struct ExpiringRow {
    pub no: String,
    pub item: String,
    pub destroy_after: String,
}

pub struct SentRow {
    pub no: String,
    pub item: String,
    pub sent_at: String,
}

/// One ethics-office alert: number, rule, time and the masked ID only.
pub struct AlertRow {
    pub no: String,
    pub rules: String,
    pub at: String,
    pub subject_id_masked: String,
}

/// One Form 3 request in a list.
pub struct RequestRow {
    pub no: String,
    pub date: String,
    pub unit: String,
    pub applicant: String,
    pub state_code: String,
    pub state: String,
    pub subjects: usize,
    pub delivery: String,
}

#[derive(Template)]
#[template(path = "registrations/inbox.html")]
pub struct RegInboxPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub can_register: bool,
    pub can_request: bool,
    pub to_approve: Vec<SummaryRow>,
    pub to_execute: Vec<SummaryRow>,
    pub expiring: Vec<ExpiringRow>,
    pub sent_without_result: Vec<SentRow>,
    pub requests_to_review: Vec<RequestRow>,
    /// §5 ¶3: Form 3 requests waiting for their consent or signature.
    pub requests_to_sign: Vec<RequestRow>,
    /// Shown only to ethics auditors (政風室).
    pub is_ethics_auditor: bool,
    pub ethics_alerts: Vec<AlertRow>,
    /// Their refused registrations and requests, not yet marked read.
    pub refusals: Vec<RefusalRow>,
    pub csrf: String,
}

/// A refusal notice in the applicant's inbox: the form's number and when.
pub struct RefusalRow {
    pub id: i64,
    pub href: String,
    pub no: String,
    pub at: String,
}

/// What the registration form echoes back after a refusal (never the national ID).
#[derive(Default, Clone, serde::Deserialize)]
pub struct RegisterValues {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub subject_name: String,
    #[serde(default)]
    pub subject_id: String,
    #[serde(default)]
    pub linked_id: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub relevance: String,
    #[serde(default)]
    pub case_no: String,
    #[serde(default)]
    pub needer: String,
    #[serde(default)]
    pub querier: String,
}

#[derive(Template)]
#[template(path = "registrations/new.html")]
pub struct RegisterPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub error: Option<FormError>,
    pub line_errors: Vec<String>,
    pub batch: bool,
    pub subject_name: String,
    pub relevance: String,
    pub case_no: String,
    pub no_case_reason: String,
    pub companion_bases: Vec<Choice>,
    pub items: Vec<Choice>,
    pub bases: Vec<Choice>,
    pub queriers: Vec<Choice>,
    pub needers: Vec<Choice>,
}

/// An execution row on the registration page.
pub struct ExecutionLine {
    pub item: String,
    pub mode: String,
    pub sent_at: String,
    pub outcome: String,
    pub note: String,
    /// The item's code, for the statement form's address.
    pub item_code: String,
    /// The viewer is the querier and the attempt awaits its outcome (§5).
    pub can_state: bool,
}

/// A result's metadata on the registration page.
pub struct ResultLine {
    pub item: String,
    pub received_at: String,
    /// 有資料 / 查無資料… in words (the stored code never reaches the page).
    pub kind: String,
    pub destroy_after: String,
    pub destroyed: bool,
}

/// The portal-mode form: what the querier reports after running the query on the portal.
pub struct PortalForm {
    pub portal_url: String,
}

#[derive(Template)]
#[template(path = "registrations/view.html")]
pub struct RegistrationPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<FormError>,
    pub no: String,
    pub date: String,
    pub state_code: String,
    pub state: String,
    pub state_detail: String,
    pub origin: String,
    pub subject_name: String,
    pub subject_id: String,
    pub linked_id: String,
    pub revealed: bool,
    pub items: Vec<String>,
    pub remaining: Vec<String>,
    pub basis: String,
    pub relevance: String,
    pub case_no: String,
    pub applicant: String,
    pub needer: String,
    pub querier: String,
    pub approver: String,
    pub findings: Vec<String>,
    pub second_approval: bool,
    pub executions: Vec<ExecutionLine>,
    pub results: Vec<ResultLine>,
    pub can_view_results: bool,
    pub can_decide: bool,
    pub can_execute: bool,
    pub can_cancel: bool,
    pub can_confirm_prints: bool,
    pub connected: bool,
    pub portal: Option<PortalForm>,
}

/// A result's content as a table (records), or a note (no data, kept document).
pub struct ContentTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub note: String,
}

#[derive(Template)]
#[template(path = "registrations/result.html")]
pub struct ResultPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub no: String,
    pub item: String,
    pub item_name: String,
    pub received_at: String,
    pub subject_name: String,
    pub subject_id_masked: String,
    pub watermark: String,
    /// Copies of the watermark text across the page.
    pub tiles: Vec<u8>,
    pub print_no: Option<i64>,
    /// 列印第 N 份 / Print no. N, on prints.
    pub print_line: String,
    /// §6 ¶2: the print names the legal basis, the case number and the approver.
    pub basis: String,
    pub case_no: String,
    pub approver: String,
    pub content: ContentTable,
    /// On prints: the latest signed audit checkpoint (§7), so a copy held outside
    /// can later prove the trail that recorded this print was not rewritten.
    pub checkpoint: Option<String>,
}

pub struct SubjectLine {
    pub position: usize,
    pub name: String,
    pub id_masked: String,
    /// §5 ¶3: the reason it was closed without a query (empty while open or run).
    pub closed: String,
}

#[derive(Template)]
#[template(path = "registrations/requests.html")]
pub struct RequestListPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub can_request: bool,
    pub rows: Vec<RequestRow>,
}

/// The Form 3 form's values echoed back after a refusal (never the subjects' IDs).
#[derive(Default, Clone, serde::Deserialize)]
pub struct RequestValues {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub applicant_title: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub fax: String,
    #[serde(default)]
    pub responsible_unit: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub relevance: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub declared_subject_count: String,
    /// One subject per line: `name,national ID[,linked ID]`.
    #[serde(default)]
    pub subjects: String,
}

#[derive(Template)]
#[template(path = "registrations/request_new.html")]
pub struct RequestNewPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub error: Option<FormError>,
    pub line_errors: Vec<String>,
    pub unit_name: String,
    pub applicant_title: String,
    pub phone: String,
    pub fax: String,
    pub relevance: String,
    pub declared: String,
    /// The subject list as typed, kept when the form is refused (sent back over the same
    /// `no-store` page; never logged or put in a URL).
    pub subjects: String,
    pub units: Vec<Choice>,
    pub bases: Vec<Choice>,
    pub items: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "registrations/request_view.html")]
pub struct RequestPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<FormError>,
    pub no: String,
    pub date: String,
    pub state_code: String,
    pub state: String,
    pub requesting_unit: String,
    pub applicant: String,
    pub applicant_title: String,
    pub phone: String,
    pub fax: String,
    pub responsible_unit: String,
    pub basis: String,
    pub relevance: String,
    pub items: String,
    pub subject_count: usize,
    pub subjects: Vec<SubjectLine>,
    pub opinion: String,
    pub reviewer: String,
    pub querier: String,
    pub delivery: String,
    pub registrations: Vec<SummaryRow>,
    /// (registration no, item, destroyed)
    pub results: Vec<(String, String, bool)>,
    pub can_review: bool,
    pub can_deliver: bool,
    pub can_view_results: bool,
    /// §5 ¶3: (which sign-off, who, when).
    pub sign_offs: Vec<(String, String, String)>,
    pub can_consent: bool,
    pub can_sign: bool,
    pub can_close: bool,
    pub queriers: Vec<Choice>,
}
