//! The organisation on top of the seeded catalogue (§2, §4): units, parent units,
//! supervisors (單位主管) and their deputies (代理人) from a CSV, all or nothing, audited;
//! re-importing a file already in force changes nothing. And §2: a transfer or departure
//! ends every supervisor and deputy role the person held, on its effective date.

use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::enrolment::{
    RowError, Staff, UnitChange, plan_units, roles_ended_by_change,
};
use querywarden_domain::org::{PersonId, Role, StaffStatus, UnitId};
use querywarden_domain::permission::AdministratorDesk;
use querywarden_storage::{Store, WriteTx};

use crate::AppError;
use crate::permission::Op;

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitsReport {
    pub rows: usize,
    pub units_added: usize,
    pub units_updated: usize,
    pub supervisors_set: usize,
    pub deputies_set: usize,
}

impl UnitsReport {
    pub fn changes(&self) -> usize {
        self.units_added + self.units_updated + self.supervisors_set + self.deputies_set
    }
}

/// Imports the units CSV (`unit_id,name,kind,parent,supervisor,deputy`). Any bad row:
/// nothing changes and every bad row comes back with its line (the refusal is audited).
pub async fn import_units(
    store: &Store,
    desk: &AdministratorDesk,
    text: &str,
    op: &Op,
) -> Result<Result<UnitsReport, Vec<RowError>>, AppError> {
    let existing = store.units().await?;
    let staff: Staff = store
        .persons()
        .await?
        .into_iter()
        .map(|p| (p.account, (p.id, p.status)))
        .collect();
    let supervisors = store.unit_supervisors().await?;
    let deputies = store.unit_deputies().await?;
    let mut event = AuditEvent::system(op.now, AuditAction::UnitsImported, op.request_id.clone())
        .on("units_import", "csv")
        .by(Actor {
            person: desk.person(),
            role: Some(Role::PermissionAdministrator),
        });
    event.client_addr = op.client_addr.clone();
    let changes = match plan_units(text, &existing, &staff, &supervisors, &deputies) {
        Ok(c) => c,
        Err(errors) => {
            crate::audit::record_refusal(
                store,
                event.detail("bad_rows", errors.len()),
                "units.bad_rows",
            )
            .await?;
            return Ok(Err(errors));
        }
    };
    let rows = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count();
    let mut report = UnitsReport {
        rows,
        ..UnitsReport::default()
    };
    let mut tx = store.begin().await?;
    // Each change by name in the one record: unit ids and person ids, no personal data.
    let listed: Vec<String> = changes
        .iter()
        .map(|c| match c {
            UnitChange::AddUnit(u) | UnitChange::UpdateUnit(u) => {
                format!("{}:{}", c.code(), u.id)
            }
            UnitChange::SetSupervisor(u, p) | UnitChange::SetDeputy(u, p) => {
                format!("{}:{}:{}", c.code(), u, p.get())
            }
        })
        .collect();
    for c in &changes {
        match c {
            UnitChange::AddUnit(u) => {
                tx.insert_unit(u).await?;
                report.units_added += 1;
            }
            UnitChange::UpdateUnit(u) => {
                tx.update_unit(u).await?;
                report.units_updated += 1;
            }
            UnitChange::SetSupervisor(u, p) => {
                tx.set_unit_supervisor(u, *p).await?;
                tx.add_person_role(*p, Role::UnitSupervisor).await?;
                report.supervisors_set += 1;
            }
            UnitChange::SetDeputy(u, p) => {
                tx.set_unit_deputy(u, *p).await?;
                report.deputies_set += 1;
            }
        }
    }
    tx.append_audit(
        &event
            .detail("rows", report.rows)
            .detail("units_added", report.units_added)
            .detail("units_updated", report.units_updated)
            .detail("supervisors_set", report.supervisors_set)
            .detail("deputies_set", report.deputies_set)
            .detail("changes", serde_json::Value::from(listed)),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(report))
}

/// §2: called where a personnel change takes effect, inside its transaction: ends every
/// supervisor and deputy role `person` held in a unit they no longer work in (or all, on
/// leaving), each with its audit record. Returns how many roles ended.
pub async fn end_roles_on_change(
    tx: &mut WriteTx,
    person: PersonId,
    to_status: StaffStatus,
    to_unit: &UnitId,
    by: Option<Actor>,
    op: &Op,
) -> Result<usize, AppError> {
    let (supervised, deputised) = tx.supervisor_roles_of(person).await?;
    let ending_supervision = roles_ended_by_change(to_status, to_unit, &supervised);
    // The 單位主管 role goes with the last unit supervised (it also makes a second approver).
    if !ending_supervision.is_empty() && ending_supervision.len() == supervised.len() {
        tx.remove_person_role(person, Role::UnitSupervisor).await?;
    }
    let mut ended = 0;
    for (units, deputy) in [(supervised, false), (deputised, true)] {
        for unit in roles_ended_by_change(to_status, to_unit, &units) {
            tx.end_supervisor_role(&unit, person, deputy).await?;
            let mut e = AuditEvent::system(
                op.now,
                AuditAction::SupervisorRoleEnded,
                op.request_id.clone(),
            )
            .on("unit", unit.as_str())
            .detail("person", person.get())
            .detail("role", if deputy { "deputy" } else { "supervisor" })
            .detail("to_status", to_status.code());
            e.actor = by;
            e.client_addr = op.client_addr.clone();
            tx.append_audit(&e).await?;
            ended += 1;
        }
    }
    Ok(ended)
}
