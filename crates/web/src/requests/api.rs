//! JSON API of Form 3 (§5 ¶3) under `/api/v1/requests/…`: the same use cases as the pages,
//! the same checks, the same audit records and the same refusal codes.
//!
//! Security-sensitive: state changes need `X-CSRF-Token` (the `ApiSession` extractor checks
//! it). Subjects' IDs travel only in request bodies and are answered masked.

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use querywarden_app::request::{self, Delivery, FileRequestInput, RequestView};
use serde_json::{Value, json};

use super::input::{CloseBody, ConsentBody, DeliveryBody, ReviewBody};
use crate::casework::{ApiCall, answer, request_json, request_no, summary_json};
use crate::error::ApiError;

/// 查調申請（附表3）list: filed by me or addressed to my unit
#[utoipa::path(get, path = "/api/v1/requests")]
pub async fn requests(c: ApiCall) -> Result<Response, ApiError> {
    let rows = request::requests_of(&c.desk(), c.me())
        .await
        .map_err(c.fail())?;
    Ok(
        Json(json!({ "requests": rows.iter().map(request_json).collect::<Vec<_>>() }))
            .into_response(),
    )
}

/// 提出查調申請 file a Form 3 request (district offices, subordinate agencies)
#[utoipa::path(post, path = "/api/v1/requests", request_body = FileRequestInput)]
pub async fn file_request(
    c: ApiCall,
    Json(input): Json<FileRequestInput>,
) -> Result<Response, ApiError> {
    let d = request::file_request(&c.desk(), c.me(), &input, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |no| json!({ "no": no.to_string() }))
}

fn request_view_json(v: &RequestView) -> Value {
    let mut j = request_json(&v.request);
    j["subjects"] = json!(
        v.subjects
            .iter()
            .map(|(n, id)| json!({ "name": n, "id_masked": id }))
            .collect::<Vec<_>>()
    );
    j["registrations"] = json!(v.registrations.iter().map(summary_json).collect::<Vec<_>>());
    j["results"] = json!(
        v.results
            .iter()
            .map(|(no, item, destroyed)| json!({
        "no": no.to_string(), "item": item.as_str(), "destroyed": destroyed }))
            .collect::<Vec<_>>()
    );
    // §5 ¶3: where it stands, its sign-offs and the subjects closed without a query.
    j["stage"] = json!(v.stage.code());
    j["sign_offs"] = json!(
        v.sign_offs
            .iter()
            .map(|s| json!({ "as": s.which.code(), "by": s.person.get(),
                "at": s.at.to_string(), "acting": s.acting }))
            .collect::<Vec<_>>()
    );
    j["closed_subjects"] = json!(
        v.closed
            .iter()
            .map(|c| json!({ "position": c.position, "reason": c.reason }))
            .collect::<Vec<_>>()
    );
    j
}

/// 查調申請內容 one Form 3 request
#[utoipa::path(get, path = "/api/v1/requests/{no}", params(("no" = String, Path)))]
pub async fn request_view(c: ApiCall, Path(no): Path<String>) -> Result<Response, ApiError> {
    let no = request_no(&c, &no)?;
    let d = request::request_view(&c.desk(), c.me(), no, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |v| request_view_json(&v))
}

/// 申請人單位主管核章 the requesting office's supervisor: {decision: consent|refuse, reason?}
///
/// `POST /api/v1/requests/{no}/consent` (§5 ¶3).
#[utoipa::path(post, path = "/api/v1/requests/{no}/consent", params(("no" = String, Path)),
    request_body = ConsentBody)]
pub async fn consent(
    c: ApiCall,
    Path(no): Path<String>,
    Json(body): Json<ConsentBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&c, &no)?;
    let consent = match body.decision.as_str() {
        "consent" => request::Consent::Give,
        "refuse" => request::Consent::Refuse(&body.reason),
        _ => {
            return Err(c.malformed(
                "decision 須為 consent 或 refuse",
                "decision must be consent or refuse",
            ));
        }
    };
    let d =
        request::consent_request(&c.desk(), c.me(), no, consent, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |s| json!({ "stage": s.code() }))
}

/// 資料查詢者／使用單位主管核章 the assigned querier or the using unit's supervisor signs the request
///
/// `POST /api/v1/requests/{no}/sign` (§5 ¶3).
#[utoipa::path(post, path = "/api/v1/requests/{no}/sign", params(("no" = String, Path)))]
pub async fn sign(c: ApiCall, Path(no): Path<String>) -> Result<Response, ApiError> {
    let no = request_no(&c, &no)?;
    let d = request::sign_request(&c.desk(), c.me(), no, Timestamp::now(), c.op_id()).await;
    answer(&c, d, |s| json!({ "stage": s.code() }))
}

/// 免查結案 close one subject without a query: {reason} (delivery waits for every subject)
///
/// `POST /api/v1/requests/{no}/subjects/{position}/close` (§5 ¶3).
#[utoipa::path(post, path = "/api/v1/requests/{no}/subjects/{position}/close",
    params(("no" = String, Path), ("position" = i64, Path)), request_body = CloseBody)]
pub async fn close_subject(
    c: ApiCall,
    Path((no, position)): Path<(String, i64)>,
    Json(body): Json<CloseBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&c, &no)?;
    let d = request::close_subject(
        &c.desk(),
        c.me(),
        no,
        position,
        &body.reason,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    answer(&c, d, |s| json!({ "stage": s.code() }))
}

/// 業務權責單位審查 review: {decision: accept|reject, querier?, opinion}
#[utoipa::path(post, path = "/api/v1/requests/{no}/review", params(("no" = String, Path)),
    request_body = ReviewBody)]
pub async fn review(
    c: ApiCall,
    Path(no): Path<String>,
    Json(body): Json<ReviewBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&c, &no)?;
    let desk = c.state.app.desk();
    let now = Timestamp::now();
    let me = c.me();
    match body.decision.as_str() {
        "accept" => {
            let querier = body.querier.clone().unwrap_or(me.id.into());
            let d = request::accept_request(&desk, me, no, &querier, &body.opinion, now, c.op_id())
                .await;
            answer(&c, d, |rs| {
                json!({ "state": "accepted",
                        "registrations": rs.iter().map(|r| r.no.to_string()).collect::<Vec<_>>() })
            })
        }
        "reject" => {
            let d = request::reject_request(&desk, me, no, &body.opinion, now, c.op_id()).await;
            answer(&c, d, |()| json!({ "state": "rejected" }))
        }
        _ => Err(c.malformed(
            "decision 須為 accept 或 reject",
            "decision must be accept or reject",
        )),
    }
}

/// 結果送達方式 record delivery: {delivery: in_system|official_document, document_no?}
#[utoipa::path(post, path = "/api/v1/requests/{no}/delivery", params(("no" = String, Path)),
    request_body = DeliveryBody)]
pub async fn deliver(
    c: ApiCall,
    Path(no): Path<String>,
    Json(body): Json<DeliveryBody>,
) -> Result<Response, ApiError> {
    let no = request_no(&c, &no)?;
    let delivery = match body.delivery.as_str() {
        "in_system" => Delivery::InSystem,
        "official_document" => {
            Delivery::OfficialDocument(body.document_no.clone().unwrap_or_default())
        }
        _ => {
            return Err(c.malformed(
                "delivery 須為 in_system 或 official_document（不得以電子郵件或傳真送達）",
                "delivery must be in_system or official_document (never e-mail or fax)",
            ));
        }
    };
    let d = request::record_delivery(
        &c.desk(),
        c.me(),
        no,
        &delivery,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    answer(&c, d, |()| json!({ "delivery": body.delivery }))
}
