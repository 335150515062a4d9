//! What the administrator's and the auditor's pages accept, as typed input, and its
//! conversion to the use cases' types (accounts, dates, national IDs) at the edge.

use jiff::Timestamp;
use querywarden_app::audit::search::AuditQuery;
use querywarden_app::catalogue::CatalogueChange;
use querywarden_domain::NationalId;
use querywarden_domain::audit_event::AuditAction;
use querywarden_domain::org::Account;
use querywarden_domain::roc_date::{DateField, RocDate};
use serde::Deserialize;

use crate::i18n::Messages;
use crate::templates::FormError;

/// The search form's values, echoed back.
#[derive(Default, Clone, Deserialize)]
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

fn bad(code: &str, message: String) -> FormError {
    FormError {
        code: code.to_string(),
        message,
    }
}

/// A field's text, unless it is blank.
fn text(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

impl AuditForm {
    /// The search the form asks for, or which field is wrong.
    pub fn query(&self, m: &Messages) -> Result<AuditQuery, FormError> {
        let mut q = AuditQuery {
            limit: 50,
            ..Default::default()
        };
        if let Some(a) = text(&self.action) {
            let action = AuditAction::parse_code(a).ok_or_else(|| {
                bad(
                    "audit.action",
                    m.either(
                        || "請從清單選擇動作".into(),
                        || "choose an action from the list".into(),
                    ),
                )
            })?;
            q.action = Some(action.code().to_string());
        }
        if let Some(p) = text(&self.person) {
            q.person = Some(Account::parse(p).map_err(|e| bad("audit.person", e.to_string()))?);
        }
        let today = querywarden_domain::roc_date::taipei_date(Timestamp::now());
        let date = |s: &str, code: &str| {
            RocDate::parse_field(s, DateField::SearchBound, today)
                .map_err(|e| bad(code, m.explain(&e)))
        };
        if let Some(d) = text(&self.from) {
            q.from = Some(date(d, "audit.from")?);
        }
        if let Some(d) = text(&self.until) {
            q.until = Some(date(d, "audit.until")?);
        }
        if let Some(o) = text(&self.object) {
            let (t, id) = o.split_once(':').ok_or_else(|| {
                bad(
                    "audit.object",
                    "物件格式為 類型:編號，例如 registration:115-000012".into(),
                )
            })?;
            q.object = Some((t.to_string(), id.to_string()));
        }
        if let Some(s) = text(&self.subject) {
            q.subject = Some(NationalId::parse(s).map_err(|e| bad(e.code(), m.explain(&e)))?);
        }
        let cursor = |s: &str| {
            s.parse()
                .map_err(|_| bad("audit.before", "分頁參數錯誤".into()))
        };
        if let Some(b) = text(&self.before) {
            q.before = Some(cursor(b)?);
        }
        if let Some(a) = text(&self.after) {
            q.after = Some(cursor(a)?);
        }
        Ok(q)
    }
}

/// `GET /admin/catalogue?notice=changed`.
#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: Option<String>,
}

/// The catalogue page's form: the operation and its fields, as in [`CatalogueChange`].
#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    law: String,
    #[serde(default)]
    article: String,
    #[serde(default)]
    summary_zh: String,
    #[serde(default)]
    kind: String,
}

impl ChangeForm {
    /// The change the form asks for; `None` for an operation the page does not offer.
    pub fn change(self) -> Option<CatalogueChange> {
        let Self {
            op,
            code,
            name_zh,
            name_en,
            law,
            article,
            summary_zh,
            kind,
            ..
        } = self;
        Some(match op.as_str() {
            "add_item" => CatalogueChange::AddItem {
                code,
                name_zh,
                name_en,
            },
            "rename_item" => CatalogueChange::RenameItem {
                code,
                name_zh,
                name_en,
            },
            "retire_item" => CatalogueChange::RetireItem { code },
            "add_basis" => CatalogueChange::AddBasis {
                id: code,
                law,
                article,
                summary_zh,
                kind,
            },
            "rename_basis" => CatalogueChange::RenameBasis {
                id: code,
                law,
                article,
                summary_zh,
            },
            "retire_basis" => CatalogueChange::RetireBasis { id: code },
            _ => return None,
        })
    }
}

// The posted forms carry the session's CSRF token, checked by `crate::input::CsrfForm` (§3).
crate::input::carries_csrf!(ChangeForm);
