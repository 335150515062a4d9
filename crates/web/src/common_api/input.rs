//! What the common API accepts, as typed input.

use querywarden_domain::{NationalId, NationalIdError};
use serde::Deserialize;

/// `POST /api/v1/national-ids/check`: `{"id": "…"}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckNationalIdRequest {
    id: String,
}

impl CheckNationalIdRequest {
    /// The number as a national ID or resident number, or the rule it breaks.
    pub fn national_id(&self) -> Result<NationalId, NationalIdError> {
        NationalId::parse(&self.id)
    }
}
