//! The quarterly review's page (§7): its findings, concluding one, closing the review.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::oversight::door::ReadRefusal;
use querywarden_domain::org::Role;

use super::super::api::conclusion_of;
use super::super::input::{ConcludeFindingForm, ConcludeFindingRequest};
use super::{beyond_calendar, day, error_page, form_error, not_found, refusal, rule_text};
use crate::app_op::now_op;
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::{CsrfForm, TokenOnly};
use crate::oversight::names;
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

pub struct FindingLine {
    pub id: i64,
    pub rule_code: String,
    pub rule: String,
    pub person: String,
    pub at: String,
    pub object: String,
    pub detail: String,
    pub conclusion: String,
    pub note: String,
    pub violation: Option<i64>,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "oversight/review.html")]
pub struct ReviewPage {
    pub m: Messages,
    pub frame: Frame,
    pub id: i64,
    pub quarter: String,
    pub period: String,
    pub due_on: String,
    /// 行政程序法 §48: the sentence saying the deadline runs past the loaded calendar years.
    pub beyond_calendar: Option<String>,
    pub open: bool,
    pub is_admin: bool,
    /// §7: the quarterly report is the administrator's, for the director; others who may
    /// read the review (the ethics office) are not offered a document they may not open.
    pub may_print: bool,
    pub findings: Vec<FindingLine>,
    pub report: String,
    pub error: Option<FormError>,
}

/// A refused read of a review or its finding as the page `path`; §7: the refusal is on the
/// trail (the door audited it).
fn read_refused(r: ReadRefusal, m: Messages, op: &OperationId, path: &str) -> Response {
    match r {
        ReadRefusal::NotAllowed => error_page(m, op, path, StatusCode::FORBIDDEN, "ov-not-allowed"),
        ReadRefusal::NotFound => not_found(m, op, path),
    }
}

async fn review_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    error: Option<FormError>,
) -> Result<Response, PageError> {
    let path = format!("/oversight/reviews/{id}");
    let fail = PageError::internal_on(&m, op, &path);
    let v = match state
        .app
        .oversight()
        .review(who, id, &now_op(op))
        .await
        .map_err(&fail)?
    {
        Ok(v) => v,
        Err(r) => return Ok(read_refused(r, m, op, &path)),
    };
    let names = names(state, &m).await.map_err(&fail)?;
    let beyond_calendar = beyond_calendar(state, &m, op, &path, v.review.due_on).await?;
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = ReviewPage {
        frame: Frame::signed_in(state, who, &m, path.clone()),
        id,
        quarter: v.review.quarter.clone(),
        period: format!(
            "{} – {}",
            day(v.review.period_from, &m),
            day(v.review.period_to, &m)
        ),
        due_on: day(v.review.due_on, &m),
        beyond_calendar,
        open: v.review.state == "open",
        is_admin: who.person.has_role(Role::PermissionAdministrator),
        may_print: who.person.has_role(Role::PermissionAdministrator)
            || who.person.has_role(Role::Director),
        findings: v
            .findings
            .iter()
            .map(|f| FindingLine {
                id: f.id,
                rule_code: f.finding.rule.clone(),
                rule: rule_text(&f.finding.rule, &m),
                person: f
                    .finding
                    .person
                    .map(|p| names.person(p))
                    .unwrap_or_default(),
                at: f.finding.at.map(|t| m.datetime(t)).unwrap_or_default(),
                object: f.finding.object.clone(),
                detail: f.finding.detail.clone(),
                conclusion: match f.conclusion.as_deref() {
                    Some("explained") => m.get("ov-explained"),
                    Some("violation") => m.get("ov-violation"),
                    _ => String::new(),
                },
                note: f.note.clone().unwrap_or_default(),
                violation: f.violation_id,
                open: f.conclusion.is_none(),
            })
            .collect(),
        report: v.review.report.clone().unwrap_or_default(),
        error,
        m,
    };
    Ok((status, render(&page, op)).into_response())
}

pub async fn review_page(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    review_response(&state, m, &op, &who, id, None).await
}

pub async fn close(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Result<Response, PageError> {
    let path = format!("/oversight/reviews/{id}");
    match state
        .app
        .oversight()
        .close_review(&who.person, id, &now_op(&op))
        .await
        .map_err(PageError::internal_on(&m, &op, &path))?
    {
        Ok(_) => Ok(Redirect::to(&format!("{path}?notice=closed")).into_response()),
        Err(r) => {
            let e = refusal(&m, &r);
            review_response(&state, m, &op, &who, id, e).await
        }
    }
}

pub async fn conclude(
    PageCall { state, m, op }: PageCall,
    Path(id): Path<i64>,
    CsrfForm(who, form): CsrfForm<ConcludeFindingForm>,
) -> Result<Response, PageError> {
    let input: ConcludeFindingRequest = form.into();
    let path = "/oversight";
    let door = state.app.oversight();
    let review_id = match door
        .review_of_finding(&who, id, &now_op(&op))
        .await
        .map_err(PageError::internal_on(&m, &op, path))?
    {
        Ok(r) => r,
        Err(r) => return Ok(read_refused(r, m, &op, path)),
    };
    let req = match conclusion_of(&input) {
        Ok(r) => r,
        Err((code, zh, en)) => {
            let msg = if m.is_zh() { zh } else { en };
            return review_response(
                &state,
                m,
                &op,
                &who,
                review_id,
                form_error(code, msg.into()),
            )
            .await;
        }
    };
    match door
        .conclude_finding(&who.person, id, &req, &now_op(&op))
        .await
        .map_err(PageError::internal_on(&m, &op, path))?
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/oversight/reviews/{}#finding-{id}", review_id)).into_response(),
        ),
        Err(r) => {
            let e = refusal(&m, &r);
            review_response(&state, m, &op, &who, review_id, e).await
        }
    }
}
