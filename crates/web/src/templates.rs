//! Page view models for the askama templates in `templates/`. Templates are checked at
//! compile time; every string people read comes from the message catalogue.

use askama::Template;
use querywarden_domain::roc_date::taipei_date;

use crate::i18n::Messages;

fn today() -> String {
    taipei_date(jiff::Timestamp::now()).format_long()
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
        demo: bool,
        people: Vec<PersonRow>,
        audit_records: u64,
        checkpoint: Option<String>,
    ) -> Self {
        Self {
            m,
            path: "/".into(),
            today: today(),
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
    pub path: String,
    pub today: String,
    pub items: Vec<ItemRow>,
    pub bases: Vec<BasisRow>,
}

impl CataloguePage {
    pub fn new(m: Messages, items: Vec<ItemRow>, bases: Vec<BasisRow>) -> Self {
        Self {
            m,
            path: "/catalogue".into(),
            today: today(),
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
    pub path: String,
    pub today: String,
    pub result: Option<IdCheckResult>,
}

impl IdCheckPage {
    pub fn new(m: Messages, result: Option<IdCheckResult>) -> Self {
        Self {
            m,
            path: "/tools/national-id".into(),
            today: today(),
            result,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub m: Messages,
    pub path: String,
    pub today: String,
    pub message: String,
    pub operation_id: String,
}

impl ErrorPage {
    pub fn new(m: Messages, path: &str, message: String, operation_id: String) -> Self {
        Self {
            m,
            path: path.to_string(),
            today: today(),
            message,
            operation_id,
        }
    }
}
