//! Moving a bureau from the embedded SQLite file to PostgreSQL (`querywarden copy`): every
//! table, rows and ids as they are, so the audit trail's sequence, hashes and signed
//! checkpoints arrive intact and `audit verify` passes on the copy (§8).
//!
//! The catalogue is read from SQLite (`sqlite_master`, `pragma_*`) and the identity
//! sequences set on PostgreSQL: both sides are engine-specific by nature, so this file is
//! outside the one-dialect rule of the others.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use querywarden_domain::audit_event::AuditEvent;
use sqlx::Row;

use crate::error::{StorageError, classify};
use crate::sqlite::{Backend, Store};

/// Rows a multi-row `INSERT` carries at most, whatever the table's width (PostgreSQL takes
/// at most 65 535 parameters a statement).
const MAX_PARAMETERS: usize = 30_000;

/// One table copied and its row count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: String,
    pub rows: u64,
}

/// A value of one of the four column types the schema uses (a parity test keeps it so).
enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

struct Table {
    name: String,
    /// Column names and their declared SQLite types (upper case).
    columns: Vec<(String, String)>,
}

impl Store {
    /// Copies every table of this SQLite store into `target`, a PostgreSQL store whose
    /// tables are all empty, in one transaction of the target: parents before children, in
    /// each table the rows in their insertion order, ids kept; then every identity sequence
    /// is set past the ids copied, and the record `record` makes of what was copied is
    /// appended to the copied trail. Refused (nothing written) if either side is the wrong
    /// engine or the target holds any row.
    pub async fn copy_into(
        &self,
        target: &Store,
        record: impl FnOnce(&[CopiedTable]) -> AuditEvent,
    ) -> Result<Vec<CopiedTable>, StorageError> {
        if self.backend != Backend::Sqlite || target.backend != Backend::Postgres {
            return Err(StorageError::Copy(
                "the copy goes from a SQLite database to a PostgreSQL one".into(),
            ));
        }
        let tables = self.tables_in_dependency_order().await?;
        let mut tx = target.begin().await?;
        for table in &tables {
            let sql = format!("SELECT 1 FROM {} LIMIT 1", table.name);
            let any: Option<(i32,)> = sqlx::query_as(&sql)
                .fetch_optional(&mut *tx.tx)
                .await
                .map_err(classify)?;
            if any.is_some() {
                return Err(StorageError::Copy(format!(
                    "the target database is not empty (table {} has rows); the copy only fills a new database",
                    table.name
                )));
            }
        }
        let mut copied = Vec::with_capacity(tables.len());
        for table in &tables {
            let names: Vec<&str> = table.columns.iter().map(|(n, _)| n.as_str()).collect();
            let select = format!(
                "SELECT {} FROM {} ORDER BY rowid",
                names.join(", "),
                table.name
            );
            let per_insert = (MAX_PARAMETERS / names.len().max(1)).max(1);
            let mut rows = sqlx::query(&select).fetch(&self.reader);
            let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_insert);
            let mut count = 0u64;
            while let Some(row) = rows.try_next().await.map_err(classify)? {
                let mut values = Vec::with_capacity(names.len());
                for (i, (_, ty)) in table.columns.iter().enumerate() {
                    values.push(match ty.as_str() {
                        "INTEGER" => Value::Int(row.try_get(i).map_err(classify)?),
                        "REAL" => Value::Real(row.try_get(i).map_err(classify)?),
                        "BLOB" => Value::Blob(row.try_get(i).map_err(classify)?),
                        _ => Value::Text(row.try_get(i).map_err(classify)?),
                    });
                }
                batch.push(values);
                count += 1;
                if batch.len() == per_insert {
                    insert(&mut tx, &table.name, &names, std::mem::take(&mut batch)).await?;
                }
            }
            if !batch.is_empty() {
                insert(&mut tx, &table.name, &names, batch).await?;
            }
            copied.push(CopiedTable {
                table: table.name.clone(),
                rows: count,
            });
        }
        // Ids were copied as they were: each identity sequence continues after the largest.
        let identities: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND is_identity = 'YES' \
             AND identity_generation = 'BY DEFAULT'",
        )
        .fetch_all(&mut *tx.tx)
        .await
        .map_err(classify)?;
        for (table, column) in identities {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), max({column})) FROM {table} \
                 HAVING max({column}) IS NOT NULL"
            );
            sqlx::query(&sql)
                .bind(&table)
                .bind(&column)
                .execute(&mut *tx.tx)
                .await
                .map_err(classify)?;
        }
        // §8: the copy is an operator's change like any other, so it is in the trail; in
        // the same transaction, so no copy exists without its record.
        tx.append_audit(&record(&copied)).await?;
        tx.commit().await?;
        Ok(copied)
    }

    /// The tables of this SQLite database, each after every table it refers to.
    async fn tables_in_dependency_order(&self) -> Result<Vec<Table>, StorageError> {
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?;
        let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut columns: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (name,) in names {
            let refs: Vec<(String,)> =
                sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_list($1)")
                    .bind(&name)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(classify)?;
            let cols: Vec<(String, String)> =
                sqlx::query_as("SELECT name, upper(type) FROM pragma_table_info($1) ORDER BY cid")
                    .bind(&name)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(classify)?;
            // A table referring to itself (units' parent) is ordered by its own rowid.
            parents.insert(
                name.clone(),
                refs.into_iter()
                    .map(|(t,)| t)
                    .filter(|t| *t != name)
                    .collect(),
            );
            columns.insert(name, cols);
        }
        let mut ordered = Vec::with_capacity(parents.len());
        let mut done = BTreeSet::new();
        while done.len() < parents.len() {
            let ready: Vec<String> = parents
                .iter()
                .filter(|(t, p)| !done.contains(*t) && p.iter().all(|p| done.contains(p)))
                .map(|(t, _)| t.clone())
                .collect();
            if ready.is_empty() {
                return Err(StorageError::Copy(
                    "the tables' references form a cycle; no order copies them".into(),
                ));
            }
            for name in ready {
                done.insert(name.clone());
                let columns = columns.remove(&name).unwrap_or_default();
                ordered.push(Table { name, columns });
            }
        }
        Ok(ordered)
    }
}

async fn insert(
    tx: &mut crate::WriteTx,
    table: &str,
    names: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), StorageError> {
    let mut qb =
        crate::builder::QueryBuilder::new(format!("INSERT INTO {table} ({}) ", names.join(", ")));
    qb.push_values(rows, |mut b, row| {
        for value in row {
            match value {
                Value::Int(v) => b.push_bind(v),
                Value::Real(v) => b.push_bind(v),
                Value::Text(v) => b.push_bind(v),
                Value::Blob(v) => b.push_bind(v),
            };
        }
    });
    qb.build().execute(&mut *tx.tx).await.map_err(classify)?;
    Ok(())
}
