//! "My registrations" (我的查調登記) as a page and as JSON, and the registration of an acting
//! supervisor (代理人, §5 ¶1) as JSON. Each handler parses its input and calls one use case:
//! `querywarden_app::mine::my_registrations` (the page and the API read the same list, with
//! the same filters and the same refusal codes) and `querywarden_app::acting::register_deputy`.
//!
//! Security-sensitive: the list shows numbers, dates, items and states of the signed-in
//! person's own registrations and requests only — never subjects' names or IDs; every page
//! read is audited by the use case. Registering a deputy changes who approves queries: POST
//! with the CSRF header (the `ApiSession` extractor), refusals audited by the use case.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use querywarden_app::acting::{self, RegisterDeputyRequest};
use querywarden_app::mine::{self, MyEntry, MyRegistrations, MyRegistrationsQuery};
use querywarden_domain::org::{Account, UnitId};
use querywarden_domain::registration::mine::{MineFilterError, Standing};
use querywarden_domain::roc_date::RocDate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::{lock_after_ms, render};
use crate::registration_templates::today_in;
use crate::session::{ApiSession, PageSession};
use crate::templates::{FormError, UserBar};
use crate::{AppState, Lang, OperationId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registrations/mine", get(mine_page))
        .route("/api/v1/registrations/mine", get(mine_api))
        .route("/api/v1/units/{unit}/deputy", post(deputy_api))
}

/// The OpenAPI operation of this module's API routes (listed in `API_ROUTES`).
pub fn openapi_operation(method: &str, path: &str) -> Option<Value> {
    let summary = match (method, path) {
        ("get", "/api/v1/registrations/mine") => {
            "我的查調登記 my registrations and Form 3 requests in every state, newest first: ?state=pending|approved|refused|cancelled|executed|expired|destroyed&from=&until= (ROC dates)&page= (20 a page; each page read audited)"
        }
        ("post", "/api/v1/units/{unit}/deputy") => {
            "登記代理人 register the unit supervisor's deputy (§5 ¶1): {deputy: account, from?, until?} (ROC dates; by the unit's supervisor or the permission administrator)"
        }
        _ => return None,
    };
    Some(json!({
        "summary": summary,
        "responses": {
            "200": { "description": "ok" },
            "401": { "description": "not signed in" },
            "403": { "description": "not allowed or CSRF token missing" },
            "404": { "description": "no such unit or person" },
            "422": { "description": "invalid input, with the rule's code" },
        }
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct MineParams {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

impl MineParams {
    fn query(&self) -> MyRegistrationsQuery {
        MyRegistrationsQuery {
            state: self.state.clone(),
            from: self.from.clone(),
            until: self.until.clone(),
            page: self.page.clone(),
        }
    }
}

fn filter_refused(e: MineFilterError, op: &OperationId) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        e.code(),
        e.to_string(),
        e.message_en(),
        &op.0,
    )
}

fn entry_json(e: &MyEntry) -> Value {
    json!({
        "form": e.form.code(),
        "no": e.no,
        "date": e.date.civil().to_string(),
        "filed_at": e.created_at.to_string(),
        "state": e.standing.code(),
        "reason": e.reason,
        "items": e.items,
    })
}

/// `GET /api/v1/registrations/mine`.
pub async fn mine_api(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
    Query(p): Query<MineParams>,
) -> Result<Response, ApiError> {
    let listed = mine::my_registrations(
        &state.app.desk(),
        &who.person,
        &p.query(),
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| ApiError::internal(&e, &op.0))?;
    let l = listed.map_err(|e| filter_refused(e, &op))?;
    Ok(Json(json!({
        "entries": l.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "total": l.total,
        "page": l.page,
        "pages": l.pages,
    }))
    .into_response())
}

/// One line of the page.
pub struct MineRow {
    pub form: String,
    pub href: String,
    pub no: String,
    pub date: String,
    pub state_code: &'static str,
    pub state: String,
    pub reason: String,
    pub items: String,
}

#[derive(Template)]
#[template(path = "registrations/mine.html")]
pub struct MinePage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub error: Option<FormError>,
    pub rows: Vec<MineRow>,
    pub states: Vec<(&'static str, String, bool)>,
    pub from: String,
    pub until: String,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    /// The previous and next page numbers (GET forms carrying the same filters).
    pub prev: Option<usize>,
    pub next: Option<usize>,
    pub state: String,
}

fn day(d: RocDate, m: &Messages) -> String {
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

/// `GET /registrations/mine`.
pub async fn mine_page(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    PageSession(who): PageSession,
    Query(p): Query<MineParams>,
) -> Result<Response, PageError> {
    let path = "/registrations/mine";
    let listed = mine::my_registrations(
        &state.app.desk(),
        &who.person,
        &p.query(),
        Timestamp::now(),
        &op.0,
    )
    .await
    .map_err(|e| PageError::internal(&e, &op.0, m.clone(), path))?;
    let (list, error) = match listed {
        Ok(l) => (Some(l), None),
        Err(e) => (
            None,
            Some(FormError {
                code: e.code().to_string(),
                message: if m.is_zh() {
                    e.to_string()
                } else {
                    e.message_en().to_string()
                },
            }),
        ),
    };
    let chosen = p.state.as_deref().unwrap_or("");
    let states = Standing::ALL
        .into_iter()
        .map(|s| {
            (
                s.code(),
                m.get(&format!("mine-state-{}", s.code())),
                s.code() == chosen,
            )
        })
        .collect();
    let (rows, total, page, pages) = match &list {
        Some(MyRegistrations {
            entries,
            total,
            page,
            pages,
            ..
        }) => (
            entries
                .iter()
                .map(|e| MineRow {
                    form: m.get(&format!("mine-form-{}", e.form.code())),
                    href: match e.form {
                        mine::Form::Registration => format!("/registrations/{}", e.no),
                        mine::Form::Request => format!("/requests/{}", e.no),
                    },
                    no: e.no.clone(),
                    date: day(e.date, &m),
                    state_code: e.standing.code(),
                    state: m.get(&format!("mine-state-{}", e.standing.code())),
                    reason: e.reason.clone().unwrap_or_default(),
                    items: e.items.join("、"),
                })
                .collect(),
            *total,
            *page,
            *pages,
        ),
        None => (Vec::new(), 0, 1, 1),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page_view = MinePage {
        user: Some(UserBar::of(&who, lock_after_ms(&state))),
        path: path.into(),
        today: today_in(&m),
        error,
        rows,
        states,
        from: p.from.clone().unwrap_or_default(),
        until: p.until.clone().unwrap_or_default(),
        total,
        page,
        pages,
        prev: (page > 1).then(|| page - 1),
        next: (page < pages).then(|| page + 1),
        state: chosen.to_string(),
        m,
    };
    Ok((status, render(&page_view, &op)).into_response())
}

/// The body of `POST /api/v1/units/{unit}/deputy`.
#[derive(Debug, Deserialize)]
pub struct RegisterDeputyBody {
    pub deputy: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

fn bad_field(code: &str, zh: &str, en: &str, op: &OperationId) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en, &op.0)
}

/// `POST /api/v1/units/{unit}/deputy` (§5 ¶1).
pub async fn deputy_api(
    State(state): State<AppState>,
    op: OperationId,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiSession(who): ApiSession,
    Path(unit): Path<String>,
    Json(body): Json<RegisterDeputyBody>,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "acting.not_found",
            "找不到此單位或人員",
            "no such unit or person",
            &op.0,
        )
    };
    let unit = UnitId::new(unit).map_err(|_| not_found())?;
    let deputy = Account::parse(&body.deputy)
        .map_err(|e| bad_field(e.code(), &e.to_string(), &e.message_en(), &op))?;
    let date = |s: &Option<String>| -> Result<Option<RocDate>, ApiError> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => RocDate::parse(s).map(Some).map_err(|_| {
                bad_field(
                    "acting.date",
                    "日期格式不正確，請以民國年填寫，例如 115/3/5",
                    "the date is not valid; write it in the ROC calendar, e.g. 115/3/5",
                    &op,
                )
            }),
        }
    };
    let req = RegisterDeputyRequest {
        unit,
        deputy,
        from: date(&body.from)?,
        until: date(&body.until)?,
    };
    let o = querywarden_app::permission::Op {
        now: Timestamp::now(),
        request_id: op.0.clone(),
        client_addr: Some(addr.ip().to_string()),
    };
    let done = acting::register_deputy(state.app.store(), &who.person, &req, &o)
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    match done {
        Ok(term) => Ok(Json(json!({
            "unit": req.unit.as_str(),
            "deputy": term.person.get(),
            "from": term.from.map(|d| d.civil().to_string()),
            "until": term.until.map(|d| d.civil().to_string()),
        }))
        .into_response()),
        Err(r) => {
            let status = match r {
                acting::DeputyRefusal::NotFound => StatusCode::NOT_FOUND,
                acting::DeputyRefusal::Rule(
                    querywarden_domain::permission::acting::DeputyTermError::NotAllowed,
                ) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Err(ApiError::new(
                status,
                r.code(),
                r.to_string(),
                r.message_en(),
                &op.0,
            ))
        }
    }
}
