//! The Form 1 pages (§2): applying and amending, the application with every sign-off, and the
//! acts on it — submit, withdraw, and the approver's decision at the pending step.
//!
//! Security-sensitive: every POST checks the session's CSRF token; whether the viewer may see
//! or decide an application is decided by the app (`application_for_viewer`, the approver's
//! capability inside `decide_step`). The national ID is never echoed back into the form.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::permission::{ApplicantAct, Awaited, PermissionError};
use querywarden_domain::permission::{
    ApplicationId, ApplicationKind, ApplicationState, PermissionApplication, Step,
};

use super::input::{DoneQuery, IdPath, PostedApplication, PostedDecision};
use super::pages::{
    Names, Shown, after_post, bad_field, date, failed, forbidden, label, names, notice, shown,
    state_detail, with_error,
};
use super::today;
use super::views::{
    ApplicationPage, ApplyPage, ApplyValues, Choice, DecideForm, ItemLabel, StepRow,
};
use crate::app_op::{now_op, op_of};
use crate::i18n::Messages;
use crate::input::{CsrfForm, TokenOnly};
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

/// Where the form posts: a new application, or the amendment of `amend`.
fn form_action(amend: Option<ApplicationId>) -> String {
    match amend {
        Some(id) => format!("/permissions/applications/{id}/amend"),
        None => "/permissions/apply".to_string(),
    }
}

/// The application form, new or amending, with `error` shown.
async fn apply_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    amend: Option<ApplicationId>,
    values: ApplyValues,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let action = form_action(amend);
    let names = match names(state, who, &m).await {
        Ok(n) => n,
        Err(e) => return failed(e, &m, op, &action),
    };
    let items = names
        .items
        .iter()
        .filter(|i| i.active)
        .map(|i| Choice {
            selected: values.items.iter().any(|c| c == i.code.as_str()),
            label: if m.is_zh() {
                i.name_zh.clone()
            } else {
                i.name_en.clone()
            },
            value: i.code.as_str().to_string(),
        })
        .collect();
    let kind = if values.kind.is_empty() {
        "new".to_string()
    } else {
        values.kind.clone()
    };
    let kinds = ApplicationKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().to_string(),
            label: label(&m, "kind", k.code()),
            selected: k.code() == kind,
        })
        .collect();
    let (status, error) = with_error(error);
    let p = &who.person;
    let page = ApplyPage {
        frame: Frame::signed_in(state, who, &m, "/permissions/apply"),
        amending: amend.is_some(),
        action,
        name: p.name.clone(),
        unit: names.unit(&p.unit),
        title: p.title.clone(),
        kinds,
        items,
        values,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn apply_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Response {
    let values = ApplyValues {
        kind: "new".into(),
        ..ApplyValues::default()
    };
    apply_page(&state, m, &op, &who, None, values, None).await
}

/// Writes the Form 1 (a draft), or amends one; then shows it, to be submitted.
async fn save_application(
    state: AppState,
    m: Messages,
    op: OperationId,
    who: SignedIn,
    amend: Option<ApplicationId>,
    posted: PostedApplication,
) -> Response {
    let error = match posted.parse() {
        Err(b) => bad_field(&m, b),
        Ok(form) => {
            let o = op_of(&op);
            let saved = state
                .app
                .permissions()
                .save_application(who.person.id, amend, form, &o)
                .await;
            let what = if amend.is_some() {
                "amended"
            } else {
                "created"
            };
            match saved {
                Ok(app) => {
                    let done = format!("/permissions/applications/{}?done={what}", app.id);
                    return Redirect::to(&done).into_response();
                }
                Err(e) => match shown(e, &m, &op, &form_action(amend)) {
                    Shown::Form(s, f) => (s, f),
                    Shown::Page(r) => return r,
                },
            }
        }
    };
    apply_page(&state, m, &op, &who, amend, posted.values(), Some(error)).await
}

pub async fn apply_submit(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, posted): CsrfForm<PostedApplication>,
) -> Response {
    save_application(state, m, op, who, None, posted).await
}

pub async fn amend_form(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
) -> Response {
    let id = ApplicationId::new(id);
    let path = form_action(Some(id));
    let found = state
        .app
        .permissions()
        .application_for_viewer(who.person.id, id, &now_op(&op))
        .await;
    let app = match found {
        Ok(a) if a.applicant == who.person.id => a,
        Ok(_) => {
            crate::session::role_refused(&state, &who, "permission.not_applicant", &op.0).await;
            return forbidden(m, &op, &path);
        }
        Err(e) => return failed(e, &m, &op, &path),
    };
    let values = ApplyValues {
        kind: app.kind.code().to_string(),
        reason: app.reason.clone(),
        phone: app.phone.clone(),
        email: app.email.clone(),
        egov_account: app.egov_account.clone(),
        read_pdpa: app.confirmations.read_pdpa_and_rules,
        has_card: app.confirmations.has_certificate_and_reader,
        items: app.items.iter().map(|i| i.as_str().to_string()).collect(),
    };
    apply_page(&state, m, &op, &who, Some(id), values, None).await
}

pub async fn amend_submit(
    PageCall { state, m, op }: PageCall,
    Path(IdPath { id }): Path<IdPath>,
    CsrfForm(who, posted): CsrfForm<PostedApplication>,
) -> Response {
    let id = ApplicationId::new(id);
    save_application(state, m, op, who, Some(id), posted).await
}

/// The application with every sign-off, and what the viewer may do with it.
async fn application_page(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    notice: Option<String>,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = format!("/permissions/applications/{id}");
    let me = who.person.id;
    let permissions = state.app.permissions();
    let loaded = async {
        let app = permissions
            .application_for_viewer(me, ApplicationId::new(id), &now_op(op))
            .await?;
        let waiting = permissions.inbox(me, today()).await?;
        let my_step = waiting
            .into_iter()
            .find(|e| e.application.id == app.id)
            .map(|w| w.step);
        let awaited = permissions
            .waiting_for(std::slice::from_ref(&app), today())
            .await?
            .pop()
            .flatten();
        let names = names(state, who, &m).await?;
        Ok::<_, PermissionError>((app, my_step, awaited, names))
    }
    .await;
    let (app, my_step, awaited, names) = match loaded {
        Ok(x) => x,
        Err(e) => return failed(e, &m, op, &path),
    };
    let (status, error) = with_error(error);
    let mut page = build_application_page(state, m, who, &app, &names, my_step, awaited);
    page.notice = notice;
    page.error = error;
    (status, render(&page, op)).into_response()
}

/// The decision form, when the viewer is the approver `my_step` waits for.
fn decide_form(m: &Messages, my_step: Option<Step>) -> Option<DecideForm> {
    my_step.map(|step| DecideForm {
        step: label(m, "step", step.code()),
        administrator: step == Step::PermissionAdministrator,
        countersign: step == Step::Countersign,
        date: match step {
            Step::PermissionAdministrator => today().format_short(),
            _ => String::new(),
        },
    })
}

fn step_rows(m: &Messages, app: &PermissionApplication, names: &Names) -> Vec<StepRow> {
    app.steps
        .iter()
        .map(|s| StepRow {
            round: s.round,
            step: label(m, "step", s.step.code()),
            who: names.person(s.by),
            at: m.datetime(s.at),
            outcome: label(m, "outcome", s.outcome.code()),
            outcome_code: s.outcome.code().to_string(),
            effective_from: s.effective_from.map(|d| date(m, d)).unwrap_or_default(),
            comment: s.comment.clone(),
        })
        .collect()
}

fn build_application_page(
    state: &AppState,
    m: Messages,
    who: &SignedIn,
    app: &PermissionApplication,
    names: &Names,
    my_step: Option<Step>,
    awaited: Option<Awaited>,
) -> ApplicationPage {
    let mine = app.applicant == who.person.id;
    let editable = matches!(
        app.state,
        ApplicationState::Draft | ApplicationState::Returned { .. }
    );
    let withdrawable = editable
        || matches!(app.state, ApplicationState::Pending { step } if step != Step::Countersign);
    ApplicationPage {
        frame: Frame::signed_in(
            state,
            who,
            &m,
            format!("/permissions/applications/{}", app.id),
        ),
        id: app.id.get(),
        form_number: app.form_number.to_string(),
        kind: label(&m, "kind", app.kind.code()),
        application_date: date(&m, app.application_date),
        unit: names.unit(&app.unit),
        title: app.title.clone(),
        name: app.name.clone(),
        reason: app.reason.clone(),
        national_id_masked: app.national_id_masked.clone(),
        phone: app.phone.clone(),
        email: app.email.clone(),
        egov_account: app.egov_account.clone(),
        items: app
            .items
            .iter()
            .map(|i| ItemLabel {
                code: i.as_str().to_string(),
                name: names.item_name(i),
            })
            .collect(),
        read_pdpa: app.confirmations.read_pdpa_and_rules,
        has_card: app.confirmations.has_certificate_and_reader,
        state: label(&m, "state", app.state.code()),
        state_code: app.state.code().to_string(),
        state_detail: state_detail(&m, &app.state, awaited.as_ref()),
        steps: step_rows(&m, app, names),
        can_submit: mine && editable,
        can_amend: mine && editable,
        can_withdraw: mine && withdrawable,
        decide: decide_form(&m, my_step),
        notice: None,
        error: None,
        m,
    }
}

pub async fn application(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let notice = notice(&m, q.done.as_deref());
    application_page(&state, m, &op, &who, id, notice, None).await
}

/// After an act on application `id`: to its page saying what happened (`done`), or the page
/// again with the refusal.
async fn after_act(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    outcome: Result<&'static str, PermissionError>,
) -> Response {
    let path = format!("/permissions/applications/{id}");
    let outcome = outcome.map(|done| format!("{path}?done={done}"));
    let again = |s, f| application_page(state, m.clone(), op, who, id, None, Some((s, f)));
    after_post(outcome, &m, op, &path, again).await
}

/// The applicant's act on application `id`, then its page.
async fn applicant_act(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    act: ApplicantAct,
) -> Response {
    let r = state
        .app
        .permissions()
        .act_as_applicant(who.person.id, ApplicationId::new(id), act, &op_of(op))
        .await
        .map(|_| act.done());
    after_act(state, m, op, who, id, r).await
}

pub async fn submit(
    PageCall { state, m, op }: PageCall,
    Path(IdPath { id }): Path<IdPath>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Response {
    applicant_act(&state, m, &op, &who, id, ApplicantAct::Submit).await
}

pub async fn withdraw(
    PageCall { state, m, op }: PageCall,
    Path(IdPath { id }): Path<IdPath>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Response {
    applicant_act(&state, m, &op, &who, id, ApplicantAct::Withdraw).await
}

/// The approver's decision: the capability for the pending step, then the decision itself.
pub async fn decide(
    PageCall { state, m, op }: PageCall,
    Path(IdPath { id }): Path<IdPath>,
    CsrfForm(who, f): CsrfForm<PostedDecision>,
) -> Response {
    let decision = match f.parse(today()) {
        Ok(d) => d,
        Err(b) => {
            let error = bad_field(&m, b);
            return application_page(&state, m, &op, &who, id, None, Some(error)).await;
        }
    };
    let r = state
        .app
        .permissions()
        .decide_step(who.person.id, ApplicationId::new(id), decision, &op_of(&op))
        .await
        .map(|_| "decided");
    after_act(&state, m, &op, &who, id, r).await
}
