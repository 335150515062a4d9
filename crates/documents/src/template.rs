//! The layout files in `templates/`, one per document: title, then blocks of wrapped text,
//! ruled grids (boxes with labels and bound values, spanning columns and rows like the
//! official blanks), tables repeated over a list (the register's numbered rows) and bar
//! charts of a list's counts (the quarterly report's).
//!
//! The files are compiled into the binary, so a deployed system cannot print a form that
//! differs from the reviewed template; they stay plain files so a clerk's correction to a
//! label is a one-line change next to the official wording.

use serde::Deserialize;

use crate::RenderError;

/// Which document a template lays out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// 附表 1 資料查詢者權限申請表
    Form1,
    /// 附表 2 查調資料登記表 (a register sheet or a single registration)
    Form2,
    /// 附表 3 查調資料申請表
    Form3,
    /// 附表 4 稽核紀錄表
    Form4,
    /// §7 每三個月檢查結果 (to 勞工局)
    QuarterlyReport,
    /// 當事人查詢個人資料答復書 (個人資料保護法 §3, §10, §13)
    CitizenLetter,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 6] = [
        Self::Form1,
        Self::Form2,
        Self::Form3,
        Self::Form4,
        Self::QuarterlyReport,
        Self::CitizenLetter,
    ];

    /// Stable name (audit details, file names).
    pub fn code(self) -> &'static str {
        match self {
            Self::Form1 => "form1",
            Self::Form2 => "form2",
            Self::Form3 => "form3",
            Self::Form4 => "form4",
            Self::QuarterlyReport => "quarterly_report",
            Self::CitizenLetter => "citizen_letter",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::Form1 => include_str!("../templates/form1.toml"),
            Self::Form2 => include_str!("../templates/form2.toml"),
            Self::Form3 => include_str!("../templates/form3.toml"),
            Self::Form4 => include_str!("../templates/form4.toml"),
            Self::QuarterlyReport => include_str!("../templates/quarterly_report.toml"),
            Self::CitizenLetter => include_str!("../templates/citizen_letter.toml"),
        }
    }

    pub fn template(self) -> Result<Template, RenderError> {
        toml::from_str(self.source())
            .map_err(|e| RenderError::Template(format!("{}: {e}", self.code())))
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    #[default]
    Portrait,
    Landscape,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// One document's layout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Title lines, repeated at the top of every page.
    pub title: Vec<String>,
    /// Lines under the title on every page (may name fields: the register's unit and period).
    #[serde(default)]
    pub subtitle: Vec<String>,
    #[serde(default)]
    pub orientation: Orientation,
    #[serde(rename = "block")]
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Block {
    /// A paragraph, wrapped to the page width.
    Text {
        text: String,
        #[serde(default)]
        align: Align,
        #[serde(default)]
        size: Option<f32>,
        /// Space before, in points.
        #[serde(default)]
        gap: Option<f32>,
    },
    /// Ruled boxes; a row that does not fit goes to the next page with the rows its cells
    /// span.
    Grid {
        widths: Vec<f32>,
        rows: Vec<Row>,
        #[serde(default)]
        size: Option<f32>,
        #[serde(default)]
        gap: Option<f32>,
    },
    /// A header, then `row` once per element of the list `source`; the header repeats on
    /// every page. With `per_page`, a page holds at most that many rows and the last page
    /// is filled with blank numbered rows, like the printed register.
    Table {
        source: String,
        widths: Vec<f32>,
        header: Vec<Row>,
        row: Row,
        #[serde(default)]
        per_page: Option<usize>,
        /// The field that numbers rows, for the blank rows of the last page.
        #[serde(default)]
        number_field: Option<String>,
        /// Shown in one row across the table when the list is empty (and no `per_page`).
        #[serde(default)]
        empty: Option<String>,
        #[serde(default)]
        size: Option<f32>,
        #[serde(default)]
        gap: Option<f32>,
    },
    /// A horizontal bar chart drawn from the list `source`: one bar per element, labelled
    /// with `label` (placeholders of the element) and as long as the element's number
    /// field `value`, on a scaled axis, each bar's figure at its end, `caption` under the
    /// chart. Nothing is drawn when every value is zero: the table next to it says so.
    Chart {
        source: String,
        label: String,
        value: String,
        caption: String,
        #[serde(default)]
        gap: Option<f32>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// Lines of text the row is at least as tall as (room for a seal).
    #[serde(default)]
    pub min_lines: Option<f32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    /// Text with `{field}` and `{?flag}` placeholders; `\n` breaks the line.
    #[serde(default)]
    pub text: String,
    /// A label box: shaded, centred, as printed on the blank.
    #[serde(default)]
    pub label: bool,
    #[serde(default = "one")]
    pub span: usize,
    #[serde(default = "one")]
    pub rowspan: usize,
    #[serde(default)]
    pub align: Option<Align>,
    /// Appends `line` once per element of this list, each on its own line.
    #[serde(default)]
    pub each: Option<String>,
    #[serde(default)]
    pub line: Option<String>,
    /// Shown instead of the lines when the list is empty.
    #[serde(default)]
    pub none: Option<String>,
}

fn one() -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_parses() {
        for kind in DocumentKind::ALL {
            let t = kind.template();
            assert!(t.is_ok(), "{}: {t:?}", kind.code());
        }
    }
}
