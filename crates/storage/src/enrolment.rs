//! Storage of enrolment codes and the first installation (§3): codes (only their SHA-256),
//! failed attempts for the rate limit, the identity `init` records, unit deputies and
//! supervisor roles, and the certificate revocation lists the server loads.
//!
//! Security-sensitive: a code row opens an account once. Marking a code used is one
//! conditional UPDATE, so two simultaneous uses of one code cannot both succeed.

use std::collections::BTreeMap;

use jiff::Timestamp;
use querywarden_domain::enrolment::{CodeLife, CodePurpose};
use querywarden_domain::org::{PersonId, Role, Unit, UnitId};

use crate::decode::{coded, decode, opt_ts, ts};
use crate::error::StorageError;
use crate::fetch::{Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// A stored enrolment code (never the code itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCodeRow {
    pub id: i64,
    pub person: PersonId,
    pub purpose: CodePurpose,
    pub issued_at: Timestamp,
    pub life: CodeLife,
}

/// A code about to be stored.
#[derive(Debug, Clone)]
pub struct NewEnrolmentCode<'a> {
    pub person: PersonId,
    pub code_hash: &'a str,
    pub purpose: CodePurpose,
    pub reason: &'a str,
    pub issued_by: Option<PersonId>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The national ID `init` records: digest and masked form only.
#[derive(Debug, Clone)]
pub struct PersonIdentity {
    pub national_id_hmac: String,
    pub hmac_key_id: String,
    pub national_id_masked: String,
    pub egov_account: String,
}

/// A CRL as kept in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCrl {
    pub issuer_dn: String,
    pub issuer_key_id: String,
    pub source: String,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub revoked_count: u64,
    pub der: Vec<u8>,
    pub loaded_at: Timestamp,
}

/// The last fetch of one configured CRL address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlFetchRow {
    pub url: String,
    pub attempted_at: Timestamp,
    pub succeeded_at: Option<Timestamp>,
    pub error: Option<String>,
}

/// Instants as fixed-width text (microseconds, `Z`), so that comparing them as text in SQL
/// compares them in time.
trait Fixed {
    fn fixed(&self) -> String;
}

impl Fixed for Timestamp {
    fn fixed(&self) -> String {
        querywarden_domain::audit_event::format_instant(*self)
    }
}

type CodeTuple = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn code_from(t: CodeTuple) -> Result<EnrolmentCodeRow, StorageError> {
    let (id, person, purpose, issued, expires, used, superseded) = t;
    Ok(EnrolmentCodeRow {
        id,
        person: PersonId::new(person),
        purpose: coded("code purpose", &purpose, CodePurpose::parse_code)?,
        issued_at: ts(&issued)?,
        life: CodeLife {
            expires_at: ts(&expires)?,
            used_at: opt_ts(used)?,
            superseded_at: opt_ts(superseded)?,
        },
    })
}

const CODE_COLUMNS: &str = "id, person_id, purpose, issued_at, expires_at, used_at, superseded_at";

impl Store {
    /// Whether any permission administrator is on record (then `init` is refused).
    pub async fn administrator_exists(&self) -> Result<bool, StorageError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM person_roles WHERE role = $1")
            .bind(Role::PermissionAdministrator.code())
            .one(&self.reader)
            .await?;
        Ok(n > 0)
    }

    pub async fn enrolment_code_by_hash(
        &self,
        code_hash: &str,
    ) -> Result<Option<EnrolmentCodeRow>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {CODE_COLUMNS} FROM enrolment_codes WHERE code_hash = $1"
        ))
        .bind(code_hash)
        .optional(&self.reader, code_from)
        .await
    }

    /// A person's codes, newest first (for the administrator's page; never the codes).
    pub async fn enrolment_codes_of(
        &self,
        person: PersonId,
    ) -> Result<Vec<EnrolmentCodeRow>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {CODE_COLUMNS} FROM enrolment_codes WHERE person_id = $1 ORDER BY id DESC"
        ))
        .bind(person.get())
        .all(&self.reader, code_from)
        .await
    }

    /// Failed enrolment attempts from `client_addr` since `since`.
    pub async fn enrolment_failures_since(
        &self,
        client_addr: &str,
        since: Timestamp,
    ) -> Result<u32, StorageError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM enrolment_failures WHERE client_addr = $1 AND at >= $2",
        )
        .bind(client_addr)
        .bind(since.fixed())
        .one(&self.reader)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub async fn unit_deputies(&self) -> Result<BTreeMap<UnitId, PersonId>, StorageError> {
        sqlx::query_as("SELECT unit_id, person_id FROM unit_deputies")
            .all(&self.reader, |(u, p): (String, i64)| {
                Ok((decode("unit", UnitId::new(u))?, PersonId::new(p)))
            })
            .await
    }

    pub async fn revocation_lists(&self) -> Result<Vec<StoredCrl>, StorageError> {
        sqlx::query_as(
            "SELECT issuer_dn, issuer_key_id, source, this_update, next_update, revoked_count, \
             der, loaded_at FROM revocation_lists ORDER BY issuer_dn, issuer_key_id",
        )
        .all(
            &self.reader,
            |(dn, aki, source, this, next, count, der, loaded): (
                _,
                _,
                _,
                String,
                _,
                i64,
                _,
                String,
            )| {
                Ok(StoredCrl {
                    issuer_dn: dn,
                    issuer_key_id: aki,
                    source,
                    this_update: ts(&this)?,
                    next_update: opt_ts(next)?,
                    revoked_count: u64::try_from(count).unwrap_or(0),
                    der,
                    loaded_at: ts(&loaded)?,
                })
            },
        )
        .await
    }

    pub async fn crl_fetches(&self) -> Result<Vec<CrlFetchRow>, StorageError> {
        sqlx::query_as(
            "SELECT url, attempted_at, succeeded_at, error FROM crl_fetches ORDER BY url",
        )
        .all(&self.reader, |(url, at, ok, error): (_, String, _, _)| {
            Ok(CrlFetchRow {
                url,
                attempted_at: ts(&at)?,
                succeeded_at: opt_ts(ok)?,
                error,
            })
        })
        .await
    }
}

impl WriteTx {
    /// Stores a new code; the person's older unused codes stop working (superseded).
    pub async fn insert_enrolment_code(
        &mut self,
        c: &NewEnrolmentCode<'_>,
    ) -> Result<i64, StorageError> {
        sqlx::query(
            "UPDATE enrolment_codes SET superseded_at = $1 \
             WHERE person_id = $2 AND used_at IS NULL AND superseded_at IS NULL",
        )
        .bind(c.issued_at.fixed())
        .bind(c.person.get())
        .execute_in(self)
        .await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO enrolment_codes (person_id, code_hash, purpose, reason, issued_by, \
             issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(c.person.get())
        .bind(c.code_hash)
        .bind(c.purpose.code())
        .bind(c.reason)
        .bind(c.issued_by.map(PersonId::get))
        .bind(c.issued_at.fixed())
        .bind(c.expires_at.fixed())
        .one_in(self)
        .await?;
        Ok(id)
    }

    /// Marks a code used if it still is unused and current; false if someone was faster.
    pub async fn use_enrolment_code(
        &mut self,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE enrolment_codes SET used_at = $1 \
             WHERE id = $2 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $3",
        )
        .bind(now.fixed())
        .bind(id)
        .bind(now.fixed())
        .changed_in(self)
        .await
    }

    pub async fn record_enrolment_failure(
        &mut self,
        client_addr: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO enrolment_failures (at, client_addr) VALUES ($1, $2)")
            .bind(now.fixed())
            .bind(client_addr)
            .execute_in(self)
            .await?;
        Ok(())
    }

    pub async fn insert_person_identity(
        &mut self,
        person: PersonId,
        id: &PersonIdentity,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO person_identities (person_id, national_id_hmac, hmac_key_id, \
             national_id_masked, egov_account) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(person.get())
        .bind(&id.national_id_hmac)
        .bind(&id.hmac_key_id)
        .bind(&id.national_id_masked)
        .bind(&id.egov_account)
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// Adds a role (no-op if held).
    pub async fn add_person_role(
        &mut self,
        person: PersonId,
        role: Role,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO person_roles (person_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(person.get())
        .bind(role.code())
        .execute_in(self)
        .await?;
        Ok(())
    }

    pub async fn remove_person_role(
        &mut self,
        person: PersonId,
        role: Role,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM person_roles WHERE person_id = $1 AND role = $2")
            .bind(person.get())
            .bind(role.code())
            .execute_in(self)
            .await?;
        Ok(())
    }

    /// Name, kind and parent of an existing unit.
    pub async fn update_unit(&mut self, unit: &Unit) -> Result<(), StorageError> {
        crate::org::with_unit(
            "UPDATE units SET name_zh = $2, kind = $3, parent_id = $4 WHERE id = $1",
            unit,
        )
        .execute_in(self)
        .await?;
        Ok(())
    }

    pub async fn set_unit_deputy(
        &mut self,
        unit: &UnitId,
        person: PersonId,
    ) -> Result<(), StorageError> {
        let sql = "INSERT INTO unit_deputies (unit_id, person_id) VALUES ($1, $2) \
                   ON CONFLICT (unit_id) DO UPDATE SET person_id = excluded.person_id";
        self.set_post(sql, unit, person).await
    }

    /// The units where `person` is supervisor, and where deputy.
    pub async fn supervisor_roles_of(
        &mut self,
        person: PersonId,
    ) -> Result<(Vec<UnitId>, Vec<UnitId>), StorageError> {
        let mut out = (Vec::new(), Vec::new());
        for (table, into) in [
            ("unit_supervisors", &mut out.0),
            ("unit_deputies", &mut out.1),
        ] {
            let rows: Vec<(String,)> = sqlx::query_as(&format!(
                "SELECT unit_id FROM {table} WHERE person_id = $1 ORDER BY unit_id"
            ))
            .bind(person.get())
            .all_in(self)
            .await?;
            for (u,) in rows {
                into.push(decode("unit", UnitId::new(u))?);
            }
        }
        Ok(out)
    }

    /// Ends `person`'s supervisor (`deputy = false`) or deputy role in `unit`.
    pub async fn end_supervisor_role(
        &mut self,
        unit: &UnitId,
        person: PersonId,
        deputy: bool,
    ) -> Result<(), StorageError> {
        let table = if deputy {
            "unit_deputies"
        } else {
            "unit_supervisors"
        };
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE unit_id = $1 AND person_id = $2"
        ))
        .bind(unit.as_str())
        .bind(person.get())
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// Keeps `crl` as its issuer's list, replacing an older one (never a newer one: returns
    /// false then, and nothing changes).
    pub async fn upsert_revocation_list(&mut self, crl: &StoredCrl) -> Result<bool, StorageError> {
        sqlx::query(
            "INSERT INTO revocation_lists (issuer_dn, issuer_key_id, source, this_update, \
             next_update, revoked_count, der, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (issuer_dn, issuer_key_id) DO UPDATE SET source = excluded.source, \
             this_update = excluded.this_update, next_update = excluded.next_update, \
             revoked_count = excluded.revoked_count, der = excluded.der, \
             loaded_at = excluded.loaded_at \
             WHERE excluded.this_update >= revocation_lists.this_update",
        )
        .bind(&crl.issuer_dn)
        .bind(&crl.issuer_key_id)
        .bind(&crl.source)
        .bind(crl.this_update.fixed())
        .bind(crl.next_update.map(|t| t.fixed()))
        .bind(i64::try_from(crl.revoked_count).unwrap_or(i64::MAX))
        .bind(&crl.der)
        .bind(crl.loaded_at.fixed())
        .changed_in(self)
        .await
    }

    pub async fn record_crl_fetch(
        &mut self,
        url: &str,
        now: Timestamp,
        error: Option<&str>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO crl_fetches (url, attempted_at, succeeded_at, error) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (url) DO UPDATE SET attempted_at = excluded.attempted_at, \
             succeeded_at = COALESCE(excluded.succeeded_at, crl_fetches.succeeded_at), \
             error = excluded.error",
        )
        .bind(url)
        .bind(now.fixed())
        .bind(error.is_none().then(|| now.fixed()))
        .bind(error)
        .execute_in(self).await?;
        Ok(())
    }
}
