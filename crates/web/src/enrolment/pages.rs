//! Handlers and view models of the enrolment pages.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::auth::AuthFailure;
use querywarden_app::enrolment::codes;
use querywarden_domain::permission::AdministratorDesk;

use super::input::{EnrolForm, IssueCodeForm};
use crate::error::PageError;
use crate::i18n::Messages;
use crate::input::CsrfForm;
use crate::pages::render;
use crate::session::{FLOW_COOKIE, PageSession, clear_cookie, cookie, csrf_refused};
use crate::templates::{FormError, Frame};
use crate::upload::read_upload;
use crate::{AppState, Lang, OperationId, PageCall};

fn form_error(f: AuthFailure) -> Option<FormError> {
    Some(FormError {
        code: f.code,
        message: f.message,
    })
}

#[derive(Template)]
#[template(path = "enrolment/enrol.html")]
pub struct EnrolPage {
    pub m: Messages,
    pub frame: Frame,
    pub demo: bool,
    pub error: Option<FormError>,
    /// Set once enrolment succeeded: the account, to sign in with.
    pub done: Option<String>,
}

impl EnrolPage {
    fn new(m: Messages, demo: bool, error: Option<FormError>, done: Option<String>) -> Self {
        Self {
            frame: Frame::of(&m, None, "/enrol"),
            m,
            demo,
            error,
            done,
        }
    }
}

pub async fn enrol_form(State(state): State<AppState>, Lang(m): Lang, op: OperationId) -> Response {
    render(&EnrolPage::new(m, state.app.config().demo, None, None), &op)
}

pub async fn enrol_submit(
    PageCall { state, m, op }: PageCall,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Result<Response, PageError> {
    let demo = state.app.config().demo;
    let refused = |status: StatusCode, f: AuthFailure, m: Messages| {
        (
            status,
            render(&EnrolPage::new(m, demo, form_error(f), None), &op),
        )
            .into_response()
    };
    let not_configured =
        || AuthFailure::new("auth.not_configured", "尚未設定自然人憑證信任錨，無法開通");
    if state.app.auth().is_none() {
        return Ok(refused(
            StatusCode::SERVICE_UNAVAILABLE,
            not_configured(),
            m,
        ));
    }
    let format = form.format();
    let req = codes::EnrolRequest {
        code: form.code.chars().take(64).collect(),
        nonce: form.nonce,
        signature: form.signature,
        certificate: Some(form.certificate),
        format,
        flow_token: cookie(&headers, FLOW_COOKIE).unwrap_or_default(),
        password: form.password,
        password_again: form.password_again,
        client_addr: op.client_addr(),
        request_id: op.0.clone(),
    };
    let Some(outcome) = state
        .app
        .enrolment()
        .enrol(req, Timestamp::now())
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/enrol"))?
    else {
        return Ok(refused(
            StatusCode::SERVICE_UNAVAILABLE,
            not_configured(),
            m,
        ));
    };
    match outcome {
        Ok(done) => {
            let page = EnrolPage::new(m, demo, None, Some(done.account.as_str().to_string()));
            let mut res = render(&page, &op);
            if let Ok(v) = clear_cookie(&state, FLOW_COOKIE).parse() {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(f) => {
            let status = match f.code.as_str() {
                "enrolment.rate_limited" => StatusCode::TOO_MANY_REQUESTS,
                "login.malformed_format" => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(refused(status, f, m))
        }
    }
}

/// One revocation list in force, as shown.
pub struct CrlRow {
    pub issuer: String,
    pub this_update: String,
    pub next_update: String,
    pub age_hours: i64,
    pub stale: bool,
    pub revoked: usize,
}

/// One configured address and its last fetch.
pub struct FetchRow {
    pub url: String,
    pub attempted_at: String,
    pub outcome: String,
}

/// A code just issued, shown once.
pub struct IssuedRow {
    pub account: String,
    pub name: String,
    pub code: String,
    pub purpose: String,
    pub expires_at: String,
}

#[derive(Template)]
#[template(path = "enrolment/admin.html")]
pub struct AdminPage {
    pub m: Messages,
    pub frame: Frame,
    pub issued: Option<IssuedRow>,
    pub error: Option<FormError>,
    pub crls: Vec<CrlRow>,
    pub fetches: Vec<FetchRow>,
    /// What the last units or CRL upload did, or why it did nothing (one line per bad row).
    pub upload_done: Option<String>,
    pub upload_errors: Vec<String>,
}

fn forbidden(m: Messages, op: &OperationId) -> Response {
    crate::pages::forbidden(m, op, "/admin/enrolment")
}

async fn admin_view(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
    desk: &AdministratorDesk,
    issued: Option<IssuedRow>,
    error: Option<FormError>,
) -> Result<AdminPage, querywarden_app::AppError> {
    let (lists, fetches) = state
        .app
        .enrolment()
        .crl_status(desk, Timestamp::now())
        .await?;
    let crls = lists
        .into_iter()
        .map(|c| CrlRow {
            issuer: c.issuer,
            this_update: m.datetime(c.this_update),
            next_update: c.next_update.map(|t| m.datetime(t)).unwrap_or_default(),
            age_hours: c.age_seconds / 3600,
            stale: c.stale,
            revoked: c.revoked,
        })
        .collect();
    let fetches = fetches
        .into_iter()
        .map(|f| FetchRow {
            url: f.url,
            attempted_at: m.datetime(f.attempted_at),
            outcome: f.error.unwrap_or_else(|| "ok".into()),
        })
        .collect();
    Ok(AdminPage {
        frame: Frame::signed_in(state, who, &m, "/admin/enrolment"),
        m,
        issued,
        error,
        crls,
        fetches,
        upload_done: None,
        upload_errors: Vec::new(),
    })
}

/// The administrator's desk, `Ok(None)` for anyone else; a storage failure is an error, never
/// "not the administrator".
async fn desk(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    op: &OperationId,
) -> Result<Option<AdministratorDesk>, querywarden_app::AppError> {
    let now = querywarden_app::permission::Op::new(Timestamp::now(), op.0.clone());
    Ok(state
        .app
        .enrolment()
        .administrator_desk(who, &now)
        .await?
        .ok())
}

pub async fn admin_page(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let fail = PageError::internal_on(&m, &op, "/admin/enrolment");
    let Some(desk) = desk(&state, &who, &op).await.map_err(&fail)? else {
        return Ok(forbidden(m, &op));
    };
    let page = admin_view(&state, m, &who, &desk, None, None)
        .await
        .map_err(&fail)?;
    Ok(render(&page, &op))
}

pub async fn issue_code(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, form): CsrfForm<IssueCodeForm>,
) -> Result<Response, Response> {
    let Some(desk) = desk(&state, &who, &op)
        .await
        .map_err(desk_failed(&m, &op))?
    else {
        return Ok(forbidden(m, &op));
    };
    let outcome = match form.purpose() {
        None => Err(AuthFailure::new(
            "enrolment.purpose",
            m.get("enrol-purpose-unknown"),
        )),
        Some(purpose) => state
            .app
            .enrolment()
            .issue_code(
                &desk,
                &form.account,
                purpose,
                &form.reason,
                Timestamp::now(),
                &op.0,
            )
            .await
            .map_err(desk_failed(&m, &op))?
            .map_err(AuthFailure::from),
    };
    let (status, issued, error) = match outcome {
        Ok(i) => (
            StatusCode::OK,
            Some(IssuedRow {
                account: i.account.as_str().to_string(),
                name: i.name,
                code: i.code.display_once(),
                purpose: m.get(&format!("enrol-purpose-{}", i.purpose.code())),
                expires_at: m.datetime(i.expires_at),
            }),
            None,
        ),
        Err(f) => (StatusCode::UNPROCESSABLE_ENTITY, None, form_error(f)),
    };
    let page = admin_view(&state, m.clone(), &who, &desk, issued, error)
        .await
        .map_err(desk_failed(&m, &op))?;
    Ok((status, render(&page, &op)).into_response())
}

/// A failure on the enrolment desk, as its internal-error page (logged with the operation id).
fn desk_failed(
    m: &Messages,
    op: &OperationId,
) -> impl Fn(querywarden_app::AppError) -> Response + use<> {
    let failed = PageError::internal_on(m, op, "/admin/enrolment");
    move |e| failed(e).into_response()
}

/// Largest units CSV or CRL file accepted on the page.
const MAX_UPLOAD: usize = 16 * 1024 * 1024;

/// What an upload on the desk resolved to: who, with which desk, and the file.
async fn desk_upload(
    state: &AppState,
    m: &Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    multipart: &mut Multipart,
) -> Result<(querywarden_domain::permission::AdministratorDesk, Vec<u8>), Response> {
    let Some(desk) = desk(state, who, op).await.map_err(desk_failed(m, op))? else {
        return Err(forbidden(m.clone(), op));
    };
    let upload = read_upload(multipart, "file", MAX_UPLOAD)
        .await
        .map_err(|e| {
            e.answer("upload.too_large", MAX_UPLOAD, &op.0)
                .into_response()
        })?;
    if !who.csrf_ok(&upload.field("csrf")) {
        return Err(csrf_refused(state, who, &op.0).await.into_response());
    }
    Ok((desk, upload.file.unwrap_or_default()))
}

/// §2: the organisation CSV uploaded on the desk (same use case as `querywarden units import`).
pub async fn units_upload(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, Response> {
    let (desk, file) = desk_upload(&state, &m, &op, &who, &mut multipart).await?;
    let mut page = admin_view(&state, m.clone(), &who, &desk, None, None)
        .await
        .map_err(desk_failed(&m, &op))?;
    let Ok(text) = String::from_utf8(file) else {
        page.upload_errors = vec![m.get("enrol-units-not-utf8")];
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
    };
    let run = querywarden_app::permission::Op::new(Timestamp::now(), op.0.clone());
    let outcome = state
        .app
        .enrolment()
        .import_units(&desk, &text, &run)
        .await
        .map_err(desk_failed(&m, &op))?;
    Ok(match outcome {
        Ok(r) => {
            page.upload_done = Some(format!(
                "{}：{} / +{} / ~{} / {} / {}",
                m.get("enrol-units-done"),
                r.rows,
                r.units_added,
                r.units_updated,
                r.supervisors_set,
                r.deputies_set
            ));
            render(&page, &op)
        }
        Err(errors) => {
            page.upload_errors = errors
                .iter()
                .map(|e| {
                    format!(
                        "{} {}{}{}",
                        m.get("enrol-line"),
                        e.line,
                        m.colon(),
                        e.reason
                    )
                })
                .collect();
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response()
        }
    })
}

/// §3: a revocation list file uploaded on the desk (the offline path), put in force at once.
pub async fn crl_upload(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, Response> {
    let (desk, file) = desk_upload(&state, &m, &op, &who, &mut multipart).await?;
    let Some(outcome) = state
        .app
        .enrolment()
        .import_crl(&desk, &file, Timestamp::now(), &op.0)
        .await
        .map_err(desk_failed(&m, &op))?
    else {
        return Ok(forbidden(m, &op));
    };
    let (status, error, done) = match outcome {
        Ok(i) => (
            StatusCode::OK,
            None,
            Some(format!(
                "{}{}{}",
                m.get("enrol-crl-done"),
                m.colon(),
                i.issuer
            )),
        ),
        Err(f) => (StatusCode::UNPROCESSABLE_ENTITY, form_error(f), None),
    };
    let mut page = admin_view(&state, m.clone(), &who, &desk, None, error)
        .await
        .map_err(desk_failed(&m, &op))?;
    page.upload_done = done;
    Ok((status, render(&page, &op)).into_response())
}
