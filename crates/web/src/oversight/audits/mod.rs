//! Unannounced audits, Form 4 (§8): pages under `/oversight/audits…` ([`pages`]) and the JSON
//! API under `/api/v1/oversight/audits…` ([`api`]), with their typed input ([`input`]).
//!
//! Security-sensitive only through what it calls: every rule (who may open, attach, opine,
//! sign, review or read) is decided in `querywarden_app::oversight::unannounced_audit`; page
//! and API call the same functions and refuse with the same stable codes.

pub mod api;
pub mod input;
pub mod pages;
pub mod routes;

use axum::http::StatusCode;
use querywarden_domain::oversight::unannounced_audit::AuditRefusal;

/// Largest request body an upload route reads: the largest attachment the configuration
/// allows (50 MiB) and room for the form's other fields.
pub(crate) const MAX_UPLOAD_BODY: usize = 51 * 1024 * 1024;

pub(crate) use crate::app_op::op_of;

/// 403 for "not yours to do" (wrong person, separation of duties, missing role); 409 for "not
/// now" (the record's state or a deadline); 413 and 415 for an attachment too large or of the
/// wrong type; 422 for input the rules refuse as it stands.
pub(crate) fn refusal_status(r: &AuditRefusal) -> StatusCode {
    use AuditRefusal as R;
    match r {
        R::NotAuditOffice
        | R::NotQuerier
        | R::NotAssignedAuditor
        | R::NotSigner
        | R::NotDirector
        | R::NotVisible
        | R::AuditsThemselves
        | R::OwnUnit
        | R::ApprovedCase => StatusCode::FORBIDDEN,
        R::DocumentsClosed
        | R::DeadlinePassed
        | R::OpinionsNotOpen
        | R::CasesWithoutOpinion
        | R::SignOffOutOfOrder(_)
        | R::NotSigningOff
        | R::NotAwaitingReview
        | R::ReadOnly => StatusCode::CONFLICT,
        R::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        R::WrongFileType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}
