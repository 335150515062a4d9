//! "My registrations" (我的查調登記) as a page and as JSON. Each handler parses its input and
//! calls one use case, `querywarden_app::mine::my_registrations`: the page and the API read
//! the same list, with the same filters and the same refusal codes.
//!
//! Security-sensitive: the list shows numbers, dates, items and states of the signed-in
//! person's own registrations and requests only — never subjects' names or IDs; every page
//! read is audited by the use case.

use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::mine::{self, MyEntry, MyRegistrationsQuery};
use querywarden_domain::registration::mine::{MineFilterError, Standing};
use serde_json::{Value, json};

use super::input::MineParams;
use super::views::{MinePage, MineRow};
use crate::casework::{Answer, ApiCall, Caseworker, date};
use crate::error::ApiError;
use crate::pages::render;
use crate::templates::FormError;

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

/// 我的查調登記 my registrations and Form 3 requests in every state, newest first: ?state=pending|approved|refused|cancelled|executed|expired|destroyed&from=&until= (ROC dates)&page= (20 a page; each page read audited)
///
/// `GET /api/v1/registrations/mine`.
#[utoipa::path(get, path = "/api/v1/registrations/mine", params(MineParams))]
pub async fn mine_api(c: ApiCall, Query(p): Query<MineParams>) -> Result<Response, ApiError> {
    let listed = mine::my_registrations(&c.desk(), c.me(), &p.query(), Timestamp::now(), c.op_id())
        .await
        .map_err(c.fail())?;
    let l = listed.map_err(|e: MineFilterError| {
        ApiError::refusal(StatusCode::UNPROCESSABLE_ENTITY, &e, c.op_id())
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
        items: e.items.join(m.list_sep()),
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
        Err(e) => (Vec::new(), 0, 1, 1, Some(FormError::refusal(m, &e))),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let view = MinePage {
        frame: c.frame(path),
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
