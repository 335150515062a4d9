//! Running an approved query and keeping its result (§5, §6): connected-mode execution
//! exactly as STYLE's "One query, walked through the layers", portal-mode recording, viewing
//! and printing a result (watermarked, audited), confirming printed copies destroyed, and the
//! scheduled destruction job.
//!
//! Security-sensitive. The only way to build a [`QueryRequest`] for BLI outside tests is
//! [`QueryRequest::under_permit`], which takes an [`ExecutionPermit`] from
//! `querywarden_domain::policy::may_execute`; the connector is called only through
//! [`query_under_permit`]. Portal-mode recording writes its executions through
//! [`permitted_execution`], which takes the same permit. No database transaction is open during a network call: the
//! execution is recorded as sent and committed first, so nothing leaves without its record;
//! the result is sealed (custody) and stored with its record in a second transaction. A crash
//! between leaves the execution "sent, no result", visible in the querier's inbox and to
//! auditors.

use std::collections::BTreeSet;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use querywarden_bli::{BliItem, BliRecords, Connector, ConnectorError, QueryRequest};
use querywarden_domain::audit_event::{AuditAction, AuditEvent, Outcome};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::policy::{self, ExecutionPermit, ExecutionRequest, Refusal, SessionFacts};
use querywarden_domain::registration::{Registration, RegistrationError, RegistrationNo};
use querywarden_domain::retention::{self, HeldResult};
use querywarden_domain::roc_date::{format_taipei_datetime, taipei_date};
use querywarden_storage::{
    ExecutionMode, ExecutionOutcome, NewExecution, NewResult, ResultRow, SealedBlob, Store, WriteTx,
};

pub mod form3;
pub mod outcome;

use crate::AppError;
use crate::audit::record_refusal;
use crate::auth::SignedIn;
use crate::custody;
use crate::registration::{
    Decided, Denied, Desk, GrantSource, actor, event, on_registration, open_subject, stored_digest,
    subject_aad, subject_of,
};

fn result_aad(no: RegistrationNo, item: &ServiceItemCode) -> String {
    format!("result:{no}:{item}")
}

/// Calls the connector for one item under a permit. The request is built by
/// [`QueryRequest::under_permit`], the only constructor of a request outside tests, so no code
/// path can reach the connector without the permit `policy::may_execute` hands out (§5).
pub async fn query_under_permit<C: Connector>(
    connector: &C,
    permit: &ExecutionPermit,
    item: &ServiceItemCode,
    agency_code: &str,
    operator_account: &str,
    request_id: &str,
) -> Result<Result<BliRecords, ConnectorError>, AppError> {
    let req = QueryRequest::under_permit(permit, item, request_id, agency_code, operator_account)?;
    Ok(connector.query(&req).await)
}

/// The execution row for `item` under `permit`, as sent (connected) or recorded (portal): the
/// registration and querier are the permit's, and an item the permit does not cover is
/// refused, so neither mode can record an execution `policy::may_execute` did not allow (§5).
pub fn permitted_execution(
    permit: &ExecutionPermit,
    item: &ServiceItemCode,
    mode: ExecutionMode,
    request_id: String,
    sent_at: Timestamp,
) -> Result<NewExecution, AppError> {
    if !permit.covers(item) {
        return Err(querywarden_bli::QueryRequestError::NotPermitted(item.clone()).into());
    }
    Ok(NewExecution {
        registration: permit.registration(),
        item: item.clone(),
        querier: permit.querier(),
        outcome: match mode {
            ExecutionMode::Connected => ExecutionOutcome::Sent,
            ExecutionMode::Portal => ExecutionOutcome::Recorded,
        },
        mode,
        request_id,
        sent_at,
        portal_queried_at: None,
        portal_note: None,
        paper_case_no: None,
    })
}

/// What happened to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Records received and sealed in custody.
    Received { rows: usize },
    /// BLI answered that it has no such data (`bli.not_found`, `bli.not_insured`); the
    /// answer is kept like a result.
    NoData { code: &'static str },
    /// The call definitely failed upstream (nothing was processed): nothing was stored and
    /// the item stays open for another attempt within the approval's validity (§5).
    Failed {
        code: &'static str,
        message_zh: String,
    },
    /// Sent and no answer came (timed out after sending): BLI may have processed it. The item
    /// waits until the usage log or the querier's statement resolves it.
    Unknown {
        code: &'static str,
        message_zh: String,
    },
    /// Portal mode: the querier's report was recorded.
    Recorded,
}

/// One item's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemReport {
    pub item: ServiceItemCode,
    pub outcome: ItemOutcome,
}

/// What an execution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionReport {
    pub no: RegistrationNo,
    pub items: Vec<ItemReport>,
}

/// The stored session behind `who`, re-read now (§3: certificate, live, not locked). Idle
/// timeouts are enforced by `auth::authenticate` before a request gets here.
async fn session_facts(store: &Store, who: &SignedIn) -> Result<SessionFacts, AppError> {
    let row = store.session(&who.session.token_hash).await?;
    Ok(match row {
        Some(s) if s.person == who.person.id => SessionFacts {
            certificate_authenticated: !s.cert_fingerprint.trim().is_empty(),
            live: !s.ended,
            locked: s.locked,
        },
        _ => SessionFacts {
            certificate_authenticated: false,
            live: false,
            locked: false,
        },
    })
}

/// What the in-transaction check looks at besides the registration.
struct CheckInput<'a> {
    who: &'a SignedIn,
    no: RegistrationNo,
    items: Option<&'a BTreeSet<ServiceItemCode>>,
    session: SessionFacts,
    active: &'a BTreeSet<ServiceItemCode>,
    now: Timestamp,
    request_id: &'a str,
}

/// Steps 2–3 in the execution's own transaction: the registration with what the policy
/// permits and the transaction still open, or the refusal (audited and committed; hidden as a
/// number that does not exist from whoever may not see the row).
async fn begin_checked<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &SignedIn,
    no: RegistrationNo,
    items: Option<&BTreeSet<ServiceItemCode>>,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<(WriteTx, Registration, ExecutionPermit), Denied>, AppError> {
    let session = session_facts(desk.store, who).await?;
    let active = desk
        .grants
        .active_items(who.person.id, taipei_date(now))
        .await?;
    let mut tx = desk.store.begin().await?;
    let input = CheckInput {
        who,
        no,
        items,
        session,
        active: &active,
        now,
        request_id,
    };
    match check_in_tx(desk, &mut tx, input).await? {
        Ok((reg, permit)) => Ok(Ok((tx, reg, permit))),
        Err(d) => {
            tx.commit().await?;
            Ok(Err(hidden_from(desk.store, &who.person, no, d).await?))
        }
    }
}

/// Step 2–3 of the walk-through, inside `tx`: load the registration and its subject, ask the
/// policy. On refusal the refusal is appended (the caller commits).
async fn check_in_tx<G: GrantSource>(
    desk: &Desk<'_, G>,
    tx: &mut WriteTx,
    input: CheckInput<'_>,
) -> Result<Result<(Registration, ExecutionPermit), Denied>, AppError> {
    let CheckInput {
        who,
        no,
        items,
        session,
        active,
        now,
        request_id,
    } = input;
    let base = refused_execution(who, no, now, request_id);
    let Some(reg) = tx.registration_by_no(no).await? else {
        let d = Denied::NotFound;
        tx.append_audit(&base.outcome(Outcome::Refused(d.code().into())))
            .await?;
        return Ok(Err(d));
    };
    // A subject that no longer opens counts as changed: the policy refuses it.
    let subject = match tx.registration_subject(reg.id).await? {
        Some(blob) => open_subject(desk.keys, &blob, &subject_aad(reg.no)).ok(),
        None => None,
    };
    let wanted: BTreeSet<ServiceItemCode> = match items {
        Some(i) => i.clone(),
        None => crate::registration::runnable_items(&reg),
    };
    let decision = match &subject {
        Some(s) => {
            let digest_now = desk
                .keys
                .subject_digest_under(s.id(), &reg.subject_key_id)
                .map(|d| d.hex)
                .unwrap_or_default();
            policy::may_execute(&ExecutionRequest {
                now,
                executor: who.person.id,
                session,
                active_items: active,
                registration: &reg,
                items: &wanted,
                subject: s.id(),
                subject_digest_now: &digest_now,
            })
        }
        // Sealed subject replaced or damaged: it is not the one approved.
        None => Err(Refusal::SubjectChanged),
    };
    match decision {
        Ok(permit) => Ok(Ok((reg, permit))),
        Err(refusal) => {
            let mut ev = base
                .outcome(Outcome::Refused(refusal.code().into()))
                .detail("reason", refusal.code());
            ev.subject = Some(stored_digest(&reg));
            tx.append_audit(&ev).await?;
            Ok(Err(Denied::Policy(refusal)))
        }
    }
}

/// Someone who may not even see registration `no` is answered as for a number that does not
/// exist, whatever the refusal (already audited with its real reason), so numbers cannot be
/// probed (§9).
async fn hidden_from(
    store: &Store,
    who: &Person,
    no: RegistrationNo,
    d: Denied,
) -> Result<Denied, AppError> {
    if d == Denied::NotFound {
        return Ok(d);
    }
    match store.registration_by_no(no).await? {
        Some(r) if !crate::registration::may_see(store, &r, who).await? => Ok(Denied::NotFound),
        _ => Ok(d),
    }
}

/// The record of `who`'s refused execution of registration `no`, before its outcome is set
/// (§5: a refusal is audited as a success is).
fn refused_execution(
    who: &SignedIn,
    no: RegistrationNo,
    now: Timestamp,
    request_id: &str,
) -> AuditEvent {
    event(
        now,
        AuditAction::ExecutionRefused,
        request_id,
        actor(who.person.id, Role::Querier),
        "registration",
        no.to_string(),
    )
}

/// An item the connector cannot ask for (a deployment's own catalogue entry) goes through the
/// portal: refused, and the refusal audited.
async fn not_connectable<T>(
    store: &Store,
    who: &SignedIn,
    no: RegistrationNo,
    item: &ServiceItemCode,
    now: Timestamp,
    request_id: &str,
) -> Decided<T> {
    let d = Denied::NotConnectable(item.clone());
    let ev = refused_execution(who, no, now, request_id);
    record_refusal(store, ev, d.code()).await?;
    Ok(Err(d))
}

/// Connected mode (STYLE "One query, walked through the layers"): policy check in a
/// transaction (a refusal is audited and committed); then one short transaction recording
/// every permitted item as sent with `query.sent` (committed before the network); then, per
/// item, the connector call outside any transaction and a second transaction storing the
/// sealed result with `query.result.received` (or `query.failed`).
///
/// `items`: which items to run now (default: every item not yet executed).
pub async fn execute_connected<G: GrantSource, C: Connector>(
    desk: &Desk<'_, G>,
    connector: &C,
    who: &SignedIn,
    no: RegistrationNo,
    items: Option<&BTreeSet<ServiceItemCode>>,
    now: Timestamp,
    request_id: &str,
) -> Decided<ExecutionReport> {
    let started = Instant::now();
    // Items the connector cannot ask for (a deployment's own catalogue entries) must go
    // through the portal.
    if let Some(i) = items
        .into_iter()
        .flatten()
        .find(|i| BliItem::parse(i.as_str()).is_err())
    {
        return not_connectable(desk.store, who, no, i, now, request_id).await;
    }
    let (mut tx, reg, permit) = match begin_checked(desk, who, no, items, now, request_id).await? {
        Ok(ok) => ok,
        Err(d) => return Ok(Err(d)),
    };
    if let Some(i) = permit
        .items()
        .iter()
        .find(|i| BliItem::parse(i.as_str()).is_err())
    {
        drop(tx);
        return not_connectable(desk.store, who, no, i, now, request_id).await;
    }
    // §5: consume the approval for these items and record "query sent" — committed before
    // anything leaves.
    let sent = record_sent(&mut tx, &permit, &reg, who, now, request_id).await?;
    tx.commit().await?;

    let mut report = Vec::new();
    for (item, execution, item_request) in sent {
        // Never inside a transaction.
        let answer = query_under_permit(
            connector,
            &permit,
            &item,
            &desk.settings.agency_code,
            who.person.account.as_str(),
            &item_request,
        )
        .await?;
        let elapsed = SignedDuration::try_from(started.elapsed()).unwrap_or(SignedDuration::ZERO);
        let at = now.checked_add(elapsed).unwrap_or(now);
        let outcome = store_answer(
            desk,
            &reg,
            &who.person,
            &item,
            execution,
            answer,
            (at, &item_request),
        )
        .await?;
        report.push(ItemReport { item, outcome });
    }
    Ok(Ok(ExecutionReport { no, items: report }))
}

/// One execution row and one `query.sent` record per permitted item, each under its own
/// request id (`<request>-<item>`): the item, its execution and that id.
async fn record_sent(
    tx: &mut WriteTx,
    permit: &ExecutionPermit,
    reg: &Registration,
    who: &SignedIn,
    now: Timestamp,
    request_id: &str,
) -> Result<Vec<(ServiceItemCode, i64, String)>, AppError> {
    let mut sent = Vec::new();
    for item in permit.items() {
        let item_request = format!("{request_id}-{item}");
        let id = tx
            .insert_execution(&permitted_execution(
                permit,
                item,
                ExecutionMode::Connected,
                item_request.clone(),
                now,
            )?)
            .await?;
        let ev = on_registration(
            now,
            AuditAction::QuerySent,
            &item_request,
            actor(who.person.id, Role::Querier),
            reg,
        )
        .detail("item", item.as_str())
        .detail("mode", "connected")
        .detail("execution", id);
        tx.append_audit(&ev).await?;
        sent.push((item.clone(), id, item_request));
    }
    Ok(sent)
}

/// The second transaction: seal and store the answer with its record, or record the failure.
async fn store_answer<G: GrantSource>(
    desk: &Desk<'_, G>,
    reg: &Registration,
    querier: &Person,
    item: &ServiceItemCode,
    execution: i64,
    answer: Result<BliRecords, ConnectorError>,
    stamp: (Timestamp, &str),
) -> Result<ItemOutcome, AppError> {
    let (at, request_id) = stamp;
    let by = actor(querier.id, Role::Querier);
    let (kind, json, outcome) = match answer {
        // §6: an answer that lists no record is kept as "no data", so the result is never
        // labelled 有資料 while its page shows no rows.
        Ok(records) if records.is_empty() => (
            "not_found",
            serde_json::json!({"status": "not_found"}),
            ItemOutcome::Received { rows: 0 },
        ),
        Ok(records) => {
            let rows = records.len();
            let json = serde_json::json!({"status": "records", "records": records});
            ("records", json, ItemOutcome::Received { rows })
        }
        Err(e @ (ConnectorError::NotFound | ConnectorError::NotInsured)) => {
            let kind = if e == ConnectorError::NotFound {
                "not_found"
            } else {
                "not_insured"
            };
            (
                kind,
                serde_json::json!({"status": kind}),
                ItemOutcome::NoData { code: e.code() },
            )
        }
        Err(e) => {
            // §5: only a query that certainly was not processed leaves the item open; one
            // that may have reached BLI waits for its outcome to be resolved.
            let definite = e.nothing_processed();
            let (state, action) = if definite {
                (ExecutionOutcome::Failed, AuditAction::QueryFailed)
            } else {
                (ExecutionOutcome::Unknown, AuditAction::QueryOutcomeUnknown)
            };
            let mut tx = desk.store.begin().await?;
            tx.finish_execution(execution, at, state, Some(e.code()))
                .await?;
            let ev = on_registration(at, action, request_id, by, reg)
                .outcome(Outcome::Failed(e.code().into()))
                .detail("item", item.as_str())
                .detail("execution", execution)
                .detail("item_open", definite);
            tx.append_audit(&ev).await?;
            tx.commit().await?;
            return Ok(if definite {
                ItemOutcome::Failed {
                    code: e.code(),
                    message_zh: e.message_zh(),
                }
            } else {
                ItemOutcome::Unknown {
                    code: e.code(),
                    message_zh: e.message_zh(),
                }
            });
        }
    };
    let bytes = serde_json::to_vec(&json).map_err(AppError::encode("BLI answer"))?;
    let sealed = custody::seal(desk.keys, &bytes, &result_aad(reg.no, item))?;
    let mut tx = desk.store.begin().await?;
    store_result(
        desk,
        &mut tx,
        reg,
        item,
        execution,
        (kind, "application/json", sealed),
        (at, request_id, by),
    )
    .await?;
    tx.finish_execution(execution, at, ExecutionOutcome::Received, None)
        .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Inserts a sealed result with its retention and its `query.result.received` record.
async fn store_result<G: GrantSource>(
    desk: &Desk<'_, G>,
    tx: &mut WriteTx,
    reg: &Registration,
    item: &ServiceItemCode,
    execution: i64,
    content: (&str, &str, SealedBlob),
    stamp: (Timestamp, &str, querywarden_domain::audit_event::Actor),
) -> Result<i64, AppError> {
    let (kind, content_type, sealed) = content;
    let (at, request_id, by) = stamp;
    // §6: kept for the period of its case type (the kind of case its legal basis serves,
    // as the catalogue classes it), else of its legal basis, else the default; then
    // destroyed.
    let case_type = desk
        .store
        .legal_bases()
        .await?
        .into_iter()
        .find(|b| b.id == reg.legal_basis)
        .map(|b| b.kind);
    let keep = retention::retention_for(
        &desk.settings.retention,
        &reg.legal_basis,
        case_type.as_deref(),
        taipei_date(at),
    );
    let id = tx
        .insert_result(&NewResult {
            execution,
            registration: reg.id,
            item: item.clone(),
            received_at: at,
            kind: kind.to_string(),
            content_type: content_type.to_string(),
            sealed,
            retention_rule: keep.rule.clone(),
            destroy_after: keep.destroy_after,
        })
        .await?;
    let ev = on_registration(at, AuditAction::QueryResultReceived, request_id, by, reg)
        .detail("item", item.as_str())
        .detail("kind", kind)
        .detail("result", id)
        .detail("destroy_after", keep.destroy_after.civil().to_string())
        .detail("retention_rule", keep.rule);
    tx.append_audit(&ev).await?;
    Ok(id)
}

/// A result document the querier brings back from the portal (e.g. the PDF), to keep in
/// custody.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalDocument {
    pub item: ServiceItemCode,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for PortalDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PortalDocument({}, {}, {} bytes)",
            self.item,
            self.content_type,
            self.bytes.len()
        )
    }
}

/// What the querier reports after running the query on the e-government portal.
#[derive(Debug, Clone, Default)]
pub struct PortalReport {
    /// Items actually queried (default: every item not yet executed).
    pub items: Option<BTreeSet<ServiceItemCode>>,
    /// When they ran it on the portal.
    pub queried_at: Option<Timestamp>,
    pub note: Option<String>,
    /// Where the paper result is filed (案號), if kept on paper.
    pub paper_case_no: Option<String>,
    /// Result documents to keep in custody, per item.
    pub documents: Vec<PortalDocument>,
}

/// Portal mode: records the execution the querier reports, under the same permit and the
/// same checks as connected mode, in one transaction (with `query.sent` per item, and
/// `query.result.received` per stored document).
pub async fn record_portal_execution<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &SignedIn,
    no: RegistrationNo,
    report: &PortalReport,
    now: Timestamp,
    request_id: &str,
) -> Decided<ExecutionReport> {
    let items = report.items.as_ref();
    let (mut tx, reg, permit) = match begin_checked(desk, who, no, items, now, request_id).await? {
        Ok(ok) => ok,
        Err(d) => return Ok(Err(d)),
    };
    let queried_at = report.queried_at.unwrap_or(now).min(now);
    let approved_at = match reg.state {
        querywarden_domain::registration::RegistrationState::Approved { at, .. } => at,
        _ => now,
    };
    let by = actor(who.person.id, Role::Querier);
    let mut out = Vec::new();
    for item in permit.items() {
        let item_request = format!("{request_id}-{item}");
        let execution = tx
            .insert_execution(&NewExecution {
                portal_queried_at: Some(queried_at),
                portal_note: report.note.clone(),
                paper_case_no: report.paper_case_no.clone(),
                ..permitted_execution(
                    &permit,
                    item,
                    ExecutionMode::Portal,
                    item_request.clone(),
                    now,
                )?
            })
            .await?;
        let mut ev = event(
            now,
            AuditAction::QuerySent,
            &item_request,
            by,
            "registration",
            no.to_string(),
        )
        .detail("item", item.as_str())
        .detail("mode", "portal")
        .detail("execution", execution)
        .detail("queried_at", queried_at.to_string())
        // Reconciliation (§7) looks for these: run on the portal before the approval.
        .detail("queried_before_approval", queried_at < approved_at);
        ev.subject = Some(stored_digest(&reg));
        tx.append_audit(&ev).await?;
        for doc in report.documents.iter().filter(|d| &d.item == item) {
            let sealed = custody::seal(desk.keys, &doc.bytes, &result_aad(reg.no, item))?;
            store_result(
                desk,
                &mut tx,
                &reg,
                item,
                execution,
                ("portal_document", &doc.content_type, sealed),
                (now, &item_request, by),
            )
            .await?;
        }
        out.push(ItemReport {
            item: item.clone(),
            outcome: ItemOutcome::Recorded,
        });
    }
    tx.commit().await?;
    Ok(Ok(ExecutionReport { no, items: out }))
}

// ---------------------------------------------------------------------------------------
// Viewing and printing

/// What a result holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultContent {
    Records(BliRecords),
    /// BLI said it has nothing: `not_found` or `not_insured`.
    NoData {
        kind: String,
    },
    /// A document kept from the portal.
    Document {
        content_type: String,
        bytes: Vec<u8>,
    },
}

/// A result as shown (view-only page, `Cache-Control: no-store`, no download): the content
/// and the watermark text to draw over it.
#[derive(Debug, Clone)]
pub struct ResultView {
    pub no: RegistrationNo,
    pub item: ServiceItemCode,
    pub received_at: Timestamp,
    pub subject_name: String,
    pub subject_id_masked: String,
    pub content: ResultContent,
    /// `檢視者 林美玲（lin.meiling） 民國 115 年 3 月 2 日 10:19 登記編號 115-000012`, plus the
    /// print number on prints.
    pub watermark: String,
    /// When it was opened: the time the watermark names (a page writes it in its own
    /// language from this, the viewer and the print number).
    pub viewed_at: Timestamp,
    /// Set on prints: 1, 2, 3… per result.
    pub print_no: Option<i64>,
    /// §6 ¶2: a print for the case file names the legal basis, the case number and who
    /// approved the query.
    pub legal_basis: querywarden_domain::catalogue::LegalBasisId,
    pub case_no: Option<String>,
    pub approved_by: Option<querywarden_domain::org::PersonId>,
}

/// §6: only the querier and the needer (for a Form 3 registration the needer is the
/// external requester) see a result.
fn may_view(reg: &Registration, viewer: &Person) -> bool {
    reg.parties.querier == viewer.id || reg.parties.needer == viewer.id
}

fn watermark(viewer: &Person, now: Timestamp, no: RegistrationNo, print: Option<i64>) -> String {
    let mut w = format!(
        "檢視者 {}（{}） {} 登記編號 {no}",
        viewer.name,
        viewer.account,
        format_taipei_datetime(now)
    );
    if let Some(n) = print {
        w.push_str(&format!(" 列印第 {n} 份"));
    }
    w
}

/// How a result is opened: viewed or printed (with the reason for a print beyond the limit),
/// through a page or through the JSON API.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    print: bool,
    reason: Option<&'a str>,
    api: bool,
}

impl<'a> Access<'a> {
    /// §6: a view-only look at the result.
    pub fn view() -> Self {
        Access {
            print: false,
            reason: None,
            api: false,
        }
    }

    /// §6 ¶2: a numbered print for the case file; `reason` is needed beyond
    /// `registration.print_limit`.
    pub fn print(reason: Option<&'a str>) -> Self {
        Access {
            print: true,
            reason,
            api: false,
        }
    }

    /// The same through the JSON API, which hands out whole records: refused
    /// (`result.api_disabled`, audited) unless `registration.results_api` is on; audited with
    /// `channel: api`.
    pub fn via_api(self) -> Self {
        Access { api: true, ..self }
    }
}

/// The longest reason kept for a print beyond the limit.
pub const PRINT_REASON_MAX_CHARS: usize = 500;

/// A result's opened bytes as what it is: a portal document as filed, else the service's
/// records or its "no data" answer.
fn result_content(row: &ResultRow, bytes: Vec<u8>) -> Result<ResultContent, AppError> {
    Ok(if row.kind == "portal_document" {
        ResultContent::Document {
            content_type: row.content_type.clone(),
            bytes,
        }
    } else {
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| AppError::unreadable("result", e))?;
        match v.get("records") {
            Some(r) => ResultContent::Records(
                serde_json::from_value(r.clone())
                    .map_err(|e| AppError::unreadable("result records", e))?,
            ),
            None => ResultContent::NoData {
                kind: row.kind.clone(),
            },
        }
    })
}

/// §6: opens a result to its querier or needer as `access` says; every opening is audited
/// (`result.viewed` or `result.printed`), refused ones too.
pub async fn open_result<G: GrantSource>(
    desk: &Desk<'_, G>,
    viewer: &Person,
    no: RegistrationNo,
    item: &ServiceItemCode,
    access: Access<'_>,
    now: Timestamp,
    request_id: &str,
) -> Decided<ResultView> {
    let Access { print, reason, api } = access;
    let action = if print {
        AuditAction::ResultPrinted
    } else {
        AuditAction::ResultViewed
    };
    let mut ev = event(
        now,
        action,
        request_id,
        actor(viewer.id, Role::Staff),
        "registration",
        no.to_string(),
    )
    .detail("item", item.as_str())
    .detail("channel", if api { "api" } else { "page" });
    let Some(reg) = desk.store.registration_by_no(no).await? else {
        record_refusal(desk.store, ev, Denied::NotFound.code()).await?;
        return Ok(Err(Denied::NotFound));
    };
    ev.subject = Some(stored_digest(&reg));
    let refuse = |d: Denied| async {
        record_refusal(desk.store, ev.clone(), d.code()).await?;
        Ok::<_, AppError>(Err(d))
    };
    if !may_view(&reg, viewer) {
        let e = RegistrationError::NotAllowed;
        if !crate::registration::may_see(desk.store, &reg, viewer).await? {
            // §9: answered as for a number that does not exist; the record keeps the reason.
            record_refusal(desk.store, ev, e.code()).await?;
            return Ok(Err(Denied::NotFound));
        }
        return refuse(e.into()).await;
    }
    // §6 ¶2: whole records through the API let a program copy what the page forbids
    // copying; off unless the deployment turns it on.
    if api && !desk.settings.results_api {
        return refuse(Denied::ResultsApiOff).await;
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let Some(row) = desk.store.result_of(reg.id, item).await? else {
        return refuse(Denied::NoResult).await;
    };
    // §6: a destroyed result can never be shown again.
    let Some(sealed) = row.sealed.as_ref().filter(|_| row.destroyed_at.is_none()) else {
        return refuse(Denied::ResultDestroyed).await;
    };
    let bytes = custody::open(desk.keys, sealed, &result_aad(no, item))?;
    let content = result_content(&row, bytes)?;
    let subject = subject_of(desk.store, desk.keys, &reg).await?;
    let mut tx = desk.store.begin().await?;
    let mut over_limit = false;
    let print_no = if print {
        // §6 ¶2: prints are numbered and limited; one beyond the limit records why.
        let made = tx.prints_made(row.id).await?;
        over_limit = made >= i64::from(desk.settings.print_limit);
        let too_long = reason.is_some_and(|r| r.chars().count() > PRINT_REASON_MAX_CHARS);
        if (over_limit && reason.is_none()) || too_long {
            drop(tx);
            return refuse(Denied::PrintLimit {
                made,
                limit: desk.settings.print_limit,
            })
            .await;
        }
        let kept = if over_limit { reason } else { None };
        Some(tx.insert_print(row.id, viewer.id, now, kept).await?)
    } else {
        tx.insert_view(row.id, viewer.id, now).await?;
        None
    };
    let mut ev = ev.detail("result", row.id);
    if let Some(n) = print_no {
        // The reason stays with the print; the trail records that one was given.
        ev = ev.detail("print_no", n).detail("over_limit", over_limit);
        if over_limit {
            ev = ev.detail("reason_chars", reason.map_or(0, |r| r.chars().count()));
        }
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(ResultView {
        no,
        item: item.clone(),
        received_at: row.received_at,
        subject_name: subject.name().to_string(),
        subject_id_masked: subject.id().masked(),
        content,
        watermark: watermark(viewer, now, no, print_no),
        viewed_at: now,
        print_no,
        legal_basis: reg.legal_basis.clone(),
        case_no: reg.case_no.clone(),
        approved_by: match reg.state {
            querywarden_domain::registration::RegistrationState::Approved { by, .. } => Some(by),
            _ => None,
        },
    }))
}

/// §6: shows a result to its querier or needer, view-only; every view is audited
/// (`result.viewed`), refused views too.
pub async fn view_result<G: GrantSource>(
    desk: &Desk<'_, G>,
    viewer: &Person,
    no: RegistrationNo,
    item: &ServiceItemCode,
    now: Timestamp,
    request_id: &str,
) -> Decided<ResultView> {
    open_result(desk, viewer, no, item, Access::view(), now, request_id).await
}

/// §6: a print for the case file (隨文歸檔), numbered per result and audited
/// (`result.printed`); the watermark carries the print number. §6 ¶2: a print beyond
/// `registration.print_limit` needs `reason`, kept with the print (refused
/// `result.print_limit` without one).
pub async fn print_result<G: GrantSource>(
    desk: &Desk<'_, G>,
    viewer: &Person,
    no: RegistrationNo,
    item: &ServiceItemCode,
    reason: Option<&str>,
    now: Timestamp,
    request_id: &str,
) -> Decided<ResultView> {
    open_result(
        desk,
        viewer,
        no,
        item,
        Access::print(reason),
        now,
        request_id,
    )
    .await
}

/// The querier confirms that printed copy `print_no` was destroyed (asked for after the
/// result is destroyed). Audited as `result.destroyed` on object `print`.
pub async fn confirm_print_destroyed<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &Person,
    no: RegistrationNo,
    item: &ServiceItemCode,
    print_no: i64,
    now: Timestamp,
    request_id: &str,
) -> Decided<()> {
    let mut ev = event(
        now,
        AuditAction::ResultDestroyed,
        request_id,
        actor(who.id, Role::Querier),
        "print",
        format!("{no}:{item}:{print_no}"),
    );
    let Some(reg) = desk.store.registration_by_no(no).await? else {
        record_refusal(desk.store, ev, Denied::NotFound.code()).await?;
        return Ok(Err(Denied::NotFound));
    };
    ev.subject = Some(stored_digest(&reg));
    if reg.parties.querier != who.id {
        let e = RegistrationError::NotAllowed;
        record_refusal(desk.store, ev, e.code()).await?;
        // §9: someone who may not see the row cannot learn that it exists.
        if !crate::registration::may_see(desk.store, &reg, who).await? {
            return Ok(Err(Denied::NotFound));
        }
        return Ok(Err(e.into()));
    }
    let Some(row) = desk.store.result_of(reg.id, item).await? else {
        record_refusal(desk.store, ev, Denied::NoResult.code()).await?;
        return Ok(Err(Denied::NoResult));
    };
    let mut tx = desk.store.begin().await?;
    if !tx
        .confirm_print_destroyed(row.id, print_no, who.id, now)
        .await?
    {
        return Ok(Err(Denied::NotFound));
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------
// Destruction

/// What the destruction job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestructionReport {
    pub destroyed: Vec<(RegistrationNo, ServiceItemCode)>,
    /// Printed copies whose destruction the queriers still have to confirm.
    pub prints_outstanding: usize,
}

/// §6, the scheduled job: destroys (crypto-shreds) every result whose keeping period ended
/// before today (Asia/Taipei), one transaction and one `result.destroyed` record each; the
/// destruction record (what, when, which rule) stays.
pub async fn destroy_due(
    store: &Store,
    now: Timestamp,
    request_id: &str,
) -> Result<DestructionReport, AppError> {
    let held = store.results_held().await?;
    let facts: Vec<HeldResult> = held
        .iter()
        .map(|r| HeldResult {
            id: r.id,
            destroy_after: r.destroy_after,
            destroyed: r.destroyed_at.is_some(),
        })
        .collect();
    let due = retention::due_for_destruction(&facts, taipei_date(now));
    let mut report = DestructionReport::default();
    for row in held.iter().filter(|r| due.contains(&r.id)) {
        let Some(reg) = store.registration(row.registration).await? else {
            continue;
        };
        let outstanding = store
            .prints_of(row.id)
            .await?
            .iter()
            .filter(|p| p.copy_destroyed_at.is_none())
            .count();
        let rule = format!("retention:{}", row.retention_rule);
        let mut tx = store.begin().await?;
        if !tx.destroy_result(row.id, now, &rule, None).await? {
            continue;
        }
        let mut ev = AuditEvent::system(now, AuditAction::ResultDestroyed, request_id)
            .on("registration", reg.no.to_string())
            .detail("item", row.item.as_str())
            .detail("result", row.id)
            .detail("rule", rule.as_str())
            .detail("destroy_after", row.destroy_after.civil().to_string())
            .detail("prints_outstanding", outstanding);
        ev.subject = Some(stored_digest(&reg));
        tx.append_audit(&ev).await?;
        tx.commit().await?;
        report.prints_outstanding += outstanding;
        report.destroyed.push((reg.no, row.item.clone()));
    }
    Ok(report)
}
