//! Staff, units, legal bases and service items (名冊與目錄), so a page or a document names
//! them instead of showing ids. The registration, permission and oversight doors each return
//! a [`Directory`] behind their own check of who may read it; the documents read it for the
//! names and seals they print.
//!
//! Security-sensitive only in what it leaves out: staff names and accounts, never a national
//! ID, nothing about a subject (§9).

use std::collections::BTreeMap;

use querywarden_domain::catalogue::{LegalBasis, LegalBasisId, ServiceItem};
use querywarden_domain::org::{Person, PersonId, Unit, UnitId};
use querywarden_storage::{StorageError, Store};

/// Staff by id, units, legal bases and service items.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub persons: BTreeMap<PersonId, Person>,
    /// In the register's order (the pages list them so).
    pub units: Vec<Unit>,
    pub bases: Vec<LegalBasis>,
    /// In catalogue order, the inactive ones too (old records still name them).
    pub items: Vec<ServiceItem>,
}

impl Directory {
    /// Reads the whole directory; whoever calls this has decided the reader may see it.
    pub(crate) async fn load(store: &Store) -> Result<Directory, StorageError> {
        Ok(Directory {
            persons: store.persons_by_id().await?,
            units: store.units().await?,
            bases: store.legal_bases().await?,
            items: store.service_items().await?,
        })
    }

    /// `write(name, account)` for person `p` (each reader has its own brackets), or `None`
    /// when nobody has the id.
    pub fn staff(&self, p: PersonId, write: impl FnOnce(&str, &str) -> String) -> Option<String> {
        self.persons
            .get(&p)
            .map(|x| write(&x.name, x.account.as_str()))
    }

    /// The person's account (`wang.xiaoming`), or the id when nobody has it.
    pub fn account(&self, p: PersonId) -> String {
        self.persons
            .get(&p)
            .map_or_else(|| p.to_string(), |x| x.account.as_str().to_string())
    }

    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.units.iter().find(|u| &u.id == id)
    }

    /// The unit's name (`社會救助科`), or its id when the register has no such unit.
    pub fn unit_name(&self, id: &UnitId) -> String {
        self.unit(id)
            .map_or_else(|| id.as_str().to_string(), |u| u.name_zh.clone())
    }

    /// Law and article (`社會救助法 第44條之3第1項`), or the id when the catalogue has none.
    pub fn basis(&self, id: &LegalBasisId) -> String {
        self.bases.iter().find(|b| &b.id == id).map_or_else(
            || id.as_str().to_string(),
            |b| format!("{} {}", b.law, b.article),
        )
    }

    /// The item's name in Chinese or English, if the catalogue has the code.
    pub fn item_name(&self, code: &str, zh: bool) -> Option<&str> {
        self.items
            .iter()
            .find(|i| i.code.as_str() == code)
            .map(|i| {
                if zh {
                    i.name_zh.as_str()
                } else {
                    i.name_en.as_str()
                }
            })
    }

    /// Code and name (`C0101 被保險人投保資料`), or the code alone when the catalogue has
    /// none.
    pub fn item(&self, code: &str, zh: bool) -> String {
        self.item_name(code, zh)
            .map_or_else(|| code.to_string(), |name| format!("{code} {name}"))
    }
}
