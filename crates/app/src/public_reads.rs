//! What anyone may read, signed in or not: the catalogue of service items and legal bases
//! (MISSION.md "the catalogue is data"), the organisation's units, the latest signed
//! checkpoint of the audit trail (a public verification point, §7), the figures of the home
//! page and the state of the revocation lists (§3). None of it carries personal data, except
//! the demo organisation's staff table, which only `querywarden demo` shows (on its own start
//! page, `/demo`).
//!
//! Not security-sensitive beyond that: no rule decides here who may see what.

use jiff::Timestamp;
use querywarden_domain::catalogue::{LegalBasis, ServiceItem};
use querywarden_domain::org::{Person, Unit};

use crate::directory::Directory;
use crate::enrolment::crl::CrlStatus;
use crate::{App, AppError};

/// The service-item catalogue (查調項目), retired entries included and marked.
pub async fn service_items(app: &App) -> Result<Vec<ServiceItem>, AppError> {
    Ok(app.store().service_items().await?)
}

/// The legal-basis catalogue (法令依據), retired entries included and marked.
pub async fn legal_bases(app: &App) -> Result<Vec<LegalBasis>, AppError> {
    Ok(app.store().legal_bases().await?)
}

/// The bureau's units (單位).
pub async fn units(app: &App) -> Result<Vec<Unit>, AppError> {
    Ok(app.store().units().await?)
}

/// The latest signed checkpoint as a C2SP signed note, if one was written yet.
pub async fn latest_checkpoint(app: &App) -> Result<Option<String>, AppError> {
    Ok(app.store().latest_checkpoint().await?.map(|c| c.note))
}

/// A staff member of the demo organisation with their unit's name, for the demo's table of
/// accounts to sign in as.
pub struct DemoAccount {
    pub person: Person,
    pub unit_name: String,
}

/// The demo's start page: its accounts and the password they share.
pub struct DemoStart {
    pub accounts: Vec<DemoAccount>,
    /// The demo cards' password (built without the demo cards: none to show).
    pub password: Option<&'static str>,
}

/// The home page's figures: the public verification point of the audit trail (§7).
pub struct HomeFigures {
    /// How many records the audit trail holds.
    pub audit_records: u64,
    /// The latest checkpoint's signed note.
    pub checkpoint: Option<String>,
}

/// The home page's figures (see [`HomeFigures`]).
pub async fn home_figures(app: &App) -> Result<HomeFigures, AppError> {
    let (audit_records, _) = app.store().audit_extent().await?;
    Ok(HomeFigures {
        audit_records,
        checkpoint: latest_checkpoint(app).await?,
    })
}

/// The demo's start page, or `None` unless the server runs as `querywarden demo`: a real
/// bureau's staff list is not shown to whoever opens a page.
pub async fn demo_start(app: &App) -> Result<Option<DemoStart>, AppError> {
    if !app.config().demo {
        return Ok(None);
    }
    let directory = Directory::load(app.store()).await?;
    let accounts = directory
        .persons
        .values()
        .map(|person| DemoAccount {
            unit_name: directory.unit_name(&person.unit),
            person: person.clone(),
        })
        .collect();
    #[cfg(feature = "demo")]
    let password = Some(crate::demo_cards::DEMO_PASSWORD);
    #[cfg(not(feature = "demo"))]
    let password = None;
    Ok(Some(DemoStart { accounts, password }))
}

/// §3: each revocation list in force, its age and next update (none when nobody can sign in).
pub fn revocation_lists(app: &App, now: Timestamp) -> Vec<CrlStatus> {
    app.auth()
        .map(|ctx| crate::enrolment::crl::status(ctx, now))
        .unwrap_or_default()
}
