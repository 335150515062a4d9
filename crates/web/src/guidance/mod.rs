//! Guidance where the rules bite: the bureau's rules (管理要點) and its four forms readable in
//! the app at `/rules`, each clause with its own anchor (`/rules#s5`, `/rules#form2`), so the
//! pages that apply a clause can link to its text (§5 on the registration form, §6 on
//! results, §7 on the quarterly review, §8 on audits).
//!
//! Not security-sensitive: the text is public and the page is readable signed in or out. The
//! text lives in `crates/web/rules/management-rules.txt`, copied from the published rules
//! with its source note, and is parsed once ([`rules::Rules::get`]).

mod pages;
pub mod rules;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/rules", get(pages::rules_page))
}
