//! The permission area (§2, Form 1 資料查詢者權限申請表): applying and amending, one's
//! applications, the approver's inbox (with the personnel-change notices §2 sends the
//! administrator and the old supervisor) and decision, the application with every sign-off,
//! one's grants, the administrator's overview, the supervisor's staff changes and
//! recertification rounds, the staff CSV import and account re-enabling — as zh-TW pages, as
//! the JSON API under `/api/v1/permissions/…`, and the SCIM 2.0 endpoint `/scim/v2/Users`.
//!
//! Security-sensitive. Handlers are thin: typed input ([`input`]) becomes domain values at the
//! edge, then one call through `App::permissions()` — who may do what is decided in the app
//! layer by its capabilities (the approver at a step, the administrator's and the supervisor's
//! desks), and every refusal is audited there. Pages ([`pages`] and the files beside it) and
//! the API ([`api`], [`staff_api`], [`scim`]) share only this module, [`input`] and the app
//! layer; they never import each other. Personal data travels only in POST bodies; the national
//! ID is shown masked and never echoed back into a form.

mod admin;
pub mod api;
mod applications;
mod grants;
pub mod input;
mod pages;
mod routes;
mod scim;
mod staff;
mod staff_api;
pub mod views;

use axum::http::StatusCode;
use querywarden_domain::permission::PermissionRefusal;
use querywarden_domain::roc_date::{RocDate, taipei_date};

pub use routes::{ApiDoc, routes};

/// 403 for "not yours to do" (wrong person, separation of duties, missing role), 422 for a
/// request the rules refuse as it stands: the page and the API answer a refusal alike.
pub(crate) fn refusal_status(r: &PermissionRefusal) -> StatusCode {
    use PermissionRefusal as R;
    if r.is_separation_of_duties()
        || matches!(
            r,
            R::WrongApprover(_)
                | R::NotApplicant
                | R::NotAdministrator
                | R::NotSupervisor
                | R::NotRoundOwner
                | R::ApproverDisabled
                | R::ApplicantDisabled
        )
    {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Today in Asia/Taipei: the day the rules judge.
pub(crate) fn today() -> RocDate {
    taipei_date(jiff::Timestamp::now())
}
