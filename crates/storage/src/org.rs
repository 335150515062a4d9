//! Organisation and catalogue rows: units, staff and their roles, unit supervisors, service
//! items and legal bases.

use std::collections::{BTreeMap, BTreeSet};

use querywarden_domain::catalogue::{LegalBasis, LegalBasisId, ServiceItem, ServiceItemCode};
use querywarden_domain::org::{
    Account, Person, PersonId, Role, StaffStatus, Unit, UnitId, UnitKind,
};

use crate::decode::{coded, decode, unfold_rows};
use crate::error::StorageError;
use crate::fetch::{Execute, Fetch};
use crate::sqlite::{Store, WriteTx};

/// A staff member to be created; the database assigns the id.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub account: Account,
    pub name: String,
    pub title: String,
    pub unit: UnitId,
    pub roles: BTreeSet<Role>,
    pub status: StaffStatus,
}

/// People per multi-row INSERT (7 values each) and roles per one (2 values each): far below
/// SQLite's 32,766 values per statement.
const PERSON_INSERT_BATCH: usize = 500;
const ROLE_INSERT_BATCH: usize = 2_000;

/// `sql` with a unit's columns bound: `$1` its id, `$2` name, `$3` kind, `$4` parent.
pub(crate) fn with_unit<'q>(
    sql: &'q str,
    unit: &'q Unit,
) -> sqlx::query::Query<'q, crate::Db, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(unit.id.as_str())
        .bind(&unit.name_zh)
        .bind(unit.kind.code())
        .bind(unit.parent.as_ref().map(UnitId::as_str))
}

impl WriteTx {
    pub async fn insert_unit(&mut self, unit: &Unit) -> Result<(), StorageError> {
        with_unit(
            "INSERT INTO units (id, name_zh, kind, parent_id) VALUES ($1, $2, $3, $4)",
            unit,
        )
        .execute_in(self)
        .await?;
        Ok(())
    }

    pub async fn insert_person(
        &mut self,
        person: &NewPerson,
        created_at: &str,
    ) -> Result<PersonId, StorageError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO persons (account, name, title, unit_id, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(person.account.as_str())
        .bind(&person.name)
        .bind(&person.title)
        .bind(person.unit.as_str())
        .bind(person.status.code())
        .bind(created_at)
        .one_in(self)
        .await?;
        for role in &person.roles {
            sqlx::query("INSERT INTO person_roles (person_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(role.code())
                .execute_in(self)
                .await?;
        }
        Ok(PersonId::new(id))
    }

    /// Creates many staff at once (a staff import, §2), each with its roles and, when HR
    /// sent them, the last four digits of the national ID: multi-row statements of bounded
    /// size inside this transaction, so a hundred thousand people cost a few hundred
    /// statements, not several hundred thousand. Returns the ids in the order given.
    pub async fn insert_persons(
        &mut self,
        people: &[(NewPerson, Option<String>)],
        created_at: &str,
    ) -> Result<Vec<PersonId>, StorageError> {
        let mut ids: Vec<PersonId> = Vec::with_capacity(people.len());
        for batch in people.chunks(PERSON_INSERT_BATCH) {
            let mut qb = crate::builder::QueryBuilder::new(
                "INSERT INTO persons (account, name, title, unit_id, status, created_at, id_last4) ",
            );
            qb.push_values(batch, |mut b, (p, last4)| {
                b.push_bind(p.account.as_str())
                    .push_bind(&p.name)
                    .push_bind(&p.title)
                    .push_bind(p.unit.as_str())
                    .push_bind(p.status.code())
                    .push_bind(created_at)
                    .push_bind(last4.as_deref());
            });
            qb.push(" RETURNING id, account");
            // RETURNING gives the rows in no promised order: matched back by account (unique).
            let rows: Vec<(i64, String)> = qb.build_query_as().all_in(self).await?;
            let by_account: BTreeMap<String, i64> =
                rows.into_iter().map(|(id, a)| (a, id)).collect();
            for (p, _) in batch {
                let id = by_account.get(p.account.as_str()).copied().ok_or_else(|| {
                    StorageError::Decode("a created person came back without its id".into())
                })?;
                ids.push(PersonId::new(id));
            }
        }
        let roles: Vec<(i64, &'static str)> = people
            .iter()
            .zip(&ids)
            .flat_map(|((p, _), id)| p.roles.iter().map(move |r| (id.get(), r.code())))
            .collect();
        for batch in roles.chunks(ROLE_INSERT_BATCH) {
            let mut qb =
                crate::builder::QueryBuilder::new("INSERT INTO person_roles (person_id, role) ");
            qb.push_values(batch, |mut b, (id, role)| {
                b.push_bind(*id).push_bind(*role);
            });
            qb.build().execute_in(self).await?;
        }
        Ok(ids)
    }

    pub async fn set_unit_supervisor(
        &mut self,
        unit: &UnitId,
        person: PersonId,
    ) -> Result<(), StorageError> {
        let sql = "INSERT INTO unit_supervisors (unit_id, person_id) VALUES ($1, $2) \
                   ON CONFLICT (unit_id) DO UPDATE SET person_id = excluded.person_id";
        self.set_post(sql, unit, person).await
    }

    /// Runs `sql`, which makes `$2` the holder of a post of unit `$1`.
    pub(crate) async fn set_post(
        &mut self,
        sql: &str,
        unit: &UnitId,
        person: PersonId,
    ) -> Result<(), StorageError> {
        sqlx::query(sql)
            .bind(unit.as_str())
            .bind(person.get())
            .execute_in(self)
            .await?;
        Ok(())
    }

    pub async fn upsert_service_item(&mut self, item: &ServiceItem) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO service_items (code, name_zh, name_en, active) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, \
             name_en = excluded.name_en, active = excluded.active",
        )
        .bind(item.code.as_str())
        .bind(&item.name_zh)
        .bind(&item.name_en)
        .bind(i64::from(item.active))
        .execute_in(self)
        .await?;
        Ok(())
    }

    pub async fn upsert_legal_basis(&mut self, basis: &LegalBasis) -> Result<(), StorageError> {
        let programmes = serde_json::to_string(&basis.programmes)
            .map_err(|e| StorageError::Decode(e.to_string()))?;
        sqlx::query(
            "INSERT INTO legal_bases (id, law, article, article_short, summary_zh, kind, programmes, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET law = excluded.law, article = excluded.article, \
             article_short = excluded.article_short, summary_zh = excluded.summary_zh, \
             kind = excluded.kind, programmes = excluded.programmes, active = excluded.active",
        )
        .bind(basis.id.as_str())
        .bind(&basis.law)
        .bind(&basis.article)
        .bind(&basis.article_short)
        .bind(&basis.summary_zh)
        .bind(&basis.kind)
        .bind(programmes)
        .bind(i64::from(basis.active))
        .execute_in(self).await?;
        Ok(())
    }
}

type PersonRow = (i64, String, String, String, String, String);

/// [`Store::post_holders`]; `$1` and `$2` are both the director's role code.
pub(crate) const POST_HOLDERS: &str = "SELECT p.id, p.status, \
     (SELECT count(*) FROM account_disablements d WHERE d.person_id = p.id), \
     (SELECT count(*) FROM person_roles r WHERE r.person_id = p.id AND r.role = $1) \
     FROM persons p WHERE p.id IN (\
     SELECT person_id FROM unit_supervisors \
     UNION SELECT person_id FROM unit_deputies \
     UNION SELECT person_id FROM person_roles WHERE role = $2) \
     ORDER BY p.id";

/// One holder of a post on the walk up the units, as [`Store::post_holders`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostHolder {
    pub person: PersonId,
    pub status: StaffStatus,
    /// The account is disabled (it cannot act, whatever the staff status says).
    pub disabled: bool,
    /// Holds the 局長 role.
    pub director: bool,
}

impl Store {
    pub async fn units(&self) -> Result<Vec<Unit>, StorageError> {
        sqlx::query_as("SELECT id, name_zh, kind, parent_id FROM units ORDER BY rowid")
            .all(
                &self.reader,
                |(id, name_zh, kind, parent): (String, _, String, Option<String>)| {
                    Ok(Unit {
                        id: decode("unit id", UnitId::new(&id))?,
                        name_zh,
                        kind: coded("unit kind", &kind, UnitKind::parse_code)?,
                        parent: parent
                            .map(|p| decode("unit parent", UnitId::new(&p)))
                            .transpose()?,
                    })
                },
            )
            .await
    }

    async fn roles_by_person(&self) -> Result<BTreeMap<i64, BTreeSet<Role>>, StorageError> {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT person_id, role FROM person_roles")
            .all(&self.reader, Ok)
            .await?;
        let mut map: BTreeMap<i64, BTreeSet<Role>> = BTreeMap::new();
        for (id, role) in rows {
            let role = coded("role", &role, Role::parse_code)?;
            map.entry(id).or_default().insert(role);
        }
        Ok(map)
    }

    fn person_from_row(row: PersonRow, roles: BTreeSet<Role>) -> Result<Person, StorageError> {
        let (id, account, name, title, unit, status) = row;
        Ok(Person {
            id: PersonId::new(id),
            account: decode("account", Account::parse(&account))?,
            name,
            title,
            unit: decode("unit id", UnitId::new(&unit))?,
            roles,
            status: coded("staff status", &status, StaffStatus::parse_code)?,
        })
    }

    pub async fn persons(&self) -> Result<Vec<Person>, StorageError> {
        let mut roles = self.roles_by_person().await?;
        sqlx::query_as("SELECT id, account, name, title, unit_id, status FROM persons ORDER BY id")
            .all(&self.reader, |row: PersonRow| {
                let r = roles.remove(&row.0).unwrap_or_default();
                Self::person_from_row(row, r)
            })
            .await
    }

    /// Every staff record, by id.
    pub async fn persons_by_id(&self) -> Result<BTreeMap<PersonId, Person>, StorageError> {
        Ok(self
            .persons()
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    }

    pub async fn person_by_account(
        &self,
        account: &Account,
    ) -> Result<Option<Person>, StorageError> {
        self.person_where("account = $1", account.as_str().to_string())
            .await
    }

    pub async fn person(&self, id: PersonId) -> Result<Option<Person>, StorageError> {
        self.person_where("id = $1", id.get()).await
    }

    /// One person with their roles, in one statement (every request's authentication loads
    /// one; each statement is a round trip to a connection's worker thread).
    async fn person_where<T>(&self, clause: &str, key: T) -> Result<Option<Person>, StorageError>
    where
        T: for<'q> sqlx::Encode<'q, crate::Db> + sqlx::Type<crate::Db> + Send,
    {
        let sql = format!(
            "SELECT id, account, name, title, unit_id, status, \
             coalesce((SELECT string_agg(length(role) || ':' || role, '' ORDER BY role) \
             FROM person_roles WHERE person_id = persons.id), '') \
             FROM persons WHERE {clause}"
        );
        sqlx::query_as(&sql)
            .bind(key)
            .optional(
                &self.reader,
                |(id, account, name, title, unit, status, roles): (i64, _, _, _, _, _, String)| {
                    // Folded (see `crate::decode::unfold`); `role` is NOT NULL.
                    let roles = unfold_rows("roles", &roles, 1, |mut f| {
                        let r = f.text("role")?;
                        coded("role", &r, Role::parse_code)
                    })?;
                    Self::person_from_row((id, account, name, title, unit, status), roles)
                },
            )
            .await
    }

    /// The people who hold a post on the walk up the units (§5 ¶1, §2 Form 1): every unit
    /// supervisor, every registered deputy and every holder of the director's role, each with
    /// their staff status, whether their account is disabled and whether they hold the
    /// director's role. A registration's or request's chain needs only these, not the whole
    /// staff list: reading every person on every decision made each one cost as much as the
    /// staff was large.
    pub async fn post_holders(&self) -> Result<Vec<PostHolder>, StorageError> {
        sqlx::query_as(POST_HOLDERS)
            .bind(Role::Director.code())
            .bind(Role::Director.code())
            .all(
                &self.reader,
                |(id, status, disabled, director): (_, String, i64, i64)| {
                    Ok(PostHolder {
                        person: PersonId::new(id),
                        status: coded("staff status", &status, StaffStatus::parse_code)?,
                        disabled: disabled > 0,
                        director: director > 0,
                    })
                },
            )
            .await
    }

    /// 單位主管 of each unit that has one.
    pub async fn unit_supervisors(&self) -> Result<BTreeMap<UnitId, PersonId>, StorageError> {
        sqlx::query_as("SELECT unit_id, person_id FROM unit_supervisors")
            .all(&self.reader, |(u, p): (String, i64)| {
                Ok((decode("unit id", UnitId::new(&u))?, PersonId::new(p)))
            })
            .await
    }

    pub async fn service_items(&self) -> Result<Vec<ServiceItem>, StorageError> {
        sqlx::query_as("SELECT code, name_zh, name_en, active FROM service_items ORDER BY rowid")
            .all(
                &self.reader,
                |(code, name_zh, name_en, active): (String, _, _, i64)| {
                    Ok(ServiceItem {
                        code: decode("service item", ServiceItemCode::parse(&code))?,
                        name_zh,
                        name_en,
                        active: active != 0,
                    })
                },
            )
            .await
    }

    pub async fn legal_bases(&self) -> Result<Vec<LegalBasis>, StorageError> {
        type Row = (String, String, String, String, String, String, String, i64);
        sqlx::query_as(
            "SELECT id, law, article, article_short, summary_zh, kind, programmes, active \
             FROM legal_bases ORDER BY rowid",
        )
        .all(&self.reader, |row: Row| {
            let (id, law, article, article_short, summary_zh, kind, programmes, active) = row;
            Ok(LegalBasis {
                id: decode("legal basis id", LegalBasisId::new(&id))?,
                law,
                article,
                article_short,
                summary_zh,
                kind,
                programmes: decode("programmes", serde_json::from_str(&programmes))?,
                active: active != 0,
            })
        })
        .await
    }

    /// Whether the organisation has been set up (any unit exists).
    pub async fn is_initialised(&self) -> Result<bool, StorageError> {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM units")
            .one(&self.reader)
            .await?;
        Ok(n > 0)
    }
}
