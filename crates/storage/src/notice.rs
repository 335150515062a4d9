//! Notices (通知): short messages to one person about something they must act on — today the
//! personnel changes §2 asks the permission administrator and the old unit's supervisor to be
//! told about. Written inside the use case's [`WriteTx`], so a notice exists exactly when the
//! change it reports was recorded; read by the recipient's inbox, and marked read by them only.

use jiff::Timestamp;
use querywarden_domain::org::PersonId;

use crate::decode::{opt_ts, ts};
use crate::error::StorageError;
use crate::fetch::{Change, Fetch};
use crate::sqlite::{Store, WriteTx};

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: i64,
    /// The recipient.
    pub person: PersonId,
    /// What happened, as a stable code (e.g. `staff_change.leave`).
    pub kind: String,
    /// What it is about (e.g. `person:12`).
    pub object: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

type Raw = (i64, i64, String, String, String, Option<String>);

fn row((id, person, kind, object, created, read): Raw) -> Result<NoticeRow, StorageError> {
    Ok(NoticeRow {
        id,
        person: PersonId::new(person),
        kind,
        object,
        created_at: ts(&created)?,
        read_at: opt_ts(read)?,
    })
}

impl WriteTx {
    /// Adds an unread notice for `person`; returns its id.
    pub async fn insert_notice(
        &mut self,
        person: PersonId,
        kind: &str,
        object: &str,
        now: Timestamp,
    ) -> Result<i64, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO notices (person_id, kind, object, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(person.get())
        .bind(kind)
        .bind(object)
        .bind(now.to_string())
        .one_in(self)
        .await?;
        Ok(id)
    }

    /// Marks notice `id` read if it is `person`'s and still unread; returns whether it was.
    pub async fn mark_notice_read(
        &mut self,
        id: i64,
        person: PersonId,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        sqlx::query(
            "UPDATE notices SET read_at = $1 WHERE id = $2 AND person_id = $3 AND read_at IS NULL",
        )
        .bind(now.to_string())
        .bind(id)
        .bind(person.get())
        .changed_in(self)
        .await
    }
}

impl Store {
    /// `person`'s unread notices, oldest first.
    pub async fn unread_notices(&self, person: PersonId) -> Result<Vec<NoticeRow>, StorageError> {
        sqlx::query_as(
            "SELECT id, person_id, kind, object, created_at, read_at FROM notices \
             WHERE person_id = $1 AND read_at IS NULL ORDER BY id",
        )
        .bind(person.get())
        .all(&self.reader, row)
        .await
    }

    /// Every notice of `person`, read or not, oldest first.
    pub async fn notices_of(&self, person: PersonId) -> Result<Vec<NoticeRow>, StorageError> {
        sqlx::query_as(
            "SELECT id, person_id, kind, object, created_at, read_at FROM notices \
             WHERE person_id = $1 ORDER BY id",
        )
        .bind(person.get())
        .all(&self.reader, row)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewPerson;
    use querywarden_domain::org::{Account, Role, StaffStatus, UnitId};

    #[tokio::test]
    async fn a_notice_is_unread_until_its_recipient_marks_it_read() {
        let store = Store::open_temporary().await.unwrap();
        let now = Timestamp::from_second(1_780_000_000).unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.insert_unit(&querywarden_domain::org::Unit {
            id: UnitId::new("it-group").unwrap(),
            name_zh: "資訊小組".into(),
            kind: querywarden_domain::org::UnitKind::ItGroup,
            parent: None,
        })
        .await
        .unwrap();
        let person = |account: &str| NewPerson {
            account: Account::parse(account).unwrap(),
            name: "測試".into(),
            title: "科員".into(),
            unit: UnitId::new("it-group").unwrap(),
            roles: [Role::Staff].into(),
            status: StaffStatus::Active,
        };
        let a = tx
            .insert_person(&person("a.person"), &now.to_string())
            .await
            .unwrap();
        let b = tx
            .insert_person(&person("b.person"), &now.to_string())
            .await
            .unwrap();
        let id = tx
            .insert_notice(a, "staff_change.leave", "person:2", now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let unread = store.unread_notices(a).await.unwrap();
        assert_eq!(unread.len(), 1);
        assert_eq!(unread[0].kind, "staff_change.leave");
        assert_eq!(unread[0].object, "person:2");
        assert_eq!(unread[0].created_at, now);
        assert!(store.unread_notices(b).await.unwrap().is_empty());

        let mut tx = store.begin().await.unwrap();
        assert!(!tx.mark_notice_read(id, b, now).await.unwrap(), "not b's");
        assert!(tx.mark_notice_read(id, a, now).await.unwrap());
        assert!(!tx.mark_notice_read(id, a, now).await.unwrap(), "only once");
        tx.commit().await.unwrap();
        assert!(store.unread_notices(a).await.unwrap().is_empty());
        assert_eq!(store.notices_of(a).await.unwrap()[0].read_at, Some(now));
    }
}
