//! Reading a multipart upload form: text fields and one file field, with a size limit on
//! the file. Each page maps the two failures to its own response.

use axum::extract::Multipart;

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
    /// A body cut off at the route's size limit is too large, not malformed.
    fn of(e: axum::extract::multipart::MultipartError) -> Self {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Self::TooLarge
        } else {
            Self::Malformed
        }
    }
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
