//! Import of the platform's usage log (使用紀錄): pure parsing and validation of a CSV export
//! into [`UsageRecord`]s, for reconciliation against registrations (portal mode). No database.
//!
//! Security-sensitive: the file holds whole national IDs. They are parsed into [`NationalId`]
//! at once; error reasons never quote a cell (they name the line, the column and what is
//! wrong), so an import report cannot leak personal data. The format and the mapping are
//! documented in `docs/usage-log-format.md`.

mod csv;

use std::collections::HashMap;
use std::fmt;

use querywarden_domain::NationalId;
use serde::Deserialize;

use crate::csv_reader::{CsvRow, read_rows};
use crate::item::BliItem;

pub(crate) use csv::write_row as write_csv_row;

/// One row of the platform's usage log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    /// The platform's id of this row, unique per row: the idempotency key of the import.
    pub platform_record_id: String,
    /// When the platform received the query.
    pub at: jiff::Timestamp,
    /// 機關代碼
    pub agency_code: String,
    /// 查詢者帳號
    pub operator_account: String,
    pub item: BliItem,
    pub subject: NationalId,
    /// Our `X-Request-Id`, when the query came through the connector (connected mode).
    pub request_id: Option<String>,
    /// The platform's outcome word, e.g. `ok`, `not_found` (kept as given).
    pub outcome: String,
}

/// Which column (by header name) holds which field. `Default` is the simulator's export;
/// deserializable from TOML (`[usage_log.columns]` in the config) to read another layout.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnMapping {
    pub platform_record_id: String,
    pub at: String,
    /// `strftime` format of the time column when it is not RFC 3339, e.g. `%Y/%m/%d %H:%M:%S`;
    /// such times are read in [`ColumnMapping::time_zone`].
    pub at_format: Option<String>,
    /// IANA time zone for `at_format` times. Default `Asia/Taipei`.
    pub time_zone: String,
    pub agency_code: String,
    pub operator_account: String,
    pub item: String,
    pub subject_id: String,
    /// Column of the request id; when empty or absent from the header, rows have none.
    pub request_id: Option<String>,
    pub outcome: String,
}

impl Default for ColumnMapping {
    fn default() -> Self {
        Self {
            platform_record_id: "record_id".into(),
            at: "at".into(),
            at_format: None,
            time_zone: "Asia/Taipei".into(),
            agency_code: "agency_code".into(),
            operator_account: "operator_account".into(),
            item: "item".into(),
            subject_id: "subject_id".into(),
            request_id: Some("request_id".into()),
            outcome: "outcome".into(),
        }
    }
}

/// Why one row (or the header, line 1) was refused. Never holds a cell's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file where the row starts; 0 for a fault of the mapping itself.
    pub line: usize,
    /// The column header concerned, if any.
    pub column: Option<String>,
    /// zh-TW reason.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "第 {} 行，欄位「{}」：{}", self.line, c, self.reason),
            None => write!(f, "第 {} 行：{}", self.line, self.reason),
        }
    }
}

impl std::error::Error for RowError {}

fn row_error(line: usize, column: Option<&str>, reason: impl Into<String>) -> RowError {
    RowError {
        line,
        column: column.map(str::to_owned),
        reason: reason.into(),
    }
}

/// The export header of the simulator, in the order of [`ColumnMapping::default`].
pub(crate) const EXPORT_HEADER: [&str; 8] = [
    "record_id",
    "at",
    "agency_code",
    "operator_account",
    "item",
    "subject_id",
    "request_id",
    "outcome",
];

/// Parses a usage-log CSV (first line = header). Every row is validated; if any row is bad,
/// returns all the errors and no records. Also refused: duplicate `platform_record_id`s in
/// the file, missing columns, and rows whose field count differs from the header's.
pub fn parse_csv(input: &str, mapping: &ColumnMapping) -> Result<Vec<UsageRecord>, Vec<RowError>> {
    let time_zone = if mapping.at_format.is_some() {
        match jiff::tz::TimeZone::get(&mapping.time_zone) {
            Ok(tz) => Some(tz),
            Err(_) => return Err(vec![row_error(0, None, "設定的時區名稱無法辨識")]),
        }
    } else {
        None
    };
    let rows = read_rows(input).map_err(|e| vec![row_error(e.line, None, e.fault.message_zh())])?;
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else {
        return Err(vec![row_error(1, None, "檔案是空的，缺少標題列")]);
    };
    let columns = Columns::locate(&header, mapping)?;
    let width = header.fields.len();

    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in rows {
        if row.fields.len() != width {
            errors.push(row_error(
                row.line,
                None,
                format!("欄位數為 {}，與標題列的 {} 欄不符", row.fields.len(), width),
            ));
            continue;
        }
        match columns.record(&row, mapping, time_zone.as_ref()) {
            Ok(record) => {
                if let Some(first) = seen.get(&record.platform_record_id) {
                    errors.push(row_error(
                        row.line,
                        Some(&mapping.platform_record_id),
                        format!("紀錄編號與第 {first} 行重複"),
                    ));
                } else {
                    seen.insert(record.platform_record_id.clone(), row.line);
                    records.push(record);
                }
            }
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// Column positions resolved from the header.
struct Columns {
    record_id: usize,
    at: usize,
    agency_code: usize,
    operator_account: usize,
    item: usize,
    subject_id: usize,
    request_id: Option<usize>,
    outcome: usize,
}

impl Columns {
    fn locate(header: &CsvRow, mapping: &ColumnMapping) -> Result<Self, Vec<RowError>> {
        let mut errors = Vec::new();
        let mut find = |name: &str| {
            let found = header.fields.iter().position(|h| h.trim() == name);
            if found.is_none() {
                errors.push(row_error(header.line, Some(name), "標題列缺少此欄位"));
            }
            found.unwrap_or(0)
        };
        let columns = Self {
            record_id: find(&mapping.platform_record_id),
            at: find(&mapping.at),
            agency_code: find(&mapping.agency_code),
            operator_account: find(&mapping.operator_account),
            item: find(&mapping.item),
            subject_id: find(&mapping.subject_id),
            // Optional: a file without the column simply has no request ids.
            request_id: mapping
                .request_id
                .as_deref()
                .filter(|name| !name.is_empty())
                .and_then(|name| header.fields.iter().position(|h| h.trim() == name)),
            outcome: find(&mapping.outcome),
        };
        if errors.is_empty() {
            Ok(columns)
        } else {
            Err(errors)
        }
    }

    fn record(
        &self,
        row: &CsvRow,
        mapping: &ColumnMapping,
        time_zone: Option<&jiff::tz::TimeZone>,
    ) -> Result<UsageRecord, Vec<RowError>> {
        let mut errors = Vec::new();
        let cell = |i: usize| row.fields.get(i).map_or("", |s| s.trim());
        let mut token = |i: usize, name: &str, max: usize| -> String {
            let v = cell(i);
            if v.is_empty() {
                errors.push(row_error(row.line, Some(name), "不可空白"));
            } else if v.chars().count() > max || v.chars().any(char::is_control) {
                errors.push(row_error(
                    row.line,
                    Some(name),
                    format!("應為 1–{max} 個字元且不含控制字元"),
                ));
            }
            v.to_owned()
        };
        let platform_record_id = token(self.record_id, &mapping.platform_record_id, 128);
        let agency_code = token(self.agency_code, &mapping.agency_code, 64);
        let operator_account = token(self.operator_account, &mapping.operator_account, 64);
        let outcome = token(self.outcome, &mapping.outcome, 64);
        let request_id = match self.request_id {
            Some(i) if !cell(i).is_empty() => {
                let name = mapping.request_id.as_deref().unwrap_or("request_id");
                Some(token(i, name, 128))
            }
            _ => None,
        };

        let at = parse_time(cell(self.at), mapping.at_format.as_deref(), time_zone);
        if at.is_none() {
            let expected = match &mapping.at_format {
                Some(f) => format!("時間格式應為 {f}"),
                None => "時間應為 RFC 3339 格式（例如 2026-03-01T09:30:00+08:00）".to_owned(),
            };
            errors.push(row_error(row.line, Some(&mapping.at), expected));
        }
        let item = BliItem::parse(cell(self.item));
        if let Err(e) = &item {
            errors.push(row_error(row.line, Some(&mapping.item), e.to_string()));
        }
        let subject = NationalId::parse(cell(self.subject_id));
        if let Err(e) = &subject {
            errors.push(row_error(
                row.line,
                Some(&mapping.subject_id),
                e.to_string(),
            ));
        }
        match (at, item, subject) {
            (Some(at), Ok(item), Ok(subject)) if errors.is_empty() => Ok(UsageRecord {
                platform_record_id,
                at,
                agency_code,
                operator_account,
                item,
                subject,
                request_id,
                outcome,
            }),
            _ => Err(errors),
        }
    }
}

fn parse_time(
    s: &str,
    format: Option<&str>,
    tz: Option<&jiff::tz::TimeZone>,
) -> Option<jiff::Timestamp> {
    match (format, tz) {
        (Some(format), Some(tz)) => {
            let civil = jiff::civil::DateTime::strptime(format, s).ok()?;
            tz.to_ambiguous_zoned(civil)
                .compatible()
                .ok()
                .map(|z| z.timestamp())
        }
        _ => s.parse::<jiff::Timestamp>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fuzz stand-in (run in CI): the usage log is a file from the platform operator, so any
    // text — with the default layout or a `strftime` time column — gives records or
    // line-numbered errors, never a panic.
    proptest::proptest! {
        #[test]
        fn the_usage_log_parser_never_panics_on_arbitrary_text(
            body in "[\"',\r\n\u{feff} a-zA-Z0-9:+/T%-]{0,300}",
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let header = EXPORT_HEADER.join(",");
            let strftime = ColumnMapping {
                at_format: Some("%Y/%m/%d %H:%M:%S".into()),
                ..ColumnMapping::default()
            };
            let junk = String::from_utf8_lossy(&bytes);
            for text in [body.clone(), format!("{header}\n{body}"), format!("{header}\n{junk}")] {
                let _ = parse_csv(&text, &ColumnMapping::default());
                let _ = parse_csv(&text, &strftime);
            }
        }
    }

    const HEADER: &str =
        "record_id,at,agency_code,operator_account,item,subject_id,request_id,outcome\n";

    #[test]
    fn a_good_file_parses_every_row() {
        let input = format!(
            "{HEADER}R1,2026-03-01T01:00:00Z,KSSA,op01,C0101,A123456789,req-1,ok\nR2,2026-03-01T09:00:00+08:00,KSSA,\"op,02\",b0101,A123456789,,not_found\n"
        );
        let records = parse_csv(&input, &ColumnMapping::default()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].operator_account, "op,02");
        assert_eq!(records[1].item, BliItem::B0101);
        assert_eq!(records[1].request_id, None);
        assert_eq!(records[0].at, records[1].at);
    }

    #[test]
    fn every_bad_row_is_reported_by_line_and_none_is_accepted() {
        let input = format!(
            "{HEADER}R1,2026-03-01T01:00:00Z,KSSA,op01,C0101,A123456789,req-1,ok\nR2,yesterday,KSSA,op01,C0101,A123456788,,ok\nR3,2026-03-01T01:00:00Z,KSSA,op01,X9999,A123456789,,ok\nR1,2026-03-01T01:00:00Z,KSSA,op01,C0101,A123456789,,ok\nR5,too,few\n"
        );
        let errors = parse_csv(&input, &ColumnMapping::default()).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 3, 4, 5, 6]);
        for e in &errors {
            assert!(!e.to_string().contains("A123456788"), "{e}");
        }
    }

    #[test]
    fn an_excel_export_with_bom_and_crlf_reads_and_a_short_row_names_its_line() {
        let good = format!(
            "\u{feff}{}\r\nR1,2026-03-01T01:00:00Z,KSSA,\"op,01\",C0101,A123456789,req-1,ok\r\n",
            HEADER.trim_end()
        );
        let records = parse_csv(&good, &ColumnMapping::default()).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].operator_account, "op,01");
        assert_eq!(records[0].outcome, "ok");
        let short = format!("{good}\r\nR2,2026-03-01T01:00:00Z\r\n");
        let errors = parse_csv(&short, &ColumnMapping::default()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4);
    }

    #[test]
    fn a_broken_quote_stops_the_import_at_its_line() {
        let input = format!("{HEADER}R1,2026-03-01T01:00:00Z,KSSA,\"op01,C0101\nR2,x\n");
        let errors = parse_csv(&input, &ColumnMapping::default()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].reason.contains("引號未結束"));
    }

    #[test]
    fn a_mapping_from_toml_reads_another_layout() {
        let mapping: ColumnMapping = toml::from_str(
            "platform_record_id = \"序號\"\nat = \"查詢時間\"\nat_format = \"%Y/%m/%d %H:%M:%S\"\nagency_code = \"機關代碼\"\noperator_account = \"帳號\"\nitem = \"查調項目\"\nsubject_id = \"身分證號\"\noutcome = \"結果\"\nrequest_id = \"\"\n",
        )
        .unwrap();
        let mapping = ColumnMapping {
            request_id: None,
            ..mapping
        };
        let input = "序號,查詢時間,機關代碼,帳號,查調項目,身分證號,結果\n9,2026/03/01 09:00:00,KSSA,op01,T0101,A123456789,ok\n";
        let records = parse_csv(input, &mapping).unwrap();
        assert_eq!(records[0].at.to_string(), "2026-03-01T01:00:00Z");
    }

    #[test]
    fn a_missing_column_is_reported_on_the_header_line() {
        let errors = parse_csv("record_id,at\n", &ColumnMapping::default()).unwrap_err();
        assert!(errors.iter().all(|e| e.line == 1));
        assert!(
            errors
                .iter()
                .any(|e| e.column.as_deref() == Some("subject_id"))
        );
    }
}
