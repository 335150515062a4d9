//! Acting supervisors (§5 ¶1, 代理): registering a unit supervisor's 代理人 for a period, and
//! reading who stands in where. The rule that uses them — who approves a Form 1 step or a
//! Form 2 row — is the domain's one walk (`Roster::supervisor_signers`).
//!
//! Security-sensitive: a deputy approves queries in the supervisor's place. Only the unit's
//! supervisor or the permission administrator registers one; every registration and every
//! refusal is audited in the same transaction as the change.

use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::org::{Account, Person, Role, UnitId};
use querywarden_domain::permission::acting::{DeputyTerm, DeputyTermError, check_deputy_term};
use querywarden_domain::permission::in_service;
use querywarden_domain::roc_date::RocDate;
use querywarden_storage::Store;

use crate::AppError;
use crate::permission::Op;

/// `POST /api/v1/units/{unit}/deputy`: who stands in for the unit's supervisor, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterDeputyRequest {
    pub unit: UnitId,
    pub deputy: Account,
    /// First day (inclusive); `None` from today on.
    pub from: Option<RocDate>,
    /// Last day (inclusive); `None` until further notice.
    pub until: Option<RocDate>,
}

/// Why a deputy was not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeputyRefusal {
    #[error(transparent)]
    Rule(#[from] DeputyTermError),
    #[error("找不到此單位或人員")]
    NotFound,
}

impl DeputyRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rule(e) => e.code(),
            Self::NotFound => "acting.not_found",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            Self::Rule(e) => e.message_en(),
            Self::NotFound => "no such unit or person",
        }
    }
}

/// §5 ¶1: registers `req.deputy` as 代理人 of `req.unit`'s supervisor for the period. The
/// actor must be that unit's supervisor or the permission administrator. The inner `Err` is a
/// refusal, audited like the registration itself.
pub async fn register_deputy(
    store: &Store,
    actor: &Person,
    req: &RegisterDeputyRequest,
    op: &Op,
) -> Result<Result<DeputyTerm, DeputyRefusal>, AppError> {
    let mut event = AuditEvent::system(
        op.now,
        AuditAction::ActingSupervisorRegistered,
        op.request_id.clone(),
    )
    .on("unit", req.unit.as_str())
    .by(Actor {
        person: actor.id,
        role: Some(Role::UnitSupervisor),
    });
    event.client_addr = op.client_addr.clone();
    let supervisors = store.unit_supervisors().await?;
    let supervisor = supervisors.get(&req.unit).copied();
    let unit_known = store.units().await?.iter().any(|u| u.id == req.unit);
    let deputy = store
        .persons()
        .await?
        .into_iter()
        .find(|p| p.account == req.deputy);
    let checked = (|| {
        let allowed = in_service(actor.status)
            && (supervisor == Some(actor.id) || actor.has_role(Role::PermissionAdministrator));
        if !allowed {
            return Err(DeputyRefusal::Rule(DeputyTermError::NotAllowed));
        }
        let (true, Some(d)) = (unit_known, deputy.as_ref()) else {
            return Err(DeputyRefusal::NotFound);
        };
        let term = DeputyTerm {
            person: d.id,
            from: Some(req.from.unwrap_or_else(|| op.today())),
            until: req.until,
        };
        check_deputy_term(
            &term,
            supervisor,
            &d.unit,
            in_service(d.status),
            &req.unit,
            op.today(),
        )?;
        Ok(term)
    })();
    let mut tx = store.begin().await?;
    let term = match checked {
        Ok(t) => t,
        Err(e) => {
            tx.append_audit(&event.outcome(Outcome::Refused(e.code().into())))
                .await?;
            tx.commit().await?;
            return Ok(Err(e));
        }
    };
    tx.set_deputy_term(&req.unit, &term).await?;
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
        req: &RegisterDeputyRequest,
        op: &Op,
    ) -> Result<Result<DeputyTerm, DeputyRefusal>, AppError> {
        register_deputy(&self.inner.store, actor, req, op).await
    }
}
