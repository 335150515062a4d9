//! 個人資料保護法 §13 I: the fifteen-day decision period, watched by the scheduler. The
//! contact officer who recorded a request gets an inbox notice three working days before its
//! deadline; once the deadline passes unanswered, the officer and their unit's supervisor
//! (or, when the officer is that supervisor, the parent unit's, and at the top of the bureau
//! the director) are told. Each notice goes
//! out once (the request row keeps the day it went), so running the job again, or after a
//! restart, sends nothing twice.

use querywarden_domain::audit_event::{AuditAction, AuditEvent, SubjectDigest};
use querywarden_domain::citizen_report::{DeadlineFacts, DeadlineNotice, notice_due};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{PersonId, Role};
use querywarden_storage::Store;

use crate::AppError;
use crate::permission::Op;

/// Notice kind of the reminder (the deadline is near). Under `oversight.` so the notice shows
/// in the inbox of the oversight page, where the officer and the supervisor already look.
pub const REMINDER: &str = "oversight.citizen_request_due_soon";
/// Notice kind of the escalation (the deadline passed unanswered).
pub const ESCALATION: &str = "oversight.citizen_request_overdue";

/// Sends the reminders and escalations due today; returns how many notices went out.
pub async fn remind_and_escalate(
    store: &Store,
    calendar: &HolidayCalendar,
    op: &Op,
) -> Result<usize, AppError> {
    let today = op.today();
    let persons = store.persons().await?;
    let units = store.units().await?;
    let supervisors = store.unit_supervisors().await?;
    let mut sent = 0;
    for r in store.citizen_requests().await? {
        let facts = DeadlineFacts {
            due: r.due_on,
            answered: r.answered_on.is_some(),
            reminded: r.reminded_on.is_some(),
            escalated: r.escalated_on.is_some(),
        };
        let Some(notice) = notice_due(facts, today, calendar) else {
            continue;
        };
        let mut recipients: Vec<PersonId> = vec![r.recorded_by];
        if notice == DeadlineNotice::Escalation
            && let Some(officer) = persons.iter().find(|p| p.id == r.recorded_by)
        {
            let own = supervisors.get(&officer.unit).copied();
            let parent = units
                .iter()
                .find(|u| u.id == officer.unit)
                .and_then(|u| u.parent.as_ref())
                .and_then(|p| supervisors.get(p).copied());
            // The officer's supervisor; if the officer supervises the unit, the one above.
            let director = persons
                .iter()
                .filter(|p| p.has_role(Role::Director))
                .map(|p| p.id);
            match (own, parent) {
                (Some(s), _) if s != officer.id => recipients.push(s),
                (_, Some(p)) => recipients.push(p),
                _ => recipients.extend(director),
            }
        }
        recipients.sort();
        recipients.dedup();
        let (action, kind) = match notice {
            DeadlineNotice::Reminder => (AuditAction::CitizenRequestReminded, REMINDER),
            DeadlineNotice::Escalation => (AuditAction::CitizenRequestEscalated, ESCALATION),
        };
        let object = format!("citizen_request:{}", r.request_no);
        let mut tx = store.begin().await?;
        for p in &recipients {
            tx.insert_notice(*p, kind, &object, op.now).await?;
        }
        tx.mark_citizen_request_notice(r.id, notice == DeadlineNotice::Escalation, today)
            .await?;
        let mut ev = AuditEvent::system(op.now, action, &op.request_id)
            .on("citizen_request", r.request_no.clone())
            .detail("due_on", r.due_on.civil().to_string())
            .detail("recipients", recipients.len());
        ev.subject = Some(SubjectDigest {
            key_id: r.subject_key_id.clone(),
            hex: r.subject_digest.clone(),
        });
        tx.append_audit(&ev).await?;
        tx.commit().await?;
        sent += recipients.len();
    }
    Ok(sent)
}
