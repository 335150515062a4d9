//! The PKI's integration tests in one binary: the demo CA, garbage in every input, OpenSSL
//! interoperability and the signed-challenge and client-certificate sign-ins, sharing the
//! DEMO CA world of [`common`].

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod demo_generate;
mod garbage;
mod interop;
mod signed_challenge;
