//! Storage: the one place that speaks SQL.
//!
//! The public surface takes and returns domain types only — no `sqlx` type leaks out — so a
//! PostgreSQL backend can be added beside SQLite without touching the domain, app or web
//! crates. Writes happen in a [`WriteTx`]: one per use case, with its audit record appended
//! inside it (STYLE rule 5), committed together or not at all.
//!
//! Security-sensitive: holds the audit trail; see `audit` for its append-only rules.

mod acting;
mod audit;
mod auth;
mod backup;
mod builder;
mod calendar;
mod citizen_report;
mod copy;
mod decode;
mod enrolment;
mod error;
mod fetch;
mod form3;
mod location;
mod mail;
mod notice;
mod org;
mod oversight;
mod permission;
pub mod pg_testing;
#[cfg(test)]
mod pg_tests;
#[cfg(test)]
mod plans;
mod registration;
mod sqlite;
mod unannounced_audit;
mod usage;

pub use audit::{
    AuditFilter, AuditReceipt, AuditVisitor, CheckpointRow, ScanRecord, StoredAuditRecord,
};
pub use auth::{CertificateBinding, Credentials, NonceCheck, SessionRow};
pub use backup::{FileCounts, backup_database, check_database_file};
pub use calendar::CalendarYearRow;
pub use citizen_report::{CitizenRequestRow, NewCitizenRequest, WithholdingRow};
pub use copy::CopiedTable;
pub use enrolment::{CrlFetchRow, EnrolmentCodeRow, NewEnrolmentCode, PersonIdentity, StoredCrl};
pub use error::StorageError;
pub use form3::{ClosedSubjectRow, SignOffRow};
pub use location::redact_location;
pub use mail::{MailDigestRow, MailPreferenceRow};
pub use notice::NoticeRow;
pub use org::{NewPerson, PostHolder};
pub use oversight::{
    ApprovalRow, ExecutionFactRow, FindingRow, NewFinding, NewViolation, OperatorUsageRow,
    ReviewRow, UnitActivityRow, UsageFactRow, ViolationRow,
};
pub use permission::{DisableReason, NewGrant, StaffChangeRow, StaffChangeSource};
pub use registration::{
    DecisionKind, DestructionRow, ExecutionMode, ExecutionOutcome, ExecutionRow, HeldSubject,
    MaskedSubject, NewDecision, NewExecution, NewQueryRequest, NewRegistration, NewResult,
    PrintRow, QueryRequestRow, RegistrationFilter, RequestState, RequestSubjectRow, ResultRow,
    SealedBlob,
};
pub use sqlite::{
    AppliedMigration, Backend, JobLease, PendingMigrations, Readiness, Store, TEST_BACKEND_VAR,
    WriteTx, newest_known_version,
};

/// The database every statement is written for: sqlx's `Any`, which speaks to SQLite or
/// PostgreSQL as the store was opened (one SQL dialect for both, see `sqlite`).
pub(crate) type Db = sqlx::Any;
/// A row of [`Db`].
pub(crate) type DbRow = sqlx::any::AnyRow;
pub use unannounced_audit::{AuditDocumentRow, NewAudit, NewAuditDocument};
pub use usage::PlatformUsageRow;
