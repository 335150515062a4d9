//! Fuzzes the Form 3 request bodies as the server reads them (`querywarden_web::fuzzing`): the
//! page form, whose subjects are one per line, and the JSON body; each subject is parsed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_web::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::request_form(data);
    let _ = fuzzing::request_json(data);
});
