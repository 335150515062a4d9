//! What the registrations and requests areas share (§4–§6, Forms 2 and 3), so that neither
//! area's handlers import the other's: names for ids, dates and labels in the reader's
//! language, the rows both areas list, and one shape for a refusal — audited by the use
//! case, then shown as a page with its status or answered as JSON with its stable code.
//! No handler lives here.
//!
//! Security-sensitive only in what it must not do: the rows carry no subject's name or ID.

mod json;
mod names;
mod page;
mod rows;

pub(crate) use json::{ApiCall, answer, registration_no, request_json, request_no, summary_json};
pub(crate) use names::Names;
pub(crate) use page::{
    Answer, CaseForm, Caseworker, NoticeQuery, denied_status, form_error, line_errors, opt,
};
pub(crate) use rows::{
    Choice, RequestRow, SummaryRow, basis_choices, date, delivery_label, request_row,
    snooping_rule, state_label, summary_row,
};
