//! Pages for the permission administrator and the ethics office: audit-trail search (§7, §8)
//! and the BLI platform usage-log import (§7). Each checks the role first and gets a
//! capability from the app layer; everyone else gets a 403 page.

use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::audit::search::{self, AuditQuery, AuditReader};
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::Actor;
use querywarden_domain::org::{Account, Role};
use querywarden_domain::roc_date::{RocDate, format_taipei_datetime};

use crate::error::{ApiError, PageError};
use crate::pages::{lock_after_ms, render};
use crate::session::{PageSession, csrf_refused, upload_refused};
use crate::templates::{
    AuditForm, AuditPage, AuditRow, BindCardPage, ErrorPage, FormError, UsageLogPage, UserBar,
};
use crate::upload::{UploadError, read_upload};
use crate::{AppState, Lang, OperationId};

/// A page of another role, refused; the refusal recorded through the app (§9: every refusal
/// is on the trail).
async fn forbidden_audited(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    code: &str,
    m: crate::i18n::Messages,
    op: &OperationId,
    path: &str,
) -> Response {
    if let Err(e) = querywarden_app::auth::refuse_request(
        state.app.store(),
        who,
        code,
        None,
        jiff::Timestamp::now(),
        &op.0,
    )
    .await
    {
        return ApiError::internal(&e, &op.0).into_response();
    }
    forbidden(m, op, path)
}

fn forbidden(m: crate::i18n::Messages, op: &OperationId, path: &str) -> Response {
    let message = m.get("forbidden");
    let page = ErrorPage::new(m, path, message, op.0.clone());
    (StatusCode::FORBIDDEN, render(&page, op)).into_response()
}

pub async fn audit_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    if AuditReader::for_person(&who.person).is_none() {
        return forbidden_audited(&state, &who, "audit.not_reader", m, &op, "/audit").await;
    }
    let bar = UserBar::of(&who, lock_after_ms(&state));
    render(&AuditPage::new(m, bar, AuditForm::default()), &op)
}

fn field_error(code: &str, message: String) -> Option<FormError> {
    Some(FormError {
        code: code.to_string(),
        message,
    })
}

/// Turns the form into a query, or says which field is wrong.
fn parse_form(form: &AuditForm, m: &crate::i18n::Messages) -> Result<AuditQuery, FormError> {
    let bad = |code: &str, msg: String| FormError {
        code: code.to_string(),
        message: msg,
    };
    fn text(s: &str) -> Option<&str> {
        Some(s.trim()).filter(|s| !s.is_empty())
    }
    let mut q = AuditQuery {
        limit: 50,
        action: text(&form.action).map(str::to_string),
        ..Default::default()
    };
    if let Some(p) = text(&form.person) {
        q.person = Some(Account::parse(p).map_err(|e| bad("audit.person", e.to_string()))?);
    }
    let date = |s: &str, code: &str| {
        RocDate::parse(s).map_err(|e| {
            bad(
                code,
                if m.is_zh() {
                    e.to_string()
                } else {
                    e.message_en()
                },
            )
        })
    };
    if let Some(d) = text(&form.from) {
        q.from = Some(date(d, "audit.from")?);
    }
    if let Some(d) = text(&form.until) {
        q.until = Some(date(d, "audit.until")?);
    }
    if let Some(o) = text(&form.object) {
        let (t, id) = o.split_once(':').ok_or_else(|| {
            bad(
                "audit.object",
                "物件格式為 類型:編號，例如 registration:115-000012".into(),
            )
        })?;
        q.object = Some((t.to_string(), id.to_string()));
    }
    if let Some(s) = text(&form.subject) {
        q.subject = Some(NationalId::parse(s).map_err(|e| {
            bad(
                e.code(),
                if m.is_zh() {
                    e.to_string()
                } else {
                    e.message_en()
                },
            )
        })?);
    }
    if let Some(b) = text(&form.before) {
        q.before = Some(
            b.parse()
                .map_err(|_| bad("audit.before", "分頁參數錯誤".into()))?,
        );
    }
    Ok(q)
}

/// The search arrives by POST: a subject's national ID must never travel in a URL.
pub async fn audit_search(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Form(form): Form<AuditForm>,
) -> Result<Response, PageError> {
    let Some(reader) = AuditReader::for_person(&who.person) else {
        return Ok(forbidden_audited(&state, &who, "audit.not_reader", m, &op, "/audit").await);
    };
    if !who.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let bar = UserBar::of(&who, lock_after_ms(&state));
    let mut page = AuditPage::new(m.clone(), bar, form.clone());
    let query = match parse_form(&form, &m) {
        Ok(q) => q,
        Err(e) => {
            page.error = Some(e);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
        }
    };
    let outcome = search::search(
        state.app.store(),
        state.app.keys(),
        &reader,
        &query,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/audit"))?;
    match outcome {
        Ok(records) => {
            let people = state
                .app
                .store()
                .persons()
                .await
                .map_err(|e| PageError::internal(&e.into(), &op.0, m.clone(), "/audit"))?;
            page.searched = true;
            page.next_before = (records.len() as u32 == query.limit)
                .then(|| records.last().map(|r| r.seq))
                .flatten();
            page.rows = records
                .into_iter()
                .map(|r| AuditRow {
                    seq: r.seq,
                    time: r
                        .at
                        .parse::<Timestamp>()
                        .map(format_taipei_datetime)
                        .unwrap_or(r.at),
                    actor: r
                        .actor_person_id
                        .and_then(|id| people.iter().find(|p| p.id.get() == id))
                        .map_or("—".to_string(), |p| {
                            format!("{}（{}）", p.name, p.account.as_str())
                        }),
                    action: r.action,
                    object: format!("{}:{}", r.object_type, r.object_id),
                    outcome: r.outcome,
                })
                .collect();
        }
        Err(f) => page.error = field_error(&f.code, f.message),
    }
    Ok(render(&page, &op))
}

pub async fn usage_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    if !who.person.has_role(Role::PermissionAdministrator) {
        return forbidden_audited(
            &state,
            &who,
            "usage_log.not_administrator",
            m,
            &op,
            "/admin/usage-log",
        )
        .await;
    }
    let bar = UserBar::of(&who, lock_after_ms(&state));
    render(&UsageLogPage::new(m, bar), &op)
}

/// The largest usage-log file accepted (a quarter of a busy bureau fits many times over).
const MAX_UPLOAD: usize = 20 * 1024 * 1024;

pub async fn usage_upload(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    if !who.person.has_role(Role::PermissionAdministrator) {
        return Ok(forbidden_audited(
            &state,
            &who,
            "usage_log.not_administrator",
            m,
            &op,
            "/admin/usage-log",
        )
        .await);
    }
    let malformed = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "request.malformed",
            "上傳格式錯誤",
            "malformed upload",
            &op.0,
        )
    };
    let upload = match read_upload(&mut multipart, "file", MAX_UPLOAD).await {
        Ok(u) => u,
        Err(UploadError::Malformed) => return Err(malformed()),
        Err(UploadError::TooLarge) => {
            if let Some(e) = upload_refused(&state, &who, "usage_log.too_large", &op.0).await {
                return Err(e);
            }
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "usage_log.too_large",
                "檔案過大（上限 20 MB）",
                "file too large (20 MB at most)",
                &op.0,
            ));
        }
    };
    let (csrf, file) = (upload.field("csrf"), upload.file);
    if !who.csrf_ok(&csrf) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    let bar = UserBar::of(&who, lock_after_ms(&state));
    let mut page = UsageLogPage::new(m, bar);
    let text = match file.map(String::from_utf8) {
        Some(Ok(t)) => t,
        _ => {
            if let Some(e) = upload_refused(&state, &who, "usage_log.not_utf8", &op.0).await {
                return Err(e);
            }
            page.row_errors = vec!["檔案須為 UTF-8 編碼的 CSV / the file must be UTF-8 CSV".into()];
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
        }
    };
    let outcome = querywarden_app::usage_log::import(
        state.app.store(),
        state.app.keys(),
        &state.app.config().bli.usage_log_columns,
        Some(Actor {
            person: who.person.id,
            role: Some(Role::PermissionAdministrator),
        }),
        &text,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(match outcome {
        Ok(r) => {
            page.result = Some(format!(
                "已匯入 {} 列，新增 {} 筆，先前已匯入 {} 筆，釐清結果不明的查詢 {} 筆 / {} rows, {} added, {} already present, {} unknown query outcomes resolved",
                r.rows,
                r.added,
                r.already_present,
                r.resolved,
                r.rows,
                r.added,
                r.already_present,
                r.resolved
            ));
            render(&page, &op)
        }
        Err(errors) => {
            page.row_errors = errors
                .iter()
                .map(|e| match &e.column {
                    Some(c) => format!("第 {} 行（{c}）：{}", e.line, e.reason),
                    None => format!("第 {} 行：{}", e.line, e.reason),
                })
                .collect();
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response()
        }
    })
}

/// The administrator's capability for binding cards, from issue 7's rules.
async fn administrator_desk(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    op: &OperationId,
) -> Option<querywarden_domain::permission::AdministratorDesk> {
    querywarden_app::permission::administrator_desk(
        state.app.store(),
        &state.app.config().permission,
        who.person.id,
        &crate::permission_pages::now_op(op),
    )
    .await
    .ok()
}

pub async fn bind_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Response {
    if administrator_desk(&state, &who, &op).await.is_none() {
        return forbidden(m, &op, "/admin/bind-card");
    }
    let bar = UserBar::of(&who, lock_after_ms(&state));
    render(&BindCardPage::new(m, bar), &op)
}

pub async fn bind_upload(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let Some(desk) = administrator_desk(&state, &who, &op).await else {
        return Ok(forbidden(m, &op, "/admin/bind-card"));
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
    let upload = read_upload(&mut multipart, "certificate", usize::MAX)
        .await
        .map_err(|_| malformed())?;
    let (csrf, account) = (upload.field("csrf"), upload.field("account"));
    let certificate = upload.file.unwrap_or_default();
    if !who.csrf_ok(&csrf) {
        return Err(csrf_refused(&state, &who, &op.0).await);
    }
    let bar = UserBar::of(&who, lock_after_ms(&state));
    let mut page = BindCardPage::new(m, bar);
    let Ok(account) = Account::parse(&account) else {
        page.error = field_error("binding.unknown_account", "帳號格式錯誤".into());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
    };
    let Some(ctx) = state.app.auth() else {
        page.error = field_error("auth.not_configured", "尚未設定自然人憑證信任錨".into());
        return Ok((StatusCode::SERVICE_UNAVAILABLE, render(&page, &op)).into_response());
    };
    let outcome = querywarden_app::binding::bind_card(
        state.app.store(),
        ctx,
        &desk,
        &account,
        &certificate,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?;
    Ok(match outcome {
        Ok(b) => {
            page.result = Some(format!(
                "已綁定 {}（憑證序號 {}，有效至 {}）/ bound",
                account.as_str(),
                b.serial_hex,
                querywarden_domain::roc_date::taipei_date(b.not_after).format_long()
            ));
            render(&page, &op)
        }
        Err(f) => {
            page.error = field_error(&f.code, f.message);
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response()
        }
    })
}
