//! The oversight area's one door for the web (§7, §8): every read and every decision the
//! review, violation, dashboard and unannounced-audit pages need, with its authorisation
//! inside. The handlers hold an [`Oversight`] (from [`App::oversight`]) and never the store.
//!
//! Security-sensitive: who may read the review and the dashboard (§7) is decided here, and a
//! refused read is audited like every other refusal.

use jiff::Timestamp;
use querywarden_domain::org::{Account, Person};
use querywarden_domain::oversight::review::ReviewRefusal;
use querywarden_domain::oversight::unannounced_audit::{AuditId, SignOffStep, UnannouncedAudit};
use querywarden_domain::oversight::violation::ViolationRefusal;
use querywarden_storage::{NoticeRow, ReviewRow, ViolationRow};

use super::dashboard::{self, Dashboard, UnitView};
use super::reconciliation::{self, ReconcileReport};
use super::review::{self, ConcludeFindingRequest, LaborBureauReport, ReviewView};
use super::unannounced_audit::{
    self as audits, AuditError, AuditView, DocumentLine, OpenAuditRequest, OpenedDocument,
};
use super::violation::{self, FileViolationRequest, ViolationSource};
use crate::auth::SignedIn;
use crate::directory::Directory;
use crate::permission::Op;
use crate::{App, AppError};

/// The oversight use cases, bound to the running application.
#[derive(Clone, Copy)]
pub struct Oversight<'a> {
    app: &'a App,
}

impl App {
    /// The oversight area's door (§7, §8).
    pub fn oversight(&self) -> Oversight<'_> {
        Oversight { app: self }
    }
}

/// A read of the review pages that was refused (the `NotAllowed` one is audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRefusal {
    /// §7: not the administrator, the director or the ethics office.
    NotAllowed,
    NotFound,
}

impl ReadRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotAllowed => "oversight.not_allowed",
            Self::NotFound => "oversight.not_found",
        }
    }
}

/// Why a case was not filed by account: no such person, or a rule (both audited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    NoSuchPerson,
    Rule(ViolationRefusal),
}

impl FileRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchPerson => "violation.no_such_person",
            Self::Rule(r) => r.code(),
        }
    }
}

/// A case as the administrator types it on the page or in the API: the person by account.
#[derive(Debug, Clone)]
pub struct FileByAccount<'s> {
    pub account: &'s str,
    pub rule: String,
    pub evidence: String,
    pub suspend_grants: bool,
}

type Decided<T, R> = Result<Result<T, R>, AppError>;

impl<'a> Oversight<'a> {
    fn store(&self) -> &'a querywarden_storage::Store {
        self.app.store()
    }

    /// Staff and units by id, for whoever is signed in (the pages show names, §9: no
    /// subject's data is in here).
    pub async fn directory(&self) -> Result<Directory, AppError> {
        Ok(Directory::load(self.store()).await?)
    }

    /// §7: refuses (audited) anyone who may not read the review and the dashboard.
    async fn reader(&self, who: &SignedIn, op: &Op) -> Result<Result<(), ReadRefusal>, AppError> {
        if dashboard::may_read_dashboard(&who.person) {
            return Ok(Ok(()));
        }
        crate::auth::refuse_request(
            self.store(),
            who,
            ReadRefusal::NotAllowed.code(),
            op.client_addr.clone(),
            op.now,
            &op.request_id,
        )
        .await?;
        Ok(Err(ReadRefusal::NotAllowed))
    }

    /// Every quarterly review, newest first (§7).
    pub async fn reviews(&self, who: &SignedIn, op: &Op) -> Decided<Vec<ReviewRow>, ReadRefusal> {
        if let Err(r) = self.reader(who, op).await? {
            return Ok(Err(r));
        }
        Ok(Ok(self.store().reviews().await?))
    }

    /// One review with its findings (§7).
    pub async fn review(
        &self,
        who: &SignedIn,
        id: i64,
        op: &Op,
    ) -> Decided<ReviewView, ReadRefusal> {
        if let Err(r) = self.reader(who, op).await? {
            return Ok(Err(r));
        }
        Ok(review::review_view(self.store(), id)
            .await?
            .ok_or(ReadRefusal::NotFound))
    }

    /// The review a finding belongs to (to return to its page), for those who may read it.
    pub async fn review_of_finding(
        &self,
        who: &SignedIn,
        finding: i64,
        op: &Op,
    ) -> Decided<i64, ReadRefusal> {
        if let Err(r) = self.reader(who, op).await? {
            return Ok(Err(r));
        }
        Ok(self
            .store()
            .finding(finding)
            .await?
            .map(|f| f.review_id)
            .ok_or(ReadRefusal::NotFound))
    }

    pub async fn close_review(
        &self,
        admin: &Person,
        id: i64,
        op: &Op,
    ) -> Decided<LaborBureauReport, ReviewRefusal> {
        let app = self.app;
        review::close_review(
            app.store(),
            app.keys(),
            &app.config().oversight,
            admin,
            id,
            op,
        )
        .await
    }

    pub async fn conclude_finding(
        &self,
        admin: &Person,
        finding: i64,
        req: &ConcludeFindingRequest,
        op: &Op,
    ) -> Decided<Option<i64>, ReviewRefusal> {
        review::conclude_finding(self.store(), admin, finding, req, op).await
    }

    /// §7 "any day": reconciles `[from, to)` for the permission administrator.
    pub async fn reconcile(
        &self,
        by: &Person,
        from: Timestamp,
        to: Timestamp,
        op: &Op,
    ) -> Decided<ReconcileReport, ReviewRefusal> {
        let app = self.app;
        reconciliation::reconcile(
            app.store(),
            app.keys(),
            &app.config().oversight,
            by,
            from,
            to,
            op,
        )
        .await
    }

    /// The director's dashboard for this quarter, or `None` for someone who may not read it.
    pub async fn dashboard(
        &self,
        who: &Person,
        now: Timestamp,
    ) -> Result<Option<Dashboard>, AppError> {
        if !dashboard::may_read_dashboard(who) {
            return Ok(None);
        }
        let app = self.app;
        dashboard::dashboard(app.store(), app.keys(), &app.config().oversight, now)
            .await
            .map(Some)
    }

    /// The dashboard for the API: anyone who may not read it is refused (audited, §7).
    pub async fn dashboard_data(&self, who: &SignedIn, op: &Op) -> Decided<Dashboard, ReadRefusal> {
        if let Err(r) = self.reader(who, op).await? {
            return Ok(Err(r));
        }
        let app = self.app;
        Ok(Ok(dashboard::dashboard(
            app.store(),
            app.keys(),
            &app.config().oversight,
            op.now,
        )
        .await?))
    }

    /// §4 ¶2: the supervisor's own unit; `None` for someone who supervises none.
    pub async fn unit_view(&self, supervisor: &Person) -> Result<Option<UnitView>, AppError> {
        dashboard::unit_view(self.store(), supervisor).await
    }

    /// The person's own unread oversight notices.
    pub async fn notices(&self, person: &Person) -> Result<Vec<NoticeRow>, AppError> {
        dashboard::notices(self.store(), person).await
    }

    /// Marks one of the person's own notices read (audited).
    pub async fn mark_notice_read(
        &self,
        person: &Person,
        notice: i64,
        op: &Op,
    ) -> Result<(), crate::permission::PermissionError> {
        crate::permission::staff::mark_notice_read(self.store(), person.id, notice, op).await
    }

    /// The cases the person may see.
    pub async fn cases(&self, viewer: &Person) -> Result<Vec<ViolationRow>, AppError> {
        violation::cases(self.store(), viewer).await
    }

    pub async fn case_for(
        &self,
        viewer: &Person,
        case: i64,
        op: &Op,
    ) -> Decided<ViolationRow, ViolationRefusal> {
        violation::case_for(self.store(), viewer, case, op).await
    }

    /// §8 ¶2: the administrator files a case against the person with `account`; an account
    /// nobody has is refused and audited like the rules' refusals.
    pub async fn file_violation(
        &self,
        filer: &SignedIn,
        req: FileByAccount<'_>,
        op: &Op,
    ) -> Decided<i64, FileRefusal> {
        let store = self.store();
        let person = match Account::parse(req.account.trim()) {
            Ok(a) => store.person_by_account(&a).await?,
            Err(_) => None,
        };
        let Some(person) = person else {
            crate::auth::refuse_request(
                store,
                filer,
                FileRefusal::NoSuchPerson.code(),
                op.client_addr.clone(),
                op.now,
                &op.request_id,
            )
            .await?;
            return Ok(Err(FileRefusal::NoSuchPerson));
        };
        let calendar = reconciliation::calendar(store).await?;
        let case = FileViolationRequest {
            person: person.id,
            rule: req.rule,
            evidence: req.evidence,
            suspend_grants: req.suspend_grants,
            source: ViolationSource::Administrator,
        };
        Ok(
            violation::file_violation(store, &calendar, &filer.person, &case, op)
                .await?
                .map_err(FileRefusal::Rule),
        )
    }

    pub async fn submit_report(
        &self,
        person: &Person,
        case: i64,
        report: &str,
        op: &Op,
    ) -> Decided<(), ViolationRefusal> {
        violation::submit_report(self.store(), person, case, report, op).await
    }

    pub async fn decide_report(
        &self,
        admin: &Person,
        case: i64,
        return_note: Option<&str>,
        op: &Op,
    ) -> Decided<(), ViolationRefusal> {
        violation::decide_report(self.store(), admin, case, return_note, op).await
    }

    // -----------------------------------------------------------------------------------
    // Unannounced audits, Form 4 (§8)

    pub async fn audits_for(&self, reader: &Person) -> Result<Vec<UnannouncedAudit>, AuditError> {
        audits::audits_for(self.store(), reader).await
    }

    /// The director's queue of audits awaiting review (empty for anyone else is refused).
    pub async fn review_queue(
        &self,
        reader: &Person,
        op: &Op,
    ) -> Result<Vec<UnannouncedAudit>, AuditError> {
        audits::review_queue(self.store(), reader, op).await
    }

    pub async fn audit_for(
        &self,
        reader: &Person,
        id: AuditId,
        op: &Op,
    ) -> Result<AuditView, AuditError> {
        audits::audit_for(self.store(), self.app.keys(), reader, id, op).await
    }

    pub async fn open_audit(
        &self,
        actor: &Person,
        req: &OpenAuditRequest,
        op: &Op,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::open_audit(self.store(), actor, req, op).await
    }

    /// The largest attachment accepted, in bytes (`[unannounced_audits]`).
    pub fn max_attachment_bytes(&self) -> u64 {
        self.app.config().unannounced_audits.max_attachment_bytes
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one use case: actor, audit, case, the file, the operation"
    )]
    pub async fn attach_document(
        &self,
        actor: &Person,
        id: AuditId,
        case_no: &str,
        file_name: &str,
        bytes: &[u8],
        op: &Op,
    ) -> Result<DocumentLine, AuditError> {
        let app = self.app;
        audits::attach_document(
            app.store(),
            app.keys(),
            &app.config().unannounced_audits,
            actor,
            id,
            case_no,
            file_name,
            bytes,
            op,
        )
        .await
    }

    pub async fn refuse_oversized_document(
        &self,
        actor: &Person,
        id: AuditId,
        op: &Op,
    ) -> Result<(), AuditError> {
        let app = self.app;
        audits::refuse_oversized_document(
            app.store(),
            &app.config().unannounced_audits,
            actor,
            id,
            op,
        )
        .await
    }

    pub async fn document_for(
        &self,
        reader: &Person,
        id: AuditId,
        document: i64,
        op: &Op,
    ) -> Result<OpenedDocument, AuditError> {
        audits::document_for(self.store(), self.app.keys(), reader, id, document, op).await
    }

    pub async fn submit_documents(
        &self,
        actor: &Person,
        id: AuditId,
        op: &Op,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::submit_documents(self.store(), actor, id, op).await
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one use case: actor, audit, case, the opinion, the operation"
    )]
    pub async fn record_case_opinion(
        &self,
        actor: &Person,
        id: AuditId,
        case_no: &str,
        conforms: bool,
        text: &str,
        op: &Op,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::record_case_opinion(self.store(), actor, id, case_no, conforms, text, op).await
    }

    pub async fn record_overall_opinion(
        &self,
        actor: &Person,
        id: AuditId,
        violation_found: bool,
        text: &str,
        op: &Op,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::record_overall_opinion(self.store(), actor, id, violation_found, text, op).await
    }

    pub async fn sign_off(
        &self,
        actor: &Person,
        id: AuditId,
        step: SignOffStep,
        op: &Op,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::sign_off(self.store(), actor, id, step, op).await
    }

    pub async fn director_review(
        &self,
        actor: &Person,
        id: AuditId,
        comment: &str,
        op: &Op,
    ) -> Result<UnannouncedAudit, AuditError> {
        audits::review(self.store(), actor, id, comment, op).await
    }
}
