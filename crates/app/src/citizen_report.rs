//! A citizen's access report (個人資料保護法 §3, §10, §13): recording the request, extending
//! its deadline once, §10 withholding marks, producing the report with its proof appendix, and
//! recording the answer.
//!
//! Security-sensitive. The subject's national ID is sealed (custody) and kept as its digest;
//! the report is found through the digest under every HMAC key ever used, so key rotation does
//! not hide older records. The report lists what the bureau did — never result data. Each use
//! case is one transaction with its audit record; refusals are audited with their rule code.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, SubjectDigest};
use querywarden_domain::citizen_report::{
    CitizenReportError, CitizenRequest, EntryKind, IdentityCheck, StaffShown, Withholding,
};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::registration::RegistrationNo;
use querywarden_domain::roc_date::{RocDate, format_taipei_datetime, taipei_date};
use querywarden_storage::{CitizenRequestRow, NewCitizenRequest, Store, WithholdingRow};
use serde::Serialize;

use crate::AppError;
use crate::audit::export::export;
use crate::config::RawAudit;
use crate::custody;
use crate::keys::KeyRing;

pub mod deadlines;
pub mod desk;
pub mod door;
pub mod identity;
pub mod self_service;

pub use identity::SignedRequest;

/// Why a citizen-report use case was refused. Messages never carry the subject's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Rule(#[from] CitizenReportError),
    #[error("{0}")]
    NationalId(querywarden_domain::NationalIdError),
    #[error("您沒有此項權限")]
    NotAllowed,
    #[error("查無此申請")]
    UnknownRequest,
    #[error("查無此查調登記")]
    UnknownRegistration,
    #[error("此查調登記已標記暫不揭露")]
    AlreadyWithheld,
    #[error("{0}")]
    Date(querywarden_domain::roc_date::RocDateError),
    #[error("嘗試次數過多，請稍後再試")]
    RateLimited,
    #[error("簽章挑戰已失效或已使用，請重新整理頁面後再試")]
    Challenge,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rule(e) => e.code(),
            Self::NationalId(e) => e.code(),
            Self::NotAllowed => "citizen_report.not_allowed",
            Self::UnknownRequest => "citizen_report.unknown_request",
            Self::UnknownRegistration => "citizen_report.unknown_registration",
            Self::AlreadyWithheld => "citizen_report.already_withheld",
            Self::Date(e) => e.code(),
            Self::RateLimited => "citizen_report.rate_limited",
            Self::Challenge => "citizen_report.challenge",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Rule(e) => e.message_en(),
            Self::NationalId(e) => e.message_en(),
            Self::NotAllowed => "you do not have this permission".into(),
            Self::UnknownRequest => "no such request".into(),
            Self::UnknownRegistration => "no such registration".into(),
            Self::AlreadyWithheld => "this registration is already withheld".into(),
            Self::Date(e) => e.message_en(),
            Self::RateLimited => "too many attempts; try again later".into(),
            Self::Challenge => {
                "the signing challenge has expired or was used; reload the page and try again"
                    .into()
            }
        }
    }
}

/// What the caller did it for: the time, the operation id, and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub now: Timestamp,
    pub request_id: &'a str,
}

fn actor(p: &Person, role: Role) -> Actor {
    Actor {
        person: p.id,
        role: Some(role),
    }
}

fn event(stamp: Stamp<'_>, action: AuditAction, by: Actor, object: &str, id: &str) -> AuditEvent {
    AuditEvent::system(stamp.now, action, stamp.request_id)
        .by(by)
        .on(object, id)
}

/// The audit event of the personal-data contact's `action` on citizen request `id`.
fn contact_event(stamp: Stamp<'_>, action: AuditAction, contact: &Person, id: &str) -> AuditEvent {
    let by = actor(contact, Role::PersonalDataContact);
    event(stamp, action, by, "citizen_request", id)
}

/// The event of `action` by `contact` on citizen request `id`, if they are the personal-data
/// contact (個人資料保護聯絡窗口); anyone else is refused, audited.
pub(super) async fn as_contact(
    store: &Store,
    stamp: Stamp<'_>,
    action: AuditAction,
    contact: &Person,
    id: &str,
) -> Result<Result<AuditEvent, Refusal>, AppError> {
    let ev = contact_event(stamp, action, contact, id);
    if !contact.has_role(Role::PersonalDataContact) {
        return refuse(store, ev, Refusal::NotAllowed).await;
    }
    Ok(Ok(ev))
}

async fn refuse<T>(
    store: &Store,
    e: AuditEvent,
    r: Refusal,
) -> Result<Result<T, Refusal>, AppError> {
    crate::audit::record_refusal(store, e, r.code()).await?;
    Ok(Err(r))
}

/// Input the web could not turn into the use case's types (a date that is no date): refused
/// and audited as a refusal of `action` by `person` in `role`, like every other refusal.
#[allow(clippy::too_many_arguments)]
pub async fn refuse_input(
    store: &Store,
    person: &Person,
    role: Role,
    action: AuditAction,
    object: (&str, &str),
    refusal: Refusal,
    stamp: Stamp<'_>,
) -> Result<Refusal, AppError> {
    let base = event(stamp, action, actor(person, role), object.0, object.1);
    Ok(refuse::<()>(store, base, refusal)
        .await?
        .err()
        .unwrap_or(Refusal::NotAllowed))
}

/// A citizen request's number as the desk gives it (`115-000001`: ROC year, dash, six
/// digits). Parsed at the edge so a path segment that is no number never reaches storage or a
/// file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CitizenRequestNo(String);

impl CitizenRequestNo {
    pub fn parse(s: &str) -> Result<Self, Refusal> {
        let s = s.trim();
        let ok = s.split_once('-').is_some_and(|(y, n)| {
            (2..=4).contains(&y.len())
                && n.len() == 6
                && y.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit())
        });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(Refusal::UnknownRequest)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CitizenRequestNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn subject_aad(no: &str) -> String {
    format!("citizen-request-subject:{no}")
}

/// A citizen's request as the contact officer types it.
#[derive(Debug, Clone)]
pub struct RequestInput {
    pub national_id: String,
    /// `in_person_id_card` or `moica_signed`; anything else is "no identity check".
    pub identity_check: Option<String>,
    pub asked: String,
    pub received: RocDate,
    /// With `moica_signed`: the request text and the citizen's card signature over it.
    pub signed: Option<SignedRequest>,
}

/// Records a request (role: 個人資料保護聯絡窗口). Returns its number, e.g. `115-000001`.
/// `auth` holds the trust anchors a MOICA-signed request is verified against.
#[allow(clippy::too_many_arguments)]
pub async fn record_request(
    store: &Store,
    keys: &KeyRing,
    auth: Option<&crate::auth::AuthContext>,
    cal: &HolidayCalendar,
    contact: &Person,
    input: &RequestInput,
    stamp: Stamp<'_>,
) -> Result<Result<String, Refusal>, AppError> {
    let action = AuditAction::CitizenRequestRecorded;
    let base = match as_contact(store, stamp, action, contact, "-").await? {
        Ok(ev) => ev,
        Err(r) => return Ok(Err(r)),
    };
    let id = match NationalId::parse(&input.national_id) {
        Ok(id) => id,
        Err(e) => return refuse(store, base, Refusal::NationalId(e)).await,
    };
    let mut base = base;
    base.subject = Some(keys.subject_digest(&id));
    let request = match CitizenRequest::new(
        input.identity_check.as_deref(),
        &input.asked,
        input.received,
        cal,
    ) {
        Ok(r) => r,
        Err(e) => return refuse(store, base, e.into()).await,
    };
    // §10: a signed request proves identity only if it verifies and the card is the subject's.
    let signer = match request.identity {
        IdentityCheck::MoicaSigned => {
            match identity::verify(auth, input.signed.as_ref(), &id, stamp.now) {
                Ok(fp) => Some(fp),
                Err(e) => return refuse(store, base, e.into()).await,
            }
        }
        IdentityCheck::InPersonIdCard => None,
    };
    let today = taipei_date(stamp.now);
    let mut tx = store.begin().await?;
    let seq = tx.next_number("citizen_request", today.roc_year()).await?;
    let no = format!("{}-{seq:06}", today.roc_year());
    let digest = keys.subject_digest(&id);
    let json = serde_json::json!({ "id": id.expose_whole() });
    let bytes = serde_json::to_vec(&json).map_err(AppError::encode("sealed subject"))?;
    let sealed = custody::seal(keys, &bytes, &subject_aad(&no))?;
    tx.insert_citizen_request(&NewCitizenRequest {
        request_no: no.clone(),
        received_on: request.received,
        created_at: stamp.now.to_string(),
        recorded_by: contact.id,
        subject_digest: digest.hex.clone(),
        subject_key_id: digest.key_id.clone(),
        subject: sealed,
        identity_check: request.identity.code().to_string(),
        asked: request.asked.clone(),
        due_on: request.deadline.due,
        signer_sha256: signer.clone(),
    })
    .await?;
    let mut ev = base
        .on("citizen_request", no.clone())
        .detail("identity_check", request.identity.code())
        .detail("received_on", request.received.civil().to_string())
        .detail("due_on", request.deadline.due.civil().to_string());
    if let Some(fp) = &signer {
        // The certificate's fingerprint identifies the card, not the person's data.
        ev = ev.detail("signer_certificate", &fp[..16]);
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(no))
}

fn domain_deadline(r: &CitizenRequestRow) -> querywarden_domain::citizen_report::Deadline {
    querywarden_domain::citizen_report::Deadline {
        due: r.due_on,
        extension: r.extension_reason.as_ref().map(|reason| {
            querywarden_domain::citizen_report::Extension {
                reason: reason.clone(),
                previous_due: r.previous_due_on.unwrap_or(r.due_on),
            }
        }),
    }
}

/// §13 I: extends the decision period once, with a reason. Returns the new last day.
pub async fn extend(
    store: &Store,
    cal: &HolidayCalendar,
    contact: &Person,
    request_no: &str,
    reason: &str,
    stamp: Stamp<'_>,
) -> Result<Result<RocDate, Refusal>, AppError> {
    let action = AuditAction::CitizenRequestExtended;
    let base = match as_contact(store, stamp, action, contact, request_no).await? {
        Ok(ev) => ev,
        Err(r) => return Ok(Err(r)),
    };
    let mut tx = store.begin().await?;
    let Some(row) = tx.citizen_request(request_no).await? else {
        drop(tx);
        return refuse(store, base, Refusal::UnknownRequest).await;
    };
    let extended = match domain_deadline(&row).extend(reason, cal) {
        Ok(d) => d,
        Err(e) => {
            drop(tx);
            return refuse(store, base, e.into()).await;
        }
    };
    let Some(ext) = &extended.extension else {
        return Err(AppError::Inconsistent {
            what: "extension without record",
        });
    };
    if !tx
        .extend_citizen_request(row.id, extended.due, ext.previous_due, &ext.reason)
        .await?
    {
        drop(tx);
        return refuse(store, base, CitizenReportError::SecondExtension.into()).await;
    }
    let mut ev = base
        .detail("previous_due_on", ext.previous_due.civil().to_string())
        .detail("due_on", extended.due.civil().to_string());
    ev.subject = Some(SubjectDigest {
        key_id: row.subject_key_id.clone(),
        hex: row.subject_digest.clone(),
    });
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(extended.due))
}

/// §10 exception: a supervisor of the registration's approving unit marks it "disclose from
/// DATE" with a reason. Marks are kept; nothing else can be left out of a report.
pub async fn withhold(
    store: &Store,
    supervisor: &Person,
    registration_no: &str,
    disclose_on: Option<RocDate>,
    reason: &str,
    stamp: Stamp<'_>,
) -> Result<Result<(), Refusal>, AppError> {
    let by = actor(supervisor, Role::UnitSupervisor);
    let base = event(
        stamp,
        AuditAction::RegistrationWithheld,
        by,
        "registration",
        registration_no,
    );
    let reg = match RegistrationNo::parse(registration_no) {
        Ok(no) => store.registration_by_no(no).await?,
        Err(_) => None,
    };
    let Some(reg) = reg else {
        return refuse(store, base, Refusal::UnknownRegistration).await;
    };
    if !supervisor.has_role(Role::UnitSupervisor) || supervisor.unit != reg.approving_unit {
        return refuse(store, base, Refusal::NotAllowed).await;
    }
    let mark = match Withholding::new(disclose_on, reason, taipei_date(stamp.now)) {
        Ok(m) => m,
        Err(e) => return refuse(store, base, e.into()).await,
    };
    let mut tx = store.begin().await?;
    if tx.withholding_of(reg.id.get()).await?.is_some() {
        drop(tx);
        return refuse(store, base, Refusal::AlreadyWithheld).await;
    }
    tx.insert_withholding(
        reg.id.get(),
        mark.disclose_on,
        &mark.reason,
        supervisor.id,
        &stamp.now.to_string(),
    )
    .await?;
    // The reason stays in the table, readable by the ethics office; the trail keeps the date.
    let mut ev = base.detail("disclose_on", mark.disclose_on.civil().to_string());
    ev.subject = Some(SubjectDigest {
        key_id: reg.subject_key_id.clone(),
        hex: reg.subject_digest.clone(),
    });
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Every withholding mark, for the ethics office (政風室) only; the listing is audited.
pub async fn withholdings(
    store: &Store,
    auditor: &Person,
    stamp: Stamp<'_>,
) -> Result<Result<Vec<WithholdingRow>, Refusal>, AppError> {
    let by = actor(auditor, Role::EthicsAuditor);
    let base = event(
        stamp,
        AuditAction::WithholdingsListed,
        by,
        "withholding",
        "*",
    );
    if !auditor.has_role(Role::EthicsAuditor) {
        return refuse(store, base, Refusal::NotAllowed).await;
    }
    let marks = store.withholdings().await?;
    crate::audit::record(store, &base.detail("marks", marks.len())).await?;
    Ok(Ok(marks))
}

/// One line of the report: what was done, when, by which unit, on what basis, with what
/// outcome. Never result data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportEntry {
    /// The audit record's sequence number (its proof is in the appendix).
    pub seq: u64,
    /// 民國 年 月 日 時:分, Asia/Taipei.
    pub at: String,
    pub kind: EntryKind,
    pub action: String,
    /// `registration` / `request` and its number.
    pub object: String,
    pub unit: String,
    /// Only when the configuration shows staff names.
    pub staff: Option<String>,
    pub legal_basis: Option<String>,
    pub case_no: Option<String>,
    pub items: Vec<String>,
    /// `succeeded`, `refused:<rule>` or `failed:<code>`.
    pub outcome: String,
}

/// Proof for one entry: a one-record audit export, verifiable offline against `checkpoint`
/// with `querywarden audit verify --export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryProof {
    pub seq: u64,
    pub export: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofAppendix {
    /// The latest signed checkpoint (C2SP signed note) the proofs are against.
    pub checkpoint: String,
    pub tree_size: u64,
    pub entries: Vec<EntryProof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitizenReport {
    pub request_no: String,
    pub produced_on: RocDate,
    pub due_on: RocDate,
    pub entries: Vec<ReportEntry>,
    /// How many entries §10 withholding left out today: for the contact officer only, never
    /// serialised into what the citizen receives. Telling the citizen "n entries are withheld"
    /// would tell a person under a child-protection or domestic-violence inquiry that one is
    /// running, which is exactly what the §10 exception protects (see
    /// docs/citizen-report.md, "Withheld entries").
    #[serde(skip)]
    pub withheld: usize,
    pub appendix: ProofAppendix,
    /// The subject's national ID, masked, for the reply letter's addressee line; not in the
    /// JSON (the ID never travels where it is not needed).
    #[serde(skip)]
    pub subject_masked: String,
}

/// Produces the report for a recorded request (role: 個人資料保護聯絡窗口). Writes a checkpoint
/// first if the newest does not cover every entry, so each entry has an inclusion proof.
#[allow(clippy::too_many_arguments)]
pub async fn produce_report(
    store: &Store,
    keys: &KeyRing,
    audit_policy: &RawAudit,
    contact: &Person,
    request_no: &str,
    staff_shown: StaffShown,
    stamp: Stamp<'_>,
) -> Result<Result<CitizenReport, Refusal>, AppError> {
    let action = AuditAction::CitizenReportProduced;
    let base = match as_contact(store, stamp, action, contact, request_no).await? {
        Ok(ev) => ev,
        Err(r) => return Ok(Err(r)),
    };
    let Some(row) = store.citizen_request(request_no).await? else {
        return refuse(store, base, Refusal::UnknownRequest).await;
    };
    let blob = store
        .citizen_request_subject(row.id)
        .await?
        .ok_or(AppError::Inconsistent {
            what: "citizen request without subject",
        })?;
    let bytes = custody::open(keys, &blob, &subject_aad(request_no))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| AppError::from(custody::CustodyError::Open))?;
    let id = NationalId::parse(v.get("id").and_then(|x| x.as_str()).unwrap_or_default())
        .map_err(|_| AppError::from(custody::CustodyError::Open))?;
    let today = taipei_date(stamp.now);
    let (entries, withheld, appendix) =
        gather(store, keys, audit_policy, &id, staff_shown, stamp.now).await?;
    let mut tx = store.begin().await?;
    let mut ev = base
        .detail("entries", entries.len())
        .detail("withheld", withheld)
        .detail("tree_size", appendix.tree_size);
    ev.subject = Some(SubjectDigest {
        key_id: row.subject_key_id.clone(),
        hex: row.subject_digest.clone(),
    });
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(CitizenReport {
        request_no: row.request_no,
        produced_on: today,
        due_on: row.due_on,
        entries,
        withheld,
        appendix,
        subject_masked: id.masked(),
    }))
}

/// What a report lists about `id` today: the entries, how many §10 withholding left out, and
/// the proof appendix (a checkpoint is written first if the newest does not cover every entry).
pub(crate) async fn gather(
    store: &Store,
    keys: &KeyRing,
    audit_policy: &RawAudit,
    id: &NationalId,
    staff_shown: StaffShown,
    now: Timestamp,
) -> Result<(Vec<ReportEntry>, usize, ProofAppendix), AppError> {
    let digests: Vec<String> = keys
        .subject_digests_all(id)
        .into_iter()
        .map(|d| d.hex)
        .collect();
    let today = taipei_date(now);
    let records = store.audit_records_of_subject(&digests).await?;
    let marks: HashMap<String, Withholding> = store
        .withholdings()
        .await?
        .into_iter()
        .map(|w| {
            (
                w.registration_no,
                Withholding {
                    disclose_on: w.disclose_on,
                    reason: w.reason,
                },
            )
        })
        .collect();
    let persons: HashMap<_, _> = store
        .persons()
        .await?
        .into_iter()
        .map(|p| (p.id.get(), p))
        .collect();
    let units: HashMap<_, _> = store
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name_zh))
        .collect();
    let mut regs = BTreeMap::new();
    let mut entries = Vec::new();
    let mut withheld = 0;
    for r in records {
        let Some(kind) = AuditAction::parse_code(&r.action).and_then(EntryKind::from_action) else {
            continue;
        };
        let is_reg = r.object_type == "registration";
        // §10: a marked registration (and what was done under it) stays out until its date.
        if is_reg
            && marks
                .get(&r.object_id)
                .is_some_and(|m| m.withholds_on(today))
        {
            withheld += 1;
            continue;
        }
        let reg = if is_reg {
            if !regs.contains_key(&r.object_id) {
                let found = match RegistrationNo::parse(&r.object_id) {
                    Ok(no) => store.registration_by_no(no).await?,
                    Err(_) => None,
                };
                regs.insert(r.object_id.clone(), found);
            }
            regs.get(&r.object_id).and_then(Option::as_ref)
        } else {
            None
        };
        let person = r.actor_person_id.and_then(|p| persons.get(&p));
        let unit = person
            .map(|p| {
                units
                    .get(&p.unit)
                    .cloned()
                    .unwrap_or_else(|| p.unit.to_string())
            })
            .unwrap_or_else(|| "系統".to_string());
        let at =
            r.at.parse::<Timestamp>()
                .map(format_taipei_datetime)
                .unwrap_or_else(|_| r.at.clone());
        entries.push(ReportEntry {
            seq: r.seq,
            at,
            kind,
            action: r.action.clone(),
            object: format!("{} {}", r.object_type, r.object_id),
            unit,
            staff: match staff_shown {
                StaffShown::NameAndUnit => person.map(|p| p.name.clone()),
                StaffShown::UnitOnly => None,
            },
            legal_basis: reg.map(|g| g.legal_basis.as_str().to_string()),
            case_no: reg.and_then(|g| g.case_no.clone()),
            items: reg
                .map(|g| g.items.iter().map(|i| i.as_str().to_string()).collect())
                .unwrap_or_default(),
            outcome: r.outcome.clone(),
        });
    }
    let appendix = proof_appendix(store, keys, audit_policy, &entries, now).await?;
    Ok((entries, withheld, appendix))
}

/// §10: every entry of the report carries its inclusion proof against one signed checkpoint
/// that covers them all (made now if the latest does not).
async fn proof_appendix(
    store: &Store,
    keys: &KeyRing,
    audit_policy: &RawAudit,
    entries: &[ReportEntry],
    now: Timestamp,
) -> Result<ProofAppendix, AppError> {
    let last = entries.iter().map(|e| e.seq).max().unwrap_or(0);
    let covered = store
        .latest_checkpoint()
        .await?
        .is_some_and(|c| c.size >= last);
    if !covered {
        crate::audit::checkpoint_if_due(store, keys, audit_policy, now, true).await?;
    }
    let checkpoint = store
        .latest_checkpoint()
        .await?
        .ok_or(AppError::Inconsistent {
            what: "no audit checkpoint",
        })?;
    let mut proofs = Vec::with_capacity(entries.len());
    for e in entries {
        // One-record exports reuse the audit export's proofs and its offline verifier.
        proofs.push(EntryProof {
            seq: e.seq,
            export: export(store, e.seq, e.seq).await?,
        });
    }
    Ok(ProofAppendix {
        checkpoint: checkpoint.note,
        tree_size: checkpoint.size,
        entries: proofs,
    })
}

/// Records that the bureau answered the citizen, with the date.
pub async fn answer(
    store: &Store,
    contact: &Person,
    request_no: &str,
    stamp: Stamp<'_>,
) -> Result<Result<RocDate, Refusal>, AppError> {
    let action = AuditAction::CitizenRequestAnswered;
    let base = match as_contact(store, stamp, action, contact, request_no).await? {
        Ok(ev) => ev,
        Err(r) => return Ok(Err(r)),
    };
    let today = taipei_date(stamp.now);
    let mut tx = store.begin().await?;
    let Some(row) = tx.citizen_request(request_no).await? else {
        drop(tx);
        return refuse(store, base, Refusal::UnknownRequest).await;
    };
    if !tx.answer_citizen_request(row.id, today, contact.id).await? {
        drop(tx);
        return refuse(store, base, CitizenReportError::AlreadyAnswered.into()).await;
    }
    let mut ev = base
        .detail("answered_on", today.civil().to_string())
        .detail("due_on", row.due_on.civil().to_string())
        .detail("late", today > row.due_on);
    ev.subject = Some(SubjectDigest {
        key_id: row.subject_key_id.clone(),
        hex: row.subject_digest.clone(),
    });
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(today))
}
