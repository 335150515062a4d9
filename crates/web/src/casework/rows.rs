//! Rows and labels both areas show: a registration's summary line, a Form 3 request's line,
//! dates in the reader's calendar, and the choices of a select.

use std::collections::BTreeSet;

use querywarden_app::registration::{QueryRequestRow, RegistrationSummary};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::roc_date::RocDate;

use super::Names;
use crate::i18n::Messages;

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
    pub needer: String,
    pub querier: String,
    pub findings: String,
    pub valid_until: String,
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

/// A civil date: the ROC form in Chinese, ISO with the ROC year in English.
pub(crate) fn date(d: RocDate, m: &Messages) -> String {
    m.date(d)
}

fn codes(items: &BTreeSet<ServiceItemCode>, m: &Messages) -> String {
    items
        .iter()
        .map(ServiceItemCode::as_str)
        .collect::<Vec<_>>()
        .join(m.list_sep())
}

/// A snooping rule that matched, in the page's language.
pub(crate) fn snooping_rule(r: querywarden_domain::snooping::SnoopingRule, m: &Messages) -> String {
    if m.is_zh() { r.name_zh() } else { r.name_en() }.to_string()
}

pub(crate) fn state_label(code: &str, m: &Messages) -> String {
    m.get(&format!("reg-state-{}", code.replace('_', "-")))
}

pub(crate) fn summary_row(s: &RegistrationSummary, names: &Names, m: &Messages) -> SummaryRow {
    SummaryRow {
        no: s.no.to_string(),
        date: date(s.date, m),
        state_code: s.state.to_string(),
        state: state_label(s.state, m),
        items: codes(&s.items, m),
        basis: names.basis(&s.legal_basis),
        needer: names.person(s.parties.needer),
        querier: names.person(s.parties.querier),
        findings: s
            .findings
            .iter()
            .filter_map(|c| querywarden_domain::snooping::SnoopingRule::parse_code(c))
            .map(|r| snooping_rule(r, m))
            .collect::<Vec<_>>()
            .join(m.semicolon()),
        valid_until: s.valid_until.map(|t| m.datetime(t)).unwrap_or_default(),
    }
}

pub(crate) fn request_row(r: &QueryRequestRow, names: &Names, m: &Messages) -> RequestRow {
    RequestRow {
        no: r.request.no.to_string(),
        date: date(r.request.date, m),
        unit: names.unit(&r.request.requesting_unit),
        applicant: names.person(r.request.applicant),
        state_code: r.state.code().to_string(),
        state: m.get(&format!("req-state-{}", r.state.code())),
        subjects: r.request.subject_count,
        delivery: delivery_label(r, m),
    }
}

/// How a request's results went back: inside the system, or by official document (公文).
pub(crate) fn delivery_label(r: &QueryRequestRow, m: &Messages) -> String {
    match (r.delivery.as_deref(), &r.document_no) {
        (Some("in_system"), _) => m.get("req-delivery-in-system"),
        (Some("official_document"), Some(d)) => format!("{} {d}", m.get("req-delivery-document")),
        _ => String::new(),
    }
}

/// The catalogue's active legal bases as choices; `summary` adds the basis's summary to the
/// label (the main basis), without it only the law and article (a companion basis, §4 ¶1).
pub(crate) fn basis_choices(names: &Names, chosen: Option<&str>, summary: bool) -> Vec<Choice> {
    names
        .bases
        .iter()
        .filter(|b| b.active)
        .map(|b| Choice {
            value: b.id.as_str().to_string(),
            label: if summary {
                format!("{} {} — {}", b.law, b.article, b.summary_zh)
            } else {
                format!("{} {}", b.law, b.article)
            },
            selected: chosen == Some(b.id.as_str()),
        })
        .collect()
}
