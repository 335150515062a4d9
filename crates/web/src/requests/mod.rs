//! The Form 3 area (§5 ¶3, 附表3): requests from district offices and subordinate agencies —
//! the list, the form, the responsible unit's review, the office supervisor's consent, the
//! signatures, subjects closed without a query and the delivered results; pages and the JSON
//! API under `/api/v1/requests/…`. Handlers are thin: they parse the input (`input`) and
//! call one use case of `querywarden_app::request`; what both this area and the
//! registrations show lives in `crate::casework`.
//!
//! Security-sensitive: every POST checks the session's CSRF token; who may review, consent,
//! sign or deliver is decided by the app layer. Subjects' IDs travel only in POST bodies and
//! are shown masked; results go back inside the system or by official document, never by
//! e-mail or fax.

mod api;
pub(crate) mod input;
mod pages;
mod record;
mod routes;
mod run_all;
mod views;

pub use routes::{ApiDoc, routes};
