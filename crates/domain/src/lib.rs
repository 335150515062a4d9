//! querywarden's domain: plain types and rules with no I/O.
//!
//! Nothing here reads a clock, a file, a database or the network: time, ids and catalogues
//! come in as arguments, which is what makes every rule exhaustively testable.

pub mod audit_event;
pub mod auth;
pub mod catalogue;
pub mod citizen_report;
pub mod deadline;
pub mod declare;
pub mod enrolment;
pub mod explained;
pub mod national_id;
pub mod org;
pub mod oversight;
pub mod permission;
pub mod person_name;
pub mod policy;
pub mod rate_limit;
pub mod registration;
pub mod retention;
pub mod roc_date;
pub mod snooping;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use explained::Explained;
pub use national_id::{NationalId, NationalIdError, NationalIdKind};
