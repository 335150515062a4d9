//! The reads the registration and Form 3 pages need beside the use cases (§4–§6): names for
//! the ids a page shows, the choices of the Form 2 form, who a registration waits for, and
//! the checkpoint printed on a result print. The web layer reads nothing from storage itself
//! (STYLE rule 4); each read here says who may make it.
//!
//! Security-sensitive only in what it leaves out: no subject's name or national ID passes
//! here, only staff, units and the catalogues that every Form names.

use std::collections::BTreeSet;

use jiff::Timestamp;
use querywarden_domain::catalogue::ServiceItemCode;
use querywarden_domain::org::{Person, Role};
use querywarden_domain::permission::acting::Signer;
use querywarden_domain::registration::{self as reg, Registration};
use querywarden_domain::roc_date::RocDate;

use super::{Desk, GrantSource, roster_on};
use crate::AppError;
use crate::directory::Directory;

/// The directory as `viewer` sees it. Every signed-in member of staff may read it: Forms 2
/// and 3 name the parties, their units, the legal basis and the items on every copy.
pub async fn directory<G: GrantSource>(
    desk: &Desk<'_, G>,
    _viewer: &Person,
) -> Result<Directory, AppError> {
    Ok(Directory::load(desk.store).await?)
}

/// What the Form 2 form offers `filer`: the colleagues of the filer's own unit (needers and
/// queriers, §5 ¶2) and the items the unit's queriers hold on `date` (§2).
#[derive(Debug, Clone)]
pub struct RegisterChoices {
    pub colleagues: Vec<Person>,
    pub held_items: BTreeSet<ServiceItemCode>,
}

/// The choices of the Form 2 form, limited to `filer`'s unit: nobody sees another unit's
/// staff or grants here.
pub async fn register_choices<G: GrantSource>(
    desk: &Desk<'_, G>,
    filer: &Person,
    date: RocDate,
) -> Result<RegisterChoices, AppError> {
    let colleagues: Vec<Person> = desk
        .store
        .persons()
        .await?
        .into_iter()
        .filter(|p| p.unit == filer.unit)
        .collect();
    let mut held_items = BTreeSet::new();
    for p in colleagues.iter().filter(|p| p.has_role(Role::Querier)) {
        held_items.extend(desk.grants.active_items(p.id, date).await?);
    }
    Ok(RegisterChoices {
        colleagues,
        held_items,
    })
}

/// §5 ¶1: who gives `r` its first approval now (see `reg::first_approver`), for pages that
/// name the person a registration waits for. `r` comes from a view the caller was allowed.
pub async fn pending_approver<G: GrantSource>(
    desk: &Desk<'_, G>,
    r: &Registration,
    now: Timestamp,
) -> Result<Option<Signer>, AppError> {
    Ok(reg::first_approver(r, &roster_on(desk.store, now).await?))
}

impl crate::App {
    /// §6 ¶2, §7: seals the trail up to and including a print just made and returns the
    /// latest signed checkpoint's note, printed on the copy so that it can later prove the
    /// trail that recorded the print was not rewritten.
    pub async fn checkpoint_for_print(&self) -> Result<Option<String>, AppError> {
        self.checkpoint_if_due(true).await?;
        Ok(self.inner.store.latest_checkpoint().await?.map(|c| c.note))
    }
}
