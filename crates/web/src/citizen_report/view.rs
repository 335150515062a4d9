//! What the pages and the API show of a request and a report: ROC dates, names in the
//! request's language. Shared so the page and the JSON say the same thing.

use querywarden_app::citizen_report::desk::RequestLine;
use querywarden_app::citizen_report::{CitizenReport, Refusal};
use querywarden_domain::citizen_report::IdentityCheck;
use querywarden_domain::roc_date::RocDate;
use serde_json::{Value, json};

use crate::i18n::Messages;
use crate::templates::FormError;

pub fn day(d: RocDate, m: &Messages) -> String {
    m.date(d)
}

/// A refusal as the page shows it: the message in the page's language and the stable code.
pub fn form_error(r: &Refusal, m: &Messages) -> FormError {
    FormError::refusal(m, r)
}

fn identity_name(code: &str, m: &Messages) -> String {
    match IdentityCheck::parse_code(code) {
        Some(c) if m.is_zh() => c.name_zh().to_string(),
        Some(_) => m.get(&format!("cr-identity-{}", code.replace('_', "-"))),
        None => code.to_string(),
    }
}

/// One request on the desk.
pub struct RequestRow {
    pub no: String,
    pub received: String,
    pub identity: String,
    pub asked: String,
    pub due: String,
    pub days_left: i32,
    pub overdue: bool,
    pub extended: bool,
    pub extension_reason: String,
    pub previous_due: String,
    pub answered: String,
    /// `open`, `overdue` or `answered`.
    pub state_code: String,
    pub state: String,
}

pub fn request_row(l: &RequestLine, m: &Messages) -> RequestRow {
    let r = &l.row;
    let state_code = if r.answered_on.is_some() {
        "answered"
    } else if l.overdue {
        "overdue"
    } else {
        "open"
    };
    RequestRow {
        no: r.request_no.clone(),
        received: day(r.received_on, m),
        identity: identity_name(&r.identity_check, m),
        asked: r.asked.clone(),
        due: day(r.due_on, m),
        days_left: l.working_days_left,
        overdue: l.overdue,
        extended: r.extension_reason.is_some(),
        extension_reason: r.extension_reason.clone().unwrap_or_default(),
        previous_due: r.previous_due_on.map(|d| day(d, m)).unwrap_or_default(),
        answered: r.answered_on.map(|d| day(d, m)).unwrap_or_default(),
        state_code: state_code.into(),
        state: m.get(&format!("cr-state-{state_code}")),
    }
}

/// A request in the API: ISO civil dates plus their ROC form.
pub fn request_json(l: &RequestLine) -> Value {
    let r = &l.row;
    let d = |d: RocDate| json!({ "date": d.civil().to_string(), "roc": d.format_long() });
    json!({
        "request_no": r.request_no,
        "received_on": d(r.received_on),
        "identity_check": r.identity_check,
        "signed_by_certificate": r.signer_sha256,
        "asked": r.asked,
        "due_on": d(r.due_on),
        "working_days_left": l.working_days_left,
        "overdue": l.overdue,
        "extension": r.extension_reason.as_ref().map(|reason| json!({
            "reason": reason,
            "previous_due_on": r.previous_due_on.map(d),
        })),
        "answered_on": r.answered_on.map(d),
    })
}

/// One line of the report as shown.
pub struct EntryRow {
    pub seq: u64,
    pub at: String,
    pub kind: String,
    pub kind_code: String,
    pub object: String,
    pub unit: String,
    pub staff: String,
    pub legal_basis: String,
    pub case_no: String,
    pub items: String,
    pub outcome: String,
}

pub fn entry_rows(r: &CitizenReport, m: &Messages) -> Vec<EntryRow> {
    r.entries
        .iter()
        .map(|e| EntryRow {
            seq: e.seq,
            at: e.at.clone(),
            kind: if m.is_zh() {
                e.kind.name_zh().to_string()
            } else {
                m.get(&format!("cr-kind-{}", e.kind.code().replace('_', "-")))
            },
            kind_code: e.kind.code().into(),
            object: e.object.clone(),
            unit: e.unit.clone(),
            staff: e.staff.clone().unwrap_or_default(),
            legal_basis: e.legal_basis.clone().unwrap_or_default(),
            case_no: e.case_no.clone().unwrap_or_default(),
            items: e.items.join(", "),
            outcome: outcome_text(&e.outcome, m),
        })
        .collect()
}

/// `succeeded`, `refused:<rule>`, `failed:<code>` in words, keeping the code.
fn outcome_text(outcome: &str, m: &Messages) -> String {
    match outcome.split_once(':') {
        Some((kind, code)) => m.aside(&m.get(&format!("cr-outcome-{kind}")), code),
        None => m.get(&format!("cr-outcome-{outcome}")),
    }
}

/// The report in the API: what the citizen receives under `report` (no withheld count, §10),
/// and what only the officer sees under `officer`.
pub fn report_json(r: &CitizenReport) -> Value {
    json!({
        "report": r,
        "officer": { "withheld": r.withheld },
    })
}
