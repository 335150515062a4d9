//! Statements built at run time (lists of values, multi-row inserts, optional conditions),
//! with `$N` placeholders on both engines. sqlx's own `QueryBuilder` writes `?` for its `Any`
//! driver, which PostgreSQL does not take; this one keeps the same calls (`push`,
//! `push_bind`, `separated`, `push_values`, `build`, `build_query_as`, `sql`) and numbers the
//! placeholders as every literal statement of the crate does.

use std::fmt::Write;

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs};
use sqlx::{Any, Arguments, Encode, FromRow, Type};

use crate::DbRow;

/// A statement and its bound values, written piece by piece.
pub(crate) struct QueryBuilder<'args> {
    sql: String,
    args: AnyArguments<'args>,
    bound: usize,
}

impl<'args> QueryBuilder<'args> {
    pub(crate) fn new(init: impl Into<String>) -> Self {
        QueryBuilder {
            sql: init.into(),
            args: AnyArguments::default(),
            bound: 0,
        }
    }

    /// Appends SQL text as it is.
    pub(crate) fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends the next placeholder (`$1`, `$2`, …) and binds `value` to it.
    pub(crate) fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        #[allow(
            clippy::expect_used,
            reason = "as in sqlx's own QueryBuilder: the crate binds integers, text and bytes, whose encoding cannot fail"
        )]
        self.args.add(value).expect("a plain value binds");
        self.bound += 1;
        let _ = write!(self.sql, "${}", self.bound);
        self
    }

    /// Pieces separated by `separator` (a list of values, one row's values).
    pub(crate) fn separated<'qb>(&'qb mut self, separator: &'static str) -> Separated<'qb, 'args> {
        Separated {
            builder: self,
            separator,
            first: true,
        }
    }

    /// `VALUES (…), (…)`, one parenthesised row for each item, written by `row`.
    pub(crate) fn push_values<I, F>(&mut self, items: I, mut row: F) -> &mut Self
    where
        I: IntoIterator,
        F: FnMut(Separated<'_, 'args>, I::Item),
    {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            row(self.separated(", "), item);
            self.push(")");
        }
        self
    }

    /// The statement so far (the query-plan tests read it).
    #[cfg(test)]
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    /// The statement with its values, ready to run (the values are taken: build once).
    pub(crate) fn build(&mut self) -> Query<'_, Any, AnyArguments<'_>> {
        let args = self.take_args();
        sqlx::query_with(&self.sql, args)
    }

    /// [`QueryBuilder::build`] reading each row as a `T`.
    pub(crate) fn build_query_as<T>(&mut self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> FromRow<'r, DbRow>,
    {
        let args = self.take_args();
        sqlx::query_as_with(&self.sql, args)
    }

    fn take_args(&mut self) -> AnyArguments<'args> {
        std::mem::take(&mut self.args)
    }
}

/// Pieces of a [`QueryBuilder`] with a separator between them.
pub(crate) struct Separated<'qb, 'args> {
    builder: &'qb mut QueryBuilder<'args>,
    separator: &'static str,
    first: bool,
}

impl<'args> Separated<'_, 'args> {
    fn separate(&mut self) {
        if !self.first {
            self.builder.push(self.separator);
        }
        self.first = false;
    }

    /// Appends a placeholder after a separator and binds `value` to it.
    pub(crate) fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        self.separate();
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_lists_rows_and_conditions() {
        let mut qb = QueryBuilder::new("SELECT x FROM t WHERE a IN (");
        let mut list = qb.separated(", ");
        for v in ["p", "q"] {
            list.push_bind(v);
        }
        qb.push(") AND b = ").push_bind(7_i64);
        assert_eq!(qb.sql(), "SELECT x FROM t WHERE a IN ($1, $2) AND b = $3");
        let mut insert = QueryBuilder::new("INSERT INTO t (a, b) ");
        insert.push_values([(1_i64, "x"), (2, "y")], |mut row, (a, b)| {
            row.push_bind(a).push_bind(b);
        });
        assert_eq!(
            insert.sql(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
