//! Fuzzes the usage-log CSV import: any file gives records or line-numbered errors, never a
//! panic, with the default layout and with a `strftime` time column.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_bli::usage_log::{ColumnMapping, parse_csv};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_csv(&text, &ColumnMapping::default());
    let strftime = ColumnMapping {
        at_format: Some("%Y/%m/%d %H:%M:%S".into()),
        ..ColumnMapping::default()
    };
    let _ = parse_csv(&text, &strftime);
});
