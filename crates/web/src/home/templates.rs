//! The home area's view models (templates `home.html`, `demo.html`, `catalogue.html`,
//! `idcheck.html`).

use askama::Template;

use crate::i18n::Messages;
use crate::templates::{Frame, UserBar};

/// A row of the demo-account table.
pub struct PersonRow {
    pub account: String,
    pub name: String,
    pub title: String,
    pub unit: String,
    pub roles: String,
}

/// One thing waiting for the signed-in person, as the home page lists it.
pub struct WorkRow {
    /// The task's stable code (`approve_registration`, …), for machines.
    pub code: &'static str,
    /// What it is, in words.
    pub what: String,
    /// The registration, form or case number, and where to act on it.
    pub reference: String,
    pub href: String,
    /// Since when it waits (ROC date).
    pub since: String,
    /// The deadline (ROC date), or words saying the rules set none.
    pub due: String,
    /// The working days left, in words (empty without a deadline).
    pub left: String,
    /// Past its deadline.
    pub overdue: bool,
    /// Due today or within three working days.
    pub near: bool,
}

/// An unread notice on the home page.
pub struct NoticeLine {
    pub id: i64,
    pub at: String,
    pub what: String,
    pub about: String,
}

/// What the signed-in person sees on the home page.
pub struct Waiting {
    pub rows: Vec<WorkRow>,
    pub notices: Vec<NoticeLine>,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub m: Messages,
    pub frame: Frame,
    /// Signed in: the worklist; signed out: `None` (the page explains the system).
    pub waiting: Option<Waiting>,
    /// `querywarden demo`: a link to the demo's start page (with its accounts).
    pub demo: bool,
    pub audit_records: u64,
    pub checkpoint: Option<String>,
}

impl HomePage {
    pub fn new(
        m: Messages,
        user: Option<UserBar>,
        waiting: Option<Waiting>,
        demo: bool,
        audit_records: u64,
        checkpoint: Option<String>,
    ) -> Self {
        Self {
            frame: Frame::of(&m, user, "/"),
            m,
            waiting,
            demo,
            audit_records,
            checkpoint,
        }
    }
}

/// The demo's start page (`/demo`, only under `querywarden demo`): the accounts to try and
/// how to sign in with the demo card.
#[derive(Template)]
#[template(path = "demo.html")]
pub struct DemoPage {
    pub m: Messages,
    pub frame: Frame,
    pub people: Vec<PersonRow>,
    pub password: String,
}

impl DemoPage {
    pub fn new(
        m: Messages,
        user: Option<UserBar>,
        people: Vec<PersonRow>,
        password: String,
    ) -> Self {
        Self {
            frame: Frame::of(&m, user, "/demo"),
            m,
            people,
            password,
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
    pub frame: Frame,
    pub items: Vec<ItemRow>,
    pub bases: Vec<BasisRow>,
}

impl CataloguePage {
    pub fn new(
        m: Messages,
        user: Option<UserBar>,
        items: Vec<ItemRow>,
        bases: Vec<BasisRow>,
    ) -> Self {
        Self {
            frame: Frame::of(&m, user, "/catalogue"),
            m,
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
    pub frame: Frame,
    pub result: Option<IdCheckResult>,
}

impl IdCheckPage {
    pub fn new(m: Messages, user: Option<UserBar>, result: Option<IdCheckResult>) -> Self {
        Self {
            frame: Frame::of(&m, user, "/tools/national-id"),
            m,
            result,
        }
    }
}
