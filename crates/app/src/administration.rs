//! The administrator's and the auditor's pages as use cases: reading the audit trail (§7,
//! §8), importing the BLI platform's usage log (§7), loading the office calendar (行政程序法
//! §48), binding cards (§3) and changing the catalogue (MISSION.md "the catalogue is data").
//!
//! Security-sensitive: each page's door is a capability made here from the person's roles; a
//! person without it is refused and the refusal recorded (§9) before the page says no.

use jiff::Timestamp;
use querywarden_domain::audit_event::Actor;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::permission::AdministratorDesk;
use querywarden_domain::roc_date::RocDate;
use querywarden_storage::CalendarYearRow;

use crate::audit::search::{self, AuditQuery, AuditReader, AuditResults, StoredAuditRecord};
use crate::auth::{AuthFailure, SignedIn};
use crate::calendar::{self, CalendarLoaded, CalendarRefusal};
use crate::catalogue::{self, CatalogueChange, CatalogueRefusal};
use crate::permission::{Op, PermissionError};
use crate::usage_log::{self, UsageImportReport};
use crate::{App, AppError};

/// The permission administrator (權限管理者), proven by role: the door of the usage-log and
/// calendar pages. Only [`administrator`] makes one.
pub struct Administrator {
    person: Person,
}

/// `who` as the permission administrator; anyone else is refused with `refusal_code` (the
/// page's own code, e.g. `usage_log.not_administrator`) and the refusal recorded.
pub async fn administrator(
    app: &App,
    who: &SignedIn,
    refusal_code: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Option<Administrator>, AppError> {
    if who.person.has_role(Role::PermissionAdministrator) {
        return Ok(Some(Administrator {
            person: who.person.clone(),
        }));
    }
    crate::session::refuse(app, who, refusal_code, now, request_id).await?;
    Ok(None)
}

/// §7, §8: `who` as a reader of the audit trail (ethics auditor or permission administrator);
/// anyone else is refused (`audit.not_reader`) and the refusal recorded.
pub async fn audit_reader(
    app: &App,
    who: &SignedIn,
    now: Timestamp,
    request_id: &str,
) -> Result<Option<AuditReader>, AppError> {
    if let Some(reader) = AuditReader::for_person(&who.person) {
        return Ok(Some(reader));
    }
    crate::session::refuse(app, who, "audit.not_reader", now, request_id).await?;
    Ok(None)
}

/// One page of the records `query` matches; the search is itself recorded.
pub async fn search_audit_trail(
    app: &App,
    reader: &AuditReader,
    query: &AuditQuery,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<AuditResults, AuthFailure>, AppError> {
    search::search_page(app.store(), app.keys(), reader, query, now, request_id).await
}

/// Every record `query` matches, for a CSV file; the export is itself recorded.
pub async fn export_audit_trail(
    app: &App,
    reader: &AuditReader,
    query: &AuditQuery,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<Vec<StoredAuditRecord>, AuthFailure>, AppError> {
    search::export(app.store(), app.keys(), reader, query, now, request_id).await
}

/// The staff the trail names as actors, for the reader to see who acted (the trail itself
/// holds only their ids).
pub async fn trail_actors(app: &App, _reader: &AuditReader) -> Result<Vec<Person>, AppError> {
    Ok(app.store().persons().await?)
}

/// §7: imports a usage-log export from the BLI platform. The inner `Err` lists every bad row
/// (nothing was imported); either way the import is recorded.
pub async fn import_usage_log(
    app: &App,
    admin: &Administrator,
    text: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<UsageImportReport, Vec<querywarden_bli::usage_log::RowError>>, AppError> {
    usage_log::import(
        app.store(),
        app.keys(),
        &app.config().bli.usage_log_columns,
        Some(Actor {
            person: admin.person.id,
            role: Some(Role::PermissionAdministrator),
        }),
        text,
        now,
        request_id,
    )
    .await
}

/// The office calendar as the administrator's page shows it.
pub struct CalendarOverview {
    /// The official years loaded, and when.
    pub years: Vec<CalendarYearRow>,
    /// Next year, from October on, when its table is not loaded yet.
    pub missing_next_year: Option<i16>,
}

/// The calendar years loaded and whether next year's is missing on `today`.
pub async fn calendar_overview(
    app: &App,
    _admin: &Administrator,
    today: RocDate,
) -> Result<CalendarOverview, AppError> {
    let cal = calendar::current(app.store()).await?;
    Ok(CalendarOverview {
        missing_next_year: calendar::missing_next_year(&cal, today),
        years: calendar::loaded_years(app.store()).await?,
    })
}

/// Loads one year's official calendar table. The inner `Err` is a refusal, already recorded.
pub async fn import_calendar(
    app: &App,
    admin: &Administrator,
    text: &str,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<CalendarLoaded, CalendarRefusal>, AppError> {
    calendar::import_csv(app.store(), Some(&admin.person), text, now, request_id).await
}

/// §3: the administrator's desk for binding cards, from the permission rules. `None` when the
/// rules refuse (the refusal is recorded by the rules) or the person is not on the roster; a
/// failure of the system is an error, never "not an administrator".
pub async fn card_binding_desk(
    app: &App,
    who: &SignedIn,
    now: Timestamp,
    request_id: &str,
) -> Result<Option<AdministratorDesk>, AppError> {
    let op = Op::new(now, request_id.to_string());
    match crate::permission::administrator_desk(
        app.store(),
        &app.config().permission,
        who.person.id,
        &op,
    )
    .await
    {
        Ok(desk) => Ok(Some(desk)),
        Err(PermissionError::App(e)) => Err(e),
        // A refusal (recorded), a person the roster does not know; a conflict cannot arise
        // from a read.
        Err(PermissionError::Refused(_) | PermissionError::NotFound(_))
        | Err(PermissionError::Conflict) => Ok(None),
    }
}

/// Applies one catalogue change for `who`, who must be the permission administrator (the use
/// case decides and records either way).
pub async fn change_catalogue(
    app: &App,
    who: &Person,
    change: &CatalogueChange,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<(), CatalogueRefusal>, AppError> {
    catalogue::change(app.store(), who, change, now, request_id).await
}
