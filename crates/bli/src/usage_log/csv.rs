//! A small RFC 4180 CSV reader and writer, kept behind two functions so it can be swapped for
//! the `csv` crate without touching callers.
//!
//! Not security-sensitive by itself; the reader never panics and reports where a row started.

/// One parsed record: the 1-based line on which it starts, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvRow {
    pub line: usize,
    pub fields: Vec<String>,
}

/// A structural fault: an unterminated quote or stray text after a closing quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvError {
    pub line: usize,
    pub reason: &'static str,
}

/// Splits `input` into records. Fields may be quoted with `"`; inside quotes `""` is a quote
/// and commas and line breaks are data. Lines end with LF or CRLF. A UTF-8 BOM is skipped;
/// blank lines are skipped.
pub(crate) fn read(input: &str) -> Result<Vec<CsvRow>, CsvError> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut rows = Vec::new();
    let mut chars = input.chars().peekable();
    let mut line = 1usize;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        while let Some(c) = chars.next() {
            match c {
                '"' if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(CsvError {
                                    line: start_line,
                                    reason: "unterminated quoted field",
                                });
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',' | '\n' | '\r') => {}
                        Some(_) => {
                            return Err(CsvError {
                                line,
                                reason: "text after a closing quote",
                            });
                        }
                    }
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    break;
                }
                '"' => {
                    return Err(CsvError {
                        line,
                        reason: "quote inside an unquoted field",
                    });
                }
                c => field.push(c),
            }
        }
        fields.push(field);
        let blank = fields.len() == 1 && fields[0].is_empty() && !quoted_field;
        if !blank {
            rows.push(CsvRow {
                line: start_line,
                fields,
            });
        }
    }
    Ok(rows)
}

/// Appends one record to `out`, quoting fields that need it, ending with CRLF.
pub(crate) fn write_row(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\r', '\n']) || f.starts_with(' ') || f.ends_with(' ') {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        let rows = read("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n\nlast,").unwrap();
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
    fn writing_then_reading_gives_the_fields_back() {
        let mut out = String::new();
        write_row(
            &mut out,
            &[
                "plain",
                "with,comma",
                "with \"quote\"",
                " padded ",
                "line\nbreak",
                "",
            ],
        );
        let rows = read(&out).unwrap();
        assert_eq!(
            rows[0].fields,
            [
                "plain",
                "with,comma",
                "with \"quote\"",
                " padded ",
                "line\nbreak",
                ""
            ]
        );
    }

    #[test]
    fn broken_quotes_are_reported_with_their_line() {
        assert_eq!(read("a\n\"open").unwrap_err().line, 2);
        assert_eq!(read("a\n\"x\"y,1").unwrap_err().line, 2);
        assert_eq!(read("a\nx\"y").unwrap_err().line, 2);
    }
}
