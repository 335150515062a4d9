//! The plumbing of every statement, written once: a statement's error classified (and, inside
//! a use case's transaction, noted for readiness: [`WriteTx::noted`]), and the rows it gives
//! decoded into what the crate returns. A read is
//! `sqlx::query_as(SQL).bind(…).all(&self.reader, decode)`; a write inside a transaction
//! `sqlx::query(SQL).bind(…).execute_in(self)`.

use sqlx::any::{AnyArguments, AnyQueryResult};
use sqlx::query::{Query, QueryAs};
use sqlx::{Any, AnyExecutor, FromRow};

use crate::DbRow;
use crate::error::{StorageError, classify};
use crate::registration::SealedBlob;
use crate::sqlite::WriteTx;

/// A statement that gives rows: `sqlx::query` ([`DbRow`]s) or `sqlx::query_as` (its record).
///
/// Every future is declared `Send`: a use case's future must be (the web server runs it on
/// any thread), and a declared bound is what lets the compiler see it through the generic
/// lifetimes of a statement and its executor.
pub(crate) trait Fetch: Sized + Send {
    /// What one row is read as.
    type Row: Send;

    /// Every row, as sqlx gives them.
    fn rows<'c>(
        self,
        db: impl AnyExecutor<'c>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;

    /// The first row, if any, as sqlx gives it.
    fn first<'c>(
        self,
        db: impl AnyExecutor<'c>,
    ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send;

    /// Every row, each decoded by `decode` (`Ok` to take the record as it is), collected
    /// into what the caller returns (a `Vec`, a map, a set).
    fn all<'c, T, C: FromIterator<T>>(
        self,
        db: impl AnyExecutor<'c>,
        decode: impl FnMut(Self::Row) -> Result<T, StorageError> + Send,
    ) -> impl Future<Output = Result<C, StorageError>> + Send {
        async move {
            let rows = self.rows(db).await.map_err(classify)?;
            rows.into_iter().map(decode).collect()
        }
    }

    /// The first row, if any, decoded by `decode`.
    fn optional<'c, T>(
        self,
        db: impl AnyExecutor<'c>,
        decode: impl FnOnce(Self::Row) -> Result<T, StorageError> + Send,
    ) -> impl Future<Output = Result<Option<T>, StorageError>> + Send {
        async move {
            let row = self.first(db).await.map_err(classify)?;
            row.map(decode).transpose()
        }
    }

    /// The one row there must be (a count, a `RETURNING`), as it is.
    fn one<'c>(
        self,
        db: impl AnyExecutor<'c>,
    ) -> impl Future<Output = Result<Self::Row, StorageError>> + Send {
        async move {
            let row = self.first(db).await.map_err(classify)?;
            row.ok_or_else(|| classify(sqlx::Error::RowNotFound))
        }
    }

    /// Every row, read inside `tx`.
    fn all_in(
        self,
        tx: &mut WriteTx,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StorageError>> + Send {
        async move {
            let rows = self.rows(&mut *tx.tx).await;
            noted(tx, rows)
        }
    }

    /// The first row, if any, read inside `tx`.
    fn optional_in(
        self,
        tx: &mut WriteTx,
    ) -> impl Future<Output = Result<Option<Self::Row>, StorageError>> + Send {
        async move {
            let row = self.first(&mut *tx.tx).await;
            noted(tx, row)
        }
    }

    /// The one row there must be, read (or returned by a write) inside `tx`.
    fn one_in(
        self,
        tx: &mut WriteTx,
    ) -> impl Future<Output = Result<Self::Row, StorageError>> + Send {
        async move {
            let row = self.optional_in(tx).await?;
            row.ok_or_else(|| classify(sqlx::Error::RowNotFound))
        }
    }
}

impl<'q, R> Fetch for QueryAs<'q, Any, R, AnyArguments<'q>>
where
    R: for<'r> FromRow<'r, DbRow> + Send + Unpin,
{
    type Row = R;

    async fn rows<'c>(self, db: impl AnyExecutor<'c>) -> Result<Vec<R>, sqlx::Error> {
        self.fetch_all(db).await
    }

    async fn first<'c>(self, db: impl AnyExecutor<'c>) -> Result<Option<R>, sqlx::Error> {
        self.fetch_optional(db).await
    }
}

impl<'q> Fetch for Query<'q, Any, AnyArguments<'q>> {
    type Row = DbRow;

    async fn rows<'c>(self, db: impl AnyExecutor<'c>) -> Result<Vec<DbRow>, sqlx::Error> {
        self.fetch_all(db).await
    }

    async fn first<'c>(self, db: impl AnyExecutor<'c>) -> Result<Option<DbRow>, sqlx::Error> {
        self.fetch_optional(db).await
    }
}

/// A statement whose next five values are a sealed blob, in the order the tables hold them
/// (`sealed, nonce, wrapped_key, wrap_nonce, master_key_id`).
pub(crate) trait BindBlob<'q>: Sized {
    fn bind_blob(self, b: &'q SealedBlob) -> Self;
}

impl<'q> BindBlob<'q> for Query<'q, Any, AnyArguments<'q>> {
    fn bind_blob(self, b: &'q SealedBlob) -> Self {
        self.bind(&b.sealed)
            .bind(&b.nonce)
            .bind(&b.wrapped_key)
            .bind(&b.wrap_nonce)
            .bind(&b.master_key_id)
    }
}

impl<'q, R> BindBlob<'q> for QueryAs<'q, Any, R, AnyArguments<'q>> {
    fn bind_blob(self, b: &'q SealedBlob) -> Self {
        self.bind(&b.sealed)
            .bind(&b.nonce)
            .bind(&b.wrapped_key)
            .bind(&b.wrap_nonce)
            .bind(&b.master_key_id)
    }
}

/// A statement run for its effect inside a use case's transaction.
pub(crate) trait Execute: Sized {
    /// Runs it inside `tx`; a failure is noted as the transaction's.
    fn execute_in(
        self,
        tx: &mut WriteTx,
    ) -> impl Future<Output = Result<AnyQueryResult, StorageError>> + Send;
}

/// A statement that changes at most one row, run inside a use case's transaction.
pub(crate) trait Change: Execute {
    /// Runs it inside `tx`: whether it changed the row (a conditional change that found the
    /// row no longer as expected changes nothing).
    fn changed_in(self, tx: &mut WriteTx) -> impl Future<Output = Result<bool, StorageError>> + Send
    where
        Self: Send,
    {
        async move { Ok(self.execute_in(tx).await?.rows_affected() > 0) }
    }
}

impl<T: Execute> Change for T {}

impl<'q> Execute for Query<'q, Any, AnyArguments<'q>> {
    async fn execute_in(self, tx: &mut WriteTx) -> Result<AnyQueryResult, StorageError> {
        let done = self.execute(&mut *tx.tx).await;
        noted(tx, done)
    }
}

/// A statement's outcome inside `tx`, its error classified and noted as the transaction's.
fn noted<T>(tx: &WriteTx, r: Result<T, sqlx::Error>) -> Result<T, StorageError> {
    r.map_err(|e| tx.noted(classify(e)))
}
