//! The Form 3 list and form (§5 ¶3): requests filed by the signed-in person or addressed to
//! their unit, and filing one. Subjects arrive in the POST body; a refused form shows them
//! again (on the `no-store` page only) so that nothing typed is lost.

use std::collections::BTreeSet;

use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use querywarden_app::request;
use querywarden_domain::org::{Role, UnitKind};

use super::input::FileRequestForm;
use super::views::{RequestListPage, RequestNewPage};
use crate::casework::{
    Answer, CaseForm, Caseworker, Choice, Names, basis_choices, denied_status, line_errors,
    request_row,
};
use crate::pages::render;

pub async fn requests(c: Caseworker) -> Answer {
    let fail = c.fail("/requests");
    let rows = request::requests_of(&c.desk(), c.me())
        .await
        .map_err(&fail)?;
    let names = Names::load(&c.state, c.me(), &c.m).await.map_err(&fail)?;
    let page = RequestListPage {
        frame: c.frame("/requests"),
        can_request: c.who.person.has_role(Role::ExternalRequester),
        rows: rows.iter().map(|r| request_row(r, &names, &c.m)).collect(),
        m: c.m.clone(),
    };
    Ok(render(&page, &c.op))
}

async fn request_new_page(
    c: &Caseworker,
    posted: Option<&FileRequestForm>,
) -> Result<RequestNewPage, Response> {
    let names = Names::load(&c.state, c.me(), &c.m)
        .await
        .map_err(c.fail("/requests/new"))?;
    let m = &c.m;
    let chosen: BTreeSet<&str> = posted
        .map(|p| p.items.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let text =
        |f: fn(&FileRequestForm) -> &String| posted.map(|p| f(p).clone()).unwrap_or_default();
    Ok(RequestNewPage {
        frame: c.frame("/requests/new"),
        error: None,
        line_errors: Vec::new(),
        unit_name: names.unit(&c.me().unit),
        applicant_title: posted
            .map(|p| p.applicant_title.clone())
            .unwrap_or_else(|| c.who.person.title.clone()),
        phone: text(|p| &p.phone),
        fax: text(|p| &p.fax),
        relevance: text(|p| &p.relevance),
        declared: text(|p| &p.declared),
        subjects: text(|p| &p.subjects),
        units: names
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::BureauSection)
            .map(|u| Choice {
                value: u.id.as_str().to_string(),
                label: u.name_zh.clone(),
                selected: posted.is_some_and(|p| p.responsible_unit == u.id.as_str()),
            })
            .collect(),
        bases: basis_choices(&names, posted.map(|p| p.legal_basis.as_str()), true),
        items: names
            .items
            .iter()
            .filter(|i| i.active)
            .map(|i| Choice {
                value: i.code.as_str().to_string(),
                label: names.item(&i.code),
                selected: chosen.contains(i.code.as_str()),
            })
            .collect(),
        m: m.clone(),
    })
}

pub async fn request_form(c: Caseworker) -> Answer {
    // §5 ¶3: Form 3 is for district offices and subordinate agencies; another role's visit
    // is refused on the trail.
    if !c.who.person.has_role(Role::ExternalRequester) {
        crate::session::role_refused(&c.state, &c.who, "request.not_external", c.op_id()).await;
        return Err(c.forbidden("/requests/new"));
    }
    let page = request_new_page(&c, None).await?;
    Ok(render(&page, &c.op))
}

/// Files a Form 3 request. Subjects arrive in the POST body; a refused form shows them again
/// (on the `no-store` page only) so that nothing typed is lost.
pub async fn request_submit(CaseForm(c, posted): CaseForm<FileRequestForm>) -> Answer {
    let decided = request::file_request(
        &c.desk(),
        c.me(),
        &posted.request(),
        Timestamp::now(),
        c.op_id(),
    )
    .await
    .map_err(c.fail("/requests/new"))?;
    match decided {
        Ok(no) => Ok(Redirect::to(&format!("/requests/{no}?notice=filed")).into_response()),
        Err(d) => {
            let mut page = request_new_page(&c, Some(&posted)).await?;
            // The list is typed into the form, not a file: its errors name the subject's
            // place in the list.
            let (lines, error) =
                line_errors(&d, &c.m, "refusal-subject-line", "refusal-subject-rows");
            page.line_errors = lines;
            page.error = Some(error);
            Ok((denied_status(&d), render(&page, &c.op)).into_response())
        }
    }
}
