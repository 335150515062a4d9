//! "My registrations" (我的查調登記) as a page and as JSON, and the registration of an acting
//! supervisor (代理人, §5 ¶1) as JSON. Each handler parses its input and calls one use case:
//! `querywarden_app::mine::my_registrations` (the page and the API read the same list, with
//! the same filters and the same refusal codes) and `App::register_deputy`.
//!
//! Security-sensitive: the list shows numbers, dates, items and states of the signed-in
//! person's own registrations and requests only — never subjects' names or IDs; every page
//! read is audited by the use case. Registering a deputy changes who approves queries: POST
//! with the CSRF header (the `ApiSession` extractor), refusals audited by the use case.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::acting::{self, RegisterDeputyRequest};
use querywarden_app::mine::{self, MyEntry, MyRegistrationsQuery};
use querywarden_domain::org::{Account, UnitId};
use querywarden_domain::registration::mine::{MineFilterError, Standing};
use querywarden_domain::roc_date::RocDate;
use serde_json::{Value, json};

use super::input::{MineParams, RegisterDeputyBody};
use super::views::{MinePage, MineRow};
use crate::casework::{Answer, ApiCall, Caseworker, date};
use crate::error::ApiError;
use crate::pages::render;
use crate::templates::{FormError, today_in};

/// The OpenAPI summary of this file's API routes (listed in `API_ROUTES`).
pub(super) fn summary(method: &str, path: &str) -> Option<&'static str> {
    Some(match (method, path) {
        ("get", "/api/v1/registrations/mine") => {
            "我的查調登記 my registrations and Form 3 requests in every state, newest first: ?state=pending|approved|refused|cancelled|executed|expired|destroyed&from=&until= (ROC dates)&page= (20 a page; each page read audited)"
        }
        ("post", "/api/v1/units/{unit}/deputy") => {
            "登記代理人 register the unit supervisor's deputy (§5 ¶1): {deputy: account, from?, until?} (ROC dates; by the unit's supervisor or the permission administrator)"
        }
        _ => return None,
    })
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
pub async fn mine_api(c: ApiCall, Query(p): Query<MineParams>) -> Result<Response, ApiError> {
    let listed = mine::my_registrations(&c.desk(), c.me(), &p.query(), Timestamp::now(), c.op_id())
        .await
        .map_err(c.fail())?;
    let l = listed.map_err(|e: MineFilterError| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            e.to_string(),
            e.message_en(),
            c.op_id(),
        )
    })?;
    Ok(Json(json!({
        "entries": l.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "total": l.total,
        "page": l.page,
        "pages": l.pages,
    }))
    .into_response())
}

fn mine_row(e: &MyEntry, c: &Caseworker) -> MineRow {
    let m = &c.m;
    MineRow {
        form: m.get(&format!("mine-form-{}", e.form.code())),
        href: match e.form {
            mine::Form::Registration => format!("/registrations/{}", e.no),
            mine::Form::Request => format!("/requests/{}", e.no),
        },
        no: e.no.clone(),
        date: date(e.date, m),
        state_code: e.standing.code(),
        state: m.get(&format!("mine-state-{}", e.standing.code())),
        reason: e.reason.clone().unwrap_or_default(),
        items: e.items.join("、"),
    }
}

/// `GET /registrations/mine`.
pub async fn mine_page(c: Caseworker, Query(p): Query<MineParams>) -> Answer {
    let path = "/registrations/mine";
    let m = &c.m;
    let listed = mine::my_registrations(&c.desk(), c.me(), &p.query(), Timestamp::now(), c.op_id())
        .await
        .map_err(c.fail(path))?;
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
    let (rows, total, page, pages, error) = match listed {
        Ok(l) => (
            l.entries.iter().map(|e| mine_row(e, &c)).collect(),
            l.total,
            l.page,
            l.pages,
            None,
        ),
        Err(e) => {
            let message = if m.is_zh() {
                e.to_string()
            } else {
                e.message_en().to_string()
            };
            (
                Vec::new(),
                0,
                1,
                1,
                Some(FormError {
                    code: e.code().to_string(),
                    message,
                }),
            )
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = MinePage {
        user: c.bar(),
        path: path.into(),
        today: today_in(m),
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
        m: m.clone(),
    };
    Ok((status, render(&view, &c.op)).into_response())
}

fn bad_field(code: &str, zh: &str, en: &str, c: &ApiCall) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en, c.op_id())
}

/// The deputy's term from the body: the unit, the deputy's account and the ROC dates,
/// converted here; a value that is none of these is refused with its field's code.
fn deputy_request(
    c: &ApiCall,
    unit: String,
    body: &RegisterDeputyBody,
) -> Result<RegisterDeputyRequest, ApiError> {
    let unit = UnitId::new(unit).map_err(|_| not_found(c))?;
    let deputy = Account::parse(&body.deputy)
        .map_err(|e| bad_field(e.code(), &e.to_string(), &e.message_en(), c))?;
    let date = |s: &Option<String>| -> Result<Option<RocDate>, ApiError> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => RocDate::parse(s).map(Some).map_err(|_| {
                bad_field(
                    "acting.date",
                    "日期格式不正確，請以民國年填寫，例如 115/3/5",
                    "the date is not valid; write it in the ROC calendar, e.g. 115/3/5",
                    c,
                )
            }),
        }
    };
    Ok(RegisterDeputyRequest {
        unit,
        deputy,
        from: date(&body.from)?,
        until: date(&body.until)?,
    })
}

fn not_found(c: &ApiCall) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "acting.not_found",
        "找不到此單位或人員",
        "no such unit or person",
        c.op_id(),
    )
}

/// `POST /api/v1/units/{unit}/deputy` (§5 ¶1).
pub async fn deputy_api(
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    c: ApiCall,
    Path(unit): Path<String>,
    Json(body): Json<RegisterDeputyBody>,
) -> Result<Response, ApiError> {
    let req = deputy_request(&c, unit, &body)?;
    let o = querywarden_app::permission::Op {
        now: Timestamp::now(),
        request_id: c.op.0.clone(),
        client_addr: Some(addr.ip().to_string()),
    };
    match c
        .state
        .app
        .register_deputy(c.me(), &req, &o)
        .await
        .map_err(c.fail())?
    {
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
                c.op_id(),
            ))
        }
    }
}
