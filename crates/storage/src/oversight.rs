//! Storage of reconciliation findings, quarterly reviews and violations (§7, §8 ¶2), and the
//! bulk reads reconciliation needs: executions, platform usage records, approvals and the
//! operator accounts of a period, as plain rows (subjects as HMAC only).

use jiff::Timestamp;
use jiff::civil::Date;
use querywarden_domain::org::PersonId;

use futures_util::TryStreamExt;
use sqlx::{AnyExecutor, Row};

use crate::decode::{civil as day, decode, opt_civil as opt_day, opt_ts, ts};
use crate::error::{StorageError, classify};
use crate::fetch::{Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// One quarterly review as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: i64,
    pub quarter: String,
    pub period_from: Date,
    pub period_to: Date,
    pub opened_at: Timestamp,
    pub due_on: Date,
    pub state: String,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<PersonId>,
    /// The report to 勞工局 (JSON), once closed.
    pub report: Option<String>,
}

/// A finding to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    pub rule: String,
    pub person: Option<PersonId>,
    pub at: Option<Timestamp>,
    pub object: String,
    pub subject_hmac: Option<String>,
    pub hmac_key_id: Option<String>,
    pub detail: String,
}

/// A stored finding with its conclusion, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub id: i64,
    pub review_id: i64,
    pub finding: NewFinding,
    pub conclusion: Option<String>,
    pub note: Option<String>,
    pub violation_id: Option<i64>,
    pub concluded_by: Option<PersonId>,
    pub concluded_at: Option<Timestamp>,
}

/// A violation case to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewViolation {
    pub person: PersonId,
    pub rule: String,
    pub evidence: String,
    pub source: String,
    pub source_ref: Option<i64>,
    pub opened_by: PersonId,
    pub opened_at: Timestamp,
    pub due_on: Date,
    pub suspend_grants: bool,
}

/// A stored violation case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationRow {
    pub id: i64,
    pub case: NewViolation,
    pub state: String,
    pub report: Option<String>,
    pub report_at: Option<Timestamp>,
    pub decided_by: Option<PersonId>,
    pub decided_at: Option<Timestamp>,
    pub return_note: Option<String>,
    pub reminded_on: Option<Date>,
    pub escalated_on: Option<Date>,
}

/// An execution as the reconciliation scan hands it over (§7): borrowed from the row being
/// read, so that a quarter of a million rows streams into the caller's compact facts with no
/// more than one row of text alive at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutionFactRow<'r> {
    pub id: i64,
    pub registration: i64,
    pub querier: PersonId,
    pub item: &'r str,
    /// Portal mode: when the querier says they ran it; otherwise when it was sent.
    pub at: Timestamp,
    /// Hex, as stored.
    pub subject_hmac: &'r str,
    pub hmac_key_id: &'r str,
    pub approval_valid_until: Option<Timestamp>,
}

/// A platform usage record as the reconciliation scan hands it over, borrowed likewise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageFactRow<'r> {
    pub platform_record_id: &'r str,
    pub at: Timestamp,
    pub operator_account: &'r str,
    pub item: &'r str,
    /// Hex, as stored.
    pub subject_hmac: &'r str,
    pub hmac_key_id: &'r str,
}

/// The platform's records of one operator account and item (§7 usage by operator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorUsageRow {
    pub operator_account: String,
    pub item: String,
    /// Records in the window asked for.
    pub count: u32,
    /// The last record before the bound asked for, if any.
    pub last_at: Option<Timestamp>,
}

/// A registration's submission and approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub registration: i64,
    pub submitted_at: Timestamp,
    pub approver: PersonId,
    pub approved_at: Timestamp,
}

const REVIEWS: &str = "SELECT id, quarter, period_from, period_to, opened_at, due_on, state, \
     closed_at, closed_by, report FROM oversight_reviews";
const FINDINGS: &str = "SELECT id, review_id, rule, person_id, at, object, subject_hmac, \
     hmac_key_id, detail, conclusion, note, violation_id, concluded_by, concluded_at \
     FROM oversight_findings";
const VIOLATIONS: &str = "SELECT id, person_id, rule, evidence, source, source_ref, opened_by, \
     opened_at, due_on, suspend_grants, state, report, report_at, decided_by, decided_at, \
     return_note, reminded_on, escalated_on FROM violations";

/// The reconciliation's scan of executions (§7): in the order of the instant each ran, which
/// the expression index `executions_ran_at` gives without a sort. One text a row, as
/// [`USAGE_SCAN`]: id, registration, querier, the instant it ran, the subject's key id and
/// digest, the approval's end (empty if none), then the item.
pub(crate) const EXECUTION_SCAN: &str = "SELECT CAST(e.id AS TEXT) || '\u{1f}' || \
     CAST(e.registration_id AS TEXT) || '\u{1f}' || CAST(e.querier_id AS TEXT) || '\u{1f}' || \
     coalesce(e.portal_queried_at, e.sent_at) || '\u{1f}' || r.hmac_key_id || '\u{1f}' || \
     r.subject_hmac || '\u{1f}' || \
     coalesce((SELECT d.valid_until FROM registration_decisions d WHERE d.registration_id = r.id \
      AND d.kind = 'approve' ORDER BY d.id DESC LIMIT 1), '') || '\u{1f}' || e.item \
     FROM executions e JOIN registrations r ON r.id = e.registration_id \
     WHERE coalesce(e.portal_queried_at, e.sent_at) >= $1 \
     AND coalesce(e.portal_queried_at, e.sent_at) < $2 \
     AND NOT (e.outcome = 'failed' AND e.failure_code = 'bli.unavailable') \
     ORDER BY coalesce(e.portal_queried_at, e.sent_at)";

/// The reconciliation's scan of platform usage records (§7), in time order by their index.
/// Each record comes as one text, its fields joined by [`SCAN_SEPARATOR`] (the platform's
/// own record id last): a column costs the driver an allocation or more on each side of its
/// thread, several times what joining them costs SQLite, and a quarter is a million rows.
pub(crate) const USAGE_SCAN: &str = "SELECT at || '\u{1f}' || hmac_key_id || '\u{1f}' || \
     subject_hmac || '\u{1f}' || operator_account || '\u{1f}' || item || '\u{1f}' || \
     platform_record_id FROM platform_usage_records WHERE at >= $1 AND at < $2 ORDER BY at";

/// Joins the fields of a scanned row: the unit separator, a control character, which the
/// usage log's import refuses in every field (`bli::usage_log`) and the system never writes
/// into an instant, a key id or a hex digest.
const SCAN_SEPARATOR: char = '\u{1f}';

/// The `N` fields of a row joined by [`SCAN_SEPARATOR`]; the last takes the rest of the text.
fn scan_fields<'r, const N: usize>(what: &str, row: &'r str) -> Result<[&'r str; N], StorageError> {
    let mut out = [""; N];
    let mut parts = row.splitn(N, SCAN_SEPARATOR);
    for f in &mut out {
        *f = parts
            .next()
            .ok_or_else(|| StorageError::Decode(format!("{what}: a field missing")))?;
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct ReviewRecord {
    id: i64,
    quarter: String,
    period_from: String,
    period_to: String,
    opened_at: String,
    due_on: String,
    state: String,
    closed_at: Option<String>,
    closed_by: Option<i64>,
    report: Option<String>,
}

impl TryFrom<ReviewRecord> for ReviewRow {
    type Error = StorageError;

    fn try_from(r: ReviewRecord) -> Result<Self, StorageError> {
        Ok(ReviewRow {
            id: r.id,
            quarter: r.quarter,
            period_from: day(&r.period_from)?,
            period_to: day(&r.period_to)?,
            opened_at: ts(&r.opened_at)?,
            due_on: day(&r.due_on)?,
            state: r.state,
            closed_at: opt_ts(r.closed_at)?,
            closed_by: r.closed_by.map(PersonId::new),
            report: r.report,
        })
    }
}

#[derive(sqlx::FromRow)]
struct FindingRecord {
    id: i64,
    review_id: i64,
    rule: String,
    person_id: Option<i64>,
    at: Option<String>,
    object: String,
    subject_hmac: Option<String>,
    hmac_key_id: Option<String>,
    detail: String,
    conclusion: Option<String>,
    note: Option<String>,
    violation_id: Option<i64>,
    concluded_by: Option<i64>,
    concluded_at: Option<String>,
}

impl TryFrom<FindingRecord> for FindingRow {
    type Error = StorageError;

    fn try_from(r: FindingRecord) -> Result<Self, StorageError> {
        Ok(FindingRow {
            id: r.id,
            review_id: r.review_id,
            finding: NewFinding {
                rule: r.rule,
                person: r.person_id.map(PersonId::new),
                at: opt_ts(r.at)?,
                object: r.object,
                subject_hmac: r.subject_hmac,
                hmac_key_id: r.hmac_key_id,
                detail: r.detail,
            },
            conclusion: r.conclusion,
            note: r.note,
            violation_id: r.violation_id,
            concluded_by: r.concluded_by.map(PersonId::new),
            concluded_at: opt_ts(r.concluded_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ViolationRecord {
    id: i64,
    person_id: i64,
    rule: String,
    evidence: String,
    source: String,
    source_ref: Option<i64>,
    opened_by: i64,
    opened_at: String,
    due_on: String,
    suspend_grants: i64,
    state: String,
    report: Option<String>,
    report_at: Option<String>,
    decided_by: Option<i64>,
    decided_at: Option<String>,
    return_note: Option<String>,
    reminded_on: Option<String>,
    escalated_on: Option<String>,
}

impl TryFrom<ViolationRecord> for ViolationRow {
    type Error = StorageError;

    fn try_from(r: ViolationRecord) -> Result<Self, StorageError> {
        Ok(ViolationRow {
            id: r.id,
            case: NewViolation {
                person: PersonId::new(r.person_id),
                rule: r.rule,
                evidence: r.evidence,
                source: r.source,
                source_ref: r.source_ref,
                opened_by: PersonId::new(r.opened_by),
                opened_at: ts(&r.opened_at)?,
                due_on: day(&r.due_on)?,
                suspend_grants: r.suspend_grants != 0,
            },
            state: r.state,
            report: r.report,
            report_at: opt_ts(r.report_at)?,
            decided_by: r.decided_by.map(PersonId::new),
            decided_at: opt_ts(r.decided_at)?,
            return_note: r.return_note,
            reminded_on: opt_day(r.reminded_on)?,
            escalated_on: opt_day(r.escalated_on)?,
        })
    }
}

/// Reviews, findings or violations matching `condition` (one `?` bound to `arg` if given),
/// mapped through their row record: one read for the list and the single row alike.
async fn rows_where<'e, R, T>(
    db: impl AnyExecutor<'e>,
    select: &str,
    condition: &str,
    order: &str,
    arg: Option<i64>,
) -> Result<Vec<T>, StorageError>
where
    R: for<'r> sqlx::FromRow<'r, crate::DbRow> + Send + Unpin,
    T: TryFrom<R, Error = StorageError>,
{
    let sql = format!("{select} WHERE {condition} ORDER BY {order}");
    let mut q = sqlx::query_as::<_, R>(&sql);
    if let Some(a) = arg {
        q = q.bind(a);
    }
    q.all(db, T::try_from).await
}

/// A value a violation's state step writes into one column.
enum StepValue {
    Text(Option<String>),
    Number(i64),
}

impl WriteTx {
    /// Opens the review of `quarter`; `None` if it exists already (the scheduler's guard
    /// against opening it twice).
    pub async fn insert_review(
        &mut self,
        quarter: &str,
        period_from: Date,
        period_to: Date,
        opened_at: Timestamp,
        due_on: Date,
    ) -> Result<Option<i64>, StorageError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO oversight_reviews (quarter, period_from, period_to, opened_at, due_on, state) \
             VALUES ($1, $2, $3, $4, $5, 'open') ON CONFLICT (quarter) DO NOTHING RETURNING id",
        )
        .bind(quarter)
        .bind(period_from.to_string())
        .bind(period_to.to_string())
        .bind(opened_at.to_string())
        .bind(due_on.to_string())
        .optional_in(self).await?;
        Ok(row.map(|(id,)| id))
    }

    pub async fn insert_finding(
        &mut self,
        review: i64,
        f: &NewFinding,
    ) -> Result<Option<i64>, StorageError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO oversight_findings (review_id, rule, person_id, at, object, subject_hmac, \
             hmac_key_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(review)
        .bind(&f.rule)
        .bind(f.person.map(PersonId::get))
        .bind(f.at.map(|t| t.to_string()))
        .bind(&f.object)
        .bind(&f.subject_hmac)
        .bind(&f.hmac_key_id)
        .bind(&f.detail)
        .optional_in(self).await?;
        Ok(row.map(|(id,)| id))
    }

    /// Records a conclusion if the finding has none yet; returns whether it did.
    pub async fn conclude_finding(
        &mut self,
        id: i64,
        conclusion: &str,
        note: Option<&str>,
        violation: Option<i64>,
        by: PersonId,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE oversight_findings SET conclusion = $1, note = $2, violation_id = $3, \
             concluded_by = $4, concluded_at = $5 WHERE id = $6 AND conclusion IS NULL",
        )
        .bind(conclusion)
        .bind(note)
        .bind(violation)
        .bind(by.get())
        .bind(at.to_string())
        .bind(id)
        .changed_in(self)
        .await
    }

    /// Closes an open review with its report; returns whether it was open.
    pub async fn close_review(
        &mut self,
        id: i64,
        by: PersonId,
        at: Timestamp,
        report: &str,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE oversight_reviews SET state = 'closed', closed_at = $1, closed_by = $2, report = $3 \
             WHERE id = $4 AND state = 'open'",
        )
        .bind(at.to_string())
        .bind(by.get())
        .bind(report)
        .bind(id)
        .changed_in(self)
.await
    }

    /// The case opened from unannounced audit `audit` by its finding, if any (read inside the
    /// write transaction, so that the finding opens one case however often it is recorded).
    pub async fn violation_of_audit(&mut self, audit: i64) -> Result<Option<i64>, StorageError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM violations WHERE source = 'audit' AND source_ref = $1 ORDER BY id LIMIT 1",
        )
        .bind(audit)
        .optional_in(self).await?;
        Ok(row.map(|(id,)| id))
    }

    pub async fn insert_violation(&mut self, v: &NewViolation) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO violations (person_id, rule, evidence, source, source_ref, opened_by, \
             opened_at, due_on, suspend_grants, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             'awaiting_report') RETURNING id",
        )
        .bind(v.person.get())
        .bind(&v.rule)
        .bind(&v.evidence)
        .bind(&v.source)
        .bind(v.source_ref)
        .bind(v.opened_by.get())
        .bind(v.opened_at.to_string())
        .bind(v.due_on.to_string())
        .bind(i64::from(v.suspend_grants))
        .one_in(self)
        .await?;
        Ok(id)
    }

    /// Moves a case from `from_state` to `to_state`, setting the given text columns; returns
    /// whether the case was in `from_state` (so a race changes nothing).
    async fn violation_step(
        &mut self,
        id: i64,
        from_state: &str,
        to_state: &str,
        sets: &[(&str, StepValue)],
    ) -> Result<bool, StorageError> {
        // Numbered placeholders (one SQL text for SQLite and PostgreSQL): $1 the new state,
        // then one per column, then the id and the state it must be in.
        let assignments: String = sets
            .iter()
            .enumerate()
            .map(|(n, (c, _))| format!(", {c} = ${}", n + 2))
            .collect();
        let (id_n, from_n) = (sets.len() + 2, sets.len() + 3);
        let sql = format!(
            "UPDATE violations SET state = $1{assignments} WHERE id = ${id_n} AND state = ${from_n}"
        );
        let mut q = sqlx::query(&sql).bind(to_state);
        // PostgreSQL types each placeholder: a person's id goes in as a number, not as text.
        for (_, v) in sets {
            q = match v {
                StepValue::Text(t) => q.bind(t.clone()),
                StepValue::Number(n) => q.bind(*n),
            };
        }
        let r = q.bind(id).bind(from_state).execute_in(self).await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn submit_violation_report(
        &mut self,
        id: i64,
        report: &str,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        self.violation_step(
            id,
            "awaiting_report",
            "report_submitted",
            &[
                ("report", StepValue::Text(Some(report.to_string()))),
                ("report_at", StepValue::Text(Some(at.to_string()))),
            ],
        )
        .await
    }

    /// Accepts (`return_note` = None) or returns a submitted report.
    pub async fn decide_violation_report(
        &mut self,
        id: i64,
        by: PersonId,
        at: Timestamp,
        return_note: Option<&str>,
    ) -> Result<bool, StorageError> {
        let to = if return_note.is_some() {
            "awaiting_report"
        } else {
            "accepted"
        };
        self.violation_step(
            id,
            "report_submitted",
            to,
            &[
                ("decided_by", StepValue::Number(by.get())),
                ("decided_at", StepValue::Text(Some(at.to_string()))),
                (
                    "return_note",
                    StepValue::Text(return_note.map(str::to_string)),
                ),
            ],
        )
        .await
    }

    /// Notes that the reminder (`escalated = false`) or escalation went out on `on`.
    pub async fn mark_violation_notice(
        &mut self,
        id: i64,
        escalated: bool,
        on: Date,
    ) -> Result<(), StorageError> {
        let sql = if escalated {
            "UPDATE violations SET escalated_on = $1 WHERE id = $2"
        } else {
            "UPDATE violations SET reminded_on = $1 WHERE id = $2"
        };
        sqlx::query(sql)
            .bind(on.to_string())
            .bind(id)
            .execute_in(self)
            .await?;
        Ok(())
    }
}

impl WriteTx {
    /// §8 ¶2: lifts the suspensions a violation case put on `person`'s grants (and only
    /// those); returns the grant ids made active again.
    pub async fn lift_violation_suspensions(
        &mut self,
        person: PersonId,
        now: Timestamp,
    ) -> Result<Vec<i64>, StorageError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "UPDATE permission_grants SET status = 'active', suspended_from = NULL, \
             suspension_cause = NULL, updated_at = $1 \
             WHERE person_id = $2 AND status = 'suspended' AND suspension_cause = 'violation_pending' \
             RETURNING id",
        )
        .bind(now.to_string())
        .bind(person.get())
        .all_in(self).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}

impl Store {
    pub async fn reviews(&self) -> Result<Vec<ReviewRow>, StorageError> {
        rows_where::<ReviewRecord, _>(&self.reader, REVIEWS, "1 = 1", "id DESC", None).await
    }

    pub async fn review(&self, id: i64) -> Result<Option<ReviewRow>, StorageError> {
        let rows = rows_where::<ReviewRecord, _>(&self.reader, REVIEWS, "id = $1", "id", Some(id));
        Ok(rows.await?.into_iter().next())
    }

    pub async fn findings_of(&self, review: i64) -> Result<Vec<FindingRow>, StorageError> {
        rows_where::<FindingRecord, _>(&self.reader, FINDINGS, "review_id = $1", "id", Some(review))
            .await
    }

    pub async fn finding(&self, id: i64) -> Result<Option<FindingRow>, StorageError> {
        let rows =
            rows_where::<FindingRecord, _>(&self.reader, FINDINGS, "id = $1", "id", Some(id));
        Ok(rows.await?.into_iter().next())
    }

    /// Findings without a conclusion, in every open review.
    pub async fn open_finding_count(&self) -> Result<u64, StorageError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM oversight_findings WHERE conclusion IS NULL")
                .one(&self.reader)
                .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Violation cases, newest first; of one person if given.
    pub async fn violations(
        &self,
        person: Option<PersonId>,
    ) -> Result<Vec<ViolationRow>, StorageError> {
        let (condition, arg) = match person {
            Some(p) => ("person_id = $1", Some(p.get())),
            None => ("1 = 1", None),
        };
        rows_where::<ViolationRecord, _>(&self.reader, VIOLATIONS, condition, "id DESC", arg).await
    }

    pub async fn violation(&self, id: i64) -> Result<Option<ViolationRow>, StorageError> {
        let rows =
            rows_where::<ViolationRecord, _>(&self.reader, VIOLATIONS, "id = $1", "id", Some(id));
        Ok(rows.await?.into_iter().next())
    }

    /// §7: streams the executions that ran in `[from, to)` — sent, or (portal mode) reported
    /// run, whichever the querier gave — in time order through the index on that instant
    /// (migration 0024), handing each row to `visit` as it is read. A portal execution
    /// recorded days after it ran belongs to the day it ran. The comparison is on the stored
    /// text, so the caller widens the window and filters exactly. An attempt that failed
    /// because BLI could not be reached (§5: nothing was sent) is no query and is left out; an
    /// attempt BLI answered with an error stays, to match the platform's record of it.
    pub async fn scan_execution_facts(
        &self,
        from: Timestamp,
        to: Timestamp,
        mut visit: impl FnMut(ExecutionFactRow<'_>),
    ) -> Result<u64, StorageError> {
        let int = |f: &str| decode("execution", f.parse::<i64>());
        self.scan(EXECUTION_SCAN, "execution", from, to, |fields| {
            let [
                id,
                registration,
                querier,
                at,
                hmac_key_id,
                subject_hmac,
                valid_until,
                item,
            ] = fields;
            visit(ExecutionFactRow {
                id: int(id)?,
                registration: int(registration)?,
                querier: PersonId::new(int(querier)?),
                item,
                at: ts(at)?,
                subject_hmac,
                hmac_key_id,
                approval_valid_until: match valid_until {
                    "" => None,
                    t => Some(ts(t)?),
                },
            });
            Ok(())
        })
        .await
    }

    /// §7: streams the platform usage records whose time falls in `[from, to)` in time order
    /// through the index on it, handing each row to `visit` as it is read (text comparison;
    /// the caller widens the window).
    pub async fn scan_usage_facts(
        &self,
        from: Timestamp,
        to: Timestamp,
        mut visit: impl FnMut(UsageFactRow<'_>),
    ) -> Result<u64, StorageError> {
        self.scan(USAGE_SCAN, "usage record", from, to, |fields| {
            let [
                at,
                hmac_key_id,
                subject_hmac,
                operator_account,
                item,
                platform_record_id,
            ] = fields;
            visit(UsageFactRow {
                platform_record_id,
                at: ts(at)?,
                operator_account,
                item,
                subject_hmac,
                hmac_key_id,
            });
            Ok(())
        })
        .await
    }

    /// Streams the rows of a scan statement over `[from, to)` (`$1`, `$2`), each one text
    /// column of `N` fields ([`scan_fields`]), handing each row's fields to `each` as it is
    /// read; returns how many there were.
    async fn scan<const N: usize>(
        &self,
        sql: &str,
        what: &str,
        from: Timestamp,
        to: Timestamp,
        mut each: impl FnMut([&str; N]) -> Result<(), StorageError>,
    ) -> Result<u64, StorageError> {
        let mut rows = sqlx::query(sql)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch(&self.reader);
        let mut n = 0;
        while let Some(row) = rows.try_next().await.map_err(classify)? {
            let text: &str = row.try_get(0).map_err(classify)?;
            each(scan_fields(what, text)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Approvals given in `[from, to)` with their registration's submission time.
    pub async fn approval_facts(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ApprovalRow>, StorageError> {
        sqlx::query_as(
            "SELECT r.id, r.created_at, d.person_id, d.at FROM registration_decisions d \
             JOIN registrations r ON r.id = d.registration_id \
             WHERE d.kind IN ('approve', 'approve_first') AND d.at >= $1 AND d.at < $2 ORDER BY d.id",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .all(&self.reader, |(reg, created, by, at): (_, String, _, String)| {
            Ok(ApprovalRow {
                registration: reg,
                submitted_at: ts(&created)?,
                approver: PersonId::new(by),
                approved_at: ts(&at)?,
            })
        })
        .await
    }

    /// Platform operator accounts (the e-government account on approved Form 1s, and each
    /// person's own account) mapped to persons. A Form 1 account wins over a sign-in account.
    pub async fn operator_accounts(
        &self,
    ) -> Result<std::collections::HashMap<String, PersonId>, StorageError> {
        let mut out: std::collections::HashMap<String, PersonId> =
            self.person_ids_by_account().await?.into_iter().collect();
        let egov: Vec<(String, PersonId)> = sqlx::query_as(
            "SELECT egov_account, applicant_id FROM permission_applications \
             WHERE state = 'approved' AND egov_account <> '' ORDER BY id",
        )
        .all(&self.reader, |(a, p)| Ok((a, PersonId::new(p))))
        .await?;
        out.extend(egov);
        Ok(out)
    }

    /// Executions per (querier, item) in `[from, to)`, with the last one's time, for the
    /// supervisors' recertification (§2) and the review's statistics.
    pub async fn execution_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(PersonId, String, u32, Timestamp)>, StorageError> {
        sqlx::query_as(
            "SELECT querier_id, item, count(*), max(coalesce(portal_queried_at, sent_at)) \
             FROM executions WHERE sent_at >= $1 AND sent_at < $2 GROUP BY querier_id, item",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .all(&self.reader, |(p, item, n, last): (_, _, i64, String)| {
            Ok((
                PersonId::new(p),
                item,
                u32::try_from(n).unwrap_or(u32::MAX),
                ts(&last)?,
            ))
        })
        .await
    }

    /// §4: the national IDs (as keyed digests: key id, hex) people gave on their Form 1,
    /// with the person — what a self-lookup is recognised by.
    pub async fn applicant_digests(&self) -> Result<Vec<(String, String, PersonId)>, StorageError> {
        sqlx::query_as(
            "SELECT DISTINCT hmac_key_id, national_id_hmac, applicant_id FROM permission_applications",
        )
        .all(&self.reader, |(k, h, p)| Ok((k, h, PersonId::new(p))))
        .await
    }

    /// Executions in `[from, to)` per month (Asia/Taipei, `YYYY-MM`), approving unit and item,
    /// for the director's charts.
    pub async fn execution_counts_by_month(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(String, String, String, u32)>, StorageError> {
        // Counted per UTC hour in SQL (`substr` of the stored RFC 3339 instant, the same on
        // SQLite and PostgreSQL), folded into Taipei months here: at most a few thousand
        // rows a year, and no date function of either engine.
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT substr(coalesce(e.portal_queried_at, e.sent_at), 1, 13), \
             r.approving_unit, e.item, count(*) FROM executions e \
             JOIN registrations r ON r.id = e.registration_id \
             WHERE e.sent_at >= $1 AND e.sent_at < $2 GROUP BY 1, 2, 3",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .all(&self.reader, Ok)
        .await?;
        let mut months: std::collections::BTreeMap<(String, String, String), u32> =
            std::collections::BTreeMap::new();
        for (hour, unit, item, n) in rows {
            let month = taipei_month(&hour)?;
            let count = months.entry((month, unit, item)).or_default();
            *count = count.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        }
        Ok(months
            .into_iter()
            .map(|((m, u, i), n)| (m, u, i, n))
            .collect())
    }

    /// §4 ¶2 主管督導: a unit's latest executions with how often each result was viewed and
    /// printed (no personal data: registration number, querier, item, time, counts).
    pub async fn unit_activity(
        &self,
        unit: &str,
        limit: u32,
    ) -> Result<Vec<UnitActivityRow>, StorageError> {
        type Row = (String, String, i64, String, String, String, i64, i64);
        sqlx::query_as(
            "SELECT r.reg_no, r.state, e.querier_id, e.item, coalesce(e.portal_queried_at, e.sent_at), \
             e.outcome, \
             (SELECT count(*) FROM result_views v JOIN results x ON x.id = v.result_id WHERE x.execution_id = e.id), \
             (SELECT count(*) FROM result_prints p JOIN results x ON x.id = p.result_id WHERE x.execution_id = e.id) \
             FROM executions e JOIN registrations r ON r.id = e.registration_id \
             WHERE r.approving_unit = $1 ORDER BY e.id DESC LIMIT $2",
        )
        .bind(unit)
        .bind(i64::from(limit))
        .all(&self.reader, |row: Row| {
            let (no, state, querier, item, at, outcome, views, prints) = row;
            Ok(UnitActivityRow {
                reg_no: no,
                reg_state: state,
                querier: PersonId::new(querier),
                item,
                at: ts(&at)?,
                outcome,
                views: u32::try_from(views).unwrap_or(0),
                prints: u32::try_from(prints).unwrap_or(0),
            })
        })
        .await
    }

    /// A unit's registrations by state (registered, approved, rejected, cancelled).
    pub async fn unit_registration_counts(
        &self,
        unit: &str,
    ) -> Result<Vec<(String, u32)>, StorageError> {
        sqlx::query_as(
            "SELECT state, count(*) FROM registrations WHERE approving_unit = $1 GROUP BY state ORDER BY state",
        )
        .bind(unit)
        .all(&self.reader, |(s, n): (_, i64)| Ok((s, u32::try_from(n).unwrap_or(0))))
        .await
    }
}

/// One execution of a unit, as its supervisor oversees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitActivityRow {
    pub reg_no: String,
    pub reg_state: String,
    pub querier: PersonId,
    pub item: String,
    pub at: Timestamp,
    pub outcome: String,
    pub views: u32,
    pub prints: u32,
}

/// `YYYY-MM` in Asia/Taipei of the UTC hour `YYYY-MM-DDTHH` (the first 13 characters of a
/// stored instant).
fn taipei_month(utc_hour: &str) -> Result<String, StorageError> {
    let at = ts(&format!("{utc_hour}:00:00Z"))?;
    Ok(querywarden_domain::roc_date::taipei_date(at)
        .civil()
        .strftime("%Y-%m")
        .to_string())
}

#[cfg(test)]
mod month_tests {
    use super::taipei_month;

    /// The director's charts count by month in Asia/Taipei (UTC+8): the last eight UTC hours
    /// of a month belong to the next.
    #[test]
    fn a_utc_hour_falls_in_its_taipei_month() {
        assert_eq!(taipei_month("2026-01-31T15").unwrap(), "2026-01");
        assert_eq!(taipei_month("2026-01-31T16").unwrap(), "2026-02");
        assert_eq!(taipei_month("2025-12-31T23").unwrap(), "2026-01");
        assert!(taipei_month("2026-13-01T00").is_err());
    }
}
