//! The home page and the catalogue page.

use axum::extract::State;
use axum::response::Response;
use querywarden_app::public_reads;

use super::bar;
use super::templates::{BasisRow, CataloguePage, HomePage, ItemRow, PersonRow};
use crate::auth::session::MaybeSession;
use crate::error::PageError;
use crate::pages::render;
use crate::{AppState, Lang, OperationId};

pub async fn home(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    MaybeSession(who): MaybeSession,
) -> Result<Response, PageError> {
    let figures = public_reads::home_figures(&state.app)
        .await
        .map_err(|e| PageError::internal(&e, &op.0, m.clone(), "/"))?;
    let people = figures
        .demo_accounts
        .into_iter()
        .map(|a| PersonRow {
            account: a.person.account.as_str().to_string(),
            unit: a.unit_name,
            roles: a
                .person
                .roles
                .iter()
                .map(|r| if m.is_zh() { r.name_zh() } else { r.name_en() })
                .collect::<Vec<_>>()
                .join(if m.is_zh() { "、" } else { ", " }),
            name: a.person.name,
            title: a.person.title,
        })
        .collect();
    let page = HomePage::new(
        m,
        bar(&state, &who),
        state.app.config().demo,
        people,
        figures.audit_records,
        figures.checkpoint,
    );
    Ok(render(&page, &op))
}

pub async fn catalogue(
    State(state): State<AppState>,
    Lang(m): Lang,
    op: OperationId,
    MaybeSession(who): MaybeSession,
) -> Result<Response, PageError> {
    let fail = |e| PageError::internal(&e, &op.0, m.clone(), "/catalogue");
    let items = public_reads::service_items(&state.app)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|i| ItemRow {
            code: i.code.as_str().to_string(),
            name_zh: i.name_zh,
            name_en: i.name_en,
        })
        .collect();
    let bases = public_reads::legal_bases(&state.app)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|b| BasisRow {
            law: b.law,
            article: b.article,
            summary_zh: b.summary_zh,
        })
        .collect();
    let mut page = CataloguePage::new(m, items, bases);
    page.user = bar(&state, &who);
    Ok(render(&page, &op))
}
