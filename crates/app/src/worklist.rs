//! What waits for one person (待辦事項): every decision, signature, execution, report and
//! review the rules put in this person's hands today, oldest first, each with its deadline
//! and the working days left (counted on the office calendar in force, 行政程序法 §48), and
//! the person's unread notices. The home page lists it and the navigation counts it.
//!
//! Security-sensitive in one way: it must list only what is this person's to do, decided by
//! the same rules the use cases apply when the person acts (the approver of a registration,
//! the signer of a Form 3 or Form 4 step, the designated approver of a Form 1 step). It
//! carries no personal data of citizens: registrations and requests appear by their numbers.
//!
//! A read only: nothing here is written or audited, and the reads are a fixed few per person
//! (never one per item), since every page's navigation asks for the counts.

use std::collections::BTreeMap;

use jiff::Timestamp;
use querywarden_domain::citizen_report::working_days_left;
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::oversight::unannounced_audit::{
    AuditId, AuditState, SignOffStep, designated_signer,
};
use querywarden_domain::oversight::violation::CaseState;
use querywarden_domain::permission::{ApplicationId, FormNumber, Roster, Step};
use querywarden_domain::registration::form3::{self, Stage};
use querywarden_domain::registration::{RegistrationNo, RegistrationState, RequestNo};
use querywarden_domain::roc_date::{RocDate, taipei_date, taipei_day_start_utc};
pub use querywarden_storage::NoticeRow;
use querywarden_storage::{RegistrationFilter, RequestState, Store};

use crate::permission::PermissionPolicy;
use crate::registration::{roster_on, runnable_items};
use crate::{App, AppError};

/// What a person has to do, in the rules' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    /// §5: a Form 2 registration waits for this supervisor's (or 代理's) approval.
    ApproveRegistration,
    /// §5: an approved registration this querier has still to run, before the approval
    /// expires.
    ExecuteRegistration,
    /// §2: a Form 1 step (consent, approval, countersignature) waits for this person.
    DecideApplication,
    /// §5 ¶3: a Form 3 request waits for the responsible unit's review.
    ReviewRequest,
    /// §5 ¶3: a Form 3 request waits for this person's consent or signature.
    SignRequest,
    /// §7: the quarter's usage review is open and waits for the permission administrator.
    ConcludeQuarterlyReview,
    /// §8: an unannounced audit waits for this querier's supporting documents (Form 4
    /// 資料繳交期限).
    SubmitAuditDocuments,
    /// §8: the auditors record their opinions on an audit's cases.
    RecordAuditOpinion,
    /// §8: Form 4 waits for this person's sign-off.
    SignAudit,
    /// §8: a fully signed Form 4 waits for the director's review (局長核閱).
    ReviewAudit,
    /// §8 ¶2: a corrective report (檢討報告) is due from this person within ten days.
    WriteCorrectiveReport,
    /// §8 ¶2: a corrective report waits for the permission administrator's decision.
    DecideCorrectiveReport,
}

impl Task {
    /// In the order the home page groups them (and the message ids use).
    pub const ALL: [Task; 12] = [
        Task::ApproveRegistration,
        Task::ExecuteRegistration,
        Task::DecideApplication,
        Task::ReviewRequest,
        Task::SignRequest,
        Task::ConcludeQuarterlyReview,
        Task::SubmitAuditDocuments,
        Task::RecordAuditOpinion,
        Task::SignAudit,
        Task::ReviewAudit,
        Task::WriteCorrectiveReport,
        Task::DecideCorrectiveReport,
    ];

    /// A stable code (for pages, the API and message ids).
    pub fn code(self) -> &'static str {
        match self {
            Task::ApproveRegistration => "approve_registration",
            Task::ExecuteRegistration => "execute_registration",
            Task::DecideApplication => "decide_application",
            Task::ReviewRequest => "review_request",
            Task::SignRequest => "sign_request",
            Task::ConcludeQuarterlyReview => "conclude_quarterly_review",
            Task::SubmitAuditDocuments => "submit_audit_documents",
            Task::RecordAuditOpinion => "record_audit_opinion",
            Task::SignAudit => "sign_audit",
            Task::ReviewAudit => "review_audit",
            Task::WriteCorrectiveReport => "write_corrective_report",
            Task::DecideCorrectiveReport => "decide_corrective_report",
        }
    }
}

/// What a task is about, by reference only (no citizen's data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concerning {
    Registration(RegistrationNo),
    Application {
        id: ApplicationId,
        form_number: FormNumber,
        step: Step,
    },
    Request(RequestNo),
    Review {
        id: i64,
        quarter: String,
    },
    Audit {
        id: AuditId,
        /// The sign-off step, for [`Task::SignAudit`].
        step: Option<SignOffStep>,
    },
    Violation(i64),
}

/// One thing waiting for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    pub task: Task,
    pub concerning: Concerning,
    /// Since when it waits (the order of the list: oldest first).
    pub since: Timestamp,
    /// The last day to act, where the rules set one: the approval's expiry (§5), the Form 1
    /// reminder day (§2), the review's and the documents' due dates (§7, §8), the ten-day
    /// report (§8 ¶2).
    pub due: Option<RocDate>,
    /// Working days from today to `due` (0 on the day itself, negative once past).
    pub working_days_left: Option<i32>,
}

/// Everything waiting for one person, and their unread notices.
#[derive(Debug, Clone, Default)]
pub struct Worklist {
    /// Oldest first.
    pub items: Vec<WorkItem>,
    /// Unread notices (人事異動, refusals, audits opened, …), oldest first.
    pub notices: Vec<NoticeRow>,
}

impl Worklist {
    /// How many items of `task` wait.
    pub fn count(&self, task: Task) -> usize {
        self.items.iter().filter(|i| i.task == task).count()
    }

    /// How many items wait, by task (tasks with none left out).
    pub fn counts(&self) -> BTreeMap<Task, usize> {
        let mut out = BTreeMap::new();
        for i in &self.items {
            *out.entry(i.task).or_insert(0) += 1;
        }
        out
    }
}

/// The start of day `d` in Asia/Taipei, for items whose waiting began on a date.
fn start_of(d: RocDate) -> Timestamp {
    taipei_day_start_utc(d)
}

/// Everything waiting for `person` at `now` (see the module's documentation).
pub async fn worklist(
    store: &Store,
    policy: &PermissionPolicy,
    person: &Person,
    now: Timestamp,
) -> Result<Worklist, AppError> {
    let calendar = crate::calendar::current(store).await?;
    let mut gathering = Gathering {
        store,
        person,
        now,
        roster: roster_on(store, now).await?,
        today: taipei_date(now),
        calendar: &calendar,
        items: Vec::new(),
    };
    gathering.registrations_to_approve().await?;
    gathering.registrations_to_run().await?;
    gathering.applications_to_decide(policy).await?;
    gathering.requests_to_review_or_sign().await?;
    let admin = person.has_role(Role::PermissionAdministrator);
    if admin {
        gathering.quarterly_reviews().await?;
    }
    gathering.corrective_reports(admin).await?;
    gathering.unannounced_audits().await?;

    let mut items = gathering.items;
    // Oldest first; among equals, the nearer deadline first.
    items.sort_by(|x, y| {
        x.since
            .cmp(&y.since)
            .then_with(|| (x.due.is_none(), x.due).cmp(&(y.due.is_none(), y.due)))
            .then_with(|| x.task.cmp(&y.task))
    });
    Ok(Worklist {
        items,
        notices: store.unread_notices(person.id).await?,
    })
}

/// One person's worklist being gathered, one kind of task at a time: who, the roster of the
/// day (who stands in for whom, as the use cases check it), and the dates deadlines count on.
struct Gathering<'a> {
    store: &'a Store,
    person: &'a Person,
    now: Timestamp,
    roster: Roster,
    today: RocDate,
    calendar: &'a HolidayCalendar,
    items: Vec<WorkItem>,
}

impl Gathering<'_> {
    fn push(&mut self, task: Task, concerning: Concerning, since: Timestamp, due: Option<RocDate>) {
        self.items.push(WorkItem {
            task,
            concerning,
            since,
            due,
            working_days_left: due.map(|d| working_days_left(self.today, d, self.calendar)),
        });
    }

    /// §5: registrations waiting for this person's approval (as supervisor or 代理); the
    /// domain's approver check decides, as it does when the approval is given.
    async fn registrations_to_approve(&mut self) -> Result<(), AppError> {
        let waiting =
            crate::registration::awaiting_approval_by(self.store, self.person, &self.roster)
                .await?;
        for r in waiting {
            self.push(
                Task::ApproveRegistration,
                Concerning::Registration(r.no),
                r.created_at,
                None,
            );
        }
        Ok(())
    }

    /// §5: approved registrations this person runs, with items left, before the approval
    /// expires.
    async fn registrations_to_run(&mut self) -> Result<(), AppError> {
        let approved = self
            .store
            .registrations(&RegistrationFilter {
                querier: Some(self.person.id),
                state: Some("approved"),
                ..Default::default()
            })
            .await?;
        for r in approved {
            if let RegistrationState::Approved {
                at, valid_until, ..
            } = r.state
                && self.now < valid_until
                && !runnable_items(&r).is_empty()
            {
                self.push(
                    Task::ExecuteRegistration,
                    Concerning::Registration(r.no),
                    at,
                    Some(taipei_date(valid_until)),
                );
            }
        }
        Ok(())
    }

    /// §2: Form 1 steps waiting for this person, with the day the reminder falls due.
    async fn applications_to_decide(&mut self, policy: &PermissionPolicy) -> Result<(), AppError> {
        let applications = crate::permission::inbox(self.store, policy, self.person.id, self.today)
            .await
            .map_err(|e| match e {
                crate::permission::PermissionError::App(a) => a,
                other => AppError::unreadable("permission inbox", other),
            })?;
        for e in applications {
            let a = e.application;
            self.push(
                Task::DecideApplication,
                Concerning::Application {
                    id: a.id,
                    form_number: a.form_number,
                    step: e.step,
                },
                e.waiting_since
                    .unwrap_or_else(|| start_of(a.application_date)),
                e.reminder_on,
            );
        }
        Ok(())
    }

    /// §5 ¶3: Form 3 requests waiting for this person's review, consent or signature. The
    /// sign-offs of all open requests come in one read.
    async fn requests_to_review_or_sign(&mut self) -> Result<(), AppError> {
        let store = self.store;
        let mut open_requests = store
            .requests(None, None, Some(RequestState::Submitted))
            .await?;
        open_requests.extend(
            store
                .requests(None, None, Some(RequestState::Accepted))
                .await?,
        );
        if open_requests.is_empty() {
            return Ok(());
        }
        let sign_offs = store.open_request_sign_offs().await?;
        let none = Vec::new();
        let person = self.person;
        for r in open_requests {
            let facts = crate::request::facts_of(&r, sign_offs.get(&r.id).unwrap_or(&none));
            let task = if facts.stage() == Stage::AwaitingReview
                && person.has_role(Role::ResponsibleUnitReviewer)
                && person.unit == r.request.responsible_unit
            {
                Some(Task::ReviewRequest)
            } else if form3::check_consent(&facts, person.id, &self.roster).is_ok()
                || form3::check_sign(&facts, person.id, &self.roster).is_ok()
            {
                Some(Task::SignRequest)
            } else {
                None
            };
            if let Some(task) = task {
                self.push(
                    task,
                    Concerning::Request(r.request.no),
                    r.request.created_at,
                    None,
                );
            }
        }
        Ok(())
    }

    /// §7: the open quarterly review, due on its day (the permission administrator's).
    async fn quarterly_reviews(&mut self) -> Result<(), AppError> {
        for r in self.store.reviews().await? {
            if r.state == "open" {
                let due = RocDate::from_civil(r.due_on).ok();
                self.push(
                    Task::ConcludeQuarterlyReview,
                    Concerning::Review {
                        id: r.id,
                        quarter: r.quarter,
                    },
                    r.opened_at,
                    due,
                );
            }
        }
        Ok(())
    }

    /// §8 ¶2: the person's own corrective reports, due in ten days; the administrator's
    /// (`admin`) decisions on submitted ones.
    async fn corrective_reports(&mut self, admin: bool) -> Result<(), AppError> {
        let me = self.person.id;
        let cases = self
            .store
            .violations(if admin { None } else { Some(me) })
            .await?;
        for v in cases {
            let state = CaseState::parse_code(&v.state);
            if state == Some(CaseState::AwaitingReport) && v.case.person == me {
                self.push(
                    Task::WriteCorrectiveReport,
                    Concerning::Violation(v.id),
                    v.case.opened_at,
                    RocDate::from_civil(v.case.due_on).ok(),
                );
            } else if state == Some(CaseState::ReportSubmitted) && admin {
                self.push(
                    Task::DecideCorrectiveReport,
                    Concerning::Violation(v.id),
                    v.report_at.unwrap_or(v.case.opened_at),
                    None,
                );
            }
        }
        Ok(())
    }

    /// §8: unannounced audits: the querier's documents by the deadline, the auditors'
    /// opinions, each sign-off in order, the director's review.
    async fn unannounced_audits(&mut self) -> Result<(), AppError> {
        let person = self.person;
        for (a, signers) in crate::oversight::unannounced_audit::open_audits(self.store).await? {
            let concerning = |step| Concerning::Audit { id: a.id, step };
            let task = match a.state {
                AuditState::Documents if a.plan.querier == person.id => Some((
                    Task::SubmitAuditDocuments,
                    concerning(None),
                    Some(a.plan.documents_deadline),
                )),
                AuditState::Opinions if a.is_auditor(person.id) => {
                    Some((Task::RecordAuditOpinion, concerning(None), None))
                }
                AuditState::SigningOff(step) => {
                    let mine = match step {
                        SignOffStep::Auditor => a.is_auditor(person.id),
                        _ => designated_signer(&a, step, &signers) == Some(person.id),
                    };
                    mine.then_some((Task::SignAudit, concerning(Some(step)), None))
                }
                AuditState::AwaitingReview if person.has_role(Role::Director) => {
                    Some((Task::ReviewAudit, concerning(None), None))
                }
                _ => None,
            };
            if let Some((task, concerning, due)) = task {
                self.push(task, concerning, a.opened_at, due);
            }
        }
        Ok(())
    }
}

impl App {
    /// What waits for `person` now (see [`worklist`]).
    pub async fn worklist(&self, person: &Person, now: Timestamp) -> Result<Worklist, AppError> {
        worklist(self.store(), &self.config().permission, person, now).await
    }
}
