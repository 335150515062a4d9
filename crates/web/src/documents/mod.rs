//! Printed documents on the web: each record's form as PDF (a download link on its page) and
//! as an HTML view of the same view model, plus the JSON API's PDF. One use case
//! (`querywarden_app::documents::produce`) decides, builds and audits; these handlers parse
//! the path into a target and map the answer. Refusals carry the same stable codes on the
//! pages and the API, and a path that names no document is refused and audited too.
//!
//! Routes: `/documents/{form}/{id}` (HTML view), `/documents/{form}/{id}/pdf`, the register
//! `/documents/register?unit=&from=&to=` (`&format=pdf`), and `GET /api/v1/documents/{form}/{id}`
//! (PDF, or the JSON error). `{form}` is `form1`…`form4`, `quarterly` (id `115Q3`) or
//! `citizen-letter` (id: the citizen request's number).

mod api;
mod input;
mod pages;
mod routes;

pub use pages::RegisterLink;
pub use routes::{ApiDoc, routes};
