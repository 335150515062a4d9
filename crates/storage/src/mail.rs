//! The optional e-mail digest: each person's address and choice (`mail_preferences`), and the
//! claim of each person's digest of a day (`mail_digests`). A day's digest is claimed by
//! inserting its row, so two instances (or a restart) never send it twice; a failed digest,
//! or one claimed by a sender that stopped before it finished, may be claimed again.
//!
//! Security-sensitive in one way: the address is a staff member's personal data. It is kept
//! here for sending only and never copied into the audit trail.

use jiff::Timestamp;
use querywarden_domain::org::PersonId;

use crate::decode::ts;
use crate::error::StorageError;
use crate::fetch::{Change, Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// A person's mail setting as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPreferenceRow {
    pub person: PersonId,
    pub address: String,
    /// `none` or `daily`.
    pub digest: String,
    pub updated_at: Timestamp,
}

/// One day's digest of one person as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailDigestRow {
    pub person: PersonId,
    /// The Asia/Taipei civil date, `YYYY-MM-DD`.
    pub day: String,
    /// `sending`, `sent` or `failed`.
    pub state: String,
    pub items: i64,
    pub attempts: i64,
}

impl WriteTx {
    /// Sets `person`'s address and digest choice (replacing any earlier one).
    pub async fn set_mail_preference(
        &mut self,
        person: PersonId,
        address: &str,
        digest: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO mail_preferences (person_id, address, digest, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person_id) DO UPDATE SET address = excluded.address, \
             digest = excluded.digest, updated_at = excluded.updated_at",
        )
        .bind(person.get())
        .bind(address)
        .bind(digest)
        .bind(now.to_string())
        .execute_in(self)
        .await?;
        Ok(())
    }

    /// Claims `person`'s digest of `day` for sending: a first claim, or a claim of one that
    /// failed or whose claim is older than `stale_before` (its sender stopped). Returns
    /// whether this caller holds the claim; nobody else does until it is finished.
    pub async fn claim_mail_digest(
        &mut self,
        person: PersonId,
        day: &str,
        items: i64,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "INSERT INTO mail_digests (person_id, day, state, items, attempts, claimed_at) \
             VALUES ($1, $2, 'sending', $3, 1, $4) \
             ON CONFLICT (person_id, day) DO UPDATE SET state = 'sending', \
             items = excluded.items, attempts = mail_digests.attempts + 1, \
             claimed_at = excluded.claimed_at \
             WHERE mail_digests.state = 'failed' \
             OR (mail_digests.state = 'sending' AND mail_digests.claimed_at < $5)",
        )
        .bind(person.get())
        .bind(day)
        .bind(items)
        .bind(now.to_string())
        .bind(stale_before.to_string())
        .changed_in(self)
        .await
    }

    /// Records how the claimed digest ended: `sent` or `failed` (tried again next run).
    pub async fn finish_mail_digest(
        &mut self,
        person: PersonId,
        day: &str,
        sent: bool,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE mail_digests SET state = $1 WHERE person_id = $2 AND day = $3 \
             AND state = 'sending'",
        )
        .bind(if sent { "sent" } else { "failed" })
        .bind(person.get())
        .bind(day)
        .execute_in(self)
        .await?;
        Ok(())
    }
}

type PreferenceRaw = (i64, String, String, String);

fn preference(
    (person, address, digest, updated): PreferenceRaw,
) -> Result<MailPreferenceRow, StorageError> {
    Ok(MailPreferenceRow {
        person: PersonId::new(person),
        address,
        digest,
        updated_at: ts(&updated)?,
    })
}

impl Store {
    /// `person`'s mail setting, if they made one.
    pub async fn mail_preference(
        &self,
        person: PersonId,
    ) -> Result<Option<MailPreferenceRow>, StorageError> {
        sqlx::query_as(
            "SELECT person_id, address, digest, updated_at FROM mail_preferences \
             WHERE person_id = $1",
        )
        .bind(person.get())
        .optional(&self.reader, preference)
        .await
    }

    /// The people in active service who chose the daily digest, by person id.
    pub async fn daily_digest_subscribers(&self) -> Result<Vec<MailPreferenceRow>, StorageError> {
        sqlx::query_as(
            "SELECT m.person_id, m.address, m.digest, m.updated_at FROM mail_preferences m \
             JOIN persons p ON p.id = m.person_id \
             WHERE m.digest = 'daily' AND p.status = 'active' ORDER BY m.person_id",
        )
        .all(&self.reader, preference)
        .await
    }

    /// `person`'s digest of `day`, if one was claimed.
    pub async fn mail_digest(
        &self,
        person: PersonId,
        day: &str,
    ) -> Result<Option<MailDigestRow>, StorageError> {
        sqlx::query_as(
            "SELECT person_id, day, state, items, attempts FROM mail_digests \
             WHERE person_id = $1 AND day = $2",
        )
        .bind(person.get())
        .bind(day)
        .optional(&self.reader, |(person, day, state, items, attempts)| {
            Ok(MailDigestRow {
                person: PersonId::new(person),
                day,
                state,
                items,
                attempts,
            })
        })
        .await
    }
}
