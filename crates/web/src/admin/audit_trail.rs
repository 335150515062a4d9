//! The audit trail as its readers see it (§7, §8): the search form, one page of results,
//! and the export of every record a search matches as a CSV file. Only the ethics auditor and
//! the permission administrator may read it (`AuditReader`); the search and the export are
//! themselves recorded by the use cases.

use axum::Form;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::administration;
use querywarden_app::audit::search::{AuditQuery, AuditReader, StoredAuditRecord};
use querywarden_domain::org::Person;

use super::input::AuditForm;
use super::templates::{AuditPage, AuditRow};
use super::{field_error, forbidden, refused_page};
use crate::auth::session::{PageSession, csrf_refused};
use crate::error::{ApiError, PageError};
use crate::i18n::Messages;
use crate::pages::render;
use crate::templates::UserBar;
use crate::{AppState, OperationId, PageCall};

const PATH: &str = "/audit";

/// The reader's capability, or the answer that refuses (the refusal recorded by the app).
async fn reader(
    state: &AppState,
    who: &querywarden_app::auth::SignedIn,
    m: &Messages,
    op: &OperationId,
) -> Result<AuditReader, Response> {
    match administration::audit_reader(&state.app, who, Timestamp::now(), &op.0).await {
        Ok(Some(reader)) => Ok(reader),
        Ok(None) => Err(forbidden(m.clone(), op, PATH, "")),
        Err(e) => Err(PageError::internal(&e, &op.0, m.clone(), PATH).into_response()),
    }
}

pub async fn audit_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Response {
    if let Err(refused) = reader(&state, &who, &m, &op).await {
        return refused;
    }
    let bar = UserBar::for_page(&state, &who);
    render(&AuditPage::new(m, bar, AuditForm::default()), &op)
}

/// What a search and an export share: the reader's capability, the CSRF check, the page to
/// answer with, and the form as a query. `Err` is the answer already (refused, or the form
/// shown again with the field that is wrong).
async fn prepare(
    state: &AppState,
    m: &Messages,
    op: &OperationId,
    who: &querywarden_app::auth::SignedIn,
    form: AuditForm,
) -> Result<(AuditReader, AuditPage, AuditQuery), Response> {
    let reader = reader(state, who, m, op).await?;
    if !who.csrf_ok(&form.csrf) {
        return Err(csrf_refused(state, who, &op.0).await.into_response());
    }
    let query = form.query(m);
    let mut page = AuditPage::new(m.clone(), UserBar::for_page(state, who), form);
    match query {
        Ok(q) => Ok((reader, page, q)),
        Err(e) => {
            page.error = Some(e);
            Err(refused_page(&page, op))
        }
    }
}

/// The time of a record in Taipei, as the trail wrote it if it does not parse.
fn time_of(r: &StoredAuditRecord, m: &Messages) -> String {
    r.at.parse::<Timestamp>()
        .map(|t| m.datetime(t))
        .unwrap_or_else(|_| r.at.clone())
}

/// The staff member who acted, if a person did.
fn actor_of<'p>(r: &StoredAuditRecord, people: &'p [Person]) -> Option<&'p Person> {
    r.actor_person_id
        .and_then(|id| people.iter().find(|p| p.id.get() == id))
}

/// An action's name in the page's language; an action the catalogue does not name yet shows
/// as its code.
pub(super) fn action_label(m: &Messages, code: &str) -> String {
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
fn outcome_words(m: &Messages, outcome: &str) -> (String, &'static str) {
    match outcome.split_once(':') {
        Some(("refused", why)) => (m.aside(&m.get("audit-outcome-refused"), why), "refused"),
        Some(("failed", why)) => (m.aside(&m.get("audit-outcome-failed"), why), "failed"),
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

fn audit_rows(m: &Messages, records: Vec<StoredAuditRecord>, people: &[Person]) -> Vec<AuditRow> {
    records
        .into_iter()
        .map(|r| {
            let (outcome, outcome_class) = outcome_words(m, &r.outcome);
            AuditRow {
                seq: r.seq,
                time: time_of(&r, m),
                actor: actor_of(&r, people)
                    .map_or("—".to_string(), |p| m.staff(&p.name, p.account.as_str())),
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
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Form(form): Form<AuditForm>,
) -> Result<Response, PageError> {
    let (reader, mut page, query) = match prepare(&state, &m, &op, &who, form).await {
        Ok(p) => p,
        Err(answer) => return Ok(answer),
    };
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), PATH);
    let outcome =
        administration::search_audit_trail(&state.app, &reader, &query, Timestamp::now(), &op.0)
            .await
            .map_err(fail)?;
    match outcome {
        Ok(found) => {
            let people = administration::trail_actors(&state.app, &reader)
                .await
                .map_err(fail)?;
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
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Form(form): Form<AuditForm>,
) -> Result<Response, PageError> {
    let (reader, mut page, query) = match prepare(&state, &m, &op, &who, form).await {
        Ok(p) => p,
        Err(answer) => return Ok(answer),
    };
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), PATH);
    let records = match administration::export_audit_trail(
        &state.app,
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
            return Ok(refused_page(&page, &op));
        }
    };
    let people = administration::trail_actors(&state.app, &reader)
        .await
        .map_err(fail)?;
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
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

fn audit_csv(
    m: &Messages,
    records: &[StoredAuditRecord],
    people: &[Person],
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
        out.write_record([
            r.seq.to_string(),
            time_of(r, m),
            actor_of(r, people).map_or(String::new(), |p| p.account.as_str().to_string()),
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
