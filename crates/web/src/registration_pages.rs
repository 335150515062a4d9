//! The query-registration pages (§4–§6, Forms 2 and 3), zh-TW first: register a
//! lookup (one subject, or a batch CSV), the registration with approve / reject / reveal /
//! cancel / execute, the view-only result with its watermark and the numbered print for the
//! case file, the per-role inboxes, and Form 3 (the district office's request, the
//! responsible unit's review, the delivered results). Also owns the router of these routes
//! and of `/api/v1/registrations/…` and `/api/v1/requests/…` (see `registration_api`).
//!
//! Security-sensitive: every POST checks the session's CSRF token; who may do what is
//! decided by the app layer (`approver_of`, the execution policy, `may_view`). Personal data
//! travels only in POST bodies: URLs carry registration and request numbers and item codes
//! only. National IDs are shown masked unless revealed (audited) and never echoed back into
//! a form. Result pages keep the middleware's `Cache-Control: no-store` and offer no
//! download or export; nothing here logs personal data.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::Timestamp;
use querywarden_app::AppError;
use querywarden_app::config::BliMode;
use querywarden_app::execution::{self, PortalReport, ResultContent, ResultView};
use querywarden_app::registration::{
    self as reg, Denied, RegisterBatchRequest, RegisterQueryRequest, RegistrationSummary,
};
use querywarden_app::registration::{ExecutionMode, ExecutionOutcome, QueryRequestRow};
use querywarden_app::request::{self, Delivery, FileRequestInput, RequestSubjectInput};
use querywarden_domain::catalogue::{LegalBasis, LegalBasisId, ServiceItem, ServiceItemCode};
use querywarden_domain::org::{Person, PersonId, Role, Unit, UnitId, UnitKind};
use querywarden_domain::registration::form3::Stage;
use querywarden_domain::registration::{
    Origin, RegistrationNo, RegistrationState, RequestNo, may_register,
};
use querywarden_domain::roc_date::{RocDate, format_taipei_datetime, taipei_date};
use serde::Deserialize;

use crate::error::PageError;
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::registration_api as api;
use crate::registration_templates::{
    AlertRow, Choice, ContentTable, ExecutionLine, ExpiringRow, PortalForm, RefusalRow,
    RegInboxPage, RegisterPage, RegistrationPage, RequestListPage, RequestNewPage, RequestPage,
    RequestRow, ResultLine, ResultPage, SentRow, SubjectLine, SummaryRow, today_in,
};
use crate::session::{PageSession, csrf_refused, upload_refused};
use crate::templates::{ErrorPage, FormError, UserBar};
use crate::upload::{UploadError, read_upload};
use crate::{AppState, Lang, OperationId};

/// The e-government portal (我的E政府) where portal-mode queries are run.
const PORTAL_URL: &str = "https://www.gov.tw/";

/// Every registration and Form 3 route: pages and JSON API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registrations", get(inbox).post(register_submit))
        .route("/registrations/new", get(register_form))
        .route(
            "/registrations/batch",
            get(batch_form)
                .post(batch_upload)
                .layer(axum::extract::DefaultBodyLimit::max(3 * 1024 * 1024)),
        )
        .route("/registrations/{no}", get(registration))
        .route("/registrations/{no}/reveal", post(reveal))
        .route("/registrations/{no}/approve", post(approve))
        .route("/registrations/{no}/reject", post(reject))
        .route("/registrations/{no}/cancel", post(cancel))
        .route("/registrations/{no}/execute", post(execute))
        .route("/registrations/{no}/results/{item}", get(view_result))
        .route(
            "/registrations/{no}/results/{item}/print",
            post(print_result),
        )
        .route(
            "/registrations/{no}/results/{item}/prints-destroyed",
            post(confirm_prints),
        )
        .route(
            "/registrations/{no}/executions/{item}/statement",
            post(state_outcome),
        )
        .route("/requests", get(requests).post(request_submit))
        .route("/requests/new", get(request_form))
        .route("/requests/{no}", get(request_page))
        .route("/requests/{no}/accept", post(request_accept))
        .route("/requests/{no}/reject", post(request_reject))
        .route("/requests/{no}/deliver", post(request_deliver))
        .route("/requests/{no}/consent", post(request_consent))
        .route("/requests/{no}/sign", post(request_sign))
        .route(
            "/requests/{no}/subjects/{position}/close",
            post(request_close_subject),
        )
        .merge(api::routes())
}

// ---------------------------------------------------------------------------------------
// Shared helpers

/// People, units, legal bases and items, for showing names instead of ids.
pub(crate) struct Names {
    pub persons: BTreeMap<PersonId, Person>,
    pub units: Vec<Unit>,
    pub bases: Vec<LegalBasis>,
    pub items: Vec<ServiceItem>,
}

impl Names {
    pub async fn load(state: &AppState) -> Result<Names, AppError> {
        let store = state.app.store();
        Ok(Names {
            persons: store
                .persons()
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect(),
            units: store.units().await?,
            bases: store.legal_bases().await?,
            items: store.service_items().await?,
        })
    }

    pub fn person(&self, id: PersonId) -> String {
        self.persons.get(&id).map_or_else(
            || format!("#{}", id.get()),
            |p| format!("{}（{}）", p.name, p.account.as_str()),
        )
    }

    pub fn unit(&self, id: &UnitId) -> String {
        self.units
            .iter()
            .find(|u| &u.id == id)
            .map_or_else(|| id.as_str().to_string(), |u| u.name_zh.clone())
    }

    pub fn basis(&self, id: &LegalBasisId) -> String {
        self.bases.iter().find(|b| &b.id == id).map_or_else(
            || id.as_str().to_string(),
            |b| format!("{} {}", b.law, b.article),
        )
    }

    pub fn item(&self, code: &ServiceItemCode, m: &Messages) -> String {
        self.items.iter().find(|i| &i.code == code).map_or_else(
            || code.as_str().to_string(),
            |i| {
                format!(
                    "{} {}",
                    code.as_str(),
                    if m.is_zh() { &i.name_zh } else { &i.name_en }
                )
            },
        )
    }
}

fn date(d: RocDate, m: &Messages) -> String {
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

fn codes(items: &BTreeSet<ServiceItemCode>) -> String {
    items
        .iter()
        .map(ServiceItemCode::as_str)
        .collect::<Vec<_>>()
        .join("、")
}

fn state_label(code: &str, m: &Messages) -> String {
    m.get(&format!("reg-state-{}", code.replace('_', "-")))
}

fn summary_row(s: &RegistrationSummary, names: &Names, m: &Messages) -> SummaryRow {
    SummaryRow {
        no: s.no.to_string(),
        date: date(s.date, m),
        state_code: s.state.to_string(),
        state: state_label(s.state, m),
        items: codes(&s.items),
        basis: names.basis(&s.legal_basis),
        applicant: names.person(s.parties.applicant),
        needer: names.person(s.parties.needer),
        querier: names.person(s.parties.querier),
        findings: s
            .findings
            .iter()
            .filter_map(|c| querywarden_domain::snooping::SnoopingRule::parse_code(c))
            .map(|r| r.name_zh())
            .collect::<Vec<_>>()
            .join("；"),
        valid_until: s
            .valid_until
            .map(format_taipei_datetime)
            .unwrap_or_default(),
        remaining: codes(&s.remaining_items),
    }
}

fn request_row(r: &QueryRequestRow, names: &Names, m: &Messages) -> RequestRow {
    RequestRow {
        no: r.no.to_string(),
        date: date(r.date, m),
        unit: names.unit(&r.requesting_unit),
        applicant: names.person(r.applicant),
        state_code: r.state.code().to_string(),
        state: m.get(&format!("req-state-{}", r.state.code())),
        subjects: r.subject_count,
        delivery: delivery_label(r, m),
    }
}

fn delivery_label(r: &QueryRequestRow, m: &Messages) -> String {
    match (r.delivery.as_deref(), &r.document_no) {
        (Some("in_system"), _) => m.get("req-delivery-in-system"),
        (Some("official_document"), Some(d)) => format!("{} {d}", m.get("req-delivery-document")),
        _ => String::new(),
    }
}

/// A refusal as a form error: the rule's zh-TW message and its code.
/// A refusal on a page: the sentence in the page's language saying what to do next; the code
/// stays in an attribute for machines (and in the log and the audit record).
pub(crate) fn form_error(d: &Denied, m: &Messages) -> FormError {
    FormError {
        code: d.code().to_string(),
        message: crate::refusals::denied(d, m),
    }
}

/// The HTTP status of a refusal.
pub(crate) fn denied_status(d: &Denied) -> StatusCode {
    match d {
        Denied::NotFound => StatusCode::NOT_FOUND,
        Denied::ResultDestroyed => StatusCode::GONE,
        Denied::SubjectDestroyed => StatusCode::GONE,
        Denied::ResultsApiOff => StatusCode::FORBIDDEN,
        Denied::PrintLimit { .. } => StatusCode::CONFLICT,
        Denied::Policy(_) => StatusCode::CONFLICT,
        Denied::NothingAwaiting(_) => StatusCode::CONFLICT,
        Denied::Registration(e) => match e.code() {
            "registration.not_allowed"
            | "approval.not_supervisor"
            | "approval.separation_of_duties"
            | "approval.second_approver"
            | "request.not_external"
            | "registration.applicant_role"
            | "registration.external_use_form3" => StatusCode::FORBIDDEN,
            "registration.wrong_state"
            | "request.subjects_open"
            | "request.signatures_missing"
            | "request.already_signed"
            | "request.subject_not_open" => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        },
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn forbidden(m: Messages, op: &OperationId, path: &str) -> Response {
    let message = m.get("forbidden");
    let page = ErrorPage::new(m, path, message, op.0.clone());
    (StatusCode::FORBIDDEN, render(&page, op)).into_response()
}

fn refused_page(m: Messages, op: &OperationId, path: &str, d: &Denied) -> Response {
    let e = form_error(d, &m);
    let page = ErrorPage::new(m, path, e.message, op.0.clone()).with_code(&e.code);
    (denied_status(d), render(&page, op)).into_response()
}

fn not_found(m: Messages, op: &OperationId, path: &str) -> Response {
    let message = m.get("error-not-found");
    let page = ErrorPage::new(m, path, message, op.0.clone());
    (StatusCode::NOT_FOUND, render(&page, op)).into_response()
}

fn bar(state: &AppState, who: &querywarden_app::auth::SignedIn) -> UserBar {
    UserBar::of(who, lock_after_ms(state))
}

fn internal(m: &Messages, op: &OperationId, path: &str) -> impl Fn(AppError) -> PageError + use<> {
    let (m, op, path) = (m.clone(), op.0.clone(), path.to_string());
    move |e| PageError::internal(&e, &op, m.clone(), &path)
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(q: &NoticeQuery, m: &Messages) -> Option<String> {
    let key = match q.notice.as_deref()? {
        "registered" => "reg-notice-registered",
        "batch" => "reg-notice-batch",
        "approved" => "reg-notice-approved",
        "rejected" => "reg-notice-rejected",
        "cancelled" => "reg-notice-cancelled",
        "executed" => "reg-notice-executed",
        "execution_failed" => "reg-notice-execution-failed",
        "outcome_unknown" => "reg-notice-outcome-unknown",
        "stated" => "reg-notice-stated",
        "prints" => "reg-notice-prints",
        "filed" => "req-notice-filed",
        "accepted" => "req-notice-accepted",
        "refused" => "req-notice-rejected",
        "delivered" => "req-notice-delivered",
        _ => return None,
    };
    Some(m.get(key))
}

fn parse_no(raw: &str) -> Option<RegistrationNo> {
    RegistrationNo::parse(raw).ok()
}

fn parse_item(raw: &str) -> Option<ServiceItemCode> {
    ServiceItemCode::parse(raw).ok()
}

// ---------------------------------------------------------------------------------------
// Inbox

pub async fn inbox(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let fail = internal(&m, &op, "/registrations");
    let desk = state.app.desk();
    let inbox = reg::inbox(&desk, &who.person, Timestamp::now())
        .await
        .map_err(&fail)?;
    let names = Names::load(&state).await.map_err(&fail)?;
    let page = RegInboxPage {
        user: Some(bar(&state, &who)),
        path: "/registrations".into(),
        today: today_in(&m),
        can_register: may_register(&who.person),
        can_request: who.person.has_role(Role::ExternalRequester),
        to_approve: inbox
            .to_approve
            .iter()
            .map(|s| summary_row(s, &names, &m))
            .collect(),
        to_execute: inbox
            .to_execute
            .iter()
            .map(|s| summary_row(s, &names, &m))
            .collect(),
        expiring: inbox
            .results_expiring
            .iter()
            .map(|e| ExpiringRow {
                no: e.no.to_string(),
                item: names.item(&e.item, &m),
                destroy_after: date(e.destroy_after, &m),
            })
            .collect(),
        sent_without_result: inbox
            .sent_without_result
            .iter()
            .map(|s| SentRow {
                no: s.no.to_string(),
                item: names.item(&s.item, &m),
                sent_at: format_taipei_datetime(s.sent_at),
            })
            .collect(),
        requests_to_review: inbox
            .requests_to_review
            .iter()
            .map(|r| request_row(r, &names, &m))
            .collect(),
        requests_to_sign: inbox
            .requests_to_sign
            .iter()
            .map(|r| request_row(r, &names, &m))
            .collect(),
        is_ethics_auditor: who.person.has_role(Role::EthicsAuditor),
        ethics_alerts: inbox.ethics_alerts.iter().map(alert_row).collect(),
        refusals: inbox
            .refusals
            .iter()
            .filter_map(|n| {
                let (href, no) = match n.object.split_once(':')? {
                    ("registration", no) => (format!("/registrations/{no}"), no),
                    ("request", no) => (format!("/requests/{no}"), no),
                    _ => return None,
                };
                Some(RefusalRow {
                    id: n.id,
                    href,
                    no: no.to_string(),
                    at: format_taipei_datetime(n.created_at),
                })
            })
            .collect(),
        csrf: who.session.csrf_token.clone(),
        m,
    };
    Ok(render(&page, &op))
}

fn alert_row(a: &reg::EthicsAlert) -> AlertRow {
    AlertRow {
        no: a.no.to_string(),
        rules: a
            .rules
            .iter()
            .map(|r| format!("{}（{}）", r.name_zh(), r.code()))
            .collect::<Vec<_>>()
            .join("、"),
        at: format_taipei_datetime(a.at),
        subject_id_masked: a.subject_id_masked.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// Register (one subject, or a batch)

/// The posted Form 2 row, as pairs (the items checkbox repeats).
#[derive(Default)]
struct PostedRegistration {
    csrf: String,
    subject_name: String,
    subject_id: String,
    linked_id: String,
    items: Vec<String>,
    legal_basis: String,
    relevance: String,
    case_no: String,
    companion_basis: String,
    no_case_reason: String,
    needer: String,
    querier: String,
}

impl PostedRegistration {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => p.csrf = v,
                "subject_name" => p.subject_name = v,
                "subject_id" => p.subject_id = v,
                "linked_id" => p.linked_id = v,
                "items" => p.items.push(v),
                "legal_basis" => p.legal_basis = v,
                "relevance" => p.relevance = v,
                "case_no" => p.case_no = v,
                "companion_basis" => p.companion_basis = v,
                "no_case_reason" => p.no_case_reason = v,
                "needer" => p.needer = v,
                "querier" => p.querier = v,
                _ => {}
            }
        }
        p
    }
}

fn person_field(raw: &str, default: PersonId) -> Option<PersonId> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some(default);
    }
    raw.parse::<i64>().ok().map(PersonId::new)
}

fn opt(raw: &str) -> Option<String> {
    Some(raw.trim().to_string()).filter(|s| !s.is_empty())
}

/// Builds the registration form: items held today by the queriers of the filer's unit, the
/// catalogue's legal bases, the unit's queriers and colleagues.
async fn register_page(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
    posted: Option<&PostedRegistration>,
    batch: bool,
) -> Result<RegisterPage, AppError> {
    let names = Names::load(state).await?;
    let me = &who.person;
    let today = taipei_date(Timestamp::now());
    let colleagues: Vec<&Person> = names
        .persons
        .values()
        .filter(|p| p.unit == me.unit)
        .collect();
    let mut held = BTreeSet::new();
    use querywarden_app::registration::GrantSource;
    let grants = querywarden_app::grants::StoreGrants::new(state.app.store().clone());
    for p in colleagues.iter().filter(|p| p.has_role(Role::Querier)) {
        held.extend(grants.active_items(p.id, today).await?);
    }
    let chosen_items: BTreeSet<&str> = posted
        .map(|p| p.items.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let pick = |v: Option<&str>, id: PersonId| v.is_some_and(|v| v == id.get().to_string());
    let default_querier = if me.has_role(Role::Querier) {
        Some(me.id)
    } else {
        None
    };
    Ok(RegisterPage {
        user: Some(bar(state, who)),
        path: if batch {
            "/registrations/batch".into()
        } else {
            "/registrations/new".into()
        },
        today: today_in(&m),
        csrf: who.session.csrf_token.clone(),
        error: None,
        line_errors: Vec::new(),
        batch,
        subject_name: posted.map(|p| p.subject_name.clone()).unwrap_or_default(),
        relevance: posted.map(|p| p.relevance.clone()).unwrap_or_default(),
        case_no: posted.map(|p| p.case_no.clone()).unwrap_or_default(),
        no_case_reason: posted.map(|p| p.no_case_reason.clone()).unwrap_or_default(),
        companion_bases: names
            .bases
            .iter()
            .filter(|b| b.active)
            .map(|b| Choice {
                value: b.id.as_str().to_string(),
                label: format!("{} {}", b.law, b.article),
                selected: posted.is_some_and(|p| p.companion_basis == b.id.as_str()),
            })
            .collect(),
        items: held
            .iter()
            .map(|c| Choice {
                value: c.as_str().to_string(),
                label: names.item(c, &m),
                selected: chosen_items.contains(c.as_str()),
            })
            .collect(),
        bases: names
            .bases
            .iter()
            .filter(|b| b.active)
            .map(|b| Choice {
                value: b.id.as_str().to_string(),
                label: format!("{} {} — {}", b.law, b.article, b.summary_zh),
                selected: posted.is_some_and(|p| p.legal_basis == b.id.as_str()),
            })
            .collect(),
        queriers: colleagues
            .iter()
            .filter(|p| p.has_role(Role::Querier))
            .map(|p| Choice {
                value: p.id.get().to_string(),
                label: names.person(p.id),
                selected: match posted {
                    Some(x) => pick(Some(&x.querier), p.id),
                    None => default_querier == Some(p.id),
                },
            })
            .collect(),
        needers: colleagues
            .iter()
            .map(|p| Choice {
                value: p.id.get().to_string(),
                label: names.person(p.id),
                selected: match posted {
                    Some(x) if !x.needer.is_empty() => pick(Some(&x.needer), p.id),
                    _ => p.id == me.id,
                },
            })
            .collect(),
        m,
    })
}

pub async fn register_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    if !may_register(&who.person) {
        if let Some(e) = upload_refused(&state, &who, "registration.not_allowed", &op.0).await {
            return Ok(e.into_response());
        }
        return Ok(forbidden(m, &op, "/registrations/new"));
    }
    let fail = internal(&m, &op, "/registrations/new");
    let page = register_page(&state, m, &who, None, false)
        .await
        .map_err(fail)?;
    Ok(render(&page, &op))
}

/// Files one Form 2 row. The national ID arrives in the POST body and is never echoed back.
pub async fn register_submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = PostedRegistration::from_pairs(pairs);
    if !who.csrf_ok(&posted.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let fail = internal(&m, &op, "/registrations/new");
    let input = match (
        person_field(&posted.querier, who.person.id),
        person_field(&posted.needer, who.person.id),
    ) {
        (Some(querier), Some(needer)) => RegisterQueryRequest {
            subject_name: posted.subject_name.clone(),
            subject_id: posted.subject_id.clone(),
            linked_id: opt(&posted.linked_id),
            items: posted.items.clone(),
            legal_basis: posted.legal_basis.clone(),
            relevance: posted.relevance.clone(),
            case_no: opt(&posted.case_no),
            companion_basis: opt(&posted.companion_basis),
            no_case_reason: opt(&posted.no_case_reason),
            needer: Some(needer),
            querier,
        },
        _ => {
            let mut page = register_page(&state, m, &who, Some(&posted), false)
                .await
                .map_err(&fail)?;
            page.error = Some(FormError {
                code: "registration.querier_role".into(),
                message: page.m.get("reg-pick-querier"),
            });
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
        }
    };
    let decided = reg::register(
        &state.app.desk(),
        &who.person,
        &input,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(&fail)?;
    match decided {
        Ok(r) => {
            Ok(Redirect::to(&format!("/registrations/{}?notice=registered", r.no)).into_response())
        }
        // §5: one who may not file Form 2 gets the refusal, not the form again.
        Err(d) if !may_register(&who.person) => Ok(refused_page(m, &op, "/registrations/new", &d)),
        Err(d) => {
            let mut page = register_page(&state, m, &who, Some(&posted), false)
                .await
                .map_err(&fail)?;
            page.error = Some(form_error(&d, &page.m));
            Ok((denied_status(&d), render(&page, &op)).into_response())
        }
    }
}

pub async fn batch_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    if !may_register(&who.person) {
        if let Some(e) = upload_refused(&state, &who, "registration.not_allowed", &op.0).await {
            return Ok(e.into_response());
        }
        return Ok(forbidden(m, &op, "/registrations/batch"));
    }
    let fail = internal(&m, &op, "/registrations/batch");
    let page = register_page(&state, m, &who, None, true)
        .await
        .map_err(fail)?;
    Ok(render(&page, &op))
}

/// The largest batch CSV accepted.
const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;

/// Batch registration: the shared fields plus a UTF-8 CSV (`姓名,身分證統一編號[,舊／新統一證號]`);
/// errors are reported by line and nothing is registered unless every line is right.
pub async fn batch_upload(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let fail = internal(&m, &op, "/registrations/batch");
    let malformed = |m: &Messages| PageError {
        status: StatusCode::BAD_REQUEST,
        message: m.get("reg-batch-malformed"),
        operation_id: op.0.clone(),
        messages: m.clone(),
        path: "/registrations/batch".into(),
    };
    let upload = match read_upload(&mut multipart, "file", MAX_BATCH_BYTES).await {
        Ok(u) => u,
        // Too large is 413, not "malformed".
        Err(UploadError::TooLarge) => {
            return Err(PageError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                message: if m.is_zh() {
                    "檔案過大，請分批上傳".into()
                } else {
                    "The file is too large; upload it in parts".into()
                },
                operation_id: op.0.clone(),
                messages: m.clone(),
                path: "/registrations/batch".into(),
            });
        }
        Err(UploadError::Malformed) => return Err(malformed(&m)),
    };
    let (pairs, csv) = (upload.fields, upload.file);
    let posted = PostedRegistration::from_pairs(pairs);
    if !who.csrf_ok(&posted.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let text = csv.and_then(|b| String::from_utf8(b).ok());
    let (Some(text), Some(querier), Some(needer)) = (
        text,
        person_field(&posted.querier, who.person.id),
        person_field(&posted.needer, who.person.id),
    ) else {
        let mut page = register_page(&state, m, &who, Some(&posted), true)
            .await
            .map_err(&fail)?;
        page.error = Some(FormError {
            code: "registration.batch_format".into(),
            message: page.m.get("reg-batch-malformed"),
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
    };
    let input = RegisterBatchRequest {
        items: posted.items.clone(),
        legal_basis: posted.legal_basis.clone(),
        relevance: posted.relevance.clone(),
        case_no: opt(&posted.case_no),
        companion_basis: opt(&posted.companion_basis),
        no_case_reason: opt(&posted.no_case_reason),
        needer: Some(needer),
        querier,
        csv: text,
    };
    let decided = reg::register_batch(
        &state.app.desk(),
        &who.person,
        &input,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(&fail)?;
    match decided {
        Ok(_) => Ok(Redirect::to("/registrations?notice=batch").into_response()),
        Err(d) if !may_register(&who.person) => {
            Ok(refused_page(m, &op, "/registrations/batch", &d))
        }
        Err(d) => {
            let mut page = register_page(&state, m, &who, Some(&posted), true)
                .await
                .map_err(&fail)?;
            // The batch file's errors, line by line, without the codes (they stay in the
            // attribute, the log and the audit record).
            if let Denied::Batch(lines) = &d {
                page.line_errors = lines
                    .iter()
                    .map(|l| {
                        page.m.with(
                            "refusal-batch-line",
                            &[
                                ("line", l.line.to_string()),
                                (
                                    "error",
                                    crate::refusals::registration_error(&l.error, &page.m),
                                ),
                            ],
                        )
                    })
                    .collect();
                page.error = Some(FormError {
                    code: d.code().into(),
                    message: page
                        .m
                        .with("refusal-batch-rows", &[("count", lines.len().to_string())]),
                });
            } else {
                page.error = Some(form_error(&d, &page.m));
            }
            Ok((denied_status(&d), render(&page, &op)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------
// The registration

/// Renders the registration for `who`, with an optional refusal and revealed IDs.
#[allow(
    clippy::too_many_arguments,
    reason = "one renderer for the page after every action; the optional parts are few and plain"
)]
async fn registration_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    no: RegistrationNo,
    notice: Option<String>,
    outcome: Option<&Denied>,
    revealed: Option<(String, String)>,
) -> Result<Response, PageError> {
    let path = format!("/registrations/{no}");
    let fail = internal(&m, op, &path);
    let desk = state.app.desk();
    let view = match reg::registration_view(&desk, &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(&fail)?
    {
        Ok(v) => v,
        Err(d) => return Ok(refused_page(m, op, &path, &d)),
    };
    let names = Names::load(state).await.map_err(&fail)?;
    let r = &view.registration;
    let now = Timestamp::now();
    let can_decide = reg::approver_of(&desk, &who.person, no)
        .await
        .map_err(&fail)?
        .is_ok();
    let approved_live =
        matches!(r.state, RegistrationState::Approved { valid_until, .. } if now < valid_until);
    // Items that may run now: not executed, and not awaiting an earlier attempt's outcome.
    let remaining: BTreeSet<ServiceItemCode> = r
        .items
        .iter()
        .filter(|i| !r.executed_items.contains(*i) && !r.awaiting_outcome.contains(*i))
        .cloned()
        .collect();
    let is_querier = r.parties.querier == who.person.id;
    let connected = state.app.config().bli.mode == BliMode::Connected;
    let (state_detail, approver) = match &r.state {
        RegistrationState::Approved {
            by,
            at,
            valid_until,
        } => (
            format!(
                "{} {}，{} {}",
                m.get("reg-approved-at"),
                format_taipei_datetime(*at),
                m.get("reg-valid-until"),
                format_taipei_datetime(*valid_until)
            ),
            names.person(*by),
        ),
        RegistrationState::Rejected { by, at, comment } => (
            format!("{}：{comment}", format_taipei_datetime(*at)),
            names.person(*by),
        ),
        RegistrationState::Cancelled { by, at } => (format_taipei_datetime(*at), names.person(*by)),
        RegistrationState::Registered { first_approval } => (
            first_approval
                .map(|(p, at)| {
                    format!(
                        "{} {} {}",
                        m.get("reg-first-approval"),
                        names.person(p),
                        format_taipei_datetime(at)
                    )
                })
                .unwrap_or_default(),
            // §5 ¶1: who approves it now — the supervisor, their deputy (代理) or one above.
            match reg::pending_approver(state.app.store(), r, now)
                .await
                .map_err(&fail)?
            {
                Some(s) if s.acting => {
                    format!("{}（{}）", names.person(s.person), m.get("reg-acting"))
                }
                Some(s) => names.person(s.person),
                None => String::new(),
            },
        ),
    };
    // §5 ¶1: a decision given as 代理 says so.
    let approver = match &r.state {
        RegistrationState::Approved { by, .. } | RegistrationState::Rejected { by, .. }
            if view.acting.iter().any(|(p, _)| p == by) =>
        {
            format!("{approver}（{}）", m.get("reg-acting"))
        }
        _ => approver,
    };
    let (subject_id, linked_id) = match revealed {
        Some(ids) => ids,
        None => (
            view.subject_id_masked.clone(),
            view.linked_id_masked.clone().unwrap_or_default(),
        ),
    };
    let page = RegistrationPage {
        user: Some(bar(state, who)),
        path: path.clone(),
        today: today_in(&m),
        csrf: who.session.csrf_token.clone(),
        notice,
        error: outcome.map(|d| form_error(d, &m)),
        no: r.no.to_string(),
        date: date(r.date, &m),
        state_code: r.state.code().to_string(),
        state: state_label(r.state.code(), &m),
        state_detail,
        origin: match r.origin {
            Origin::Internal => m.get("reg-origin-internal"),
            Origin::Form3(_) => m.get("reg-origin-form3"),
        },
        subject_name: view.subject_name.clone(),
        revealed: subject_id != view.subject_id_masked,
        subject_id,
        linked_id,
        items: r.items.iter().map(|i| names.item(i, &m)).collect(),
        remaining: remaining.iter().map(|i| i.as_str().to_string()).collect(),
        basis: names.basis(&r.legal_basis),
        relevance: r.relevance.clone(),
        case_no: r.case_no.clone().unwrap_or_default(),
        applicant: names.person(r.parties.applicant),
        needer: names.person(r.parties.needer),
        querier: names.person(r.parties.querier),
        approver,
        findings: view.findings_zh.iter().map(|s| s.to_string()).collect(),
        second_approval: r.second_approval_required,
        executions: view
            .executions
            .iter()
            .map(|e| ExecutionLine {
                item: names.item(&e.item, &m),
                mode: m.get(match e.mode {
                    ExecutionMode::Connected => "reg-mode-connected",
                    ExecutionMode::Portal => "reg-mode-portal",
                }),
                sent_at: format_taipei_datetime(e.sent_at),
                outcome: m.get(match (e.outcome, e.resolved_at.is_some()) {
                    (ExecutionOutcome::Sent | ExecutionOutcome::Unknown, true) => {
                        "reg-exec-resolved"
                    }
                    (ExecutionOutcome::Sent, false) => "reg-exec-sent",
                    (ExecutionOutcome::Received, _) => "reg-exec-received",
                    (ExecutionOutcome::Failed, _) => "reg-exec-failed",
                    (ExecutionOutcome::Recorded, _) => "reg-exec-recorded",
                    (ExecutionOutcome::Unknown, false) => "reg-exec-unknown",
                }),
                item_code: e.item.as_str().to_string(),
                // §5: the querier's statement resolves an attempt whose outcome is unknown.
                can_state: is_querier && execution::outcome::awaits_resolution(e, now),
                note: [
                    e.failure_code.clone(),
                    e.resolution.clone(),
                    e.portal_note.clone(),
                    e.paper_case_no.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / "),
            })
            .collect(),
        results: view
            .results
            .iter()
            .map(|res| ResultLine {
                item: res.item.as_str().to_string(),
                received_at: format_taipei_datetime(res.received_at),
                kind: result_kind(&res.kind, &m),
                destroy_after: date(res.destroy_after, &m),
                destroyed: res.destroyed_at.is_some(),
            })
            .collect(),
        can_view_results: is_querier || r.parties.needer == who.person.id,
        can_decide,
        can_execute: is_querier && approved_live && !remaining.is_empty(),
        can_cancel: r.is_party(who.person.id)
            && matches!(r.state, RegistrationState::Registered { .. })
            && r.executed_items.is_empty(),
        can_confirm_prints: is_querier && view.results.iter().any(|x| x.destroyed_at.is_some()),
        connected,
        portal: (!connected).then(|| PortalForm {
            portal_url: PORTAL_URL.into(),
        }),
        m,
    };
    let status = outcome.map_or(StatusCode::OK, denied_status);
    Ok((status, render(&page, op)).into_response())
}

pub async fn registration(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let Some(no) = parse_no(&no) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let notice = notice_text(&q, &m);
    registration_response(&state, m, &op, &who, no, notice, None, None).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Shows the whole national ID (audited, every time). POST so it is never a link.
pub async fn reveal(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_no(&no) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let fail = internal(&m, &op, "/registrations");
    match reg::reveal_national_id(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(fail)?
    {
        Ok((id, linked)) => {
            let ids = (
                id.expose_whole().to_string(),
                linked
                    .as_ref()
                    .map(|l| l.expose_whole().to_string())
                    .unwrap_or_default(),
            );
            registration_response(&state, m, &op, &who, no, None, None, Some(ids)).await
        }
        Err(d) => registration_response(&state, m, &op, &who, no, None, Some(&d), None).await,
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    comment: String,
}

async fn decide(
    state: AppState,
    m: Messages,
    op: OperationId,
    who: querywarden_app::auth::SignedIn,
    no: String,
    form: DecideForm,
    approve: bool,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_no(&no) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let fail = internal(&m, &op, "/registrations");
    let decision = if approve {
        reg::Decision::Approve(Some(&form.comment))
    } else {
        reg::Decision::Reject(&form.comment)
    };
    let decided = reg::decide(
        &state.app.desk(),
        &who.person,
        no,
        decision,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(&fail)?;
    match decided {
        Ok(_) => Ok(Redirect::to(&format!(
            "/registrations/{no}?notice={}",
            if approve { "approved" } else { "rejected" }
        ))
        .into_response()),
        Err(d) => registration_response(&state, m, &op, &who, no, None, Some(&d), None).await,
    }
}

pub async fn approve(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PageError> {
    decide(state, m, op, who, no, form, true).await
}

pub async fn reject(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PageError> {
    decide(state, m, op, who, no, form, false).await
}

pub async fn cancel(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_no(&no) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let fail = internal(&m, &op, "/registrations");
    match reg::cancel(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(fail)?
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/registrations/{no}?notice=cancelled")).into_response())
        }
        Err(d) => registration_response(&state, m, &op, &who, no, None, Some(&d), None).await,
    }
}

/// The posted execution: items (checkbox, repeats) and, in portal mode, the querier's report.
#[derive(Default)]
pub(crate) struct PostedExecution {
    pub csrf: String,
    pub items: Vec<String>,
    pub note: String,
    pub paper_case_no: String,
}

impl PostedExecution {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => p.csrf = v,
                "items" => p.items.push(v),
                "note" => p.note = v,
                "paper_case_no" => p.paper_case_no = v,
                _ => {}
            }
        }
        p
    }

    /// The chosen items (none chosen = every item not yet executed), or the bad code.
    pub fn items(&self) -> Result<Option<BTreeSet<ServiceItemCode>>, String> {
        if self.items.is_empty() {
            return Ok(None);
        }
        self.items
            .iter()
            .map(|i| ServiceItemCode::parse(i.trim()).map_err(|_| i.clone()))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Some)
    }
}

/// Runs the approved query (connected mode, through the connector) or records the querier's
/// portal execution (portal mode), as `bli.mode` says.
pub async fn execute(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = PostedExecution::from_pairs(pairs);
    if !who.csrf_ok(&posted.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let checks = querywarden_app::limits::execution_checks(&who);
    if let Some(e) = crate::session::over_limit(&state, &who, &checks, &op.0).await {
        return Ok(e.into_response());
    }
    let Some(no) = parse_no(&no) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let fail = internal(&m, &op, "/registrations");
    let Ok(items) = posted.items() else {
        let d = Denied::Registration(querywarden_domain::registration::RegistrationError::ItemCode);
        return registration_response(&state, m, &op, &who, no, None, Some(&d), None).await;
    };
    let desk = state.app.desk();
    let now = Timestamp::now();
    let decided = match state.app.connector() {
        Some(connector) => {
            execution::execute_connected(&desk, connector, &who, no, items.as_ref(), now, &op.0)
                .await
        }
        None => {
            let report = PortalReport {
                items,
                queried_at: Some(now),
                note: opt(&posted.note),
                paper_case_no: opt(&posted.paper_case_no),
                documents: Vec::new(),
            };
            execution::record_portal_execution(&desk, &who, no, &report, now, &op.0).await
        }
    }
    .map_err(&fail)?;
    match decided {
        Ok(report) => {
            // A failed or unknown item is said so, not announced as executed.
            let notice = if report
                .items
                .iter()
                .any(|i| matches!(i.outcome, execution::ItemOutcome::Unknown { .. }))
            {
                "outcome_unknown"
            } else if report
                .items
                .iter()
                .any(|i| matches!(i.outcome, execution::ItemOutcome::Failed { .. }))
            {
                "execution_failed"
            } else {
                "executed"
            };
            Ok(Redirect::to(&format!("/registrations/{no}?notice={notice}")).into_response())
        }
        Err(d) => registration_response(&state, m, &op, &who, no, None, Some(&d), None).await,
    }
}

#[derive(Deserialize)]
pub struct StatementForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    statement: String,
}

/// §5: the querier's statement on an attempt whose outcome is unknown; the item may then run
/// again.
pub async fn state_outcome(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path((no, item)): Path<(String, String)>,
    Form(form): Form<StatementForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let (Some(no), Some(item)) = (parse_no(&no), parse_item(&item)) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let fail = internal(&m, &op, "/registrations");
    match execution::outcome::record_statement(
        &state.app.desk(),
        &who.person,
        no,
        &item,
        &form.statement,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(()) => Ok(Redirect::to(&format!("/registrations/{no}?notice=stated")).into_response()),
        Err(d) => registration_response(&state, m, &op, &who, no, None, Some(&d), None).await,
    }
}

// ---------------------------------------------------------------------------------------
// Results: view-only, watermarked, printed for the case file

/// A message if the catalogue has one, else the raw text (codes the catalogue does not know
/// are shown as they came).
fn translated(m: &Messages, key: &str, raw: &str) -> String {
    let t = m.get(key);
    if t == key { raw.to_string() } else { t }
}

/// NT$ amounts with thousands separators.
fn with_separators(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// One value of a record as a caseworker reads it: civil dates in the ROC calendar, months as
/// ROC year and month, codes by their Chinese names, yes/no, amounts with separators.
fn cell(m: &Messages, field: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => {
            if s.len() == 10
                && let Ok(d) = RocDate::parse(s)
            {
                return if m.is_zh() {
                    d.format_short()
                } else {
                    d.format_en()
                };
            }
            if s.len() == 7
                && let Ok(d) = RocDate::parse(&format!("{s}-01"))
            {
                return if m.is_zh() {
                    format!("{} 年 {} 月", d.roc_year(), d.month())
                } else {
                    s.clone()
                };
            }
            translated(m, &format!("code-{s}"), s)
        }
        serde_json::Value::Bool(b) => m.get(if *b { "value-yes" } else { "value-no" }),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) if matches!(field, "amount" | "insured_salary" | "monthly_wage") => {
                with_separators(i)
            }
            _ => n.to_string(),
        },
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| cell(m, field, x))
            .collect::<Vec<_>>()
            .join(if m.is_zh() { "、" } else { ", " }),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What a result holds, in words: 有資料, 查無資料, 查無投保資料, 入口網站文件.
pub(crate) fn result_kind(kind: &str, m: &Messages) -> String {
    translated(m, &format!("result-kind-{kind}"), kind)
}

/// The records as a table: one row per record, one column per field.
pub(crate) fn content_table(content: &ResultContent, m: &Messages) -> ContentTable {
    match content {
        ResultContent::Records(records) => {
            let v = serde_json::to_value(records).unwrap_or_default();
            let rows: Vec<serde_json::Value> = match v.get("records") {
                Some(serde_json::Value::Array(a)) => a.clone(),
                Some(other) => vec![other.clone()],
                None => Vec::new(),
            };
            let mut columns: Vec<String> = Vec::new();
            for r in &rows {
                if let serde_json::Value::Object(o) = r {
                    for k in o.keys() {
                        if !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
            }
            ContentTable {
                rows: rows
                    .iter()
                    .map(|r| columns.iter().map(|c| cell(m, c, &r[c.as_str()])).collect())
                    .collect(),
                note: if rows.is_empty() {
                    m.get("result-no-rows")
                } else {
                    String::new()
                },
                columns: columns
                    .iter()
                    .map(|c| translated(m, &format!("field-{c}"), c))
                    .collect(),
            }
        }
        ResultContent::NoData { kind } => ContentTable {
            columns: Vec::new(),
            rows: Vec::new(),
            note: m.with("result-answer", &[("kind", result_kind(kind, m))]),
        },
        ResultContent::Document {
            content_type,
            bytes,
        } => ContentTable {
            columns: Vec::new(),
            rows: Vec::new(),
            note: format!(
                "{}（{content_type}，{} bytes）",
                m.get("result-document-kept"),
                bytes.len()
            ),
        },
    }
}

fn result_page(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
    v: &ResultView,
    names: &Names,
) -> ResultPage {
    ResultPage {
        user: Some(bar(state, who)),
        path: format!("/registrations/{}/results/{}", v.no, v.item),
        today: today_in(&m),
        csrf: who.session.csrf_token.clone(),
        no: v.no.to_string(),
        item: v.item.as_str().to_string(),
        item_name: names.item(&v.item, &m),
        received_at: format_taipei_datetime(v.received_at),
        subject_name: v.subject_name.clone(),
        subject_id_masked: v.subject_id_masked.clone(),
        watermark: v.watermark.clone(),
        tiles: (0..40).collect(),
        print_no: v.print_no,
        print_line: v
            .print_no
            .map(|n| m.with("result-print-line", &[("n", n.to_string())]))
            .unwrap_or_default(),
        basis: names.basis(&v.legal_basis),
        case_no: v.case_no.clone().unwrap_or_default(),
        approver: v.approved_by.map(|p| names.person(p)).unwrap_or_default(),
        content: content_table(&v.content, &m),
        checkpoint: None,
        m,
    }
}

async fn open_result(
    state: AppState,
    m: Messages,
    op: OperationId,
    who: querywarden_app::auth::SignedIn,
    no: String,
    item: String,
    print: Option<Option<String>>,
) -> Result<Response, PageError> {
    let (Some(no), Some(item)) = (parse_no(&no), parse_item(&item)) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let path = format!("/registrations/{no}");
    let fail = internal(&m, &op, &path);
    let desk = state.app.desk();
    let now = Timestamp::now();
    let decided = if let Some(reason) = &print {
        execution::print_result_with_reason(
            &desk,
            &who.person,
            no,
            &item,
            reason.as_deref(),
            now,
            &op.0,
        )
        .await
    } else {
        execution::view_result(&desk, &who.person, no, &item, now, &op.0).await
    }
    .map_err(&fail)?;
    match decided {
        Ok(v) => {
            let names = Names::load(&state).await.map_err(&fail)?;
            let mut page = result_page(&state, m, &who, &v, &names);
            if print.is_some() {
                // Seal the trail up to and including this print, and print the checkpoint.
                state.app.checkpoint_if_due(true).await.map_err(&fail)?;
                page.checkpoint = state
                    .app
                    .store()
                    .latest_checkpoint()
                    .await
                    .map_err(|e| fail(e.into()))?
                    .map(|c| c.note);
            }
            Ok(render(&page, &op))
        }
        Err(d) => Ok(refused_page(m, &op, &path, &d)),
    }
}

/// §6: the view-only result (audited). No export, no download; `no-store` from the
/// middleware.
pub async fn view_result(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path((no, item)): Path<(String, String)>,
) -> Result<Response, PageError> {
    open_result(state, m, op, who, no, item, None).await
}

/// §6: a numbered print for the case file (audited), shown with the print number in the
/// watermark and printed by the browser.
pub async fn print_result(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path((no, item)): Path<(String, String)>,
    Form(form): Form<PrintForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    open_result(state, m, op, who, no, item, Some(opt(&form.reason))).await
}

/// The print button's form: the CSRF token and, beyond the print limit, the reason (§6 ¶2).
#[derive(Deserialize)]
pub struct PrintForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct PrintsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    print_no: String,
}

/// The querier confirms a printed copy of a destroyed result was destroyed.
pub async fn confirm_prints(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path((no, item)): Path<(String, String)>,
    Form(form): Form<PrintsForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let (Some(no), Some(item)) = (parse_no(&no), parse_item(&item)) else {
        return Ok(not_found(m, &op, "/registrations"));
    };
    let fail = internal(&m, &op, "/registrations");
    let Ok(print_no) = form.print_no.trim().parse::<i64>() else {
        return registration_response(
            &state,
            m,
            &op,
            &who,
            no,
            None,
            Some(&Denied::NotFound),
            None,
        )
        .await;
    };
    match execution::confirm_print_destroyed(
        &state.app.desk(),
        &who.person,
        no,
        &item,
        print_no,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(()) => Ok(Redirect::to(&format!("/registrations/{no}?notice=prints")).into_response()),
        Err(d) => registration_response(&state, m, &op, &who, no, None, Some(&d), None).await,
    }
}

// ---------------------------------------------------------------------------------------
// Form 3: requests from district offices and subordinate agencies

fn parse_request_no(raw: &str) -> Option<RequestNo> {
    RequestNo::parse(raw).ok()
}

pub async fn requests(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let fail = internal(&m, &op, "/requests");
    let rows = request::requests_of(&state.app.desk(), &who.person)
        .await
        .map_err(&fail)?;
    let names = Names::load(&state).await.map_err(&fail)?;
    let page = RequestListPage {
        user: Some(bar(&state, &who)),
        path: "/requests".into(),
        today: today_in(&m),
        can_request: who.person.has_role(Role::ExternalRequester),
        rows: rows.iter().map(|r| request_row(r, &names, &m)).collect(),
        m,
    };
    Ok(render(&page, &op))
}

#[derive(Default)]
struct PostedRequest {
    csrf: String,
    applicant_title: String,
    phone: String,
    fax: String,
    responsible_unit: String,
    legal_basis: String,
    relevance: String,
    items: Vec<String>,
    declared: String,
    subjects: String,
}

impl PostedRequest {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => p.csrf = v,
                "applicant_title" => p.applicant_title = v,
                "phone" => p.phone = v,
                "fax" => p.fax = v,
                "responsible_unit" => p.responsible_unit = v,
                "legal_basis" => p.legal_basis = v,
                "relevance" => p.relevance = v,
                "items" => p.items.push(v),
                "declared_subject_count" => p.declared = v,
                "subjects" => p.subjects = v,
                _ => {}
            }
        }
        p
    }

    /// One subject per line: `name,national ID[,linked ID]` (comma or tab).
    fn subjects(&self) -> Vec<RequestSubjectInput> {
        self.subjects
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut f = l.split([',', '\t', '，']).map(str::trim);
                RequestSubjectInput {
                    name: f.next().unwrap_or_default().to_string(),
                    national_id: f.next().unwrap_or_default().to_string(),
                    linked_id: f.next().filter(|s| !s.is_empty()).map(str::to_string),
                }
            })
            .collect()
    }
}

async fn request_new_page(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
    posted: Option<&PostedRequest>,
) -> Result<RequestNewPage, AppError> {
    let names = Names::load(state).await?;
    let chosen: BTreeSet<&str> = posted
        .map(|p| p.items.iter().map(String::as_str).collect())
        .unwrap_or_default();
    Ok(RequestNewPage {
        user: Some(bar(state, who)),
        path: "/requests/new".into(),
        today: today_in(&m),
        csrf: who.session.csrf_token.clone(),
        error: None,
        line_errors: Vec::new(),
        unit_name: names.unit(&who.person.unit),
        applicant_title: posted
            .map(|p| p.applicant_title.clone())
            .unwrap_or_else(|| who.person.title.clone()),
        phone: posted.map(|p| p.phone.clone()).unwrap_or_default(),
        fax: posted.map(|p| p.fax.clone()).unwrap_or_default(),
        relevance: posted.map(|p| p.relevance.clone()).unwrap_or_default(),
        declared: posted.map(|p| p.declared.clone()).unwrap_or_default(),
        subjects: posted.map(|p| p.subjects.clone()).unwrap_or_default(),
        units: names
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::BureauSection)
            .map(|u| Choice {
                value: u.id.as_str().to_string(),
                label: u.name_zh.clone(),
                selected: posted.is_some_and(|p| p.responsible_unit == u.id.as_str()),
            })
            .collect(),
        bases: names
            .bases
            .iter()
            .filter(|b| b.active)
            .map(|b| Choice {
                value: b.id.as_str().to_string(),
                label: format!("{} {} — {}", b.law, b.article, b.summary_zh),
                selected: posted.is_some_and(|p| p.legal_basis == b.id.as_str()),
            })
            .collect(),
        items: names
            .items
            .iter()
            .filter(|i| i.active)
            .map(|i| Choice {
                value: i.code.as_str().to_string(),
                label: names.item(&i.code, &m),
                selected: chosen.contains(i.code.as_str()),
            })
            .collect(),
        m,
    })
}

pub async fn request_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    if !who.person.has_role(Role::ExternalRequester) {
        crate::session::role_refused(&state, &who, "request.not_external", &op.0).await;
        return Ok(forbidden(m, &op, "/requests/new"));
    }
    let fail = internal(&m, &op, "/requests/new");
    let page = request_new_page(&state, m, &who, None)
        .await
        .map_err(fail)?;
    Ok(render(&page, &op))
}

/// Files a Form 3 request. Subjects arrive in the POST body; a refused form shows them again
/// (on the `no-store` page only) so that nothing typed is lost.
pub async fn request_submit(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = PostedRequest::from_pairs(pairs);
    if !who.csrf_ok(&posted.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let fail = internal(&m, &op, "/requests/new");
    let subjects = posted.subjects();
    let input = FileRequestInput {
        applicant_title: posted.applicant_title.clone(),
        phone: posted.phone.clone(),
        fax: opt(&posted.fax),
        responsible_unit: posted.responsible_unit.clone(),
        legal_basis: posted.legal_basis.clone(),
        relevance: posted.relevance.clone(),
        items: posted.items.clone(),
        // A count that is not a number cannot match the list: the app says so.
        declared_subject_count: posted.declared.trim().parse().unwrap_or(usize::MAX),
        subjects,
    };
    match request::file_request(
        &state.app.desk(),
        &who.person,
        &input,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(&fail)?
    {
        Ok(no) => Ok(Redirect::to(&format!("/requests/{no}?notice=filed")).into_response()),
        Err(d) => {
            let mut page = request_new_page(&state, m, &who, Some(&posted))
                .await
                .map_err(&fail)?;
            // The list is typed into the form, not a file: its errors name the subject's
            // place in the list.
            if let Denied::Batch(lines) = &d {
                page.line_errors = lines
                    .iter()
                    .map(|l| {
                        page.m.with(
                            "refusal-subject-line",
                            &[
                                ("line", l.line.to_string()),
                                (
                                    "error",
                                    crate::refusals::registration_error(&l.error, &page.m),
                                ),
                            ],
                        )
                    })
                    .collect();
                page.error = Some(FormError {
                    code: d.code().into(),
                    message: page.m.with(
                        "refusal-subject-rows",
                        &[("count", lines.len().to_string())],
                    ),
                });
            } else {
                page.error = Some(form_error(&d, &page.m));
            }
            Ok((denied_status(&d), render(&page, &op)).into_response())
        }
    }
}

async fn request_response(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    no: RequestNo,
    notice: Option<String>,
    outcome: Option<&Denied>,
) -> Result<Response, PageError> {
    let path = format!("/requests/{no}");
    let fail = internal(&m, op, &path);
    let view =
        match request::request_view(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
            .await
            .map_err(&fail)?
        {
            Ok(v) => v,
            Err(d) => return Ok(refused_page(m, op, &path, &d)),
        };
    let names = Names::load(state).await.map_err(&fail)?;
    let r = &view.request;
    let reviewer_here =
        who.person.has_role(Role::ResponsibleUnitReviewer) && who.person.unit == r.responsible_unit;
    let page = RequestPage {
        user: Some(bar(state, who)),
        path: path.clone(),
        today: today_in(&m),
        csrf: who.session.csrf_token.clone(),
        notice,
        error: outcome.map(|d| form_error(d, &m)),
        no: r.no.to_string(),
        date: date(r.date, &m),
        // §5 ¶3: the stage, with the office supervisor's consent and the closed state.
        state_code: view.stage.code().to_string(),
        state: m.get(&format!("req-state-{}", view.stage.code())),
        requesting_unit: names.unit(&r.requesting_unit),
        applicant: names.person(r.applicant),
        applicant_title: r.applicant_title.clone(),
        phone: r.phone.clone(),
        fax: r.fax.clone().unwrap_or_default(),
        responsible_unit: names.unit(&r.responsible_unit),
        basis: names.basis(&r.legal_basis),
        relevance: r.relevance.clone(),
        items: r
            .items
            .iter()
            .map(|i| names.item(i, &m))
            .collect::<Vec<_>>()
            .join("、"),
        subject_count: r.subject_count,
        subjects: view
            .subjects
            .iter()
            .enumerate()
            .map(|(i, (name, id))| SubjectLine {
                position: i + 1,
                name: name.clone(),
                id_masked: id.clone(),
                closed: view
                    .closed
                    .iter()
                    .find(|c| usize::try_from(c.position).ok() == Some(i + 1))
                    .map(|c| c.reason.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        sign_offs: view
            .sign_offs
            .iter()
            .map(|s| {
                let who = names.person(s.person);
                (
                    m.get(&format!("req-signoff-{}", s.which.code())),
                    if s.acting {
                        format!("{who}（{}）", m.get("reg-acting"))
                    } else {
                        who
                    },
                    format_taipei_datetime(s.at),
                )
            })
            .collect(),
        can_consent: view.may_consent,
        can_sign: view.may_sign,
        can_close: (reviewer_here || r.assigned_querier == Some(who.person.id))
            && view.stage == Stage::InProgress,
        opinion: r.opinion.clone().unwrap_or_default(),
        reviewer: r.reviewed_by.map(|p| names.person(p)).unwrap_or_default(),
        querier: r
            .assigned_querier
            .map(|p| names.person(p))
            .unwrap_or_default(),
        delivery: delivery_label(r, &m),
        registrations: view
            .registrations
            .iter()
            .map(|s| summary_row(s, &names, &m))
            .collect(),
        results: view
            .results
            .iter()
            .map(|(no, item, destroyed)| (no.to_string(), item.as_str().to_string(), *destroyed))
            .collect(),
        can_review: reviewer_here && view.stage == Stage::AwaitingReview,
        can_deliver: (reviewer_here || r.assigned_querier == Some(who.person.id))
            && view.stage == Stage::InProgress,
        // The requester sees results once they are delivered inside the system.
        can_view_results: (r.applicant == who.person.id
            && r.delivery.as_deref() == Some("in_system"))
            || r.assigned_querier == Some(who.person.id),
        queriers: names
            .persons
            .values()
            .filter(|p| p.unit == r.responsible_unit && p.has_role(Role::Querier))
            .map(|p| Choice {
                value: p.id.get().to_string(),
                label: names.person(p.id),
                selected: p.id == who.person.id,
            })
            .collect(),
        m,
    };
    let status = outcome.map_or(StatusCode::OK, denied_status);
    Ok((status, render(&page, op)).into_response())
}

pub async fn request_page(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let Some(no) = parse_request_no(&no) else {
        return Ok(not_found(m, &op, "/requests"));
    };
    let notice = notice_text(&q, &m);
    request_response(&state, m, &op, &who, no, notice, None).await
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    querier: String,
    #[serde(default)]
    opinion: String,
}

pub async fn request_accept(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_request_no(&no) else {
        return Ok(not_found(m, &op, "/requests"));
    };
    let fail = internal(&m, &op, "/requests");
    let Some(querier) = person_field(&form.querier, who.person.id) else {
        let d = Denied::Registration(
            querywarden_domain::registration::RegistrationError::QuerierNotQuerier,
        );
        return request_response(&state, m, &op, &who, no, None, Some(&d)).await;
    };
    match request::accept_request(
        &state.app.desk(),
        &who.person,
        no,
        querier,
        &form.opinion,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{no}?notice=accepted")).into_response()),
        Err(d) => request_response(&state, m, &op, &who, no, None, Some(&d)).await,
    }
}

pub async fn request_reject(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_request_no(&no) else {
        return Ok(not_found(m, &op, "/requests"));
    };
    let fail = internal(&m, &op, "/requests");
    match request::reject_request(
        &state.app.desk(),
        &who.person,
        no,
        &form.opinion,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(()) => Ok(Redirect::to(&format!("/requests/{no}?notice=refused")).into_response()),
        Err(d) => request_response(&state, m, &op, &who, no, None, Some(&d)).await,
    }
}

#[derive(Deserialize)]
pub struct DeliverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    delivery: String,
    #[serde(default)]
    document_no: String,
}

/// Records how results went back: inside the system (view-only) or by official document
/// (公文文號) — never by e-mail or fax.
pub async fn request_deliver(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<DeliverForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_request_no(&no) else {
        return Ok(not_found(m, &op, "/requests"));
    };
    let fail = internal(&m, &op, "/requests");
    let delivery = if form.delivery == "official_document" {
        Delivery::OfficialDocument(form.document_no.clone())
    } else {
        Delivery::InSystem
    };
    match request::record_delivery(
        &state.app.desk(),
        &who.person,
        no,
        &delivery,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(()) => Ok(Redirect::to(&format!("/requests/{no}?notice=delivered")).into_response()),
        Err(d) => request_response(&state, m, &op, &who, no, None, Some(&d)).await,
    }
}

// ---------------------------------------------------------------------------------------
// Form 3 sign-offs (§5 ¶3)

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    /// `consent` or `refuse`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

/// The requesting office's supervisor consents (or refuses with a reason).
pub async fn request_consent(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_request_no(&no) else {
        return Ok(not_found(m, &op, "/requests"));
    };
    let fail = internal(&m, &op, "/requests");
    let consent = if form.decision == "refuse" {
        request::Consent::Refuse(&form.reason)
    } else {
        request::Consent::Give
    };
    match request::consent_request(
        &state.app.desk(),
        &who.person,
        no,
        consent,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{no}")).into_response()),
        Err(d) => request_response(&state, m, &op, &who, no, None, Some(&d)).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// The assigned querier or the using unit's supervisor signs the request.
pub async fn request_sign(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path(no): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_request_no(&no) else {
        return Ok(not_found(m, &op, "/requests"));
    };
    let fail = internal(&m, &op, "/requests");
    match request::sign_request(&state.app.desk(), &who.person, no, Timestamp::now(), &op.0)
        .await
        .map_err(fail)?
    {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{no}")).into_response()),
        Err(d) => request_response(&state, m, &op, &who, no, None, Some(&d)).await,
    }
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// One subject closed without a query, with a reason.
pub async fn request_close_subject(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Path((no, position)): Path<(String, i64)>,
    Form(form): Form<CloseForm>,
) -> Result<Response, PageError> {
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let Some(no) = parse_request_no(&no) else {
        return Ok(not_found(m, &op, "/requests"));
    };
    let fail = internal(&m, &op, "/requests");
    match request::close_subject(
        &state.app.desk(),
        &who.person,
        no,
        position,
        &form.reason,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{no}")).into_response()),
        Err(d) => request_response(&state, m, &op, &who, no, None, Some(&d)).await,
    }
}
