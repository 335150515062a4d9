//! Typed input of the registration pages and API: each form and JSON body deserialized into
//! one struct, converted at the edge into what the use cases take — numbers and item codes
//! from the path, people by id, the chosen items as service item codes. A value that does
//! not convert gets the refusal the use case would give it (same code, same audit record):
//! the conversions that need the trail hand their refusal to the use case.

use std::collections::BTreeSet;

use querywarden_app::registration::{
    PersonChoice, QueryPurpose, RegisterBatchRequest, RegisterQueryRequest,
};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::registration::{RegistrationError, RegistrationNo};
use serde::Deserialize;

use crate::casework::opt;
use crate::input::carries_csrf;

/// `POST /registrations`, and the shared fields of `POST /registrations/batch`: one Form 2
/// row as the form posts it (the `items` checkbox repeats).
#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub subject_name: String,
    #[serde(default)]
    pub subject_id: String,
    #[serde(default)]
    pub linked_id: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub relevance: String,
    #[serde(default)]
    pub case_no: String,
    #[serde(default)]
    pub companion_basis: String,
    #[serde(default)]
    pub no_case_reason: String,
    #[serde(default)]
    pub needer: String,
    #[serde(default)]
    pub querier: String,
}

impl RegisterForm {
    /// The multipart form's text fields (the batch upload), read as the same form. A field
    /// other than `items` given twice counts once, the last time, as it always has.
    pub fn from_fields(fields: &[(String, String)]) -> Self {
        let mut kept: Vec<&(String, String)> = Vec::with_capacity(fields.len());
        for f in fields {
            if f.0 != "items" {
                kept.retain(|k| k.0 != f.0);
            }
            kept.push(f);
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish();
        // Every field is optional and textual and none repeats but `items`, so this cannot
        // fail; were it to, the empty form is refused like any other (CSRF first).
        serde_html_form::from_str(&encoded).unwrap_or_default()
    }

    /// The row for the use case, which parses the subject and checks everything else in its
    /// own order, auditing each refusal (§5).
    pub fn request(&self) -> RegisterQueryRequest {
        RegisterQueryRequest {
            subject_name: self.subject_name.clone(),
            subject_id: self.subject_id.clone(),
            linked_id: opt(&self.linked_id),
            purpose: self.purpose(),
        }
    }

    /// The batch's shared fields and its CSV text.
    pub fn batch(&self, csv: String) -> RegisterBatchRequest {
        RegisterBatchRequest {
            purpose: self.purpose(),
            csv,
        }
    }

    fn purpose(&self) -> QueryPurpose {
        QueryPurpose {
            items: self.items.clone(),
            legal_basis: self.legal_basis.clone(),
            relevance: self.relevance.clone(),
            case_no: opt(&self.case_no),
            companion_basis: opt(&self.companion_basis),
            no_case_reason: opt(&self.no_case_reason),
            needer: Some(PersonChoice::Text(self.needer.clone())),
            querier: PersonChoice::Text(self.querier.clone()),
        }
    }
}

/// Approve or reject, with the approver's comment.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub comment: String,
}

/// `POST /registrations/{no}/execute`: the chosen items (the checkbox repeats; none chosen
/// is every item not yet executed) and, in portal mode, the querier's report.
#[derive(Debug, Deserialize)]
pub struct ExecuteForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub paper_case_no: String,
}

impl ExecuteForm {
    pub fn items(&self) -> Result<Option<BTreeSet<ServiceItemCode>>, RegistrationError> {
        chosen_items(Some(&self.items).filter(|i| !i.is_empty()))
    }
}

/// The chosen items as codes (`None`: every item not yet executed); a code that cannot be
/// one is `registration.item_code`, as the use case would say.
pub fn chosen_items(
    raw: Option<&Vec<String>>,
) -> Result<Option<BTreeSet<ServiceItemCode>>, RegistrationError> {
    raw.map(|list| {
        list.iter()
            .map(|i| ServiceItemCode::parse(i.trim()).map_err(|_| RegistrationError::ItemCode))
            .collect::<Result<BTreeSet<_>, _>>()
    })
    .transpose()
}

/// §5: the querier's statement on an attempt whose outcome is unknown.
#[derive(Debug, Deserialize)]
pub struct StatementForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub statement: String,
}

/// The print button's form: the CSRF token and, beyond the print limit, the reason (§6 ¶2).
#[derive(Debug, Deserialize)]
pub struct PrintForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
}

/// The querier confirms a printed copy of a destroyed result was destroyed.
#[derive(Debug, Deserialize)]
pub struct PrintsForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub print_no: String,
}

impl PrintsForm {
    pub fn print_no(&self) -> Option<i64> {
        self.print_no.trim().parse().ok()
    }
}

/// A registration number and an item code from the path; either malformed names nothing.
pub fn result_path(no: &str, item: &str) -> Option<(RegistrationNo, ServiceItemCode)> {
    Some((
        RegistrationNo::parse(no).ok()?,
        ServiceItemCode::parse(item).ok()?,
    ))
}

/// `POST /registrations/decisions`: the ticked registrations (the checkbox repeats), which
/// button was pressed (`approve` or `reject`) and the one comment or reason for all.
#[derive(Debug, Default, Deserialize)]
pub struct BulkDecideForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub registrations: Vec<String>,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub comment: String,
}

carries_csrf!(
    RegisterForm,
    DecideForm,
    BulkDecideForm,
    ExecuteForm,
    StatementForm,
    PrintForm,
    PrintsForm,
    DeputyPageForm,
);

/// `POST /api/v1/registrations/{no}/decision`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    pub decision: String,
    #[serde(default)]
    pub comment: String,
}

/// `POST /api/v1/registrations/decisions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BulkDecisionBody {
    pub decision: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub registrations: Vec<String>,
}

/// `POST /api/v1/registrations/{no}/execution`.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct ExecutionBody {
    #[serde(default)]
    pub items: Option<Vec<String>>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub paper_case_no: Option<String>,
}

/// `POST /api/v1/registrations/{no}/executions/{item}/statement`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StatementBody {
    #[serde(default)]
    pub statement: String,
}

/// A print beyond the limit says why (§6 ¶2).
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct PrintBody {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The filters of "my registrations", page and API alike; the use case parses them (ROC
/// dates, the state's code) so both refuse with the same codes.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MineParams {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub page: Option<String>,
}

/// The body of `POST /api/v1/units/{unit}/deputy`; a missing deputy is refused by the use
/// case with the field's code, as on the page.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterDeputyBody {
    #[serde(default)]
    pub deputy: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

/// The deputy page's form (`POST /units/{unit}/deputy`), as typed; the use case parses it.
#[derive(Debug, Default, Deserialize)]
pub struct DeputyPageForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub deputy: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
}
