//! The quarterly usage review use cases (§7): the scheduler opens one per quarter with the
//! quarter's reconciliation and anomaly findings and a due date; the permission administrator
//! concludes every finding (explained with a note, or a violation that opens a case); closing
//! produces the report to 勞工局 with the latest signed audit checkpoint. One transaction with
//! its audit record each; refusals audited with their rule code, nothing changed.

use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_domain::deadline::{HolidayCalendar, period_end};
use querywarden_domain::org::{Person, Role};
use querywarden_domain::oversight::review::{
    Conclusion, ReviewPeriod, ReviewRefusal, ReviewState, ReviewerDesk, check_close,
    check_conclusion,
};
use querywarden_domain::oversight::violation::ViolationSource;
use querywarden_storage::Store;
pub use querywarden_storage::{FindingRow, ReviewRow};

use super::reconciliation::{Statistics, analyse};
use super::violation::{FileViolationRequest, acting, event, insert_case};
use crate::AppError;
use crate::config::OversightSettings;
use crate::keys::KeyRing;
use crate::permission::Op;

/// A use case's answer: done, or refused by a rule (already audited).
pub type Decided<T> = Result<Result<T, ReviewRefusal>, AppError>;

async fn refused<T>(store: &Store, ev: AuditEvent, r: ReviewRefusal) -> Decided<T> {
    crate::audit::record_refusal(store, ev, r.code()).await?;
    Ok(Err(r))
}

fn desk(person: &Person) -> Result<ReviewerDesk, ReviewRefusal> {
    let roles: Vec<Role> = person.roles.iter().copied().collect();
    ReviewerDesk::for_person(person.id, &roles)
}

/// What opening did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedReview {
    pub id: i64,
    pub findings: usize,
}

/// Opens the review of `period` with its findings, and tells every permission administrator.
/// `Ok(None)` if that quarter's review exists already (the scheduler runs this every start;
/// a review that was opened is never opened twice).
pub async fn open_review(
    store: &Store,
    keys: &KeyRing,
    settings: &OversightSettings,
    calendar: &HolidayCalendar,
    period: ReviewPeriod,
    op: &Op,
) -> Result<Option<OpenedReview>, AppError> {
    let quarter = period.quarter.to_string();
    if store.reviews().await?.iter().any(|r| r.quarter == quarter) {
        return Ok(None);
    }
    let (from, to) = period.instants();
    let analysis = analyse(store, keys, settings, from, to).await?;
    let due_on = period_end(op.today().civil(), settings.review_due_days, calendar);
    let mut tx = store.begin().await?;
    let Some(id) = tx
        .insert_review(
            &quarter,
            period.start.civil(),
            period.end.civil(),
            op.now,
            due_on,
        )
        .await?
    else {
        return Ok(None);
    };
    let mut stored = 0usize;
    for f in &analysis.findings {
        if tx.insert_finding(id, f).await?.is_some() {
            stored += 1;
        }
    }
    for p in store.persons().await? {
        if p.has_role(Role::PermissionAdministrator) {
            tx.insert_notice(
                p.id,
                "oversight.review_opened",
                &format!("review:{id}"),
                op.now,
            )
            .await?;
        }
    }
    let mut ev = event(op, AuditAction::ReviewOpened, None)
        .on("review", id.to_string())
        .detail("quarter", quarter.clone())
        .detail("findings", stored)
        .detail("due_on", due_on.to_string())
        .detail("usage_records", analysis.statistics.usage_records)
        .detail("executions", analysis.statistics.executions)
        .detail("matched", analysis.statistics.matched);
    for (rule, n) in analysis.counts_by_rule() {
        ev = ev.detail(format!("rule:{rule}"), n);
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Some(OpenedReview {
        id,
        findings: stored,
    }))
}

/// The scheduler's job: opens the review of the quarter just ended, once.
pub async fn open_due_review(
    store: &Store,
    keys: &KeyRing,
    settings: &OversightSettings,
    op: &Op,
) -> Result<usize, AppError> {
    let calendar = super::reconciliation::calendar(store).await?;
    let period = ReviewPeriod::previous_to(op.today());
    Ok(open_review(store, keys, settings, &calendar, period, op)
        .await?
        .map_or(0, |_| 1))
}

/// A review with its findings, for the administrator and the director.
#[derive(Debug, Clone)]
pub struct ReviewView {
    pub review: ReviewRow,
    pub findings: Vec<FindingRow>,
}

pub async fn review_view(store: &Store, id: i64) -> Result<Option<ReviewView>, AppError> {
    let Some(review) = store.review(id).await? else {
        return Ok(None);
    };
    let findings = store.findings_of(id).await?;
    Ok(Some(ReviewView { review, findings }))
}

/// How the administrator concludes a finding.
#[derive(Debug, Clone)]
pub enum ConcludeFindingRequest {
    /// 已說明: with a note.
    Explain { note: String },
    /// 違規: opens a violation case against the finding's person.
    Violation {
        rule: String,
        evidence: String,
        suspend_grants: bool,
    },
}

/// Records the conclusion of one finding; a violation opens its case in the same
/// transaction. Returns the case id when one was opened.
pub async fn conclude_finding(
    store: &Store,
    admin: &Person,
    finding: i64,
    req: &ConcludeFindingRequest,
    op: &Op,
) -> Decided<Option<i64>> {
    let ev = event(
        op,
        AuditAction::AuditFindingRecorded,
        acting(admin, Role::PermissionAdministrator),
    )
    .on("finding", finding.to_string());
    if let Err(r) = desk(admin) {
        return refused(store, ev, r).await;
    }
    let Some(f) = store.finding(finding).await? else {
        return refused(store, ev, ReviewRefusal::NotFound).await;
    };
    let Some(review) = store.review(f.review_id).await? else {
        return refused(store, ev, ReviewRefusal::NotFound).await;
    };
    let state = ReviewState::parse_code(&review.state).unwrap_or(ReviewState::Closed);
    let already = f.conclusion.as_ref().map(|c| {
        if c == "violation" {
            Conclusion::Violation(f.violation_id.unwrap_or_default())
        } else {
            Conclusion::Explained(f.note.clone().unwrap_or_default())
        }
    });
    let wanted = match req {
        ConcludeFindingRequest::Explain { note } => Conclusion::Explained(note.clone()),
        ConcludeFindingRequest::Violation { .. } => Conclusion::Violation(0),
    };
    if let Err(r) = check_conclusion(state, already.as_ref(), &wanted) {
        return refused(store, ev, r).await;
    }
    let ev = ev
        .detail("review", review.id)
        .detail("rule", f.finding.rule.clone())
        .detail("conclusion", wanted.code());
    let mut tx = store.begin().await?;
    let (note, case) = match req {
        ConcludeFindingRequest::Explain { note } => (Some(note.trim().to_string()), None),
        ConcludeFindingRequest::Violation {
            rule,
            evidence,
            suspend_grants,
        } => {
            let Some(person) = f.finding.person else {
                drop(tx);
                return refused(store, ev, ReviewRefusal::NotFound).await;
            };
            let filing = FileViolationRequest {
                person,
                rule: rule.clone(),
                evidence: evidence.clone(),
                suspend_grants: *suspend_grants,
                source: ViolationSource::ReviewFinding(finding),
            };
            if querywarden_domain::oversight::violation::check_filing(
                admin.id, person, rule, evidence,
            )
            .is_err()
            {
                drop(tx);
                return refused(store, ev, ReviewRefusal::NoteRequired).await;
            }
            let calendar = super::reconciliation::calendar(store).await?;
            let grants = store.grants_of(person).await?;
            let (id, _) = insert_case(&mut tx, admin, &filing, &grants, &calendar, op).await?;
            (None, Some(id))
        }
    };
    if !tx
        .conclude_finding(
            finding,
            wanted.code(),
            note.as_deref(),
            case,
            admin.id,
            op.now,
        )
        .await?
    {
        drop(tx);
        return refused(store, ev, ReviewRefusal::AlreadyConcluded).await;
    }
    tx.append_audit(&ev.detail("violation", case)).await?;
    tx.commit().await?;
    Ok(Ok(case))
}

/// The report to 勞工局 (§7), as data for the documents to render.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LaborBureauReport {
    pub quarter: String,
    pub period_from: String,
    pub period_to: String,
    pub findings: usize,
    pub by_rule: std::collections::BTreeMap<String, usize>,
    pub explained: usize,
    pub violations: usize,
    pub statistics: Statistics,
    /// The latest signed audit checkpoint: tree size, root hash (hex) and the signed note.
    pub checkpoint: Option<CheckpointRef>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckpointRef {
    pub size: u64,
    pub root: String,
    pub note: String,
}

/// Closes a review once every finding is concluded, with the report to 勞工局 (audited as
/// the review completed and the report generated).
pub async fn close_review(
    store: &Store,
    keys: &KeyRing,
    settings: &OversightSettings,
    admin: &Person,
    review: i64,
    op: &Op,
) -> Decided<LaborBureauReport> {
    let ev = event(
        op,
        AuditAction::ReviewCompleted,
        acting(admin, Role::PermissionAdministrator),
    )
    .on("review", review.to_string());
    if let Err(r) = desk(admin) {
        return refused(store, ev, r).await;
    }
    let Some(view) = review_view(store, review).await? else {
        return refused(store, ev, ReviewRefusal::NotFound).await;
    };
    let state = ReviewState::parse_code(&view.review.state).unwrap_or(ReviewState::Closed);
    let open = view
        .findings
        .iter()
        .filter(|f| f.conclusion.is_none())
        .count();
    if let Err(r) = check_close(state, open) {
        return refused(store, ev, r).await;
    }
    let from = querywarden_domain::roc_date::taipei_day_start_utc(
        querywarden_domain::roc_date::RocDate::from_civil(view.review.period_from)
            .map_err(|e| AppError::unreadable("review period", e))?,
    );
    let to = querywarden_domain::roc_date::taipei_day_start_utc(
        querywarden_domain::roc_date::RocDate::from_civil(view.review.period_to)
            .map_err(|e| AppError::unreadable("review period", e))?,
    );
    let statistics = analyse(store, keys, settings, from, to).await?.statistics;
    let checkpoint = store.latest_checkpoint().await?.map(|c| CheckpointRef {
        size: c.size,
        root: hex::encode(c.root),
        note: c.note,
    });
    let mut by_rule = std::collections::BTreeMap::new();
    for f in &view.findings {
        *by_rule.entry(f.finding.rule.clone()).or_default() += 1;
    }
    let report = LaborBureauReport {
        quarter: view.review.quarter.clone(),
        period_from: view.review.period_from.to_string(),
        period_to: view.review.period_to.to_string(),
        findings: view.findings.len(),
        by_rule,
        explained: view
            .findings
            .iter()
            .filter(|f| f.conclusion.as_deref() == Some("explained"))
            .count(),
        violations: view
            .findings
            .iter()
            .filter(|f| f.conclusion.as_deref() == Some("violation"))
            .count(),
        statistics,
        checkpoint,
    };
    let json = serde_json::to_string(&report).map_err(AppError::encode("review report"))?;
    let mut tx = store.begin().await?;
    if !tx.close_review(review, admin.id, op.now, &json).await? {
        drop(tx);
        return refused(store, ev, ReviewRefusal::Closed).await;
    }
    tx.append_audit(
        &ev.clone()
            .detail("findings", report.findings)
            .detail("violations", report.violations),
    )
    .await?;
    tx.append_audit(
        &event(
            op,
            AuditAction::ReportGenerated,
            acting(admin, Role::PermissionAdministrator),
        )
        .on("labor_bureau_report", review.to_string())
        .detail("quarter", report.quarter.clone())
        .detail(
            "checkpoint_size",
            report.checkpoint.as_ref().map(|c| c.size),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(report))
}
