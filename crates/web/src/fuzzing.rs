//! The bodies a client controls, read exactly as the server reads them before a use case
//! takes over: the form's UTF-8 check, axum's extractor into the area's typed input, the
//! edge conversions, and the domain's own parsing of what the body names (subjects, item
//! codes, the card's fields). The entries of the `web_*` fuzz targets in `fuzz/` and of the
//! seed tests that keep them from rotting (`tests/fuzz_seeds.rs`); not an API.
//!
//! Each entry answers the stable code the first failing step would give (`request.*` for
//! the envelope, else the use case's own code) or the input the use case would receive. What
//! needs the store (the session, grants, the snooping screen) is not reached here.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use querywarden_app::auth::decode_card_fields;
use querywarden_app::registration::{RegisterBatchRequest, RegisterQueryRequest, read_batch_lines};
use querywarden_app::request::{FileRequestInput, parse_subjects};
use querywarden_domain::org::PersonId;
use querywarden_domain::registration::Subject;
use querywarden_pki::SignatureFormat;
use serde::de::DeserializeOwned;

use crate::auth::input::SignInForm;
use crate::registrations::input::{ExecutionBody, RegisterForm, chosen_items};
use crate::requests::input::FileRequestForm;

/// Who files in these entries (an empty querier or needer field names the filer).
const FILER: PersonId = PersonId::new(1);

const MALFORMED: &str = "request.malformed";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// Runs an extractor over `body` sent with `content_type`. The body is in memory, so the
/// extraction finishes on its first poll; one that did not would be refused as malformed.
fn extract<E: FromRequest<()>>(content_type: &str, body: &[u8]) -> Option<E> {
    let req = Request::builder()
        .method("POST")
        .uri("/")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_vec()))
        .ok()?;
    let mut fut = pin!(E::from_request(req, &()));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r.ok(),
        Poll::Pending => None,
    }
}

/// A form body as the page handlers receive it: refused if not UTF-8 once percent-decoded
/// (as the middleware does before any handler), then axum-extra's form extractor.
fn page_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if !crate::rejection::form_is_utf8(body) {
        return Err("request.invalid_utf8".into());
    }
    extract::<axum_extra::extract::Form<T>>(FORM, body)
        .map(|f| f.0)
        .ok_or_else(|| MALFORMED.into())
}

fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    extract::<axum::Json<T>>(JSON, body)
        .map(|j| j.0)
        .ok_or_else(|| MALFORMED.into())
}

/// The subject and the items of one Form 2 row, parsed as the use case parses them.
fn row_parses(r: &RegisterQueryRequest) -> Result<(), String> {
    Subject::parse(&r.subject_name, &r.subject_id, r.linked_id.as_deref())
        .map_err(|e| e.code().to_string())?;
    chosen_items(Some(&r.purpose.items)).map_err(|e| e.code().to_string())?;
    Ok(())
}

/// `POST /registrations` (the page form).
pub fn registration_form(body: &[u8]) -> Result<RegisterQueryRequest, String> {
    let form: RegisterForm = page_form(body)?;
    let request = form.request();
    // The use case resolves who is named the same way (§5: one refusal for page and API).
    if request.purpose.querier.resolve(FILER).is_none() {
        return Err("registration.querier_role".to_string());
    }
    row_parses(&request)?;
    Ok(request)
}

/// `POST /api/v1/registrations`.
pub fn registration_json(body: &[u8]) -> Result<RegisterQueryRequest, String> {
    let request: RegisterQueryRequest = json_body(body)?;
    row_parses(&request)?;
    Ok(request)
}

/// `POST /api/v1/registrations/batch`: the shared fields, then the CSV's lines; the first
/// bad line's code and number (`code@line`), else how many subjects the file names.
pub fn registration_batch_json(body: &[u8]) -> Result<usize, String> {
    let batch: RegisterBatchRequest = json_body(body)?;
    chosen_items(Some(&batch.purpose.items)).map_err(|e| e.code().to_string())?;
    let lines = read_batch_lines(&batch.csv)
        .map_err(|e| format!("registration.batch_format@{}", e.line))?;
    let mut subjects = 0;
    for (line, parsed) in lines {
        parsed.map_err(|e| format!("{}@{line}", e.code()))?;
        subjects += 1;
    }
    Ok(subjects)
}

/// `POST /api/v1/registrations/{no}/execution`: the chosen items (`None`: every item).
pub fn execution_json(body: &[u8]) -> Result<Option<usize>, String> {
    let b: ExecutionBody = json_body(body)?;
    let chosen = chosen_items(b.items.as_ref()).map_err(|e| e.code().to_string())?;
    Ok(chosen.map(|c| c.len()))
}

/// Form 3's subjects, each parsed; the first bad one as `code@place`.
fn subjects_parse(input: &FileRequestInput) -> Result<(), String> {
    let (_, errors) = parse_subjects(&input.subjects);
    match errors.first() {
        Some(e) => Err(format!("{}@{}", e.error.code(), e.line)),
        None => Ok(()),
    }
}

/// `POST /requests` (the Form 3 page form).
pub fn request_form(body: &[u8]) -> Result<FileRequestInput, String> {
    let form: FileRequestForm = page_form(body)?;
    let input = form.request();
    subjects_parse(&input)?;
    chosen_items(Some(&input.items)).map_err(|e| e.code().to_string())?;
    Ok(input)
}

/// `POST /api/v1/requests`.
pub fn request_json(body: &[u8]) -> Result<FileRequestInput, String> {
    let input: FileRequestInput = json_body(body)?;
    subjects_parse(&input)?;
    chosen_items(Some(&input.items)).map_err(|e| e.code().to_string())?;
    Ok(input)
}

/// What a sign-in form carries once read: the account as kept (64 characters at most), the
/// signature's format and the card's bytes.
#[derive(Debug)]
pub struct SignInFields {
    pub account: String,
    pub format: SignatureFormat,
    pub signature: Vec<u8>,
    pub certificate: Option<Vec<u8>>,
}

/// `POST /login` (not mutual TLS): axum's form extractor, as the handler uses, then the
/// signature's format and the base64 card fields.
pub fn sign_in_form(body: &[u8]) -> Result<SignInFields, String> {
    if !crate::rejection::form_is_utf8(body) {
        return Err("request.invalid_utf8".into());
    }
    let form = extract::<axum::Form<SignInForm>>(FORM, body)
        .map(|f| f.0)
        .ok_or_else(|| MALFORMED.to_string())?;
    let format = crate::auth::sign_in::signature_format(&form.format)
        .ok_or_else(|| "login.malformed_format".to_string())?;
    let (signature, certificate) =
        decode_card_fields(&form.signature, Some(form.certificate.as_str())).map_err(|f| f.code)?;
    Ok(SignInFields {
        account: form.account.chars().take(64).collect(),
        format,
        signature,
        certificate,
    })
}
