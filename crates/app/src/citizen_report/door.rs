//! The citizen-report area's one door for the web (個人資料保護法 §3, §10, §13): the contact
//! officer's desk, the supervisor's §10 mark, the ethics office's list of marks and the
//! citizen's self-service report, each with its authorisation inside (in the use cases it
//! calls). Handlers hold a [`CitizenReports`] (from [`App::citizen_reports`]), never the store;
//! the holiday calendar and the configuration are read here, not in the handler.

use jiff::Timestamp;
use querywarden_domain::audit_event::AuditAction;
use querywarden_domain::citizen_report::StaffShown;
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::roc_date::RocDate;
use querywarden_storage::WithholdingRow;

use super::desk::{self, RequestLine};
use super::self_service::{self, SelfServiceInput, SelfServiceLimiter};
use super::{CitizenReport, Refusal, RequestInput, Stamp};
use crate::{App, AppError};

type Decided<T> = Result<Result<T, Refusal>, AppError>;

/// The citizen-report use cases, bound to the running application.
#[derive(Clone, Copy)]
pub struct CitizenReports<'a> {
    app: &'a App,
}

impl App {
    /// The citizen-report area's door (個人資料保護法 §10, §13).
    pub fn citizen_reports(&self) -> CitizenReports<'_> {
        CitizenReports { app: self }
    }
}

/// A §10 mark with the name of the supervisor who set it, for the ethics office.
#[derive(Debug, Clone)]
pub struct MarkLine {
    pub mark: WithholdingRow,
    /// `王小明（wang.xiaoming）`.
    pub marked_by: String,
}

impl<'a> CitizenReports<'a> {
    /// 行政程序法 §48: the calendar in force, official years included.
    async fn calendar(&self) -> Result<HolidayCalendar, AppError> {
        crate::calendar::current(self.app.store()).await
    }

    /// Whether reports show staff names or only their units (`[citizen_report]`).
    pub fn staff_shown(&self) -> StaffShown {
        self.app.config().citizen_report.staff_shown()
    }

    /// Every request, newest first (the contact officer only).
    pub async fn requests(&self, contact: &Person, stamp: Stamp<'_>) -> Decided<Vec<RequestLine>> {
        desk::requests(self.app.store(), &self.calendar().await?, contact, stamp).await
    }

    /// One request (the contact officer only).
    pub async fn request(
        &self,
        contact: &Person,
        no: &str,
        stamp: Stamp<'_>,
    ) -> Decided<RequestLine> {
        desk::request(
            self.app.store(),
            &self.calendar().await?,
            contact,
            no,
            stamp,
        )
        .await
    }

    /// Records a citizen's request; returns its number.
    pub async fn record_request(
        &self,
        contact: &Person,
        input: &RequestInput,
        stamp: Stamp<'_>,
    ) -> Decided<String> {
        let app = self.app;
        super::record_request(
            app.store(),
            app.keys(),
            app.auth(),
            &self.calendar().await?,
            contact,
            input,
            stamp,
        )
        .await
    }

    /// Input the edge could not parse, refused and audited as a refusal of `action`.
    pub async fn refuse_input(
        &self,
        person: &Person,
        role: Role,
        action: AuditAction,
        object: (&str, &str),
        refusal: Refusal,
        stamp: Stamp<'_>,
    ) -> Result<Refusal, AppError> {
        super::refuse_input(
            self.app.store(),
            person,
            role,
            action,
            object,
            refusal,
            stamp,
        )
        .await
    }

    /// §13 I: the one extension, with its reason.
    pub async fn extend(
        &self,
        contact: &Person,
        no: &str,
        reason: &str,
        stamp: Stamp<'_>,
    ) -> Decided<RocDate> {
        super::extend(
            self.app.store(),
            &self.calendar().await?,
            contact,
            no,
            reason,
            stamp,
        )
        .await
    }

    /// The report for a recorded request, with its proof appendix.
    pub async fn produce_report(
        &self,
        contact: &Person,
        no: &str,
        stamp: Stamp<'_>,
    ) -> Decided<CitizenReport> {
        let app = self.app;
        super::produce_report(
            app.store(),
            app.keys(),
            &app.config().audit,
            contact,
            no,
            self.staff_shown(),
            stamp,
        )
        .await
    }

    /// Records that the citizen was answered, today.
    pub async fn answer(&self, contact: &Person, no: &str, stamp: Stamp<'_>) -> Decided<RocDate> {
        super::answer(self.app.store(), contact, no, stamp).await
    }

    /// §10: a supervisor marks a registration of their unit "disclose from DATE".
    pub async fn withhold(
        &self,
        supervisor: &Person,
        registration_no: &str,
        disclose_on: Option<RocDate>,
        reason: &str,
        stamp: Stamp<'_>,
    ) -> Decided<()> {
        super::withhold(
            self.app.store(),
            supervisor,
            registration_no,
            disclose_on,
            reason,
            stamp,
        )
        .await
    }

    /// Every §10 mark with who set it (the ethics office only; the listing is audited).
    pub async fn withholdings(&self, auditor: &Person, stamp: Stamp<'_>) -> Decided<Vec<MarkLine>> {
        let store = self.app.store();
        let marks = match super::withholdings(store, auditor, stamp).await? {
            Ok(m) => m,
            Err(r) => return Ok(Err(r)),
        };
        let names: std::collections::HashMap<_, _> = store
            .persons()
            .await?
            .into_iter()
            .map(|p| (p.id, format!("{}（{}）", p.name, p.account.as_str())))
            .collect();
        Ok(Ok(marks
            .into_iter()
            .map(|mark| MarkLine {
                marked_by: names.get(&mark.marked_by).cloned().unwrap_or_default(),
                mark,
            })
            .collect()))
    }

    /// A fresh sign-in challenge for the self-service listener's browser flow, or `None`
    /// when no trust anchors are configured (then nobody can sign).
    pub async fn self_service_nonce(
        &self,
        flow: &str,
        now: Timestamp,
    ) -> Result<Option<String>, AppError> {
        let Some(ctx) = self.app.auth() else {
            return Ok(None);
        };
        let (nonce, _) = crate::auth::issue_nonce(self.app.store(), ctx, flow, now).await?;
        Ok(Some(nonce))
    }

    /// The citizen's own report on the self-service listener (card signature checked, rate
    /// limited, audited either way).
    pub async fn self_service_report(
        &self,
        limiter: &SelfServiceLimiter,
        input: &SelfServiceInput,
        now: Timestamp,
        request_id: &str,
    ) -> Decided<CitizenReport> {
        let app = self.app;
        self_service::report(
            app.store(),
            app.keys(),
            app.auth(),
            &app.config().audit,
            limiter,
            input,
            now,
            request_id,
        )
        .await
    }
}
