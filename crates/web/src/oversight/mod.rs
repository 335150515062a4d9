//! Oversight pages and API (§7, §8): the quarterly review, findings, violations and corrective
//! reports, the director's dashboard ([`reviews`]); unannounced audits, Form 4 ([`audits`]).

use axum::Router;

use crate::AppState;
use crate::casework::Names;
use crate::i18n::Messages;

pub mod audits;
pub mod reviews;

/// The oversight area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(reviews::routes::routes())
        .merge(audits::routes::routes())
}

/// People, units and items by name, through the oversight door (shown only on the pages of
/// those who may see it), in the page's language.
pub(crate) async fn names(
    state: &AppState,
    m: &Messages,
) -> Result<Names, querywarden_app::AppError> {
    Ok(Names::new(state.app.oversight().directory().await?, m))
}
