//! The usage log's CSV writer (the simulator's export); reading goes through the shared
//! [`crate::csv_reader`].
//!
//! Not security-sensitive by itself.

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
        let rows = crate::csv_reader::read_rows(&out).unwrap();
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
}
