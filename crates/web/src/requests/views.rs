//! View models of the Form 3 pages (§5 ¶3) for the askama templates in
//! `templates/registrations/`: the list, the form, and the request with its review,
//! sign-offs and delivery. They hold display strings only: subjects' IDs arrive masked.

use askama::Template;

use crate::casework::{Choice, RequestRow, SummaryRow};
use crate::i18n::Messages;
use crate::templates::{FormError, Frame};

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
    pub frame: Frame,
    pub can_request: bool,
    pub rows: Vec<RequestRow>,
}

#[derive(Template)]
#[template(path = "registrations/request_new.html")]
pub struct RequestNewPage {
    pub m: Messages,
    pub frame: Frame,
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
    pub frame: Frame,
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
    /// §5 ¶3: (which sign-off's code, the sentence naming whom it waits for) for each
    /// sign-off still awaited.
    pub awaited: Vec<(String, String)>,
    pub can_consent: bool,
    pub can_sign: bool,
    pub can_close: bool,
    pub queriers: Vec<Choice>,
    /// §5 ¶3: the viewer is the querier of approved registrations with items left.
    pub can_run_all: bool,
    /// Portal mode: the run-all form asks for the querier's report.
    pub portal: bool,
}

/// One item of one registration run by "run everything".
pub struct RunLine {
    pub no: String,
    pub item: String,
    /// `received`, `no_data`, `failed`, `unknown`, `recorded`.
    pub outcome_code: &'static str,
    pub outcome: String,
}

/// A registration the policy refused to run, and why (the code for machines).
pub struct RunRefused {
    pub no: String,
    pub code: String,
    pub message: String,
}

/// What running every approved item of a request did.
#[derive(Template)]
#[template(path = "registrations/request_run.html")]
pub struct RunAllPage {
    pub m: Messages,
    pub frame: Frame,
    /// The request's number.
    pub no: String,
    pub lines: Vec<RunLine>,
    pub refused: Vec<RunRefused>,
}
