//! Bulk approval (§5) as a page and as JSON: the supervisor's approval queue with, for each
//! waiting registration, the subject's name and masked ID, the querier, the legal basis and
//! the relevance before its checkbox; one form approves the ticked ones, or rejects them
//! with one reason; the answer lists what was decided and what was refused and why.
//!
//! Handlers are thin: they parse the numbers and the decision and call
//! `querywarden_app::registration::decide_many`, which decides (and audits) each
//! registration on its own. The page and `POST /api/v1/registrations/decisions` refuse the
//! same things with the same codes. Security-sensitive: the queue shows personal data (its
//! read is audited by `awaiting_decision`); numbers travel in POST bodies only.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::registration::{self as reg, Decision, Denied, ItemDecision};
use querywarden_domain::registration::RegistrationNo;
use serde_json::{Value, json};

use super::input::{BulkDecideForm, BulkDecisionBody};
use super::views::{ApprovalsPage, AwaitingRow, DecidedRow, DecisionsPage, RefusedRow};
use crate::casework::{
    Answer, ApiCall, CaseForm, Caseworker, Names, date, denied_status, form_error,
};
use crate::error::ApiError;
use crate::pages::render;
use crate::templates::FormError;

const QUEUE_PATH: &str = "/registrations/approvals";

/// The posted numbers; `None` if one cannot be a registration number.
fn numbers(raw: &[String]) -> Option<Vec<RegistrationNo>> {
    raw.iter().map(|n| RegistrationNo::parse(n).ok()).collect()
}

/// The decision a form or body names: `approve` (with an optional comment) or `reject`
/// (with the one reason for all).
fn decision<'a>(kind: &str, comment: &'a str) -> Option<Decision<'a>> {
    match kind.trim() {
        "approve" => Some(Decision::Approve(Some(comment))),
        "reject" => Some(Decision::Reject(comment)),
        _ => None,
    }
}

/// `GET /registrations/approvals`: the queue.
pub async fn approvals_page(c: Caseworker) -> Answer {
    queue(&c, None, StatusCode::OK).await
}

/// The queue, with a refusal of the whole bulk action if there was one.
async fn queue(c: &Caseworker, error: Option<FormError>, status: StatusCode) -> Answer {
    let fail = c.fail(QUEUE_PATH);
    let waiting = reg::awaiting_decision(&c.desk(), c.me(), Timestamp::now(), c.op_id())
        .await
        .map_err(&fail)?;
    let names = Names::load(&c.state, c.me(), &c.m).await.map_err(&fail)?;
    let m = &c.m;
    let rows = waiting
        .iter()
        .map(|w| AwaitingRow {
            no: w.no.to_string(),
            date: date(w.date, m),
            subject_name: w.subject_name.clone(),
            subject_id_masked: w.subject_id_masked.clone(),
            items: w
                .items
                .iter()
                .map(|i| names.item(i))
                .collect::<Vec<_>>()
                .join(m.list_sep()),
            basis: names.basis(&w.legal_basis),
            relevance: w.relevance.clone(),
            case_no: w.case_no.clone().unwrap_or_default(),
            querier: names.person(w.parties.querier),
            needer: names.person(w.parties.needer),
            findings: w
                .findings
                .iter()
                .map(|r| crate::casework::snooping_rule(*r, m))
                .collect::<Vec<_>>()
                .join(m.semicolon()),
            second: matches!(
                w.step,
                querywarden_domain::registration::ApprovalStep::Second
            ),
            acting: w.acting,
        })
        .collect();
    let page = ApprovalsPage {
        frame: c.frame(QUEUE_PATH),
        error,
        rows,
        max_note: m.with("bulk-max", &[("max", reg::MAX_BULK_DECISIONS.to_string())]),
        m: m.clone(),
    };
    Ok((status, render(&page, &c.op)).into_response())
}

/// `POST /registrations/decisions`: decides each ticked registration, then lists what was
/// decided and what was refused; a refusal of the whole action shows the queue again.
pub async fn decide_page(CaseForm(c, form): CaseForm<BulkDecideForm>) -> Answer {
    // As the API answers: a number that cannot be one, or a decision outside the two, is a
    // malformed request (422 `request.malformed`).
    let parsed = numbers(&form.registrations).zip(decision(&form.decision, &form.comment));
    let Some((nos, d)) = parsed else {
        let e = FormError {
            code: "request.malformed".into(),
            message: c.m.get("bulk-malformed"),
        };
        return queue(&c, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let decided = reg::decide_many(&c.desk(), c.me(), &nos, d, Timestamp::now(), c.op_id())
        .await
        .map_err(c.fail(QUEUE_PATH))?;
    let items = match decided {
        Ok(items) => items,
        Err(refused) => {
            return queue(
                &c,
                Some(form_error(&refused, &c.m)),
                denied_status(&refused),
            )
            .await;
        }
    };
    let m = &c.m;
    let mut page = DecisionsPage {
        frame: c.frame("/registrations/decisions"),
        approve: matches!(d, Decision::Approve(_)),
        summary: String::new(),
        decided: Vec::new(),
        refused: Vec::new(),
        m: m.clone(),
    };
    for ItemDecision { no, answer } in &items {
        match answer {
            Ok(state) => page.decided.push(DecidedRow {
                no: no.to_string(),
                state_code: state.code().to_string(),
                state: crate::casework::state_label(state.code(), m),
            }),
            Err(why) => {
                let e = form_error(why, m);
                page.refused.push(RefusedRow {
                    no: no.to_string(),
                    code: e.code,
                    message: e.message,
                });
            }
        }
    }
    page.summary = m.with(
        "bulk-result-summary",
        &[
            ("decided", page.decided.len().to_string()),
            ("refused", page.refused.len().to_string()),
        ],
    );
    Ok(render(&page, &c.op))
}

/// One refused registration in the API's answer: its code and both sentences, as a single
/// refusal would carry them.
fn refused_json(no: RegistrationNo, d: &Denied) -> Value {
    let (zh, en) = crate::refusals::denied_both(d);
    json!({ "no": no.to_string(), "code": d.code(), "message": zh, "message_en": en })
}

/// 批次核准或退回 bulk approve or reject: {decision: approve|reject, comment, registrations: [no…]}; each decided and audited on its own — answers {decided: [{no, state}], refused: [{no, code, message, message_en}]}
///
/// `POST /api/v1/registrations/decisions`.
#[utoipa::path(post, path = "/api/v1/registrations/decisions", request_body = BulkDecisionBody)]
pub async fn decide_api(
    c: ApiCall,
    Json(body): Json<BulkDecisionBody>,
) -> Result<Response, ApiError> {
    let Some(nos) = numbers(&body.registrations) else {
        return Err(c.malformed(
            "registrations 須為登記編號（例如 115-000012）的清單",
            "registrations must be a list of registration numbers (e.g. 115-000012)",
        ));
    };
    let Some(d) = decision(&body.decision, &body.comment) else {
        return Err(c.malformed(
            "decision 須為 approve 或 reject",
            "decision must be approve or reject",
        ));
    };
    let decided = reg::decide_many(&c.desk(), c.me(), &nos, d, Timestamp::now(), c.op_id()).await;
    crate::casework::answer(&c, decided, |items| {
        let (ok, refused): (Vec<_>, Vec<_>) = items.iter().partition(|i| i.answer.is_ok());
        json!({
            "decided": ok.iter().filter_map(|i| i.answer.as_ref().ok().map(|s|
                json!({ "no": i.no.to_string(), "state": s.code() }))).collect::<Vec<_>>(),
            "refused": refused.iter().filter_map(|i| i.answer.as_ref().err().map(|d|
                refused_json(i.no, d))).collect::<Vec<_>>(),
        })
    })
}
