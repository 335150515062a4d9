//! What one audit record says (§7, §8): who did what to which object, with what outcome.
//!
//! Security-sensitive: this is the content of the tamper-evident trail. A record never holds
//! personal data in clear; a data subject appears only as a keyed HMAC computed by the layer
//! that holds the key ([`SubjectDigest`]). The canonical encoding defined here is what the hash
//! chain and the Merkle tree cover, so changing it breaks verification of existing logs: add
//! fields, never reorder or rename them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

use crate::org::{PersonId, Role};

crate::code_enum! {
    /// Every kind of event the trail records, with its stable code. The list is documented in
    /// `docs/audit-actions.md`; codes are never reused or renamed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum AuditAction {
        // §3: signing in and out.
        LoginSucceeded = "auth.login.succeeded";
        LoginFailed = "auth.login.failed";
        AccountLocked = "auth.account.locked";
        AccountUnlocked = "auth.account.unlocked";
        SessionLocked = "auth.session.locked";
        SessionUnlocked = "auth.session.unlocked";
        Logout = "auth.logout";
        SessionEnded = "auth.session.ended";
        PasswordChanged = "auth.password.changed";
        CertificateBound = "auth.certificate.bound";
        // §2: permission applications and grants.
        ApplicationCreated = "permission.application.created";
        ApplicationSubmitted = "permission.application.submitted";
        ApplicationApproved = "permission.application.approved";
        ApplicationRejected = "permission.application.rejected";
        ApplicationWithdrawn = "permission.application.withdrawn";
        GrantCreated = "permission.grant.created";
        GrantEnded = "permission.grant.ended";
        GrantSuspended = "permission.grant.suspended";
        // §4, §5: registrations and external requests.
        RegistrationCreated = "query.registration.created";
        RegistrationApproved = "query.registration.approved";
        RegistrationRejected = "query.registration.rejected";
        RegistrationCancelled = "query.registration.cancelled";
        RequestCreated = "query.request.created";
        RequestAccepted = "query.request.accepted";
        RequestRejected = "query.request.rejected";
        ExecutionRefused = "query.execution.refused";
        QuerySent = "query.sent";
        QueryResultReceived = "query.result.received";
        QueryFailed = "query.failed";
        // §6: results.
        ResultViewed = "result.viewed";
        ResultPrinted = "result.printed";
        ResultDestroyed = "result.destroyed";
        NationalIdRevealed = "subject.national_id.revealed";
        // §7, §8: reviews, audits, findings.
        AuditCreated = "oversight.audit.created";
        AuditFindingRecorded = "oversight.finding.recorded";
        AuditSignedOff = "oversight.audit.signed_off";
        ReviewCompleted = "oversight.review.completed";
        ReportGenerated = "report.generated";
        AuditTrailSearched = "audit_trail.searched";
        AuditTrailExported = "audit_trail.exported";
        // Administration.
        SystemInitialised = "system.initialised";
        DemoSeeded = "system.demo_seeded";
        ConfigurationChanged = "admin.configuration.changed";
        CatalogueChanged = "admin.catalogue.changed";
        StaffImported = "admin.staff.imported";
        UsageLogImported = "admin.usage_log.imported";
        KeyRotated = "admin.key.rotated";
        // §2 and 資通系統防護基準: permission chain steps, recertification, account hygiene.
        ApplicationStepApproved = "permission.application.step_approved";
        ApplicationReturned = "permission.application.returned";
        StaffStatusChanged = "admin.staff.status_changed";
        RecertificationOpened = "permission.recertification.opened";
        RecertificationDecided = "permission.recertification.decided";
        RecertificationClosed = "permission.recertification.closed";
        AccountDisabled = "admin.account.disabled";
        AccountEnabled = "admin.account.enabled";
        // §5, Form 3: results returned to the requesting agency (in the system or by official
        // document number, never by e-mail or fax).
        ResultDelivered = "result.delivered";
        // §2: the administrator or supervisor acknowledged a personnel-change notice.
        NoticeRead = "permission.notice.read";
        // §3 go-live: enrolment codes, enrolment with one's own card, the organisation file,
        // revocation lists, supervisor roles ended by a personnel change (§2).
        EnrolmentCodeIssued = "auth.enrolment.code_issued";
        Enrolled = "auth.enrolment.completed";
        UnitsImported = "admin.units.imported";
        CrlLoaded = "admin.crl.loaded";
        SupervisorRoleEnded = "admin.supervisor_role.ended";
        // §8, Form 4: the querier attached a supporting document to an audit, said the documents
        // are complete, and someone read an audit record or a document (refusals of any read too).
        AuditDocumentAttached = "oversight.audit.document_attached";
        AuditDocumentsSubmitted = "oversight.audit.documents_submitted";
        AuditViewed = "oversight.audit.viewed";
        // §3, §9: a request refused before it reached a use case's rule (a form whose CSRF token
        // does not match, a request on a locked screen, a page of another role).
        AccessRefused = "access.refused";
        // §9: reading personal data (a Form 2 row, a Form 3 request) is recorded like changing it.
        RegistrationViewed = "query.registration.viewed";
        RequestViewed = "query.request.viewed";
        /// §7: the quarter's usage review opened with its findings.
        ReviewOpened = "oversight.review.opened";
        /// §8 ¶2: a violation case opened (from a review, an audit or the administrator).
        ViolationOpened = "oversight.violation.opened";
        /// §8 ¶2: the person submitted the review report (檢討報告).
        CorrectiveReportSubmitted = "oversight.corrective_report.submitted";
        /// §8 ¶2: the administrator accepted the review report; the case is closed.
        CorrectiveReportAccepted = "oversight.corrective_report.accepted";
        /// §8 ¶2: the administrator returned the review report with a note.
        CorrectiveReportReturned = "oversight.corrective_report.returned";
        /// §8 ¶2: the person was reminded that the report is due.
        CorrectiveReportReminded = "oversight.corrective_report.reminded";
        /// §8 ¶2: the deadline passed; the supervisor and administrator were told.
        CorrectiveReportEscalated = "oversight.corrective_report.escalated";
        /// §8 ¶2: grants suspended for a violation case are in force again (report accepted).
        GrantReinstated = "permission.grant.reinstated";
        // 個人資料保護法 §10, §13: a citizen's access request, its report and withheld entries.
        CitizenRequestRecorded = "citizen_report.request.recorded";
        CitizenRequestExtended = "citizen_report.request.extended";
        CitizenReportProduced = "citizen_report.produced";
        CitizenRequestAnswered = "citizen_report.request.answered";
        RegistrationWithheld = "citizen_report.withholding.marked";
        WithholdingsListed = "citizen_report.withholdings.listed";
        /// §5: a query was sent and no answer came (timed out after sending): its outcome is
        /// unknown and the item waits.
        QueryOutcomeUnknown = "query.outcome.unknown";
        /// §5: an unknown outcome resolved by the platform's usage log or the querier's
        /// statement; the item may run again.
        QueryOutcomeResolved = "query.outcome.resolved";
        /// §6: a Form 2/3 row's sealed subject name and national ID destroyed at the end of the
        /// record's keeping period; the digest and the masked form stay.
        SubjectDestroyed = "query.subject.destroyed";
        /// §5 ¶1: a 代理人 registered for a unit's supervisor, with the period (or refused).
        ActingSupervisorRegistered = "admin.unit.deputy_registered";
        /// A page of "my registrations" read (one record per page).
        RegistrationsListed = "query.registration.listed";
        /// §5 ¶3, Form 3: the requesting office's supervisor consented (申請人單位主管核章).
        RequestConsented = "query.request.consented";
        /// §5 ¶3, Form 3: the assigned querier or the using unit's supervisor signed the request.
        RequestSigned = "query.request.signed";
        /// §5 ¶3: one subject of a Form 3 request closed without a query, with the reason.
        RequestSubjectClosed = "query.request.subject_closed";
        /// 行政程序法 §48: the administrator loaded a year's official office calendar (辦公日曆表).
        CalendarImported = "admin.calendar.imported";
        /// §8 ¶2, §9: a violation case was read (it names a staff member and the rule broken),
        /// or reading it was refused.
        ViolationViewed = "oversight.violation.viewed";
        /// 個人資料保護法 §10, §13: the contact officer read the list of requests or one request.
        CitizenRequestViewed = "citizen_report.request.viewed";
        /// §13: the contact officer was reminded that a request's deadline is near.
        CitizenRequestReminded = "citizen_report.request.reminded";
        /// §13: a request's deadline passed unanswered; the officer's supervisor was told.
        CitizenRequestEscalated = "citizen_report.request.escalated";
        /// §10: a citizen signed in with their own card on the self-service listener and saw their
        /// report (or was refused).
        CitizenSelfServiceReport = "citizen_report.self_service.viewed";
        /// `querywarden migrate` applied schema migrations to a database that already held a trail.
        SchemaMigrated = "system.schema_migrated";
        /// `querywarden copy` filled a new PostgreSQL database from the embedded SQLite one
        /// (recorded on the copy, in the copy's own transaction).
        DatabaseCopied = "system.database_copied";
        /// A person set their e-mail address and digest choice (the address is not recorded).
        MailPreferenceChanged = "account.mail.changed";
        /// The daily digest of what waits was sent to one person, or sending it failed (counts
        /// only; no address, no citizen's data).
        MailDigestSent = "mail.digest.sent";
    }
}

/// How the trail writes an instant: UTC, microseconds, `Z`. The same text is in the signed
/// entry and in the searchable `at` column, so that range searches compare like with like.
pub fn format_instant(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The outcome of the audited action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Refused by a rule; the code names the rule (e.g. `policy.no_grant`).
    Refused(String),
    /// Failed for a technical reason; the code names it.
    Failed(String),
}

impl Outcome {
    pub fn code(&self) -> String {
        match self {
            Self::Succeeded => "succeeded".to_string(),
            Self::Refused(reason) => format!("refused:{reason}"),
            Self::Failed(reason) => format!("failed:{reason}"),
        }
    }
}

/// The person who acted, and the role they acted in (a person can hold several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub person: PersonId,
    pub role: Option<Role>,
}

/// A data subject as the trail knows them: HMAC-SHA256 of the whole national ID under a key
/// held apart from the database. An auditor who knows the ID can compute it to search; a
/// stolen database alone cannot be brute-forced back to IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectDigest {
    pub key_id: String,
    pub hex: String,
}

/// One event, before it is numbered and chained by storage.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub actor: Option<Actor>,
    pub action: AuditAction,
    pub object_type: String,
    pub object_id: String,
    pub outcome: Outcome,
    pub request_id: String,
    pub client_addr: Option<String>,
    pub subject: Option<SubjectDigest>,
    /// Free details. Must never contain personal data in clear; callers put masked IDs,
    /// counts, codes and references here.
    pub details: BTreeMap<String, Value>,
}

impl AuditEvent {
    /// An event by nobody in particular (the system itself), succeeded, with no details.
    pub fn system(at: Timestamp, action: AuditAction, request_id: impl Into<String>) -> Self {
        Self {
            at,
            actor: None,
            action,
            object_type: "system".into(),
            object_id: "-".into(),
            outcome: Outcome::Succeeded,
            request_id: request_id.into(),
            client_addr: None,
            subject: None,
            details: BTreeMap::new(),
        }
    }

    pub fn by(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    pub fn on(mut self, object_type: impl Into<String>, object_id: impl Into<String>) -> Self {
        self.object_type = object_type.into();
        self.object_id = object_id.into();
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    /// The canonical bytes that the chain and the Merkle tree cover: compact JSON with keys in
    /// byte order and only strings, integers, booleans and nulls (no floats), which makes it
    /// identical to its RFC 8785 (JCS) form.
    pub fn canonical_entry(&self, seq: u64) -> Vec<u8> {
        let mut m = serde_json::Map::new();
        m.insert("v".into(), Value::from(1));
        m.insert("seq".into(), Value::from(seq));
        m.insert("at".into(), Value::from(format_instant(self.at)));
        m.insert(
            "actor".into(),
            self.actor
                .map_or(Value::Null, |a| Value::from(a.person.get())),
        );
        m.insert(
            "role".into(),
            self.actor
                .and_then(|a| a.role)
                .map_or(Value::Null, |r| Value::from(r.code())),
        );
        m.insert("action".into(), Value::from(self.action.code()));
        m.insert("object_type".into(), Value::from(self.object_type.clone()));
        m.insert("object_id".into(), Value::from(self.object_id.clone()));
        m.insert("outcome".into(), Value::from(self.outcome.code()));
        m.insert("request_id".into(), Value::from(self.request_id.clone()));
        m.insert(
            "client_addr".into(),
            self.client_addr.clone().map_or(Value::Null, Value::from),
        );
        m.insert(
            "subject".into(),
            self.subject.as_ref().map_or(Value::Null, |s| {
                Value::from(format!("hmac-sha256:{}:{}", s.key_id, s.hex))
            }),
        );
        m.insert(
            "details".into(),
            Value::Object(canonicalise_map(&self.details)),
        );
        // serde_json's Map is a BTreeMap (the `preserve_order` feature is off), so keys are
        // written in byte order.
        serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
    }
}

fn canonicalise_map(details: &BTreeMap<String, Value>) -> serde_json::Map<String, Value> {
    details
        .iter()
        .map(|(k, v)| (k.clone(), canonicalise(v)))
        .collect()
}

/// Floats have no single canonical text, so they are written as strings.
fn canonicalise(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => Value::from(n.to_string()),
        Value::Array(a) => Value::Array(a.iter().map(canonicalise).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), canonicalise(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for a in AuditAction::ALL {
            assert!(seen.insert(a.code()), "duplicate code {}", a.code());
            assert_eq!(AuditAction::parse_code(a.code()), Some(a));
        }
    }

    #[test]
    fn canonical_entry_is_sorted_compact_json() {
        let at = Timestamp::from_second(1_764_000_000).unwrap();
        let e = AuditEvent::system(at, AuditAction::DemoSeeded, "req-1")
            .detail("zeta", 1)
            .detail("alpha", "x");
        let s = String::from_utf8(e.canonical_entry(7)).unwrap();
        assert!(s.starts_with(r#"{"action":"system.demo_seeded","actor":null,"at":"2025-11-24T16:00:00.000000Z","client_addr":null,"details":{"alpha":"x","zeta":1}"#), "{s}");
        assert!(s.contains(r#""seq":7"#));
        assert!(!s.contains(' '));
    }
}

#[cfg(test)]
mod docs_tests {
    use super::AuditAction;

    #[test]
    fn docs_list_every_action_code() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/audit-actions.md"
        ))
        .unwrap();
        for a in AuditAction::ALL {
            assert!(
                doc.contains(&format!("`{}`", a.code())),
                "docs/audit-actions.md lacks {}",
                a.code()
            );
        }
    }
}
