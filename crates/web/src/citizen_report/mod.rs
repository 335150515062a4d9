//! The personal-data contact officer's desk (個人資料保護法 §3, §10, §13): recording a
//! citizen's access request, the list of requests with their deadlines, the single
//! extension, producing and viewing the report, recording the answer; the supervisor's §10
//! withholding mark and the ethics office's list of marks. Pages and the JSON API call the
//! same use cases in `querywarden_app::citizen_report`, which hold the rules and audit every
//! refusal; handlers only parse input and render.

mod acts;
pub mod api;
mod input;
mod pages;
mod routes;
pub mod self_service;
mod view;

pub use routes::{ApiDoc, routes};
