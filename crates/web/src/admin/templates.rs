//! The administrator's and the auditor's pages' view models (templates `audit.html`,
//! `usage_log.html`, `bind_card.html`, `calendar.html`, `catalogue_admin.html`).

use askama::Template;

use super::input::AuditForm;
use crate::i18n::Messages;
use crate::templates::{FormError, Frame, UserBar};

/// One record of the trail as the auditor reads it: the action and the outcome in words (the
/// codes in the `title`), the object linked to its page where it has one.
pub struct AuditRow {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub action_code: String,
    pub object: String,
    pub object_href: Option<String>,
    pub outcome: String,
    pub outcome_code: String,
    /// `ok`, `refused` or `failed`, for the row's style.
    pub outcome_class: &'static str,
}

/// An entry of the action list.
pub struct ActionOption {
    pub code: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub m: Messages,
    pub frame: Frame,
    pub form: AuditForm,
    pub searched: bool,
    pub rows: Vec<AuditRow>,
    pub actions: Vec<ActionOption>,
    /// 符合 N 筆，本頁 M 筆.
    pub total: String,
    /// Cursor of the newer page (`after`), if there is one.
    pub newer: Option<u64>,
    /// Cursor of the older page (`before`), if there is one.
    pub older: Option<u64>,
    pub export_note: String,
    pub error: Option<FormError>,
}

impl AuditPage {
    pub fn new(m: Messages, user: UserBar, form: AuditForm) -> Self {
        let _csrf = user.csrf.clone();
        let actions = querywarden_domain::audit_event::AuditAction::ALL
            .iter()
            .map(|a| ActionOption {
                code: a.code(),
                label: super::audit_trail::action_label(&m, a.code()),
                selected: form.action == a.code(),
            })
            .collect();
        let export_note = m.with(
            "audit-export-note",
            &[(
                "max",
                querywarden_app::audit::search::EXPORT_MAX.to_string(),
            )],
        );
        Self {
            frame: Frame::of(&m, Some(user), "/audit"),
            m,
            form,
            searched: false,
            rows: Vec::new(),
            actions,
            total: String::new(),
            newer: None,
            older: None,
            export_note,
            error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "usage_log.html")]
pub struct UsageLogPage {
    pub m: Messages,
    pub frame: Frame,
    pub result: Option<String>,
    pub row_errors: Vec<String>,
}

impl UsageLogPage {
    pub fn new(m: Messages, user: UserBar) -> Self {
        let _csrf = user.csrf.clone();
        Self {
            frame: Frame::of(&m, Some(user), "/admin/usage-log"),
            m,
            result: None,
            row_errors: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "bind_card.html")]
pub struct BindCardPage {
    pub m: Messages,
    pub frame: Frame,
    pub result: Option<String>,
    pub error: Option<FormError>,
}

impl BindCardPage {
    pub fn new(m: Messages, user: UserBar) -> Self {
        let _csrf = user.csrf.clone();
        Self {
            frame: Frame::of(&m, Some(user), "/admin/bind-card"),
            m,
            result: None,
            error: None,
        }
    }
}

/// An official calendar year loaded, and when.
pub struct YearLine {
    pub year: String,
    pub loaded_at: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    pub m: Messages,
    pub frame: Frame,
    pub years: Vec<YearLine>,
    /// 「民國 117 年（2028）的辦公日曆表尚未匯入」 from October on.
    pub missing: Option<String>,
    pub result: Option<String>,
    pub error: Option<FormError>,
}

/// One catalogue entry as listed.
pub struct EntryRow {
    pub code: String,
    pub name: String,
    pub detail: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "catalogue_admin.html")]
pub struct CatalogueAdminPage {
    pub m: Messages,
    pub frame: Frame,
    pub notice: Option<String>,
    pub error: Option<FormError>,
    pub items: Vec<EntryRow>,
    pub bases: Vec<EntryRow>,
    /// The viewer is the permission administrator: the forms are shown (the use case decides
    /// all the same).
    pub can_change: bool,
}
