//! Storage of acting supervisors (§5 ¶1, 代理): each unit's 代理人 with the period registered
//! for them, and which approvals were given as 代理.

use std::collections::BTreeMap;

use querywarden_domain::org::{PersonId, UnitId};
use querywarden_domain::permission::acting::DeputyTerm;
use querywarden_domain::registration::RegistrationId;
use querywarden_domain::roc_date::RocDate;

use crate::error::{StorageError, classify};
use crate::sqlite::{Store, WriteTx};

fn opt_date(s: Option<String>) -> Result<Option<RocDate>, StorageError> {
    s.map(|s| {
        let d = s
            .parse::<jiff::civil::Date>()
            .map_err(|e| StorageError::Decode(format!("date: {e}")))?;
        RocDate::from_civil(d).map_err(|e| StorageError::Decode(format!("date: {e}")))
    })
    .transpose()
}

impl Store {
    /// Every unit's deputy with their registered period (open ends for standing deputies).
    pub async fn unit_deputy_terms(&self) -> Result<BTreeMap<UnitId, DeputyTerm>, StorageError> {
        let rows: Vec<(String, i64, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT unit_id, person_id, valid_from, valid_until FROM unit_deputies")
                .fetch_all(&self.reader)
                .await
                .map_err(classify)?;
        rows.into_iter()
            .map(|(u, p, from, until)| {
                Ok((
                    UnitId::new(u).map_err(|e| StorageError::Decode(e.to_string()))?,
                    DeputyTerm {
                        person: PersonId::new(p),
                        from: opt_date(from)?,
                        until: opt_date(until)?,
                    },
                ))
            })
            .collect()
    }

    /// §5 ¶1: the approval of registration `id` given as 代理, if any: (approver, the
    /// supervisor acted for).
    pub async fn acting_approvals(
        &self,
        id: RegistrationId,
    ) -> Result<Vec<(PersonId, Option<PersonId>)>, StorageError> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT person_id, acting_for FROM registration_decisions \
             WHERE registration_id = $1 AND acting = 1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(p, f)| (PersonId::new(p), f.map(PersonId::new)))
            .collect())
    }
}

impl WriteTx {
    /// Registers `unit`'s deputy for the term's period (replacing the unit's deputy).
    pub async fn set_deputy_term(
        &mut self,
        unit: &UnitId,
        term: &DeputyTerm,
    ) -> Result<(), StorageError> {
        let day = |d: Option<RocDate>| d.map(|d| d.civil().to_string());
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
        .execute(&mut *self.tx)
        .await
        .map_err(|e| self.noted(classify(e)))?;
        Ok(())
    }
}
