//! Fuzzes the Form 2 bodies as the server reads them (`querywarden_web::fuzzing`): the page
//! form, the JSON registration, the JSON batch with its CSV, and the execution body. Any bytes
//! give the input a use case would take or a stable refusal code, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_web::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::registration_form(data);
    let _ = fuzzing::registration_json(data);
    let _ = fuzzing::registration_batch_json(data);
    let _ = fuzzing::execution_json(data);
});
