//! Page view models for the askama templates in `templates/`. Templates are checked at
//! compile time; every string people read comes from the message catalogue.

use askama::Template;
use querywarden_domain::roc_date::taipei_date;

use crate::i18n::Messages;
use querywarden_app::auth::SignedIn;

/// The signed-in person's bar in the page header, and what the idle lock needs.
pub struct UserBar {
    pub name: String,
    pub account: String,
    pub csrf: String,
    pub lock_after_ms: i64,
    /// May read the audit trail (ethics auditor, permission administrator).
    pub can_audit: bool,
    /// Permission administrator (權限管理者).
    pub can_admin: bool,
    /// §5 ¶3: a district office's or subordinate agency's applicant, who files Form 3 and
    /// sees only the menus that apply to her (see `querywarden_domain::org::Person::is_external_applicant`).
    pub external: bool,
    /// 個人資料保護聯絡窗口: the citizen access desk.
    pub is_contact: bool,
    /// A unit supervisor (marks §10 withholding) or the ethics office (sees every mark).
    pub sees_withholdings: bool,
}

impl UserBar {
    pub fn of(s: &SignedIn, lock_after_ms: i64) -> Self {
        Self {
            name: s.person.name.clone(),
            account: s.person.account.as_str().to_string(),
            csrf: s.session.csrf_token.clone(),
            lock_after_ms,
            can_audit: querywarden_app::audit::search::AuditReader::for_person(&s.person).is_some(),
            can_admin: s
                .person
                .has_role(querywarden_domain::org::Role::PermissionAdministrator),
            external: s.person.is_external_applicant(),
            is_contact: s
                .person
                .has_role(querywarden_domain::org::Role::PersonalDataContact),
            sees_withholdings: s
                .person
                .has_role(querywarden_domain::org::Role::UnitSupervisor)
                || s.person
                    .has_role(querywarden_domain::org::Role::EthicsAuditor),
        }
    }
}

/// A refusal shown on a form.
pub struct FormError {
    pub code: String,
    pub message: String,
}

impl FormError {
    /// WCAG 3.3.1 (網站無障礙規範): whether the refusal is about a field, so that the page
    /// marks that field `aria-invalid` and points it at the message. `prefixes`: the codes of
    /// the field, `|`-separated (`registration.subject_id|national_id`).
    pub fn is_about(&self, prefixes: &str) -> bool {
        prefixes
            .split('|')
            .any(|p| !p.is_empty() && self.code.starts_with(p))
    }
}

/// Today in Asia/Taipei: the ROC form in Chinese, ISO with the ROC year in English.
fn today_in(m: &Messages) -> String {
    let d = taipei_date(jiff::Timestamp::now());
    if m.is_zh() {
        d.format_long()
    } else {
        d.format_en()
    }
}

/// A row of the demo-account table.
pub struct PersonRow {
    pub account: String,
    pub name: String,
    pub title: String,
    pub unit: String,
    pub roles: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub demo: bool,
    pub people: Vec<PersonRow>,
    pub audit_records: u64,
    pub checkpoint: Option<String>,
}

impl HomePage {
    pub fn new(
        m: Messages,
        user: Option<UserBar>,
        demo: bool,
        people: Vec<PersonRow>,
        audit_records: u64,
        checkpoint: Option<String>,
    ) -> Self {
        let today = today_in(&m);
        Self {
            m,
            user,
            path: "/".into(),
            today,
            demo,
            people,
            audit_records,
            checkpoint,
        }
    }
}

pub struct ItemRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

pub struct BasisRow {
    pub law: String,
    pub article: String,
    pub summary_zh: String,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
pub struct CataloguePage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub items: Vec<ItemRow>,
    pub bases: Vec<BasisRow>,
}

impl CataloguePage {
    pub fn new(m: Messages, items: Vec<ItemRow>, bases: Vec<BasisRow>) -> Self {
        let today = today_in(&m);
        Self {
            m,
            user: None,
            path: "/catalogue".into(),
            today,
            items,
            bases,
        }
    }
}

/// The outcome of one ID check, with only the masked form.
pub struct IdCheckResult {
    pub valid: bool,
    pub kind: String,
    pub masked: String,
    pub reason: String,
    pub code: String,
}

#[derive(Template)]
#[template(path = "idcheck.html")]
pub struct IdCheckPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub result: Option<IdCheckResult>,
}

impl IdCheckPage {
    pub fn new(m: Messages, result: Option<IdCheckResult>) -> Self {
        let today = today_in(&m);
        Self {
            m,
            user: None,
            path: "/tools/national-id".into(),
            today,
            result,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub message: String,
    pub operation_id: String,
    /// The refusal's stable code, for machines (an attribute, not text under the message).
    pub code: String,
}

impl ErrorPage {
    pub fn new(m: Messages, path: &str, message: String, operation_id: String) -> Self {
        let today = today_in(&m);
        Self {
            m,
            user: None,
            path: path.to_string(),
            today,
            message,
            operation_id,
            code: String::new(),
        }
    }

    /// The same page carrying the refusal's code in its `data-code` attribute.
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = code.to_string();
        self
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub demo: bool,
    /// Mutual-TLS sign-in: the card comes with the connection, so the page asks only for
    /// account and password (no card signer, no nonce).
    pub mutual_tls: bool,
    pub account: String,
    pub error: Option<FormError>,
}

impl LoginPage {
    pub fn new(m: Messages, demo: bool, account: String, error: Option<FormError>) -> Self {
        let today = today_in(&m);
        Self {
            m,
            user: None,
            path: "/login".into(),
            today,
            demo,
            mutual_tls: false,
            account,
            error,
        }
    }

    /// The page for the mutual-TLS mode (see [`LoginPage::mutual_tls`]).
    pub fn with_mutual_tls(mut self, on: bool) -> Self {
        self.mutual_tls = on;
        if on {
            self.demo = false;
        }
        self
    }
}

/// The lock screen: no data at all, only the unlock form.
#[derive(Template)]
#[template(path = "locked.html")]
pub struct LockedPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub error: Option<FormError>,
    /// The page that was locked, where unlocking returns (empty: home).
    pub return_to: String,
}

impl LockedPage {
    pub fn new(m: Messages, csrf: String, error: Option<FormError>) -> Self {
        let today = today_in(&m);
        Self {
            m,
            user: None,
            path: "/session/locked".into(),
            today,
            csrf,
            error,
            return_to: String::new(),
        }
    }

    /// Unlocking returns to `path` when it is a page of this site.
    pub fn returning_to(mut self, path: &str) -> Self {
        self.return_to = crate::session::return_path(path)
            .unwrap_or_default()
            .to_string();
        self
    }
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub must_change: bool,
    pub done: bool,
    pub error: Option<FormError>,
}

impl PasswordPage {
    pub fn new(
        m: Messages,
        user: UserBar,
        must_change: bool,
        done: bool,
        error: Option<FormError>,
    ) -> Self {
        let csrf = user.csrf.clone();
        let today = today_in(&m);
        Self {
            m,
            user: Some(user),
            path: "/account/password".into(),
            today,
            csrf,
            must_change,
            done,
            error,
        }
    }
}

/// The search form's values, echoed back.
#[derive(Default, Clone, serde::Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub before: String,
    /// Paging back towards the newest.
    #[serde(default)]
    pub after: String,
}

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
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
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
        let today = today_in(&m);
        let csrf = user.csrf.clone();
        let actions = querywarden_domain::audit_event::AuditAction::ALL
            .iter()
            .map(|a| ActionOption {
                code: a.code(),
                label: crate::admin_pages::action_label(&m, a.code()),
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
            m,
            user: Some(user),
            path: "/audit".into(),
            today,
            csrf,
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
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub result: Option<String>,
    pub row_errors: Vec<String>,
}

impl UsageLogPage {
    pub fn new(m: Messages, user: UserBar) -> Self {
        let today = today_in(&m);
        let csrf = user.csrf.clone();
        Self {
            m,
            user: Some(user),
            path: "/admin/usage-log".into(),
            today,
            csrf,
            result: None,
            row_errors: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "bind_card.html")]
pub struct BindCardPage {
    pub m: Messages,
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
    pub result: Option<String>,
    pub error: Option<FormError>,
}

impl BindCardPage {
    pub fn new(m: Messages, user: UserBar) -> Self {
        let today = today_in(&m);
        let csrf = user.csrf.clone();
        Self {
            m,
            user: Some(user),
            path: "/admin/bind-card".into(),
            today,
            csrf,
            result: None,
            error: None,
        }
    }
}
