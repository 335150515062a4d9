//! Running every approved item of a Form 3 request in one action (§5 ¶3), as a page and as
//! JSON: the assigned querier presses one button; each registration is executed on its own
//! (its own policy check, permit and audit records) by
//! `querywarden_app::execution::form3::execute_request`; the answer lists each
//! registration's items with their outcomes, and each registration the policy refused with
//! why. In portal mode the querier's note and paper case number go with every registration.
//!
//! Security-sensitive: POST only, with the session's CSRF token (page) or `X-CSRF-Token`
//! (API); numbers in the path, no personal data in the answer.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::execution::form3::{self, PortalNote, RegistrationRun};
use querywarden_app::execution::{ExecutionReport, ItemOutcome};
use querywarden_app::registration::Decided;
use querywarden_domain::registration::RequestNo;
use serde_json::{Value, json};

use super::input::{RunAllBody, RunAllForm};
use super::views::{RunAllPage, RunLine, RunRefused};
use crate::AppState;
use crate::casework::{Answer, ApiCall, CaseForm, Caseworker, Names, form_error, opt, request_no};
use crate::error::ApiError;
use crate::pages::render;

/// Runs the request as `bli.mode` says: through the connector, or recording the portal
/// report; the page and the API alike.
async fn run(
    state: &AppState,
    who: &SignedIn,
    no: RequestNo,
    note: PortalNote,
    op: &str,
) -> Decided<Vec<RegistrationRun>> {
    let desk = state.app.desk();
    form3::execute_request(
        &desk,
        state.app.connector(),
        who,
        no,
        &note,
        Timestamp::now(),
        op,
    )
    .await
}

/// An item's outcome: its code for machines and its words for the page.
fn outcome(o: &ItemOutcome, c: &Caseworker) -> (&'static str, String) {
    let m = &c.m;
    match o {
        ItemOutcome::Received { rows } => (
            "received",
            m.with("run-all-outcome-received", &[("rows", rows.to_string())]),
        ),
        ItemOutcome::NoData { .. } => ("no_data", m.get("run-all-outcome-no-data")),
        ItemOutcome::Failed { code, .. } => {
            ("failed", m.aside(&m.get("run-all-outcome-failed"), code))
        }
        ItemOutcome::Unknown { code, .. } => {
            ("unknown", m.aside(&m.get("run-all-outcome-unknown"), code))
        }
        ItemOutcome::Recorded => ("recorded", m.get("run-all-outcome-recorded")),
    }
}

/// `POST /requests/{no}/execute`.
pub async fn run_all_page(
    Path(no): Path<String>,
    CaseForm(c, form): CaseForm<RunAllForm>,
) -> Answer {
    let path = format!("/requests/{no}");
    let Ok(no) = RequestNo::parse(&no) else {
        return Err(c.not_found("/requests"));
    };
    // §3: executions are rate-limited per person; one press counts once.
    let checks = querywarden_app::limits::execution_checks(&c.who);
    if let Some(e) = crate::session::over_limit(&c.state, &c.who, &checks, c.op_id()).await {
        return Err(e.into_response());
    }
    let note = PortalNote {
        note: opt(&form.note),
        paper_case_no: opt(&form.paper_case_no),
    };
    let runs = match run(&c.state, &c.who, no, note, c.op_id())
        .await
        .map_err(c.fail(&path))?
    {
        Ok(runs) => runs,
        Err(d) => return Err(c.refused(&path, &d)),
    };
    let names = Names::load(&c.state, c.me(), &c.m)
        .await
        .map_err(c.fail(&path))?;
    let m = &c.m;
    let mut page = RunAllPage {
        frame: c.frame(format!("{path}/execute")),
        no: no.to_string(),
        lines: Vec::new(),
        refused: Vec::new(),
        m: m.clone(),
    };
    for r in &runs {
        match &r.answer {
            Ok(report) => {
                for i in &report.items {
                    let (code, words) = outcome(&i.outcome, &c);
                    page.lines.push(RunLine {
                        no: r.no.to_string(),
                        item: names.item(&i.item),
                        outcome_code: code,
                        outcome: words,
                    });
                }
            }
            Err(d) => {
                let e = form_error(d, m);
                page.refused.push(RunRefused {
                    no: r.no.to_string(),
                    code: e.code,
                    message: e.message,
                });
            }
        }
    }
    Ok((StatusCode::OK, render(&page, &c.op)).into_response())
}

fn report_json(r: &ExecutionReport) -> Vec<Value> {
    r.items
        .iter()
        .map(|i| {
            let (outcome, detail) = match &i.outcome {
                ItemOutcome::Received { rows } => ("received", json!({ "rows": rows })),
                ItemOutcome::NoData { code } => ("no_data", json!({ "code": code })),
                ItemOutcome::Failed { code, message_zh } => {
                    ("failed", json!({ "code": code, "message": message_zh }))
                }
                ItemOutcome::Unknown { code, message_zh } => {
                    ("unknown", json!({ "code": code, "message": message_zh }))
                }
                ItemOutcome::Recorded => ("recorded", json!({})),
            };
            json!({ "item": i.item.as_str(), "outcome": outcome, "detail": detail })
        })
        .collect()
}

/// 一次執行附表3申請所有已核准項目 run every approved, not yet executed registration of the request whose querier you are: {note?, paper_case_no?} (portal mode); each executed and audited on its own — answers {runs: [{no, items: [{item, outcome, detail}]} | {no, refused: {code, message, message_en}}]}
///
/// `POST /api/v1/requests/{no}/execution`.
#[utoipa::path(post, path = "/api/v1/requests/{no}/execution", params(("no" = String, Path)),
    request_body = Option<RunAllBody>)]
pub async fn run_all_api(
    c: ApiCall,
    Path(no): Path<String>,
    body: Option<Json<RunAllBody>>,
) -> Result<Response, ApiError> {
    let no = request_no(&c, &no)?;
    // §3: executions are rate-limited per person; one call counts once.
    let checks = querywarden_app::limits::execution_checks(&c.who);
    if let Some(e) = crate::session::over_limit(&c.state, &c.who, &checks, c.op_id()).await {
        return Err(e);
    }
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let note = PortalNote {
        note: body.note.as_deref().and_then(opt),
        paper_case_no: body.paper_case_no.as_deref().and_then(opt),
    };
    let d = run(&c.state, &c.who, no, note, c.op_id()).await;
    crate::casework::answer(&c, d, |runs| {
        json!({ "runs": runs.iter().map(|r| match &r.answer {
            Ok(report) => json!({ "no": r.no.to_string(), "items": report_json(report) }),
            Err(d) => {
                let (zh, en) = crate::refusals::denied_both(d);
                json!({ "no": r.no.to_string(),
                        "refused": { "code": d.code(), "message": zh, "message_en": en } })
            }
        }).collect::<Vec<_>>() })
    })
}
