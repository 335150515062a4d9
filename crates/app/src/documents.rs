//! Printable documents: Forms 1–4 (附表 1–4), the Form 2 register and the quarterly review
//! report to 勞工局 (§7), as PDF or HTML.
//!
//! Security-sensitive: a document carries personal data (subjects' names, masked IDs), so
//! each one is produced only for someone entitled to its record — by the same rules as the
//! record's own page, through the same use cases — and every document produced is audited
//! (`report.generated`, object `document`), after its bytes exist, so no record claims a
//! document that was not produced. Every refusal is audited too. National IDs are masked,
//! except on Form 2 when the viewer asks for the whole and may see it: then each is recorded
//! as a reveal (`subject.national_id.revealed`), as on the registration's page. Query result
//! data has no place in any view model, so it cannot reach a document (§6).

use std::path::Path;
use std::sync::Arc;

use querywarden_documents::{self as docs, DocumentKind, DocumentModel, Footer, Seal};
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::org::{Person, PersonId, Role, UnitId};
use querywarden_domain::oversight::unannounced_audit::{AuditId, SignOffStep};
use querywarden_domain::permission::recertification::Quarter;
use querywarden_domain::permission::{
    ApplicationId, ApplicationKind, ApplicationState, Step, StepOutcome,
};
use querywarden_domain::registration::form3::SignOff;
use querywarden_domain::registration::{
    Registration, RegistrationNo, RegistrationState, RequestNo,
};
use querywarden_domain::roc_date::{RocDate, format_taipei_datetime};
use querywarden_storage::{RegistrationFilter, Store};

use crate::citizen_report::CitizenRequestNo;
use crate::directory::Directory;
use crate::permission::{Op, PermissionPolicy};
use crate::{App, AppError};

mod citizen_letter;
mod quarterly;

/// The system's name in every footer.
pub const SYSTEM_NAME: &str = "查調守門員 querywarden";

/// Which document, of which record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentTarget {
    /// Form 1 of a permission application.
    Form1(ApplicationId),
    /// Form 2 for one registration.
    Form2(RegistrationNo),
    /// Form 2 register: one unit's registrations dated `from..=to`.
    Register {
        unit: UnitId,
        from: RocDate,
        to: RocDate,
    },
    /// Form 3 of an external request.
    Form3(RequestNo),
    /// Form 4 of an unannounced audit.
    Form4(AuditId),
    /// §7 quarterly report of a closed review.
    Quarterly(Quarter),
    /// The reply letter to a citizen's access request (個人資料保護法 §13).
    CitizenLetter(CitizenRequestNo),
}

impl DocumentTarget {
    pub fn kind(&self) -> DocumentKind {
        match self {
            Self::Form1(_) => DocumentKind::Form1,
            Self::Form2(_) | Self::Register { .. } => DocumentKind::Form2,
            Self::Form3(_) => DocumentKind::Form3,
            Self::Form4(_) => DocumentKind::Form4,
            Self::Quarterly(_) => DocumentKind::QuarterlyReport,
            Self::CitizenLetter(_) => DocumentKind::CitizenLetter,
        }
    }

    /// The object named in the audit record and the file name (no personal data).
    pub fn reference(&self) -> String {
        match self {
            Self::Form1(id) => format!("form1-{id}"),
            Self::Form2(no) => format!("form2-{no}"),
            Self::Register { unit, from, to } => format!(
                "register-{}-{}-{}",
                unit.as_str(),
                from.civil().strftime("%Y%m%d"),
                to.civil().strftime("%Y%m%d")
            ),
            Self::Form3(no) => format!("form3-{no}"),
            Self::Form4(id) => format!("form4-{id}"),
            Self::Quarterly(q) => format!("quarterly-{q}"),
            // The request's number only: the letter's file name never names the citizen.
            Self::CitizenLetter(no) => format!("citizen-letter-{no}"),
        }
    }
}

querywarden_domain::code_enum! {
    /// PDF or HTML.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Format {
        Pdf = "pdf";
        Html = "html";
    }
}

/// A document produced.
#[derive(Debug, Clone)]
pub struct Produced {
    pub kind: DocumentKind,
    /// `form2-115-000012.pdf`: names the record, never a person.
    pub file_name: String,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum Body {
    Pdf(Vec<u8>),
    Html(String),
}

/// Why no document was produced. Messages are zh-TW and safe to show; codes are stable.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// No such record, or not the viewer's to see (answered alike, so numbers cannot be
    /// probed; the audit record keeps the real reason).
    #[error("找不到此文件所屬的紀錄，或您無權檢視")]
    NotFound,
    #[error("季別格式不正確；請寫成 115Q3（民國）或 2026Q3（西元）")]
    BadQuarter,
    /// §7: the report goes out once the review is closed (every finding concluded).
    #[error("該季之使用紀錄檢查尚未結案，無法產製季報告")]
    QuarterNotClosed,
    #[error("期間不正確：起日不得晚於迄日，且不得超過一年")]
    BadPeriod,
    #[error(transparent)]
    Font(#[from] docs::FontError),
    #[error(transparent)]
    Render(#[from] docs::RenderError),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<querywarden_storage::StorageError> for DocumentError {
    fn from(e: querywarden_storage::StorageError) -> Self {
        Self::App(AppError::Storage(e))
    }
}

impl DocumentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "documents.not_found",
            Self::BadQuarter => "documents.bad_quarter",
            Self::QuarterNotClosed => "documents.quarter_not_closed",
            Self::BadPeriod => "documents.bad_period",
            Self::Font(e) => e.code(),
            Self::Render(e) => e.code(),
            Self::App(e) => e.code(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotFound => "no such record, or not yours to see".into(),
            Self::BadQuarter => "write the quarter as 115Q3 (ROC) or 2026Q3".into(),
            Self::QuarterNotClosed => "that quarter's review is not closed yet".into(),
            Self::BadPeriod => "the period must run forwards and span at most a year".into(),
            Self::Font(e) => e.message_en(),
            Self::Render(_) => "the document could not be rendered".into(),
            Self::App(_) => "internal error".into(),
        }
    }
}

/// `115Q3` (ROC) or `2026Q3` / `2026-Q3` (Gregorian).
pub fn parse_quarter(s: &str) -> Result<Quarter, DocumentError> {
    let t = s.trim().to_ascii_uppercase().replace('-', "");
    let (y, q) = t.split_once('Q').ok_or(DocumentError::BadQuarter)?;
    let y: i32 = y.parse().map_err(|_| DocumentError::BadQuarter)?;
    let year = if y < 1912 { y + 1911 } else { y };
    Quarter::parse(&format!("{year}-Q{q}")).map_err(|_| DocumentError::BadQuarter)
}

/// The Traditional Chinese font, from `[documents] font_path` or the system; loaded once.
pub fn font(app: &App) -> Result<Arc<docs::DocumentFont>, docs::FontError> {
    docs::font::load_cached(app.config().documents.font_path.as_deref())
}

/// Whether a PDF can be produced at all (for `demo`'s start-up message and the pages'
/// fallback to HTML).
pub fn font_status(font_path: Option<&Path>) -> Result<(), docs::FontError> {
    docs::font::locate(font_path).map(|_| ())
}

/// Everything loaded once per document: the directory, with the names a document prints.
struct Org(Directory);

impl std::ops::Deref for Org {
    type Target = Directory;

    fn deref(&self) -> &Directory {
        &self.0
    }
}

impl Org {
    async fn load(store: &Store) -> Result<Org, DocumentError> {
        Ok(Org(Directory::load(store).await?))
    }

    fn name(&self, id: PersonId) -> String {
        self.persons
            .get(&id)
            .map_or_else(|| format!("人員 {id}"), |p| p.name.clone())
    }

    fn seal(&self, by: PersonId, role: &str, at: jiff::Timestamp) -> Seal {
        Seal {
            name: self.name(by),
            role: role.to_string(),
            at: format_taipei_datetime(at),
        }
    }
}

fn actor(p: &Person) -> Actor {
    Actor {
        person: p.id,
        role: Some(Role::Staff),
    }
}

fn event(op: &Op, viewer: &Person, target: &DocumentTarget, format: Format) -> AuditEvent {
    let mut e = AuditEvent::system(op.now, AuditAction::ReportGenerated, op.request_id.clone())
        .by(actor(viewer))
        .on("document", target.reference())
        .detail("document", target.kind().code())
        .detail("format", format.code());
    e.client_addr = op.client_addr.clone();
    e
}

/// Audits a refusal in its own transaction and returns it.
async fn refuse<T>(
    store: &Store,
    ev: AuditEvent,
    why: &str,
    err: DocumentError,
) -> Result<T, DocumentError> {
    crate::audit::record_refusal(store, ev, why).await?;
    Err(err)
}

/// Input that names no document (an unknown form, an id that is no id, a register period
/// that is no period): refused with `err` and audited like every refusal. What was typed is
/// not recorded: a URL can hold anything, personal data included (§9).
pub async fn refuse_unparsed(
    app: &App,
    viewer: &Person,
    format: Format,
    err: DocumentError,
    op: &Op,
) -> DocumentError {
    let mut e = AuditEvent::system(op.now, AuditAction::ReportGenerated, op.request_id.clone())
        .by(actor(viewer))
        .on("document", "-")
        .detail("format", format.code());
    e.client_addr = op.client_addr.clone();
    let why = err.code();
    match refuse::<()>(app.store(), e, why, err).await {
        Err(e) => e,
        Ok(()) => DocumentError::NotFound,
    }
}

/// Produces the document of `target` for `viewer`, audited once the bytes exist. With
/// `reveal_ids`, Form 2 prints whole national IDs the viewer may see, each recorded as a
/// reveal.
pub async fn produce(
    app: &App,
    viewer: &Person,
    target: &DocumentTarget,
    format: Format,
    reveal_ids: bool,
    op: &Op,
) -> Result<Produced, DocumentError> {
    let store = app.store();
    let ev = event(op, viewer, target, format);
    // The font first: a missing font must not leave view or reveal records behind for a
    // document that cannot be made.
    let font = match format {
        Format::Pdf => match font(app) {
            Ok(f) => Some(f),
            Err(e) => return refuse(store, ev, e.code(), e.into()).await,
        },
        Format::Html => None,
    };
    let model = match build(app, viewer, target, reveal_ids, op).await {
        Ok(m) => m,
        Err(Refusal { why, err }) => return refuse(store, ev, why, err?).await,
    };
    let checkpoint = store
        .latest_checkpoint()
        .await?
        .map(|c| hex::encode(c.root).chars().take(12).collect::<String>())
        .unwrap_or_else(|| "（尚無）".to_string());
    let footer = Footer {
        system: SYSTEM_NAME.to_string(),
        generated_at: format_taipei_datetime(op.now),
        generated_by: format!("{}（{}）", viewer.name, viewer.title),
        checkpoint,
    };
    let (body, ext) = match &font {
        Some(font) => (Body::Pdf(docs::render_pdf(font, &model, &footer)?), "pdf"),
        None => (Body::Html(docs::render_html(&model, &footer)?), "html"),
    };
    let size = match &body {
        Body::Pdf(b) => b.len(),
        Body::Html(s) => s.len(),
    };
    crate::audit::record(store, &ev.detail("bytes", size as u64)).await?;
    Ok(Produced {
        kind: target.kind(),
        file_name: format!("{}.{ext}", target.reference()),
        body,
    })
}

/// A refusal while building: the code for the audit record and the error to return
/// (`Err` for a technical failure, which is not audited as a refusal).
struct Refusal {
    why: &'static str,
    err: Result<DocumentError, DocumentError>,
}

impl From<DocumentError> for Refusal {
    fn from(e: DocumentError) -> Self {
        Refusal {
            why: "documents.error",
            err: Err(e),
        }
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        DocumentError::App(e).into()
    }
}

impl From<querywarden_storage::StorageError> for Refusal {
    fn from(e: querywarden_storage::StorageError) -> Self {
        DocumentError::from(e).into()
    }
}

fn refusal(why: &'static str, err: DocumentError) -> Refusal {
    Refusal { why, err: Ok(err) }
}

async fn build(
    app: &App,
    viewer: &Person,
    target: &DocumentTarget,
    reveal_ids: bool,
    op: &Op,
) -> Result<DocumentModel, Refusal> {
    match target {
        DocumentTarget::Form1(id) => form1(app, viewer, *id, op).await,
        DocumentTarget::Form2(no) => {
            let view = crate::registration::registration_view(
                &app.desk(),
                viewer,
                *no,
                op.now,
                &op.request_id,
            )
            .await?
            .map_err(|d| refusal(d.code(), DocumentError::NotFound))?;
            let org = Org::load(app.store()).await?;
            let row = register_row(app, &org, viewer, &view.registration, reveal_ids, op).await?;
            Ok(DocumentModel::Form2(docs::QueryRegisterForm {
                unit: org.unit_name(&view.registration.approving_unit),
                period: view.registration.date.format_long(),
                rows: vec![row],
            }))
        }
        DocumentTarget::Register { unit, from, to } => {
            register(app, viewer, unit, *from, *to, reveal_ids, op).await
        }
        DocumentTarget::Form3(no) => form3(app, viewer, *no, op).await,
        DocumentTarget::Form4(id) => form4(app, viewer, *id, op).await,
        DocumentTarget::Quarterly(q) => quarterly::build(app, viewer, *q).await,
        DocumentTarget::CitizenLetter(no) => citizen_letter::build(app, viewer, no, op).await,
    }
}

async fn form1(
    app: &App,
    viewer: &Person,
    id: ApplicationId,
    op: &Op,
) -> Result<DocumentModel, Refusal> {
    let store = app.store();
    let a = match crate::permission::application_for_viewer(
        store,
        &PermissionPolicy::default(),
        viewer.id,
        id,
        op,
    )
    .await
    {
        Ok(a) => a,
        Err(crate::permission::PermissionError::NotFound(_)) => {
            return Err(refusal("permission.not_found", DocumentError::NotFound));
        }
        Err(crate::permission::PermissionError::App(e)) => return Err(e.into()),
        Err(e) => return Err(refusal(e.code(), DocumentError::NotFound)),
    };
    let org = Org::load(store).await?;
    // The sign-offs of the current round: a returned application starts a new round.
    let step = |s: Step| {
        a.current_round_steps()
            .filter(|r| r.step == s)
            .last()
            .cloned()
    };
    let signed = |s: Step, role: &str| {
        step(s)
            .filter(|r| r.outcome == StepOutcome::Approved)
            .map(|r| org.seal(r.by, role, r.at))
    };
    let admin = step(Step::PermissionAdministrator);
    let decision = match (&admin, &a.state) {
        (Some(r), _) if r.outcome == StepOutcome::Approved => {
            docs::AdministratorDecision::Approved {
                effective: r
                    .effective_from
                    .map(RocDate::format_long)
                    .unwrap_or_default(),
            }
        }
        (Some(r), _) if r.outcome == StepOutcome::Refused => docs::AdministratorDecision::Refused {
            reason: r.comment.clone(),
        },
        (Some(r), _) => docs::AdministratorDecision::Other {
            text: r.comment.clone(),
        },
        (None, ApplicationState::Returned { note }) => {
            docs::AdministratorDecision::Other { text: note.clone() }
        }
        _ => docs::AdministratorDecision::Pending,
    };
    let submitted = a
        .steps
        .iter()
        .filter(|s| s.round == a.round)
        .map(|s| s.at)
        .min();
    Ok(DocumentModel::Form1(docs::PermissionApplicationForm {
        form_no: a.form_number.to_string(),
        application_date: a.application_date.format_long(),
        unit: org.unit_name(&a.unit),
        title_and_name: format!("{} {}", a.title, a.name),
        kind: match a.kind {
            ApplicationKind::New => docs::ApplicationKind::New,
            ApplicationKind::Revoke => docs::ApplicationKind::Revoke,
            ApplicationKind::ChangeItems => docs::ApplicationKind::ChangeItems,
            ApplicationKind::JobChange => docs::ApplicationKind::JobChange,
        },
        reason: a.reason.clone(),
        // Kept only masked (§9): the form prints what is kept.
        national_id: a.national_id_masked.clone(),
        phone: a.phone.clone(),
        email: a.email.clone(),
        egov_account: a.egov_account.clone(),
        items: a.items.iter().map(|i| i.as_str().to_string()).collect(),
        // The applicant signs by submitting; the first sign-off of the round follows it.
        applicant: (a.round > 0).then(|| Seal {
            name: a.name.clone(),
            role: "申請人".into(),
            at: submitted
                .map(format_taipei_datetime)
                .unwrap_or_else(|| a.application_date.format_long()),
        }),
        applicant_supervisor: signed(Step::UnitSupervisor, Step::UnitSupervisor.name_zh()),
        decision,
        administrator: admin.map(|r| org.seal(r.by, Step::PermissionAdministrator.name_zh(), r.at)),
        administrator_supervisor: signed(Step::Countersign, Step::Countersign.name_zh()),
    }))
}

/// The supervisor's approval as a seal (§5: given before the query runs).
fn approval(org: &Org, r: &Registration) -> Option<Seal> {
    match &r.state {
        RegistrationState::Approved { by, at, .. } => Some(org.seal(*by, "單位主管", *at)),
        _ => None,
    }
}

async fn register_row(
    app: &App,
    org: &Org,
    viewer: &Person,
    r: &Registration,
    reveal_ids: bool,
    op: &Op,
) -> Result<docs::RegisterRow, Refusal> {
    let subject = crate::registration::subject_of(app.store(), app.keys(), r).await?;
    let subject_id = if reveal_ids {
        // The same use case as the page's reveal button: checked and recorded per row.
        match crate::registration::reveal_national_id(
            &app.desk(),
            viewer,
            r.no,
            op.now,
            &op.request_id,
        )
        .await?
        {
            Ok((id, _)) => id.expose_whole().to_string(),
            Err(_) => subject.id().masked(),
        }
    } else {
        subject.id().masked()
    };
    let items = r
        .items
        .iter()
        .map(|i| i.as_str().to_string())
        .collect::<Vec<_>>()
        .join("、");
    let mut reason = format!("{}：{}", r.legal_basis.as_str(), r.relevance);
    if let Some(case) = &r.case_no {
        reason.push_str(&format!("（案號 {case}）"));
    }
    Ok(docs::RegisterRow {
        registration_no: r.no.to_string(),
        application_date: r.date.format_short(),
        subject_name: subject.name().to_string(),
        subject_id,
        items,
        reason,
        requester: org.name(r.parties.needer),
        querier: org.name(r.parties.querier),
        approval: approval(org, r),
    })
}

/// Who may have a unit's register: its supervisor, the ethics office (§8), the permission
/// administrator who checks usage (§7) and the director.
async fn may_have_register(
    store: &Store,
    viewer: &Person,
    unit: &UnitId,
) -> Result<bool, AppError> {
    if viewer.has_role(Role::EthicsAuditor)
        || viewer.has_role(Role::PermissionAdministrator)
        || viewer.has_role(Role::Director)
    {
        return Ok(true);
    }
    Ok(store.unit_supervisors().await?.get(unit) == Some(&viewer.id))
}

async fn register(
    app: &App,
    viewer: &Person,
    unit: &UnitId,
    from: RocDate,
    to: RocDate,
    reveal_ids: bool,
    op: &Op,
) -> Result<DocumentModel, Refusal> {
    if from > to || to > from.add_years(1) {
        return Err(refusal("documents.bad_period", DocumentError::BadPeriod));
    }
    let store = app.store();
    let org = Org::load(store).await?;
    if org.unit(unit).is_none() {
        return Err(refusal("documents.not_found", DocumentError::NotFound));
    }
    if !may_have_register(store, viewer, unit).await? {
        return Err(refusal("registration.not_allowed", DocumentError::NotFound));
    }
    let regs = store
        .registrations(&RegistrationFilter {
            approving_unit: Some(unit.clone()),
            ..Default::default()
        })
        .await?;
    let mut rows = Vec::new();
    for r in regs.iter().filter(|r| r.date >= from && r.date <= to) {
        rows.push(register_row(app, &org, viewer, r, reveal_ids, op).await?);
    }
    Ok(DocumentModel::Form2(docs::QueryRegisterForm {
        unit: org.unit_name(unit),
        period: format!("{}至{}", from.format_long(), to.format_long()),
        rows,
    }))
}

async fn form3(
    app: &App,
    viewer: &Person,
    no: RequestNo,
    op: &Op,
) -> Result<DocumentModel, Refusal> {
    let view = crate::request::request_view(&app.desk(), viewer, no, op.now, &op.request_id)
        .await?
        .map_err(|d| refusal(d.code(), DocumentError::NotFound))?;
    let org = Org::load(app.store()).await?;
    let r = &view.request;
    let applicant = org.persons.get(&r.request.applicant);
    // The responsible unit's review signs as the querier's unit; the assigned querier signs
    // when a registration was made for the request.
    let querier_seal = r.assigned_querier.and_then(|q| {
        view.registrations
            .iter()
            .find(|g| g.parties.querier == q)
            .map(|g| Seal {
                name: org.name(q),
                role: "資料查詢者".into(),
                at: g.date.format_long(),
            })
    });
    let reviewed = match (r.reviewed_by, r.reviewed_at) {
        (Some(by), Some(at)) => Some(org.seal(by, "使用單位主管", at)),
        _ => None,
    };
    // §5 ¶3: each 核章 recorded on the request itself fills its box (代理 when a deputy signed).
    let signed = |which: SignOff, role: &str| {
        view.sign_offs.iter().find(|s| s.which == which).map(|s| {
            let role = if s.acting {
                format!("{role}（代理）")
            } else {
                role.to_string()
            };
            org.seal(s.person, &role, s.at)
        })
    };
    let applicant_supervisor_seal = signed(SignOff::ApplicantSupervisor, "申請人單位主管");
    let querier_seal = signed(SignOff::Querier, "資料查詢者").or(querier_seal);
    let reviewed = signed(SignOff::UsingUnitSupervisor, "使用單位主管").or(reviewed);
    Ok(DocumentModel::Form3(docs::ExternalRequestForm {
        request_no: r.request.no.to_string(),
        requesting_unit: org.unit_name(&r.request.requesting_unit),
        date: r.request.date.format_long(),
        applicant: org.name(r.request.applicant),
        title: r.request.applicant_title.clone(),
        phone: r.request.phone.clone(),
        fax: r.request.fax.clone().unwrap_or_default(),
        reason: format!(
            "{}：{}",
            r.request.legal_basis.as_str(),
            r.request.relevance
        ),
        items: r
            .request
            .items
            .iter()
            .map(|i| i.as_str().to_string())
            .collect::<Vec<_>>()
            .join("、"),
        subjects: view
            .subjects
            .iter()
            .map(|(name, id)| docs::RequestSubject {
                name: name.clone(),
                id: id.clone(),
            })
            .collect(),
        review_opinion: r.opinion.clone().unwrap_or_default(),
        applicant_seal: applicant.map(|p| Seal {
            name: p.name.clone(),
            role: "申請人".into(),
            at: format_taipei_datetime(r.request.created_at),
        }),
        querier_seal,
        applicant_supervisor_seal,
        using_unit_supervisor_seal: reviewed,
    }))
}

async fn form4(app: &App, viewer: &Person, id: AuditId, op: &Op) -> Result<DocumentModel, Refusal> {
    use crate::oversight::unannounced_audit::{AuditError, audit_for};
    let view = match audit_for(app.store(), app.keys(), viewer, id, op).await {
        Ok(v) => v,
        Err(AuditError::App(e)) => return Err(e.into()),
        Err(e) => return Err(refusal(e.code(), DocumentError::NotFound)),
    };
    let org = Org::load(app.store()).await?;
    let a = &view.audit;
    let signed = |s: SignOffStep, role: &str| {
        a.sign_offs
            .iter()
            .find(|x| x.step == s)
            .map(|x| org.seal(x.by, role, x.at))
    };
    let mut cases = Vec::new();
    for c in &a.cases {
        let reg = app.store().registration(c.registration).await?;
        let docs_for: Vec<&str> = view
            .documents
            .iter()
            .filter(|d| d.case == c.no)
            .map(|d| d.file_name.as_str())
            .collect();
        cases.push(docs::AuditCase {
            reference: format!("登記 {}", c.no),
            date: reg
                .as_ref()
                .map(|r| r.date.format_short())
                .unwrap_or_default(),
            items: reg
                .as_ref()
                .map(|r| {
                    r.items
                        .iter()
                        .map(|i| i.as_str().to_string())
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default(),
            documents: match (&c.opinion, docs_for.is_empty()) {
                (Some(o), _) => format!(
                    "{}{}",
                    if o.conforms { "符合" } else { "不符合" },
                    if o.text.is_empty() {
                        String::new()
                    } else {
                        format!("：{}", o.text)
                    }
                ),
                (None, false) => format!("附件 {} 件", docs_for.len()),
                (None, true) => "尚未附件".into(),
            },
        });
    }
    Ok(DocumentModel::Form4(docs::AuditRecordForm {
        audit_no: a.id.to_string(),
        period_from: a.plan.period_from.format_long(),
        period_to: a.plan.period_to.format_long(),
        audit_date: a.plan.audit_date.format_long(),
        querier: format!(
            "{}（{}）",
            org.name(a.plan.querier),
            org.unit_name(&a.querier_unit)
        ),
        auditing_unit: org.unit_name(&a.plan.auditing_unit),
        auditing_phone: a.plan.auditing_unit_phone.clone(),
        auditor: a
            .plan
            .auditors
            .iter()
            .map(|p| org.name(*p))
            .collect::<Vec<_>>()
            .join("、"),
        documents_deadline: a.plan.documents_deadline.format_long(),
        cases,
        opinion: a
            .overall
            .as_ref()
            .map(|o| o.text.clone())
            .unwrap_or_default(),
        querier_seal: signed(SignOffStep::Querier, "資料查詢者"),
        auditor_seal: signed(SignOffStep::Auditor, "稽核人員"),
        using_unit_supervisor_seal: signed(SignOffStep::QuerierSupervisor, "使用單位主管"),
        auditing_unit_supervisor_seal: signed(SignOffStep::AuditingSupervisor, "稽核單位主管"),
        director_review: a.review.as_ref().map(|r| org.seal(r.by, "局長", r.at)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_read_in_either_calendar() {
        assert_eq!(parse_quarter("115Q3").ok(), Quarter::parse("2026-Q3").ok());
        assert_eq!(parse_quarter("2026Q3").ok(), Quarter::parse("2026-Q3").ok());
        assert_eq!(
            parse_quarter("2026-q1").ok(),
            Quarter::parse("2026-Q1").ok()
        );
        assert!(parse_quarter("115Q5").is_err());
        assert!(parse_quarter("Q3").is_err());
    }
}
