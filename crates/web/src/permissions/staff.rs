//! The supervisor's pages: upcoming changes of their staff (§2) and the quarterly
//! recertification rounds (定期複核) — opening one, deciding each line, closing it.
//!
//! Security-sensitive: every page needs the supervisor's desk, handed out (and a refusal
//! audited) by the app; another supervisor's round answers as if it did not exist.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use querywarden_app::auth::SignedIn;
use querywarden_app::permission::PermissionError;
use querywarden_domain::org::{StaffStatus, UnitId};
use querywarden_domain::permission::recertification::{RecertificationItem, RoundId};

use super::input::{DoneQuery, IdPath, PostedRoundDecision};
use super::pages::{Names, after_post, date, failed, label, names, no_desk, notice, with_error};
use super::today;
use super::views::{ChangeRow, LineRow, RoundPage, RoundRow, StaffPage};
use crate::app_op::{now_op, op_of};
use crate::i18n::Messages;
use crate::input::{CsrfForm, TokenOnly};
use crate::pages::render;
use crate::session::PageSession;
use crate::templates::{FormError, Frame};
use crate::{AppState, OperationId, PageCall};

/// The staff page: upcoming changes and the supervisor's rounds, with `error` shown.
async fn staff_view(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = "/permissions/staff";
    let permissions = state.app.permissions();
    let desk = permissions
        .supervisor_desk(who.person.id, &now_op(op))
        .await;
    let desk = match desk {
        Ok(d) => d,
        Err(e) => return no_desk(e, &m, op, path),
    };
    let loaded = async {
        let changes = permissions.upcoming_staff_changes(&desk, today()).await?;
        let rounds = permissions.recertification_rounds(&desk).await?;
        Ok::<_, PermissionError>((changes, rounds, names(state, who, &m).await?))
    }
    .await;
    let (changes, rounds, names) = match loaded {
        Ok(x) => x,
        Err(e) => return failed(e, &m, op, path),
    };
    let side = |unit: &UnitId, status: StaffStatus| {
        m.aside(&names.unit(unit), &label(&m, "staff", status.code()))
    };
    let changes = changes
        .iter()
        .map(|(p, r)| ChangeRow {
            name: p.name.clone(),
            account: p.account.as_str().to_string(),
            from: side(&r.change.from_unit, r.change.from_status),
            to: side(&r.change.to_unit, r.change.to_status),
            effective: date(&m, r.change.effective),
            source: r.source.clone(),
        })
        .collect();
    let rounds = rounds
        .iter()
        .rev()
        .map(|r| RoundRow {
            id: r.id.get(),
            quarter: r.quarter.name_zh(),
            opened: date(&m, r.opened_on),
            deadline: date(&m, r.deadline),
            closed: r.closed_on.map(|d| date(&m, d)).unwrap_or_default(),
        })
        .collect();
    let (status, error) = with_error(error);
    let page = StaffPage {
        frame: Frame::signed_in(state, who, &m, path),
        changes,
        rounds,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn staff_page(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
) -> Response {
    staff_view(&state, m, &op, &who, None).await
}

/// Opens this quarter's round; then shows it.
pub async fn open_round(
    PageCall { state, m, op }: PageCall,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Response {
    let permissions = state.app.permissions();
    let opened = async {
        let desk = permissions
            .supervisor_desk(who.person.id, &now_op(&op))
            .await?;
        permissions.open_recertification(&desk, &op_of(&op)).await
    }
    .await
    .map(|(r, _)| format!("/permissions/recertification/{}?done=opened", r.id.get()));
    let again = |s, f| staff_view(&state, m.clone(), &op, &who, Some((s, f)));
    after_post(opened, &m, &op, "/permissions/staff", again).await
}

fn line_rows(m: &Messages, names: &Names, items: &[RecertificationItem]) -> Vec<LineRow> {
    items
        .iter()
        .map(|i| LineRow {
            grant: i.grant.get(),
            person: names.person(i.person),
            item: names.item(&i.item),
            uses: i.uses_last_quarter,
            last_used: i.last_used.map(|d| date(m, d)).unwrap_or_default(),
            propose_removal: i.propose_removal,
            decision: i
                .decision
                .map(|d| label(m, "decision", d.code()))
                .unwrap_or_default(),
            decision_code: i.decision.map(|d| d.code()).unwrap_or("").to_string(),
        })
        .collect()
}

/// Round `id` with its lines, `notice` and `error` shown.
async fn round_view(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    notice: Option<String>,
    error: Option<(StatusCode, FormError)>,
) -> Response {
    let path = format!("/permissions/recertification/{id}");
    let permissions = state.app.permissions();
    let desk = permissions
        .supervisor_desk(who.person.id, &now_op(op))
        .await;
    let desk = match desk {
        Ok(d) => d,
        Err(e) => return no_desk(e, &m, op, &path),
    };
    let loaded = async {
        let r = permissions
            .recertification_round(&desk, RoundId::new(id), &now_op(op))
            .await?;
        Ok::<_, PermissionError>((r, names(state, who, &m).await?))
    }
    .await;
    let ((round, items), names) = match loaded {
        Ok(x) => x,
        Err(e) => return failed(e, &m, op, &path),
    };
    let (status, error) = with_error(error);
    let page = RoundPage {
        frame: Frame::signed_in(state, who, &m, path),
        id,
        quarter: round.quarter.name_zh(),
        opened: date(&m, round.opened_on),
        deadline: date(&m, round.deadline),
        closed: round.closed_on.map(|d| date(&m, d)).unwrap_or_default(),
        open: round.closed_on.is_none(),
        lines: line_rows(&m, &names, &items),
        notice,
        error,
        m,
    };
    (status, render(&page, op)).into_response()
}

pub async fn round(
    PageCall { state, m, op }: PageCall,
    PageSession(who): PageSession,
    Path(IdPath { id }): Path<IdPath>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let notice = notice(&m, q.done.as_deref());
    round_view(&state, m, &op, &who, id, notice, None).await
}

/// After an act on round `id`: to the round saying what happened, or the round again with the
/// refusal.
async fn after_round_act(
    state: &AppState,
    m: Messages,
    op: &OperationId,
    who: &SignedIn,
    id: i64,
    outcome: Result<&'static str, PermissionError>,
) -> Response {
    let path = format!("/permissions/recertification/{id}");
    let outcome = outcome.map(|done| format!("{path}?done={done}"));
    let again = |s, f| round_view(state, m.clone(), op, who, id, None, Some((s, f)));
    after_post(outcome, &m, op, &path, again).await
}

pub async fn round_decide(
    PageCall { state, m, op }: PageCall,
    Path(IdPath { id }): Path<IdPath>,
    CsrfForm(who, f): CsrfForm<PostedRoundDecision>,
) -> Response {
    let Some((grant, decision)) = f.parse() else {
        let e = FormError {
            code: "recertification.bad_decision".into(),
            message: m.get("perm-bad-recert-decision"),
        };
        let error = Some((StatusCode::UNPROCESSABLE_ENTITY, e));
        return round_view(&state, m, &op, &who, id, None, error).await;
    };
    let permissions = state.app.permissions();
    let r = async {
        let desk = permissions
            .supervisor_desk(who.person.id, &now_op(&op))
            .await?;
        let round = RoundId::new(id);
        permissions
            .decide_recertification(&desk, round, grant, decision, &op_of(&op))
            .await
    }
    .await
    .map(|()| "recertified");
    after_round_act(&state, m, &op, &who, id, r).await
}

pub async fn round_close(
    PageCall { state, m, op }: PageCall,
    Path(IdPath { id }): Path<IdPath>,
    CsrfForm(who, _): CsrfForm<TokenOnly>,
) -> Response {
    let permissions = state.app.permissions();
    let r = async {
        let desk = permissions
            .supervisor_desk(who.person.id, &now_op(&op))
            .await?;
        permissions
            .close_recertification(&desk, RoundId::new(id), &op_of(&op))
            .await
    }
    .await
    .map(|_| "closed");
    after_round_act(&state, m, &op, &who, id, r).await
}
