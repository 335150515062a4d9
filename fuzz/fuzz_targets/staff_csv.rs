//! Fuzzes the staff import (§2, the HR file) against a fixed organisation: any text gives the
//! rows to import or every bad row by line, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_app::permission::staff::read_staff_file_against_fixture;

fuzz_target!(|data: &[u8]| {
    let _ = read_staff_file_against_fixture(&String::from_utf8_lossy(data));
});
