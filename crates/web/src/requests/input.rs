//! Typed input of the Form 3 pages and API (§5 ¶3): each form and JSON body deserialized into
//! one struct, converted at the edge into what the use cases take — request numbers from the
//! path, the assigned querier by id, the delivery and the consent as their closed sets. The
//! subjects' list stays text until the use case parses it, so that each subject's refusal
//! names its place in the list and is audited.

use querywarden_app::registration::PersonChoice;
use querywarden_app::request::{Delivery, FileRequestInput, RequestSubjectInput};
use serde::Deserialize;

use crate::casework::opt;
use crate::input::carries_csrf;

/// `POST /requests`: a Form 3 request as the form posts it (the `items` checkbox repeats).
#[derive(Debug, Default, Deserialize)]
pub struct FileRequestForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub applicant_title: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub fax: String,
    #[serde(default)]
    pub responsible_unit: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub relevance: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default, rename = "declared_subject_count")]
    pub declared: String,
    /// One subject per line: `name,national ID[,linked ID]` (comma or tab).
    #[serde(default)]
    pub subjects: String,
}

impl FileRequestForm {
    /// One subject per line: `name,national ID[,linked ID]` (comma or tab).
    fn subjects(&self) -> Vec<RequestSubjectInput> {
        self.subjects
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut f = l.split([',', '\t', '，']).map(str::trim);
                RequestSubjectInput {
                    name: f.next().unwrap_or_default().to_string(),
                    national_id: f.next().unwrap_or_default().to_string(),
                    linked_id: f.next().filter(|s| !s.is_empty()).map(str::to_string),
                }
            })
            .collect()
    }

    pub fn request(&self) -> FileRequestInput {
        FileRequestInput {
            applicant_title: self.applicant_title.clone(),
            phone: self.phone.clone(),
            fax: opt(&self.fax),
            responsible_unit: self.responsible_unit.clone(),
            legal_basis: self.legal_basis.clone(),
            relevance: self.relevance.clone(),
            items: self.items.clone(),
            // A count that is not a number cannot match the list: the app says so.
            declared_subject_count: self.declared.trim().parse().unwrap_or(usize::MAX),
            subjects: self.subjects(),
        }
    }
}

/// The responsible unit's review: the querier it assigns and its opinion.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub querier: String,
    #[serde(default)]
    pub opinion: String,
}

/// How results went back: `official_document` with its 公文文號, else inside the system.
#[derive(Debug, Deserialize)]
pub struct DeliverForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub document_no: String,
}

impl DeliverForm {
    pub fn delivery(&self) -> Delivery {
        if self.delivery == "official_document" {
            Delivery::OfficialDocument(self.document_no.clone())
        } else {
            Delivery::InSystem
        }
    }
}

/// The requesting office's supervisor: `consent`, or `refuse` with a reason.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    pub csrf: String,
    /// `consent` or `refuse`.
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// One subject closed without a query, with a reason.
#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
}

/// `POST /requests/{no}/execute`: run every approved item at once; in portal mode with the
/// querier's note and where the paper results are filed.
#[derive(Debug, Default, Deserialize)]
pub struct RunAllForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub paper_case_no: String,
}

carries_csrf!(
    FileRequestForm,
    ReviewForm,
    DeliverForm,
    ConsentForm,
    CloseForm,
    RunAllForm
);

/// `POST /api/v1/requests/{no}/execution` (the body may be left out in connected mode).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RunAllBody {
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub paper_case_no: Option<String>,
}

/// `POST /api/v1/requests/{no}/review`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReviewBody {
    pub decision: String,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub querier: Option<PersonChoice>,
    #[serde(default)]
    pub opinion: String,
}

/// `POST /api/v1/requests/{no}/delivery`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DeliveryBody {
    pub delivery: String,
    #[serde(default)]
    pub document_no: Option<String>,
}

/// `POST /api/v1/requests/{no}/consent`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConsentBody {
    /// `consent` or `refuse`.
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/requests/{no}/subjects/{position}/close`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CloseBody {
    #[serde(default)]
    pub reason: String,
}
