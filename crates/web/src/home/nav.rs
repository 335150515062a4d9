//! What waits for the signed-in person, read once per page and shared by the page and its
//! navigation: the counts beside the menu entries (待核准 3) come from the same worklist the
//! home page lists, on every page, without every handler asking for it.
//!
//! How: a middleware opens an empty slot for each request (a task-local, so nothing leaks
//! between requests); the page-session extractors fill it for a `GET` of a signed-in person
//! (one call of the app's worklist use case); the header's user bar reads the counts from it.
//! A failure to read the worklist is logged and leaves the navigation without counts: the
//! counts are an aid, and the page itself must still open.

use std::cell::RefCell;
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use querywarden_app::auth::SignedIn;
use querywarden_app::worklist::{Task, Worklist};

use crate::AppState;

tokio::task_local! {
    static WORKLIST: RefCell<Option<Arc<Worklist>>>;
}

/// Middleware: an empty worklist slot for this request.
pub async fn scope(req: Request, next: Next) -> Response {
    WORKLIST.scope(RefCell::new(None), next.run(req)).await
}

/// Reads `who`'s worklist into this request's slot (outside a slot, e.g. in a unit test of
/// a handler, nothing is read).
pub(crate) async fn load(state: &AppState, who: &SignedIn, operation_id: &str) {
    if WORKLIST.try_with(|_| ()).is_err() {
        return;
    }
    match state
        .app
        .worklist(&who.person, jiff::Timestamp::now())
        .await
    {
        Ok(w) => {
            let _ = WORKLIST.try_with(|slot| *slot.borrow_mut() = Some(Arc::new(w)));
        }
        Err(e) => {
            tracing::warn!(operation_id, code = e.code(), error = %e, "worklist not read for the navigation");
        }
    }
}

/// This request's worklist, if it was read.
pub(crate) fn current() -> Option<Arc<Worklist>> {
    WORKLIST
        .try_with(|slot| slot.borrow().clone())
        .ok()
        .flatten()
}

/// The counts the navigation shows, by menu entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NavCounts {
    /// Everything waiting, notices included (beside 首頁).
    pub total: usize,
    /// §5: registrations to approve (beside 查調登記).
    pub to_approve: usize,
    /// §5: approved registrations to run before the approval expires.
    pub to_execute: usize,
    /// §5 ¶3: Form 3 requests to review or sign.
    pub requests: usize,
    /// §2: Form 1 steps.
    pub permissions: usize,
    /// §7, §8 ¶2: the quarterly review and corrective reports.
    pub oversight: usize,
    /// §8: unannounced audits (documents, opinions, sign-offs, the director's review).
    pub audits: usize,
}

impl NavCounts {
    pub fn of(w: &Worklist) -> NavCounts {
        let n = |tasks: &[Task]| tasks.iter().map(|t| w.count(*t)).sum::<usize>();
        NavCounts {
            total: w.items.len() + w.notices.len(),
            to_approve: n(&[Task::ApproveRegistration]),
            to_execute: n(&[Task::ExecuteRegistration]),
            requests: n(&[Task::ReviewRequest, Task::SignRequest]),
            permissions: n(&[Task::DecideApplication]),
            oversight: n(&[
                Task::ConcludeQuarterlyReview,
                Task::WriteCorrectiveReport,
                Task::DecideCorrectiveReport,
            ]),
            audits: n(&[
                Task::SubmitAuditDocuments,
                Task::RecordAuditOpinion,
                Task::SignAudit,
                Task::ReviewAudit,
            ]),
        }
    }

    /// The counts of this request's worklist; none when it was not read.
    pub fn current() -> NavCounts {
        current().map(|w| NavCounts::of(&w)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use querywarden_app::worklist::{Concerning, WorkItem};
    use querywarden_domain::registration::RegistrationNo;

    fn item(task: Task, case: i64) -> WorkItem {
        let concerning = match task {
            Task::ApproveRegistration | Task::ExecuteRegistration => {
                Concerning::Registration(RegistrationNo::parse("115-000001").unwrap())
            }
            _ => Concerning::Violation(case),
        };
        WorkItem {
            task,
            concerning,
            since: jiff::Timestamp::UNIX_EPOCH,
            due: None,
            working_days_left: None,
        }
    }

    #[test]
    fn each_menu_entry_counts_its_own_tasks_and_home_counts_everything() {
        let w = Worklist {
            items: vec![
                item(Task::ApproveRegistration, 1),
                item(Task::ApproveRegistration, 2),
                item(Task::ExecuteRegistration, 3),
                item(Task::SignRequest, 4),
                item(Task::ReviewRequest, 5),
                item(Task::DecideApplication, 6),
                item(Task::WriteCorrectiveReport, 7),
                item(Task::SignAudit, 8),
                item(Task::SubmitAuditDocuments, 9),
            ],
            notices: Vec::new(),
        };
        let c = NavCounts::of(&w);
        assert_eq!(
            c,
            NavCounts {
                total: 9,
                to_approve: 2,
                to_execute: 1,
                requests: 2,
                permissions: 1,
                oversight: 1,
                audits: 2,
            }
        );
    }

    #[tokio::test]
    async fn outside_a_request_there_is_no_worklist_and_no_count() {
        assert!(current().is_none());
        assert_eq!(NavCounts::current(), NavCounts::default());
        let inside = WORKLIST
            .scope(RefCell::new(None), async {
                let _ = WORKLIST.try_with(|slot| {
                    *slot.borrow_mut() = Some(Arc::new(Worklist {
                        items: vec![item(Task::ApproveRegistration, 1)],
                        notices: Vec::new(),
                    }))
                });
                NavCounts::current()
            })
            .await;
        assert_eq!(inside.to_approve, 1);
        assert_eq!(inside.total, 1);
        assert!(current().is_none(), "nothing leaks out of the request");
    }
}
