//! The home area's view models (templates `home.html`, `catalogue.html`, `idcheck.html`).

use askama::Template;

use crate::i18n::Messages;
use crate::templates::{UserBar, today_in};

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
