//! Sign-in rows: password credentials and history, certificate bindings, login nonces and
//! server-side sessions.
//!
//! Security-sensitive. Session tokens and nonces are stored only as SHA-256 digests, so a
//! copy of the database does not let anyone take over a session.

use jiff::Timestamp;
use querywarden_domain::org::PersonId;

use crate::decode::{opt_ts, ts};
use crate::error::StorageError;
use crate::fetch::{Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// A person's password state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub password_hash: String,
    pub must_change: bool,
    pub failed_count: u32,
    pub locked_until: Option<Timestamp>,
}

/// The card an account is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateBinding {
    pub issuer_dn: String,
    pub issuer_key_id: String,
    pub serial_hex: String,
    pub subject_cn: String,
    pub id_last4: Option<String>,
    pub fingerprint_sha256: String,
    pub not_after: Timestamp,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub person: PersonId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub locked: bool,
    pub ended: bool,
    pub cert_fingerprint: String,
    pub client_addr: Option<String>,
}

/// What consuming a nonce found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Valid: now marked used.
    Fresh,
    Unknown,
    /// Issued to another browser's login flow.
    OtherFlow,
    Expired,
    AlreadyUsed,
}

/// The columns [`session_from`] reads, in its order.
const SESSION_COLUMNS: &str = "token_hash, person_id, csrf_token, created_at, last_seen_at, \
     locked, ended_at, cert_fingerprint, client_addr";

type SessionTuple = (
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<String>,
    String,
    Option<String>,
);

fn session_from(t: SessionTuple) -> Result<SessionRow, StorageError> {
    let (token_hash, person, csrf, created, seen, locked, ended, fp, addr) = t;
    Ok(SessionRow {
        token_hash,
        person: PersonId::new(person),
        csrf_token: csrf,
        created_at: ts(&created)?,
        last_seen_at: ts(&seen)?,
        locked: locked != 0,
        ended: ended.is_some(),
        cert_fingerprint: fp,
        client_addr: addr,
    })
}

/// A value a lookup is keyed by, bound with its own SQL type (PostgreSQL compares an
/// integer column only with an integer).
#[derive(Clone, Copy)]
enum Key<'a> {
    Text(&'a str),
    Int(i64),
}

impl Store {
    pub async fn credentials(&self, person: PersonId) -> Result<Option<Credentials>, StorageError> {
        sqlx::query_as(
            "SELECT password_hash, must_change, failed_count, locked_until FROM credentials WHERE person_id = $1",
        )
        .bind(person.get())
        .optional(&self.reader, |(hash, must, failed, locked): (String, i64, i64, _)| {
            Ok(Credentials {
                password_hash: hash,
                must_change: must != 0,
                failed_count: u32::try_from(failed).unwrap_or(u32::MAX),
                locked_until: opt_ts(locked)?,
            })
        })
        .await
    }

    /// The most recent password hashes, newest first (the current one included).
    pub async fn password_history(
        &self,
        person: PersonId,
        limit: u32,
    ) -> Result<Vec<String>, StorageError> {
        sqlx::query_as(
            "SELECT password_hash FROM password_history WHERE person_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(person.get())
        .bind(i64::from(limit))
        .all(&self.reader, |(h,)| Ok(h))
        .await
    }

    pub async fn person_id_last4(&self, person: PersonId) -> Result<Option<String>, StorageError> {
        let row = sqlx::query_as("SELECT id_last4 FROM persons WHERE id = $1")
            .bind(person.get())
            .optional(&self.reader, |(l,): (Option<String>,)| Ok(l))
            .await?;
        Ok(row.flatten())
    }

    /// Every person's last four ID digits on record, in one query (a large staff import
    /// checks them all; one query per person made it slow).
    pub async fn person_id_last4s(
        &self,
    ) -> Result<std::collections::BTreeMap<PersonId, String>, StorageError> {
        sqlx::query_as("SELECT id, id_last4 FROM persons WHERE id_last4 IS NOT NULL")
            .all(&self.reader, |(id, l4)| Ok((PersonId::new(id), l4)))
            .await
    }

    /// Who the card with this issuer key and serial is bound to.
    pub async fn binding_by_certificate(
        &self,
        issuer_key_id: &str,
        serial_hex: &str,
    ) -> Result<Option<(PersonId, CertificateBinding)>, StorageError> {
        self.binding_where(
            "issuer_key_id = $1 AND serial_hex = $2",
            &[Key::Text(issuer_key_id), Key::Text(serial_hex)],
        )
        .await
    }

    pub async fn binding_of(
        &self,
        person: PersonId,
    ) -> Result<Option<CertificateBinding>, StorageError> {
        Ok(self
            .binding_where("person_id = $1", &[Key::Int(person.get())])
            .await?
            .map(|(_, b)| b))
    }

    async fn binding_where(
        &self,
        condition: &str,
        args: &[Key<'_>],
    ) -> Result<Option<(PersonId, CertificateBinding)>, StorageError> {
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            String,
        );
        let sql = format!(
            "SELECT person_id, issuer_dn, issuer_key_id, serial_hex, subject_cn, id_last4, \
             fingerprint_sha256, not_after FROM certificate_bindings WHERE {condition}"
        );
        let mut q = sqlx::query_as::<_, Row>(&sql);
        for a in args {
            q = match *a {
                Key::Text(t) => q.bind(t),
                Key::Int(i) => q.bind(i),
            };
        }
        q.optional(
            &self.reader,
            |(p, dn, aki, serial, cn, last4, fp, not_after)| {
                Ok((
                    PersonId::new(p),
                    CertificateBinding {
                        issuer_dn: dn,
                        issuer_key_id: aki,
                        serial_hex: serial,
                        subject_cn: cn,
                        id_last4: last4,
                        fingerprint_sha256: fp,
                        not_after: ts(&not_after)?,
                    },
                ))
            },
        )
        .await
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .optional(&self.reader, session_from)
        .await
    }

    /// Live (not ended) sessions of a person.
    pub async fn live_sessions(&self, person: PersonId) -> Result<Vec<SessionRow>, StorageError> {
        sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE person_id = $1 AND ended_at IS NULL"
        ))
        .bind(person.get())
        .all(&self.reader, session_from)
        .await
    }
}

impl WriteTx {
    pub async fn set_person_id_last4(
        &mut self,
        person: PersonId,
        last4: &str,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE persons SET id_last4 = $1 WHERE id = $2")
            .bind(last4)
            .bind(person.get())
            .execute_in(self)
            .await?;
        Ok(())
    }

    /// Sets a new password (hash) and remembers it in the history, keeping the last 3.
    pub async fn set_password(
        &mut self,
        person: PersonId,
        password_hash: &str,
        must_change: bool,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO credentials (person_id, password_hash, must_change, failed_count, locked_until, updated_at) \
             VALUES ($1, $2, $3, 0, NULL, $4) ON CONFLICT (person_id) DO UPDATE SET \
             password_hash = excluded.password_hash, must_change = excluded.must_change, \
             failed_count = 0, locked_until = NULL, updated_at = excluded.updated_at",
        )
        .bind(person.get())
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(now.to_string())
        .execute_in(self).await?;
        sqlx::query(
            "INSERT INTO password_history (person_id, password_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(person.get())
        .bind(password_hash)
        .bind(now.to_string())
        .execute_in(self).await?;
        sqlx::query(
            "DELETE FROM password_history WHERE person_id = $1 AND id NOT IN \
             (SELECT id FROM password_history WHERE person_id = $2 ORDER BY id DESC LIMIT 3)",
        )
        .bind(person.get())
        .bind(person.get())
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// §3: counts one more failed password and, from the `max_failures`-th on, locks the
    /// account until `lock_until`. One statement increments and returns the count inside the
    /// attempt's transaction, so N parallel wrong passwords count N (a read-then-write would
    /// let them overwrite each other). Returns the new count (0 for a person without
    /// credentials).
    pub async fn count_login_failure(
        &mut self,
        person: PersonId,
        max_failures: u32,
        lock_until: Timestamp,
    ) -> Result<u32, StorageError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE credentials SET failed_count = failed_count + 1, \
             locked_until = CASE WHEN failed_count + 1 >= $1 THEN $2 ELSE locked_until END \
             WHERE person_id = $3 RETURNING failed_count",
        )
        .bind(i64::from(max_failures))
        .bind(lock_until.to_string())
        .bind(person.get())
        .optional_in(self)
        .await?;
        Ok(row.map_or(0, |(n,)| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// Until when the account is locked out, read inside the write transaction (so a
    /// sign-in that checked the password meanwhile sees failures counted in parallel).
    pub async fn login_locked_until(
        &mut self,
        person: PersonId,
    ) -> Result<Option<Timestamp>, StorageError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT locked_until FROM credentials WHERE person_id = $1")
                .bind(person.get())
                .optional_in(self)
                .await?;
        row.and_then(|(l,)| l).as_deref().map(ts).transpose()
    }

    pub async fn set_login_failures(
        &mut self,
        person: PersonId,
        failed_count: u32,
        locked_until: Option<Timestamp>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE credentials SET failed_count = $1, locked_until = $2 WHERE person_id = $3",
        )
        .bind(i64::from(failed_count))
        .bind(locked_until.map(|t| t.to_string()))
        .bind(person.get())
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// Binds (or re-binds, on card renewal) a person's certificate.
    pub async fn bind_certificate(
        &mut self,
        person: PersonId,
        b: &CertificateBinding,
        bound_by: Option<PersonId>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM certificate_bindings WHERE person_id = $1")
            .bind(person.get())
            .execute_in(self)
            .await?;
        sqlx::query(
            "INSERT INTO certificate_bindings (person_id, issuer_dn, issuer_key_id, serial_hex, \
             subject_cn, id_last4, fingerprint_sha256, not_after, bound_at, bound_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(person.get())
        .bind(&b.issuer_dn)
        .bind(&b.issuer_key_id)
        .bind(&b.serial_hex)
        .bind(&b.subject_cn)
        .bind(&b.id_last4)
        .bind(&b.fingerprint_sha256)
        .bind(b.not_after.to_string())
        .bind(now.to_string())
        .bind(bound_by.map(PersonId::get))
        .execute_in(self)
        .await?;
        Ok(())
    }

    pub async fn insert_nonce(
        &mut self,
        nonce_hash: &str,
        flow_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StorageError> {
        // Old nonces are of no use to anyone; clear them as we go.
        sqlx::query("DELETE FROM login_nonces WHERE expires_at < $1")
            .bind(now.to_string())
            .execute_in(self)
            .await?;
        sqlx::query(
            "INSERT INTO login_nonces (nonce_hash, flow_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(nonce_hash)
        .bind(flow_hash)
        .bind(now.to_string())
        .bind(expires_at.to_string())
        .execute_in(self).await?;
        Ok(())
    }

    /// Checks a nonce and, if it is fresh, marks it used (so it works once).
    pub async fn consume_nonce(
        &mut self,
        nonce_hash: &str,
        flow_hash: &str,
        now: Timestamp,
    ) -> Result<NonceCheck, StorageError> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT flow_hash, expires_at, used_at FROM login_nonces WHERE nonce_hash = $1",
        )
        .bind(nonce_hash)
        .optional_in(self)
        .await?;
        let Some((flow, expires, used)) = row else {
            return Ok(NonceCheck::Unknown);
        };
        if used.is_some() {
            return Ok(NonceCheck::AlreadyUsed);
        }
        // Whatever else is wrong, a nonce that was presented is spent.
        sqlx::query("UPDATE login_nonces SET used_at = $1 WHERE nonce_hash = $2")
            .bind(now.to_string())
            .bind(nonce_hash)
            .execute_in(self)
            .await?;
        if flow != flow_hash {
            return Ok(NonceCheck::OtherFlow);
        }
        if now >= ts(&expires)? {
            return Ok(NonceCheck::Expired);
        }
        Ok(NonceCheck::Fresh)
    }

    pub async fn insert_session(&mut self, s: &SessionRow) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, person_id, csrf_token, created_at, last_seen_at, \
             locked, client_addr, cert_fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.token_hash)
        .bind(s.person.get())
        .bind(&s.csrf_token)
        .bind(s.created_at.to_string())
        .bind(s.last_seen_at.to_string())
        .bind(i64::from(s.locked))
        .bind(&s.client_addr)
        .bind(&s.cert_fingerprint)
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// Ends every live session of a person; returns their token hashes.
    pub async fn end_live_sessions(
        &mut self,
        person: PersonId,
        reason: &str,
        now: Timestamp,
    ) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE person_id = $3 AND ended_at IS NULL \
             RETURNING token_hash",
        )
        .bind(now.to_string())
        .bind(reason)
        .bind(person.get())
        .all_in(self).await?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }

    pub async fn end_session(
        &mut self,
        token_hash: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE token_hash = $3 AND ended_at IS NULL",
        )
        .bind(now.to_string())
        .bind(reason)
        .bind(token_hash)
        .changed_in(self)
.await
    }

    pub async fn set_session_locked(
        &mut self,
        token_hash: &str,
        locked: bool,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE sessions SET locked = $1, last_seen_at = $2 WHERE token_hash = $3 AND ended_at IS NULL",
        )
        .bind(i64::from(locked))
        .bind(now.to_string())
        .bind(token_hash)
        .execute_in(self).await?;
        Ok(())
    }

    /// Locks a session without touching its last-seen time (§3: the server's idle lock), so
    /// that the idle timeout still counts from the last request.
    pub async fn set_session_locked_idle(&mut self, token_hash: &str) -> Result<(), StorageError> {
        sqlx::query("UPDATE sessions SET locked = 1 WHERE token_hash = $1 AND ended_at IS NULL")
            .bind(token_hash)
            .execute_in(self)
            .await?;
        Ok(())
    }

    pub async fn touch_session(
        &mut self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        )
        .bind(now.to_string())
        .bind(token_hash)
        .execute_in(self)
        .await?;
        Ok(())
    }
}
