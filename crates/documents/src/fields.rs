//! The values a template binds to: named texts, check flags and lists of rows.
//!
//! View models turn themselves into [`Fields`]; templates name fields as `{name}` (text),
//! `{?name}` (a check box: ■ when set, □ when not) and `each = "name"` (a list); a number
//! prints as text where a template names it and is drawn where a chart names it.

use std::collections::BTreeMap;

/// One bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Flag(bool),
    /// A count: printed in decimal, and what a chart's bar is drawn from.
    Number(u64),
    List(Vec<Fields>),
}

/// The named values of one document (or of one row of a list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(BTreeMap<String, Value>);

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    pub fn text(mut self, name: &str, value: impl Into<String>) -> Fields {
        self.0.insert(name.to_string(), Value::Text(value.into()));
        self
    }

    pub fn flag(mut self, name: &str, set: bool) -> Fields {
        self.0.insert(name.to_string(), Value::Flag(set));
        self
    }

    pub fn number(mut self, name: &str, value: u64) -> Fields {
        self.0.insert(name.to_string(), Value::Number(value));
        self
    }

    pub fn list(mut self, name: &str, rows: Vec<Fields>) -> Fields {
        self.0.insert(name.to_string(), Value::List(rows));
        self
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub(crate) fn rows(&self, name: &str) -> Result<&[Fields], crate::RenderError> {
        match self.0.get(name) {
            Some(Value::List(rows)) => Ok(rows),
            _ => Err(crate::RenderError::Template(format!(
                "field `{name}` is not a list"
            ))),
        }
    }

    pub(crate) fn count(&self, name: &str) -> Result<u64, crate::RenderError> {
        match self.0.get(name) {
            Some(Value::Number(n)) => Ok(*n),
            _ => Err(crate::RenderError::Template(format!(
                "field `{name}` is not a number"
            ))),
        }
    }

    /// Fills the placeholders of `pattern` from these fields (then from `outer`, for a row
    /// of a list that names a document-level field).
    pub(crate) fn fill(
        &self,
        pattern: &str,
        outer: Option<&Fields>,
    ) -> Result<String, crate::RenderError> {
        let mut out = String::with_capacity(pattern.len());
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| {
                crate::RenderError::Template(format!("unclosed placeholder in `{pattern}`"))
            })?;
            let name = &after[..close];
            let (check, name) = match name.strip_prefix('?') {
                Some(n) => (true, n),
                None => (false, name),
            };
            let value = self
                .0
                .get(name)
                .or_else(|| outer.and_then(|o| o.0.get(name)))
                .ok_or_else(|| crate::RenderError::Template(format!("no field `{name}`")))?;
            match (check, value) {
                (true, Value::Flag(set)) => out.push(if *set { '■' } else { '□' }),
                (false, Value::Text(t)) => out.push_str(t),
                (false, Value::Number(n)) => out.push_str(&n.to_string()),
                _ => {
                    return Err(crate::RenderError::Template(format!(
                        "field `{name}` has the wrong kind for `{pattern}`"
                    )));
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}
