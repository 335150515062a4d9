//! Acting supervisors (§5 ¶1, 代理): registering a unit supervisor's 代理人 for a period, and
//! reading who stands in where. The rule that uses them — who approves a Form 1 step or a
//! Form 2 row — is the domain's one walk (`Roster::supervisor_signers`).
//!
//! The page and the JSON API hand over the form as typed ([`DeputyForm`]); it is parsed here,
//! so both refuse the same input with the same code, and every refusal is audited.
//!
//! Security-sensitive: a deputy approves queries in the supervisor's place. Only the unit's
//! supervisor or the permission administrator registers one; every registration and every
//! refusal is audited in the same transaction as the change.

use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::org::{Account, Person, PersonId, Role, Unit, UnitId};
use querywarden_domain::permission::acting::{DeputyTerm, DeputyTermError, check_deputy_term};
use querywarden_domain::permission::in_service;
use querywarden_domain::roc_date::{DateField, RocDate, RocDateError};
use querywarden_storage::Store;

use crate::AppError;
use crate::permission::Op;

/// The deputy form as typed on the page or posted to `POST /api/v1/units/{unit}/deputy`:
/// the deputy's account and the ROC dates of the period (empty: from today, until further
/// notice).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeputyForm {
    pub deputy: String,
    pub from: String,
    pub until: String,
}

/// The form once parsed: who stands in for the unit's supervisor, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RegisterDeputyRequest {
    deputy: Account,
    /// First day (inclusive); `None` from today on.
    from: Option<RocDate>,
    /// Last day (inclusive); `None` until further notice.
    until: Option<RocDate>,
}

/// Which end of the period a date error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodEnd {
    From,
    Until,
}

/// Why a deputy was not registered (or the page not shown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeputyRefusal {
    #[error(transparent)]
    Rule(#[from] DeputyTermError),
    /// No such unit.
    #[error("找不到此單位或人員")]
    NotFound,
    /// No one has the deputy's account.
    #[error("找不到此單位或人員")]
    UnknownDeputy,
    /// The deputy field is empty: 代理人 is 必填.
    #[error("請選擇代理人")]
    NoDeputy,
    #[error("代理人帳號格式不正確")]
    BadDeputy,
    #[error("{}：{error}", if *end == PeriodEnd::From { "代理開始日" } else { "代理結束日" })]
    Date { end: PeriodEnd, error: RocDateError },
}

impl DeputyRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rule(e) => e.code(),
            Self::NotFound | Self::UnknownDeputy => "acting.not_found",
            Self::NoDeputy | Self::BadDeputy => "acting.deputy",
            Self::Date {
                end: PeriodEnd::From,
                ..
            } => "acting.from",
            Self::Date {
                end: PeriodEnd::Until,
                ..
            } => "acting.until",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Rule(e) => e.message_en().into(),
            Self::NotFound | Self::UnknownDeputy => "no such unit or person".into(),
            Self::NoDeputy => "choose the deputy".into(),
            Self::BadDeputy => "the deputy's account is not valid".into(),
            Self::Date { end, error } => format!(
                "{}: {}",
                match end {
                    PeriodEnd::From => "first day of the acting period",
                    PeriodEnd::Until => "last day of the acting period",
                },
                error.message_en()
            ),
        }
    }
}

/// Parses the form: a deputy is required; the dates are ROC dates of the kind "takes effect"
/// (a year either side of today), so that a Western year read as an ROC one is refused.
fn parse_form(form: &DeputyForm, today: RocDate) -> Result<RegisterDeputyRequest, DeputyRefusal> {
    let deputy = match form.deputy.trim() {
        "" => return Err(DeputyRefusal::NoDeputy),
        s => Account::parse(s).map_err(|_| DeputyRefusal::BadDeputy)?,
    };
    let date = |s: &str, end| match s.trim() {
        "" => Ok(None),
        s => RocDate::parse_field(s, DateField::Effective, today)
            .map(Some)
            .map_err(|error| DeputyRefusal::Date { end, error }),
    };
    Ok(RegisterDeputyRequest {
        deputy,
        from: date(&form.from, PeriodEnd::From)?,
        until: date(&form.until, PeriodEnd::Until)?,
    })
}

/// A person as the deputy page names them (staff, never citizens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffName {
    pub id: PersonId,
    pub account: Account,
    pub name: String,
}

impl StaffName {
    fn of(p: &Person) -> Self {
        Self {
            id: p.id,
            account: p.account.clone(),
            name: p.name.clone(),
        }
    }
}

/// What the deputy page of one unit shows: the unit, its supervisor, the deputy registered
/// now (with their period), who may be chosen, and the other units the viewer may open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeputyDesk {
    pub unit: Unit,
    pub supervisor: Option<StaffName>,
    pub deputy: Option<(StaffName, DeputyTerm)>,
    /// In service in the unit, the supervisor excluded (the rule of `check_deputy_term`).
    pub candidates: Vec<StaffName>,
    /// The units whose deputy the viewer registers (their own, or every unit for the
    /// permission administrator).
    pub units: Vec<Unit>,
}

/// Everything the door and the page need, read once.
struct Org {
    units: Vec<Unit>,
    supervisors: std::collections::BTreeMap<UnitId, PersonId>,
    persons: Vec<Person>,
}

impl Org {
    async fn load(store: &Store) -> Result<Org, AppError> {
        Ok(Org {
            units: store.units().await?,
            supervisors: store.unit_supervisors().await?,
            persons: store.persons().await?,
        })
    }

    /// §5 ¶1: the unit's supervisor or the permission administrator, in service.
    fn may_register(&self, actor: &Person, unit: &UnitId) -> bool {
        in_service(actor.status)
            && (self.supervisors.get(unit) == Some(&actor.id)
                || actor.has_role(Role::PermissionAdministrator))
    }

    fn unit(&self, raw: &str) -> Option<&Unit> {
        let id = UnitId::new(raw).ok()?;
        self.units.iter().find(|u| u.id == id)
    }
}

fn event(op: &Op, action: AuditAction, actor: &Person, unit: Option<&UnitId>) -> AuditEvent {
    let mut e = AuditEvent::system(op.now, action, op.request_id.clone()).by(Actor {
        person: actor.id,
        role: Some(Role::UnitSupervisor),
    });
    if let Some(u) = unit {
        e = e.on("unit", u.as_str());
    }
    e.client_addr = op.client_addr.clone();
    e
}

/// Records `refusal` on `event` in its own transaction and hands it back.
async fn refuse(
    store: &Store,
    event: AuditEvent,
    refusal: DeputyRefusal,
) -> Result<DeputyRefusal, AppError> {
    crate::audit::record_refusal(store, event, refusal.code()).await?;
    Ok(refusal)
}

/// §5 ¶1: the deputy page of `unit` for `viewer`, who must be allowed to register its
/// deputy; anyone else (or an unknown unit) is refused and the refusal audited.
pub async fn deputy_desk(
    store: &Store,
    viewer: &Person,
    unit: &str,
    op: &Op,
) -> Result<Result<DeputyDesk, DeputyRefusal>, AppError> {
    let org = Org::load(store).await?;
    let found = org.unit(unit).cloned();
    let refusal = match &found {
        None => Some(DeputyRefusal::NotFound),
        Some(u) if !org.may_register(viewer, &u.id) => {
            Some(DeputyRefusal::Rule(DeputyTermError::NotAllowed))
        }
        Some(_) => None,
    };
    let (Some(unit), None) = (found.clone(), refusal.clone()) else {
        let e = event(
            op,
            AuditAction::AccessRefused,
            viewer,
            found.as_ref().map(|u| &u.id),
        )
        .detail("page", "deputy");
        let r = refusal.unwrap_or(DeputyRefusal::NotFound);
        return Ok(Err(refuse(store, e, r).await?));
    };
    let terms = store.unit_deputy_terms().await?;
    let name = |id: PersonId| org.persons.iter().find(|p| p.id == id).map(StaffName::of);
    let supervisor = org.supervisors.get(&unit.id).copied();
    let deputy = terms
        .get(&unit.id)
        .and_then(|t| name(t.person).map(|n| (n, *t)));
    let candidates = org
        .persons
        .iter()
        .filter(|p| p.unit == unit.id && in_service(p.status) && Some(p.id) != supervisor)
        .map(StaffName::of)
        .collect();
    let units = org
        .units
        .iter()
        .filter(|u| org.may_register(viewer, &u.id))
        .cloned()
        .collect();
    Ok(Ok(DeputyDesk {
        supervisor: supervisor.and_then(name),
        unit,
        deputy,
        candidates,
        units,
    }))
}

/// §5 ¶1: registers the deputy typed in `form` as 代理人 of `unit`'s supervisor for the
/// period. The actor must be that unit's supervisor or the permission administrator. The
/// inner `Err` is a refusal, audited like the registration itself.
pub async fn register_deputy(
    store: &Store,
    actor: &Person,
    unit: &str,
    form: &DeputyForm,
    op: &Op,
) -> Result<Result<DeputyTerm, DeputyRefusal>, AppError> {
    let org = Org::load(store).await?;
    let found = org.unit(unit).map(|u| u.id.clone());
    let event = event(
        op,
        AuditAction::ActingSupervisorRegistered,
        actor,
        found.as_ref(),
    );
    let today = op.today();
    let checked = (|| {
        // An unknown unit has no supervisor, so only the administrator learns it is unknown.
        let allowed = found.as_ref().map_or_else(
            || in_service(actor.status) && actor.has_role(Role::PermissionAdministrator),
            |u| org.may_register(actor, u),
        );
        if !allowed {
            return Err(DeputyRefusal::Rule(DeputyTermError::NotAllowed));
        }
        let unit = found.as_ref().ok_or(DeputyRefusal::NotFound)?;
        let req = parse_form(form, today)?;
        let deputy = org
            .persons
            .iter()
            .find(|p| p.account == req.deputy)
            .ok_or(DeputyRefusal::UnknownDeputy)?;
        let term = DeputyTerm {
            person: deputy.id,
            from: Some(req.from.unwrap_or(today)),
            until: req.until,
        };
        check_deputy_term(
            &term,
            org.supervisors.get(unit).copied(),
            &deputy.unit,
            in_service(deputy.status),
            unit,
            today,
        )?;
        Ok((unit.clone(), term))
    })();
    let (unit, term) = match checked {
        Ok(t) => t,
        Err(e) => return Ok(Err(refuse(store, event, e).await?)),
    };
    let mut tx = store.begin().await?;
    tx.set_deputy_term(&unit, &term).await?;
    let day = |d: Option<RocDate>| d.map(|d| d.civil().to_string());
    tx.append_audit(
        &event
            .detail("deputy", term.person.get())
            .detail("from", day(term.from))
            .detail("until", day(term.until)),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(term))
}

impl crate::App {
    /// §5 ¶1: [`register_deputy`] in this application's store, for the web layer (which
    /// reaches storage only through use cases).
    pub async fn register_deputy(
        &self,
        actor: &Person,
        unit: &str,
        form: &DeputyForm,
        op: &Op,
    ) -> Result<Result<DeputyTerm, DeputyRefusal>, AppError> {
        register_deputy(&self.inner.store, actor, unit, form, op).await
    }

    /// §5 ¶1: [`deputy_desk`] in this application's store.
    pub async fn deputy_desk(
        &self,
        viewer: &Person,
        unit: &str,
        op: &Op,
    ) -> Result<Result<DeputyDesk, DeputyRefusal>, AppError> {
        deputy_desk(&self.inner.store, viewer, unit, op).await
    }
}
