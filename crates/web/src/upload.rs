//! Reading a multipart upload form: text fields and one file field, with a size limit on
//! the file, and the answer every upload page gives to the two failures.

use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::AppState;
use crate::auth::session::upload_refused;
use crate::error::ApiError;
use querywarden_app::auth::SignedIn;

/// The fields of an upload form, in the order sent, and the file if one came.
#[derive(Debug, Default)]
pub struct UploadedForm {
    pub fields: Vec<(String, String)>,
    pub file: Option<Vec<u8>>,
    /// The file's name as the browser sent it (unchecked: callers that keep it must refuse
    /// paths and control characters).
    pub file_name: Option<String>,
}

impl UploadedForm {
    /// The last value of a text field, or empty.
    pub fn field(&self, name: &str) -> String {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// Why an upload could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadError {
    /// Not a well-formed multipart body.
    Malformed,
    /// The file is larger than allowed.
    TooLarge,
}

impl UploadError {
    /// The answer to an upload that could not be read, on a page that takes a file of at most
    /// `max_file` bytes: 400 `request.malformed`, or 413 with the page's own `too_large` code.
    pub fn answer(self, too_large: &str, max_file: usize, operation_id: &str) -> ApiError {
        match self {
            Self::Malformed => malformed(operation_id),
            Self::TooLarge => {
                let mb = max_file / (1024 * 1024);
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    too_large,
                    format!("檔案過大（上限 {mb} MB）"),
                    format!("file too large ({mb} MB at most)"),
                    operation_id,
                )
            }
        }
    }

    /// A body cut off at the route's size limit is too large, not malformed.
    fn of(e: axum::extract::multipart::MultipartError) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::TooLarge
        } else {
            Self::Malformed
        }
    }
}

/// The answer to a signed-in person's upload that could not be read: a file over the page's
/// limit is a refusal and goes on the trail first (§3, every refusal audited), then the
/// answer of [`UploadError::answer`].
pub async fn refused(
    state: &AppState,
    who: &SignedIn,
    e: UploadError,
    too_large: &str,
    max_file: usize,
    operation_id: &str,
) -> ApiError {
    if e == UploadError::TooLarge
        && let Some(failed) = upload_refused(state, who, too_large, operation_id).await
    {
        return failed;
    }
    e.answer(too_large, max_file, operation_id)
}

/// The answer to a body that is not a well-formed multipart form (400).
pub fn malformed(operation_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "request.malformed",
        "上傳格式錯誤",
        "malformed upload",
        operation_id,
    )
}

/// Reads every field; `file_field` is kept as bytes (at most `max_file` of them), every other
/// field as text.
pub async fn read_upload(
    multipart: &mut Multipart,
    file_field: &str,
    max_file: usize,
) -> Result<UploadedForm, UploadError> {
    let mut form = UploadedForm::default();
    while let Some(field) = multipart.next_field().await.map_err(UploadError::of)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            form.file_name = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(UploadError::of)?;
            if bytes.len() > max_file {
                return Err(UploadError::TooLarge);
            }
            form.file = Some(bytes.to_vec());
        } else {
            let value = field.text().await.map_err(UploadError::of)?;
            form.fields.push((name, value));
        }
    }
    Ok(form)
}
