//! The `/rules` page: the rules' title and history, each clause under its anchor with the
//! project's English summary beside it in English, and the four forms' fields.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::rules::{Rules, Section};
use crate::PageCall;
use crate::auth::session::MaybeSession;
use crate::error::PageError;
use crate::i18n::Messages;
use crate::pages::render;
use crate::templates::{Frame, UserBar};

#[derive(Template)]
#[template(path = "rules.html")]
pub struct RulesPage {
    pub m: Messages,
    pub frame: Frame,
    pub title: String,
    pub history: Vec<String>,
    /// (anchor, "第五點" / "Clause 五") of each clause, for the table of contents.
    pub toc: Vec<(String, String)>,
    pub clauses: Vec<Section>,
    pub forms: Vec<Section>,
}

pub async fn rules_page(
    PageCall { state, m, op }: PageCall,
    MaybeSession(who): MaybeSession,
) -> Result<Response, PageError> {
    // The text is compiled in and checked by a unit test; a broken copy is a bug, reported
    // like any internal failure.
    let rules = Rules::get().map_err(|e| {
        tracing::error!(operation_id = %op.0, error = %e, "rules text failed to parse");
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: m.get("error-internal"),
            operation_id: op.0.clone(),
            messages: m.clone(),
            path: "/rules".into(),
        }
    })?;
    let page = RulesPage {
        frame: Frame::of(
            &m,
            who.as_ref().map(|s| UserBar::for_page(&state, s)),
            "/rules",
        ),
        title: rules.title.clone(),
        history: rules.history.clone(),
        toc: rules
            .clauses
            .iter()
            .map(|c| {
                // 第四點 in Chinese, "Clause 4" in English (the anchor `s4` carries the figure).
                let n = if m.is_zh() {
                    c.heading.clone()
                } else {
                    c.anchor.trim_start_matches('s').to_string()
                };
                let label = m.with("rules-clause", &[("n", n)]);
                (c.anchor.clone(), label)
            })
            .collect(),
        clauses: rules.clauses.clone(),
        forms: rules.forms.clone(),
        m,
    };
    Ok(render(&page, &op))
}
