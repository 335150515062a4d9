//! The live catalogue (MISSION.md: "the catalogue is data, not code"; Form 1 其他): the
//! permission administrator (§7, 權限管理者) adds, renames and retires service items and
//! legal bases. Each change, and each refusal, is audited as `admin.catalogue.changed`.
//!
//! A retired entry stays in the catalogue so old records keep naming it: existing grants and
//! registrations still display it, while new ones cannot use it (permission applications and
//! registrations accept only active entries, and `grants::StoreGrants` no longer counts a
//! grant for a retired item).

use jiff::Timestamp;
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::catalogue::{LegalBasis, LegalBasisId, ServiceItem, ServiceItemCode};
use querywarden_domain::org::{Person, Role};
use querywarden_storage::Store;

use crate::AppError;

/// The longest name or text kept in the catalogue.
pub const TEXT_MAX_CHARS: usize = 200;

/// One change to the catalogue, as typed in (web form or JSON). Parsed by [`change`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CatalogueChange {
    AddItem {
        code: String,
        name_zh: String,
        name_en: String,
    },
    RenameItem {
        code: String,
        name_zh: String,
        name_en: String,
    },
    RetireItem {
        code: String,
    },
    AddBasis {
        id: String,
        law: String,
        article: String,
        #[serde(default)]
        summary_zh: String,
        /// The kind of case it serves (`explicit_data_request`, `periodic_review`, …); also
        /// the case type results' retention follows (§6).
        kind: String,
    },
    RenameBasis {
        id: String,
        law: String,
        article: String,
        #[serde(default)]
        summary_zh: String,
    },
    RetireBasis {
        id: String,
    },
}

impl CatalogueChange {
    /// Stable name of the operation (audit detail).
    pub fn op(&self) -> &'static str {
        match self {
            Self::AddItem { .. } => "add_item",
            Self::RenameItem { .. } => "rename_item",
            Self::RetireItem { .. } => "retire_item",
            Self::AddBasis { .. } => "add_basis",
            Self::RenameBasis { .. } => "rename_basis",
            Self::RetireBasis { .. } => "retire_basis",
        }
    }

    fn key(&self) -> &str {
        match self {
            Self::AddItem { code, .. }
            | Self::RenameItem { code, .. }
            | Self::RetireItem { code } => code,
            Self::AddBasis { id, .. } | Self::RenameBasis { id, .. } | Self::RetireBasis { id } => {
                id
            }
        }
    }
}

/// Why a change was refused. Messages never echo the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueRefusal {
    #[error("只有權限管理者可以維護查調項目與法令依據目錄（§7）")]
    NotAdministrator,
    #[error("{0}")]
    Invalid(#[from] querywarden_domain::catalogue::CatalogueError),
    #[error("名稱與內容須為 1 至 200 個字，不得含控制字元")]
    Text,
    #[error("目錄中已有此代碼；要改名請用「更名」")]
    Exists,
    #[error("目錄中沒有此代碼")]
    NotFound,
    #[error("此項目已停用；已停用的項目保留於目錄以供舊紀錄顯示，不能再更動")]
    Retired,
}

impl CatalogueRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAdministrator => "catalogue.not_administrator",
            Self::Invalid(e) => e.code(),
            Self::Text => "catalogue.text",
            Self::Exists => "catalogue.exists",
            Self::NotFound => "catalogue.not_found",
            Self::Retired => "catalogue.retired",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotAdministrator => {
                "only the permission administrator maintains the catalogue (§7)".into()
            }
            Self::Invalid(e) => e.message_en(),
            Self::Text => {
                "names and texts must be 1 to 200 characters, no control characters".into()
            }
            Self::Exists => "the catalogue already has this code; rename it instead".into(),
            Self::NotFound => "the catalogue has no such code".into(),
            Self::Retired => {
                "this entry is retired; it stays only so old records can name it".into()
            }
        }
    }
}

fn text(s: &str, required: bool) -> Result<String, CatalogueRefusal> {
    let t = s.trim();
    let n = t.chars().count();
    if (required && n == 0) || n > TEXT_MAX_CHARS || t.chars().any(char::is_control) {
        return Err(CatalogueRefusal::Text);
    }
    Ok(t.to_string())
}

fn kind(s: &str) -> Result<String, CatalogueRefusal> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.len() <= 60
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(t.to_string())
    } else {
        Err(CatalogueRefusal::Text)
    }
}

/// The entry a rename or a retirement acts on: one that exists and is still in use.
fn in_use<T>(found: Option<&T>, active: impl Fn(&T) -> bool) -> Result<&T, CatalogueRefusal> {
    let old = found.ok_or(CatalogueRefusal::NotFound)?;
    if !active(old) {
        return Err(CatalogueRefusal::Retired);
    }
    Ok(old)
}

/// What the change does to the stored catalogue, decided from the current entries.
enum Write {
    Item(ServiceItem),
    Basis(LegalBasis),
}

fn plan(
    change: &CatalogueChange,
    items: &[ServiceItem],
    bases: &[LegalBasis],
) -> Result<Write, CatalogueRefusal> {
    let item = |code: &str| -> Result<(ServiceItemCode, Option<&ServiceItem>), CatalogueRefusal> {
        let code = ServiceItemCode::parse(code)?;
        let found = items.iter().find(|i| i.code == code);
        Ok((code, found))
    };
    let basis = |id: &str| -> Result<(LegalBasisId, Option<&LegalBasis>), CatalogueRefusal> {
        let id = LegalBasisId::new(id.trim())?;
        let found = bases.iter().find(|b| b.id == id);
        Ok((id, found))
    };
    Ok(match change {
        CatalogueChange::AddItem {
            code,
            name_zh,
            name_en,
        } => {
            let (code, found) = item(code)?;
            if found.is_some() {
                return Err(CatalogueRefusal::Exists);
            }
            Write::Item(ServiceItem {
                code,
                name_zh: text(name_zh, true)?,
                name_en: text(name_en, true)?,
                active: true,
            })
        }
        CatalogueChange::RenameItem {
            code,
            name_zh,
            name_en,
        } => {
            let old = in_use(item(code)?.1, |e| e.active)?;
            Write::Item(ServiceItem {
                name_zh: text(name_zh, true)?,
                name_en: text(name_en, true)?,
                ..old.clone()
            })
        }
        CatalogueChange::RetireItem { code } => {
            let old = in_use(item(code)?.1, |e| e.active)?;
            Write::Item(ServiceItem {
                active: false,
                ..old.clone()
            })
        }
        CatalogueChange::AddBasis {
            id,
            law,
            article,
            summary_zh,
            kind: k,
        } => {
            let (id, found) = basis(id)?;
            if found.is_some() {
                return Err(CatalogueRefusal::Exists);
            }
            let article = text(article, true)?;
            Write::Basis(LegalBasis {
                id,
                law: text(law, true)?,
                article_short: article.clone(),
                article,
                summary_zh: text(summary_zh, false)?,
                kind: kind(k)?,
                programmes: Vec::new(),
                active: true,
            })
        }
        CatalogueChange::RenameBasis {
            id,
            law,
            article,
            summary_zh,
        } => {
            let old = in_use(basis(id)?.1, |e| e.active)?;
            Write::Basis(LegalBasis {
                law: text(law, true)?,
                article: text(article, true)?,
                summary_zh: text(summary_zh, false)?,
                ..old.clone()
            })
        }
        CatalogueChange::RetireBasis { id } => {
            let old = in_use(basis(id)?.1, |e| e.active)?;
            Write::Basis(LegalBasis {
                active: false,
                ..old.clone()
            })
        }
    })
}

/// Applies one change for `who`, who must be the permission administrator. One transaction
/// with its `admin.catalogue.changed` record; a refusal is audited too.
pub async fn change(
    store: &Store,
    who: &Person,
    change: &CatalogueChange,
    now: Timestamp,
    request_id: &str,
) -> Result<Result<(), CatalogueRefusal>, AppError> {
    // The key goes into the trail only once it has parsed as a code (never free text).
    let key_ok = ServiceItemCode::parse(change.key()).is_ok()
        || LegalBasisId::new(change.key().trim()).is_ok();
    let ev = AuditEvent::system(now, AuditAction::CatalogueChanged, request_id)
        .by(Actor {
            person: who.id,
            role: Some(Role::PermissionAdministrator),
        })
        .on(
            "catalogue",
            if key_ok {
                change.key().trim().to_string()
            } else {
                "-".into()
            },
        )
        .detail("op", change.op());
    let decided = if who.has_role(Role::PermissionAdministrator) {
        plan(
            change,
            &store.service_items().await?,
            &store.legal_bases().await?,
        )
    } else {
        Err(CatalogueRefusal::NotAdministrator)
    };
    let mut tx = store.begin().await?;
    let write = match decided {
        Ok(w) => w,
        Err(r) => {
            tx.append_audit(&ev.outcome(Outcome::Refused(r.code().into())))
                .await?;
            tx.commit().await?;
            return Ok(Err(r));
        }
    };
    match &write {
        Write::Item(i) => tx.upsert_service_item(i).await?,
        Write::Basis(b) => tx.upsert_legal_basis(b).await?,
    }
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::StoreGrants;
    use crate::registration::GrantSource;
    use querywarden_domain::org::{Account, StaffStatus, UnitId};
    use querywarden_domain::roc_date::taipei_date;
    use querywarden_storage::{AuditFilter, NewPerson, StorageError};

    async fn demo_store() -> (Store, crate::keys::KeyRing, tempfile::TempDir, Timestamp) {
        let now: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        let store = Store::open_in_memory().await.unwrap();
        crate::demo::initialise(&store, now, "t").await.unwrap();
        crate::demo::seed_demo(&store, now, "t").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let keys = crate::keys::KeyRing::open_or_create(dir.path(), now).unwrap();
        (store, keys, dir, now)
    }

    async fn person(store: &Store, account: &str) -> Person {
        store
            .person_by_account(&Account::parse(account).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    async fn changed(store: &Store) -> Vec<String> {
        store
            .audit_search(&AuditFilter {
                action: Some("admin.catalogue.changed".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .rev() // oldest first
            .map(|r| r.outcome)
            .collect()
    }

    #[tokio::test]
    async fn the_administrator_adds_renames_and_retires_and_every_change_is_audited() {
        let (store, _keys, _dir, now) = demo_store().await;
        let admin = person(&store, "wu.zhiming").await;
        let lin = person(&store, "lin.meiling").await;
        let add = CatalogueChange::AddItem {
            code: "x0901".into(),
            name_zh: "其他：就業保險給付".into(),
            name_en: "other: employment insurance benefits".into(),
        };
        // Not the administrator: refused, audited, nothing changed.
        assert_eq!(
            change(&store, &lin, &add, now, "r").await.unwrap(),
            Err(CatalogueRefusal::NotAdministrator)
        );
        assert!(store.service_items().await.unwrap().len() == 9);
        change(&store, &admin, &add, now, "r")
            .await
            .unwrap()
            .unwrap();
        let items = store.service_items().await.unwrap();
        let x = items.iter().find(|i| i.code.as_str() == "X0901").unwrap();
        assert!(x.active && x.name_zh == "其他：就業保險給付");
        // Twice: exists. A bad code, an empty name: refused with their codes.
        let codes = |r: Result<(), CatalogueRefusal>| r.unwrap_err().code();
        assert_eq!(
            codes(change(&store, &admin, &add, now, "r").await.unwrap()),
            "catalogue.exists"
        );
        let bad = CatalogueChange::AddItem {
            code: "X09".into(),
            name_zh: "a".into(),
            name_en: "a".into(),
        };
        assert_eq!(
            codes(change(&store, &admin, &bad, now, "r").await.unwrap()),
            "catalogue.service_item_code"
        );
        let rename = CatalogueChange::RenameItem {
            code: "X0901".into(),
            name_zh: " ".into(),
            name_en: "x".into(),
        };
        assert_eq!(
            codes(change(&store, &admin, &rename, now, "r").await.unwrap()),
            "catalogue.text"
        );
        let rename = CatalogueChange::RenameItem {
            code: "X0901".into(),
            name_zh: "其他：就業保險給付資料".into(),
            name_en: "other: employment insurance benefit records".into(),
        };
        change(&store, &admin, &rename, now, "r")
            .await
            .unwrap()
            .unwrap();
        let retire = CatalogueChange::RetireItem {
            code: "X0901".into(),
        };
        change(&store, &admin, &retire, now, "r")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            codes(change(&store, &admin, &retire, now, "r").await.unwrap()),
            "catalogue.retired"
        );
        // Retired, it stays in the catalogue under its last name.
        let items = store.service_items().await.unwrap();
        let x = items.iter().find(|i| i.code.as_str() == "X0901").unwrap();
        assert!(!x.active && x.name_zh == "其他：就業保險給付資料");
        // Legal bases the same way.
        let basis = CatalogueChange::AddBasis {
            id: "kaohsiung-welfare-9-1".into(),
            law: "高雄市社會福利自治條例".into(),
            article: "第9條第1項".into(),
            summary_zh: "市府得洽請相關機關提供資料".into(),
            kind: "explicit_data_request".into(),
        };
        change(&store, &admin, &basis, now, "r")
            .await
            .unwrap()
            .unwrap();
        let retire = CatalogueChange::RetireBasis {
            id: "kaohsiung-welfare-9-1".into(),
        };
        change(&store, &admin, &retire, now, "r")
            .await
            .unwrap()
            .unwrap();
        let b = store.legal_bases().await.unwrap();
        let b = b
            .iter()
            .find(|b| b.id.as_str() == "kaohsiung-welfare-9-1")
            .unwrap();
        assert!(!b.active && b.kind == "explicit_data_request");
        let outcomes = changed(&store).await;
        assert_eq!(outcomes.iter().filter(|o| *o == "succeeded").count(), 5);
        assert_eq!(
            outcomes,
            vec![
                "refused:catalogue.not_administrator",
                "succeeded",
                "refused:catalogue.exists",
                "refused:catalogue.service_item_code",
                "refused:catalogue.text",
                "succeeded",
                "succeeded",
                "refused:catalogue.retired",
                "succeeded",
                "succeeded",
            ]
        );
    }

    #[tokio::test]
    async fn a_retired_item_keeps_its_grants_on_display_but_they_no_longer_count() {
        let (store, keys, _dir, now) = demo_store().await;
        crate::demo_grants::grant_demo_queriers(
            &store,
            &keys,
            &crate::permission::PermissionPolicy::default(),
            now,
            "g",
        )
        .await
        .unwrap();
        let lin = person(&store, "lin.meiling").await;
        let admin = person(&store, "wu.zhiming").await;
        let grants = StoreGrants::new(store.clone());
        let c0101 = ServiceItemCode::parse("C0101").unwrap();
        let today = taipei_date(now);
        assert!(
            grants
                .active_items(lin.id, today)
                .await
                .unwrap()
                .contains(&c0101)
        );
        let retire = CatalogueChange::RetireItem {
            code: "C0101".into(),
        };
        change(&store, &admin, &retire, now, "r")
            .await
            .unwrap()
            .unwrap();
        let active = grants.active_items(lin.id, today).await.unwrap();
        assert!(!active.contains(&c0101) && !active.is_empty());
        // The grant itself is still on record (and displayed).
        assert!(
            store
                .grants_of(lin.id)
                .await
                .unwrap()
                .iter()
                .any(|g| g.item == c0101)
        );
    }

    #[tokio::test]
    async fn there_is_one_permission_administrator_at_a_time() {
        let (store, _keys, _dir, now) = demo_store().await;
        let mut tx = store.begin().await.unwrap();
        let second = tx
            .insert_person(
                &NewPerson {
                    account: Account::parse("second.admin").unwrap(),
                    name: "第二位".into(),
                    title: "資訊管理師".into(),
                    unit: UnitId::new("it-group").unwrap(),
                    roles: [Role::PermissionAdministrator, Role::Staff].into(),
                    status: StaffStatus::Active,
                },
                &now.to_string(),
            )
            .await;
        assert!(
            matches!(second, Err(StorageError::Constraint(_))),
            "{second:?}"
        );
    }
}
