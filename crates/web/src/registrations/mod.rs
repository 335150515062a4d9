//! The query-registration area (§4–§6, Form 2), zh-TW first: register a lookup (one
//! subject, or a batch CSV), the registration with approve / reject / reveal / cancel /
//! execute, the view-only result with its watermark and the numbered print for the case
//! file, the per-role inbox, "my registrations" and the acting supervisor's registration;
//! pages and the JSON API under `/api/v1/registrations/…`. Handlers are thin: they parse
//! the input (`input`) and call one use case of `querywarden_app::registration`,
//! `execution` or `mine` (the deputy page and its API: `querywarden_app::acting`); what both this area and Form 3 show lives in `crate::casework`.
//!
//! Security-sensitive: every POST checks the session's CSRF token; who may do what is
//! decided by the app layer (`approver_of`, the execution policy, `may_view`). Personal data
//! travels only in POST bodies: URLs carry registration numbers and item codes only.
//! National IDs are shown masked unless revealed (audited); a refused Form 2 keeps what was
//! typed, the ID in its field's value only. Result pages keep the middleware's `Cache-Control: no-store` and offer no download
//! or export; nothing here logs personal data.

mod api;
mod bulk;
mod deputy;
mod execution;
pub(crate) mod input;
mod mine;
mod pages;
mod record;
mod results;
mod routes;
mod views;

pub use routes::{ApiDoc, routes};
