//! The permission pages (§2, Form 1 資料查詢者權限申請表), zh-TW first: applying and amending,
//! one's applications, the approver's inbox (with the personnel-change notices §2 sends the
//! administrator and the old supervisor) and decision, the application with every sign-off,
//! one's grants, the administrator's overview, the supervisor's staff changes and
//! recertification rounds, the staff CSV import and account re-enabling. Also owns the router
//! of all permission routes (pages, `/api/v1/permissions/…` and `/scim/v2/Users`).
//!
//! Security-sensitive: every POST checks the session's CSRF token; who may do what is decided
//! by the app layer's capabilities (`approver_at_step`, `administrator_desk`,
//! `supervisor_desk`). Personal data travels only in POST bodies; the national ID is shown
//! masked and never echoed back into a form. Successful POSTs redirect (303) to a page that
//! says what happened; refusals show the rule's zh-TW message and its code with 422 or 403.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Router};
use jiff::Timestamp;
use querywarden_app::permission::recertification as recert;
use querywarden_app::permission::staff;
use querywarden_app::permission::{
    self as perm, GrantFilter, GrantView, Op, PermissionError, PermissionPolicy,
};
use querywarden_domain::NationalId;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{Account, Person, PersonId, Role, UnitId};
use querywarden_domain::permission::recertification::{RecertificationDecision, RoundId};
use querywarden_domain::permission::{
    ApplicationForm, ApplicationId, ApplicationKind, ApplicationState, Confirmations, GrantId,
    GrantStatus, PermissionApplication, PermissionRefusal, Step, StepDecision,
};
use querywarden_domain::roc_date::{DateField, RocDate, format_taipei_datetime, taipei_date};
use serde::Deserialize;

use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::permission_api as api;
use crate::permission_templates::{
    AccountsPage, ApplicationPage, ApplicationRow, ApplyPage, ApplyValues, ChangeRow, Choice,
    DecideForm, DisabledRow, GrantRow, GrantsPage, InboxPage, InboxRow, ItemLabel, LineRow,
    NoticeLine, PermissionHomePage, RoundPage, RoundRow, StaffImportPage, StaffPage, StepRow,
    today_in,
};
use crate::session::{PageSession, csrf_refused, upload_refused};
use crate::templates::{ErrorPage, FormError, UserBar};
use crate::upload::{UploadError, read_upload};
use crate::{AppState, Lang, OperationId};

/// Every permission route: pages, JSON API and SCIM.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/permissions", get(home))
        .route("/permissions/apply", get(apply_form).post(apply_submit))
        .route("/permissions/applications/{id}", get(application))
        .route(
            "/permissions/applications/{id}/amend",
            get(amend_form).post(amend_submit),
        )
        .route("/permissions/applications/{id}/submit", post(submit))
        .route("/permissions/applications/{id}/withdraw", post(withdraw))
        .route("/permissions/applications/{id}/decide", post(decide))
        .route("/permissions/inbox", get(inbox))
        .route("/permissions/notices/{id}/read", post(notice_read))
        .route("/permissions/grants", get(my_grants))
        .route("/permissions/admin/grants", get(overview))
        .route(
            "/permissions/admin/staff-import",
            get(import_form)
                .post(import_upload)
                .layer(axum::extract::DefaultBodyLimit::max(6 * 1024 * 1024)),
        )
        .route("/permissions/admin/accounts", get(accounts))
        .route("/permissions/admin/accounts/enable", post(enable))
        .route("/permissions/staff", get(staff_page))
        .route("/permissions/recertification", post(open_round))
        .route("/permissions/recertification/{id}", get(round))
        .route(
            "/permissions/recertification/{id}/decide",
            post(round_decide),
        )
        .route("/permissions/recertification/{id}/close", post(round_close))
        .route(
            "/api/v1/permissions/applications",
            get(api::my_applications).post(api::create),
        )
        .route(
            "/api/v1/permissions/applications/{id}",
            get(api::application).put(api::amend),
        )
        .route(
            "/api/v1/permissions/applications/{id}/submit",
            post(api::submit),
        )
        .route(
            "/api/v1/permissions/applications/{id}/withdraw",
            post(api::withdraw),
        )
        .route(
            "/api/v1/permissions/applications/{id}/decision",
            post(api::decide),
        )
        .route("/api/v1/permissions/inbox", get(api::inbox))
        .route("/api/v1/permissions/grants", get(api::my_grants))
        .route("/api/v1/permissions/admin/grants", get(api::overview))
        .route(
            "/api/v1/permissions/admin/staff-import",
            post(api::staff_import).layer(axum::extract::DefaultBodyLimit::max(6 * 1024 * 1024)),
        )
        .route(
            "/api/v1/permissions/admin/accounts/enable",
            post(api::enable),
        )
        .route("/api/v1/permissions/staff-changes", get(api::staff_changes))
        .route(
            "/api/v1/permissions/recertifications",
            get(api::rounds).post(api::open_round),
        )
        .route("/api/v1/permissions/recertifications/{id}", get(api::round))
        .route(
            "/api/v1/permissions/recertifications/{id}/decisions",
            post(api::round_decide),
        )
        .route(
            "/api/v1/permissions/recertifications/{id}/close",
            post(api::round_close),
        )
        .route("/scim/v2/Users", post(api::scim_post))
        .route("/scim/v2/Users/{id}", put(api::scim_put))
}

// ---------------------------------------------------------------------------------------------
// Shared by pages and the API.

/// One operation of the app layer for this request.
/// The app's operation context for a request whose client address is not at hand.
pub(crate) fn now_op(op: &OperationId) -> Op {
    Op::new(Timestamp::now(), op.0.clone())
}

pub(crate) fn op_of(op: &OperationId, addr: SocketAddr) -> Op {
    Op {
        now: Timestamp::now(),
        request_id: op.0.clone(),
        client_addr: Some(addr.ip().to_string()),
    }
}

pub(crate) fn policy(state: &AppState) -> &PermissionPolicy {
    &state.app.config().permission
}

/// 403 for "not yours to do" (wrong person, separation of duties, missing role), 422 for a
/// request the rules refuse as it stands.
pub(crate) fn refusal_status(r: &PermissionRefusal) -> StatusCode {
    use PermissionRefusal as R;
    if r.is_separation_of_duties()
        || matches!(
            r,
            R::WrongApprover(_)
                | R::NotApplicant
                | R::NotAdministrator
                | R::NotSupervisor
                | R::NotRoundOwner
                | R::ApproverDisabled
                | R::ApplicantDisabled
        )
    {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// The Form 1 fields as typed, before parsing (page form and JSON body alike).
pub(crate) struct RawApplication<'a> {
    pub kind: &'a str,
    pub reason: &'a str,
    pub national_id: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub egov_account: &'a str,
    pub items: Vec<&'a str>,
    pub read_pdpa: bool,
    pub has_card: bool,
}

/// A field that does not parse: its stable code and messages (zh-TW, English).
pub(crate) struct BadField {
    pub code: String,
    pub zh: String,
    pub en: String,
}

pub(crate) fn parse_application(raw: &RawApplication<'_>) -> Result<ApplicationForm, BadField> {
    let kind = ApplicationKind::parse_code(raw.kind.trim()).ok_or_else(|| BadField {
        code: "permission.bad_kind".into(),
        zh: "請選擇申請類別（新增權限、註銷權限、異動查調項目、職務異動）".into(),
        en: "choose the kind of application".into(),
    })?;
    let national_id = NationalId::parse(raw.national_id).map_err(|e| BadField {
        code: e.code().into(),
        zh: e.to_string(),
        en: e.message_en(),
    })?;
    let mut items = std::collections::BTreeSet::new();
    for i in &raw.items {
        items.insert(ServiceItemCode::parse(i.trim()).map_err(|e| BadField {
            code: e.code().into(),
            zh: e.to_string(),
            en: e.message_en(),
        })?);
    }
    Ok(ApplicationForm {
        kind,
        reason: raw.reason.trim().to_string(),
        national_id,
        phone: raw.phone.trim().to_string(),
        email: raw.email.trim().to_string(),
        egov_account: raw.egov_account.trim().to_string(),
        items,
        confirmations: Confirmations {
            read_pdpa_and_rules: raw.read_pdpa,
            has_certificate_and_reader: raw.has_card,
        },
    })
}

/// A decision as typed: `approve` (optional effective date), `refuse` (reason), `other`
/// (note).
pub(crate) fn parse_decision(
    decision: &str,
    effective_from: Option<&str>,
    comment: &str,
    today: RocDate,
) -> Result<StepDecision, BadField> {
    let comment = comment.trim().to_string();
    match decision {
        "approve" => {
            let effective_from = match effective_from.map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(
                    RocDate::parse_field(s, DateField::Effective, today).map_err(|e| BadField {
                        code: e.code().into(),
                        zh: e.to_string(),
                        en: e.message_en(),
                    })?,
                ),
            };
            Ok(StepDecision::Approve {
                effective_from,
                comment,
            })
        }
        "refuse" => Ok(StepDecision::Refuse { reason: comment }),
        "other" => Ok(StepDecision::Other { note: comment }),
        _ => Err(BadField {
            code: "permission.bad_decision".into(),
            zh: "請選擇同意、不同意或其他".into(),
            en: "choose approve, refuse or other".into(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Page helpers.

fn bar(state: &AppState, who: &querywarden_app::auth::SignedIn) -> UserBar {
    UserBar::of(who, lock_after_ms(state))
}

fn forbidden(m: Messages, op: &OperationId, path: &str) -> Response {
    let message = m.get("forbidden");
    let page = ErrorPage::new(m, path, message, op.0.clone());
    (StatusCode::FORBIDDEN, render(&page, op)).into_response()
}

fn not_found(m: Messages, op: &OperationId, path: &str) -> Response {
    let message = m.get("error-not-found");
    let page = ErrorPage::new(m, path, message, op.0.clone());
    (StatusCode::NOT_FOUND, render(&page, op)).into_response()
}

fn bad_field(m: &Messages, b: BadField) -> FormError {
    FormError {
        code: b.code,
        message: if m.is_zh() { b.zh } else { b.en },
    }
}

/// How a permission failure shows on a page: a form error with its status, or a whole error
/// page (not found, internal).
enum Shown {
    Form(StatusCode, FormError),
    Page(Response),
}

fn shown(e: PermissionError, m: &Messages, op: &OperationId, path: &str) -> Shown {
    match e {
        PermissionError::Refused(r) => Shown::Form(
            refusal_status(&r),
            FormError {
                code: r.code().to_string(),
                message: if m.is_zh() {
                    r.to_string()
                } else {
                    r.message_en()
                },
            },
        ),
        PermissionError::Conflict => Shown::Form(
            StatusCode::CONFLICT,
            FormError {
                code: "permission.conflict".into(),
                message: m.get("perm-conflict"),
            },
        ),
        PermissionError::NotFound(_) => Shown::Page(not_found(m.clone(), op, path)),
        PermissionError::App(e) => {
            Shown::Page(PageError::internal(&e, &op.0, m.clone(), path).into_response())
        }
    }
}

fn internal(e: PermissionError, m: &Messages, op: &OperationId, path: &str) -> Response {
    match shown(e, m, op, path) {
        Shown::Page(r) => r,
        Shown::Form(status, f) => {
            let page = ErrorPage::new(m.clone(), path, f.message, op.0.clone()).with_code(&f.code);
            (status, render(&page, op)).into_response()
        }
    }
}

fn date(m: &Messages, d: RocDate) -> String {
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

fn label(m: &Messages, area: &str, code: &str) -> String {
    m.get(&format!("perm-{area}-{code}"))
}

/// People, units and items by key, for showing names instead of ids.
struct Names {
    persons: BTreeMap<PersonId, Person>,
    units: BTreeMap<UnitId, String>,
    items: BTreeMap<String, (String, String)>,
}

impl Names {
    async fn load(state: &AppState) -> Result<Names, PermissionError> {
        let store = state.app.store();
        Ok(Names {
            persons: store
                .persons()
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect(),
            units: store
                .units()
                .await?
                .into_iter()
                .map(|u| (u.id, u.name_zh))
                .collect(),
            items: store
                .service_items()
                .await?
                .into_iter()
                .map(|i| (i.code.as_str().to_string(), (i.name_zh, i.name_en)))
                .collect(),
        })
    }

    fn person(&self, id: PersonId) -> String {
        self.persons.get(&id).map_or_else(
            || format!("#{id}"),
            |p| format!("{}（{}）", p.name, p.account.as_str()),
        )
    }

    fn unit(&self, id: &UnitId) -> String {
        self.units
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.as_str().to_string())
    }

    fn item(&self, m: &Messages, code: &str) -> String {
        match self.items.get(code) {
            Some((zh, en)) => format!("{code} {}", if m.is_zh() { zh } else { en }),
            None => code.to_string(),
        }
    }
}

fn state_detail(m: &Messages, s: &ApplicationState) -> String {
    match s {
        ApplicationState::Pending { step } => {
            format!(
                "{}{}",
                m.get("perm-waiting-for"),
                label(m, "step", step.code())
            )
        }
        ApplicationState::Returned { note } => note.clone(),
        ApplicationState::Refused { step, reason } => {
            format!("{}：{reason}", label(m, "step", step.code()))
        }
        ApplicationState::Approved { effective_from } => {
            format!("{}{}", m.get("perm-effective-on"), date(m, *effective_from))
        }
        ApplicationState::Draft | ApplicationState::Withdrawn => String::new(),
    }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The notice for a `?done=` code (a fixed list; anything else shows nothing).
fn notice(m: &Messages, done: Option<&str>) -> Option<String> {
    const KNOWN: [&str; 10] = [
        "created",
        "amended",
        "submitted",
        "withdrawn",
        "decided",
        "opened",
        "recertified",
        "closed",
        "enabled",
        "notice_read",
    ];
    done.filter(|d| KNOWN.contains(d))
        .map(|d| m.get(&format!("perm-done-{d}")))
}

// ---------------------------------------------------------------------------------------------
// Applications.

pub async fn home(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    let apps = match perm::applications_of(state.app.store(), who.person.id).await {
        Ok(a) => a,
        Err(e) => return internal(e, &m, &op, "/permissions"),
    };
    let p = &who.person;
    let page = PermissionHomePage {
        today: today_in(&m),
        user: Some(bar(&state, &who)),
        path: "/permissions".into(),
        applications: apps
            .iter()
            .rev()
            .map(|a| ApplicationRow {
                id: a.id.get(),
                form_number: a.form_number.to_string(),
                kind: label(&m, "kind", a.kind.code()),
                date: date(&m, a.application_date),
                state: label(&m, "state", a.state.code()),
                state_code: a.state.code().to_string(),
                detail: state_detail(&m, &a.state),
            })
            .collect(),
        is_supervisor: p.has_role(Role::UnitSupervisor)
            || p.has_role(Role::PermissionAdminSupervisor),
        is_admin: p.has_role(Role::PermissionAdministrator),
        m,
    };
    render(&page, &op)
}

#[derive(Deserialize)]
pub struct IdPath {
    id: i64,
}

/// The application form, new or amending.
async fn apply_page(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
    action: String,
    values: ApplyValues,
    chosen: &[String],
    error: Option<FormError>,
) -> Result<ApplyPage, PermissionError> {
    let names = Names::load(state).await?;
    let items = state
        .app
        .store()
        .service_items()
        .await?
        .into_iter()
        .filter(|i| i.active)
        .map(|i| Choice {
            selected: chosen.iter().any(|c| c == i.code.as_str()),
            label: if m.is_zh() { i.name_zh } else { i.name_en },
            value: i.code.as_str().to_string(),
        })
        .collect();
    let kind = if values.kind.is_empty() {
        "new".to_string()
    } else {
        values.kind.clone()
    };
    let kinds = ApplicationKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().to_string(),
            label: label(&m, "kind", k.code()),
            selected: k.code() == kind,
        })
        .collect();
    let p = &who.person;
    Ok(ApplyPage {
        today: today_in(&m),
        user: Some(bar(state, who)),
        path: "/permissions/apply".into(),
        csrf: who.session.csrf_token.clone(),
        amending: action != "/permissions/apply",
        action,
        name: p.name.clone(),
        unit: names.unit(&p.unit),
        title: p.title.clone(),
        kinds,
        items,
        values,
        error,
        m,
    })
}

pub async fn apply_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    let values = ApplyValues {
        kind: "new".into(),
        ..ApplyValues::default()
    };
    let path = "/permissions/apply".to_string();
    match apply_page(&state, m.clone(), &who, path, values, &[], None).await {
        Ok(page) => render(&page, &op),
        Err(e) => internal(e, &m, &op, "/permissions/apply"),
    }
}

/// The posted Form 1, as pairs (the items checkbox repeats).
struct PostedApplication {
    csrf: String,
    values: ApplyValues,
    national_id: String,
    items: Vec<String>,
}

impl PostedApplication {
    fn from_pairs(pairs: Vec<(String, String)>) -> PostedApplication {
        let mut p = PostedApplication {
            csrf: String::new(),
            values: ApplyValues::default(),
            national_id: String::new(),
            items: Vec::new(),
        };
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => p.csrf = v,
                "kind" => p.values.kind = v,
                "reason" => p.values.reason = v,
                "national_id" => p.national_id = v,
                "phone" => p.values.phone = v,
                "email" => p.values.email = v,
                "egov_account" => p.values.egov_account = v,
                "items" => p.items.push(v),
                "read_pdpa" => p.values.read_pdpa = v == "yes",
                "has_card" => p.values.has_card = v == "yes",
                _ => {}
            }
        }
        p
    }

    fn parse(&self) -> Result<ApplicationForm, BadField> {
        parse_application(&RawApplication {
            kind: &self.values.kind,
            reason: &self.values.reason,
            national_id: &self.national_id,
            phone: &self.values.phone,
            email: &self.values.email,
            egov_account: &self.values.egov_account,
            items: self.items.iter().map(String::as_str).collect(),
            read_pdpa: self.values.read_pdpa,
            has_card: self.values.has_card,
        })
    }
}

/// Writes the Form 1 (a draft), or amends one; then shows it, to be submitted.
async fn save_application(
    state: AppState,
    m: Messages,
    op: OperationId,
    addr: SocketAddr,
    who: querywarden_app::auth::SignedIn,
    amend: Option<ApplicationId>,
    pairs: Vec<(String, String)>,
) -> Response {
    let posted = PostedApplication::from_pairs(pairs);
    if !who.csrf_ok(&posted.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let action = match amend {
        Some(id) => format!("/permissions/applications/{id}/amend"),
        None => "/permissions/apply".to_string(),
    };
    let result: Result<std::convert::Infallible, (StatusCode, FormError)> = match posted.parse() {
        Err(b) => Err((StatusCode::UNPROCESSABLE_ENTITY, bad_field(&m, b))),
        Ok(form) => {
            let (store, keys, o) = (state.app.store(), state.app.keys(), op_of(&op, addr));
            let done = match amend {
                None => perm::create_application(store, keys, who.person.id, form, &o).await,
                Some(id) => perm::amend_application(store, keys, who.person.id, id, form, &o).await,
            };
            match done {
                Ok(app) => {
                    let what = if amend.is_some() {
                        "amended"
                    } else {
                        "created"
                    };
                    return Redirect::to(&format!(
                        "/permissions/applications/{}?done={what}",
                        app.id
                    ))
                    .into_response();
                }
                Err(e) => match shown(e, &m, &op, &action) {
                    Shown::Form(s, f) => Err((s, f)),
                    Shown::Page(r) => return r,
                },
            }
        }
    };
    let Err((status, error)) = result;
    let page = apply_page(
        &state,
        m.clone(),
        &who,
        action.clone(),
        posted.values,
        &posted.items,
        Some(error),
    )
    .await;
    match page {
        Ok(p) => (status, render(&p, &op)).into_response(),
        Err(e) => internal(e, &m, &op, &action),
    }
}

pub async fn apply_submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    save_application(state, m, op, addr, who, None, pairs).await
}

pub async fn amend_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
) -> Response {
    let path = format!("/permissions/applications/{id}/amend");
    let app = match perm::application_for_viewer(
        state.app.store(),
        policy(&state),
        who.person.id,
        ApplicationId::new(id),
        &now_op(&op),
    )
    .await
    {
        Ok(a) if a.applicant == who.person.id => a,
        Ok(_) => {
            crate::session::role_refused(&state, &who, "permission.not_applicant", &op.0).await;
            return forbidden(m, &op, &path);
        }
        Err(e) => return internal(e, &m, &op, &path),
    };
    let values = ApplyValues {
        kind: app.kind.code().to_string(),
        reason: app.reason.clone(),
        phone: app.phone.clone(),
        email: app.email.clone(),
        egov_account: app.egov_account.clone(),
        read_pdpa: app.confirmations.read_pdpa_and_rules,
        has_card: app.confirmations.has_certificate_and_reader,
    };
    let chosen: Vec<String> = app.items.iter().map(|i| i.as_str().to_string()).collect();
    match apply_page(&state, m.clone(), &who, path.clone(), values, &chosen, None).await {
        Ok(page) => render(&page, &op),
        Err(e) => internal(e, &m, &op, &path),
    }
}

pub async fn amend_submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let id = ApplicationId::new(id);
    save_application(state, m, op, addr, who, Some(id), pairs).await
}

/// The application with every sign-off, and what the viewer may do with it.
async fn application_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    id: i64,
    notice: Option<String>,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = format!("/permissions/applications/{id}");
    let me = who.person.id;
    let app = match perm::application_for_viewer(
        state.app.store(),
        policy(state),
        me,
        ApplicationId::new(id),
        &now_op(op),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return internal(e, &m, op, &path),
    };
    let today = taipei_date(Timestamp::now());
    let waiting = match perm::inbox(state.app.store(), policy(state), me, today).await {
        Ok(entries) => entries.into_iter().find(|e| e.application.id == app.id),
        Err(e) => return internal(e, &m, op, &path),
    };
    let names = match Names::load(state).await {
        Ok(n) => n,
        Err(e) => return internal(e, &m, op, &path),
    };
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = build_application_page(state, m, who, &app, &names, waiting.map(|w| w.step))
        .with(notice, error);
    (status, render(&page, op)).into_response()
}

impl ApplicationPage {
    fn with(mut self, notice: Option<String>, error: Option<FormError>) -> Self {
        self.notice = notice;
        self.error = error;
        self
    }
}

fn build_application_page(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
    app: &PermissionApplication,
    names: &Names,
    my_step: Option<Step>,
) -> ApplicationPage {
    let mine = app.applicant == who.person.id;
    let editable = matches!(
        app.state,
        ApplicationState::Draft | ApplicationState::Returned { .. }
    );
    let withdrawable = editable
        || matches!(app.state, ApplicationState::Pending { step } if step != Step::Countersign);
    let today = taipei_date(Timestamp::now());
    let decide = my_step.map(|step| DecideForm {
        step: label(&m, "step", step.code()),
        administrator: step == Step::PermissionAdministrator,
        countersign: step == Step::Countersign,
        date: match step {
            Step::PermissionAdministrator => today.format_short(),
            _ => String::new(),
        },
    });
    ApplicationPage {
        today: today_in(&m),
        user: Some(bar(state, who)),
        path: format!("/permissions/applications/{}", app.id),
        csrf: who.session.csrf_token.clone(),
        id: app.id.get(),
        form_number: app.form_number.to_string(),
        kind: label(&m, "kind", app.kind.code()),
        application_date: date(&m, app.application_date),
        unit: names.unit(&app.unit),
        title: app.title.clone(),
        name: app.name.clone(),
        reason: app.reason.clone(),
        national_id_masked: app.national_id_masked.clone(),
        phone: app.phone.clone(),
        email: app.email.clone(),
        egov_account: app.egov_account.clone(),
        items: app
            .items
            .iter()
            .map(|i| ItemLabel {
                code: i.as_str().to_string(),
                name: names
                    .items
                    .get(i.as_str())
                    .map(|(zh, en)| if m.is_zh() { zh.clone() } else { en.clone() })
                    .unwrap_or_default(),
            })
            .collect(),
        read_pdpa: app.confirmations.read_pdpa_and_rules,
        has_card: app.confirmations.has_certificate_and_reader,
        state: label(&m, "state", app.state.code()),
        state_code: app.state.code().to_string(),
        state_detail: state_detail(&m, &app.state),
        steps: app
            .steps
            .iter()
            .map(|s| StepRow {
                round: s.round,
                step: label(&m, "step", s.step.code()),
                who: names.person(s.by),
                at: format_taipei_datetime(s.at),
                outcome: label(&m, "outcome", s.outcome.code()),
                outcome_code: s.outcome.code().to_string(),
                effective_from: s.effective_from.map(|d| date(&m, d)).unwrap_or_default(),
                comment: s.comment.clone(),
            })
            .collect(),
        can_submit: mine && editable,
        can_amend: mine && editable,
        can_withdraw: mine && withdrawable,
        decide,
        notice: None,
        error: None,
        m,
    }
}

pub async fn application(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let notice = notice(&m, q.done.as_deref());
    application_page(&state, m, &op, &who, id, notice, None).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// After an action on an application: to its page saying what happened, or the page again
/// with the refusal.
async fn after_action(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    id: i64,
    outcome: Result<&'static str, PermissionError>,
) -> Response {
    let path = format!("/permissions/applications/{id}");
    match outcome {
        Ok(done) => Redirect::to(&format!("{path}?done={done}")).into_response(),
        Err(e) => match shown(e, &m, op, &path) {
            Shown::Form(s, f) => application_page(state, m, op, who, id, None, Some((s, f))).await,
            Shown::Page(r) => r,
        },
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let o = op_of(&op, addr);
    let r = perm::submit_application(state.app.store(), who.person.id, ApplicationId::new(id), &o)
        .await
        .map(|_| "submitted");
    after_action(&state, m, &op, &who, id, r).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let o = op_of(&op, addr);
    let r =
        perm::withdraw_application(state.app.store(), who.person.id, ApplicationId::new(id), &o)
            .await
            .map(|_| "withdrawn");
    after_action(&state, m, &op, &who, id, r).await
}

#[derive(Deserialize)]
pub struct DecidePosted {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    comment: String,
}

/// The approver's decision: the capability for the pending step, then the decision itself.
pub async fn decide(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<DecidePosted>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let today = taipei_date(Timestamp::now());
    let decision = match parse_decision(&f.decision, Some(&f.effective_from), &f.comment, today) {
        Ok(d) => d,
        Err(b) => {
            let e = bad_field(&m, b);
            return application_page(
                &state,
                m,
                &op,
                &who,
                id,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, e)),
            )
            .await;
        }
    };
    let o = op_of(&op, addr);
    let store = state.app.store();
    let r = async {
        let cap = perm::approver_at_step(
            store,
            policy(&state),
            who.person.id,
            ApplicationId::new(id),
            &o,
        )
        .await?;
        perm::decide_step(store, &cap, decision, &o).await
    }
    .await
    .map(|_| "decided");
    after_action(&state, m, &op, &who, id, r).await
}

pub async fn inbox(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Query(q): Query<DoneQuery>,
) -> Response {
    let path = "/permissions/inbox";
    let today = taipei_date(Timestamp::now());
    let store = state.app.store();
    let loaded = async {
        let entries = perm::inbox(store, policy(&state), who.person.id, today).await?;
        // §2: personnel changes the administrator and the old supervisor are told of.
        let notices = staff::unread_notices(store, who.person.id).await?;
        Ok::<_, PermissionError>((entries, notices))
    }
    .await;
    let (entries, notices) = match loaded {
        Ok(x) => x,
        Err(e) => return internal(e, &m, &op, path),
    };
    let names = match Names::load(&state).await {
        Ok(n) => n,
        Err(e) => return internal(e, &m, &op, path),
    };
    let rows = entries
        .iter()
        .map(|e| {
            let a = &e.application;
            InboxRow {
                id: a.id.get(),
                form_number: a.form_number.to_string(),
                applicant: names.person(a.applicant),
                unit: names.unit(&a.unit),
                kind: label(&m, "kind", a.kind.code()),
                step: label(&m, "step", e.step.code()),
                since: e
                    .waiting_since
                    .map(format_taipei_datetime)
                    .unwrap_or_default(),
                reminder_on: e.reminder_on.map(|d| date(&m, d)).unwrap_or_default(),
                reminder_due: e.reminder_due,
            }
        })
        .collect();
    let notices = notices
        .iter()
        .map(|n| NoticeLine {
            id: n.id,
            what: label(&m, "notice", &n.kind.replace('.', "-")),
            about: n
                .object
                .strip_prefix("person:")
                .and_then(|p| p.parse().ok())
                .map(|p| names.person(PersonId::new(p)))
                // §2 ¶2: the person's own reminder names the day to file before.
                .or_else(|| {
                    let day = n.object.strip_prefix("form1_before:")?;
                    let d = RocDate::from_civil(day.parse().ok()?).ok()?;
                    Some(format!(
                        "{} {}",
                        m.get("perm-notice-form1-before"),
                        date(&m, d)
                    ))
                })
                .or_else(|| {
                    n.object
                        .strip_prefix("calendar:")
                        .map(|y| format!("{y} → /admin/calendar"))
                })
                .unwrap_or_default(),
            at: format_taipei_datetime(n.created_at),
        })
        .collect();
    let page = InboxPage {
        today: today_in(&m),
        user: Some(bar(&state, &who)),
        path: path.into(),
        csrf: who.session.csrf_token.clone(),
        rows,
        notices,
        notice: notice(&m, q.done.as_deref()),
        m,
    };
    render(&page, &op)
}

/// The recipient marks one notice read (CSRF-checked); back to the inbox.
pub async fn notice_read(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let path = "/permissions/inbox";
    match staff::mark_notice_read(state.app.store(), who.person.id, id, &op_of(&op, addr)).await {
        Ok(()) => Redirect::to(&format!("{path}?done=notice_read")).into_response(),
        Err(e) => internal(e, &m, &op, path),
    }
}

// ---------------------------------------------------------------------------------------------
// Grants.

fn grant_rows(m: &Messages, names: &Names, grants: &[GrantView]) -> Vec<GrantRow> {
    grants
        .iter()
        .map(|v| {
            let g = &v.grant;
            let note = match (g.suspended_from, g.suspension_cause) {
                (Some(from), Some(cause)) => format!(
                    "{} {}{}",
                    label(m, "cause", cause.code()),
                    m.get("perm-since"),
                    date(m, from)
                ),
                _ => String::new(),
            };
            GrantRow {
                id: g.id.get(),
                account: v.account.as_str().to_string(),
                name: v.name.clone(),
                unit: names.unit(&v.unit),
                item: names.item(m, g.item.as_str()),
                from: date(m, g.effective_from),
                to: g.effective_to.map(|d| date(m, d)).unwrap_or_default(),
                status: label(m, "grant", g.status.code()),
                status_code: g.status.code().to_string(),
                in_force: v.in_force,
                note,
                application: g.application.get(),
            }
        })
        .collect()
}

pub async fn my_grants(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    let path = "/permissions/grants";
    let today = taipei_date(Timestamp::now());
    let grants = match perm::my_grants(state.app.store(), who.person.id, today).await {
        Ok(g) => g,
        Err(e) => return internal(e, &m, &op, path),
    };
    let names = match Names::load(&state).await {
        Ok(n) => n,
        Err(e) => return internal(e, &m, &op, path),
    };
    let page = GrantsPage {
        today: today_in(&m),
        user: Some(bar(&state, &who)),
        path: path.into(),
        overview: false,
        units: vec![],
        items: vec![],
        statuses: vec![],
        rows: grant_rows(&m, &names, &grants),
        error: None,
        m,
    };
    render(&page, &op)
}

/// The overview's filters as they come in the query string (no personal data).
#[derive(Deserialize, Default)]
pub struct FilterQuery {
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub status: String,
}

pub(crate) fn parse_filter(q: &FilterQuery) -> Result<GrantFilter, BadField> {
    let bad = |code: &str, zh: &str, en: &str| BadField {
        code: code.into(),
        zh: zh.into(),
        en: en.into(),
    };
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(GrantFilter {
        unit: text(&q.unit)
            .map(UnitId::new)
            .transpose()
            .map_err(|_| bad("permission.bad_filter", "單位代碼不正確", "bad unit"))?,
        item: text(&q.item)
            .map(|i| ServiceItemCode::parse(&i))
            .transpose()
            .map_err(|_| bad("permission.bad_filter", "查調項目代碼不正確", "bad item"))?,
        status: match text(&q.status) {
            None => None,
            Some(s) => Some(GrantStatus::parse_code(&s).ok_or_else(|| {
                bad(
                    "permission.bad_filter",
                    "狀態應為 active、suspended 或 ended",
                    "status must be active, suspended or ended",
                )
            })?),
        },
    })
}

pub async fn overview(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Query(q): Query<FilterQuery>,
) -> Response {
    let path = "/permissions/admin/grants";
    let store = state.app.store();
    let desk =
        match perm::administrator_desk(store, policy(&state), who.person.id, &now_op(&op)).await {
            Ok(d) => d,
            Err(PermissionError::Refused(_)) => return forbidden(m, &op, path),
            Err(e) => return internal(e, &m, &op, path),
        };
    let names = match Names::load(&state).await {
        Ok(n) => n,
        Err(e) => return internal(e, &m, &op, path),
    };
    let (status, rows, error) = match parse_filter(&q) {
        Err(b) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![],
            Some(bad_field(&m, b)),
        ),
        Ok(filter) => {
            let today = taipei_date(Timestamp::now());
            match perm::grant_overview(store, &desk, &filter, today).await {
                Ok(g) => (StatusCode::OK, grant_rows(&m, &names, &g), None),
                Err(e) => return internal(e, &m, &op, path),
            }
        }
    };
    let units = names
        .units
        .iter()
        .map(|(id, name)| Choice {
            value: id.as_str().to_string(),
            label: name.clone(),
            selected: id.as_str() == q.unit,
        })
        .collect();
    let items = names
        .items
        .iter()
        .map(|(code, (zh, en))| Choice {
            value: code.clone(),
            label: if m.is_zh() { zh.clone() } else { en.clone() },
            selected: *code == q.item,
        })
        .collect();
    let statuses = GrantStatus::ALL
        .iter()
        .map(|s| Choice {
            value: s.code().to_string(),
            label: label(&m, "grant", s.code()),
            selected: s.code() == q.status,
        })
        .collect();
    let page = GrantsPage {
        today: today_in(&m),
        user: Some(bar(&state, &who)),
        path: path.into(),
        overview: true,
        units,
        items,
        statuses,
        rows,
        error,
        m,
    };
    (status, render(&page, &op)).into_response()
}

// ---------------------------------------------------------------------------------------------
// Supervisors: staff changes and recertification.

async fn staff_view(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = "/permissions/staff";
    let store = state.app.store();
    let desk = match perm::supervisor_desk(store, policy(state), who.person.id, &now_op(op)).await {
        Ok(d) => d,
        Err(PermissionError::Refused(_)) => return forbidden(m, op, path),
        Err(e) => return internal(e, &m, op, path),
    };
    let today = taipei_date(Timestamp::now());
    let loaded = async {
        let changes = staff::upcoming_staff_changes(store, &desk, today).await?;
        let rounds = recert::recertification_rounds(store, &desk).await?;
        let names = Names::load(state).await?;
        Ok::<_, PermissionError>((changes, rounds, names))
    }
    .await;
    let (changes, rounds, names) = match loaded {
        Ok(x) => x,
        Err(e) => return internal(e, &m, op, path),
    };
    let side = |unit: &UnitId, status: querywarden_domain::org::StaffStatus| {
        format!(
            "{}（{}）",
            names.unit(unit),
            label(&m, "staff", status.code())
        )
    };
    let changes = changes
        .iter()
        .map(|(p, r)| ChangeRow {
            name: p.name.clone(),
            account: p.account.as_str().to_string(),
            from: side(&r.change.from_unit, r.change.from_status),
            to: side(&r.change.to_unit, r.change.to_status),
            effective: date(&m, r.change.effective),
            source: r.source.clone(),
        })
        .collect();
    let rounds = rounds
        .iter()
        .rev()
        .map(|r| RoundRow {
            id: r.id.get(),
            quarter: r.quarter.name_zh(),
            opened: date(&m, r.opened_on),
            deadline: date(&m, r.deadline),
            closed: r.closed_on.map(|d| date(&m, d)).unwrap_or_default(),
        })
        .collect();
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = StaffPage {
        today: today_in(&m),
        user: Some(bar(state, who)),
        path: path.into(),
        csrf: who.session.csrf_token.clone(),
        changes,
        rounds,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn staff_page(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    staff_view(&state, m, &op, &who, None).await
}

pub async fn open_round(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let store = state.app.store();
    let o = op_of(&op, addr);
    let opened = async {
        let desk =
            perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op)).await?;
        recert::open_recertification(store, policy(&state), &desk, &o).await
    }
    .await;
    match opened {
        Ok((r, _)) => Redirect::to(&format!(
            "/permissions/recertification/{}?done=opened",
            r.id.get()
        ))
        .into_response(),
        Err(e) => match shown(e, &m, &op, "/permissions/staff") {
            Shown::Form(s, f) => staff_view(&state, m, &op, &who, Some((s, f))).await,
            Shown::Page(r) => r,
        },
    }
}

async fn round_view(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    id: i64,
    notice: Option<String>,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = format!("/permissions/recertification/{id}");
    let store = state.app.store();
    let desk = match perm::supervisor_desk(store, policy(state), who.person.id, &now_op(op)).await {
        Ok(d) => d,
        Err(PermissionError::Refused(_)) => return forbidden(m, op, &path),
        Err(e) => return internal(e, &m, op, &path),
    };
    let loaded = async {
        let r = recert::recertification_round(store, &desk, RoundId::new(id), &now_op(op)).await?;
        Ok::<_, PermissionError>((r, Names::load(state).await?))
    }
    .await;
    let ((round, items), names) = match loaded {
        Ok(x) => x,
        Err(e) => return internal(e, &m, op, &path),
    };
    let lines = items
        .iter()
        .map(|i| LineRow {
            grant: i.grant.get(),
            person: names.person(i.person),
            item: names.item(&m, i.item.as_str()),
            uses: i.uses_last_quarter,
            last_used: i.last_used.map(|d| date(&m, d)).unwrap_or_default(),
            propose_removal: i.propose_removal,
            decision: i
                .decision
                .map(|d| label(&m, "decision", d.code()))
                .unwrap_or_default(),
            decision_code: i.decision.map(|d| d.code()).unwrap_or("").to_string(),
        })
        .collect();
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = RoundPage {
        today: today_in(&m),
        user: Some(bar(state, who)),
        path,
        csrf: who.session.csrf_token.clone(),
        id,
        quarter: round.quarter.name_zh(),
        opened: date(&m, round.opened_on),
        deadline: date(&m, round.deadline),
        closed: round.closed_on.map(|d| date(&m, d)).unwrap_or_default(),
        open: round.closed_on.is_none(),
        lines,
        notice,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn round(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let notice = notice(&m, q.done.as_deref());
    round_view(&state, m, &op, &who, id, notice, None).await
}

#[derive(Deserialize)]
pub struct RoundDecisionPosted {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    grant: i64,
    #[serde(default)]
    decision: String,
}

async fn after_round_action(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    id: i64,
    outcome: Result<&'static str, PermissionError>,
) -> Response {
    let path = format!("/permissions/recertification/{id}");
    match outcome {
        Ok(done) => Redirect::to(&format!("{path}?done={done}")).into_response(),
        Err(e) => match shown(e, &m, op, &path) {
            Shown::Form(s, f) => round_view(state, m, op, who, id, None, Some((s, f))).await,
            Shown::Page(r) => r,
        },
    }
}

pub async fn round_decide(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<RoundDecisionPosted>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let Some(decision) = RecertificationDecision::parse_code(&f.decision) else {
        let e = FormError {
            code: "recertification.bad_decision".into(),
            message: m.get("perm-bad-recert-decision"),
        };
        return round_view(
            &state,
            m,
            &op,
            &who,
            id,
            None,
            Some((StatusCode::UNPROCESSABLE_ENTITY, e)),
        )
        .await;
    };
    let store = state.app.store();
    let o = op_of(&op, addr);
    let r = async {
        let desk =
            perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op)).await?;
        recert::decide_recertification(
            store,
            &desk,
            RoundId::new(id),
            GrantId::new(f.grant),
            decision,
            &o,
        )
        .await
    }
    .await
    .map(|()| "recertified");
    after_round_action(&state, m, &op, &who, id, r).await
}

pub async fn round_close(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let store = state.app.store();
    let o = op_of(&op, addr);
    let r = async {
        let desk =
            perm::supervisor_desk(store, policy(&state), who.person.id, &now_op(&op)).await?;
        recert::close_recertification(store, &desk, RoundId::new(id), &o).await
    }
    .await
    .map(|_| "closed");
    after_round_action(&state, m, &op, &who, id, r).await
}

// ---------------------------------------------------------------------------------------------
// The administrator: staff import and accounts.

async fn admin_desk_or_403(
    state: &AppState,
    m: &Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    path: &str,
) -> Result<querywarden_domain::permission::AdministratorDesk, Response> {
    match perm::administrator_desk(state.app.store(), policy(state), who.person.id, &now_op(op))
        .await
    {
        Ok(d) => Ok(d),
        Err(PermissionError::Refused(_)) => Err(forbidden(m.clone(), op, path)),
        Err(e) => Err(internal(e, m, op, path)),
    }
}

fn import_page(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
) -> StaffImportPage {
    StaffImportPage {
        today: today_in(&m),
        user: Some(bar(state, who)),
        path: "/permissions/admin/staff-import".into(),
        csrf: who.session.csrf_token.clone(),
        result: None,
        row_errors: vec![],
        m,
    }
}

pub async fn import_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    let path = "/permissions/admin/staff-import";
    if let Err(r) = admin_desk_or_403(&state, &m, &op, &who, path).await {
        return r;
    }
    render(&import_page(&state, m, &who), &op)
}

/// The largest staff file accepted (a bureau of a few thousand people fits many times).
const MAX_STAFF_FILE: usize = 5 * 1024 * 1024;

pub async fn import_upload(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let path = "/permissions/admin/staff-import";
    let desk = match admin_desk_or_403(&state, &m, &op, &who, path).await {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let malformed = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "request.malformed",
            "上傳格式錯誤",
            "malformed upload",
            &op.0,
        )
    };
    let upload = match read_upload(&mut multipart, "file", MAX_STAFF_FILE).await {
        Ok(u) => u,
        Err(UploadError::Malformed) => return Err(malformed()),
        Err(UploadError::TooLarge) => {
            if let Some(e) = upload_refused(&state, &who, "staff_import.too_large", &op.0).await {
                return Err(e);
            }
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "staff_import.too_large",
                "檔案過大（上限 5 MB）",
                "file too large (5 MB at most)",
                &op.0,
            ));
        }
    };
    let (csrf, file) = (upload.field("csrf"), upload.file);
    if !who.csrf_ok(&csrf) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    let mut page = import_page(&state, m.clone(), &who);
    let Some(Ok(text)) = file.map(String::from_utf8) else {
        if let Some(e) = upload_refused(&state, &who, "staff_import.not_utf8", &op.0).await {
            return Err(e);
        }
        page.row_errors = vec![m.get("perm-import-not-utf8")];
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
    };
    let o = op_of(&op, addr);
    Ok(
        match staff::import_staff_csv(state.app.store(), &desk, &text, &o).await {
            Ok(r) => {
                page.result = Some(format!(
                    "{}：{} / {}：{} / {}：{} / {}：{}",
                    m.get("perm-import-rows"),
                    r.rows,
                    m.get("perm-import-created"),
                    r.created,
                    m.get("perm-import-changed"),
                    r.changed,
                    m.get("perm-import-unchanged"),
                    r.unchanged
                ));
                render(&page, &op)
            }
            Err(staff::StaffImportError::BadRows(rows)) => {
                page.row_errors = rows
                    .iter()
                    .map(|e| {
                        if m.is_zh() {
                            format!("第 {} 行：{}", e.line, e.reason)
                        } else {
                            format!("line {}: {}", e.line, e.reason)
                        }
                    })
                    .collect();
                (StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response()
            }
            Err(staff::StaffImportError::Failed(e)) => internal(e, &m, &op, path),
        },
    )
}

async fn accounts_view(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    notice: Option<String>,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = "/permissions/admin/accounts";
    if let Err(r) = admin_desk_or_403(state, &m, op, who, path).await {
        return r;
    }
    let loaded = async {
        let disabled = state.app.store().disabled_accounts().await?;
        Ok::<_, PermissionError>((disabled, Names::load(state).await?))
    }
    .await;
    let (disabled, names) = match loaded {
        Ok(x) => x,
        Err(e) => return internal(e, &m, op, path),
    };
    let rows = disabled
        .iter()
        .filter_map(|(id, reason)| {
            names.persons.get(id).map(|p| DisabledRow {
                account: p.account.as_str().to_string(),
                name: p.name.clone(),
                unit: names.unit(&p.unit),
                reason: label(&m, "disabled", reason),
            })
        })
        .collect();
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = AccountsPage {
        today: today_in(&m),
        user: Some(bar(state, who)),
        path: path.into(),
        csrf: who.session.csrf_token.clone(),
        rows,
        notice,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn accounts(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Query(q): Query<DoneQuery>,
) -> Response {
    let notice = notice(&m, q.done.as_deref());
    accounts_view(&state, m, &op, &who, notice, None).await
}

#[derive(Deserialize)]
pub struct EnablePosted {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
}

pub async fn enable(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    PageSession(who): PageSession,
    Form(f): Form<EnablePosted>,
) -> Response {
    if !who.csrf_ok(&f.csrf) {
        return csrf_refused(&state, &who, &op.0).await.into_response();
    }
    let path = "/permissions/admin/accounts";
    let store = state.app.store();
    let o = op_of(&op, addr);
    let r = async {
        let desk =
            perm::administrator_desk(store, policy(&state), who.person.id, &now_op(&op)).await?;
        let account =
            Account::parse(f.account.trim()).map_err(|_| PermissionError::NotFound("帳號"))?;
        let person = store
            .person_by_account(&account)
            .await?
            .ok_or(PermissionError::NotFound("帳號"))?;
        recert::enable_account(store, &desk, person.id, &o).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to(&format!("{path}?done=enabled")).into_response(),
        Err(PermissionError::Refused(_)) => forbidden(m, &op, path),
        Err(e) => match shown(e, &m, &op, path) {
            Shown::Form(s, f) => accounts_view(&state, m, &op, &who, None, Some((s, f))).await,
            Shown::Page(r) => r,
        },
    }
}
