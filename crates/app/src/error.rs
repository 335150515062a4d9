//! [`AppError`]: the application layer's one error enum (STYLE rule 7). Each variant names
//! what failed and keeps its cause as `source()`; [`AppError::code`] is the stable code the web
//! layer maps in one place (`querywarden_web::error`) and logs with the operation id.
//!
//! Security-sensitive in one way: no message holds personal data (a national ID or a
//! subject's name); variants name the kind of thing that failed, never its value.

use querywarden_storage::StorageError;

use crate::audit;
use crate::auth;
use crate::config::ConfigError;
use crate::keys::KeyError;

/// A cause of any kind, kept as the source of an [`AppError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the application layer. Messages are for operators and logs; the web layer turns
/// them into safe zh-TW text with an operation id. Each variant names what failed and keeps its
/// cause as `source()`; `Debug` prints the whole cause chain. No message holds personal data
/// (a national ID or a subject's name): variants name the kind of thing, never its value.
#[derive(thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The database could not be opened at start (missing or unwritable directory, a damaged
    /// file, a schema from another build, a server that does not answer). The location is
    /// written without any password (`querywarden_storage::redact_location`).
    #[error("無法開啟資料庫 / cannot open the database at {location}")]
    DatabaseOpen {
        location: String,
        #[source]
        source: StorageError,
    },
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("audit ledger: {0}")]
    Ledger(#[from] querywarden_ledger::LedgerError),
    #[error(transparent)]
    Auth(#[from] auth::AuthFailure),
    #[error(transparent)]
    Export(#[from] audit::export::ExportError),
    /// The seed data shipped with the binary (units, catalogues, the holiday calendar) or the
    /// demo organisation, CA and grants could not be set up.
    #[error("seed data is invalid: {what}{}", .source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
    Seed {
        what: String,
        #[source]
        source: Option<BoxError>,
    },
    /// A value could not be encoded as JSON for storage, a report or an export.
    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A stored value does not parse back (its JSON, date or state code).
    #[error("stored {what} is unreadable: {source}")]
    Unreadable {
        what: &'static str,
        #[source]
        source: BoxError,
    },
    /// Stored rows contradict each other (a row its invariant says must exist is missing).
    #[error("stored data is inconsistent: {what}")]
    Inconsistent { what: &'static str },
    /// A yearly numbering series (registration or request numbers) ran past its range.
    #[error("the {series} numbering series is exhausted")]
    NumberingExhausted { series: &'static str },
    /// The operating system's random source failed (tokens, nonces, salts, codes).
    #[error("the system random source failed: {0}")]
    Randomness(#[source] getrandom::Error),
    /// Argon2 could not hash a password.
    #[error("password hashing failed: {0}")]
    PasswordHash(#[source] argon2::password_hash::Error),
    /// A blocking worker (password hashing) panicked or was cancelled.
    #[error("a blocking worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// `auth.trust_anchors` or an `auth.crl_files` entry could not be read or parsed at start.
    #[error("cannot load {setting} from {path}: {source}", path = .path.display())]
    AuthFiles {
        setting: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: BoxError,
    },
    /// The HTTP client for fetching CRLs (§3) could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// A BLI request could not be built under its permit (§5).
    #[error(transparent)]
    BliRequest(#[from] querywarden_bli::QueryRequestError),
}

impl AppError {
    /// The stable code logged with the operation id and shown in an API error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Storage(e) => e.code(),
            Self::DatabaseOpen { source, .. } => source.code(),
            Self::Keys(_) => "keys.error",
            Self::Config(e) => e.code(),
            Self::Ledger(_) => "audit.ledger",
            Self::Export(_) => "audit.export",
            Self::Auth(_) => "auth.failure",
            Self::Seed { .. } => "seed.invalid",
            Self::Encode { .. } => "data.encode",
            Self::Unreadable { .. } => "data.unreadable",
            Self::Inconsistent { .. } => "data.inconsistent",
            Self::NumberingExhausted { .. } => "numbering.exhausted",
            Self::Randomness(_) => "system.randomness",
            Self::PasswordHash(_) => "auth.password_hash",
            Self::Worker(_) => "system.worker",
            Self::AuthFiles { .. } => "config.auth_files",
            Self::HttpClient(_) => "system.http_client",
            Self::BliRequest(e) => e.code(),
        }
    }

    /// A failure setting up seed or demo data, keeping its cause.
    pub fn seed(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Seed {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// Stored `what` that does not parse back.
    pub fn unreadable(what: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Unreadable {
            what,
            source: source.into(),
        }
    }

    /// `what` that could not be encoded as JSON.
    pub fn encode(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Self::Encode { what, source }
    }
}

/// The message, then every cause in turn, so a log line written with `?` shows why.
impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut cause = std::error::Error::source(self);
        if cause.is_some() {
            write!(f, "\n\nCaused by:")?;
        }
        while let Some(c) = cause {
            write!(f, "\n    {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_error() -> serde_json::Error {
        serde_json::from_str::<serde_json::Value>("{").unwrap_err()
    }

    #[test]
    fn a_seed_failure_is_seed_invalid() {
        assert_eq!(
            AppError::seed("holiday calendar", json_error()).code(),
            "seed.invalid"
        );
    }

    #[test]
    fn an_encoding_failure_is_data_encode() {
        assert_eq!(
            AppError::encode("review report")(json_error()).code(),
            "data.encode"
        );
    }

    #[test]
    fn an_unreadable_stored_value_is_data_unreadable() {
        assert_eq!(
            AppError::unreadable("result", json_error()).code(),
            "data.unreadable"
        );
    }

    #[test]
    fn contradicting_rows_are_data_inconsistent() {
        let e = AppError::Inconsistent {
            what: "no audit checkpoint",
        };
        assert_eq!(e.code(), "data.inconsistent");
    }

    #[test]
    fn an_exhausted_number_series_is_numbering_exhausted() {
        let e = AppError::NumberingExhausted {
            series: "registration",
        };
        assert_eq!(e.code(), "numbering.exhausted");
    }

    #[test]
    fn a_random_source_failure_is_system_randomness() {
        assert_eq!(
            AppError::Randomness(getrandom::Error::UNSUPPORTED).code(),
            "system.randomness"
        );
    }

    #[test]
    fn a_hashing_failure_is_auth_password_hash() {
        let e = AppError::PasswordHash(argon2::password_hash::Error::Password);
        assert_eq!(e.code(), "auth.password_hash");
    }

    #[tokio::test]
    async fn a_failed_worker_is_system_worker() {
        let join = tokio::task::spawn(async { std::future::pending::<()>().await });
        join.abort();
        let e = AppError::from(join.await.unwrap_err());
        assert_eq!(e.code(), "system.worker");
    }

    #[test]
    fn an_unloadable_trust_file_is_config_auth_files() {
        let e = AppError::AuthFiles {
            setting: "auth.trust_anchors",
            path: "/etc/querywarden/anchors.pem".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound).into(),
        };
        assert_eq!(e.code(), "config.auth_files");
    }

    #[test]
    fn an_http_client_that_cannot_be_built_is_system_http_client() {
        // An unparseable proxy address fails with the builder's error type.
        let e = AppError::HttpClient(reqwest::Proxy::all("http://[::1").unwrap_err());
        assert_eq!(e.code(), "system.http_client");
    }

    #[test]
    fn a_request_outside_the_permit_is_bli_request_not_permitted() {
        let item = querywarden_domain::catalogue::ServiceItemCode::parse("C0101").unwrap();
        let e = AppError::from(querywarden_bli::QueryRequestError::NotPermitted(item));
        assert_eq!(e.code(), "bli.request_not_permitted");
    }

    #[test]
    fn debug_prints_the_cause_chain() {
        let e = AppError::AuthFiles {
            setting: "auth.crl_files",
            path: "/etc/querywarden/moica.crl".into(),
            source: std::io::Error::other(AppError::Inconsistent {
                what: "inner cause",
            })
            .into(),
        };
        let shown = format!("{e:?}");
        assert!(shown.starts_with("cannot load auth.crl_files from /etc/querywarden/moica.crl"));
        assert!(shown.contains("Caused by:"), "{shown}");
        assert!(
            shown.contains("stored data is inconsistent: inner cause"),
            "{shown}"
        );
    }
}

/// A rule's refusal of a use case (a permission step, an unannounced audit): explained like
/// every refusal, with the codes its family of use cases gives a missing record and a lost race.
pub trait Refusal: std::error::Error + querywarden_domain::Explained {
    /// The family's code for a record that does not exist (`permission.not_found`).
    const NOT_FOUND: &'static str;
    /// The family's code for a record changed by someone else meanwhile.
    const CONFLICT: &'static str;
}

querywarden_domain::explained!(
    ref crate::mail::MailRefusal,
    crate::acting::DeputyRefusal,
    crate::catalogue::CatalogueRefusal,
    crate::citizen_report::Refusal,
    crate::documents::DocumentError,
);

/// Why a use case of a family with its own refusals did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError<R> {
    /// A rule refused it; code and zh-TW message are safe to show. Audited.
    #[error(transparent)]
    Refused(R),
    #[error("找不到{0}")]
    NotFound(&'static str),
    /// Someone changed the record between reading and writing (e.g. two approvers, or a
    /// double click); nothing was written.
    #[error("資料已被他人變更，請重新整理後再試")]
    Conflict,
    #[error(transparent)]
    App(#[from] AppError),
}

impl<R> From<StorageError> for UseCaseError<R> {
    fn from(e: StorageError) -> Self {
        Self::App(AppError::Storage(e))
    }
}

impl<R> From<crate::custody::CustodyError> for UseCaseError<R> {
    fn from(e: crate::custody::CustodyError) -> Self {
        Self::App(e.into())
    }
}

impl<R: Refusal> UseCaseError<R> {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(r) => r.code(),
            Self::NotFound(_) => R::NOT_FOUND,
            Self::Conflict => R::CONFLICT,
            Self::App(e) => e.code(),
        }
    }

    /// The refusal, if a rule refused.
    pub fn refusal(&self) -> Option<&R> {
        match self {
            Self::Refused(r) => Some(r),
            _ => None,
        }
    }
}

/// Records `refusal` of `event` (with the rule that refused) in a transaction of its own, and
/// answers it as the use case's error.
pub(crate) async fn refused<T, R: Refusal>(
    store: &querywarden_storage::Store,
    event: querywarden_domain::audit_event::AuditEvent,
    refusal: R,
) -> Result<T, UseCaseError<R>> {
    crate::audit::record_rule_refusal(store, event, refusal.code()).await?;
    Err(UseCaseError::Refused(refusal))
}

/// Declares the error of a family of use cases whose rules refuse with `$refusal`: a
/// [`UseCaseError`] whose missing-record and conflict codes are `$family.not_found` and
/// `$family.conflict`.
macro_rules! use_case_error {
    ($(#[$meta:meta])* $vis:vis $error:ident($refusal:ty), $family:literal) => {
        $(#[$meta])*
        $vis type $error = $crate::UseCaseError<$refusal>;

        impl From<$refusal> for $error {
            fn from(r: $refusal) -> Self {
                Self::Refused(r)
            }
        }

        impl $crate::Refusal for $refusal {
            const NOT_FOUND: &'static str = concat!($family, ".not_found");
            const CONFLICT: &'static str = concat!($family, ".conflict");
        }
    };
}
pub(crate) use use_case_error;
