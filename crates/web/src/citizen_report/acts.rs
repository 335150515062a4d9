//! What the pages and the API share: the stamp and the status of a refusal, and the two acts
//! whose form is parsed here before the use case runs (a form that does not parse is handed
//! to the app as a refusal of that act, so it is on the trail like the rules' refusals, §9).

use axum::http::StatusCode;
use jiff::Timestamp;
use querywarden_app::AppError;
use querywarden_app::citizen_report::door::CitizenReports;
use querywarden_app::citizen_report::{Refusal, Stamp};
use querywarden_domain::audit_event::AuditAction;
use querywarden_domain::org::{Person, Role};

use super::input::{RecordForm, WithholdForm};
use crate::OperationId;

pub(super) fn stamp(now: Timestamp, op: &OperationId) -> Stamp<'_> {
    Stamp {
        now,
        request_id: &op.0,
    }
}

/// The HTTP status of a refusal, on a page and in the API alike.
pub(super) fn refusal_status(r: &Refusal) -> StatusCode {
    match r {
        Refusal::NotAllowed => StatusCode::FORBIDDEN,
        Refusal::UnknownRequest | Refusal::UnknownRegistration => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

type Decided<T> = Result<Result<T, Refusal>, AppError>;

/// 個資法 §10, §13: the contact officer records the request `form` holds; its number.
pub(super) async fn record(
    door: &CitizenReports<'_>,
    contact: &Person,
    form: &RecordForm,
    stamp: Stamp<'_>,
) -> Decided<String> {
    match form.parse(stamp.now) {
        Ok(input) => door.record_request(contact, &input, stamp).await,
        Err(r) => Ok(Err(door
            .refuse_input(
                contact,
                Role::PersonalDataContact,
                AuditAction::CitizenRequestRecorded,
                ("citizen_request", "-"),
                r,
                stamp,
            )
            .await?)),
    }
}

/// 個資法 §10: the supervisor marks registration `no` as `form` says.
pub(super) async fn withhold(
    door: &CitizenReports<'_>,
    supervisor: &Person,
    no: &str,
    form: &WithholdForm,
    stamp: Stamp<'_>,
) -> Decided<()> {
    match form.disclose_on() {
        Ok(date) => {
            door.withhold(supervisor, no, date, &form.reason, stamp)
                .await
        }
        Err(r) => Ok(Err(door
            .refuse_input(
                supervisor,
                Role::UnitSupervisor,
                AuditAction::RegistrationWithheld,
                ("registration", no),
                r,
                stamp,
            )
            .await?)),
    }
}
