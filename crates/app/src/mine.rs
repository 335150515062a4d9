//! "My registrations" (我的查調登記): every Form 2 row a person is a party of (applicant,
//! needer or querier) and every Form 3 request they filed, in every state, newest first, with
//! the filters and paging of `querywarden_domain::registration::mine`. The page and the JSON
//! API call [`my_registrations`] alike.
//!
//! Security-sensitive: the list names registrations about citizens (never their names or
//! IDs here, only numbers, dates, items and states), so each page read is audited as one
//! record, and a refused filter is audited too.

use jiff::Timestamp;
use querywarden_domain::audit_event::{AuditAction, Outcome};
use querywarden_domain::org::{Person, Role};
use querywarden_domain::registration::RegistrationState;
use querywarden_domain::registration::mine::{
    MineFilter, MineFilterError, PAGE_SIZE, Standing, registration_standing,
};
use querywarden_domain::roc_date::RocDate;
use querywarden_storage::{RegistrationFilter, RequestState};

use crate::AppError;
use crate::audit::record_refusal;
use crate::registration::{Desk, GrantSource, actor, event};

/// The filters as asked (`GET /registrations/mine?state=&from=&until=&page=`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MyRegistrationsQuery {
    pub state: Option<String>,
    /// First filing date, as typed (ROC calendar).
    pub from: Option<String>,
    /// Last filing date, as typed.
    pub until: Option<String>,
    pub page: Option<String>,
}

querywarden_domain::code_enum! {
    /// Which form an entry is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Form {
        /// 查調資料登記表 (Form 2).
        Registration = "registration";
        /// 查調資料申請表 (Form 3).
        Request = "request";
    }
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyEntry {
    pub form: Form,
    /// The form's number (`115-000012`, `R115-000003`).
    pub no: String,
    /// 申請日期.
    pub date: RocDate,
    pub created_at: Timestamp,
    pub standing: Standing,
    /// The reason of a refusal (the approver's comment, the reviewer's opinion).
    pub reason: Option<String>,
    pub items: Vec<String>,
}

/// One page of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyRegistrations {
    pub entries: Vec<MyEntry>,
    /// Entries passing the filters, on every page.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub filter: MineFilter,
}

/// Where a Form 3 request stands for its requester.
fn request_standing(state: RequestState, delivered: bool) -> Standing {
    match state {
        RequestState::Submitted => Standing::Pending,
        RequestState::Rejected => Standing::Refused,
        RequestState::Accepted if delivered => Standing::Executed,
        RequestState::Accepted => Standing::Approved,
    }
}

/// `person`'s registrations and requests, one page. The inner `Err` is a refused filter
/// (audited with its code).
pub async fn my_registrations<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
    query: &MyRegistrationsQuery,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<MyRegistrations, MineFilterError>, AppError> {
    let ev = event(
        now,
        AuditAction::RegistrationsListed,
        request_id,
        actor(person.id, Role::Staff),
        "registrations",
        "mine",
    );
    let filter = match MineFilter::parse(
        query.state.as_deref(),
        query.from.as_deref(),
        query.until.as_deref(),
        query.page.as_deref(),
    ) {
        Ok(f) => f,
        Err(e) => {
            record_refusal(desk.store, ev, e.code()).await?;
            return Ok(Err(e));
        }
    };
    let mut entries = Vec::new();
    let regs = desk
        .store
        .registrations(&RegistrationFilter {
            party: Some(person.id),
            ..Default::default()
        })
        .await?;
    for r in &regs {
        let destroyed = if r.executed_items.is_empty() {
            None
        } else {
            let results = desk.store.results_of(r.id).await?;
            (!results.is_empty()).then(|| results.iter().all(|x| x.destroyed_at.is_some()))
        };
        entries.push(MyEntry {
            form: Form::Registration,
            no: r.no.to_string(),
            date: r.date,
            created_at: r.created_at,
            standing: registration_standing(r, now, destroyed),
            reason: match &r.state {
                RegistrationState::Rejected { comment, .. } => Some(comment.clone()),
                _ => None,
            },
            items: r.items.iter().map(|i| i.as_str().to_string()).collect(),
        });
    }
    for q in desk.store.requests(None, Some(person.id), None).await? {
        entries.push(MyEntry {
            form: Form::Request,
            no: q.request.no.to_string(),
            date: q.request.date,
            created_at: q.request.created_at,
            standing: request_standing(q.state, q.delivered_at.is_some()),
            reason: (q.state == RequestState::Rejected)
                .then(|| q.opinion.clone().unwrap_or_default()),
            items: q
                .request
                .items
                .iter()
                .map(|i| i.as_str().to_string())
                .collect(),
        });
    }
    let (page, total) = filter.page_of(entries, |e| (e.standing, e.date, e.created_at));
    let day = |d: Option<RocDate>| d.map(|d| d.civil().to_string());
    crate::audit::record(
        desk.store,
        &ev.detail("state", filter.state().map(Standing::code))
            .detail("from", day(filter.from()))
            .detail("until", day(filter.until()))
            .detail("page", filter.page())
            .detail("shown", page.len())
            .detail("total", total)
            .outcome(Outcome::Succeeded),
    )
    .await?;
    Ok(Ok(MyRegistrations {
        entries: page,
        total,
        page: filter.page(),
        pages: total.div_ceil(PAGE_SIZE).max(1),
        filter,
    }))
}
