//! Fuzzes the batch-registration file (`name,national_id[,linked_id]` per line): any text
//! gives lines with their subjects or errors, or the broken quote's line, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_app::registration::read_batch_lines;

fuzz_target!(|data: &[u8]| {
    let _ = read_batch_lines(&String::from_utf8_lossy(data));
});
