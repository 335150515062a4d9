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
use querywarden_domain::audit_event::{Actor, AuditAction};
use querywarden_domain::org::{Account, Role};
use querywarden_domain::roc_date::{DateField, RocDate, format_taipei_datetime};

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
        ..Default::default()
    };
    if let Some(a) = text(&form.action) {
        let action = AuditAction::parse_code(a).ok_or_else(|| {
            bad(
                "audit.action",
                if m.is_zh() {
                    "請從清單選擇動作".into()
                } else {
                    "choose an action from the list".into()
                },
            )
        })?;
        q.action = Some(action.code().to_string());
    }
    if let Some(p) = text(&form.person) {
        q.person = Some(Account::parse(p).map_err(|e| bad("audit.person", e.to_string()))?);
    }
    let today = querywarden_domain::roc_date::taipei_date(Timestamp::now());
    let date = |s: &str, code: &str| {
        RocDate::parse_field(s, DateField::SearchBound, today).map_err(|e| {
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
    if let Some(a) = text(&form.after) {
        q.after = Some(
            a.parse()
                .map_err(|_| bad("audit.before", "分頁參數錯誤".into()))?,
        );
    }
    Ok(q)
}

/// An action's name in the page's language; an action the catalogue does not name yet shows
/// as its code.
pub(crate) fn action_label(m: &crate::i18n::Messages, code: &str) -> String {
    let key = format!("audit-action-{}", code.replace(['.', '_'], "-"));
    let label = m.get(&key);
    if label == key {
        code.to_string()
    } else {
        label
    }
}

/// `succeeded`, `refused:<rule>`, `failed:<reason>` in words (the rule's code kept beside a
/// refusal or failure: it is what the auditor searches the rules for).
fn outcome_words(m: &crate::i18n::Messages, outcome: &str) -> (String, &'static str) {
    match outcome.split_once(':') {
        Some(("refused", why)) => (
            format!("{}（{why}）", m.get("audit-outcome-refused")),
            "refused",
        ),
        Some(("failed", why)) => (
            format!("{}（{why}）", m.get("audit-outcome-failed")),
            "failed",
        ),
        _ if outcome == "succeeded" => (m.get("audit-outcome-succeeded"), "ok"),
        _ => (outcome.to_string(), "ok"),
    }
}

/// The page an object of the trail is shown on, where it has one.
fn object_href(object_type: &str, object_id: &str) -> Option<String> {
    let id_ok = !object_id.is_empty()
        && object_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !id_ok {
        return None;
    }
    let base = match object_type {
        "registration" => "/registrations",
        "request" => "/requests",
        "unannounced_audit" => "/oversight/audits",
        "violation" => "/oversight/violations",
        "review" => "/oversight/reviews",
        "permission_application" => "/permissions/applications",
        "recertification_round" => "/permissions/recertification",
        _ => return None,
    };
    Some(format!("{base}/{object_id}"))
}

fn audit_rows(
    m: &crate::i18n::Messages,
    records: Vec<search::StoredAuditRecord>,
    people: &[querywarden_domain::org::Person],
) -> Vec<AuditRow> {
    records
        .into_iter()
        .map(|r| {
            let (outcome, outcome_class) = outcome_words(m, &r.outcome);
            AuditRow {
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
                action: action_label(m, &r.action),
                object_href: object_href(&r.object_type, &r.object_id),
                object: format!("{}:{}", r.object_type, r.object_id),
                action_code: r.action,
                outcome,
                outcome_code: r.outcome,
                outcome_class,
            }
        })
        .collect()
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
    let outcome = search::search_page(
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
        Ok(found) => {
            let people = state
                .app
                .store()
                .persons()
                .await
                .map_err(|e| PageError::internal(&e.into(), &op.0, m.clone(), "/audit"))?;
            page.searched = true;
            page.total = m.with(
                "audit-total",
                &[
                    ("total", found.total.to_string()),
                    ("shown", found.records.len().to_string()),
                ],
            );
            page.newer = found.newer;
            page.older = found.older;
            page.rows = audit_rows(&m, found.records, &people);
        }
        Err(f) => page.error = field_error(&f.code, f.message),
    }
    Ok(render(&page, &op))
}

/// §7, §8: every record the search matches, as a CSV file (UTF-8 with a byte-order mark, so
/// that a spreadsheet opens the Chinese correctly). The export is recorded by the use case;
/// the trail holds no personal data in clear, and neither does the file (actors by account).
pub async fn audit_export(
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
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), "/audit");
    let records = match search::export(
        state.app.store(),
        state.app.keys(),
        &reader,
        &query,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?
    {
        Ok(r) => r,
        Err(f) => {
            page.error = field_error(&f.code, f.message);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response());
        }
    };
    let people = state
        .app
        .store()
        .persons()
        .await
        .map_err(|e| fail(e.into()))?;
    let csv = match audit_csv(&m, &records, &people) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(operation_id = %op.0, error = %e, "audit export failed");
            return Ok(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "audit.export_failed",
                "匯出檔無法產生，請稍後再試。",
                "the export could not be written; try again later.",
                &op.0,
            )
            .into_response());
        }
    };
    let name = format!(
        "audit-trail-{}.csv",
        jiff::Zoned::now()
            .with_time_zone(
                jiff::tz::TimeZone::get("Asia/Taipei").unwrap_or(jiff::tz::TimeZone::UTC)
            )
            .strftime("%Y%m%d-%H%M%S")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

fn audit_csv(
    m: &crate::i18n::Messages,
    records: &[search::StoredAuditRecord],
    people: &[querywarden_domain::org::Person],
) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(
        [
            "audit-csv-seq",
            "audit-csv-time",
            "audit-csv-actor",
            "audit-csv-action",
            "audit-csv-action-code",
            "audit-csv-object-type",
            "audit-csv-object-id",
            "audit-csv-outcome",
            "audit-csv-outcome-code",
        ]
        .map(|k| m.get(k)),
    )?;
    for r in records {
        let time =
            r.at.parse::<Timestamp>()
                .map(format_taipei_datetime)
                .unwrap_or_else(|_| r.at.clone());
        let actor = r
            .actor_person_id
            .and_then(|id| people.iter().find(|p| p.id.get() == id))
            .map_or(String::new(), |p| p.account.as_str().to_string());
        out.write_record([
            r.seq.to_string(),
            time,
            actor,
            action_label(m, &r.action),
            r.action.clone(),
            r.object_type.clone(),
            r.object_id.clone(),
            outcome_words(m, &r.outcome).0,
            r.outcome.clone(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
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

/// The administrator's capability for binding cards, from the rules.
async fn administrator_desk(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    op: &OperationId,
) -> Option<querywarden_domain::permission::AdministratorDesk> {
    querywarden_app::permission::administrator_desk(
        state.app.store(),
        &state.app.config().permission,
        who.person.id,
        &crate::app_op::now_op(op),
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
