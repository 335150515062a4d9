//! The audit JSON API under `/api/v1/oversight/audits…` (the same actions as the pages).
//!
//! Calls need a session ([`ApiSession`]: 401/423, and the `X-CSRF-Token` header on unsafe
//! methods); JSON bodies refuse unknown fields; refusals answer with the rule's stable code.
//! Attachments are `multipart/form-data` with the fields `case` and `file`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Multipart, Path};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use querywarden_app::directory::Directory;
use querywarden_app::oversight::unannounced_audit::{AuditError, AuditView, DocumentLine};
use querywarden_app::permission::Op;
use querywarden_domain::org::Person;
use querywarden_domain::oversight::unannounced_audit::{AuditId, AuditState, UnannouncedAudit};
use querywarden_domain::roc_date::RocDate;
use serde_json::{Value, json};

use super::input::{
    CaseOpinionInput, OpenAuditInput, OverallOpinionInput, ReviewInput, SignOffInput,
};
use super::{op_of, refusal_status};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiCall;
use crate::upload::{UploadError, UploadedForm, read_upload};

pub(crate) fn api_error(e: AuditError, op: &str) -> ApiError {
    match e {
        AuditError::Refused(r) => ApiError::refusal(refusal_status(&r), &r, op),
        AuditError::NotFound(what) => ApiError::not_found("audit.not_found", what, op),
        AuditError::Conflict => ApiError::conflict("audit.conflict", op),
        AuditError::App(e) => ApiError::internal(&e, op),
    }
}

pub(crate) fn malformed(op: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "request.malformed",
        "請求格式錯誤：需要符合說明文件的 JSON 物件或上傳表單",
        "malformed request: expected the documented JSON object or upload form",
        op,
    )
}

fn bad_step(op: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "audit.sign_off.step",
        "簽核欄須為 querier、auditor、querier_supervisor 或 auditing_supervisor",
        "step must be querier, auditor, querier_supervisor or auditing_supervisor",
        op,
    )
}

fn body<T>(b: Result<Json<T>, JsonRejection>, op: &str) -> Result<T, ApiError> {
    b.map(|Json(t)| t)
        .map_err(|r| crate::rejection::json_body_refused(&r, op, || malformed(op)))
}

fn iso(d: RocDate) -> String {
    d.civil().to_string()
}

/// The directory, for naming people in the JSON by account.
pub(crate) async fn people(state: &AppState, op: &str) -> Result<Directory, ApiError> {
    state
        .app
        .oversight()
        .directory()
        .await
        .map_err(|e| ApiError::internal(&e, op))
}

fn document_json(d: &DocumentLine) -> Value {
    json!({
        "id": d.id,
        "case": d.case.to_string(),
        "file_name": d.file_name,
        "content_type": d.content_type,
        "size_bytes": d.size_bytes,
        "sha256": d.sha256,
        "uploaded_at": d.uploaded_at.to_string(),
    })
}

/// An audit as JSON: every Form 4 field, the cases with their opinions, the sign-offs and the
/// review. People appear by account.
pub(crate) fn audit_json(
    a: &UnannouncedAudit,
    view: Option<&AuditView>,
    people: &Directory,
) -> Value {
    let p = &a.plan;
    let next = match a.state {
        AuditState::SigningOff(s) => Some(s.code()),
        _ => None,
    };
    let mut v = json!({
        "id": a.id.get(),
        "state": a.state.code(),
        "period_from": iso(p.period_from),
        "period_to": iso(p.period_to),
        "audit_date": iso(p.audit_date),
        "querier": people.account(p.querier),
        "querier_unit": a.querier_unit.as_str(),
        "auditing_unit": p.auditing_unit.as_str(),
        "auditing_unit_phone": p.auditing_unit_phone,
        "auditors": p.auditors.iter().map(|x| people.account(*x)).collect::<Vec<_>>(),
        "documents_deadline": iso(p.documents_deadline),
        "cases_requested": p.cases,
        "method": p.method.code(),
        // As text: JSON numbers are not safe beyond 2^53.
        "seed": a.seed.to_string(),
        "opened_by": people.account(a.opened_by),
        "opened_at": a.opened_at.to_string(),
        "cases": a.cases.iter().map(|c| json!({
            "case": c.no.to_string(),
            "position": c.position,
            "weight": c.weight,
            "opinion": c.opinion.as_ref().map(|o| json!({
                "conforms": o.conforms, "text": o.text, "by": people.account(o.by) })),
        })).collect::<Vec<_>>(),
        "overall": a.overall.as_ref().map(|o| json!({
            "violation_found": o.violation_found, "text": o.text, "by": people.account(o.by) })),
        "sign_offs": a.sign_offs.iter().map(|s| json!({
            "step": s.step.code(), "by": people.account(s.by), "at": s.at.to_string() }))
            .collect::<Vec<_>>(),
        "next_sign_off": next,
        "review": a.review.as_ref().map(|r| json!({
            "by": people.account(r.by), "at": r.at.to_string(), "comment": r.comment })),
    });
    if let (Some(view), Value::Object(m)) = (view, &mut v) {
        m.insert("draw_repeats".into(), view.draw_repeats.into());
        m.insert(
            "documents".into(),
            view.documents.iter().map(document_json).collect(),
        );
        m.insert(
            "querier_supervisor".into(),
            view.querier_supervisor.map(|x| people.account(x)).into(),
        );
        m.insert(
            "auditing_supervisor".into(),
            view.auditing_supervisor.map(|x| people.account(x)).into(),
        );
    }
    v
}

async fn one(state: &AppState, who: &Person, id: AuditId, op: &Op) -> Result<Value, ApiError> {
    let view = state
        .app
        .oversight()
        .audit_for(who, id, op)
        .await
        .map_err(|e| api_error(e, &op.request_id))?;
    let people = people(state, &op.request_id).await?;
    Ok(audit_json(&view.audit, Some(&view), &people))
}

/// After an act on audit `id`: the audit as it now stands, or the act's refusal.
async fn acted<T>(
    state: &AppState,
    who: &Person,
    id: AuditId,
    op: &Op,
    done: Result<T, AuditError>,
) -> Result<Json<Value>, ApiError> {
    done.map_err(|e| api_error(e, &op.request_id))?;
    Ok(Json(one(state, who, id, op).await?))
}

/// A list of audits as the list and the review queue answer it: each audit without its
/// record (no cases, opinions or documents).
async fn audits_json(
    state: &AppState,
    op: &str,
    list: Result<Vec<UnannouncedAudit>, AuditError>,
) -> Result<Json<Value>, ApiError> {
    let list = list.map_err(|e| api_error(e, op))?;
    let people = people(state, op).await?;
    Ok(Json(Value::from(
        list.iter()
            .map(|a| audit_json(a, None, &people))
            .collect::<Vec<_>>(),
    )))
}

/// 不定期稽核 the audits the signed-in person may see
#[utoipa::path(get, path = "/api/v1/oversight/audits")]
pub async fn list(ApiCall { state, op, who }: ApiCall) -> Result<Json<Value>, ApiError> {
    let list = state.app.oversight().audits_for(&who.person).await;
    audits_json(&state, &op.0, list).await
}

/// 局長待核閱 audits waiting for the director's review (director only)
#[utoipa::path(get, path = "/api/v1/oversight/audits/review-queue")]
pub async fn review_queue(ApiCall { state, op, who }: ApiCall) -> Result<Json<Value>, ApiError> {
    let list = state
        .app
        .oversight()
        .review_queue(&who.person, &op_of(&op))
        .await;
    audits_json(&state, &op.0, list).await
}

/// 發起稽核（附表4）open an audit: period_from, period_to, audit_date, querier, auditing_unit, auditing_unit_phone, auditors[], documents_deadline, cases, method (uniform|weighted), weights {reg no: weight}; the system draws the seed and records it; the querier is told now
#[utoipa::path(post, path = "/api/v1/oversight/audits", request_body = OpenAuditInput,
    responses((status = 201, description = "created")))]
pub async fn open(
    ApiCall { state, op, who }: ApiCall,
    input: Result<Json<OpenAuditInput>, JsonRejection>,
) -> Result<Response, ApiError> {
    let input = body(input, &op.0)?;
    let o = op_of(&op);
    let a = state
        .app
        .oversight()
        .open_audit(&who.person, &input.into(), &o)
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok((
        StatusCode::CREATED,
        Json(one(&state, &who.person, a.id, &o).await?),
    )
        .into_response())
}

/// 稽核紀錄表 one audit: Form 4 fields, cases, opinions, documents, sign-offs, review
#[utoipa::path(get, path = "/api/v1/oversight/audits/{id}", params(("id" = i64, Path)))]
pub async fn view(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        one(&state, &who.person, AuditId::new(id), &op_of(&op)).await?,
    ))
}

/// What came of reading an attachment upload.
pub(crate) enum Received {
    Form(UploadedForm),
    /// Larger than allowed: already refused and audited by the app.
    TooLarge(AuditError),
    Malformed,
}

/// Reads an attachment upload with the configured limit. A file over the limit (or a body
/// announced as larger than that) is refused through the app, so it is audited like any
/// other refusal and nothing is stored.
pub(crate) async fn receive(
    state: &AppState,
    who: &Person,
    id: AuditId,
    headers: &HeaderMap,
    multipart: &mut Multipart,
    op: &Op,
) -> Received {
    let door = state.app.oversight();
    let max = usize::try_from(door.max_attachment_bytes()).unwrap_or(usize::MAX);
    let too_large = async || match door.refuse_oversized_document(who, id, op).await {
        Ok(()) => Received::Malformed,
        Err(e) => Received::TooLarge(e),
    };
    match read_upload(multipart, "file", max).await {
        Ok(f) => Received::Form(f),
        Err(UploadError::TooLarge) => too_large().await,
        Err(UploadError::Malformed) => {
            let announced = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if announced > max {
                too_large().await
            } else {
                Received::Malformed
            }
        }
    }
}

/// 附送佐證資料 attach a document (multipart: case, file; PDF/PNG/JPEG by content, size capped, no path in the name); sealed at rest
#[utoipa::path(post, path = "/api/v1/oversight/audits/{id}/documents", params(("id" = i64, Path)),
    responses(
        (status = 201, description = "created"),
        (status = 413, description = "attachment too large (audit.attachment.too_large)"),
        (status = 415, description = "neither PDF nor PNG/JPEG by content (audit.attachment.type)")
    ))]
pub async fn attach(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let o = op_of(&op);
    let id = AuditId::new(id);
    let form = match receive(&state, &who.person, id, &headers, &mut multipart, &o).await {
        Received::Form(f) => f,
        Received::TooLarge(e) => return Err(api_error(e, &op.0)),
        Received::Malformed => return Err(malformed(&op.0)),
    };
    let Some(bytes) = form.file.as_deref() else {
        return Err(malformed(&op.0));
    };
    let d = state
        .app
        .oversight()
        .attach_document(
            &who.person,
            id,
            &form.field("case"),
            form.file_name.as_deref().unwrap_or_default(),
            bytes,
            &o,
        )
        .await
        .map_err(|e| api_error(e, &op.0))?;
    Ok((StatusCode::CREATED, Json(document_json(&d))).into_response())
}

/// `filename*` of RFC 6266/8187: UTF-8, every byte outside the unreserved set escaped.
fn disposition(name: &str) -> String {
    let mut out = String::from("attachment; filename*=UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A document as a download (also used by the page).
pub(crate) async fn document_response(
    state: &AppState,
    who: &Person,
    id: AuditId,
    doc: i64,
    op: &Op,
) -> Result<Response, AuditError> {
    let d = state.app.oversight().document_for(who, id, doc, op).await?;
    let mut res = d.bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&d.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition(&d.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// 下載佐證資料 download an attached document (audited)
#[utoipa::path(get, path = "/api/v1/oversight/audits/{id}/documents/{doc}",
    params(("id" = i64, Path), ("doc" = i64, Path)),
    responses((status = 200, description = "the attached document as uploaded (PDF, PNG, JPEG)")))]
pub async fn document(
    ApiCall { state, op, who }: ApiCall,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    document_response(&state, &who.person, AuditId::new(id), doc, &op_of(&op))
        .await
        .map_err(|e| api_error(e, &op.0))
}

/// 送出佐證資料 the querier says the documents are complete
#[utoipa::path(post, path = "/api/v1/oversight/audits/{id}/documents/submit",
    params(("id" = i64, Path)))]
pub async fn submit(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let o = op_of(&op);
    let done = state
        .app
        .oversight()
        .submit_documents(&who.person, AuditId::new(id), &o)
        .await;
    acted(&state, &who.person, AuditId::new(id), &o, done).await
}

/// 個案稽核意見 opinion on a sampled case: {case, conforms, text}
#[utoipa::path(post, path = "/api/v1/oversight/audits/{id}/opinions", params(("id" = i64, Path)),
    request_body = CaseOpinionInput)]
pub async fn opinion(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    input: Result<Json<CaseOpinionInput>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let i = body(input, &op.0)?;
    let o = op_of(&op);
    let done = state
        .app
        .oversight()
        .record_case_opinion(
            &who.person,
            AuditId::new(id),
            &i.case,
            i.conforms,
            &i.text,
            &o,
        )
        .await;
    acted(&state, &who.person, AuditId::new(id), &o, done).await
}

/// 整體稽核意見 overall opinion: {violation_found, text}
#[utoipa::path(post, path = "/api/v1/oversight/audits/{id}/overall", params(("id" = i64, Path)),
    request_body = OverallOpinionInput)]
pub async fn overall(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    input: Result<Json<OverallOpinionInput>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let i = body(input, &op.0)?;
    let o = op_of(&op);
    let done = state
        .app
        .oversight()
        .record_overall_opinion(
            &who.person,
            AuditId::new(id),
            i.violation_found,
            &i.text,
            &o,
        )
        .await;
    acted(&state, &who.person, AuditId::new(id), &o, done).await
}

/// 簽章 sign off, in order: {step: querier|auditor|querier_supervisor|auditing_supervisor}
#[utoipa::path(post, path = "/api/v1/oversight/audits/{id}/sign-off", params(("id" = i64, Path)),
    request_body = SignOffInput)]
pub async fn sign_off(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    input: Result<Json<SignOffInput>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let i = body(input, &op.0)?;
    let step = i.step().ok_or_else(|| bad_step(&op.0))?;
    let o = op_of(&op);
    let done = state
        .app
        .oversight()
        .sign_off(&who.person, AuditId::new(id), step, &o)
        .await;
    acted(&state, &who.person, AuditId::new(id), &o, done).await
}

/// 局長核閱 the director's review: {comment}; the record is read-only afterwards
#[utoipa::path(post, path = "/api/v1/oversight/audits/{id}/review", params(("id" = i64, Path)),
    request_body = ReviewInput)]
pub async fn review(
    ApiCall { state, op, who }: ApiCall,
    Path(id): Path<i64>,
    input: Result<Json<ReviewInput>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let i = body(input, &op.0)?;
    let o = op_of(&op);
    let done = state
        .app
        .oversight()
        .director_review(&who.person, AuditId::new(id), &i.comment, &o)
        .await;
    acted(&state, &who.person, AuditId::new(id), &o, done).await
}
