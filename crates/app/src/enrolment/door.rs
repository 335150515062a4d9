//! The enrolment area's one door for the web (§3): the permission administrator's desk
//! (issuing codes, the units CSV, revocation lists and their status) and a person's
//! enrolment with a code and their own card. Desk actions take the [`AdministratorDesk`]
//! capability, which only [`Enrolment::administrator_desk`] hands out; handlers never see the
//! store.

use jiff::Timestamp;
use querywarden_domain::audit_event::Actor;
use querywarden_domain::enrolment::{CodePurpose, EnrolmentRefusal, RowError};
use querywarden_domain::org::Role;
use querywarden_domain::permission::AdministratorDesk;
use querywarden_storage::CrlFetchRow;

use super::codes::{self, EnrolRequest, Enrolled, IssuedCode};
use super::crl::{self, CrlStatus, Imported};
use super::units::{self, UnitsReport};
use crate::auth::{AuthFailure, SignedIn};
use crate::permission::{Op, PermissionError};
use crate::{App, AppError};

/// The enrolment use cases, bound to the running application.
#[derive(Clone, Copy)]
pub struct Enrolment<'a> {
    app: &'a App,
}

impl App {
    /// The enrolment area's door (§3).
    pub fn enrolment(&self) -> Enrolment<'_> {
        Enrolment { app: self }
    }
}

impl Enrolment<'_> {
    /// The permission administrator's desk for `who`, or why not. A storage failure is an
    /// `Err(AppError)`, never "not the administrator".
    pub async fn administrator_desk(
        &self,
        who: &SignedIn,
        op: &Op,
    ) -> Result<Result<AdministratorDesk, PermissionError>, AppError> {
        match crate::permission::administrator_desk(
            self.app.store(),
            &self.app.config().permission,
            who.person.id,
            op,
        )
        .await
        {
            Ok(d) => Ok(Ok(d)),
            Err(PermissionError::App(e)) => Err(e),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Issues an enrolment or reset code (shown once).
    pub async fn issue_code(
        &self,
        desk: &AdministratorDesk,
        account: &str,
        purpose: CodePurpose,
        reason: &str,
        now: Timestamp,
        request_id: &str,
    ) -> Result<Result<IssuedCode, EnrolmentRefusal>, AppError> {
        codes::issue_code(
            self.app.store(),
            desk,
            &self.app.enrolment_settings(),
            account,
            purpose,
            reason,
            now,
            request_id,
        )
        .await
    }

    /// A person enrols with a code and their own card; `None` when no trust anchors are
    /// configured (nobody can enrol).
    pub async fn enrol(
        &self,
        req: EnrolRequest,
        now: Timestamp,
    ) -> Result<Option<Result<Enrolled, AuthFailure>>, AppError> {
        let Some(ctx) = self.app.auth() else {
            return Ok(None);
        };
        codes::enrol(
            self.app.store(),
            ctx,
            &self.app.enrolment_settings(),
            req,
            now,
        )
        .await
        .map(Some)
    }

    /// The revocation lists in force and the recent fetches, for the desk.
    pub async fn crl_status(
        &self,
        _desk: &AdministratorDesk,
        now: Timestamp,
    ) -> Result<(Vec<CrlStatus>, Vec<CrlFetchRow>), AppError> {
        let lists = self
            .app
            .auth()
            .map(|ctx| crl::status(ctx, now))
            .unwrap_or_default();
        Ok((lists, self.app.store().crl_fetches().await?))
    }

    /// The organisation CSV; any bad row changes nothing (refusal audited).
    pub async fn import_units(
        &self,
        desk: &AdministratorDesk,
        text: &str,
        op: &Op,
    ) -> Result<Result<UnitsReport, Vec<RowError>>, AppError> {
        units::import_units(self.app.store(), desk, text, op).await
    }

    /// §3: a revocation list uploaded on the desk, checked, kept and put in force at once;
    /// `None` when no trust anchors are configured.
    pub async fn import_crl(
        &self,
        desk: &AdministratorDesk,
        bytes: &[u8],
        now: Timestamp,
        request_id: &str,
    ) -> Result<Option<Result<Imported, AuthFailure>>, AppError> {
        let Some(ctx) = self.app.auth() else {
            return Ok(None);
        };
        let by = Actor {
            person: desk.person(),
            role: Some(Role::PermissionAdministrator),
        };
        let outcome = crl::import(
            self.app.store(),
            &ctx.anchors,
            bytes,
            "file",
            Some(by),
            now,
            request_id,
        )
        .await?;
        if outcome.is_ok() {
            crl::reload(self.app).await?;
        }
        Ok(Some(outcome))
    }
}
