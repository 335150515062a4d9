//! Oversight pages and API (§7, §8): the quarterly review, findings, violations and corrective
//! reports, the director's dashboard ([`reviews`]); unannounced audits, Form 4 ([`audits`]).

use axum::Router;

use crate::AppState;

pub mod audits;
pub mod reviews;

/// The oversight area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(reviews::routes::routes())
        .merge(audits::routes::routes())
}
