//! Names instead of ids: people, units, legal bases and service items, read through the
//! app's directory.

use querywarden_app::AppError;
use querywarden_app::registration::{self as reg, Directory};
use querywarden_domain::catalogue::{LegalBasisId, ServiceItemCode};
use querywarden_domain::org::{PersonId, UnitId};

use crate::AppState;
use crate::i18n::Messages;

/// The directory, with the display form of each kind of id in the reader's language.
pub(crate) struct Names {
    directory: Directory,
    m: Messages,
}

impl std::ops::Deref for Names {
    type Target = Directory;

    fn deref(&self) -> &Directory {
        &self.directory
    }
}

impl Names {
    pub async fn load(
        state: &AppState,
        viewer: &querywarden_domain::org::Person,
        m: &Messages,
    ) -> Result<Names, AppError> {
        Ok(Names {
            directory: reg::directory(&state.app.desk(), viewer).await?,
            m: m.clone(),
        })
    }

    pub fn person(&self, id: PersonId) -> String {
        self.persons.get(&id).map_or_else(
            || format!("#{}", id.get()),
            |p| self.m.staff(&p.name, p.account.as_str()),
        )
    }

    pub fn unit(&self, id: &UnitId) -> String {
        self.units
            .iter()
            .find(|u| &u.id == id)
            .map_or_else(|| id.as_str().to_string(), |u| u.name_zh.clone())
    }

    pub fn basis(&self, id: &LegalBasisId) -> String {
        self.bases.iter().find(|b| &b.id == id).map_or_else(
            || id.as_str().to_string(),
            |b| format!("{} {}", b.law, b.article),
        )
    }

    pub fn item(&self, code: &ServiceItemCode, m: &Messages) -> String {
        self.items.iter().find(|i| &i.code == code).map_or_else(
            || code.as_str().to_string(),
            |i| {
                format!(
                    "{} {}",
                    code.as_str(),
                    if m.is_zh() { &i.name_zh } else { &i.name_en }
                )
            },
        )
    }
}
