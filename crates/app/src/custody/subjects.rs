//! §6 at the end of a record's keeping period: the sealed subject name and national ID kept
//! for Forms 2 and 3 are destroyed (the ciphertext and its wrapped data key emptied, so even a
//! backup cannot bring them back), leaving the keyed digest (searches and the audit trail
//! still find the row) and the masked forms for display. One transaction and one
//! `query.subject.destroyed` record per row.
//!
//! Security-sensitive: it handles the subjects in clear for the moment it takes to mask them;
//! nothing of them is logged or written to the trail.

use jiff::Timestamp;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_domain::registration::{RegistrationId, RegistrationNo, RequestNo};
use querywarden_domain::retention::{self, RECORDS_KEPT_YEARS};
use querywarden_domain::roc_date::taipei_date;
use querywarden_storage::{MaskedSubject, Store};

use crate::AppError;
use crate::keys::KeyRing;
use crate::registration::{open_subject, stored_digest, subject_aad};

/// What the job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectDestructionReport {
    /// Form 2 rows whose subject was destroyed.
    pub registrations: Vec<RegistrationNo>,
    /// Form 3 subjects destroyed, as (request, position).
    pub request_subjects: Vec<(RequestNo, i64)>,
}

impl SubjectDestructionReport {
    pub fn count(&self) -> usize {
        self.registrations.len() + self.request_subjects.len()
    }
}

/// The masked forms of a subject that opens, or placeholders for one that no longer does
/// (its key is gone: it is destroyed all the same).
fn masked(subject: Result<querywarden_domain::registration::Subject, AppError>) -> MaskedSubject {
    match subject {
        Ok(s) => MaskedSubject {
            name: s.masked_name(),
            id: s.id().masked(),
            linked_id: s.linked_id().map(|l| l.masked()),
        },
        Err(_) => MaskedSubject {
            name: "○".into(),
            id: "**********".into(),
            linked_id: None,
        },
    }
}

/// Destroys every subject whose record's keeping period ([`RECORDS_KEPT_YEARS`] years from
/// its date) ended before today (Asia/Taipei). Form 2 rows with a result still held wait for
/// the result's own destruction.
pub async fn destroy_expired_subjects(
    store: &Store,
    keys: &KeyRing,
    now: Timestamp,
    request_id: &str,
) -> Result<SubjectDestructionReport, AppError> {
    let cutoff = retention::subject_destruction_cutoff(taipei_date(now));
    let mut report = SubjectDestructionReport::default();
    for held in store.registration_subjects_held_before(cutoff).await? {
        let Ok(no) = RegistrationNo::parse(&held.reg_no) else {
            continue;
        };
        let Some(reg) = store.registration(RegistrationId::new(held.id)).await? else {
            continue;
        };
        let mask = masked(open_subject(keys, &held.sealed, &subject_aad(no)));
        let mut tx = store.begin().await?;
        if !tx.destroy_registration_subject(reg.id, now, &mask).await? {
            continue;
        }
        let mut ev = AuditEvent::system(now, AuditAction::SubjectDestroyed, request_id)
            .on("registration", no.to_string())
            .detail("record_date", held.date.civil().to_string())
            .detail(
                "kept_through",
                retention::record_kept_through(held.date)
                    .civil()
                    .to_string(),
            )
            .detail("rule", format!("records_kept_years:{RECORDS_KEPT_YEARS}"));
        ev.subject = Some(stored_digest(&reg));
        tx.append_audit(&ev).await?;
        tx.commit().await?;
        report.registrations.push(no);
    }
    for (held, position) in store.request_subjects_held_before(cutoff).await? {
        let Ok(no) = RequestNo::parse(&held.reg_no) else {
            continue;
        };
        let mask = masked(open_subject(
            keys,
            &held.sealed,
            &crate::request::subject_aad(no, position),
        ));
        let mut tx = store.begin().await?;
        if !tx.destroy_request_subject(held.id, now, &mask).await? {
            continue;
        }
        let ev = AuditEvent::system(now, AuditAction::SubjectDestroyed, request_id)
            .on("request", no.to_string())
            .detail("position", position)
            .detail("record_date", held.date.civil().to_string())
            .detail("rule", format!("records_kept_years:{RECORDS_KEPT_YEARS}"));
        tx.append_audit(&ev).await?;
        tx.commit().await?;
        report.request_subjects.push((no, position));
    }
    Ok(report)
}
