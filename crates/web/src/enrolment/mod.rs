//! Go-live pages (§3): enrolment with a one-time code and one's own card (`/enrol`), and
//! the administrator's enrolment desk (`/admin/enrolment`: issue enrolment and reset codes,
//! see the certificate revocation lists in force), and its JSON API. Handlers are thin; the rules live in
//! `querywarden_app::enrolment` and `querywarden_domain::enrolment`.

pub mod api;
mod input;
mod pages;
mod routes;

pub use routes::{ApiDoc, routes};
