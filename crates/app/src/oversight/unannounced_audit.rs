//! Unannounced audit use cases, Form 4 (§8): open (with the sample drawn and the querier told,
//! in the same transaction), attach a supporting document, submit the documents, record the
//! opinions per case and overall (稽核意見), sign off in Form 4's order, the director's review,
//! and the reads — each read decides who may see it inside.
//!
//! Security-sensitive. Each use case is one transaction with its audit record inside; each
//! refusal is audited with its rule code and changes nothing. The rules live in
//! `querywarden_domain::oversight::unannounced_audit`; this module loads what they need, asks
//! them, and stores the answer. Attached documents and their names are sealed with
//! [`crate::custody`] exactly like query results; the trail carries only their SHA-256, type
//! and size.

use std::collections::BTreeMap;

use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::org::{Account, Person, PersonId, Role, UnitId};
use querywarden_domain::oversight::unannounced_audit::{
    self as rules, AuditId, AuditPlan, AuditRefusal, AuditState, Candidate, CaseOpinion,
    DirectorChair, DirectorReview, OverallOpinion, SamplingMethod, SignOff, SignOffStep, Signers,
    UnannouncedAudit,
};
use querywarden_domain::permission::supervisors_upwards;
use querywarden_domain::registration::RegistrationNo;
use querywarden_domain::roc_date::{DateField, RocDate, taipei_date, taipei_day_start_utc};
use querywarden_storage::{NewAudit, NewAuditDocument, Store};
use sha2::{Digest, Sha256};

use super::violation::{FileViolationRequest, ViolationSource, insert_case};
use crate::AppError;
use crate::custody;
use crate::keys::KeyRing;
use crate::permission::Op;

/// `[unannounced_audits]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// Largest supporting document a querier may attach, in bytes.
    pub max_attachment_bytes: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            max_attachment_bytes: 10 * 1024 * 1024,
        }
    }
}

crate::error::use_case_error!(
    /// Why an audit use case did not happen.
    pub AuditError(AuditRefusal),
    "audit"
);

/// Form 4 as typed on the page or sent to the API, before it is checked. People are named by
/// their account; dates in any form [`RocDate::parse`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenAuditRequest {
    pub period_from: String,
    pub period_to: String,
    pub audit_date: String,
    /// 受稽核者 (account).
    pub querier: String,
    pub auditing_unit: String,
    pub auditing_unit_phone: String,
    /// 稽核人員 (accounts).
    pub auditors: Vec<String>,
    pub documents_deadline: String,
    pub cases: u32,
    /// `uniform` or `weighted`.
    pub method: String,
    /// Weighted draws: weight per registration number (`115-000012`); absent cases weigh 0.
    pub weights: BTreeMap<String, u32>,
    /// A given seed (tests, and re-running a recorded draw); otherwise a fresh random one is
    /// drawn and recorded. The web never passes one: an auditor who chose the seed could
    /// choose the sample. The trail says which it was (`seed_source`).
    pub seed: Option<u64>,
}

/// A document as listed on the audit (name opened for the reader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLine {
    pub id: i64,
    pub case: RegistrationNo,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_at: jiff::Timestamp,
}

/// An audit as a reader sees it: the record, its documents, and who signs each step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditView {
    pub audit: UnannouncedAudit,
    /// The draw repeated from the recorded candidates, weights and seed gives these cases.
    pub draw_repeats: bool,
    pub documents: Vec<DocumentLine>,
    /// The person who signs each supervisor step as the organisation stands today (the
    /// querier's and auditors' steps are theirs).
    pub querier_supervisor: Option<PersonId>,
    pub auditing_supervisor: Option<PersonId>,
}

/// A document opened for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedDocument {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn event(op: &Op, action: AuditAction, by: &Person, role: Option<Role>) -> AuditEvent {
    let mut e = AuditEvent::system(op.now, action, op.request_id.clone());
    e.actor = Some(Actor {
        person: by.id,
        role,
    });
    e.client_addr = op.client_addr.clone();
    e
}

/// The role someone acts in on an audit, for the trail.
fn acting_role(p: &Person) -> Option<Role> {
    [
        Role::PermissionAdministrator,
        Role::EthicsAuditor,
        Role::Director,
        Role::UnitSupervisor,
        Role::Querier,
    ]
    .into_iter()
    .find(|r| p.has_role(*r))
}

use crate::error::refused;

fn object(id: AuditId) -> String {
    id.get().to_string()
}

/// The event of `action` by `by` on audit `id`.
fn on_audit(op: &Op, action: AuditAction, by: &Person, id: AuditId) -> AuditEvent {
    event(op, action, by, acting_role(by)).on("unannounced_audit", object(id))
}

/// The state an opinion moves the audit to (as `may` found it) and the opinion's text,
/// checked; a refusal is audited as `ev`'s.
async fn checked_opinion(
    store: &Store,
    ev: &AuditEvent,
    may: Result<AuditState, AuditRefusal>,
    text: &str,
) -> Result<(AuditState, String), AuditError> {
    match may.and_then(|next| rules::opinion_text(text).map(|t| (next, t))) {
        Ok(x) => Ok(x),
        Err(r) => refused(store, ev.clone(), r).await,
    }
}

async fn load(store: &Store, id: AuditId) -> Result<UnannouncedAudit, AuditError> {
    store
        .unannounced_audit(id)
        .await?
        .ok_or(AuditError::NotFound("稽核紀錄"))
}

/// Loads audit `id` for `actor`, who must at least be allowed to read it. A missing audit
/// and one `actor` may not read get the same answer (`audit.not_found`), so ids cannot be
/// probed (§9); both refusals are audited, the record keeping the real reason.
async fn load_visible(
    store: &Store,
    actor: &Person,
    id: AuditId,
    ev: &AuditEvent,
) -> Result<(UnannouncedAudit, Signers), AuditError> {
    let hide = |code: &'static str| async move {
        crate::audit::record_rule_refusal(store, ev.clone(), code).await?;
        Err::<(UnannouncedAudit, Signers), _>(AuditError::NotFound("稽核紀錄"))
    };
    let Some(audit) = store.unannounced_audit(id).await? else {
        return hide("audit.not_found").await;
    };
    let who = signers(store, &audit).await?;
    if let Err(r) = rules::may_read(&audit, actor, &who) {
        return hide(r.code()).await;
    }
    Ok((audit, who))
}

/// The organisation as the sign-off steps need it: units' parents, their supervisors, and
/// the director.
struct Org {
    parents: BTreeMap<UnitId, Option<UnitId>>,
    supervisors: BTreeMap<UnitId, PersonId>,
    director: Option<PersonId>,
}

impl Org {
    async fn load(store: &Store) -> Result<Org, AuditError> {
        Ok(Org {
            parents: store
                .units()
                .await?
                .into_iter()
                .map(|u| (u.id, u.parent))
                .collect(),
            supervisors: store.unit_supervisors().await?,
            director: store
                .persons()
                .await?
                .into_iter()
                .find(|p| p.has_role(Role::Director))
                .map(|p| p.id),
        })
    }

    /// Who may sign the supervisors' steps of `audit`, from today's organisation.
    fn signers(&self, audit: &UnannouncedAudit) -> Signers {
        Signers {
            querier_supervisors: supervisors_upwards(
                &self.parents,
                &self.supervisors,
                &audit.querier_unit,
            ),
            auditing_supervisors: supervisors_upwards(
                &self.parents,
                &self.supervisors,
                &audit.plan.auditing_unit,
            ),
            director: self.director,
        }
    }
}

async fn signers(store: &Store, audit: &UnannouncedAudit) -> Result<Signers, AuditError> {
    Ok(Org::load(store).await?.signers(audit))
}

/// The audits not yet reviewed, each with who signs its supervisors' steps today: what a
/// person's worklist looks through for the documents, opinions, sign-offs and review that
/// wait for them (§8). The organisation is read once, and only when an audit is open.
pub(crate) async fn open_audits(
    store: &Store,
) -> Result<Vec<(UnannouncedAudit, Signers)>, AppError> {
    let open: Vec<UnannouncedAudit> = store
        .unannounced_audits(None)
        .await?
        .into_iter()
        .filter(|a| a.state != AuditState::Reviewed)
        .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let org = Org::load(store).await.map_err(|e| match e {
        AuditError::App(a) => a,
        other => AppError::unreadable("organisation", other),
    })?;
    Ok(open
        .into_iter()
        .map(|a| {
            let s = org.signers(&a);
            (a, s)
        })
        .collect())
}

/// A date of Form 4's plan, in the window every plan date shares (two years either side of
/// today), so that a Western year typed as an ROC one is refused as on every other form.
fn date(field: &'static str, s: &str, today: RocDate) -> Result<RocDate, AuditRefusal> {
    RocDate::parse_field(s, DateField::AuditPlan, today).map_err(|_| AuditRefusal::BadDate(field))
}

async fn person(store: &Store, field: &'static str, account: &str) -> Result<Person, AuditError> {
    let Ok(a) = Account::parse(account) else {
        return Err(AuditRefusal::UnknownPerson(field).into());
    };
    store
        .person_by_account(&a)
        .await?
        .ok_or(AuditError::Refused(AuditRefusal::UnknownPerson(field)))
}

/// Parses and checks Form 4's header. Refusals come back as `Refused` (not yet audited).
async fn plan_of(
    store: &Store,
    req: &OpenAuditRequest,
    today: RocDate,
) -> Result<(AuditPlan, Person, Vec<Person>), AuditError> {
    let querier = person(store, "受稽核者", &req.querier).await?;
    let mut auditors = Vec::new();
    for a in req.auditors.iter().filter(|a| !a.trim().is_empty()) {
        auditors.push(person(store, "稽核人員", a).await?);
    }
    let method = SamplingMethod::parse_code(req.method.trim()).ok_or(AuditRefusal::Sampling)?;
    let auditing_unit =
        UnitId::new(req.auditing_unit.trim()).map_err(|_| AuditRefusal::AuditingUnit)?;
    let plan = AuditPlan {
        period_from: date("稽核期間起日", &req.period_from, today)?,
        period_to: date("稽核期間迄日", &req.period_to, today)?,
        audit_date: date("稽核日期", &req.audit_date, today)?,
        querier: querier.id,
        auditing_unit,
        auditing_unit_phone: req.auditing_unit_phone.trim().to_string(),
        auditors: auditors.iter().map(|p| p.id).collect(),
        documents_deadline: date("資料繳交期限", &req.documents_deadline, today)?,
        cases: req.cases,
        method,
    };
    let kind = store
        .units()
        .await?
        .into_iter()
        .find(|u| u.id == plan.auditing_unit)
        .map(|u| u.kind);
    rules::check_plan(&plan, kind, &auditors)?;
    Ok((plan, querier, auditors))
}

fn random_seed() -> Result<u64, AuditError> {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b)
        .map_err(|_| AuditError::from(custody::CustodyError::Randomness))?;
    Ok(u64::from_le_bytes(b))
}

/// §8: the IT group or the ethics office opens an audit: Form 4's header is checked, the
/// sample drawn from the querier's cases in the period (seed recorded), and the querier told
/// — in the same transaction, so never before the audit exists. Refused (and audited):
/// someone outside the audit offices, a bad field, an auditor who is a party, no cases.
pub async fn open_audit(
    store: &Store,
    actor: &Person,
    req: &OpenAuditRequest,
    op: &Op,
) -> Result<UnannouncedAudit, AuditError> {
    let ev = event(op, AuditAction::AuditCreated, actor, acting_role(actor))
        .on("unannounced_audit", "-");
    let office = match rules::audit_office(actor) {
        Ok(o) => o,
        Err(r) => return refused(store, ev, r).await,
    };
    let (plan, querier, auditors) = match plan_of(store, req, taipei_date(op.now)).await {
        Ok(x) => x,
        Err(AuditError::Refused(r)) => return refused(store, ev, r).await,
        Err(e) => return Err(e),
    };
    let ev = ev
        .detail("querier", querier.id.get())
        .detail(
            "auditors",
            plan.auditors.iter().map(|p| p.get()).collect::<Vec<_>>(),
        )
        .detail("period_from", plan.period_from.civil().to_string())
        .detail("period_to", plan.period_to.civil().to_string());
    let candidates = period_candidates(store, &plan, querier.id).await?;
    let mut parties: Vec<(PersonId, UnitId)> =
        auditors.iter().map(|p| (p.id, p.unit.clone())).collect();
    if !plan.auditors.contains(&office.person()) {
        parties.push((actor.id, actor.unit.clone()));
    }
    if let Err(r) = rules::check_parties(&parties, querier.id, &querier.unit, &candidates) {
        return refused(store, ev, r).await;
    }
    if candidates.is_empty() {
        return refused(store, ev, AuditRefusal::NoCases).await;
    }
    let candidates = match plan.method {
        SamplingMethod::Uniform => candidates,
        SamplingMethod::Weighted => match weighted(candidates, &req.weights) {
            Ok(c) => c,
            Err(r) => return refused(store, ev, r).await,
        },
    };
    let (seed, seed_source) = match req.seed {
        Some(s) => (s, "given"),
        None => (random_seed()?, "system"),
    };
    let drawn = rules::draw_sample(&candidates, plan.cases as usize, plan.method, seed);
    let cases: Vec<_> = drawn
        .iter()
        .filter_map(|r| candidates.iter().find(|c| c.registration == *r))
        .map(|c| (c.registration, c.weight))
        .collect();
    let numbers: Vec<String> = drawn
        .iter()
        .filter_map(|r| candidates.iter().find(|c| c.registration == *r))
        .map(|c| c.no.to_string())
        .collect();
    let mut tx = store.begin().await?;
    let id = tx
        .insert_unannounced_audit(&NewAudit {
            plan: plan.clone(),
            querier_unit: querier.unit.clone(),
            opened_by: actor.id,
            opened_at: op.now,
            seed,
            candidates: candidates
                .iter()
                .map(|c| (c.registration, c.weight))
                .collect(),
            cases,
        })
        .await?;
    // §8 note on Form 4: audits are unannounced; the querier learns of it now, not before.
    tx.insert_notice(
        querier.id,
        "audit.opened",
        &format!("unannounced_audit:{}", id.get()),
        op.now,
    )
    .await?;
    tx.append_audit(
        &ev.on("unannounced_audit", object(id))
            .detail("method", plan.method.code())
            // As text: the trail's canonical form has no numbers beyond i64.
            .detail("seed", seed.to_string())
            .detail("seed_source", seed_source)
            .detail("candidates", candidates.len())
            .detail("cases_requested", plan.cases)
            .detail("cases", numbers)
            .detail(
                "documents_deadline",
                plan.documents_deadline.civil().to_string(),
            ),
    )
    .await?;
    tx.commit().await?;
    load(store, id).await
}

/// §8: every execution the querier sent in the audited period (Asia/Taipei days, inclusive).
async fn period_candidates(
    store: &Store,
    plan: &AuditPlan,
    querier: PersonId,
) -> Result<Vec<Candidate>, AuditError> {
    let until = plan
        .period_to
        .civil()
        .tomorrow()
        .ok()
        .and_then(|d| RocDate::from_civil(d).ok())
        .unwrap_or(RocDate::MAX);
    Ok(store
        .audit_candidates(
            querier,
            taipei_day_start_utc(plan.period_from),
            taipei_day_start_utc(until),
        )
        .await?)
}

/// The weights the auditor gave, by registration number; a number that is not one of the
/// period's cases is refused.
fn weighted(
    candidates: Vec<Candidate>,
    weights: &BTreeMap<String, u32>,
) -> Result<Vec<Candidate>, AuditRefusal> {
    let mut by_id = BTreeMap::new();
    for (no, w) in weights {
        let no = RegistrationNo::parse(no.trim()).map_err(|_| AuditRefusal::CaseNotSampled)?;
        if let Some(c) = candidates.iter().find(|c| c.no == no) {
            by_id.insert(c.registration, *w);
        }
    }
    Ok(rules::with_weights(candidates, &by_id))
}

fn case_of(
    audit: &UnannouncedAudit,
    no: &str,
) -> Option<querywarden_domain::registration::RegistrationId> {
    let no = RegistrationNo::parse(no.trim()).ok()?;
    audit
        .cases
        .iter()
        .find(|c| c.no == no)
        .map(|c| c.registration)
}

/// The case as the trail names it: a registration number, or `invalid` — typed input that is
/// not a number is never written to the trail (it could be anything, even a national ID).
fn case_detail(no: &str) -> String {
    RegistrationNo::parse(no.trim())
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "invalid".into())
}

fn document_aad(audit: AuditId, case: RegistrationNo, sha256: &str, what: &str) -> String {
    format!("audit-document-{what}:{}:{case}:{sha256}", audit.get())
}

/// §8 note on Form 4: the querier attaches a supporting document to a sampled case by the
/// deadline. Checked before anything is stored: the querier, the state and deadline, the
/// case, then the file (no path in the name, not empty, within the size limit, PDF or image
/// by its magic bytes). Stored sealed; the trail has its digest, type and size only.
#[allow(
    clippy::too_many_arguments,
    reason = "one use case: store, keys, settings, actor, audit, case, the file, the operation"
)]
pub async fn attach_document(
    store: &Store,
    keys: &KeyRing,
    settings: &AuditSettings,
    actor: &Person,
    id: AuditId,
    case_no: &str,
    file_name: &str,
    bytes: &[u8],
    op: &Op,
) -> Result<DocumentLine, AuditError> {
    let ev = on_audit(op, AuditAction::AuditDocumentAttached, actor, id)
        .detail("case", case_detail(case_no))
        .detail("size", bytes.len());
    let (audit, _) = load_visible(store, actor, id, &ev).await?;
    let Some(case) = case_of(&audit, case_no) else {
        return refused(store, ev, AuditRefusal::CaseNotSampled).await;
    };
    if let Err(r) = rules::may_attach(&audit, actor.id, case, op.today()) {
        return refused(store, ev, r).await;
    }
    let (kind, name) = match rules::check_document(file_name, bytes, settings.max_attachment_bytes)
    {
        Ok(x) => x,
        Err(r) => return refused(store, ev, r).await,
    };
    let no = audit
        .case(case)
        .map(|c| c.no)
        .ok_or(AuditError::NotFound("抽查案件"))?;
    let sha256 = hex::encode(Sha256::digest(bytes));
    let content = custody::seal(keys, bytes, &document_aad(id, no, &sha256, "content"))?;
    let sealed_name = custody::seal(
        keys,
        name.as_bytes(),
        &document_aad(id, no, &sha256, "name"),
    )?;
    let mut tx = store.begin().await?;
    let doc = tx
        .insert_audit_document(&NewAuditDocument {
            audit: id,
            registration: case,
            content_type: kind.content_type().to_string(),
            size_bytes: bytes.len() as u64,
            sha256: sha256.clone(),
            uploaded_by: actor.id,
            uploaded_at: op.now,
            name: sealed_name,
            content,
        })
        .await?;
    tx.append_audit(
        &ev.detail("document", doc)
            .detail("content_type", kind.content_type())
            .detail("sha256", sha256.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(DocumentLine {
        id: doc,
        case: no,
        file_name: name,
        content_type: kind.content_type().to_string(),
        size_bytes: bytes.len() as u64,
        sha256,
        uploaded_at: op.now,
    })
}

/// An upload the web layer could not even read because it was larger than allowed: refused
/// and audited like any other attachment that is too large; nothing is stored.
pub async fn refuse_oversized_document(
    store: &Store,
    settings: &AuditSettings,
    actor: &Person,
    id: AuditId,
    op: &Op,
) -> Result<(), AuditError> {
    let ev = on_audit(op, AuditAction::AuditDocumentAttached, actor, id);
    refused(
        store,
        ev,
        AuditRefusal::TooLarge(settings.max_attachment_bytes),
    )
    .await
}

/// The querier says the documents are complete: documents close, opinions open.
pub async fn submit_documents(
    store: &Store,
    actor: &Person,
    id: AuditId,
    op: &Op,
) -> Result<UnannouncedAudit, AuditError> {
    let ev = on_audit(op, AuditAction::AuditDocumentsSubmitted, actor, id);
    let (audit, _) = load_visible(store, actor, id, &ev).await?;
    let next = match rules::submit_documents(&audit, actor.id) {
        Ok(s) => s,
        Err(r) => return refused(store, ev, r).await,
    };
    let mut tx = store.begin().await?;
    if !tx.set_audit_state(id, audit.state, next).await? {
        return Err(AuditError::Conflict);
    }
    tx.append_audit(&ev.detail("state", next.code())).await?;
    tx.commit().await?;
    load(store, id).await
}

/// An auditor of this audit records (or amends) the opinion on one sampled case.
pub async fn record_case_opinion(
    store: &Store,
    actor: &Person,
    id: AuditId,
    case_no: &str,
    conforms: bool,
    text: &str,
    op: &Op,
) -> Result<UnannouncedAudit, AuditError> {
    let ev = on_audit(op, AuditAction::AuditFindingRecorded, actor, id)
        .detail("case", case_detail(case_no))
        .detail("conforms", conforms);
    let (audit, _) = load_visible(store, actor, id, &ev).await?;
    let Some(case) = case_of(&audit, case_no) else {
        return refused(store, ev, AuditRefusal::CaseNotSampled).await;
    };
    let may = rules::may_record_case_opinion(&audit, actor.id, case, op.today());
    let (next, text) = checked_opinion(store, &ev, may, text).await?;
    let mut tx = store.begin().await?;
    if audit.state != next && !tx.set_audit_state(id, audit.state, next).await? {
        return Err(AuditError::Conflict);
    }
    let opinion = CaseOpinion {
        conforms,
        text,
        by: actor.id,
    };
    if !tx.set_case_opinion(id, case, &opinion, op.now).await? {
        return Err(AuditError::Conflict);
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    load(store, id).await
}

/// An auditor records the overall opinion (稽核意見) once every case has one; the sign-offs
/// begin. `violation_found` is what a violation case is filed from (§8 ¶2).
pub async fn record_overall_opinion(
    store: &Store,
    actor: &Person,
    id: AuditId,
    violation_found: bool,
    text: &str,
    op: &Op,
) -> Result<UnannouncedAudit, AuditError> {
    let ev = on_audit(op, AuditAction::AuditFindingRecorded, actor, id)
        .detail("scope", "overall")
        .detail("violation_found", violation_found);
    let (audit, _) = load_visible(store, actor, id, &ev).await?;
    let may = rules::may_record_overall(&audit, actor.id);
    let (next, text) = checked_opinion(store, &ev, may, text).await?;
    let opinion = OverallOpinion {
        violation_found,
        text,
        by: actor.id,
    };
    // §8 ¶2: a violation found opens its case at once, against the querier audited, so the
    // ten days for the review report start the day the finding is written down.
    let case = if violation_found {
        let calendar = crate::calendar::current(store).await?;
        Some((calendar, store.grants_of(audit.plan.querier).await?))
    } else {
        None
    };
    let mut tx = store.begin().await?;
    if !tx
        .set_overall_opinion(id, &opinion, op.now, audit.state, next)
        .await?
    {
        return Err(AuditError::Conflict);
    }
    let mut ev = ev;
    if let Some((calendar, grants)) = case {
        let violation = match tx.violation_of_audit(id.get()).await? {
            // One case per finding: recorded again (a retried request), nothing new opens.
            Some(existing) => existing,
            None => {
                let req = FileViolationRequest {
                    person: audit.plan.querier,
                    rule: "§8 不預警稽核發現違規（稽核紀錄表）".into(),
                    evidence: format!("不預警稽核第 {} 號之稽核意見", id.get()),
                    suspend_grants: false,
                    source: ViolationSource::Audit(id.get()),
                };
                insert_case(&mut tx, actor, &req, &grants, &calendar, op)
                    .await?
                    .0
            }
        };
        ev = ev.detail("violation", violation);
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    load(store, id).await
}

/// A Form 4 sign-off, in order: querier, auditor, the querier's unit supervisor, the auditing
/// unit's supervisor. Out of order or by the wrong person: refused, audited, nothing changed.
pub async fn sign_off(
    store: &Store,
    actor: &Person,
    id: AuditId,
    step: SignOffStep,
    op: &Op,
) -> Result<UnannouncedAudit, AuditError> {
    let ev = on_audit(op, AuditAction::AuditSignedOff, actor, id).detail("step", step.code());
    let (audit, who) = load_visible(store, actor, id, &ev).await?;
    let next = match rules::sign_off(&audit, step, actor.id, &who) {
        Ok(s) => s,
        Err(r) => return refused(store, ev, r).await,
    };
    let mut tx = store.begin().await?;
    if !tx.set_audit_state(id, audit.state, next).await? {
        return Err(AuditError::Conflict);
    }
    tx.insert_audit_sign_off(
        id,
        &SignOff {
            step,
            by: actor.id,
            at: op.now,
        },
    )
    .await?;
    tx.append_audit(&ev.detail("state", next.code())).await?;
    tx.commit().await?;
    load(store, id).await
}

/// §8: the director reviews (核閱) the fully signed record; it is read-only afterwards.
pub async fn review(
    store: &Store,
    actor: &Person,
    id: AuditId,
    comment: &str,
    op: &Op,
) -> Result<UnannouncedAudit, AuditError> {
    let ev = on_audit(op, AuditAction::AuditSignedOff, actor, id).detail("step", "director_review");
    let (audit, _) = load_visible(store, actor, id, &ev).await?;
    let checked = rules::director_chair(actor).and_then(|chair| {
        rules::review(&audit, &chair)?;
        rules::optional_text("核閱意見", comment)
    });
    let comment = match checked {
        Ok(c) => c,
        Err(r) => return refused(store, ev, r).await,
    };
    let mut tx = store.begin().await?;
    if !tx
        .set_audit_review(
            id,
            &DirectorReview {
                by: actor.id,
                at: op.now,
                comment,
            },
        )
        .await?
    {
        return Err(AuditError::Conflict);
    }
    tx.append_audit(&ev.detail("state", AuditState::Reviewed.code()))
        .await?;
    tx.commit().await?;
    load(store, id).await
}

/// One audit as `reader` may see it, with its documents' names opened. Refused (audited)
/// for anyone who is neither a party nor of the audit offices nor the director.
pub async fn audit_for(
    store: &Store,
    keys: &KeyRing,
    reader: &Person,
    id: AuditId,
    op: &Op,
) -> Result<AuditView, AuditError> {
    let ev = on_audit(op, AuditAction::AuditViewed, reader, id);
    let (audit, who) = load_visible(store, reader, id, &ev).await?;
    let mut documents = Vec::new();
    for d in store.audit_documents(id).await? {
        let Some(case) = audit.case(d.registration).map(|c| c.no) else {
            continue;
        };
        let name = custody::open(keys, &d.name, &document_aad(id, case, &d.sha256, "name"))?;
        documents.push(DocumentLine {
            id: d.id,
            case,
            file_name: String::from_utf8_lossy(&name).into_owned(),
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            uploaded_at: d.uploaded_at,
        });
    }
    Ok(AuditView {
        draw_repeats: rules::draw_repeats(&audit),
        querier_supervisor: rules::designated_signer(&audit, SignOffStep::QuerierSupervisor, &who),
        auditing_supervisor: rules::designated_signer(
            &audit,
            SignOffStep::AuditingSupervisor,
            &who,
        ),
        audit,
        documents,
    })
}

/// The audits `reader` may see, newest first.
pub async fn audits_for(
    store: &Store,
    reader: &Person,
) -> Result<Vec<UnannouncedAudit>, AuditError> {
    let org = Org::load(store).await?;
    let mut out = Vec::new();
    for a in store.unannounced_audits(None).await? {
        if rules::may_read(&a, reader, &org.signers(&a)).is_ok() {
            out.push(a);
        }
    }
    Ok(out)
}

/// §8: the audits waiting for the director's review (for his dashboard and inbox).
pub async fn awaiting_review(
    store: &Store,
    _chair: &DirectorChair,
) -> Result<Vec<UnannouncedAudit>, AuditError> {
    Ok(store
        .unannounced_audits(Some(AuditState::AwaitingReview))
        .await?)
}

/// The director's review queue for `reader`: refused (and audited) for anyone but the director.
pub async fn review_queue(
    store: &Store,
    reader: &Person,
    op: &Op,
) -> Result<Vec<UnannouncedAudit>, AuditError> {
    match rules::director_chair(reader) {
        Ok(chair) => awaiting_review(store, &chair).await,
        Err(r) => {
            let ev = event(op, AuditAction::AuditViewed, reader, acting_role(reader))
                .on("unannounced_audit", "review_queue");
            refused(store, ev, r).await
        }
    }
}

/// One attached document, opened for `reader` (who must be allowed to read the audit). Each
/// read is audited: the document may carry personal data.
pub async fn document_for(
    store: &Store,
    keys: &KeyRing,
    reader: &Person,
    id: AuditId,
    document: i64,
    op: &Op,
) -> Result<OpenedDocument, AuditError> {
    let ev = on_audit(op, AuditAction::AuditViewed, reader, id).detail("document", document);
    let (audit, _) = load_visible(store, reader, id, &ev).await?;
    let Some((row, content)) = store.audit_document(id, document).await? else {
        crate::audit::record_rule_refusal(store, ev, "audit.not_found").await?;
        return Err(AuditError::NotFound("附件"));
    };
    let case = audit
        .case(row.registration)
        .map(|c| c.no)
        .ok_or(AuditError::NotFound("附件"))?;
    let name = custody::open(
        keys,
        &row.name,
        &document_aad(id, case, &row.sha256, "name"),
    )?;
    let bytes = custody::open(
        keys,
        &content,
        &document_aad(id, case, &row.sha256, "content"),
    )?;
    crate::audit::record(store, &ev.detail("sha256", row.sha256.clone())).await?;
    Ok(OpenedDocument {
        file_name: String::from_utf8_lossy(&name).into_owned(),
        content_type: row.content_type,
        bytes,
    })
}
