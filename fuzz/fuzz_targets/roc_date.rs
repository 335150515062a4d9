//! Fuzzes the ROC-date parser: any text gives a date or a typed error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_domain::roc_date::RocDate;

fuzz_target!(|data: &[u8]| {
    let _ = RocDate::parse(&String::from_utf8_lossy(data));
});
