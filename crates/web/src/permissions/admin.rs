//! The permission administrator's pages (§2, §7): the staff CSV import from HR and the
//! disabled accounts with their re-enabling (資通系統防護基準 1-1-3).
//!
//! Security-sensitive: each page needs the administrator's desk, handed out (and a refusal
//! audited) by the app; the upload is size-limited and its refusals audited; a CSV with any bad
//! row imports nothing.

use axum::extract::{Multipart, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::permission::PermissionError;
use querywarden_app::permission::staff::{StaffImportError, StaffImportReport};
use querywarden_domain::enrolment::RowError;
use querywarden_domain::permission::AdministratorDesk;

use super::input::{DoneQuery, PostedEnable};
use super::pages::{after_post, failed, forbidden, label, names, no_desk, notice, with_error};
use super::views::{AccountsPage, DisabledRow, StaffImportPage};
use crate::app_op::{now_op, op_of};
use crate::error::ApiError;
use crate::i18n::Messages;
use crate::input::CsrfForm;
use crate::pages::render;
use crate::session::{PageSession, csrf_refused, upload_refused};
use crate::templates::{FormError, Frame};
use crate::upload::{read_upload, refused};
use crate::{AppState, OperationId, PageCall};

const IMPORT_PATH: &str = "/permissions/admin/staff-import";
const ACCOUNTS_PATH: &str = "/permissions/admin/accounts";

/// The largest staff file accepted (a bureau of a few thousand people fits many times).
const MAX_STAFF_FILE: usize = 5 * 1024 * 1024;

async fn admin_desk_or_403(
    state: &AppState,
    m: &Messages,
    op: &OperationId,
    who: &SignedIn,
    path: &str,
) -> Result<AdministratorDesk, Response> {
    let desk = state
        .app
        .permissions()
        .administrator_desk(who.person.id, &now_op(op))
        .await;
    desk.map_err(|e| no_desk(e, m, op, path))
}

fn import_page(state: &AppState, m: Messages, who: &SignedIn) -> StaffImportPage {
    StaffImportPage {
        frame: Frame::signed_in(state, who, &m, IMPORT_PATH),
        result: None,
        row_errors: vec![],
        m,
    }
}

pub async fn import_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Response {
    if let Err(r) = admin_desk_or_403(&state, &m, &op, &who, IMPORT_PATH).await {
        return r;
    }
    render(&import_page(&state, m, &who), &op)
}

/// The uploaded file's text and the CSRF token beside it, or the refusal of an upload that is
/// malformed or too large (audited).
async fn staff_file(
    state: &AppState,
    op: &OperationId,
    who: &SignedIn,
    multipart: &mut Multipart,
) -> Result<(String, Option<Vec<u8>>), ApiError> {
    match read_upload(multipart, "file", MAX_STAFF_FILE).await {
        Ok(u) => Ok((u.field("csrf"), u.file)),
        Err(e) => Err(refused(
            state,
            who,
            e,
            "staff_import.too_large",
            MAX_STAFF_FILE,
            &op.0,
        )
        .await),
    }
}

fn import_summary(m: &Messages, r: &StaffImportReport) -> String {
    format!(
        "{}：{} / {}：{} / {}：{} / {}：{}",
        m.get("perm-import-rows"),
        r.rows,
        m.get("perm-import-created"),
        r.created,
        m.get("perm-import-changed"),
        r.changed,
        m.get("perm-import-unchanged"),
        r.unchanged
    )
}

fn row_errors(m: &Messages, rows: &[RowError]) -> Vec<String> {
    rows.iter()
        .map(|e| {
            if m.is_zh() {
                format!("第 {} 行：{}", e.line, e.reason)
            } else {
                format!("line {}: {}", e.line, e.reason)
            }
        })
        .collect()
}

pub async fn import_upload(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let desk = match admin_desk_or_403(&state, &m, &op, &who, IMPORT_PATH).await {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let (csrf, file) = staff_file(&state, &op, &who, &mut multipart).await?;
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
    let imported = state
        .app
        .permissions()
        .import_staff_csv(&desk, &text, &op_of(&op))
        .await;
    Ok(match imported {
        Ok(r) => {
            page.result = Some(import_summary(&m, &r));
            render(&page, &op)
        }
        Err(StaffImportError::BadRows(rows)) => {
            page.row_errors = row_errors(&m, &rows);
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page, &op)).into_response()
        }
        Err(StaffImportError::Failed(e)) => failed(e, &m, &op, IMPORT_PATH),
    })
}

/// The disabled accounts, `notice` and `error` shown.
async fn accounts_view(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    notice: Option<String>,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let desk = match admin_desk_or_403(state, &m, op, who, ACCOUNTS_PATH).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let loaded = async {
        let disabled = state.app.permissions().disabled_accounts(&desk).await?;
        Ok::<_, PermissionError>((disabled, names(state, who, &m).await?))
    }
    .await;
    let (disabled, names) = match loaded {
        Ok(x) => x,
        Err(e) => return failed(e, &m, op, ACCOUNTS_PATH),
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
    let (status, error) = with_error(error);
    let page = AccountsPage {
        frame: Frame::signed_in(state, who, &m, ACCOUNTS_PATH),
        rows,
        notice,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn accounts(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Query(q): Query<DoneQuery>,
) -> Response {
    let notice = notice(&m, q.done.as_deref());
    accounts_view(&state, m, &op, &who, notice, None).await
}

pub async fn enable(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, f): CsrfForm<PostedEnable>,
) -> Response {
    let permissions = state.app.permissions();
    let r = async {
        let desk = permissions
            .administrator_desk(who.person.id, &now_op(&op))
            .await?;
        let account = f.account().ok_or(PermissionError::NotFound("帳號"))?;
        permissions
            .enable_account(&desk, &account, &op_of(&op))
            .await
    }
    .await;
    match r {
        Err(PermissionError::Refused(_)) => forbidden(m, &op, ACCOUNTS_PATH),
        r => {
            let done = r.map(|_| format!("{ACCOUNTS_PATH}?done=enabled"));
            let again = |s, f| accounts_view(&state, m.clone(), &op, &who, None, Some((s, f)));
            after_post(done, &m, &op, ACCOUNTS_PATH, again).await
        }
    }
}
