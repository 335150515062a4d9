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
    /// What waits for the person, counted by menu entry (this request's worklist).
    pub counts: crate::home::nav::NavCounts,
    /// §5 ¶1: the unit whose deputy (代理人) this unit supervisor registers — their own.
    pub deputy_unit: Option<String>,
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
            counts: crate::home::nav::NavCounts::current(),
            deputy_unit: (s
                .person
                .has_role(querywarden_domain::org::Role::UnitSupervisor)
                && !s.person.is_external_applicant())
            .then(|| s.person.unit.as_str().to_string()),
        }
    }
}

impl UserBar {
    /// The bar of `s`, with the idle-lock delay of this server's configuration (§3).
    pub fn for_page(state: &crate::AppState, s: &SignedIn) -> Self {
        Self::of(s, crate::pages::lock_after_ms(state))
    }
}

/// What the layout shows around every page, built once per request: the signed-in person's
/// bar (none when nobody is signed in), the page's path (the language switch and the lock
/// form return to it), today's date for the footer, and the session's CSRF token that the
/// page's forms carry. Every page's view model holds one as `frame`.
pub struct Frame {
    pub user: Option<UserBar>,
    pub path: String,
    pub today: String,
    pub csrf: String,
}

impl Frame {
    /// The frame of `path` with `user`'s bar, if any; the token is the bar's.
    pub fn of(m: &Messages, user: Option<UserBar>, path: impl Into<String>) -> Self {
        Self {
            csrf: user.as_ref().map(|u| u.csrf.clone()).unwrap_or_default(),
            user,
            path: path.into(),
            today: today_in(m),
        }
    }

    /// The frame of `path` for the signed-in `who`, with the idle-lock delay of this server.
    pub fn signed_in(
        state: &crate::AppState,
        who: &SignedIn,
        m: &Messages,
        path: impl Into<String>,
    ) -> Self {
        Self::of(m, Some(UserBar::for_page(state, who)), path)
    }

    /// The frame of `path` when nobody is signed in: no bar, no token.
    pub fn signed_out(m: &Messages, path: impl Into<String>) -> Self {
        Self::of(m, None, path)
    }
}

/// A refusal shown on a form.
pub struct FormError {
    pub code: String,
    pub message: String,
}

impl FormError {
    /// A refusal with its stable code, in the reader's language.
    pub fn refusal(m: &Messages, r: &impl querywarden_domain::Explained) -> Self {
        Self {
            code: r.code().to_string(),
            message: m.explain(r),
        }
    }

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
pub fn today_in(m: &Messages) -> String {
    m.date(taipei_date(jiff::Timestamp::now()))
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub m: Messages,
    pub frame: Frame,
    pub message: String,
    pub operation_id: String,
    /// The refusal's stable code, for machines (an attribute, not text under the message).
    pub code: String,
}

impl ErrorPage {
    pub fn new(m: Messages, path: &str, message: String, operation_id: String) -> Self {
        Self {
            frame: Frame::signed_out(&m, path),
            m,
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

    /// The page as the answer, with `status`.
    pub fn answer(
        &self,
        status: axum::http::StatusCode,
        op: &crate::OperationId,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        (status, crate::pages::render(self, op)).into_response()
    }
}
