//! The BLI platform's usage-log import (§7): the permission administrator uploads the
//! platform's export; the app matches it against the executions recorded here.

use axum::extract::Multipart;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::administration;
use querywarden_app::auth::SignedIn;

use super::templates::UsageLogPage;
use super::{administrator, refused_page};
use crate::auth::session::{PageSession, csrf_refused, upload_refused};
use crate::error::ApiError;
use crate::pages::render;
use crate::templates::UserBar;
use crate::upload::{read_upload, refused};
use crate::{AppState, OperationId, PageCall};

/// §9: who is not the permission administrator is refused with this code, recorded.
const REFUSAL: &str = "usage_log.not_administrator";
const PATH: &str = "/admin/usage-log";
/// The largest usage-log file accepted (a quarter of a busy bureau fits many times over).
const MAX_UPLOAD: usize = 20 * 1024 * 1024;
/// The route's body limit: the file and the form around it.
pub(super) const BODY_LIMIT: usize = 21 * 1024 * 1024;

pub async fn usage_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Response {
    if let Err(refused) = administrator(&state, &who, &m, &op, PATH, REFUSAL, "").await {
        return refused;
    }
    render(&UsageLogPage::new(m, UserBar::for_page(&state, &who)), &op)
}

/// The file of the upload, or the answer that refuses it (too large and not UTF-8 recorded).
async fn usage_log_text(
    state: &AppState,
    who: &SignedIn,
    page: &mut UsageLogPage,
    multipart: &mut Multipart,
    op: &OperationId,
) -> Result<String, Response> {
    let upload = match read_upload(multipart, "file", MAX_UPLOAD).await {
        Ok(u) => u,
        Err(e) => {
            let answer = refused(state, who, e, "usage_log.too_large", MAX_UPLOAD, &op.0).await;
            return Err(answer.into_response());
        }
    };
    if !who.csrf_ok(&upload.field("csrf")) {
        return Err(csrf_refused(state, who, &op.0).await.into_response());
    }
    match upload.file.map(String::from_utf8) {
        Some(Ok(t)) => Ok(t),
        _ => {
            if let Some(e) = upload_refused(state, who, "usage_log.not_utf8", &op.0).await {
                return Err(e.into_response());
            }
            page.row_errors = vec!["檔案須為 UTF-8 編碼的 CSV / the file must be UTF-8 CSV".into()];
            Err(refused_page(page, op))
        }
    }
}

pub async fn usage_upload(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let admin = match administrator(&state, &who, &m, &op, PATH, REFUSAL, "").await {
        Ok(a) => a,
        Err(refused) => return Ok(refused),
    };
    let mut page = UsageLogPage::new(m, UserBar::for_page(&state, &who));
    let text = match usage_log_text(&state, &who, &mut page, &mut multipart, &op).await {
        Ok(t) => t,
        Err(answer) => return Ok(answer),
    };
    let outcome =
        administration::import_usage_log(&state.app, &admin, &text, Timestamp::now(), &op.0)
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
            refused_page(&page, &op)
        }
    })
}
