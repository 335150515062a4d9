//! The operator's use cases: what the `querywarden` subcommands do on the host (init, imports,
//! key rotation, audit reading, citizen reports, the demo). Each is one call into the same use
//! case the web path uses, with the same audit record (STYLE rules 4 and 5), so the CLI needs
//! no storage handle of its own. The clock is read here, as for the web.
//!
//! Security-sensitive where the underlying use case is: key rotation (§7: the old key's work
//! is sealed by a checkpoint before it is retired) and audit reading (§7: reading the trail is
//! itself recorded).

use jiff::Timestamp;
use querywarden_bli::usage_log::RowError as UsageRowError;
use querywarden_domain::citizen_report::StaffShown;
use querywarden_domain::enrolment::RowError as UnitRowError;
use querywarden_domain::org::{Account, Person, PersonId, Role};
use querywarden_domain::permission::AdministratorDesk;
use querywarden_storage::{CalendarYearRow, CrlFetchRow, StoredAuditRecord};

use crate::audit::search::{AuditQuery, AuditReader};
use crate::auth::AuthFailure;
use crate::calendar::{CalendarLoaded, CalendarRefusal};
use crate::citizen_report::{CitizenReport, Refusal as CitizenRefusal, Stamp};
use crate::enrolment::crl::Imported;
use crate::enrolment::init::{InitOutcome, InitRefusal, InitRequest};
use crate::enrolment::units::UnitsReport;
use crate::permission::staff::{StaffImportError, StaffImportReport};
use crate::permission::{Op, PermissionError};
use crate::usage_log::UsageImportReport;
use crate::{App, AppError, KeyRing, new_request_id};

impl App {
    /// The person a command acts as: the account named (`--as`), or else the first person
    /// holding `role`. `None` if there is no such person.
    pub async fn person_acting_as(
        &self,
        account: Option<&Account>,
        role: Role,
    ) -> Result<Option<Person>, AppError> {
        Ok(match account {
            Some(a) => self.store().person_by_account(a).await?,
            None => self
                .store()
                .persons()
                .await?
                .into_iter()
                .find(|p| p.has_role(role)),
        })
    }

    /// `querywarden init`: the first administrator and deputy with their enrolment codes.
    pub async fn initialise(
        &self,
        request: &InitRequest,
    ) -> Result<Result<InitOutcome, InitRefusal>, AppError> {
        crate::enrolment::init::init(
            self.store(),
            self.keys(),
            &self.enrolment_settings(),
            request,
            Timestamp::now(),
            &new_request_id(),
        )
        .await
    }

    /// `querywarden keys rotate` (§7): seals what the old key signed with a checkpoint,
    /// rotates the key files, reopens, records `key.rotated` with the new verifier key and
    /// seals that with a checkpoint too. Consumes this app (its keys are retired); returns the
    /// reopened app and the new ring.
    pub async fn rotate_keys(self) -> Result<(App, KeyRing), AppError> {
        use querywarden_domain::audit_event::{AuditAction, AuditEvent};
        self.checkpoint_if_due(true).await?;
        let config = self.config().clone();
        self.close().await;
        let now = Timestamp::now();
        let keys = KeyRing::rotate(&config.key_dir, now)?;
        let app = App::open(config).await?;
        let mut tx = app.store().begin().await?;
        tx.append_audit(
            &AuditEvent::system(now, AuditAction::KeyRotated, new_request_id())
                .detail("signing_key", keys.signer().verifier().to_vkey()),
        )
        .await?;
        tx.commit().await?;
        app.checkpoint_if_due(true).await?;
        Ok((app, keys))
    }

    /// The latest signed checkpoint's note (C2SP signed note), if any.
    pub async fn latest_checkpoint_note(&self) -> Result<Option<String>, AppError> {
        Ok(self.store().latest_checkpoint().await?.map(|c| c.note))
    }

    /// `querywarden audit search`: the operator reads the trail; §7: the reading is itself
    /// recorded, the subject only as its digest.
    pub async fn search_audit_as_operator(
        &self,
        query: &AuditQuery,
    ) -> Result<Result<Vec<StoredAuditRecord>, AuthFailure>, AppError> {
        crate::audit::search::search(
            self.store(),
            self.keys(),
            &AuditReader::operator(),
            query,
            Timestamp::now(),
            &new_request_id(),
        )
        .await
    }

    /// The permission administrator's desk for `person` (§2), refused and audited if they
    /// do not hold the role.
    pub async fn administrator_desk(
        &self,
        person: PersonId,
    ) -> Result<AdministratorDesk, PermissionError> {
        crate::permission::administrator_desk(
            self.store(),
            &self.config().permission,
            person,
            &Op::new(Timestamp::now(), new_request_id()),
        )
        .await
    }

    /// `querywarden units import`: units, supervisors and deputies, all or nothing.
    pub async fn import_units(
        &self,
        desk: &AdministratorDesk,
        text: &str,
        op: &Op,
    ) -> Result<Result<UnitsReport, Vec<UnitRowError>>, AppError> {
        crate::enrolment::units::import_units(self.store(), desk, text, op).await
    }

    /// `querywarden staff import`: HR's roster (§2), all or nothing.
    pub async fn import_staff(
        &self,
        desk: &AdministratorDesk,
        text: &str,
        op: &Op,
    ) -> Result<StaffImportReport, StaffImportError> {
        crate::permission::staff::import_staff_csv(self.store(), desk, text, op).await
    }

    /// `querywarden calendar import`: an official year's calendar (人事行政總處), by the
    /// system (no person).
    pub async fn import_calendar(
        &self,
        text: &str,
    ) -> Result<Result<CalendarLoaded, CalendarRefusal>, AppError> {
        crate::calendar::import_csv(
            self.store(),
            None,
            text,
            Timestamp::now(),
            &new_request_id(),
        )
        .await
    }

    /// The official calendar years loaded so far.
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYearRow>, AppError> {
        crate::calendar::loaded_years(self.store()).await
    }

    /// `querywarden usage-log import`: the platform's usage log (§7), by the system.
    pub async fn import_usage_log(
        &self,
        text: &str,
    ) -> Result<Result<UsageImportReport, Vec<UsageRowError>>, AppError> {
        crate::usage_log::import(
            self.store(),
            self.keys(),
            &self.config().bli.usage_log_columns,
            None,
            text,
            Timestamp::now(),
            &new_request_id(),
        )
        .await
    }

    /// `querywarden crl import FILE` (§3): a revocation list from a file, kept only if a
    /// trust anchor signed it. `None` when no trust anchors are configured.
    pub async fn import_crl_file(
        &self,
        bytes: &[u8],
    ) -> Result<Option<Result<Imported, AuthFailure>>, AppError> {
        let Some(ctx) = self.auth() else {
            return Ok(None);
        };
        crate::enrolment::crl::import(
            self.store(),
            &ctx.anchors,
            bytes,
            "file",
            None,
            Timestamp::now(),
            &new_request_id(),
        )
        .await
        .map(Some)
    }

    /// `querywarden crl refresh` (§3): fetches the configured addresses now; returns how many
    /// lists were replaced and every address's last attempt.
    pub async fn refresh_crls(&self) -> Result<(usize, Vec<CrlFetchRow>), AppError> {
        let replaced =
            crate::enrolment::crl::refresh(self, Timestamp::now(), &new_request_id()).await?;
        Ok((replaced, self.store().crl_fetches().await?))
    }

    /// `querywarden citizen report` (個人資料保護法 §10): the same use case as the contact
    /// officer's page, audited the same way.
    pub async fn produce_citizen_report(
        &self,
        contact: &Person,
        request_no: &str,
        staff_shown: StaffShown,
    ) -> Result<Result<CitizenReport, CitizenRefusal>, AppError> {
        let request_id = new_request_id();
        crate::citizen_report::produce_report(
            self.store(),
            self.keys(),
            &self.config().audit,
            contact,
            request_no,
            staff_shown,
            Stamp {
                now: Timestamp::now(),
                request_id: &request_id,
            },
        )
        .await
    }

    /// `querywarden demo`: demo cards bound to the demo accounts, their trust files under
    /// `data_dir`, and grants for the demo queriers.
    #[cfg(feature = "demo")]
    pub async fn set_up_demo(&self, data_dir: &std::path::Path) -> Result<(), AppError> {
        crate::demo_cards::set_up_demo_sign_in(
            self.store(),
            data_dir,
            Timestamp::now(),
            &new_request_id(),
        )
        .await?;
        crate::demo_grants::grant_demo_queriers(
            self.store(),
            self.keys(),
            &self.config().permission,
            Timestamp::now(),
            &new_request_id(),
        )
        .await?;
        Ok(())
    }
}
