//! What the pages anyone may open accept, as typed input.

use querywarden_domain::{NationalId, NationalIdError};
use serde::Deserialize;

/// `POST /tools/national-id`: the number typed, in the body (never the URL).
#[derive(Deserialize)]
pub struct CheckIdForm {
    id: String,
}

impl CheckIdForm {
    /// The number as a national ID or resident number, or the rule it breaks.
    pub fn national_id(&self) -> Result<NationalId, NationalIdError> {
        NationalId::parse(&self.id)
    }
}

/// `GET /lang/{tag}?next=…`: the page to go back to.
#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}
