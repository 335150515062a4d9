//! View models: one plain struct per document, filled by the application layer from its
//! records, holding only what is printed (already formatted: ROC dates, masked IDs). Query
//! result data has no field here, so it cannot reach a document (§6).

use crate::fields::Fields;
use crate::template::DocumentKind;

/// An approval in a seal box (核章): name, role, ROC date and time, and 電子簽核 to say the
/// seal is an electronic sign-off, not a stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub name: String,
    pub role: String,
    /// ROC date and time, Asia/Taipei (民國 115 年 11 月 26 日 14:03).
    pub at: String,
}

impl Seal {
    fn text(&self) -> String {
        format!("{}（{}）\n{}\n電子簽核", self.name, self.role, self.at)
    }
}

fn seal(s: &Option<Seal>) -> String {
    s.as_ref().map(Seal::text).unwrap_or_default()
}

/// Form 1's 申請事項.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationKind {
    New,
    Revoke,
    ChangeItems,
    JobChange,
}

/// The permission administrator's decision box (權限管理者核章: 擬 准予申請 / 不同意 / 其他).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdministratorDecision {
    Pending,
    Approved { effective: String },
    Refused { reason: String },
    Other { text: String },
}

/// The service items printed as check boxes on Form 1, in the blank's order.
pub const FORM1_ITEMS: [&str; 9] = [
    "C0101", "B0101", "B0201", "B0301", "P0301", "N0101", "T0101", "B0401", "P0401",
];

/// 附表 1 資料查詢者權限申請表.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionApplicationForm {
    pub form_no: String,
    pub application_date: String,
    pub unit: String,
    pub title_and_name: String,
    pub kind: ApplicationKind,
    pub reason: String,
    /// The applicant's own ID: whole only when the viewer may see it (a recorded reveal).
    pub national_id: String,
    pub phone: String,
    pub email: String,
    pub egov_account: String,
    /// Requested item codes; codes not on the blank go under 其他.
    pub items: Vec<String>,
    pub applicant: Option<Seal>,
    pub applicant_supervisor: Option<Seal>,
    pub decision: AdministratorDecision,
    pub administrator: Option<Seal>,
    pub administrator_supervisor: Option<Seal>,
}

/// One row of the register (附表 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRow {
    pub registration_no: String,
    pub application_date: String,
    pub subject_name: String,
    pub subject_id: String,
    pub items: String,
    /// 查調事由: legal basis and relevance (§5).
    pub reason: String,
    /// 需要資料者 (delegated queries) — the querier again when the querier needs it.
    pub requester: String,
    pub querier: String,
    pub approval: Option<Seal>,
}

/// 附表 2 查調資料登記表: one sheet per unit and period, or a single registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRegisterForm {
    pub unit: String,
    pub period: String,
    pub rows: Vec<RegisterRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSubject {
    pub name: String,
    pub id: String,
}

/// 附表 3 查調資料申請表.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRequestForm {
    pub request_no: String,
    pub requesting_unit: String,
    pub date: String,
    pub applicant: String,
    pub title: String,
    pub phone: String,
    pub fax: String,
    pub reason: String,
    pub items: String,
    pub subjects: Vec<RequestSubject>,
    pub review_opinion: String,
    pub applicant_seal: Option<Seal>,
    pub querier_seal: Option<Seal>,
    pub applicant_supervisor_seal: Option<Seal>,
    pub using_unit_supervisor_seal: Option<Seal>,
}

/// A sampled case of an audit, in the order drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCase {
    pub reference: String,
    pub date: String,
    pub items: String,
    pub documents: String,
}

/// 附表 4 稽核紀錄表.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecordForm {
    pub audit_no: String,
    pub period_from: String,
    pub period_to: String,
    pub audit_date: String,
    pub querier: String,
    pub auditing_unit: String,
    pub auditing_phone: String,
    pub auditor: String,
    pub documents_deadline: String,
    pub cases: Vec<AuditCase>,
    pub opinion: String,
    pub querier_seal: Option<Seal>,
    pub auditor_seal: Option<Seal>,
    pub using_unit_supervisor_seal: Option<Seal>,
    pub auditing_unit_supervisor_seal: Option<Seal>,
    /// §8: 經局長核閱後存查.
    pub director_review: Option<Seal>,
}

/// A named count for the report's charts and tables (queries per item, per unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFinding {
    pub finding: String,
    pub conclusion: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportViolation {
    pub case: String,
    pub status: String,
}

/// The latest signed audit checkpoint, as the recipient needs it to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    pub tree_size: u64,
    pub root_hash: String,
    pub key_id: String,
    pub signature: String,
    pub signed_at: String,
}

/// §7: the quarterly review of the usage records, sent to 勞工局.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarterlyReport {
    pub quarter: String,
    pub period: String,
    pub reviewer: String,
    pub reviewed_at: String,
    pub item_counts: Vec<CountRow>,
    pub unit_counts: Vec<CountRow>,
    pub reconciliation: String,
    pub findings: Vec<ReportFinding>,
    pub violations: Vec<ReportViolation>,
    pub conclusion: String,
    pub checkpoint: Option<CheckpointInfo>,
}

/// One line of the citizen's reply: what the bureau did with the citizen's data. Never result
/// data (§6); the staff name only where the configuration shows names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterEntry {
    /// The audit record's sequence number, whose inclusion proof is in the JSON appendix.
    pub seq: u64,
    /// 民國 年 月 日 時:分.
    pub at: String,
    /// 查調登記, 查調執行, 檢視結果…
    pub what: String,
    /// The unit, and the staff member's name where shown.
    pub by: String,
    /// Legal basis and case number, when the entry belongs to a registration.
    pub basis: String,
    pub items: String,
    pub outcome: String,
}

/// 當事人查詢個人資料答復書: the bureau's reply to a citizen's access request
/// (個人資料保護法 §3, §10, §13) — the decision and the list of who looked up the citizen's
/// labour-insurance data, when and why. §10 withheld entries are simply not in `entries`
/// (the letter does not count them: telling would defeat the withholding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenReplyLetter {
    pub request_no: String,
    pub letter_date: String,
    pub received_on: String,
    pub due_on: String,
    /// The citizen's national ID, masked (the letter goes to a known address; the whole ID
    /// is not needed to recognise it).
    pub subject_id: String,
    pub asked: String,
    pub entries: Vec<LetterEntry>,
    pub tree_size: u64,
    pub root_hash: String,
    /// 個人資料保護聯絡窗口: the officer who produced the reply.
    pub officer: Option<Seal>,
}

/// Any document, ready to lay out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentModel {
    Form1(PermissionApplicationForm),
    Form2(QueryRegisterForm),
    Form3(ExternalRequestForm),
    Form4(AuditRecordForm),
    Quarterly(QuarterlyReport),
    CitizenLetter(CitizenReplyLetter),
}

impl DocumentModel {
    pub fn kind(&self) -> DocumentKind {
        match self {
            Self::Form1(_) => DocumentKind::Form1,
            Self::Form2(_) => DocumentKind::Form2,
            Self::Form3(_) => DocumentKind::Form3,
            Self::Form4(_) => DocumentKind::Form4,
            Self::Quarterly(_) => DocumentKind::QuarterlyReport,
            Self::CitizenLetter(_) => DocumentKind::CitizenLetter,
        }
    }

    pub fn fields(&self) -> Fields {
        match self {
            Self::Form1(f) => form1(f),
            Self::Form2(f) => form2(f),
            Self::Form3(f) => form3(f),
            Self::Form4(f) => form4(f),
            Self::Quarterly(r) => quarterly(r),
            Self::CitizenLetter(l) => citizen_letter(l),
        }
    }
}

fn form1(f: &PermissionApplicationForm) -> Fields {
    let mut fields = Fields::new()
        .text("form_no", &f.form_no)
        .text("application_date", &f.application_date)
        .text("unit", &f.unit)
        .text("title_and_name", &f.title_and_name)
        .flag("kind_new", f.kind == ApplicationKind::New)
        .flag("kind_revoke", f.kind == ApplicationKind::Revoke)
        .flag("kind_change_items", f.kind == ApplicationKind::ChangeItems)
        .flag("kind_job_change", f.kind == ApplicationKind::JobChange)
        .text("reason", &f.reason)
        .text("national_id", &f.national_id)
        .text("phone", &f.phone)
        .text("email", &f.email)
        .text("egov_account", &f.egov_account)
        .text("applicant_seal", seal(&f.applicant))
        .text("applicant_supervisor_seal", seal(&f.applicant_supervisor))
        .text("administrator_seal", seal(&f.administrator))
        .text(
            "administrator_supervisor_seal",
            seal(&f.administrator_supervisor),
        );
    for code in FORM1_ITEMS {
        fields = fields.flag(&format!("item_{code}"), f.items.iter().any(|i| i == code));
    }
    let others: Vec<&str> = f
        .items
        .iter()
        .map(String::as_str)
        .filter(|i| !FORM1_ITEMS.contains(i))
        .collect();
    fields = fields
        .flag("item_other", !others.is_empty())
        .text("item_other_text", others.join("、"));
    let (approved, refused, other, effective, refuse_reason, other_text) = match &f.decision {
        AdministratorDecision::Pending => (false, false, false, "", "", ""),
        AdministratorDecision::Approved { effective } => {
            (true, false, false, effective.as_str(), "", "")
        }
        AdministratorDecision::Refused { reason } => (false, true, false, "", reason.as_str(), ""),
        AdministratorDecision::Other { text } => (false, false, true, "", "", text.as_str()),
    };
    fields
        .flag("decision_approved", approved)
        .flag("decision_refused", refused)
        .flag("decision_other", other)
        .text("effective_date", effective)
        .text("refuse_reason", refuse_reason)
        .text("other_text", other_text)
}

fn form2(f: &QueryRegisterForm) -> Fields {
    let rows = f
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Fields::new()
                .text("no", (i + 1).to_string())
                .text("registration_no", &r.registration_no)
                .text("application_date", &r.application_date)
                .text("subject_name", &r.subject_name)
                .text("subject_id", &r.subject_id)
                .text("items", &r.items)
                .text("reason", &r.reason)
                .text("requester", &r.requester)
                .text("querier", &r.querier)
                .text("approval", seal(&r.approval))
        })
        .collect();
    Fields::new()
        .text("unit", &f.unit)
        .text("period", &f.period)
        .list("rows", rows)
}

fn form3(f: &ExternalRequestForm) -> Fields {
    let subjects = f
        .subjects
        .iter()
        .map(|s| Fields::new().text("name", &s.name).text("id", &s.id))
        .collect();
    Fields::new()
        .text("request_no", &f.request_no)
        .text("requesting_unit", &f.requesting_unit)
        .text("date", &f.date)
        .text("applicant", &f.applicant)
        .text("title", &f.title)
        .text("phone", &f.phone)
        .text("fax", &f.fax)
        .text("reason", &f.reason)
        .text("items", &f.items)
        .text("subject_count", f.subjects.len().to_string())
        .list("subjects", subjects)
        .text("review_opinion", &f.review_opinion)
        .text("applicant_seal", seal(&f.applicant_seal))
        .text("querier_seal", seal(&f.querier_seal))
        .text(
            "applicant_supervisor_seal",
            seal(&f.applicant_supervisor_seal),
        )
        .text(
            "using_unit_supervisor_seal",
            seal(&f.using_unit_supervisor_seal),
        )
}

fn form4(f: &AuditRecordForm) -> Fields {
    let cases = f
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Fields::new()
                .text("n", (i + 1).to_string())
                .text("reference", &c.reference)
                .text("date", &c.date)
                .text("items", &c.items)
                .text("documents", &c.documents)
        })
        .collect();
    Fields::new()
        .text("audit_no", &f.audit_no)
        .text("period_from", &f.period_from)
        .text("period_to", &f.period_to)
        .text("audit_date", &f.audit_date)
        .text("querier", &f.querier)
        .text("auditing_unit", &f.auditing_unit)
        .text("auditing_phone", &f.auditing_phone)
        .text("auditor", &f.auditor)
        .text("documents_deadline", &f.documents_deadline)
        .text("case_count", f.cases.len().to_string())
        .list("cases", cases)
        .text("opinion", &f.opinion)
        .text("querier_seal", seal(&f.querier_seal))
        .text("auditor_seal", seal(&f.auditor_seal))
        .text(
            "using_unit_supervisor_seal",
            seal(&f.using_unit_supervisor_seal),
        )
        .text(
            "auditing_unit_supervisor_seal",
            seal(&f.auditing_unit_supervisor_seal),
        )
        .text(
            "director_review",
            f.director_review
                .as_ref()
                .map(|s| format!("{}（{}）{} 電子簽核", s.name, s.role, s.at))
                .unwrap_or_else(|| "（尚未核閱）".to_string()),
        )
}

/// The rows behind a chart and its table: the name, the count (a number, which the chart
/// draws and the table prints) and its share of the whole, e.g. 80.0%.
fn counts(rows: &[CountRow]) -> Vec<Fields> {
    let total: u128 = rows.iter().map(|r| u128::from(r.count)).sum();
    rows.iter()
        .map(|r| {
            let share = if total == 0 {
                "—".to_string()
            } else {
                // Per mille, rounded half up, printed as a percentage with one decimal.
                let permille = (u128::from(r.count) * 1000 * 2 + total) / (2 * total);
                format!("{}.{}%", permille / 10, permille % 10)
            };
            Fields::new()
                .text("name", &r.name)
                .number("count", r.count)
                .text("share", share)
        })
        .collect()
}

fn quarterly(r: &QuarterlyReport) -> Fields {
    let findings = r
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Fields::new()
                .text("n", (i + 1).to_string())
                .text("finding", &f.finding)
                .text("conclusion", &f.conclusion)
        })
        .collect();
    let violations = r
        .violations
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Fields::new()
                .text("n", (i + 1).to_string())
                .text("case", &v.case)
                .text("status", &v.status)
        })
        .collect();
    let total: u64 = r.item_counts.iter().map(|c| c.count).sum();
    let (size, root, key, sig, at) = match &r.checkpoint {
        Some(c) => (
            c.tree_size.to_string(),
            c.root_hash.clone(),
            c.key_id.clone(),
            c.signature.clone(),
            c.signed_at.clone(),
        ),
        None => (
            "（尚無已簽章之查核點）".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    Fields::new()
        .text("quarter", &r.quarter)
        .text("period", &r.period)
        .text("reviewer", &r.reviewer)
        .text("reviewed_at", &r.reviewed_at)
        .text("total", total.to_string())
        .list("item_counts", counts(&r.item_counts))
        .list("unit_counts", counts(&r.unit_counts))
        .text("reconciliation", &r.reconciliation)
        .list("findings", findings)
        .list("violations", violations)
        .text("conclusion", &r.conclusion)
        .text("tree_size", size)
        .text("root_hash", root)
        .text("key_id", key)
        .text("signature", sig)
        .text("signed_at", at)
}

fn citizen_letter(l: &CitizenReplyLetter) -> Fields {
    let entries = l
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Fields::new()
                .text("n", (i + 1).to_string())
                .text("seq", e.seq.to_string())
                .text("at", &e.at)
                .text("what", &e.what)
                .text("by", &e.by)
                .text("basis", &e.basis)
                .text("items", &e.items)
                .text("outcome", &e.outcome)
        })
        .collect();
    let decision = if l.entries.is_empty() {
        "准予提供。經查本局無查調台端勞保資料之紀錄。".to_string()
    } else {
        format!(
            "准予提供。本局查調台端勞保資料之紀錄計 {} 筆，詳如下表。",
            l.entries.len()
        )
    };
    Fields::new()
        .text("request_no", &l.request_no)
        .text("letter_date", &l.letter_date)
        .text("received_on", &l.received_on)
        .text("due_on", &l.due_on)
        .text("subject_id", &l.subject_id)
        .text("asked", &l.asked)
        .text("decision", decision)
        .list("entries", entries)
        .text("tree_size", l.tree_size.to_string())
        .text("root_hash", &l.root_hash)
        .text("officer_seal", seal(&l.officer))
}
