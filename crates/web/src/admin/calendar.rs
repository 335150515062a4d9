//! The administrator's page for the official office calendar (辦公日曆表, 行政程序法 §48):
//! which years are loaded and whether next year's is missing, and the upload of a year's
//! CSV. The rules (who may, what a valid table is, the audit record) are the app's.

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::AppError;
use querywarden_app::administration::{self, Administrator};
use querywarden_app::auth::SignedIn;
use querywarden_domain::roc_date::taipei_date;

use super::administrator;
use super::templates::{CalendarPage, YearLine};
use crate::auth::session::{PageSession, csrf_refused};
use crate::error::PageError;
use crate::i18n::Messages;
use crate::pages::render;
use crate::templates::{FormError, Frame};
use crate::upload::read_upload;
use crate::{AppState, PageCall};

/// §9: who is not the permission administrator is refused with this code, recorded.
const REFUSAL: &str = "calendar.not_administrator";
const PATH: &str = "/admin/calendar";
/// A year's table is some 20 KB; anything near this is not one.
const MAX_UPLOAD: usize = 512 * 1024;

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
    who: &SignedIn,
    admin: &Administrator,
) -> Result<CalendarPage, AppError> {
    let overview =
        administration::calendar_overview(&state.app, admin, taipei_date(Timestamp::now())).await?;
    let missing = overview
        .missing_next_year
        .map(|y| m.with("calendar-missing", &[("year", year_label(&m, y))]));
    let years = overview
        .years
        .into_iter()
        .map(|y| YearLine {
            year: year_label(&m, y.year),
            loaded_at: m.datetime(y.loaded_at),
        })
        .collect();
    Ok(CalendarPage {
        frame: Frame::signed_in(state, who, &m, PATH),
        years,
        missing,
        result: None,
        error: None,
        m,
    })
}

pub async fn calendar_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Result<Response, PageError> {
    let admin = match administrator(&state, &who, &m, &op, PATH, REFUSAL, REFUSAL).await {
        Ok(a) => a,
        Err(refused) => return Ok(refused),
    };
    let p = page(&state, m.clone(), &who, &admin)
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m, PATH))?;
    Ok(render(&p, &op))
}

pub async fn calendar_upload(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let admin = match administrator(&state, &who, &m, &op, PATH, REFUSAL, REFUSAL).await {
        Ok(a) => a,
        Err(refused) => return Ok(refused),
    };
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), PATH);
    // A body that is not a well-formed upload carries no CSRF token: refused as such.
    let (csrf, file) = match read_upload(&mut multipart, "file", MAX_UPLOAD).await {
        Ok(u) => (u.field("csrf"), u.file),
        Err(_) => (String::new(), None),
    };
    if !who.csrf_ok(&csrf) {
        return Ok(csrf_refused(&state, &who, &op.0).await.into_response());
    }
    let text = file
        .and_then(|f| String::from_utf8(f).ok())
        .unwrap_or_default();
    let outcome =
        administration::import_calendar(&state.app, &admin, &text, Timestamp::now(), &op.0)
            .await
            .map_err(fail)?;
    let mut p = page(&state, m.clone(), &who, &admin).await.map_err(fail)?;
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
            p.error = Some(FormError {
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
