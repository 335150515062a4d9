//! Fuzzes the BLI reply parser: any byte string, for each of the nine items, must give a
//! result (records or a typed error) and never a panic, hang or abort.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_bli::BliItem;
use querywarden_bli::wire::parse_reply;

fuzz_target!(|data: &[u8]| {
    for item in BliItem::ALL {
        if let Ok(records) = parse_reply(item, data) {
            assert_eq!(records.item(), item);
        }
    }
});
