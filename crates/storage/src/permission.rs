//! Permission rows (§2, Form 1): applications and their sign-offs, form-number counters,
//! grants, personnel changes, recertification rounds, and disabled accounts.
//!
//! Security-sensitive: grants decide who may query. The applicant's national ID is kept only as
//! a keyed HMAC and a masked form (no encryption facility exists yet; see the migration).
//! State changes of an application are conditional on the state the caller read, so two
//! approvers (or a double submission) racing cannot both win.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use querywarden_domain::audit_event::SubjectDigest;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{PersonId, StaffStatus, UnitId};
use querywarden_domain::permission::personnel::StaffChange;
use querywarden_domain::permission::recertification::{
    Quarter, RecertificationDecision, RecertificationItem, RecertificationRound, RoundId,
};
use querywarden_domain::permission::{
    ApplicationId, ApplicationKind, ApplicationState, Confirmations, FormNumber, GrantId,
    GrantStatus, PermissionApplication, PermissionGrant, Step, StepOutcome, StepRecord,
    SuspensionCause,
};
use querywarden_domain::roc_date::RocDate;

use crate::decode::{coded, decode, opt_roc, opt_ts, roc, roc_text, ts, unfold_rows};
use crate::error::StorageError;
use crate::fetch::{Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

fn step(s: &str) -> Result<Step, StorageError> {
    coded("step", s, Step::parse_code)
}

/// A grant to create; the database assigns the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub person: PersonId,
    pub item: ServiceItemCode,
    pub effective_from: RocDate,
    pub application: ApplicationId,
}

querywarden_domain::code_enum! {
    /// Where a personnel change came from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum StaffChangeSource {
        Csv = "csv";
        Scim = "scim";
    }
}

/// A personnel change as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffChangeRow {
    pub id: i64,
    pub change: StaffChange,
    pub to_title: String,
    pub source: String,
    pub recorded_at: Timestamp,
    pub applied: bool,
}

querywarden_domain::code_enum! {
    /// Why an account is disabled.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DisableReason {
        /// Not used for N days (資通系統防護基準 1-1-3).
        Idle = "idle";
        /// The person left (§2).
        Left = "left";
    }
}

impl WriteTx {
    /// The next form number of `roc_year` (`115-0001`, `115-0002`, …).
    pub async fn next_form_number(&mut self, roc_year: i16) -> Result<FormNumber, StorageError> {
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO form_number_counters (roc_year, last_seq) VALUES ($1, 1) \
             ON CONFLICT (roc_year) DO UPDATE SET last_seq = form_number_counters.last_seq + 1 RETURNING last_seq",
        )
        .bind(i64::from(roc_year))
        .one_in(self).await?;
        decode(
            "form number",
            FormNumber::new(roc_year, u32::try_from(seq).unwrap_or(0)),
        )
    }

    /// Stores a new application (its `id` is ignored) with its items; returns the id.
    pub async fn insert_application(
        &mut self,
        app: &PermissionApplication,
        now: Timestamp,
    ) -> Result<ApplicationId, StorageError> {
        let (step, text, eff) = state_columns(&app.state);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO permission_applications (roc_year, seq, application_date, applicant_id, kind, \
             unit_id, title, name, reason, national_id_hmac, hmac_key_id, national_id_masked, phone, \
             email, egov_account, read_pdpa_and_rules, has_certificate_and_reader, state, state_step, \
             state_text, effective_from, round, step_since, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) RETURNING id",
        )
        .bind(i64::from(app.form_number.roc_year()))
        .bind(i64::from(app.form_number.seq()))
        .bind(roc_text(app.application_date))
        .bind(app.applicant.get())
        .bind(app.kind.code())
        .bind(app.unit.as_str())
        .bind(&app.title)
        .bind(&app.name)
        .bind(&app.reason)
        .bind(&app.national_id_digest.hex)
        .bind(&app.national_id_digest.key_id)
        .bind(&app.national_id_masked)
        .bind(&app.phone)
        .bind(&app.email)
        .bind(&app.egov_account)
        .bind(i64::from(app.confirmations.read_pdpa_and_rules))
        .bind(i64::from(app.confirmations.has_certificate_and_reader))
        .bind(app.state.code())
        .bind(step)
        .bind(text)
        .bind(eff)
        .bind(i64::from(app.round))
        .bind(app.step_since.map(|t| t.to_string()))
        .bind(now.to_string())
        .bind(now.to_string())
        .one_in(self).await?;
        let id = ApplicationId::new(id);
        self.replace_items(id, &app.items).await?;
        Ok(id)
    }

    async fn replace_items(
        &mut self,
        id: ApplicationId,
        items: &BTreeSet<ServiceItemCode>,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM permission_application_items WHERE application_id = $1")
            .bind(id.get())
            .execute_in(self)
            .await?;
        for item in items {
            sqlx::query(
                "INSERT INTO permission_application_items (application_id, item) VALUES ($1, $2)",
            )
            .bind(id.get())
            .bind(item.as_str())
            .execute_in(self)
            .await?;
        }
        Ok(())
    }

    /// Replaces the applicant-written fields of a draft or returned application. Returns false
    /// (and changes nothing) if it is no longer a draft or returned.
    pub async fn update_application_form(
        &mut self,
        app: &PermissionApplication,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let changed = sqlx::query(
            "UPDATE permission_applications SET kind = $1, reason = $2, national_id_hmac = $3, \
             hmac_key_id = $4, national_id_masked = $5, phone = $6, email = $7, egov_account = $8, \
             read_pdpa_and_rules = $9, has_certificate_and_reader = $10, updated_at = $11 \
             WHERE id = $12 AND state IN ('draft', 'returned')",
        )
        .bind(app.kind.code())
        .bind(&app.reason)
        .bind(&app.national_id_digest.hex)
        .bind(&app.national_id_digest.key_id)
        .bind(&app.national_id_masked)
        .bind(&app.phone)
        .bind(&app.email)
        .bind(&app.egov_account)
        .bind(i64::from(app.confirmations.read_pdpa_and_rules))
        .bind(i64::from(app.confirmations.has_certificate_and_reader))
        .bind(now.to_string())
        .bind(app.id.get())
        .changed_in(self)
        .await?;
        if !changed {
            return Ok(false);
        }
        self.replace_items(app.id, &app.items).await?;
        Ok(true)
    }

    /// Moves an application from the state (and round) the caller read to `new`. Returns false
    /// and changes nothing if someone else changed it first.
    #[allow(
        clippy::too_many_arguments,
        reason = "an optimistic state change needs both the old and the new state"
    )]
    pub async fn set_application_state(
        &mut self,
        id: ApplicationId,
        expected: &ApplicationState,
        expected_round: u32,
        new: &ApplicationState,
        new_round: u32,
        step_since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let (old_step, _, _) = state_columns(expected);
        let (step, text, eff) = state_columns(new);
        sqlx::query(
            "UPDATE permission_applications SET state = $1, state_step = $2, state_text = $3, \
             effective_from = $4, round = $5, step_since = $6, updated_at = $7 \
             WHERE id = $8 AND state = $9 AND round = $10 AND state_step IS NOT DISTINCT FROM $11",
        )
        .bind(new.code())
        .bind(step)
        .bind(text)
        .bind(eff)
        .bind(i64::from(new_round))
        .bind(step_since.map(|t| t.to_string()))
        .bind(now.to_string())
        .bind(id.get())
        .bind(expected.code())
        .bind(i64::from(expected_round))
        .bind(old_step)
        .changed_in(self)
        .await
    }

    /// Records one sign-off (append-only; a second sign-off of the same step and round fails).
    pub async fn insert_application_step(
        &mut self,
        id: ApplicationId,
        rec: &StepRecord,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO permission_application_steps (application_id, round, step, decided_by, \
             decided_at, outcome, effective_from, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.get())
        .bind(i64::from(rec.round))
        .bind(rec.step.code())
        .bind(rec.by.get())
        .bind(rec.at.to_string())
        .bind(rec.outcome.code())
        .bind(rec.effective_from.map(roc_text))
        .bind(&rec.comment)
        .execute_in(self)
        .await?;
        Ok(())
    }

    pub async fn insert_grant(
        &mut self,
        g: &NewGrant,
        now: Timestamp,
    ) -> Result<GrantId, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO permission_grants (person_id, item, effective_from, application_id, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'active', $5, $6) RETURNING id",
        )
        .bind(g.person.get())
        .bind(g.item.as_str())
        .bind(roc_text(g.effective_from))
        .bind(g.application.get())
        .bind(now.to_string())
        .bind(now.to_string())
        .one_in(self).await?;
        Ok(GrantId::new(id))
    }

    /// Ends a grant from `on` (exclusive), keeping an earlier end if it has one.
    pub async fn end_grant(
        &mut self,
        id: GrantId,
        on: RocDate,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE permission_grants SET status = 'ended', \
             effective_to = CASE WHEN effective_to IS NOT NULL AND effective_to < $1 THEN effective_to ELSE $1 END, \
             updated_at = $2 WHERE id = $3 AND status <> 'ended'",
        )
        .bind(roc_text(on))
        .bind(now.to_string())
        .bind(id.get())
        .changed_in(self)
.await
    }

    /// Suspends a current grant from `from` (keeping an earlier suspension date).
    pub async fn suspend_grant(
        &mut self,
        id: GrantId,
        from: RocDate,
        cause: SuspensionCause,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE permission_grants SET status = 'suspended', \
             suspended_from = CASE WHEN suspended_from IS NOT NULL AND suspended_from < $1 THEN suspended_from ELSE $1 END, \
             suspension_cause = CASE WHEN suspended_from IS NOT NULL AND suspended_from < $1 THEN suspension_cause ELSE $2 END, \
             updated_at = $3 WHERE id = $4 AND status <> 'ended'",
        )
        .bind(roc_text(from))
        .bind(cause.code())
        .bind(now.to_string())
        .bind(id.get())
        .changed_in(self)
.await
    }

    pub async fn insert_staff_change(
        &mut self,
        change: &StaffChange,
        to_title: &str,
        source: StaffChangeSource,
        recorded_by: Option<PersonId>,
        now: Timestamp,
    ) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO staff_status_changes (person_id, from_status, to_status, from_unit, to_unit, \
             to_title, effective_date, source, recorded_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(change.person.get())
        .bind(change.from_status.code())
        .bind(change.to_status.code())
        .bind(change.from_unit.as_str())
        .bind(change.to_unit.as_str())
        .bind(to_title)
        .bind(roc_text(change.effective))
        .bind(source.code())
        .bind(now.to_string())
        .bind(recorded_by.map(PersonId::get))
        .one_in(self).await?;
        Ok(id)
    }

    /// Whether the same change (person, from and to status and unit, effective date) is
    /// already recorded and not yet applied: re-importing a file must not record it twice.
    pub async fn pending_staff_change_exists(
        &mut self,
        change: &StaffChange,
    ) -> Result<bool, StorageError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM staff_status_changes WHERE person_id = $1 AND from_status = $2 \
             AND to_status = $3 AND from_unit = $4 AND to_unit = $5 AND effective_date = $6 \
             AND applied_at IS NULL LIMIT 1",
        )
        .bind(change.person.get())
        .bind(change.from_status.code())
        .bind(change.to_status.code())
        .bind(change.from_unit.as_str())
        .bind(change.to_unit.as_str())
        .bind(roc_text(change.effective))
        .optional_in(self)
        .await?;
        Ok(row.is_some())
    }

    pub async fn mark_staff_change_applied(
        &mut self,
        id: i64,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE staff_status_changes SET applied_at = $1 WHERE id = $2")
            .bind(now.to_string())
            .bind(id)
            .execute_in(self)
            .await?;
        Ok(())
    }

    /// Sets a person's status, unit and title (the staff record).
    pub async fn update_person_job(
        &mut self,
        person: PersonId,
        status: StaffStatus,
        unit: &UnitId,
        title: &str,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE persons SET status = $1, unit_id = $2, title = $3 WHERE id = $4")
            .bind(status.code())
            .bind(unit.as_str())
            .bind(title)
            .bind(person.get())
            .execute_in(self)
            .await?;
        Ok(())
    }

    /// §2 on leaving: the card no longer opens the account. Returns whether one was bound.
    pub async fn remove_certificate_binding(
        &mut self,
        person: PersonId,
    ) -> Result<bool, StorageError> {
        sqlx::query("DELETE FROM certificate_bindings WHERE person_id = $1")
            .bind(person.get())
            .changed_in(self)
            .await
    }

    /// Disables an account (idempotent: an existing disablement is kept).
    pub async fn disable_account(
        &mut self,
        person: PersonId,
        reason: DisableReason,
        by: Option<PersonId>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "INSERT INTO account_disablements (person_id, reason, disabled_at, disabled_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO NOTHING",
        )
        .bind(person.get())
        .bind(reason.code())
        .bind(now.to_string())
        .bind(by.map(PersonId::get))
        .changed_in(self)
        .await
    }

    /// Re-enables an account; returns whether it was disabled.
    pub async fn enable_account(&mut self, person: PersonId) -> Result<bool, StorageError> {
        sqlx::query("DELETE FROM account_disablements WHERE person_id = $1")
            .bind(person.get())
            .changed_in(self)
            .await
    }

    pub async fn insert_recertification_round(
        &mut self,
        supervisor: PersonId,
        quarter: Quarter,
        opened_on: RocDate,
        deadline: RocDate,
    ) -> Result<RoundId, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO recertification_rounds (supervisor_id, quarter, opened_on, deadline) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(supervisor.get())
        .bind(quarter.to_string())
        .bind(roc_text(opened_on))
        .bind(roc_text(deadline))
        .one_in(self)
        .await?;
        Ok(RoundId::new(id))
    }

    pub async fn insert_recertification_item(
        &mut self,
        round: RoundId,
        item: &RecertificationItem,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO recertification_items (round_id, grant_id, person_id, item, uses_last_quarter, \
             last_used, propose_removal, decision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(round.get())
        .bind(item.grant.get())
        .bind(item.person.get())
        .bind(item.item.as_str())
        .bind(i64::from(item.uses_last_quarter))
        .bind(item.last_used.map(roc_text))
        .bind(i64::from(item.propose_removal))
        .bind(item.decision.map(|d| d.code()))
        .execute_in(self).await?;
        Ok(())
    }

    /// Records a decision on an open round's line; false if the round is closed.
    pub async fn set_recertification_decision(
        &mut self,
        round: RoundId,
        grant: GrantId,
        decision: RecertificationDecision,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE recertification_items SET decision = $1, decided_at = $2 \
             WHERE round_id = $3 AND grant_id = $4 AND EXISTS \
             (SELECT 1 FROM recertification_rounds r WHERE r.id = round_id AND r.closed_on IS NULL)",
        )
        .bind(decision.code())
        .bind(now.to_string())
        .bind(round.get())
        .bind(grant.get())
        .changed_in(self)
.await
    }

    /// Closes an open round; false if it was already closed.
    pub async fn close_recertification_round(
        &mut self,
        round: RoundId,
        on: RocDate,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE recertification_rounds SET closed_on = $1 WHERE id = $2 AND closed_on IS NULL",
        )
        .bind(roc_text(on))
        .bind(round.get())
        .changed_in(self)
        .await
    }
}

/// (state_step, state_text, effective_from) of a state.
fn state_columns(s: &ApplicationState) -> (Option<String>, Option<String>, Option<String>) {
    match s {
        ApplicationState::Draft | ApplicationState::Withdrawn => (None, None, None),
        ApplicationState::Pending { step } => (Some(step.code().into()), None, None),
        ApplicationState::Returned { note } => (None, Some(note.clone()), None),
        ApplicationState::Approved { effective_from } => {
            (None, None, Some(roc_text(*effective_from)))
        }
        ApplicationState::Refused { step, reason } => {
            (Some(step.code().into()), Some(reason.clone()), None)
        }
    }
}

fn state_from(
    code: &str,
    step_col: Option<String>,
    text: Option<String>,
    eff: Option<String>,
) -> Result<ApplicationState, StorageError> {
    let missing = |what: &str| StorageError::Decode(format!("application state {code}: no {what}"));
    Ok(match code {
        "draft" => ApplicationState::Draft,
        "withdrawn" => ApplicationState::Withdrawn,
        "pending" => ApplicationState::Pending {
            step: step(&step_col.ok_or_else(|| missing("step"))?)?,
        },
        "returned" => ApplicationState::Returned {
            note: text.unwrap_or_default(),
        },
        "approved" => ApplicationState::Approved {
            effective_from: roc(&eff.ok_or_else(|| missing("effective date"))?)?,
        },
        "refused" => ApplicationState::Refused {
            step: step(&step_col.ok_or_else(|| missing("step"))?)?,
            reason: text.unwrap_or_default(),
        },
        other => return Err(StorageError::Decode(format!("application state {other}"))),
    })
}

/// An application's row with its items and sign-offs folded in (see
/// [`crate::decode::unfold`]), so that a list of applications is one statement, not two more
/// per application.
const APPLICATION_COLUMNS: &str = "id, roc_year, seq, application_date, applicant_id, kind, unit_id, \
     title, name, reason, national_id_hmac, hmac_key_id, national_id_masked, phone, email, \
     egov_account, read_pdpa_and_rules, has_certificate_and_reader, state, state_step, state_text, \
     effective_from, round, step_since, \
     coalesce((SELECT string_agg(CASE WHEN i.item IS NULL THEN '~' ELSE length(i.item) || ':' || i.item END, \
          '' ORDER BY i.item) \
        FROM permission_application_items i \
      WHERE i.application_id = permission_applications.id), '') AS items, \
     coalesce((SELECT string_agg(CASE WHEN s.round IS NULL THEN '~' ELSE length(CAST(s.round AS TEXT)) || ':' || CAST(s.round AS TEXT) END || \
          CASE WHEN s.step IS NULL THEN '~' ELSE length(s.step) || ':' || s.step END || \
          CASE WHEN s.decided_by IS NULL THEN '~' ELSE length(CAST(s.decided_by AS TEXT)) || ':' || CAST(s.decided_by AS TEXT) END || \
          CASE WHEN s.decided_at IS NULL THEN '~' ELSE length(s.decided_at) || ':' || s.decided_at END || \
          CASE WHEN s.outcome IS NULL THEN '~' ELSE length(s.outcome) || ':' || s.outcome END || \
          CASE WHEN s.effective_from IS NULL THEN '~' ELSE length(s.effective_from) || ':' || s.effective_from END || \
          CASE WHEN s.comment IS NULL THEN '~' ELSE length(s.comment) || ':' || s.comment END, \
          '' ORDER BY s.id) \
        FROM permission_application_steps s \
      WHERE s.application_id = permission_applications.id), '') AS steps";

#[derive(sqlx::FromRow)]
struct ApplicationRecord {
    id: i64,
    roc_year: i64,
    seq: i64,
    application_date: String,
    applicant_id: i64,
    kind: String,
    unit_id: String,
    title: String,
    name: String,
    reason: String,
    national_id_hmac: String,
    hmac_key_id: String,
    national_id_masked: String,
    phone: String,
    email: String,
    egov_account: String,
    read_pdpa_and_rules: i64,
    has_certificate_and_reader: i64,
    state: String,
    state_step: Option<String>,
    state_text: Option<String>,
    effective_from: Option<String>,
    round: i64,
    step_since: Option<String>,
    /// Folded: the item codes.
    items: String,
    /// Folded: `round, step, by, at, outcome, effective_from, comment` a sign-off, in order.
    steps: String,
}

impl ApplicationRecord {
    fn into_application(self) -> Result<PermissionApplication, StorageError> {
        let items = unfold_rows("items", &self.items, 1, |mut f| {
            decode("item", ServiceItemCode::parse(&f.text("item")?))
        })?;
        let steps = unfold_rows("steps", &self.steps, 7, |mut f| {
            Ok(StepRecord {
                round: u32::try_from(f.int("step round")?).unwrap_or(0),
                step: step(&f.text("step")?)?,
                by: PersonId::new(f.int("step by")?),
                at: ts(&f.text("step at")?)?,
                outcome: {
                    let outcome = f.text("step outcome")?;
                    coded("outcome", &outcome, StepOutcome::parse_code)?
                },
                effective_from: opt_roc(f.opt())?,
                comment: f.text("step comment")?,
            })
        })?;
        let year = i16::try_from(self.roc_year).unwrap_or(0);
        let seq = u32::try_from(self.seq).unwrap_or(0);
        Ok(PermissionApplication {
            id: ApplicationId::new(self.id),
            form_number: decode("form number", FormNumber::new(year, seq))?,
            application_date: roc(&self.application_date)?,
            applicant: PersonId::new(self.applicant_id),
            kind: coded("application kind", &self.kind, ApplicationKind::parse_code)?,
            unit: decode("unit", UnitId::new(self.unit_id))?,
            title: self.title,
            name: self.name,
            reason: self.reason,
            national_id_masked: self.national_id_masked,
            national_id_digest: SubjectDigest {
                key_id: self.hmac_key_id,
                hex: self.national_id_hmac,
            },
            phone: self.phone,
            email: self.email,
            egov_account: self.egov_account,
            items,
            confirmations: Confirmations {
                read_pdpa_and_rules: self.read_pdpa_and_rules != 0,
                has_certificate_and_reader: self.has_certificate_and_reader != 0,
            },
            state: state_from(
                &self.state,
                self.state_step,
                self.state_text,
                self.effective_from,
            )?,
            round: u32::try_from(self.round).unwrap_or(0),
            step_since: self.step_since.as_deref().map(ts).transpose()?,
            steps,
        })
    }
}

const GRANT_COLUMNS: &str = "id, person_id, item, effective_from, effective_to, application_id, \
     status, suspended_from, suspension_cause";

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: i64,
    person_id: i64,
    item: String,
    effective_from: String,
    effective_to: Option<String>,
    application_id: i64,
    status: String,
    suspended_from: Option<String>,
    suspension_cause: Option<String>,
}

fn grant_from(r: GrantRow) -> Result<PermissionGrant, StorageError> {
    Ok(PermissionGrant {
        id: GrantId::new(r.id),
        person: PersonId::new(r.person_id),
        item: decode("item", ServiceItemCode::parse(&r.item))?,
        effective_from: roc(&r.effective_from)?,
        effective_to: opt_roc(r.effective_to)?,
        application: ApplicationId::new(r.application_id),
        status: coded("grant status", &r.status, GrantStatus::parse_code)?,
        suspended_from: opt_roc(r.suspended_from)?,
        suspension_cause: r
            .suspension_cause
            .map(|c| coded("suspension cause", &c, SuspensionCause::parse_code))
            .transpose()?,
    })
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    id: i64,
    person_id: i64,
    from_status: String,
    to_status: String,
    from_unit: String,
    to_unit: String,
    to_title: String,
    effective_date: String,
    source: String,
    recorded_at: String,
    applied_at: Option<String>,
}

const CHANGE_COLUMNS: &str = "id, person_id, from_status, to_status, from_unit, to_unit, to_title, \
     effective_date, source, recorded_at, applied_at";

fn change_from(r: ChangeRow) -> Result<StaffChangeRow, StorageError> {
    let status = |s: &str| coded("staff status", s, StaffStatus::parse_code);
    Ok(StaffChangeRow {
        id: r.id,
        change: StaffChange {
            person: PersonId::new(r.person_id),
            from_status: status(&r.from_status)?,
            to_status: status(&r.to_status)?,
            from_unit: decode("unit", UnitId::new(r.from_unit))?,
            to_unit: decode("unit", UnitId::new(r.to_unit))?,
            effective: roc(&r.effective_date)?,
        },
        to_title: r.to_title,
        source: r.source,
        recorded_at: ts(&r.recorded_at)?,
        applied: r.applied_at.is_some(),
    })
}

impl Store {
    /// §5: the members of staff whose national ID has this keyed HMAC (`hex` under HMAC key
    /// `key_id`), from the national IDs on their Form 1 applications.
    pub async fn staff_with_national_id(
        &self,
        key_id: &str,
        hex: &str,
    ) -> Result<Vec<PersonId>, StorageError> {
        sqlx::query_as(
            "SELECT DISTINCT applicant_id FROM permission_applications \
             WHERE national_id_hmac = $1 AND hmac_key_id = $2",
        )
        .bind(hex)
        .bind(key_id)
        .all(&self.reader, |(id,)| Ok(PersonId::new(id)))
        .await
    }

    async fn application_where(
        &self,
        condition: &str,
        arg: Option<i64>,
    ) -> Result<Vec<PermissionApplication>, StorageError> {
        let sql = format!(
            "SELECT {APPLICATION_COLUMNS} FROM permission_applications WHERE {condition} ORDER BY id"
        );
        let mut q = sqlx::query_as::<_, ApplicationRecord>(&sql);
        if let Some(a) = arg {
            q = q.bind(a);
        }
        q.all(&self.reader, ApplicationRecord::into_application)
            .await
    }

    pub async fn application(
        &self,
        id: ApplicationId,
    ) -> Result<Option<PermissionApplication>, StorageError> {
        Ok(self
            .application_where("id = $1", Some(id.get()))
            .await?
            .into_iter()
            .next())
    }

    /// A person's applications, oldest first.
    pub async fn applications_of(
        &self,
        applicant: PersonId,
    ) -> Result<Vec<PermissionApplication>, StorageError> {
        self.application_where("applicant_id = $1", Some(applicant.get()))
            .await
    }

    /// Every application waiting at a step.
    pub async fn pending_applications(&self) -> Result<Vec<PermissionApplication>, StorageError> {
        self.application_where("state = 'pending'", None).await
    }

    /// A person's grants, all statuses, oldest first.
    pub async fn grants_of(&self, person: PersonId) -> Result<Vec<PermissionGrant>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM permission_grants WHERE person_id = $1 ORDER BY id"
        ))
        .bind(person.get())
        .all(&self.reader, grant_from)
        .await
    }

    /// Every grant, oldest first (the administrator's overview filters these).
    pub async fn all_grants(&self) -> Result<Vec<PermissionGrant>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {GRANT_COLUMNS} FROM permission_grants ORDER BY id"
        ))
        .all(&self.reader, grant_from)
        .await
    }

    /// Recorded personnel changes with an effective date on or after `from`, by date.
    pub async fn staff_changes_from(
        &self,
        from: RocDate,
    ) -> Result<Vec<StaffChangeRow>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {CHANGE_COLUMNS} FROM staff_status_changes WHERE effective_date >= $1 \
             ORDER BY effective_date, id"
        ))
        .bind(roc_text(from))
        .all(&self.reader, change_from)
        .await
    }

    /// Changes not yet applied to the staff record whose effective date is on or before `on`.
    pub async fn due_staff_changes(
        &self,
        on: RocDate,
    ) -> Result<Vec<StaffChangeRow>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {CHANGE_COLUMNS} FROM staff_status_changes WHERE applied_at IS NULL \
             AND effective_date <= $1 ORDER BY effective_date, id"
        ))
        .bind(roc_text(on))
        .all(&self.reader, change_from)
        .await
    }

    /// Changes of one person, oldest first.
    pub async fn staff_changes_of(
        &self,
        person: PersonId,
    ) -> Result<Vec<StaffChangeRow>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {CHANGE_COLUMNS} FROM staff_status_changes WHERE person_id = $1 ORDER BY id"
        ))
        .bind(person.get())
        .all(&self.reader, change_from)
        .await
    }

    /// Disabled accounts and why.
    pub async fn disabled_accounts(&self) -> Result<BTreeMap<PersonId, String>, StorageError> {
        sqlx::query_as("SELECT person_id, reason FROM account_disablements")
            .all(&self.reader, |(p, r)| Ok((PersonId::new(p), r)))
            .await
    }

    /// Whether a person's account is disabled (sign-in must refuse it).
    pub async fn account_disabled(&self, person: PersonId) -> Result<bool, StorageError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM account_disablements WHERE person_id = $1")
                .bind(person.get())
                .optional(&self.reader, Ok)
                .await?;
        Ok(row.is_some())
    }

    /// Each person's account creation and last sign-in (newest session start), for idle
    /// accounts.
    pub async fn account_activity(
        &self,
    ) -> Result<Vec<(PersonId, Timestamp, Option<Timestamp>)>, StorageError> {
        sqlx::query_as(
            "SELECT p.id, p.created_at, (SELECT max(s.created_at) FROM sessions s WHERE s.person_id = p.id) \
             FROM persons p ORDER BY p.id",
        )
        .all(&self.reader, |(p, created, last): (_, String, _)| {
            Ok((PersonId::new(p), ts(&created)?, opt_ts(last)?))
        })
        .await
    }

    /// Rounds matching `condition`, its one placeholder bound to `key` (an id: bound as an
    /// integer, as PostgreSQL compares it).
    async fn rounds_where(
        &self,
        condition: &str,
        key: i64,
    ) -> Result<Vec<RecertificationRound>, StorageError> {
        let sql = format!(
            "SELECT id, supervisor_id, quarter, opened_on, deadline, closed_on \
             FROM recertification_rounds WHERE {condition} ORDER BY id"
        );
        sqlx::query_as(&sql)
            .bind(key)
            .all(
                &self.reader,
                |(id, sup, quarter, opened, deadline, closed): (
                    _,
                    _,
                    String,
                    String,
                    String,
                    _,
                )| {
                    Ok(RecertificationRound {
                        id: RoundId::new(id),
                        supervisor: PersonId::new(sup),
                        quarter: decode("quarter", Quarter::parse(&quarter))?,
                        opened_on: roc(&opened)?,
                        deadline: roc(&deadline)?,
                        closed_on: opt_roc(closed)?,
                    })
                },
            )
            .await
    }

    pub async fn recertification_round(
        &self,
        id: RoundId,
    ) -> Result<Option<RecertificationRound>, StorageError> {
        Ok(self
            .rounds_where("id = $1", id.get())
            .await?
            .into_iter()
            .next())
    }

    /// A supervisor's rounds, oldest first.
    pub async fn recertification_rounds_of(
        &self,
        supervisor: PersonId,
    ) -> Result<Vec<RecertificationRound>, StorageError> {
        self.rounds_where("supervisor_id = $1", supervisor.get())
            .await
    }

    pub async fn recertification_items(
        &self,
        round: RoundId,
    ) -> Result<Vec<RecertificationItem>, StorageError> {
        type Row = (i64, i64, String, i64, Option<String>, i64, Option<String>);
        sqlx::query_as(
            "SELECT grant_id, person_id, item, uses_last_quarter, last_used, propose_removal, decision \
             FROM recertification_items WHERE round_id = $1 ORDER BY person_id, item",
        )
        .bind(round.get())
        .all(&self.reader, |row: Row| {
                let (grant, person, item, uses, last, propose, decision) = row;
                Ok(RecertificationItem {
                    grant: GrantId::new(grant),
                    person: PersonId::new(person),
                    item: decode("item", ServiceItemCode::parse(&item))?,
                    uses_last_quarter: u32::try_from(uses).unwrap_or(0),
                    last_used: opt_roc(last)?,
                    propose_removal: propose != 0,
                    decision: decision
                        .map(|d| {
                            coded("decision", &d, RecertificationDecision::parse_code)
                        })
                        .transpose()?,
                })
            })
            .await
    }

    /// Person ids by account, for matching usage records to grants.
    pub async fn person_ids_by_account(&self) -> Result<BTreeMap<String, PersonId>, StorageError> {
        sqlx::query_as("SELECT account, id FROM persons")
            .all(&self.reader, |(a, p)| Ok((a, PersonId::new(p))))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use querywarden_domain::org::{Account, Role};

    async fn store_with_person() -> (Store, PersonId) {
        let store = Store::open_in_memory().await.unwrap();
        let now = Timestamp::from_second(1_772_000_000).unwrap();
        let mut tx = store.begin().await.unwrap();
        for u in querywarden_domain::org::seed_units().unwrap() {
            tx.insert_unit(&u).await.unwrap();
        }
        for i in querywarden_domain::catalogue::seed_service_items() {
            tx.upsert_service_item(&i).await.unwrap();
        }
        let p = tx
            .insert_person(
                &crate::NewPerson {
                    account: Account::parse("lin.meiling").unwrap(),
                    name: "林美玲".into(),
                    title: "社會工作師".into(),
                    unit: UnitId::new("social-assistance").unwrap(),
                    roles: [Role::Querier].into(),
                    status: StaffStatus::Active,
                },
                &now.to_string(),
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (store, p)
    }

    fn app(applicant: PersonId, n: FormNumber) -> PermissionApplication {
        PermissionApplication {
            id: ApplicationId::new(0),
            form_number: n,
            application_date: RocDate::new(115, 3, 2).unwrap(),
            applicant,
            kind: ApplicationKind::New,
            unit: UnitId::new("social-assistance").unwrap(),
            title: "社會工作師".into(),
            name: "林美玲".into(),
            reason: "r".into(),
            national_id_masked: "A12****789".into(),
            national_id_digest: SubjectDigest {
                key_id: "k".into(),
                hex: "ab".into(),
            },
            phone: "1".into(),
            email: "a@b".into(),
            egov_account: "e".into(),
            items: [ServiceItemCode::parse("C0101").unwrap()].into(),
            confirmations: Confirmations::default(),
            state: ApplicationState::Draft,
            round: 0,
            step_since: None,
            steps: vec![],
        }
    }

    #[tokio::test]
    async fn applications_round_trip_and_state_changes_are_conditional() {
        let (store, lin) = store_with_person().await;
        let now = Timestamp::from_second(1_772_000_000).unwrap();
        let mut tx = store.begin().await.unwrap();
        let n1 = tx.next_form_number(115).await.unwrap();
        let n2 = tx.next_form_number(115).await.unwrap();
        let n3 = tx.next_form_number(116).await.unwrap();
        assert_eq!(
            (n1.to_string(), n2.to_string(), n3.to_string()),
            ("115-0001".into(), "115-0002".into(), "116-0001".into())
        );
        let id = tx.insert_application(&app(lin, n1), now).await.unwrap();
        let pending = ApplicationState::Pending {
            step: Step::UnitSupervisor,
        };
        assert!(
            tx.set_application_state(id, &ApplicationState::Draft, 0, &pending, 1, Some(now), now)
                .await
                .unwrap()
        );
        // A second submission from the same read loses.
        assert!(
            !tx.set_application_state(id, &ApplicationState::Draft, 0, &pending, 1, Some(now), now)
                .await
                .unwrap()
        );
        tx.insert_application_step(
            id,
            &StepRecord {
                round: 1,
                step: Step::UnitSupervisor,
                by: lin,
                at: now,
                outcome: StepOutcome::Approved,
                effective_from: None,
                comment: "ok".into(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let back = store.application(id).await.unwrap().unwrap();
        assert_eq!(back.form_number, n1);
        assert_eq!(back.state, pending);
        assert_eq!(back.round, 1);
        assert_eq!(back.steps.len(), 1);
        assert_eq!(back.items.len(), 1);
        assert_eq!(store.pending_applications().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn grants_end_and_suspend_keep_the_earliest_date() {
        let (store, lin) = store_with_person().await;
        let now = Timestamp::from_second(1_772_000_000).unwrap();
        let d = |m, day| RocDate::new(115, m, day).unwrap();
        let mut tx = store.begin().await.unwrap();
        let n = tx.next_form_number(115).await.unwrap();
        let app_id = tx.insert_application(&app(lin, n), now).await.unwrap();
        let g = tx
            .insert_grant(
                &NewGrant {
                    person: lin,
                    item: ServiceItemCode::parse("C0101").unwrap(),
                    effective_from: d(3, 5),
                    application: app_id,
                },
                now,
            )
            .await
            .unwrap();
        assert!(
            tx.suspend_grant(g, d(5, 1), SuspensionCause::Transferred, now)
                .await
                .unwrap()
        );
        assert!(
            tx.suspend_grant(g, d(6, 1), SuspensionCause::OnLeave, now)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let got = &store.grants_of(lin).await.unwrap()[0];
        assert_eq!(got.suspended_from, Some(d(5, 1)));
        assert_eq!(got.suspension_cause, Some(SuspensionCause::Transferred));
        let mut tx = store.begin().await.unwrap();
        assert!(tx.end_grant(g, d(7, 1), now).await.unwrap());
        assert!(!tx.end_grant(g, d(8, 1), now).await.unwrap());
        // Grants are never deleted.
        assert!(
            sqlx::query("DELETE FROM permission_grants")
                .execute(&mut *tx.tx)
                .await
                .is_err()
        );
        drop(tx);
        let got = &store.grants_of(lin).await.unwrap()[0];
        assert_eq!(got.status, GrantStatus::Suspended, "rolled back");
    }
}
