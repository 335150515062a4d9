//! Running an approved registration (§5): in connected mode through the connector, in
//! portal mode by recording the querier's report of the portal query; and the querier's
//! statement on an attempt whose outcome is unknown, after which the item may run again.

use std::collections::BTreeSet;

use axum::extract::Path;
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use querywarden_app::auth::SignedIn;
use querywarden_app::execution::{self, ExecutionReport, ItemOutcome, PortalReport};
use querywarden_app::registration::{Decided, Denied};
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::registration::RegistrationNo;

use super::input::{ExecuteForm, StatementForm, result_path};
use super::record::{Shown, after, path_no, show};
use crate::AppState;
use crate::casework::{Answer, CaseForm, opt};

/// Which notice an execution earns: a failed or unknown item is said so, not announced as
/// executed.
fn notice(report: &ExecutionReport) -> &'static str {
    let any = |f: fn(&ItemOutcome) -> bool| report.items.iter().any(|i| f(&i.outcome));
    if any(|o| matches!(o, ItemOutcome::Unknown { .. })) {
        "outcome_unknown"
    } else if any(|o| matches!(o, ItemOutcome::Failed { .. })) {
        "execution_failed"
    } else {
        "executed"
    }
}

/// Runs the approved query (connected mode, through the connector) or records the querier's
/// portal execution (portal mode, with the querier's note and paper case number), as
/// `bli.mode` says; the page and the API alike.
pub(super) async fn run(
    state: &AppState,
    who: &SignedIn,
    no: RegistrationNo,
    items: Option<BTreeSet<ServiceItemCode>>,
    note: Option<String>,
    paper_case_no: Option<String>,
    op: &str,
) -> Decided<ExecutionReport> {
    let desk = state.app.desk();
    let now = Timestamp::now();
    match state.app.connector() {
        Some(connector) => {
            execution::execute_connected(&desk, connector, who, no, items.as_ref(), now, op).await
        }
        None => {
            let report = PortalReport {
                items,
                queried_at: Some(now),
                note,
                paper_case_no,
                documents: Vec::new(),
            };
            execution::record_portal_execution(&desk, who, no, &report, now, op).await
        }
    }
}

/// The page's execution: the chosen items and, in portal mode, the querier's report.
pub async fn execute(Path(no): Path<String>, CaseForm(c, posted): CaseForm<ExecuteForm>) -> Answer {
    // §3: executions are rate-limited per person.
    let checks = querywarden_app::limits::execution_checks(&c.who);
    if let Some(e) = crate::session::over_limit(&c.state, &c.who, &checks, c.op_id()).await {
        return Err(e.into_response());
    }
    let no = path_no(&c, &no)?;
    let items = match posted.items() {
        Ok(items) => items,
        Err(e) => return show(&c, no, Shown::refusal(&Denied::Registration(e))).await,
    };
    let decided = run(
        &c.state,
        &c.who,
        no,
        items,
        opt(&posted.note),
        opt(&posted.paper_case_no),
        c.op_id(),
    )
    .await;
    match decided.map_err(c.fail("/registrations"))? {
        Ok(report) => Ok(
            Redirect::to(&format!("/registrations/{no}?notice={}", notice(&report)))
                .into_response(),
        ),
        Err(d) => show(&c, no, Shown::refusal(&d)).await,
    }
}

/// §5: the querier's statement on an attempt whose outcome is unknown; the item may then run
/// again.
pub async fn state_outcome(
    Path((no, item)): Path<(String, String)>,
    CaseForm(c, form): CaseForm<StatementForm>,
) -> Answer {
    let (no, item) = result_path(&no, &item).ok_or_else(|| c.not_found("/registrations"))?;
    let decided = execution::outcome::record_statement(
        &c.desk(),
        c.me(),
        no,
        &item,
        &form.statement,
        Timestamp::now(),
        c.op_id(),
    )
    .await;
    after(&c, no, decided, "stated").await
}
