//! Registering a unit supervisor's deputy (代理人, §5 ¶1) from a page and from the JSON API.
//! Both hand the form as typed to one use case (`App::register_deputy`), which parses it,
//! decides and audits, so the page and the API refuse the same things with the same code
//! and the same status; the page shows the unit's present deputy from `App::deputy_desk`.
//!
//! Security-sensitive: a deputy approves queries in the supervisor's place. Only the unit's
//! supervisor or the permission administrator opens the page or registers one; POSTs carry
//! the CSRF token (the `CsrfForm` and `ApiSession` extractors), refusals audited by the app.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::acting::{DeputyDesk, DeputyForm, DeputyRefusal, StaffName};
use querywarden_domain::permission::acting::{DeputyTerm, DeputyTermError};
use serde::Deserialize;
use serde_json::json;

use super::input::{DeputyPageForm, RegisterDeputyBody};
use super::views::{DeputyPage, DeputyUnitLink};
use crate::app_op::op_of;
use crate::casework::{Answer, ApiCall, CaseForm, Caseworker, date};
use crate::error::ApiError;
use crate::i18n::Messages;
use crate::pages::render;
use crate::templates::FormError;

/// The status of a refusal; the page and the JSON API answer alike.
fn status(r: &DeputyRefusal) -> StatusCode {
    match r {
        DeputyRefusal::NotFound | DeputyRefusal::UnknownDeputy => StatusCode::NOT_FOUND,
        DeputyRefusal::Rule(DeputyTermError::NotAllowed) => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn page_path(unit: &str) -> String {
    // The path is only ever rendered for a unit the use case found, whose id is ASCII.
    format!("/units/{unit}/deputy")
}

/// 登記代理人 register the unit supervisor's deputy (§5 ¶1): {deputy: account, from?, until?} (ROC dates; by the unit's supervisor or the permission administrator)
///
/// `POST /api/v1/units/{unit}/deputy` (§5 ¶1).
#[utoipa::path(post, path = "/api/v1/units/{unit}/deputy", params(("unit" = String, Path)),
    request_body = RegisterDeputyBody)]
pub async fn deputy_api(
    c: ApiCall,
    Path(unit): Path<String>,
    Json(body): Json<RegisterDeputyBody>,
) -> Result<Response, ApiError> {
    let form = DeputyForm {
        deputy: body.deputy,
        from: body.from.unwrap_or_default(),
        until: body.until.unwrap_or_default(),
    };
    let decided = c
        .state
        .app
        .register_deputy(c.me(), &unit, &form, &op_of(&c.op))
        .await
        .map_err(c.fail())?;
    match decided {
        Ok(term) => Ok(Json(json!({
            "unit": unit,
            "deputy": term.person.get(),
            "from": term.from.map(|d| d.civil().to_string()),
            "until": term.until.map(|d| d.civil().to_string()),
        }))
        .into_response()),
        Err(r) => Err(ApiError::refusal(status(&r), &r, c.op_id())),
    }
}

/// `?notice=registered` after a deputy was registered.
#[derive(Deserialize)]
pub struct DeputyNotice {
    notice: Option<String>,
}

/// A staff member by name and account, with the page language's brackets.
fn staff(s: &StaffName, m: &Messages) -> String {
    m.staff(&s.name, s.account.as_str())
}

fn period(who: &StaffName, term: &DeputyTerm, m: &Messages) -> String {
    let day = |d: Option<querywarden_domain::roc_date::RocDate>, open: &str| {
        d.map_or_else(|| m.get(open), |d| date(d, m))
    };
    m.with(
        "deputy-period-value",
        &[
            ("name", staff(who, m)),
            ("from", day(term.from, "deputy-open-start")),
            ("until", day(term.until, "deputy-open-end")),
        ],
    )
}

fn view(c: &Caseworker, desk: DeputyDesk, typed: DeputyForm) -> DeputyPage {
    let m = &c.m;
    let path = page_path(desk.unit.id.as_str());
    DeputyPage {
        frame: c.frame(path.clone()),
        action: path,
        unit_name: desk.unit.name_zh.clone(),
        supervisor: desk.supervisor.as_ref().map(|s| staff(s, m)),
        deputy: desk.deputy.as_ref().map(|(who, term)| period(who, term, m)),
        candidates: desk
            .candidates
            .iter()
            .map(|s| {
                let account = s.account.as_str().to_string();
                let chosen = account == typed.deputy.trim();
                (account, staff(s, m), chosen)
            })
            .collect(),
        units: desk
            .units
            .iter()
            .filter(|u| u.id != desk.unit.id)
            .map(|u| DeputyUnitLink {
                href: page_path(u.id.as_str()),
                name: u.name_zh.clone(),
            })
            .collect(),
        from: typed.from,
        until: typed.until,
        notice: None,
        error: None,
        m: m.clone(),
    }
}

/// The page of a refusal that has no form to show again (an unknown unit, not allowed),
/// with the refusal's status and code.
fn refused_outright(c: &Caseworker, path: &str, r: &DeputyRefusal) -> Response {
    let message = match status(r) {
        StatusCode::NOT_FOUND => c.m.get("error-not-found"),
        _ => c.m.explain(r),
    };
    c.error_page(status(r), path, message, Some(r.code()))
}

/// `GET /units/{unit}/deputy`: the unit's present deputy and the form to register one.
pub async fn deputy_page(
    c: Caseworker,
    Path(unit): Path<String>,
    Query(q): Query<DeputyNotice>,
) -> Answer {
    let path = "/units/deputy";
    let desk = c
        .state
        .app
        .deputy_desk(c.me(), &unit, &op_of(&c.op))
        .await
        .map_err(c.fail(path))?;
    let desk = desk.map_err(|r| refused_outright(&c, path, &r))?;
    let mut page = view(&c, desk, DeputyForm::default());
    if q.notice.as_deref() == Some("registered") {
        page.notice = Some(c.m.get("deputy-notice-registered"));
    }
    Ok(render(&page, &c.op))
}

/// `POST /units/{unit}/deputy`: registers the deputy, then back to the page; a refusal shows
/// the form again with what was typed and the refusal's status and code.
pub async fn deputy_submit(
    Path(unit): Path<String>,
    CaseForm(c, posted): CaseForm<DeputyPageForm>,
) -> Answer {
    let path = "/units/deputy";
    let form = DeputyForm {
        deputy: posted.deputy,
        from: posted.from,
        until: posted.until,
    };
    let o = op_of(&c.op);
    let decided = c
        .state
        .app
        .register_deputy(c.me(), &unit, &form, &o)
        .await
        .map_err(c.fail(path))?;
    let refusal = match decided {
        Ok(_) => {
            let to = format!("{}?notice=registered", page_path(&unit));
            return Ok(Redirect::to(&to).into_response());
        }
        Err(r) => r,
    };
    // A person who may not open the page (or an unknown unit) gets the refusal's own page;
    // any other refusal leaves the door open, so the page is read again without a second
    // refusal on the trail.
    if matches!(
        refusal,
        DeputyRefusal::NotFound | DeputyRefusal::Rule(DeputyTermError::NotAllowed)
    ) {
        return Err(refused_outright(&c, path, &refusal));
    }
    let desk = c
        .state
        .app
        .deputy_desk(c.me(), &unit, &o)
        .await
        .map_err(c.fail(path))?
        .map_err(|r| refused_outright(&c, path, &r))?;
    let mut page = view(&c, desk, form);
    page.error = Some(FormError {
        code: refusal.code().to_string(),
        message: c.m.explain(&refusal),
    });
    Ok((status(&refusal), render(&page, &c.op)).into_response())
}
