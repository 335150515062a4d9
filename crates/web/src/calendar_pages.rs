//! The administrator's page for the official office calendar (辦公日曆表, 行政程序法 §48):
//! which years are loaded and whether next year's is missing, and the upload of a year's
//! CSV. The rules (who may, what a valid table is, the audit record) are the app's.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::calendar;
use querywarden_domain::org::Role;
use querywarden_domain::roc_date::{format_taipei_datetime, taipei_date};

use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::session::{PageSession, csrf_refused};
use crate::templates::today_in;
use crate::templates::{ErrorPage, UserBar};
use crate::upload::{UploadError, read_upload};
use crate::{AppState, Lang, OperationId};

const PATH: &str = "/admin/calendar";
/// A year's table is some 20 KB; anything near this is not one.
const MAX_UPLOAD: usize = 512 * 1024;

pub struct YearLine {
    pub year: String,
    pub loaded_at: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub years: Vec<YearLine>,
    /// 「民國 117 年（2028）的辦公日曆表尚未匯入」 from October on.
    pub missing: Option<String>,
    pub result: Option<String>,
    pub error: Option<crate::templates::FormError>,
}

fn year_label(m: &Messages, year: i16) -> String {
    if m.is_zh() {
        format!("民國 {} 年（{year}）", year - 1911)
    } else {
        format!("{year} (ROC {})", year - 1911)
    }
}

async fn page(
    state: &AppState,
    m: Messages,
    who: &querywarden_app::auth::SignedIn,
) -> Result<CalendarPage, querywarden_app::AppError> {
    let store = state.app.store();
    let cal = calendar::current(store).await?;
    let missing = calendar::missing_next_year(&cal, taipei_date(Timestamp::now()))
        .map(|y| m.with("calendar-missing", &[("year", year_label(&m, y))]));
    let years = calendar::loaded_years(store)
        .await?
        .into_iter()
        .map(|y| YearLine {
            year: year_label(&m, y.year),
            loaded_at: format_taipei_datetime(y.loaded_at),
        })
        .collect();
    Ok(CalendarPage {
        user: Some(UserBar::of(who, lock_after_ms(state))),
        path: PATH.into(),
        today: today_in(&m),
        csrf: who.session.csrf_token.clone(),
        years,
        missing,
        result: None,
        error: None,
        m,
    })
}

async fn refused_role(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    m: Messages,
    op: &OperationId,
) -> Response {
    if let Err(e) = querywarden_app::auth::refuse_request(
        state.app.store(),
        who,
        "calendar.not_administrator",
        None,
        Timestamp::now(),
        &op.0,
    )
    .await
    {
        return ApiError::internal(&e, &op.0).into_response();
    }
    let message = m.get("forbidden");
    let page =
        ErrorPage::new(m, PATH, message, op.0.clone()).with_code("calendar.not_administrator");
    (StatusCode::FORBIDDEN, render(&page, op)).into_response()
}

pub async fn calendar_form(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    if !who.person.has_role(Role::PermissionAdministrator) {
        return Ok(refused_role(&state, &who, m, &op).await);
    }
    let p = page(&state, m.clone(), &who)
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m, PATH))?;
    Ok(render(&p, &op))
}

pub async fn calendar_upload(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    if !who.person.has_role(Role::PermissionAdministrator) {
        return Ok(refused_role(&state, &who, m, &op).await);
    }
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), PATH);
    let upload = read_upload(&mut multipart, "file", MAX_UPLOAD).await;
    let (csrf, file) = match upload {
        Ok(u) => (u.field("csrf"), u.file),
        Err(UploadError::Malformed | UploadError::TooLarge) => (String::new(), None),
    };
    if !who.csrf_ok(&csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let text = file
        .and_then(|f| String::from_utf8(f).ok())
        .unwrap_or_default();
    let outcome = calendar::import_csv(
        state.app.store(),
        Some(&who.person),
        &text,
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(fail)?;
    let mut p = page(&state, m.clone(), &who).await.map_err(fail)?;
    Ok(match outcome {
        Ok(y) => {
            p.result = Some(m.with(
                "calendar-loaded",
                &[
                    ("year", year_label(&m, y.year)),
                    ("holidays", y.holidays.to_string()),
                    ("makeup", y.makeup_workdays.to_string()),
                ],
            ));
            render(&p, &op)
        }
        Err(r) => {
            p.error = Some(crate::templates::FormError {
                code: r.code.into(),
                message: if m.is_zh() {
                    r.message_zh
                } else {
                    r.message_en
                },
            });
            (StatusCode::UNPROCESSABLE_ENTITY, render(&p, &op)).into_response()
        }
    })
}
