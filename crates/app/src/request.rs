//! Requests from other agencies (查調資料申請表, Form 3, §5): a district office (區公所) or
//! subordinate agency files a request with its subjects; the responsible business unit
//! (業務權責單位) reviews it — rejects with an opinion (no legal basis or relevance: not
//! accepted) or accepts and assigns a querier, which creates one Form 2 registration per
//! subject — and records how the results went back (in the system, view-only, or by official
//! document number; never by e-mail or fax).
//!
//! Security-sensitive: subjects are sealed per request (custody) and known to storage and the
//! audit trail only by HMAC. Each use case is one transaction with its audit record(s).

use jiff::Timestamp;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::org::{Person, PersonId, Role, UnitId, UnitKind};
use querywarden_domain::registration::form3::{
    self, Form3Facts, Review, SignOff, Stage, SubjectProgress,
};
use querywarden_domain::registration::{
    self as reg, Origin, Parties, RegistrationError, Relevance, RequestNo, Subject,
};
use querywarden_domain::roc_date::taipei_date;
use querywarden_storage::{NewQueryRequest, QueryRequestRow, RequestState, SignOffRow, WriteTx};

use crate::AppError;
use crate::audit::record_refusal;
use crate::registration::{
    Decided, Denied, Desk, Filing, GrantSource, LineError, PersonChoice, Registered, Stamp, actor,
    event, insert_one, legal_basis, open_subject, roster_on, seal_subject,
};
use querywarden_domain::permission::Roster;
use querywarden_domain::permission::acting::Signer;

/// One subject as listed on Form 3.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestSubjectInput {
    pub name: String,
    pub national_id: String,
    #[serde(default)]
    pub linked_id: Option<String>,
}

/// Form 3 as typed in by the requester.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileRequestInput {
    /// 職稱.
    pub applicant_title: String,
    pub phone: String,
    #[serde(default)]
    pub fax: Option<String>,
    /// The unit asked to query (業務權責單位), e.g. `social-assistance`.
    pub responsible_unit: String,
    pub legal_basis: String,
    pub relevance: String,
    pub items: Vec<String>,
    /// 查調人數 as written on the form; must equal the number of subjects listed.
    pub declared_subject_count: usize,
    pub subjects: Vec<RequestSubjectInput>,
}

fn contact(s: &str, max: usize, what: &'static str) -> Result<String, RegistrationError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(RegistrationError::Contact(what));
    }
    Ok(s.to_string())
}

pub(crate) fn subject_aad(no: RequestNo, position: i64) -> String {
    format!("request-subject:{no}:{position}")
}

/// Form 3's subjects as parsed, in the order listed, and each one that is wrong with its place
/// in the list (1-based), before anything needs the store. Also the entry the `web_request`
/// fuzz target reaches through the form.
#[doc(hidden)]
pub fn parse_subjects(listed: &[RequestSubjectInput]) -> (Vec<Subject>, Vec<LineError>) {
    let mut subjects = Vec::new();
    let mut errors = Vec::new();
    for (i, s) in listed.iter().enumerate() {
        match Subject::parse(&s.name, &s.national_id, s.linked_id.as_deref()) {
            Ok(s) => subjects.push(s),
            Err(error) => errors.push(LineError { line: i + 1, error }),
        }
    }
    (subjects, errors)
}

/// §5: a district office or subordinate agency files Form 3. The subject count must match
/// the list; every subject is validated (errors by position, 1-based); nothing is filed if
/// any is wrong. Audited as `query.request.created` (no subject data).
pub async fn file_request<G: GrantSource>(
    desk: &Desk<'_, G>,
    requester: &Person,
    input: &FileRequestInput,
    now: Timestamp,
    request_id: &str,
) -> Decided<RequestNo> {
    let base = event(
        now,
        AuditAction::RequestCreated,
        request_id,
        actor(requester.id, Role::ExternalRequester),
        "request",
        "-",
    );
    let units = desk.store.units().await?;
    let kind_of = |id: &str| units.iter().find(|u| u.id.as_str() == id).map(|u| u.kind);
    let checked = (|| {
        if !requester.has_role(Role::ExternalRequester)
            || !kind_of(requester.unit.as_str()).is_some_and(UnitKind::is_external)
        {
            return Err(RegistrationError::NotExternalUnit);
        }
        if kind_of(input.responsible_unit.trim()) != Some(UnitKind::BureauSection) {
            return Err(RegistrationError::ResponsibleUnit);
        }
        let title = contact(&input.applicant_title, 40, "職稱")?;
        let phone = contact(&input.phone, 30, "電話")?;
        let fax = match input
            .fax
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            Some(f) => Some(contact(f, 30, "傳真")?),
            None => None,
        };
        let items = input
            .items
            .iter()
            .map(|s| {
                querywarden_domain::catalogue::ServiceItemCode::parse(s)
                    .map_err(|_| RegistrationError::ItemCode)
            })
            .collect::<Result<std::collections::BTreeSet<_>, _>>()?;
        if items.is_empty() {
            return Err(RegistrationError::NoItems);
        }
        // Form 3's note: without relevance the request is not accepted.
        let relevance = Relevance::parse(&input.relevance, &[])?;
        if input.declared_subject_count != input.subjects.len() || input.subjects.is_empty() {
            return Err(RegistrationError::SubjectCount {
                declared: input.declared_subject_count,
                listed: input.subjects.len(),
            });
        }
        Ok((title, phone, fax, items, relevance))
    })();
    let (title, phone, fax, items, relevance) = match checked {
        Ok(v) => v,
        Err(e) => {
            record_refusal(desk.store, base, e.code()).await?;
            return Ok(Err(e.into()));
        }
    };
    let basis = match legal_basis(desk.store, &input.legal_basis).await? {
        Ok(b) => b,
        Err(e) => {
            record_refusal(desk.store, base, e.code()).await?;
            return Ok(Err(e.into()));
        }
    };
    let (subjects, errors) = parse_subjects(&input.subjects);
    if !errors.is_empty() {
        let d = Denied::Batch(errors);
        record_refusal(desk.store, base, d.code()).await?;
        return Ok(Err(d));
    }
    let responsible = querywarden_domain::org::UnitId::new(input.responsible_unit.trim())
        .map_err(|e| AppError::unreadable("responsible unit", e))?;
    let today = taipei_date(now);
    let mut tx = desk.store.begin().await?;
    let seq = tx.next_number("request", today.roc_year()).await?;
    let no = RequestNo::new(today.roc_year(), seq)
        .map_err(|_| AppError::NumberingExhausted { series: "request" })?;
    let id = tx
        .insert_request(&NewQueryRequest {
            no,
            created_at: now,
            date: today,
            requesting_unit: requester.unit.clone(),
            applicant: requester.id,
            applicant_title: title,
            phone,
            fax,
            responsible_unit: responsible,
            legal_basis: basis,
            relevance: relevance.as_str().to_string(),
            items,
            subject_count: subjects.len(),
        })
        .await?;
    for (i, s) in subjects.iter().enumerate() {
        let pos = i64::try_from(i + 1).unwrap_or(i64::MAX);
        let d = desk.keys.subject_digest(s.id());
        let sealed = seal_subject(desk.keys, s, &subject_aad(no, pos))?;
        tx.insert_request_subject(id, pos, &d.hex, &d.key_id, &sealed)
            .await?;
    }
    let mut ev = base.on("request", no.to_string());
    ev = ev.detail("subjects", subjects.len());
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(no))
}

/// The reviewer must be a responsible-unit reviewer of the unit the request went to; §5 ¶3:
/// the request must carry its office supervisor's consent, and the opinion is required
/// whether the unit accepts or refuses.
fn check_reviewer(
    reviewer: &Person,
    r: &QueryRequestRow,
    facts: &Form3Facts,
    opinion: &str,
) -> Result<(), RegistrationError> {
    if !reviewer.has_role(Role::ResponsibleUnitReviewer)
        || reviewer.unit != r.request.responsible_unit
    {
        return Err(RegistrationError::NotAllowed);
    }
    form3::check_review(facts, opinion)
}

/// The facts of request `r` the Form 3 rules judge (§5 ¶3).
pub(crate) fn facts_of(r: &QueryRequestRow, sign_offs: &[SignOffRow]) -> Form3Facts {
    Form3Facts {
        applicant: r.request.applicant,
        requesting_unit: r.request.requesting_unit.clone(),
        responsible_unit: r.request.responsible_unit.clone(),
        review: match r.state {
            RequestState::Submitted => Review::Pending,
            RequestState::Accepted => Review::Accepted,
            RequestState::Rejected => Review::Rejected,
        },
        assigned_querier: r.assigned_querier,
        signed: sign_offs.iter().map(|s| (s.which, s.person)).collect(),
        delivered: r.delivered_at.is_some(),
    }
}

/// How far each subject of request `r` got, in filing order: run (every item of its
/// registration executed), closed with a reason, or open.
async fn progress_of(
    tx: &mut querywarden_storage::WriteTx,
    r: &QueryRequestRow,
) -> Result<Vec<SubjectProgress>, AppError> {
    let closed: Vec<i64> = tx
        .closed_request_subjects(r.id)
        .await?
        .iter()
        .map(|c| c.position)
        .collect();
    let mut out = Vec::new();
    for row in tx.request_subjects(r.id).await? {
        let run = match row.registration {
            Some(id) => tx
                .registration(id)
                .await?
                .is_some_and(|g| g.items.iter().all(|i| g.executed_items.contains(i))),
            None => false,
        };
        out.push(if run {
            SubjectProgress::Run
        } else if closed.contains(&row.position) {
            SubjectProgress::Closed
        } else {
            SubjectProgress::Open
        });
    }
    Ok(out)
}

/// Rejects a request with an opinion (required).
pub async fn reject_request<G: GrantSource>(
    desk: &Desk<'_, G>,
    reviewer: &Person,
    no: RequestNo,
    opinion: &str,
    now: Timestamp,
    request_id: &str,
) -> Decided<()> {
    let base = on_request(
        now,
        AuditAction::RequestRejected,
        request_id,
        actor(reviewer.id, Role::ResponsibleUnitReviewer),
        no,
    );
    let mut tx = desk.store.begin().await?;
    let Some(r) = tx.request_by_no(no).await? else {
        drop(tx);
        return not_found(desk.store, base).await;
    };
    let opinion = opinion.trim();
    let facts = facts_of(&r, &tx.request_sign_offs(r.id).await?);
    let checked = check_reviewer(reviewer, &r, &facts, opinion);
    if let Err(e) = checked {
        tx.append_audit(&base.outcome(Outcome::Refused(e.code().into())))
            .await?;
        tx.commit().await?;
        return Ok(Err(
            hidden(desk.store, now, reviewer, &r, &facts, e.into()).await?
        ));
    }
    reject_in(&mut tx, &r, reviewer.id, now, opinion).await?;
    tx.append_audit(&base).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Accepts a request and assigns a querier of the responsible unit: creates one registration
/// per subject (applicant: the reviewer; needer: the requester; querier: the assignee),
/// approved afterwards by the responsible unit's supervisor like any Form 2 row. Snooping
/// checks run per subject; a blocked subject refuses the whole acceptance (by position).
pub async fn accept_request<G: GrantSource>(
    desk: &Desk<'_, G>,
    reviewer: &Person,
    no: RequestNo,
    querier: &PersonChoice,
    opinion: &str,
    now: Timestamp,
    request_id: &str,
) -> Decided<Vec<Registered>> {
    let base = on_request(
        now,
        AuditAction::RequestAccepted,
        request_id,
        actor(reviewer.id, Role::ResponsibleUnitReviewer),
        no,
    );
    let Some(r) = desk.store.request_by_no(no).await? else {
        return not_found(desk.store, base).await;
    };
    let facts = facts_of(&r, &desk.store.request_sign_offs(r.id).await?);
    let roster = roster_on(desk.store, now).await?;
    if !may_see_request(reviewer, &r, &facts, &roster) {
        record_refusal(desk.store, base, RegistrationError::NotAllowed.code()).await?;
        return Ok(Err(Denied::NotFound));
    }
    let Some(requester) = desk.store.person(r.request.applicant).await? else {
        return Ok(Err(Denied::NotFound));
    };
    // §5 ¶3: the querier assigned must be a person; one the page or the API names wrongly is
    // refused as one who is no querier, audited alike.
    let Some(querier) = querier.person(desk.store, reviewer.id).await? else {
        let e = RegistrationError::QuerierNotQuerier;
        record_refusal(desk.store, base, e.code()).await?;
        return Ok(Err(e.into()));
    };
    let active = desk
        .grants
        .active_items(querier.id, taipei_date(now))
        .await?;
    let checked = check_reviewer(reviewer, &r, &facts, opinion)
        .and_then(|()| reg::check_parties(reviewer, &requester, &querier, Origin::Form3(r.id)))
        .and_then(|unit| {
            if unit != r.request.responsible_unit {
                return Err(RegistrationError::NotSameUnit);
            }
            reg::check_items(&r.request.items, &active)?;
            Ok(unit)
        });
    let approving_unit = match checked {
        Ok(u) => u,
        Err(e) => {
            record_refusal(desk.store, base, e.code()).await?;
            return Ok(Err(e.into()));
        }
    };
    let parties = Parties {
        applicant: reviewer.id,
        needer: requester.id,
        querier: querier.id,
    };
    // §5 ¶1: the responsible unit's supervisor, their deputy, or one above approves.
    let approver = reg::approver_for(&approving_unit, &parties, &roster).map(|s| s.person);
    let filing = request_filing(&r, parties, approving_unit, approver, &querier);
    let mut tx = desk.store.begin().await?;
    let (prepared, errors) = screen_request_subjects(desk, &mut tx, &r, &filing).await?;
    if !errors.is_empty() {
        let d = Denied::Batch(errors);
        tx.append_audit(&base.outcome(Outcome::Refused(d.code().into())))
            .await?;
        tx.commit().await?;
        return Ok(Err(d));
    }
    if !tx
        .review_request(
            r.id,
            RequestState::Accepted,
            reviewer.id,
            now,
            opinion.trim(),
            Some(querier.id),
        )
        .await?
    {
        return Ok(Err(RegistrationError::WrongState(r.state.code()).into()));
    }
    let mut out = Vec::new();
    for (row_id, subject, a) in &prepared {
        let done = insert_one(
            &mut tx,
            desk.keys,
            &filing,
            subject,
            a,
            Stamp {
                now,
                request_id,
                by: actor(reviewer.id, Role::ResponsibleUnitReviewer),
            },
        )
        .await?;
        tx.link_request_subject(*row_id, done.id).await?;
        out.push(done);
    }
    let regs: Vec<String> = out.iter().map(|d| d.no.to_string()).collect();
    tx.append_audit(
        &base
            .detail("querier", querier.id.get())
            .detail("registrations", regs),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(out))
}

/// The filing every subject of an accepted Form 3 request is registered under (§5 ¶3): the
/// request's items, basis and relevance, its number as the case and the batch.
fn request_filing(
    r: &QueryRequestRow,
    parties: Parties,
    approving_unit: UnitId,
    approver: Option<PersonId>,
    querier: &Person,
) -> Filing {
    Filing {
        parties,
        approving_unit,
        approver,
        querier_name: querier.name.clone(),
        items: r.request.items.clone(),
        legal_basis: r.request.legal_basis.clone(),
        relevance: r.request.relevance.clone(),
        case_no: Some(r.request.no.to_string()),
        origin: Origin::Form3(r.id),
        batch: Some(r.request.no.to_string()),
        companion_basis: None,
        no_case_reason: None,
    }
}

/// A screened subject of a request: its row, the subject opened, the snooping assessment.
type ScreenedSubject = (
    i64,
    Subject,
    querywarden_domain::snooping::SnoopingAssessment,
);

/// Opens and screens every subject of the request (§5): the screened subjects, and the
/// positions a snooping check blocks.
async fn screen_request_subjects<G: GrantSource>(
    desk: &Desk<'_, G>,
    tx: &mut WriteTx,
    r: &QueryRequestRow,
    filing: &Filing,
) -> Result<(Vec<ScreenedSubject>, Vec<LineError>), AppError> {
    let rows = tx.request_subjects(r.id).await?;
    let mut prepared = Vec::new();
    let mut errors = Vec::new();
    for row in &rows {
        let subject = open_subject(
            desk.keys,
            &row.sealed,
            &subject_aad(r.request.no, row.position),
        )?;
        let a = desk.assess_subject(filing, &subject).await?;
        if a.blocked_by().is_some() {
            errors.push(LineError {
                line: usize::try_from(row.position).unwrap_or(0),
                error: RegistrationError::SubjectIsParty,
            });
        }
        prepared.push((row.id, subject, a));
    }
    Ok((prepared, errors))
}

/// How the results of an accepted request go back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The requester views them in querywarden (view-only, audited).
    InSystem,
    /// Sent by official document (公文); the document number.
    OfficialDocument(String),
}

/// Records how the results went back to the requester; by the assigned querier or a reviewer
/// of the responsible unit. Audited as `result.delivered`.
pub async fn record_delivery<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &Person,
    no: RequestNo,
    delivery: &Delivery,
    now: Timestamp,
    request_id: &str,
) -> Decided<()> {
    let base = on_request(
        now,
        AuditAction::ResultDelivered,
        request_id,
        actor(who.id, Role::Querier),
        no,
    );
    let mut tx = desk.store.begin().await?;
    let Some(r) = tx.request_by_no(no).await? else {
        drop(tx);
        return not_found(desk.store, base).await;
    };
    let allowed = r.assigned_querier == Some(who.id)
        || (who.has_role(Role::ResponsibleUnitReviewer) && who.unit == r.request.responsible_unit);
    // §5 ¶3: not before every subject has run or been closed, and the request is signed.
    let facts = facts_of(&r, &tx.request_sign_offs(r.id).await?);
    let progress = progress_of(&mut tx, &r).await?;
    let checked = if !allowed {
        Err(RegistrationError::NotAllowed)
    } else if let Err(e) = form3::check_delivery(&facts, &progress) {
        Err(e)
    } else {
        match delivery {
            Delivery::InSystem => Ok(("in_system", None)),
            Delivery::OfficialDocument(d) => {
                contact(d, 60, "公文文號").map(|d| ("official_document", Some(d)))
            }
        }
    };
    let (kind, doc) = match checked {
        Ok(v) => v,
        Err(e) => {
            tx.append_audit(&base.outcome(Outcome::Refused(e.code().into())))
                .await?;
            tx.commit().await?;
            return Ok(Err(
                hidden(desk.store, now, who, &r, &facts, e.into()).await?
            ));
        }
    };
    tx.set_request_delivery(r.id, kind, doc.as_deref(), now)
        .await?;
    let mut ev = base.detail("delivery", kind);
    if let Some(d) = &doc {
        ev = ev.detail("document_no", d.as_str());
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------
// Looking at requests

/// A Form 3 request as shown to its requester, the responsible unit's reviewers, the
/// assigned querier and ethics auditors: the form, its subjects (ID masked) and the
/// registrations it became, with their results' metadata (never content).
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: QueryRequestRow,
    /// (name, masked ID) per subject, in the order filed.
    pub subjects: Vec<(String, String)>,
    pub registrations: Vec<crate::registration::RegistrationSummary>,
    /// Result metadata per registration: (registration, item, destroyed).
    pub results: Vec<(
        querywarden_domain::registration::RegistrationNo,
        querywarden_domain::catalogue::ServiceItemCode,
        bool,
    )>,
    /// §5 ¶3: where it stands, who signed, and which subjects were closed with what reason.
    pub stage: Stage,
    pub sign_offs: Vec<SignOffRow>,
    pub closed: Vec<querywarden_storage::ClosedSubjectRow>,
    /// What the viewer may do now: consent (the office's supervisor), sign (the querier or
    /// the using unit's supervisor).
    pub may_consent: bool,
    pub may_sign: bool,
    /// §5 ¶3: the sign-offs it waits for now, each with whom it waits for (代理 marked) —
    /// the same walk the sign-off itself accepts.
    pub awaited: Vec<(SignOff, Signer)>,
}

/// The audit event of `action` by `by` on request `no`.
fn on_request(
    now: Timestamp,
    action: AuditAction,
    request_id: &str,
    by: Actor,
    no: RequestNo,
) -> AuditEvent {
    event(now, action, request_id, by, "request", no.to_string())
}

async fn not_found<T>(store: &querywarden_storage::Store, ev: AuditEvent) -> Decided<T> {
    record_refusal(store, ev, Denied::NotFound.code()).await?;
    Ok(Err(Denied::NotFound))
}

/// §9: someone who may not see request `r` is answered as for a number that does not exist
/// (the audit record keeps the real reason), so numbers cannot be probed.
async fn hidden(
    store: &querywarden_storage::Store,
    now: Timestamp,
    viewer: &Person,
    r: &QueryRequestRow,
    facts: &Form3Facts,
    d: Denied,
) -> Result<Denied, AppError> {
    let roster = roster_on(store, now).await?;
    Ok(if may_see_request(viewer, r, facts, &roster) {
        d
    } else {
        Denied::NotFound
    })
}

pub(crate) fn may_see_request(
    viewer: &Person,
    r: &QueryRequestRow,
    facts: &Form3Facts,
    roster: &Roster,
) -> bool {
    r.request.applicant == viewer.id
        || r.assigned_querier == Some(viewer.id)
        || (viewer.has_role(Role::ResponsibleUnitReviewer)
            && viewer.unit == r.request.responsible_unit)
        || viewer.has_role(Role::EthicsAuditor)
        || facts.signed.iter().any(|(_, p)| *p == viewer.id)
        || facts
            .applicant_supervisor(roster)
            .is_some_and(|s| s.person == viewer.id)
        || facts
            .using_unit_supervisor(roster)
            .is_some_and(|s| s.person == viewer.id)
}

/// One request, for those entitled to it (see [`RequestView`]). §9: it shows the names and
/// masked IDs of every subject, so each read is audited (one record for the whole list of
/// subjects), and so is each refusal; someone not entitled gets the answer a number that does
/// not exist gets. Results are opened (and audited) one by one.
pub async fn request_view<G: GrantSource>(
    desk: &Desk<'_, G>,
    viewer: &Person,
    no: RequestNo,
    now: Timestamp,
    request_id: &str,
) -> Decided<RequestView> {
    let ev = on_request(
        now,
        AuditAction::RequestViewed,
        request_id,
        actor(viewer.id, Role::Staff),
        no,
    );
    let Some(r) = desk.store.request_by_no(no).await? else {
        record_refusal(desk.store, ev, Denied::NotFound.code()).await?;
        return Ok(Err(Denied::NotFound));
    };
    let sign_offs = desk.store.request_sign_offs(r.id).await?;
    let facts = facts_of(&r, &sign_offs);
    let roster = roster_on(desk.store, now).await?;
    if !may_see_request(viewer, &r, &facts, &roster) {
        record_refusal(desk.store, ev, RegistrationError::NotAllowed.code()).await?;
        return Ok(Err(Denied::NotFound));
    }
    let rows = {
        let mut tx = desk.store.begin().await?;
        let rows = tx.request_subjects(r.id).await?;
        tx.append_audit(&ev.detail("subjects", rows.len())).await?;
        tx.commit().await?;
        rows
    };
    let mut subjects = Vec::with_capacity(rows.len());
    for row in &rows {
        // §6: past the record's keeping period only the masked forms remain.
        if let Some((name, id)) = &row.destroyed {
            subjects.push((name.clone(), id.clone()));
            continue;
        }
        let s = open_subject(desk.keys, &row.sealed, &subject_aad(no, row.position))?;
        subjects.push((s.name().to_string(), s.id().masked()));
    }
    let regs = desk
        .store
        .registrations(&querywarden_storage::RegistrationFilter {
            request: Some(r.id),
            ..Default::default()
        })
        .await?;
    let mut results = Vec::new();
    for g in &regs {
        for res in desk.store.results_of(g.id).await? {
            results.push((g.no, res.item, res.destroyed_at.is_some()));
        }
    }
    Ok(Ok(RequestView {
        stage: facts.stage(),
        may_consent: form3::check_consent(&facts, viewer.id, &roster).is_ok(),
        may_sign: form3::check_sign(&facts, viewer.id, &roster).is_ok(),
        awaited: facts.awaited_sign_offs(&roster),
        closed: desk.store.closed_request_subjects(r.id).await?,
        sign_offs,
        request: r,
        subjects,
        registrations: regs.iter().map(crate::registration::summary).collect(),
        results,
    }))
}

/// The requests a person filed, and (for responsible-unit reviewers) those addressed to
/// their unit, newest first.
pub async fn requests_of<G: GrantSource>(
    desk: &Desk<'_, G>,
    person: &Person,
) -> Result<Vec<QueryRequestRow>, AppError> {
    let mut out = desk.store.requests(None, Some(person.id), None).await?;
    if person.has_role(Role::ResponsibleUnitReviewer) {
        for r in desk.store.requests(Some(&person.unit), None, None).await? {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r);
            }
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.id));
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Sign-offs and closing subjects (§5 ¶3)

/// The office supervisor's decision on a request (申請人單位主管核章).
#[derive(Debug, Clone, Copy)]
pub enum Consent<'a> {
    /// 同意: the request goes on to the responsible unit.
    Give,
    /// 不同意, with the reason shown to the applicant; the request ends.
    Refuse(&'a str),
}

/// Audits a refused sign-off in the transaction and answers the refusal.
async fn refuse_in(
    mut tx: querywarden_storage::WriteTx,
    ev: querywarden_domain::audit_event::AuditEvent,
    e: RegistrationError,
) -> Decided<Stage> {
    tx.append_audit(&ev.outcome(Outcome::Refused(e.code().into())))
        .await?;
    tx.commit().await?;
    Ok(Err(e.into()))
}

/// A Form 3 request opened for a sign-off (§5 ¶3) inside its write transaction: its facts
/// and the day's roster.
struct Opened {
    tx: querywarden_storage::WriteTx,
    r: QueryRequestRow,
    facts: Form3Facts,
    roster: Roster,
}

/// Opens request `no` for `who` and checks the step they take on it with `check`: the
/// request with what `check` gave, or the answer when there is no such request or the check
/// refuses (audited as `ev`'s refusal in the transaction; hidden as a missing number from
/// whoever may not see the request).
async fn open_request<T>(
    store: &querywarden_storage::Store,
    who: &Person,
    no: RequestNo,
    now: Timestamp,
    ev: &AuditEvent,
    check: impl FnOnce(&Opened) -> Result<T, RegistrationError>,
) -> Result<Result<(Opened, T), Result<Stage, Denied>>, AppError> {
    let roster = roster_on(store, now).await?;
    let mut tx = store.begin().await?;
    let Some(r) = tx.request_by_no(no).await? else {
        return Ok(Err(missing_in(tx, ev.clone()).await?));
    };
    let facts = facts_of(&r, &tx.request_sign_offs(r.id).await?);
    let visible = may_see_request(who, &r, &facts, &roster);
    let opened = Opened {
        tx,
        r,
        facts,
        roster,
    };
    match check(&opened) {
        Ok(t) => Ok(Ok((opened, t))),
        Err(e) => Ok(Err(refuse_hidden(opened.tx, ev.clone(), e, visible).await?)),
    }
}

/// Rejects request `r` (or refuses it before review) with `reason`; the refusal reaches the
/// applicant's inbox.
async fn reject_in(
    tx: &mut WriteTx,
    r: &QueryRequestRow,
    by: PersonId,
    now: Timestamp,
    reason: &str,
) -> Result<(), AppError> {
    tx.review_request(r.id, RequestState::Rejected, by, now, reason, None)
        .await?;
    tx.insert_notice(
        r.request.applicant,
        "request.rejected",
        &format!("request:{}", r.request.no),
        now,
    )
    .await?;
    Ok(())
}

/// Records `signer`'s sign-off `which` of request `r`.
async fn sign_off_in(
    tx: &mut WriteTx,
    r: &QueryRequestRow,
    which: SignOff,
    signer: Signer,
    now: Timestamp,
) -> Result<(), AppError> {
    let row = SignOffRow {
        which,
        person: signer.person,
        at: now,
        acting: signer.acting,
        acting_for: signer.acting_for,
    };
    tx.insert_request_sign_off(r.id, &row).await?;
    Ok(())
}

/// §9: a refusal of someone who may not see the request is answered as for a number that
/// does not exist (the trail keeps the real reason), so numbers cannot be probed.
async fn refuse_hidden(
    tx: querywarden_storage::WriteTx,
    ev: querywarden_domain::audit_event::AuditEvent,
    e: RegistrationError,
    visible: bool,
) -> Decided<Stage> {
    match refuse_in(tx, ev, e).await? {
        Err(_) if !visible => Ok(Err(Denied::NotFound)),
        other => Ok(other),
    }
}

/// A number that does not exist (or a position past the list), audited like any refusal.
async fn missing_in(
    mut tx: querywarden_storage::WriteTx,
    ev: querywarden_domain::audit_event::AuditEvent,
) -> Decided<Stage> {
    tx.append_audit(&ev.outcome(Outcome::Refused(Denied::NotFound.code().into())))
        .await?;
    tx.commit().await?;
    Ok(Err(Denied::NotFound))
}

/// §5 ¶3: the requesting office's supervisor (or their deputy, 代理) consents before the
/// request reaches the bureau, or refuses it with a reason (which reaches the applicant's
/// inbox). Audited as `query.request.consented`, refusals too.
pub async fn consent_request<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &Person,
    no: RequestNo,
    consent: Consent<'_>,
    now: Timestamp,
    request_id: &str,
) -> Decided<Stage> {
    let ev = on_request(
        now,
        AuditAction::RequestConsented,
        request_id,
        actor(who.id, Role::UnitSupervisor),
        no,
    );
    let check = |o: &Opened| form3::check_consent(&o.facts, who.id, &o.roster);
    let (Opened { mut tx, r, .. }, signer) =
        match open_request(desk.store, who, no, now, &ev, check).await? {
            Ok(x) => x,
            Err(answer) => return Ok(answer),
        };
    let ev = ev.detail("acting", signer.acting);
    match consent {
        Consent::Give => {
            sign_off_in(&mut tx, &r, SignOff::ApplicantSupervisor, signer, now).await?;
            tx.append_audit(&ev.detail("decision", "consent")).await?;
            tx.commit().await?;
            Ok(Ok(Stage::AwaitingReview))
        }
        Consent::Refuse(reason) => {
            let reason = reason.trim();
            if reason.is_empty() {
                return refuse_in(tx, ev, RegistrationError::CommentRequired).await;
            }
            reject_in(&mut tx, &r, who.id, now, reason).await?;
            tx.append_audit(&ev.detail("decision", "refuse")).await?;
            tx.commit().await?;
            Ok(Ok(Stage::Rejected))
        }
    }
}

/// §5 ¶3: the assigned querier, or the using unit's supervisor (or their deputy, 代理), signs
/// the request itself once it is accepted. Audited as `query.request.signed`, refusals too.
pub async fn sign_request<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &Person,
    no: RequestNo,
    now: Timestamp,
    request_id: &str,
) -> Decided<Stage> {
    let ev = on_request(
        now,
        AuditAction::RequestSigned,
        request_id,
        actor(who.id, Role::Staff),
        no,
    );
    let check = |o: &Opened| form3::check_sign(&o.facts, who.id, &o.roster);
    let (Opened { mut tx, r, .. }, (which, signer)) =
        match open_request(desk.store, who, no, now, &ev, check).await? {
            Ok(x) => x,
            Err(answer) => return Ok(answer),
        };
    sign_off_in(&mut tx, &r, which, signer, now).await?;
    tx.append_audit(
        &ev.detail("as", which.code())
            .detail("acting", signer.acting),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Stage::InProgress))
}

/// §5 ¶3: the assigned querier or a reviewer of the responsible unit closes one subject
/// (by its position on the form, from 1) without a query, with a reason, so the request can
/// be delivered. Audited as `query.request.subject_closed`, refusals too.
pub async fn close_subject<G: GrantSource>(
    desk: &Desk<'_, G>,
    who: &Person,
    no: RequestNo,
    position: i64,
    reason: &str,
    now: Timestamp,
    request_id: &str,
) -> Decided<Stage> {
    let ev = on_request(
        now,
        AuditAction::RequestSubjectClosed,
        request_id,
        actor(who.id, Role::Querier),
        no,
    )
    .detail("position", position);
    let check = |o: &Opened| {
        let r = &o.r.request;
        let allowed = o.r.assigned_querier == Some(who.id)
            || (who.has_role(Role::ResponsibleUnitReviewer) && who.unit == r.responsible_unit);
        allowed.then_some(()).ok_or(RegistrationError::NotAllowed)
    };
    let (
        Opened {
            mut tx, r, facts, ..
        },
        (),
    ) = match open_request(desk.store, who, no, now, &ev, check).await? {
        Ok(x) => x,
        Err(answer) => return Ok(answer),
    };
    let progress = progress_of(&mut tx, &r).await?;
    let at = usize::try_from(position)
        .ok()
        .and_then(|p| p.checked_sub(1))
        .and_then(|i| progress.get(i).copied());
    let Some(this) = at else {
        return missing_in(tx, ev).await;
    };
    if let Err(e) = form3::check_close_subject(&facts, this, reason) {
        return refuse_in(tx, ev, e).await;
    }
    if !tx
        .close_request_subject(r.id, position, who.id, now, reason.trim())
        .await?
    {
        return refuse_in(tx, ev, RegistrationError::SubjectNotOpen).await;
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(Stage::InProgress))
}

/// Form 3 requests waiting for `person`'s consent or signature (§5 ¶3), newest first.
pub async fn requests_to_sign(
    store: &querywarden_storage::Store,
    person: &Person,
    now: Timestamp,
) -> Result<Vec<QueryRequestRow>, AppError> {
    let roster = roster_on(store, now).await?;
    let mut out = Vec::new();
    for state in [RequestState::Submitted, RequestState::Accepted] {
        for r in store.requests(None, None, Some(state)).await? {
            let facts = facts_of(&r, &store.request_sign_offs(r.id).await?);
            if form3::check_consent(&facts, person.id, &roster).is_ok()
                || form3::check_sign(&facts, person.id, &roster).is_ok()
            {
                out.push(r);
            }
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.id));
    Ok(out)
}
