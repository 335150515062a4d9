//! The one CSV reader of querywarden's imports: the platform's usage log (§7), the batch
//! registration file (Form 2) and the staff roster (§2). Records are split by the `csv` crate
//! (RFC 4180: quoted fields may hold commas, quotes as `""` and line breaks; LF or CRLF; blank
//! lines skipped); a UTF-8 BOM is dropped. On top, the reader is strict where `csv` is lenient,
//! so that a broken quote is reported instead of silently joining or splitting cells: each
//! record's raw text must be exactly its fields, each either bare without a quote or quoted.
//!
//! Every row and every fault carries the 1-based line on which its record starts, so all three
//! importers report "第 N 行" the same way.
//!
//! Not security-sensitive by itself; faults never quote a cell (the files hold national IDs).

/// One record: the 1-based line on which it starts, and its fields as written (not trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: usize,
    pub fields: Vec<String>,
}

/// What is wrong with a record's quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvFault {
    /// A quoted field never closes (it would swallow the rest of the file).
    UnterminatedQuote,
    /// Text follows a field's closing quote before the comma.
    TextAfterClosingQuote,
    /// A field not starting with a quote holds one.
    QuoteInUnquotedField,
    /// The `csv` crate refused the input.
    Unreadable,
}

impl CsvFault {
    /// The zh-TW reason, for an import report.
    pub fn message_zh(self) -> &'static str {
        match self {
            Self::UnterminatedQuote => "引號未結束（CSV 格式錯誤），無法繼續讀取",
            Self::TextAfterClosingQuote => "結束引號後還有文字（CSV 格式錯誤）",
            Self::QuoteInUnquotedField => "未加引號的欄位中有引號（CSV 格式錯誤）",
            Self::Unreadable => "無法讀取（CSV 格式錯誤）",
        }
    }
}

/// A structural fault and the line on which its record starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("第 {line} 行：{}", fault.message_zh())]
pub struct CsvError {
    pub line: usize,
    pub fault: CsvFault,
}

/// Splits `input` into records; the first structural fault stops the reading (after a broken
/// quote, nothing later can be trusted to be where it seems).
pub fn read_rows(input: &str) -> Result<Vec<CsvRow>, CsvError> {
    // Excel writes one BOM; a file saved again by a second tool may carry two. None of them
    // is data (the `csv` crate itself chokes on a second one).
    let input = input.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input.as_bytes());
    // Each record with the byte offset at which `csv` began reading it: that offset may still
    // be on the previous record's line end or on blank lines, which are skipped below.
    let mut read = Vec::new();
    for result in reader.records() {
        let offset = |r: &::csv::StringRecord| r.position().map_or(0, |p| p.byte() as usize);
        match result {
            Ok(record) => read.push((offset(&record), record)),
            Err(e) => {
                let at = e.position().map_or(input.len(), |p| p.byte() as usize);
                let line = Lines::new(input).line_at(at.min(input.len()));
                return Err(CsvError {
                    line,
                    fault: CsvFault::Unreadable,
                });
            }
        }
    }
    let mut lines = Lines::new(input);
    let mut rows = Vec::with_capacity(read.len());
    for (i, (offset, record)) in read.iter().enumerate() {
        let end = read.get(i + 1).map_or(input.len(), |(next, _)| *next);
        let raw = input.get(*offset..end).unwrap_or("");
        let skipped = raw.len() - raw.trim_start_matches(['\r', '\n']).len();
        let line = lines.line_at(offset + skipped);
        let raw = &raw[skipped..];
        strict(raw, record).map_err(|fault| CsvError { line, fault })?;
        rows.push(CsvRow {
            line,
            fields: record.iter().map(str::to_string).collect(),
        });
    }
    Ok(rows)
}

/// Line numbers of byte offsets, asked in increasing order (one pass over the input).
struct Lines<'a> {
    input: &'a str,
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(input: &'a str) -> Self {
        Self {
            input,
            at: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: usize) -> usize {
        if offset > self.at {
            let passed = self.input.as_bytes().get(self.at..offset).unwrap_or(&[]);
            self.line += passed.iter().filter(|b| **b == b'\n').count();
            self.at = offset;
        }
        self.line
    }
}

/// Checks that `raw` (one record's text, possibly followed by line ends) is exactly `fields`
/// written strictly: comma-separated, each field bare (no quote in it) or quoted with inner
/// quotes doubled and nothing between the closing quote and the next comma or line end.
fn strict(raw: &str, fields: &::csv::StringRecord) -> Result<(), CsvFault> {
    let mut rest = raw;
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(',').ok_or(CsvFault::Unreadable)?;
        }
        rest = match rest.strip_prefix('"') {
            Some(quoted) => {
                let after = closing_quote(quoted).ok_or(CsvFault::UnterminatedQuote)?;
                if !after.is_empty() && !after.starts_with([',', '\r', '\n']) {
                    return Err(CsvFault::TextAfterClosingQuote);
                }
                let inner = &quoted[..quoted.len() - after.len() - 1];
                if inner.replace("\"\"", "\"") != field {
                    return Err(CsvFault::Unreadable);
                }
                after
            }
            None => {
                let bare = &rest[..rest.find([',', '\r', '\n']).unwrap_or(rest.len())];
                if bare.contains('"') {
                    return Err(CsvFault::QuoteInUnquotedField);
                }
                if bare != field {
                    return Err(CsvFault::Unreadable);
                }
                &rest[bare.len()..]
            }
        };
    }
    if rest.trim_start_matches(['\r', '\n']).is_empty() {
        Ok(())
    } else {
        Err(CsvFault::Unreadable)
    }
}

/// What follows the closing quote of a quoted field whose opening quote is already consumed;
/// `None` if it never closes.
fn closing_quote(quoted: &str) -> Option<&str> {
    let mut chars = quoted.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            if chars.peek().is_some_and(|(_, n)| *n == '"') {
                chars.next();
            } else {
                return quoted.get(i + 1..);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(input: &str) -> Vec<Vec<String>> {
        read_rows(input)
            .unwrap()
            .into_iter()
            .map(|r| r.fields)
            .collect()
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        let rows =
            read_rows("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n\nlast,").unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[1],
            CsvRow {
                line: 2,
                fields: vec!["x,1".into(), "say \"hi\"".into()]
            }
        );
        assert_eq!(
            rows[2],
            CsvRow {
                line: 3,
                fields: vec!["multi\nline".into(), "z".into()]
            }
        );
        assert_eq!(
            rows[3],
            CsvRow {
                line: 6,
                fields: vec!["last".into(), String::new()]
            }
        );
    }

    #[test]
    fn a_bom_and_crlf_line_ends_are_not_data() {
        let rows = read_rows("\u{feff}name,id\r\n王小明,A123456789\r\n").unwrap();
        assert_eq!(
            rows,
            [
                CsvRow {
                    line: 1,
                    fields: vec!["name".into(), "id".into()]
                },
                CsvRow {
                    line: 2,
                    fields: vec!["王小明".into(), "A123456789".into()]
                }
            ]
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_later_lines_keep_their_numbers() {
        let rows = read_rows("a\n\n\r\n\nb\n").unwrap();
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 5]);
    }

    #[test]
    fn rows_may_differ_in_width_for_the_importer_to_judge() {
        assert_eq!(fields("a,b,c\nd\n"), [vec!["a", "b", "c"], vec!["d"]]);
    }

    #[test]
    fn fields_keep_their_spaces_for_the_importer_to_trim() {
        assert_eq!(
            fields("王小明, A123456789"),
            [vec!["王小明", " A123456789"]]
        );
        assert_eq!(
            fields("\"Smith, John\",AC01234567,"),
            [vec!["Smith, John", "AC01234567", ""]]
        );
        assert_eq!(fields("\"a\"\"b\",x"), [vec!["a\"b", "x"]]);
    }

    #[test]
    fn broken_quotes_are_reported_with_their_line() {
        let fault = |s: &str| read_rows(s).unwrap_err();
        assert_eq!(
            fault("a\n\"open"),
            CsvError {
                line: 2,
                fault: CsvFault::UnterminatedQuote
            }
        );
        assert_eq!(
            fault("a\n\"x\"y,1"),
            CsvError {
                line: 2,
                fault: CsvFault::TextAfterClosingQuote
            }
        );
        assert_eq!(
            fault("a\nx\"y"),
            CsvError {
                line: 2,
                fault: CsvFault::QuoteInUnquotedField
            }
        );
        // An unterminated quote swallows the lines after it; the fault names where it opened.
        assert_eq!(fault("a\n\"open,x\nb,c\nd\n").line, 2);
        assert_eq!(fault("\"a,b").fault, CsvFault::UnterminatedQuote);
    }

    // Fuzz stand-in: imports are uploaded by people, so any text gives rows or a fault with a
    // line inside the file, never a panic; text without quotes always reads.
    proptest::proptest! {
        #[test]
        fn the_reader_never_panics_on_arbitrary_text(
            text in "[\"',\r\n\u{feff} a-zA-Z0-9王小明]{0,200}",
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            for input in [text.clone(), String::from_utf8_lossy(&bytes).into_owned()] {
                match read_rows(&input) {
                    Ok(rows) => {
                        for r in rows {
                            proptest::prop_assert!(r.line >= 1 && r.line <= input.lines().count().max(1));
                        }
                    }
                    Err(e) => proptest::prop_assert!(e.line >= 1),
                }
            }
            let unquoted = text.replace('"', "");
            proptest::prop_assert!(read_rows(&unquoted).is_ok());
        }
    }
}
