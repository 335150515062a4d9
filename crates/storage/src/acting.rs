//! Storage of acting supervisors (§5 ¶1, 代理): each unit's 代理人 with the period registered
//! for them, and which approvals were given as 代理.

use std::collections::BTreeMap;

use querywarden_domain::org::{PersonId, UnitId};
use querywarden_domain::permission::acting::DeputyTerm;
use querywarden_domain::registration::RegistrationId;
use querywarden_domain::roc_date::RocDate;

use crate::decode::{decode, opt_roc, roc_text};
use crate::error::StorageError;
use crate::fetch::{Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

impl Store {
    /// Every unit's deputy with their registered period (open ends for standing deputies).
    pub async fn unit_deputy_terms(&self) -> Result<BTreeMap<UnitId, DeputyTerm>, StorageError> {
        sqlx::query_as("SELECT unit_id, person_id, valid_from, valid_until FROM unit_deputies")
            .all(&self.reader, |(u, p, from, until): (String, i64, _, _)| {
                Ok((
                    decode("unit", UnitId::new(u))?,
                    DeputyTerm {
                        person: PersonId::new(p),
                        from: opt_roc(from)?,
                        until: opt_roc(until)?,
                    },
                ))
            })
            .await
    }

    /// §5 ¶1: the approval of registration `id` given as 代理, if any: (approver, the
    /// supervisor acted for).
    pub async fn acting_approvals(
        &self,
        id: RegistrationId,
    ) -> Result<Vec<(PersonId, Option<PersonId>)>, StorageError> {
        sqlx::query_as(
            "SELECT person_id, acting_for FROM registration_decisions \
             WHERE registration_id = $1 AND acting = 1 ORDER BY id",
        )
        .bind(id.get())
        .all(&self.reader, |(p, f): (i64, Option<i64>)| {
            Ok((PersonId::new(p), f.map(PersonId::new)))
        })
        .await
    }
}

impl WriteTx {
    /// Registers `unit`'s deputy for the term's period (replacing the unit's deputy).
    pub async fn set_deputy_term(
        &mut self,
        unit: &UnitId,
        term: &DeputyTerm,
    ) -> Result<(), StorageError> {
        let day = |d: Option<RocDate>| d.map(roc_text);
        sqlx::query(
            "INSERT INTO unit_deputies (unit_id, person_id, valid_from, valid_until) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (unit_id) DO UPDATE SET \
             person_id = excluded.person_id, valid_from = excluded.valid_from, \
             valid_until = excluded.valid_until",
        )
        .bind(unit.as_str())
        .bind(term.person.get())
        .bind(day(term.from))
        .bind(day(term.until))
        .execute_in(self)
        .await?;
        Ok(())
    }
}
