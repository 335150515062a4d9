//! Fuzzes the national-ID parser: any text gives an ID or a typed error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_domain::NationalId;

fuzz_target!(|data: &[u8]| {
    let _ = NationalId::parse(&String::from_utf8_lossy(data));
});
