//! The JSON side of a registration or request call: who is calling, numbers parsed from the
//! path, and one shape for an answer — the use case's result as JSON, or its refusal (already
//! audited) with its stable code, both languages and the status the page would give.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use querywarden_app::AppError;
use querywarden_app::grants::StoreGrants;
use querywarden_app::registration::Desk;
use querywarden_app::registration::{Denied, QueryRequestRow, RegistrationSummary};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::Person;
use querywarden_domain::org::PersonId;
use querywarden_domain::registration::{RegistrationNo, RequestNo};
use serde_json::{Value, json};

use super::denied_status;
use crate::error::ApiError;
pub(crate) use crate::session::ApiCall;

impl ApiCall {
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

    /// A technical failure: logged with the operation id, answered with a generic message.
    pub fn fail(&self) -> impl Fn(AppError) -> ApiError + use<> {
        ApiError::internal_for(&self.op)
    }

    /// A refusal with its code, both sentences and the page's status.
    pub fn refused(&self, d: &Denied) -> ApiError {
        let (zh, en) = crate::refusals::denied_both(d);
        ApiError::new(denied_status(d), d.code(), zh, en, &self.op.0)
    }

    /// A body field outside its closed set (`decision`, `delivery`).
    pub fn malformed(&self, zh: &str, en: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.malformed",
            zh,
            en,
            &self.op.0,
        )
    }

    fn bad_no(&self) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "registration.not_found",
            "找不到此登記或申請",
            "no such registration or request",
            &self.op.0,
        )
    }

    /// A service item code from the path; a code that cannot be one names nothing (404).
    pub fn item(&self, raw: &str) -> Result<ServiceItemCode, ApiError> {
        ServiceItemCode::parse(raw).map_err(|_| self.bad_no())
    }
}

/// A registration number from the path; one that cannot be one names nothing (404).
pub(crate) fn registration_no(call: &ApiCall, raw: &str) -> Result<RegistrationNo, ApiError> {
    RegistrationNo::parse(raw).map_err(|_| call.bad_no())
}

/// A Form 3 request number from the path; one that cannot be one names nothing (404).
pub(crate) fn request_no(call: &ApiCall, raw: &str) -> Result<RequestNo, ApiError> {
    RequestNo::parse(raw).map_err(|_| call.bad_no())
}

/// The use case's answer as JSON (`ok` shapes it), or its refusal; a batch's refusal lists
/// its lines with their codes.
pub(crate) fn answer<T>(
    call: &ApiCall,
    decided: Result<Result<T, Denied>, AppError>,
    ok: impl FnOnce(T) -> Value,
) -> Result<Response, ApiError> {
    match decided.map_err(call.fail())? {
        Ok(v) => Ok(Json(ok(v)).into_response()),
        Err(d) => {
            let mut e = call.refused(&d);
            if let Denied::Batch(lines) = &d {
                e.body.message = format!(
                    "{}（{}）",
                    e.body.message,
                    lines
                        .iter()
                        .map(|l| format!("第 {} 行：{}", l.line, l.error.code()))
                        .collect::<Vec<_>>()
                        .join("；")
                );
            }
            Err(e)
        }
    }
}

pub(crate) fn summary_json(s: &RegistrationSummary) -> Value {
    json!({
        "no": s.no.to_string(),
        "date": s.date.civil().to_string(),
        "state": s.state,
        "items": s.items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
        "legal_basis": s.legal_basis.as_str(),
        "applicant": s.parties.applicant.get(),
        "needer": s.parties.needer.get(),
        "querier": s.parties.querier.get(),
        "findings": s.findings,
        "valid_until": s.valid_until.map(|t| t.to_string()),
        "remaining_items": s.remaining_items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
    })
}

pub(crate) fn request_json(r: &QueryRequestRow) -> Value {
    json!({
        "no": r.request.no.to_string(),
        "date": r.request.date.civil().to_string(),
        "requesting_unit": r.request.requesting_unit.as_str(),
        "applicant": r.request.applicant.get(),
        "responsible_unit": r.request.responsible_unit.as_str(),
        "legal_basis": r.request.legal_basis.as_str(),
        "items": r.request.items.iter().map(ServiceItemCode::as_str).collect::<Vec<_>>(),
        "subject_count": r.request.subject_count,
        "state": r.state.code(),
        "opinion": r.opinion,
        "assigned_querier": r.assigned_querier.map(PersonId::get),
        "delivery": r.delivery,
        "document_no": r.document_no,
    })
}
