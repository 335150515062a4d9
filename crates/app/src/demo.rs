//! Seeding: the bureau's units and catalogues on first start, and the demo organisation (one
//! person in every role of MISSION.md) for `querywarden demo`.

use std::collections::BTreeSet;

use jiff::Timestamp;
use querywarden_domain::audit_event::{AuditAction, AuditEvent};
use querywarden_domain::catalogue::{seed_legal_bases, seed_service_items};
use querywarden_domain::org::{Account, Role, StaffStatus, UnitId, seed_units};
use querywarden_storage::{NewPerson, Store};

use crate::AppError;

/// One demo account, as printed by `querywarden demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub account: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub roles: &'static [Role],
    /// Supervisor (單位主管) of the unit.
    pub supervises: bool,
}

/// The demo organisation: the social worker, her supervisor, a colleague who needs data, the
/// permission administrator and his supervisor, a responsible-unit reviewer, a district-office
/// requester, an ethics auditor and the director. Names are invented.
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        account: "lin.meiling",
        name: "林美玲",
        title: "社會工作師",
        unit: "social-assistance",
        roles: &[Role::Querier, Role::Staff],
        supervises: false,
    },
    DemoAccount {
        account: "chen.jianhong",
        name: "陳建宏",
        title: "科長",
        unit: "social-assistance",
        roles: &[Role::UnitSupervisor, Role::Staff],
        supervises: true,
    },
    DemoAccount {
        account: "huang.yating",
        name: "黃雅婷",
        title: "社會工作員",
        unit: "social-assistance",
        roles: &[Role::Staff],
        supervises: false,
    },
    DemoAccount {
        account: "wu.zhiming",
        name: "吳志明",
        title: "資訊管理師",
        unit: "it-group",
        roles: &[Role::PermissionAdministrator, Role::Staff],
        supervises: false,
    },
    DemoAccount {
        account: "zhang.shuhui",
        name: "張淑慧",
        title: "秘書室主任",
        unit: "secretariat",
        roles: &[
            Role::PermissionAdminSupervisor,
            Role::UnitSupervisor,
            Role::Staff,
            Role::PersonalDataContact,
        ],
        supervises: true,
    },
    DemoAccount {
        account: "li.guowei",
        name: "李國偉",
        title: "專員",
        unit: "elderly-welfare",
        roles: &[Role::ResponsibleUnitReviewer, Role::Querier, Role::Staff],
        supervises: false,
    },
    DemoAccount {
        account: "xu.wenjie",
        name: "許文傑",
        title: "科長",
        unit: "elderly-welfare",
        roles: &[Role::UnitSupervisor, Role::Staff],
        supervises: true,
    },
    DemoAccount {
        account: "cai.peiling",
        name: "蔡佩玲",
        title: "課員",
        unit: "district-yancheng",
        roles: &[Role::ExternalRequester],
        supervises: false,
    },
    DemoAccount {
        account: "zheng.zhihao",
        name: "鄭志豪",
        title: "政風室主任",
        unit: "ethics",
        roles: &[Role::EthicsAuditor, Role::UnitSupervisor],
        supervises: true,
    },
    DemoAccount {
        account: "zhou.wenhua",
        name: "周文華",
        title: "局長",
        unit: "director",
        roles: &[Role::Director],
        supervises: true,
    },
    // §5 ¶3: the district office's own supervisor consents to its Form 3 requests.
    DemoAccount {
        account: "yang.shuling",
        name: "楊淑玲",
        title: "課長",
        unit: "district-yancheng",
        roles: &[Role::ExternalRequester, Role::UnitSupervisor],
        supervises: true,
    },
];

fn seed_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Seed {
        what: format!("{what}: {e}"),
        source: None,
    }
}

/// Seeds units, service items and legal bases if the database is empty. Idempotent: a second
/// call on an initialised database changes nothing.
pub async fn initialise(store: &Store, now: Timestamp, request_id: &str) -> Result<bool, AppError> {
    if store.is_initialised().await? {
        return Ok(false);
    }
    let units = seed_units().map_err(|e| seed_error("units", e))?;
    let bases = seed_legal_bases().map_err(|e| seed_error("legal bases", e))?;
    let items = seed_service_items();
    let mut tx = store.begin().await?;
    for unit in &units {
        tx.insert_unit(unit).await?;
    }
    for item in &items {
        tx.upsert_service_item(item).await?;
    }
    for basis in &bases {
        tx.upsert_legal_basis(basis).await?;
    }
    tx.append_audit(
        &AuditEvent::system(now, AuditAction::SystemInitialised, request_id)
            .detail("units", units.len())
            .detail("service_items", items.len())
            .detail("legal_bases", bases.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Adds the demo staff if no staff exist yet. Idempotent.
pub async fn seed_demo(store: &Store, now: Timestamp, request_id: &str) -> Result<bool, AppError> {
    if !store.persons().await?.is_empty() {
        return Ok(false);
    }
    let mut tx = store.begin().await?;
    for a in DEMO_ACCOUNTS {
        let unit = UnitId::new(a.unit).map_err(|e| seed_error(a.unit, e))?;
        let person = NewPerson {
            account: Account::parse(a.account).map_err(|e| seed_error(a.account, e))?,
            name: a.name.to_string(),
            title: a.title.to_string(),
            unit: unit.clone(),
            roles: a.roles.iter().copied().collect::<BTreeSet<_>>(),
            status: StaffStatus::Active,
        };
        let id = tx.insert_person(&person, &now.to_string()).await?;
        if a.supervises {
            tx.set_unit_supervisor(&unit, id).await?;
        }
    }
    tx.append_audit(
        &AuditEvent::system(now, AuditAction::DemoSeeded, request_id)
            .detail("persons", DEMO_ACCOUNTS.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_has_every_role_and_seeding_twice_changes_nothing() {
        let store = Store::open_in_memory().await.unwrap();
        let now = Timestamp::from_second(1_764_000_000).unwrap();
        assert!(initialise(&store, now, "r1").await.unwrap());
        assert!(seed_demo(&store, now, "r2").await.unwrap());
        assert!(!initialise(&store, now, "r3").await.unwrap());
        assert!(!seed_demo(&store, now, "r4").await.unwrap());
        let persons = store.persons().await.unwrap();
        for role in Role::ALL {
            assert!(
                persons.iter().any(|p| p.has_role(role)),
                "no demo person holds {role:?}"
            );
        }
        assert_eq!(store.audit_extent().await.unwrap(), (2, 2));
        let units = store.units().await.unwrap();
        assert_eq!(
            units
                .iter()
                .filter(|u| u.id.as_str().starts_with("district-"))
                .count(),
            38
        );
        assert_eq!(store.service_items().await.unwrap().len(), 9);
        let supervisors = store.unit_supervisors().await.unwrap();
        assert!(supervisors.contains_key(&UnitId::new("social-assistance").unwrap()));
    }
}
