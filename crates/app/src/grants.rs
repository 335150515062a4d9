//! The registration desk's [`GrantSource`] over the grants (§2): the service items a
//! person may query on a date are those of their grants in force that day — not ended, not
//! suspended by a personnel change, effective on or before the date.
//!
//! Security-sensitive: registration (§5, items within the querier's grants) and execution (the
//! policy re-check) read a querier's rights only through this.

use std::collections::BTreeSet;

use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::PersonId;
use querywarden_domain::permission::active_items;
use querywarden_domain::roc_date::RocDate;
use querywarden_storage::Store;

use crate::AppError;
use crate::registration::GrantSource;

/// Grants as stored by the permission use cases. Cheap to clone (the store is a pool handle).
#[derive(Clone)]
pub struct StoreGrants {
    store: Store,
}

impl StoreGrants {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl std::fmt::Debug for StoreGrants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreGrants")
    }
}

impl GrantSource for StoreGrants {
    async fn active_items(
        &self,
        person: PersonId,
        date: RocDate,
    ) -> Result<BTreeSet<ServiceItemCode>, AppError> {
        let grants = self.store.grants_of(person).await?;
        // A retired catalogue item keeps its grants on display but no longer counts: new
        // registrations and executions cannot use it.
        let retired: BTreeSet<ServiceItemCode> = self
            .store
            .service_items()
            .await?
            .into_iter()
            .filter(|i| !i.active)
            .map(|i| i.code)
            .collect();
        Ok(active_items(&grants, date)
            .into_iter()
            .filter(|i| !retired.contains(i))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::keys::KeyRing;
    use crate::permission::{self, Op, PermissionPolicy};
    use jiff::Timestamp;
    use querywarden_domain::NationalId;
    use querywarden_domain::org::Account;
    use querywarden_domain::permission::{
        ApplicationForm, ApplicationKind, Confirmations, StepDecision,
    };
    use querywarden_domain::roc_date::taipei_date;

    #[tokio::test]
    async fn only_grants_in_force_on_the_day_count() {
        let store = Store::open_in_memory().await.unwrap();
        let now: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        demo::initialise(&store, now, "t").await.unwrap();
        demo::seed_demo(&store, now, "t").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyRing::open_or_create(dir.path(), now).unwrap();
        let id = |a: &str| {
            let store = store.clone();
            let a = a.to_string();
            async move {
                store
                    .person_by_account(&Account::parse(&a).unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let lin = id("lin.meiling").await;
        let grants = StoreGrants::new(store.clone());
        let today = taipei_date(now);
        assert!(grants.active_items(lin, today).await.unwrap().is_empty());
        let op = Op::new(now, "t");
        let form = ApplicationForm {
            kind: ApplicationKind::New,
            reason: "辦理低收入戶資格審查".into(),
            national_id: NationalId::parse("A123456789").unwrap(),
            phone: "07-7344800".into(),
            email: "lin@example.org".into(),
            egov_account: "egov-lin".into(),
            items: [ServiceItemCode::parse("C0101").unwrap()].into(),
            confirmations: Confirmations {
                read_pdpa_and_rules: true,
                has_certificate_and_reader: true,
            },
        };
        let app = permission::create_application(&store, &keys, lin, form, &op)
            .await
            .unwrap();
        permission::submit_application(&store, lin, app.id, &op)
            .await
            .unwrap();
        let tomorrow = RocDate::from_civil(today.civil().tomorrow().unwrap()).unwrap();
        let policy = PermissionPolicy::default();
        for (who, from) in [
            ("chen.jianhong", None),
            ("wu.zhiming", Some(tomorrow)),
            ("zhang.shuhui", None),
        ] {
            let cap = permission::approver_at_step(&store, &policy, id(who).await, app.id, &op)
                .await
                .unwrap();
            permission::decide_step(
                &store,
                &cap,
                StepDecision::Approve {
                    effective_from: from,
                    comment: String::new(),
                },
                &op,
            )
            .await
            .unwrap();
        }
        assert!(grants.active_items(lin, today).await.unwrap().is_empty());
        assert_eq!(
            grants.active_items(lin, tomorrow).await.unwrap(),
            [ServiceItemCode::parse("C0101").unwrap()].into()
        );
    }
}
