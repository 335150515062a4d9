//! View models of the permission pages (§2, Form 1): applying, the application and its
//! sign-offs, the approver's inbox, grants (one's own and the administrator's overview), the
//! supervisor's staff changes and recertification rounds, the staff CSV import and account
//! re-enabling. They fill the askama templates in `templates/permissions/`; every label comes
//! from the message catalogue, dates are ROC, national IDs appear only masked.

use askama::Template;

use crate::i18n::Messages;
use crate::templates::{FormError, Frame};

/// One value of a select list or a checkbox.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One line of "my applications".
pub struct ApplicationRow {
    pub id: i64,
    pub form_number: String,
    pub kind: String,
    pub date: String,
    pub state: String,
    pub state_code: String,
    /// The pending step, the return note or the refusal reason.
    pub detail: String,
}

#[derive(Template)]
#[template(path = "permissions/home.html")]
pub struct PermissionHomePage {
    pub m: Messages,
    pub frame: Frame,
    pub applications: Vec<ApplicationRow>,
    pub is_supervisor: bool,
    pub is_admin: bool,
}

/// The Form 1 values typed, echoed back after a refusal (never the national ID).
#[derive(Default, Clone)]
pub struct ApplyValues {
    pub kind: String,
    pub reason: String,
    pub phone: String,
    pub email: String,
    pub egov_account: String,
    pub read_pdpa: bool,
    pub has_card: bool,
    /// The service items chosen (codes as typed).
    pub items: Vec<String>,
}

#[derive(Template)]
#[template(path = "permissions/apply.html")]
pub struct ApplyPage {
    pub m: Messages,
    pub frame: Frame,
    /// Where the form posts: a new application, or the amendment of one.
    pub action: String,
    pub amending: bool,
    pub name: String,
    pub unit: String,
    pub title: String,
    pub kinds: Vec<Choice>,
    pub items: Vec<Choice>,
    pub values: ApplyValues,
    pub error: Option<FormError>,
}

/// One sign-off of the chain.
pub struct StepRow {
    pub round: u32,
    pub step: String,
    pub who: String,
    pub at: String,
    pub outcome: String,
    pub outcome_code: String,
    pub effective_from: String,
    pub comment: String,
}

/// The decision form, when the viewer is the approver the pending step waits for.
pub struct DecideForm {
    pub step: String,
    /// 權限管理者: approve asks the effective date; "other" is allowed.
    pub administrator: bool,
    /// 權限管理單位主管: may replace an effective date that has passed.
    pub countersign: bool,
    /// The date proposed in the field (ROC, e.g. `115/03/05`).
    pub date: String,
}

/// An item on the application, code and name.
pub struct ItemLabel {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "permissions/application.html")]
pub struct ApplicationPage {
    pub m: Messages,
    pub frame: Frame,
    pub id: i64,
    pub form_number: String,
    pub kind: String,
    pub application_date: String,
    pub unit: String,
    pub title: String,
    pub name: String,
    pub reason: String,
    pub national_id_masked: String,
    pub phone: String,
    pub email: String,
    pub egov_account: String,
    pub items: Vec<ItemLabel>,
    pub read_pdpa: bool,
    pub has_card: bool,
    pub state: String,
    pub state_code: String,
    pub state_detail: String,
    pub steps: Vec<StepRow>,
    pub can_submit: bool,
    pub can_amend: bool,
    pub can_withdraw: bool,
    pub decide: Option<DecideForm>,
    pub notice: Option<String>,
    pub error: Option<FormError>,
}

/// One line of the approver's inbox.
pub struct InboxRow {
    pub id: i64,
    pub form_number: String,
    pub applicant: String,
    pub unit: String,
    pub kind: String,
    pub step: String,
    pub since: String,
    pub reminder_on: String,
    pub reminder_due: bool,
}

/// One unread notice of a personnel change (§2), in the inbox.
pub struct NoticeLine {
    pub id: i64,
    /// What happened, in the page's language.
    pub what: String,
    /// Who it is about (name and account).
    pub about: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "permissions/inbox.html")]
pub struct InboxPage {
    pub m: Messages,
    pub frame: Frame,
    pub rows: Vec<InboxRow>,
    pub notices: Vec<NoticeLine>,
    pub notice: Option<String>,
}

/// One grant in a list.
pub struct GrantRow {
    pub id: i64,
    pub account: String,
    pub name: String,
    pub unit: String,
    pub item: String,
    pub from: String,
    pub to: String,
    pub status: String,
    pub status_code: String,
    pub in_force: bool,
    pub note: String,
    pub application: i64,
}

#[derive(Template)]
#[template(path = "permissions/grants.html")]
pub struct GrantsPage {
    pub m: Messages,
    pub frame: Frame,
    /// The administrator's overview (with filters and holders) rather than one's own grants.
    pub overview: bool,
    pub units: Vec<Choice>,
    pub items: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub rows: Vec<GrantRow>,
    pub error: Option<FormError>,
}

/// An upcoming change of a supervisor's staff member.
pub struct ChangeRow {
    pub name: String,
    pub account: String,
    pub from: String,
    pub to: String,
    pub effective: String,
    pub source: String,
}

/// A recertification round in a list.
pub struct RoundRow {
    pub id: i64,
    pub quarter: String,
    pub opened: String,
    pub deadline: String,
    pub closed: String,
}

#[derive(Template)]
#[template(path = "permissions/staff.html")]
pub struct StaffPage {
    pub m: Messages,
    pub frame: Frame,
    pub changes: Vec<ChangeRow>,
    pub rounds: Vec<RoundRow>,
    pub error: Option<FormError>,
}

/// One line of a recertification round.
pub struct LineRow {
    pub grant: i64,
    pub person: String,
    pub item: String,
    pub uses: u32,
    pub last_used: String,
    pub propose_removal: bool,
    pub decision: String,
    pub decision_code: String,
}

#[derive(Template)]
#[template(path = "permissions/round.html")]
pub struct RoundPage {
    pub m: Messages,
    pub frame: Frame,
    pub id: i64,
    pub quarter: String,
    pub opened: String,
    pub deadline: String,
    pub closed: String,
    pub open: bool,
    pub lines: Vec<LineRow>,
    pub notice: Option<String>,
    pub error: Option<FormError>,
}

#[derive(Template)]
#[template(path = "permissions/staff_import.html")]
pub struct StaffImportPage {
    pub m: Messages,
    pub frame: Frame,
    pub result: Option<String>,
    pub row_errors: Vec<String>,
}

/// A disabled account.
pub struct DisabledRow {
    pub account: String,
    pub name: String,
    pub unit: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "permissions/accounts.html")]
pub struct AccountsPage {
    pub m: Messages,
    pub frame: Frame,
    pub rows: Vec<DisabledRow>,
    pub notice: Option<String>,
    pub error: Option<FormError>,
}
