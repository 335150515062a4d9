//! DEMO only (compiled with the `demo` feature): gives the demo queriers (lin.meiling and
//! li.guowei) grants for every service item, so that the registration pages can be tried at
//! once. The grants are made the real way — a Form 1 through the use cases, signed off
//! by the supervisor, the permission administrator and the countersigner — so the audit trail
//! shows exactly how they came to be. Runs once: a person who holds any grant is skipped.

use jiff::Timestamp;
use querywarden_domain::NationalId;
use querywarden_domain::org::{Account, PersonId};
use querywarden_domain::permission::{
    ApplicationForm, ApplicationKind, Confirmations, StepDecision,
};
use querywarden_storage::Store;

use crate::AppError;
use crate::keys::KeyRing;
use crate::permission::{self, Op, PermissionError, PermissionPolicy};

/// Who gets demo grants, and their unit supervisor (first sign-off).
const DEMO_QUERIERS: [(&str, &str); 2] =
    [("lin.meiling", "chen.jianhong"), ("li.guowei", "xu.wenjie")];
const ADMINISTRATOR: &str = "wu.zhiming";
const COUNTERSIGNER: &str = "zhang.shuhui";

fn seed_err(e: PermissionError) -> AppError {
    match e {
        PermissionError::App(e) => e,
        other => AppError::Seed {
            what: format!("demo grants: {other} ({})", other.code()),
            source: None,
        },
    }
}

async fn person_id(store: &Store, account: &str) -> Result<Option<PersonId>, AppError> {
    let account = Account::parse(account).map_err(|e| AppError::seed("demo grants account", e))?;
    Ok(store.person_by_account(&account).await?.map(|p| p.id))
}

/// An invented, valid national ID whose last four digits are those on record (the Form 1
/// check compares them).
fn invented_id(last4: Option<&str>) -> Option<NationalId> {
    let last4 = last4.unwrap_or("6789");
    (0..10_000)
        .map(|n| format!("A1{n:04}{last4}"))
        .find_map(|s| NationalId::parse(&s).ok())
}

/// Grants every active service item to each demo querier who holds no grant yet, through a
/// Form 1 approved at every step. Returns how many people were granted.
pub async fn grant_demo_queriers(
    store: &Store,
    keys: &KeyRing,
    policy: &PermissionPolicy,
    now: Timestamp,
    request_id: &str,
) -> Result<usize, AppError> {
    let op = Op::new(now, request_id);
    let items: std::collections::BTreeSet<_> = store
        .service_items()
        .await?
        .into_iter()
        .filter(|i| i.active)
        .map(|i| i.code)
        .collect();
    let mut granted = 0;
    for (querier, supervisor) in DEMO_QUERIERS {
        let Some(who) = person_id(store, querier).await? else {
            continue;
        };
        if !store.grants_of(who).await?.is_empty() {
            continue;
        }
        let last4 = store.person_id_last4(who).await?;
        let Some(national_id) = invented_id(last4.as_deref()) else {
            continue;
        };
        let form = ApplicationForm {
            kind: ApplicationKind::New,
            reason: "示範環境：辦理社會救助及老人福利業務查調".into(),
            national_id,
            phone: "07-3373000".into(),
            email: format!("{querier}@demo.invalid"),
            egov_account: format!("demo-{querier}"),
            items: items.clone(),
            confirmations: Confirmations {
                read_pdpa_and_rules: true,
                has_certificate_and_reader: true,
            },
        };
        let app = permission::create_application(store, keys, who, form, &op)
            .await
            .map_err(seed_err)?;
        permission::submit_application(store, who, app.id, &op)
            .await
            .map_err(seed_err)?;
        for (signer, effective_from) in [
            (supervisor, None),
            (ADMINISTRATOR, Some(op.today())),
            (COUNTERSIGNER, None),
        ] {
            let Some(signer) = person_id(store, signer).await? else {
                return Err(AppError::Seed {
                    what: format!("demo grants: no {signer}"),
                    source: None,
                });
            };
            let cap = permission::approver_at_step(store, policy, signer, app.id, &op)
                .await
                .map_err(seed_err)?;
            permission::decide_step(
                store,
                &cap,
                StepDecision::Approve {
                    effective_from,
                    comment: "示範環境同意".into(),
                },
                &op,
            )
            .await
            .map_err(seed_err)?;
        }
        granted += 1;
    }
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::StoreGrants;
    use crate::registration::GrantSource;
    use querywarden_domain::roc_date::taipei_date;

    #[tokio::test]
    async fn both_demo_queriers_get_every_item_once() {
        let store = Store::open_in_memory().await.unwrap();
        let now = Timestamp::now();
        crate::demo::initialise(&store, now, "t").await.unwrap();
        crate::demo::seed_demo(&store, now, "t").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyRing::open_or_create(dir.path(), now).unwrap();
        let policy = PermissionPolicy::default();
        assert_eq!(
            grant_demo_queriers(&store, &keys, &policy, now, "t")
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            grant_demo_queriers(&store, &keys, &policy, now, "t")
                .await
                .unwrap(),
            0
        );
        let grants = StoreGrants::new(store.clone());
        for a in ["lin.meiling", "li.guowei"] {
            let id = person_id(&store, a).await.unwrap().unwrap();
            let active = grants.active_items(id, taipei_date(now)).await.unwrap();
            assert_eq!(active.len(), 9, "{a}");
        }
        assert!(invented_id(Some("1234")).unwrap().last4() == "1234");
    }
}
