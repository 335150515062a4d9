//! Use cases: one function, one transaction, one audit record each (STYLE rule 5).
//!
//! The web and CLI layers call into [`App`]; nothing here knows HTTP. Time is read here (the
//! domain never reads a clock) and passed down.

pub mod acting;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod binding;
pub mod calendar;
pub mod catalogue;
pub mod citizen_report;
pub mod config;
pub mod copy;
pub mod custody;
pub mod demo;
#[cfg(feature = "demo")]
pub mod demo_cards;
#[cfg(feature = "demo")]
pub mod demo_grants;
#[cfg(feature = "demo")]
pub mod demo_history;
pub mod directory;
pub mod documents;
pub mod enrolment;
mod error;
pub mod execution;
pub mod grants;
pub mod jobs;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod mine;
pub mod operator;
pub mod oversight;
pub mod permission;
pub mod registration;
pub mod request;
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod usage_log;
pub mod worklist;
// The web's doors: sign-in and session, public reads, the administrator's pages.
pub mod administration;
pub mod public_reads;
pub mod session;

use std::sync::Arc;

use jiff::Timestamp;
use querywarden_storage::{PendingMigrations, Readiness, Store};

pub use config::{Config, ConfigError};
pub use error::{AppError, BoxError, Refusal, UseCaseError};
pub use keys::{KeyError, KeyRing};

/// The running application: storage, keys and configuration.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    keys: KeyRing,
    config: Config,
    /// Trust anchors and sign-in policies; absent only when no trust anchors are configured
    /// (then nobody can sign in).
    auth: Option<auth::AuthContext>,
    /// The grants, as the registration desk reads them.
    grants: grants::StoreGrants,
    /// Staff and restricted-list digests for the snooping checks, from
    /// `registration.staff_ids` and `registration.restricted_list`.
    screen: registration::ScreenList,
    /// The BLI connector of connected mode (`bli.mode = "connected"`), shared by requests.
    connector: Option<querywarden_bli::HttpConnector>,
    /// What `/metrics` reports (request counts and latencies, job outcomes).
    metrics: metrics::Metrics,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("data_dir", &self.inner.config.data_dir)
            .finish_non_exhaustive()
    }
}

/// A fresh operation id for work the system starts by itself.
pub fn new_request_id() -> String {
    let mut b = [0u8; 8];
    // An id that is not random is still an id; failing to get entropy must not stop logging.
    let _ = getrandom::getrandom(&mut b);
    hex::encode(b)
}

/// Opens the database of `config`, applying pending migrations only when
/// `storage.auto_migrate` allows; any failure names the database's location (never a
/// password).
async fn open_store(config: &Config) -> Result<Store, AppError> {
    let pending = if config.auto_migrate {
        PendingMigrations::Apply
    } else {
        PendingMigrations::Refuse
    };
    Store::open_url(&config.database_url(), config.max_read_connections, pending)
        .await
        .map_err(|source| AppError::DatabaseOpen {
            location: database_location(config),
            source,
        })
}

/// Where the database of `config` is, as people may read it (no password).
pub fn database_location(config: &Config) -> String {
    match config.database_file() {
        Some(file) => file.display().to_string(),
        None => querywarden_storage::redact_location(&config.database_url()),
    }
}

/// Reads the snooping lists into a screen of keyed digests (current HMAC key); each ID in
/// clear lives only for the moment it is digested.
fn screen_list(
    files: &config::ScreenFiles,
    keys: &KeyRing,
) -> Result<registration::ScreenList, ConfigError> {
    let mut screen = registration::ScreenList::new();
    if let Some(path) = &files.restricted_list {
        config::read_id_list("registration.restricted_list", path, |id| {
            screen.add_restricted(keys, id)
        })?;
    }
    if let Some(path) = &files.staff_ids {
        config::read_id_list("registration.staff_ids", path, |id| {
            screen.add_staff_id(keys, id)
        })?;
    }
    let (staff, restricted) = screen.counts();
    tracing::info!(staff, restricted, "snooping lists loaded");
    Ok(screen)
}

impl App {
    /// Opens (creating on first run) the data directory, database and keys, and seeds the
    /// bureau's units and catalogues if the database is new.
    pub async fn open(config: Config) -> Result<App, AppError> {
        let now = Timestamp::now();
        let store = open_store(&config).await?;
        let keys = KeyRing::open_or_create(&config.key_dir, now)?;
        demo::initialise(&store, now, &new_request_id()).await?;
        let auth = match config.auth.trust_anchors {
            Some(_) => Some(auth::AuthContext::from_files(&config)?),
            None => None,
        };
        // §3: the lists fetched or imported earlier are in force from the start.
        if let Some(ctx) = &auth {
            ctx.replace_crls(enrolment::crl::load_set(&config, &store).await?);
        }
        let screen = screen_list(&config.screen_files, &keys)?;
        let connector = match config.bli.mode {
            config::BliMode::Connected => Some(config::bli_connector(&config.bli)?),
            config::BliMode::Portal => None,
        };
        Ok(App {
            inner: Arc::new(Inner {
                grants: grants::StoreGrants::new(store.clone()),
                screen,
                store,
                keys,
                config,
                auth,
                connector,
                metrics: metrics::Metrics::new(),
            }),
        })
    }

    /// What `/metrics` counts; the web layer adds each request, the scheduler each job run.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// Counts one attempt against its rate limit (§3).
    pub fn admit(
        &self,
        what: limits::Limited,
        key: &str,
        now: Timestamp,
    ) -> querywarden_domain::rate_limit::Admission {
        match &self.inner.auth {
            Some(ctx) => ctx.limits.admit(what, key, now),
            // Nobody can sign in, so nobody reaches a limited action.
            None => querywarden_domain::rate_limit::Admission::Admitted,
        }
    }

    /// The storage, for the app's own use cases only: web and the CLI go through use cases
    /// (STYLE rule 4), so this is not public outside tests.
    #[cfg(not(feature = "testing"))]
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The storage, for tests that set up or inspect rows directly (feature `testing`, which
    /// only dev-dependencies turn on).
    #[cfg(feature = "testing")]
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The first and last sequence numbers of the audit trail.
    pub async fn audit_extent(&self) -> Result<(u64, u64), AppError> {
        Ok(self.inner.store.audit_extent().await?)
    }

    /// Whether the demo should write its quarter of history: only on a database that holds no
    /// staff yet.
    #[cfg(feature = "demo")]
    pub async fn demo_history_wanted(&self) -> Result<bool, AppError> {
        demo_history::wanted(&self.inner.store).await
    }

    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn auth(&self) -> Option<&auth::AuthContext> {
        self.inner.auth.as_ref()
    }

    /// `[enrolment]`: how long codes live and how guessing is limited.
    pub fn enrolment_settings(&self) -> enrolment::CodeSettings {
        enrolment::CodeSettings::from_config(&self.inner.config.enrolment)
    }

    /// The registration desk for one request: store, keys, `[registration]`
    /// settings, the grants and the snooping screen.
    pub fn desk(&self) -> registration::Desk<'_, grants::StoreGrants> {
        registration::Desk {
            store: &self.inner.store,
            keys: &self.inner.keys,
            settings: &self.inner.config.registration,
            grants: &self.inner.grants,
            screen: &self.inner.screen,
        }
    }

    /// The BLI connector, in connected mode only.
    pub fn connector(&self) -> Option<&querywarden_bli::HttpConnector> {
        self.inner.connector.as_ref()
    }

    pub async fn readiness(&self) -> Readiness {
        self.inner.store.readiness().await
    }

    /// Adds the demo organisation (idempotent).
    pub async fn seed_demo(&self) -> Result<bool, AppError> {
        let seeded = demo::seed_demo(self.store(), Timestamp::now(), &new_request_id()).await?;
        self.checkpoint_if_due(false).await?;
        Ok(seeded)
    }

    /// Writes a signed checkpoint if the policy says one is due (or `force`).
    pub async fn checkpoint_if_due(&self, force: bool) -> Result<(), AppError> {
        audit::checkpoint_if_due(
            self.store(),
            self.keys(),
            &self.config().audit,
            Timestamp::now(),
            force,
        )
        .await?;
        Ok(())
    }

    /// `querywarden audit verify`.
    pub async fn verify_audit_trail(&self) -> Result<audit::VerifyReport, AppError> {
        Ok(audit::verify(self.store(), self.keys()).await?)
    }

    /// [`App::verify_audit_trail`] telling `progress` the sequence number reached.
    pub async fn verify_audit_trail_with_progress(
        &self,
        progress: audit::Progress,
    ) -> Result<audit::VerifyReport, AppError> {
        Ok(audit::verify_with_progress(self.store(), self.keys(), Some(progress)).await?)
    }

    /// Exports records `from..=to` with proofs against a fresh checkpoint; the export is
    /// itself audited.
    pub async fn export_audit_trail(&self, from: u64, to: u64) -> Result<String, AppError> {
        use querywarden_domain::audit_event::{AuditAction, AuditEvent};
        let mut tx = self.store().begin().await?;
        tx.append_audit(
            &AuditEvent::system(
                Timestamp::now(),
                AuditAction::AuditTrailExported,
                new_request_id(),
            )
            .on("audit_trail", format!("{from}-{to}"))
            .detail("from", from)
            .detail("to", to),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint_if_due(true).await?;
        audit::export::export(self.store(), from, to).await
    }

    pub async fn close(&self) {
        self.inner.store.close().await;
    }
}
