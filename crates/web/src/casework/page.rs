//! The page side of a registration or request action: who is asking (with their language
//! and operation id), the CSRF check, and one shape for a refusal — the use case has already
//! audited it; the page says what to do next, with the status the refusal deserves and the
//! code in an attribute for machines.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use querywarden_app::AppError;
use querywarden_app::auth::SignedIn;
use querywarden_app::grants::StoreGrants;
use querywarden_app::registration::Desk;
use querywarden_app::registration::{Denied, LineError};
use querywarden_domain::org::Person;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::PageCall;
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::{CarriesCsrf, CsrfForm};
use crate::session::{PageSession, csrf_refused};
use crate::templates::{ErrorPage, FormError, Frame};
use crate::{AppState, OperationId};

/// A page handler's answer: the page, or a refusal or failure already rendered.
pub(crate) type Answer = Result<Response, Response>;

/// The signed-in person at a registration or request page, with the request's language and
/// operation id (extracted in that order, like the separate extractors it replaces).
pub(crate) struct Caseworker {
    pub state: AppState,
    pub m: Messages,
    pub op: OperationId,
    pub who: SignedIn,
}

impl FromRequestParts<AppState> for Caseworker {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(call) = PageCall::from_request_parts(parts, state).await;
        let PageSession(who) = PageSession::from_request_parts(parts, state).await?;
        Ok(call.by(who))
    }
}

/// A posted page's [`PageCall`] names the signed-in person once the form's extractor
/// (`crate::input::CsrfForm`) has checked the session and its CSRF token.
impl PageCall {
    pub(crate) fn by(self, who: SignedIn) -> Caseworker {
        Caseworker {
            state: self.state,
            m: self.m,
            op: self.op,
            who,
        }
    }
}

/// A form posted to a registration or request page: the caseworker who posted it and the
/// form, whose session and CSRF token [`CsrfForm`] has checked (extracted in that order, like
/// the `PageCall` and `CsrfForm` pair it replaces).
pub(crate) struct CaseForm<F>(pub Caseworker, pub F);

impl<F> FromRequest<AppState> for CaseForm<F>
where
    F: DeserializeOwned + CarriesCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(call) = PageCall::from_request_parts(&mut parts, state).await;
        let CsrfForm(who, form) =
            CsrfForm::<F>::from_request(Request::from_parts(parts, body), state).await?;
        Ok(CaseForm(call.by(who), form))
    }
}

impl Caseworker {
    /// The registration desk, as every use case of this area takes it.
    pub fn desk(&self) -> Desk<'_, StoreGrants> {
        self.state.app.desk()
    }

    /// The signed-in person.
    pub fn me(&self) -> &Person {
        &self.who.person
    }

    /// The operation id, for the audit record.
    pub fn op_id(&self) -> &str {
        &self.op.0
    }

    /// The layout's frame of `path` for the caseworker.
    pub fn frame(&self, path: impl Into<String>) -> Frame {
        Frame::signed_in(&self.state, &self.who, &self.m, path)
    }

    /// A technical failure: logged with the operation id, shown as the internal-error page.
    pub fn fail(&self, path: &str) -> impl Fn(AppError) -> Response + use<> {
        let failed = PageError::internal_on(&self.m, &self.op, path);
        move |e| failed(e).into_response()
    }

    /// §3: a form whose CSRF token does not match the session's is refused (and audited);
    /// for the multipart upload, which the shared form extractor does not read.
    pub async fn check_csrf(&self, token: &str) -> Result<(), Response> {
        if self.who.csrf_ok(token) {
            Ok(())
        } else {
            Err(csrf_refused(&self.state, &self.who, &self.op.0)
                .await
                .into_response())
        }
    }

    /// The error page of `path` with `status`, the sentence and, for machines, the code.
    pub fn error_page(
        &self,
        status: StatusCode,
        path: &str,
        message: String,
        code: Option<&str>,
    ) -> Response {
        let mut page = ErrorPage::new(self.m.clone(), path, message, self.op.0.clone());
        if let Some(code) = code {
            page = page.with_code(code);
        }
        page.answer(status, &self.op)
    }

    pub fn forbidden(&self, path: &str) -> Response {
        crate::pages::forbidden(self.m.clone(), &self.op, path)
    }

    pub fn not_found(&self, path: &str) -> Response {
        crate::pages::not_found(self.m.clone(), &self.op, path)
    }

    /// A refusal with nothing to show again: the error page with the refusal's status.
    pub fn refused(&self, path: &str, d: &Denied) -> Response {
        let e = form_error(d, &self.m);
        self.error_page(denied_status(d), path, e.message, Some(&e.code))
    }

    pub fn notice(&self, q: &NoticeQuery) -> Option<String> {
        let key = match q.notice.as_deref()? {
            "registered" => "reg-notice-registered",
            "batch" => "reg-notice-batch",
            "approved" => "reg-notice-approved",
            "rejected" => "reg-notice-rejected",
            "cancelled" => "reg-notice-cancelled",
            "executed" => "reg-notice-executed",
            "execution_failed" => "reg-notice-execution-failed",
            "outcome_unknown" => "reg-notice-outcome-unknown",
            "stated" => "reg-notice-stated",
            "prints" => "reg-notice-prints",
            "filed" => "req-notice-filed",
            "accepted" => "req-notice-accepted",
            "refused" => "req-notice-rejected",
            "delivered" => "req-notice-delivered",
            _ => return None,
        };
        Some(self.m.get(key))
    }
}

/// `?notice=…` after a redirect: which action just succeeded.
#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// A refusal on a page: the sentence in the page's language saying what to do next; the code
/// stays in an attribute for machines (and in the log and the audit record).
pub(crate) fn form_error(d: &Denied, m: &Messages) -> FormError {
    FormError {
        code: d.code().to_string(),
        message: crate::refusals::denied(d, m),
    }
}

/// A batch's (or a typed subject list's) errors, one sentence per line without the codes
/// (they stay in the attribute, the log and the audit record), and the form's summary:
/// `line_key` and `rows_key` name the catalogue's sentences.
pub(crate) fn line_errors(
    d: &Denied,
    m: &Messages,
    line_key: &str,
    rows_key: &str,
) -> (Vec<String>, FormError) {
    let Denied::Batch(lines) = d else {
        return (Vec::new(), form_error(d, m));
    };
    let text = |l: &LineError| {
        m.with(
            line_key,
            &[
                ("line", l.line.to_string()),
                ("error", crate::refusals::registration_error(&l.error, m)),
            ],
        )
    };
    let summary = FormError {
        code: d.code().into(),
        message: m.with(rows_key, &[("count", lines.len().to_string())]),
    };
    (lines.iter().map(text).collect(), summary)
}

/// The HTTP status of a refusal; the page and the JSON API answer alike.
pub(crate) fn denied_status(d: &Denied) -> StatusCode {
    match d {
        Denied::NotFound => StatusCode::NOT_FOUND,
        Denied::ResultDestroyed => StatusCode::GONE,
        Denied::SubjectDestroyed => StatusCode::GONE,
        Denied::ResultsApiOff => StatusCode::FORBIDDEN,
        Denied::PrintLimit { .. } => StatusCode::CONFLICT,
        Denied::Policy(_) => StatusCode::CONFLICT,
        Denied::NothingAwaiting(_) => StatusCode::CONFLICT,
        Denied::NothingToExecute => StatusCode::CONFLICT,
        Denied::Registration(e) => match e.code() {
            "registration.not_allowed"
            | "approval.not_supervisor"
            | "approval.separation_of_duties"
            | "approval.second_approver"
            | "request.not_external"
            | "registration.applicant_role"
            | "registration.external_use_form3" => StatusCode::FORBIDDEN,
            "registration.wrong_state"
            | "request.subjects_open"
            | "request.signatures_missing"
            | "request.already_signed"
            | "request.subject_not_open" => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        },
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A free-text field that may be left empty.
pub(crate) fn opt(raw: &str) -> Option<String> {
    Some(raw.trim().to_string()).filter(|s| !s.is_empty())
}
