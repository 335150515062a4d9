//! The permission area's one door for the web layer (§2, Form 1): every use case and every read
//! the permission pages, the JSON API and SCIM need, through [`App::permissions`]. The handlers
//! never see the store; each read here carries its own authorisation — a capability
//! ([`AdministratorDesk`], [`SupervisorDesk`]) where one is needed, the signed-in person's own
//! id otherwise.
//!
//! Security-sensitive: this module only routes to the use cases of [`super`], [`super::staff`]
//! and [`super::recertification`], which hold the rules and audit every refusal; the reads added
//! here ([`PermissionService::directory`], [`PermissionService::disabled_accounts`]) show no
//! national ID and no subject's data.

use std::collections::BTreeMap;

use querywarden_domain::org::{Account, Person, PersonId};
use querywarden_domain::permission::recertification::{
    RecertificationDecision, RecertificationItem, RecertificationRound, RoundId,
};
use querywarden_domain::permission::{
    AdministratorDesk, ApplicationForm, ApplicationId, GrantId, PermissionApplication,
    StepDecision, SupervisorDesk,
};
use querywarden_domain::roc_date::RocDate;
use querywarden_storage::Store;
use serde_json::Value;

use super::recertification as recert;
use super::staff::{self, ScimError, ScimUserResult, StaffImportError, StaffImportReport};
use super::{
    GrantChanges, GrantFilter, GrantView, InboxEntry, Op, PermissionError, PermissionPolicy,
};
use crate::App;
use crate::directory::Directory;
use crate::keys::KeyRing;

/// What the personnel-change reads return, named for the web layer (which has no storage).
pub use querywarden_storage::{NoticeRow, StaffChangeRow};

/// What the applicant may do with their own Form 1 once written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicantAct {
    /// 送出: sign and send it to the unit supervisor.
    Submit,
    /// 撤回: take it back before the last step.
    Withdraw,
}

impl ApplicantAct {
    /// The `?done=` notice of the page after the act.
    pub fn done(self) -> &'static str {
        match self {
            Self::Submit => "submitted",
            Self::Withdraw => "withdrawn",
        }
    }
}

/// The permission use cases of one running [`App`]: its store, keys and `[permission]` policy.
#[derive(Clone, Copy)]
pub struct PermissionService<'a> {
    store: &'a Store,
    keys: &'a KeyRing,
    policy: &'a PermissionPolicy,
}

impl App {
    /// The permission area's use cases and reads (§2).
    pub fn permissions(&self) -> PermissionService<'_> {
        PermissionService {
            store: self.store(),
            keys: self.keys(),
            policy: &self.config().permission,
        }
    }
}

impl PermissionService<'_> {
    /// The `[permission]` policy in force.
    pub fn policy(&self) -> &PermissionPolicy {
        self.policy
    }

    // -- Form 1 applications ------------------------------------------------------------------

    /// The signed-in person's own applications, oldest first.
    pub async fn applications_of(
        &self,
        person: PersonId,
    ) -> Result<Vec<PermissionApplication>, PermissionError> {
        super::applications_of(self.store, person).await
    }

    /// See [`super::waiting_for`].
    pub async fn waiting_for(
        &self,
        apps: &[PermissionApplication],
        today: RocDate,
    ) -> Result<Vec<Option<super::Awaited>>, PermissionError> {
        super::waiting_for(self.store, self.policy, apps, today).await
    }

    /// See [`super::application_for_viewer`].
    pub async fn application_for_viewer(
        &self,
        viewer: PersonId,
        id: ApplicationId,
        op: &Op,
    ) -> Result<PermissionApplication, PermissionError> {
        super::application_for_viewer(self.store, self.policy, viewer, id, op).await
    }

    /// Writes a new Form 1 (`None`) as a draft, or amends draft or returned application `id`.
    pub async fn save_application(
        &self,
        applicant: PersonId,
        id: Option<ApplicationId>,
        form: ApplicationForm,
        op: &Op,
    ) -> Result<PermissionApplication, PermissionError> {
        match id {
            None => super::create_application(self.store, self.keys, applicant, form, op).await,
            Some(id) => {
                super::amend_application(self.store, self.keys, applicant, id, form, op).await
            }
        }
    }

    /// The applicant's act on their own application `id`: submit it (also a resubmission,
    /// see [`super::submit_application`]) or withdraw it ([`super::withdraw_application`]).
    pub async fn act_as_applicant(
        &self,
        applicant: PersonId,
        id: ApplicationId,
        act: ApplicantAct,
        op: &Op,
    ) -> Result<PermissionApplication, PermissionError> {
        match act {
            ApplicantAct::Submit => super::submit_application(self.store, applicant, id, op).await,
            ApplicantAct::Withdraw => {
                super::withdraw_application(self.store, applicant, id, op).await
            }
        }
    }

    /// The pending step of application `id` decided by `person`: the capability first
    /// ([`super::approver_at_step`], refusals audited), then the decision itself.
    pub async fn decide_step(
        &self,
        person: PersonId,
        id: ApplicationId,
        decision: StepDecision,
        op: &Op,
    ) -> Result<(PermissionApplication, GrantChanges), PermissionError> {
        let cap = super::approver_at_step(self.store, self.policy, person, id, op).await?;
        super::decide_step(self.store, &cap, decision, op).await
    }

    /// The applications waiting for `person` to decide, with reminder flags.
    pub async fn inbox(
        &self,
        person: PersonId,
        today: RocDate,
    ) -> Result<Vec<InboxEntry>, PermissionError> {
        super::inbox(self.store, self.policy, person, today).await
    }

    // -- Grants and desks ---------------------------------------------------------------------

    /// The signed-in person's own grants.
    pub async fn my_grants(
        &self,
        person: PersonId,
        today: RocDate,
    ) -> Result<Vec<GrantView>, PermissionError> {
        super::my_grants(self.store, person, today).await
    }

    /// See [`super::administrator_desk`] (a refusal is audited).
    pub async fn administrator_desk(
        &self,
        person: PersonId,
        op: &Op,
    ) -> Result<AdministratorDesk, PermissionError> {
        super::administrator_desk(self.store, self.policy, person, op).await
    }

    /// See [`super::supervisor_desk`] (a refusal is audited).
    pub async fn supervisor_desk(
        &self,
        person: PersonId,
        op: &Op,
    ) -> Result<SupervisorDesk, PermissionError> {
        super::supervisor_desk(self.store, self.policy, person, op).await
    }

    /// The administrator's overview of all grants.
    pub async fn grant_overview(
        &self,
        desk: &AdministratorDesk,
        filter: &GrantFilter,
        today: RocDate,
    ) -> Result<Vec<GrantView>, PermissionError> {
        super::grant_overview(self.store, desk, filter, today).await
    }

    /// Names of staff, units and service items, for a signed-in person who exists (the pages
    /// show colleagues' names and accounts, never their national IDs).
    pub async fn directory(&self, viewer: PersonId) -> Result<Directory, PermissionError> {
        // The directory holds every staff record, so it answers whether the viewer exists.
        let directory = Directory::load(self.store).await?;
        if !directory.persons.contains_key(&viewer) {
            return Err(PermissionError::NotFound("人員"));
        }
        Ok(directory)
    }

    // -- Personnel changes (§2) ---------------------------------------------------------------

    /// The signed-in person's unread personnel-change notices.
    pub async fn unread_notices(
        &self,
        person: PersonId,
    ) -> Result<Vec<NoticeRow>, PermissionError> {
        staff::unread_notices(self.store, person).await
    }

    /// The recipient marks notice `notice` read.
    pub async fn mark_notice_read(
        &self,
        person: PersonId,
        notice: i64,
        op: &Op,
    ) -> Result<(), PermissionError> {
        staff::mark_notice_read(self.store, person, notice, op).await
    }

    /// Upcoming changes of the supervisor's staff.
    pub async fn upcoming_staff_changes(
        &self,
        desk: &SupervisorDesk,
        today: RocDate,
    ) -> Result<Vec<(Person, StaffChangeRow)>, PermissionError> {
        staff::upcoming_staff_changes(self.store, desk, today).await
    }

    /// The staff CSV import (all or nothing).
    pub async fn import_staff_csv(
        &self,
        desk: &AdministratorDesk,
        text: &str,
        op: &Op,
    ) -> Result<StaffImportReport, StaffImportError> {
        staff::import_staff_csv(self.store, desk, text, op).await
    }

    /// Audits a SCIM request turned away before validation.
    pub async fn scim_refused(&self, code: &str, op: &Op) -> Result<(), PermissionError> {
        staff::scim_refused(self.store, code, None, op).await
    }

    /// Creates or changes the SCIM User of an authenticated HR system.
    pub async fn scim_put_user(
        &self,
        payload: &Value,
        op: &Op,
    ) -> Result<ScimUserResult, ScimError> {
        staff::scim_put_user(self.store, payload, op).await
    }

    // -- Recertification and accounts ---------------------------------------------------------

    /// The supervisor's rounds.
    pub async fn recertification_rounds(
        &self,
        desk: &SupervisorDesk,
    ) -> Result<Vec<RecertificationRound>, PermissionError> {
        recert::recertification_rounds(self.store, desk).await
    }

    /// The supervisor's own round with its lines.
    pub async fn recertification_round(
        &self,
        desk: &SupervisorDesk,
        round: RoundId,
        op: &Op,
    ) -> Result<(RecertificationRound, Vec<RecertificationItem>), PermissionError> {
        recert::recertification_round(self.store, desk, round, op).await
    }

    /// Opens this quarter's round.
    pub async fn open_recertification(
        &self,
        desk: &SupervisorDesk,
        op: &Op,
    ) -> Result<(RecertificationRound, Vec<RecertificationItem>), PermissionError> {
        recert::open_recertification(self.store, self.policy, desk, op).await
    }

    /// Confirms or denies one line of a round.
    pub async fn decide_recertification(
        &self,
        desk: &SupervisorDesk,
        round: RoundId,
        grant: GrantId,
        decision: RecertificationDecision,
        op: &Op,
    ) -> Result<(), PermissionError> {
        recert::decide_recertification(self.store, desk, round, grant, decision, op).await
    }

    /// Closes a round; the grants not confirmed are suspended.
    pub async fn close_recertification(
        &self,
        desk: &SupervisorDesk,
        round: RoundId,
        op: &Op,
    ) -> Result<Vec<GrantId>, PermissionError> {
        recert::close_recertification(self.store, desk, round, op).await
    }

    /// The disabled accounts and why, for the administrator's desk.
    pub async fn disabled_accounts(
        &self,
        _desk: &AdministratorDesk,
    ) -> Result<BTreeMap<PersonId, String>, PermissionError> {
        Ok(self.store.disabled_accounts().await?)
    }

    /// Re-enables the account named `account` (an unknown account: `NotFound`); whether it was
    /// disabled.
    pub async fn enable_account(
        &self,
        desk: &AdministratorDesk,
        account: &Account,
        op: &Op,
    ) -> Result<bool, PermissionError> {
        let person = self
            .store
            .person_by_account(account)
            .await?
            .ok_or(PermissionError::NotFound("帳號"))?;
        recert::enable_account(self.store, desk, person.id, op).await
    }
}
