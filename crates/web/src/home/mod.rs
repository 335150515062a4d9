//! The pages anyone may open: the home page (and its worklist as JSON, for the signed-in),
//! the catalogue, the national-ID check tool, the language switch, the static assets and the
//! not-found page. Nothing here changes data; the
//! ID tool shows only the masked form of what was typed, and logs nothing of it.

pub mod api;
mod assets;
mod id_check;
mod input;
mod language;
pub mod nav;
mod pages;
mod routes;
mod templates;

pub(crate) use assets::{not_found, stylesheet};
pub use routes::routes;

use querywarden_app::auth::SignedIn;

use crate::AppState;
use crate::templates::UserBar;

/// The header's user bar, when someone is signed in.
fn bar(state: &AppState, who: &Option<SignedIn>) -> Option<UserBar> {
    who.as_ref().map(|s| UserBar::for_page(state, s))
}
