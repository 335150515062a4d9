//! The quarterly usage review, findings, violations and corrective reports, the director's
//! dashboard and the supervisors' view of their unit (§4 ¶2, §7, §8 ¶2): pages under
//! `/oversight/…` and the JSON API under `/api/v1/oversight/…`, both calling the same use cases
//! in `querywarden_app::oversight` and refusing with the same stable codes.

pub mod api;
mod charts;
mod input;
pub mod pages;
pub mod routes;
