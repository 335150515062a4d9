//! `GET /api/v1/me/worklist`: what waits for the signed-in person (待辦事項), the same list
//! the home page shows (`querywarden_app::worklist`), as JSON: each item's kind, what it is
//! about (by number and link only), since when it waits, its deadline as a civil date and an
//! ROC date, and the working days left.
//!
//! A read only, like the home page. It carries no citizen's data: registrations and requests
//! appear by their numbers, never by subject name or ID.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use querywarden_app::worklist::{Concerning, WorkItem};
use serde_json::{Map, Value, json};

use crate::auth::session::ApiSession;
use crate::error::ApiError;
use crate::{AppState, OperationId};

/// What an item is about: its kind, the number it goes by, and the page where the person
/// acts on it (the home page links the same page).
pub(super) struct WorkObject {
    pub kind: &'static str,
    pub reference: String,
    pub href: String,
}

pub(super) fn object_of(c: &Concerning) -> WorkObject {
    let (kind, reference, href) = match c {
        Concerning::Registration(no) => (
            "registration",
            no.to_string(),
            format!("/registrations/{no}"),
        ),
        Concerning::Application {
            id, form_number, ..
        } => (
            "application",
            form_number.to_string(),
            format!("/permissions/applications/{}", id.get()),
        ),
        Concerning::Request(no) => ("request", no.to_string(), format!("/requests/{no}")),
        Concerning::Review { id, quarter } => (
            "review",
            quarter.clone(),
            format!("/oversight/reviews/{id}"),
        ),
        Concerning::Audit { id, .. } => (
            "audit",
            id.get().to_string(),
            format!("/oversight/audits/{}", id.get()),
        ),
        Concerning::Violation(id) => (
            "violation",
            id.to_string(),
            format!("/oversight/violations/{id}"),
        ),
    };
    WorkObject {
        kind,
        reference,
        href,
    }
}

fn item_json(i: &WorkItem) -> Value {
    let object = object_of(&i.concerning);
    let step = match &i.concerning {
        Concerning::Application { step, .. } => Some(step.code()),
        Concerning::Audit {
            step: Some(step), ..
        } => Some(step.code()),
        _ => None,
    };
    json!({
        "kind": i.task.code(),
        "object": { "type": object.kind, "reference": object.reference, "href": object.href },
        "step": step,
        "since": i.since.to_string(),
        "due": i.due.map(|d| json!({
            "date": d.civil().to_string(),
            "roc": d.format_long(),
            "roc_short": d.format_short(),
        })),
        "working_days_left": i.working_days_left,
    })
}

/// What waits for the signed-in person, oldest first, with the counts per kind and the
/// number of unread notices.
#[utoipa::path(get, path = "/api/v1/me/worklist")]
pub async fn my_worklist(
    State(state): State<AppState>,
    op: OperationId,
    ApiSession(who): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let list = state
        .app
        .worklist(&who.person, Timestamp::now())
        .await
        .map_err(|e| ApiError::internal(&e, &op.0))?;
    let counts: Map<String, Value> = list
        .counts()
        .into_iter()
        .map(|(task, n)| (task.code().to_string(), json!(n)))
        .collect();
    Ok(Json(json!({
        "items": list.items.iter().map(item_json).collect::<Vec<_>>(),
        "counts": counts,
        "unread_notices": list.notices.len(),
    })))
}
