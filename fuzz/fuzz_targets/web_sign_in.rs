//! Fuzzes the sign-in form as the server reads it (`querywarden_web::fuzzing`): axum's form
//! extractor, the signature's format and the base64 card fields.

#![no_main]

use libfuzzer_sys::fuzz_target;
use querywarden_web::fuzzing;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::sign_in_form(data);
});
