//! View models of the registration pages (Form 2) for the askama templates in
//! `templates/registrations/`: the inbox, the form, the registration, the view-only result
//! "my registrations" and the acting supervisor's page. They hold display strings only: national IDs arrive masked (or
//! whole, on the audited reveal), dates in the ROC calendar.

use askama::Template;

use crate::casework::{Choice, RequestRow, SummaryRow};
use crate::i18n::Messages;
use crate::templates::{FormError, Frame};

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

#[derive(Template)]
#[template(path = "registrations/inbox.html")]
pub struct RegInboxPage {
    pub m: Messages,
    pub frame: Frame,
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
}

/// A refusal notice in the applicant's inbox: the form's number and when.
pub struct RefusalRow {
    pub id: i64,
    pub href: String,
    pub no: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "registrations/new.html")]
pub struct RegisterPage {
    pub m: Messages,
    pub frame: Frame,
    pub error: Option<FormError>,
    pub line_errors: Vec<String>,
    pub batch: bool,
    pub subject_name: String,
    /// The subject's ID as typed, shown again only in its field's value after a refusal
    /// (the page is `no-store`; never in the URL, the log, the message or the trail).
    pub subject_id: String,
    pub linked_id: String,
    pub relevance: String,
    pub case_no: String,
    pub no_case_reason: String,
    pub companion_bases: Vec<Choice>,
    pub items: Vec<Choice>,
    pub bases: Vec<Choice>,
    /// §5: what each legal basis allows (the catalogue's summary), shown in a `<details>`.
    pub basis_texts: Vec<BasisText>,
    pub queriers: Vec<Choice>,
    pub needers: Vec<Choice>,
}

/// A legal basis as the catalogue describes it: the citation, what the article allows (a
/// paraphrase, not the law's text) and the programmes it serves.
pub struct BasisText {
    pub citation: String,
    pub summary: String,
    pub programmes: String,
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
    pub frame: Frame,
    pub notice: Option<String>,
    pub error: Option<FormError>,
    pub no: String,
    pub date: String,
    pub state_code: String,
    pub state: String,
    pub state_detail: String,
    /// A refusal's reason as the supervisor wrote it (shown after `state_detail`).
    pub state_comment: String,
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
    pub frame: Frame,
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

/// One line of "my registrations": the form, its number, date, state and items — never a
/// subject's name or ID.
pub struct MineRow {
    pub form: String,
    pub href: String,
    pub no: String,
    pub date: String,
    pub state_code: &'static str,
    pub state: String,
    pub reason: String,
    pub items: String,
}

#[derive(Template)]
#[template(path = "registrations/mine.html")]
pub struct MinePage {
    pub m: Messages,
    pub frame: Frame,
    pub error: Option<FormError>,
    pub rows: Vec<MineRow>,
    pub states: Vec<(&'static str, String, bool)>,
    pub from: String,
    pub until: String,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    /// The previous and next page numbers (GET forms carrying the same filters).
    pub prev: Option<usize>,
    pub next: Option<usize>,
    pub state: String,
}

/// One registration waiting for the approver's decision (§5): what the decision rests on,
/// shown before its checkbox. The national ID is masked.
pub struct AwaitingRow {
    pub no: String,
    pub date: String,
    pub subject_name: String,
    pub subject_id_masked: String,
    pub items: String,
    pub basis: String,
    pub relevance: String,
    pub case_no: String,
    pub querier: String,
    pub needer: String,
    pub findings: String,
    /// This would be the second approval.
    pub second: bool,
    /// §5 ¶1: the approver decides as 代理.
    pub acting: bool,
}

/// The approval queue with its bulk form.
#[derive(Template)]
#[template(path = "registrations/approvals.html")]
pub struct ApprovalsPage {
    pub m: Messages,
    pub frame: Frame,
    pub error: Option<FormError>,
    pub rows: Vec<AwaitingRow>,
    /// How many one bulk decision may carry, in words.
    pub max_note: String,
}

/// A registration the bulk action decided, with the state it reached.
pub struct DecidedRow {
    pub no: String,
    pub state_code: String,
    pub state: String,
}

/// A registration the bulk action could not decide, and why (the code for machines).
pub struct RefusedRow {
    pub no: String,
    pub code: String,
    pub message: String,
}

/// What a bulk decision did, registration by registration.
#[derive(Template)]
#[template(path = "registrations/decisions.html")]
pub struct DecisionsPage {
    pub m: Messages,
    pub frame: Frame,
    pub approve: bool,
    /// How many were decided and how many refused, in words.
    pub summary: String,
    pub decided: Vec<DecidedRow>,
    pub refused: Vec<RefusedRow>,
}

/// Another unit whose deputy the viewer registers.
pub struct DeputyUnitLink {
    pub href: String,
    pub name: String,
}

/// The deputy page (§5 ¶1): a unit's supervisor and present deputy, and the form as typed.
#[derive(Template)]
#[template(path = "registrations/deputy.html")]
pub struct DeputyPage {
    pub m: Messages,
    pub frame: Frame,
    pub action: String,
    pub unit_name: String,
    pub supervisor: Option<String>,
    /// The present deputy and their period, in words.
    pub deputy: Option<String>,
    /// (account, name, chosen) of each person who may be chosen.
    pub candidates: Vec<(String, String, bool)>,
    pub units: Vec<DeputyUnitLink>,
    pub from: String,
    pub until: String,
    pub notice: Option<String>,
    pub error: Option<FormError>,
}
