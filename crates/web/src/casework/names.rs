//! Names instead of ids: people, units, legal bases and service items, read through the
//! app's directory.

use querywarden_app::AppError;
use querywarden_app::directory::Directory;
use querywarden_app::registration as reg;
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
        Ok(Names::new(
            reg::directory(&state.app.desk(), viewer).await?,
            m,
        ))
    }

    /// `directory`, read through another area's door, in the reader's language.
    pub fn new(directory: Directory, m: &Messages) -> Names {
        Names {
            directory,
            m: m.clone(),
        }
    }

    pub fn person(&self, id: PersonId) -> String {
        self.directory
            .staff(id, |name, account| self.m.staff(name, account))
            .unwrap_or_else(|| format!("#{}", id.get()))
    }

    pub fn unit(&self, id: &UnitId) -> String {
        self.directory.unit_name(id)
    }

    pub fn basis(&self, id: &LegalBasisId) -> String {
        self.directory.basis(id)
    }

    pub fn item(&self, code: &ServiceItemCode) -> String {
        self.directory.item(code.as_str(), self.m.is_zh())
    }

    /// The item's name alone in the reader's language (empty for an unknown code).
    pub fn item_name(&self, code: &ServiceItemCode) -> String {
        self.directory
            .item_name(code.as_str(), self.m.is_zh())
            .map(str::to_string)
            .unwrap_or_default()
    }
}
