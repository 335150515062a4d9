//! Stored text back into domain values, with one error shape: every read of every module
//! reports an undecodable column the same way (`StorageError::Decode`, naming what it was).

use jiff::Timestamp;
use querywarden_domain::roc_date::RocDate;
use sqlx::Row;

use crate::error::{StorageError, classify};
use crate::registration::SealedBlob;
use crate::{Db, DbRow};

/// Wraps a parse failure of `what` as a decode error.
pub(crate) fn decode<T, E: std::fmt::Display>(
    what: &str,
    r: Result<T, E>,
) -> Result<T, StorageError> {
    r.map_err(|e| StorageError::Decode(format!("{what}: {e}")))
}

/// An instant stored as RFC 3339 text.
pub(crate) fn ts(s: &str) -> Result<Timestamp, StorageError> {
    decode("timestamp", s.parse::<Timestamp>())
}

pub(crate) fn opt_ts(s: Option<String>) -> Result<Option<Timestamp>, StorageError> {
    s.as_deref().map(ts).transpose()
}

/// A civil date stored as `YYYY-MM-DD`.
pub(crate) fn civil(s: &str) -> Result<jiff::civil::Date, StorageError> {
    decode("date", s.parse::<jiff::civil::Date>())
}

pub(crate) fn opt_civil(s: Option<String>) -> Result<Option<jiff::civil::Date>, StorageError> {
    s.as_deref().map(civil).transpose()
}

/// A civil date stored as `YYYY-MM-DD`, as the ROC date it is.
pub(crate) fn roc(s: &str) -> Result<RocDate, StorageError> {
    decode("date", RocDate::from_civil(civil(s)?))
}

pub(crate) fn opt_roc(s: Option<String>) -> Result<Option<RocDate>, StorageError> {
    s.as_deref().map(roc).transpose()
}

/// A ROC date as stored: its civil date, `YYYY-MM-DD`.
pub(crate) fn roc_text(d: RocDate) -> String {
    d.civil().to_string()
}

/// A column of a row read by name.
pub(crate) fn get<'r, T>(row: &'r DbRow, col: &str) -> Result<T, StorageError>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(col).map_err(classify)
}

/// The five columns of a sealed blob, each name after `prefix` (`name_` for
/// `name_sealed`, `name_nonce`, …).
pub(crate) fn blob(row: &DbRow, prefix: &str) -> Result<SealedBlob, StorageError> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(SealedBlob {
        sealed: get(row, &col("sealed"))?,
        nonce: get(row, &col("nonce"))?,
        wrapped_key: get(row, &col("wrapped_key"))?,
        wrap_nonce: get(row, &col("wrap_nonce"))?,
        master_key_id: get(row, &col("master_key_id"))?,
    })
}

/// Rows folded into one text column, so that a row and its children are read in one
/// statement on SQLite and PostgreSQL alike (no JSON function is common to both):
/// `coalesce((SELECT string_agg(<field> || <field> …, '' ORDER BY …) …), '')` where each
/// field is `CASE WHEN x IS NULL THEN '~' ELSE length(x) || ':' || x END` (integers as
/// `CAST(x AS TEXT)`). `length` counts characters on both engines. Gives `fields` fields a
/// row, rows in order.
pub(crate) fn unfold(
    what: &str,
    folded: &str,
    fields: usize,
) -> Result<Vec<Vec<Option<String>>>, StorageError> {
    let bad = |why: &str| StorageError::Decode(format!("{what}: {why}"));
    let mut rows = Vec::new();
    let mut row = Vec::with_capacity(fields);
    let mut rest = folded;
    while !rest.is_empty() {
        let field = if let Some(after) = rest.strip_prefix('~') {
            rest = after;
            None
        } else {
            let colon = rest.find(':').ok_or_else(|| bad("no length"))?;
            let chars: usize = rest[..colon].parse().map_err(|_| bad("bad length"))?;
            let text = &rest[colon + 1..];
            let end = text
                .char_indices()
                .nth(chars)
                .map_or(text.len(), |(i, _)| i);
            if text[..end].chars().count() != chars {
                return Err(bad("field cut short"));
            }
            rest = &text[end..];
            Some(text[..end].to_string())
        };
        row.push(field);
        if row.len() == fields {
            rows.push(std::mem::replace(&mut row, Vec::with_capacity(fields)));
        }
    }
    if !row.is_empty() {
        return Err(bad("a row cut short"));
    }
    Ok(rows)
}

/// [`unfold`]s `folded` and decodes each row with `row`, which takes the row's fields in
/// order; collected into what the caller needs.
pub(crate) fn unfold_rows<T, C: FromIterator<T>>(
    what: &str,
    folded: &str,
    fields: usize,
    row: impl FnMut(Fields) -> Result<T, StorageError>,
) -> Result<C, StorageError> {
    unfold(what, folded, fields)?
        .into_iter()
        .map(|f| Fields(f.into_iter()))
        .map(row)
        .collect()
}

/// The fields of one [`unfold`]ed row, taken in order.
pub(crate) struct Fields(std::vec::IntoIter<Option<String>>);

impl Fields {
    /// The next field, `None` if NULL.
    pub(crate) fn opt(&mut self) -> Option<String> {
        self.0.next().flatten()
    }

    /// The next field, which may not be NULL.
    pub(crate) fn text(&mut self, what: &str) -> Result<String, StorageError> {
        field(what, self.opt())
    }

    /// The next field, an integer.
    pub(crate) fn int(&mut self, what: &str) -> Result<i64, StorageError> {
        int_field(what, self.opt())
    }
}

/// A field of an [`unfold`]ed row that may not be NULL.
pub(crate) fn field(what: &str, f: Option<String>) -> Result<String, StorageError> {
    f.ok_or_else(|| StorageError::Decode(format!("{what}: missing")))
}

/// An integer field of an [`unfold`]ed row.
pub(crate) fn int_field(what: &str, f: Option<String>) -> Result<i64, StorageError> {
    decode(what, field(what, f)?.parse::<i64>())
}

/// A value stored as its code (`parse` is the type's `parse_code`): any other text is a
/// decode error naming `what` and the text found.
pub(crate) fn coded<T>(
    what: &str,
    s: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StorageError> {
    parse(s).ok_or_else(|| StorageError::Decode(format!("{what} {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_code_decodes_or_names_what_it_found() {
        use querywarden_domain::org::Role;
        assert_eq!(
            coded("role", "director", Role::parse_code).unwrap(),
            Role::Director
        );
        match coded("role", "chief", Role::parse_code) {
            Err(StorageError::Decode(text)) => assert_eq!(text, "role chief"),
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn unfolds_rows_with_nulls_colons_and_wide_characters() {
        let folded = "2:42~7:a:b:c~2~2:審核1:x";
        let rows = unfold("t", folded, 2).unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Some("42".into()), None],
                vec![Some("a:b:c~2".into()), None],
                vec![Some("審核".into()), Some("x".into())],
            ]
        );
        assert!(unfold("t", "", 3).unwrap().is_empty());
        assert!(unfold("t", "2:42", 2).is_err(), "half a row");
        assert!(unfold("t", "5:ab", 1).is_err(), "field cut short");
        assert!(unfold("t", "x:ab", 1).is_err(), "no length");
    }
}
