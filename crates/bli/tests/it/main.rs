//! Integration tests of querywarden-bli: the connector against the real simulator on
//! 127.0.0.1:0, against a raw-socket fake for odd faults, and the usage-log round trip.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod connector;
mod faults;
mod helpers;
mod mutual_tls;
mod usage;
