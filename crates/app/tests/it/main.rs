//! The application's use cases end to end, in-process: one test binary, each module a part of
//! the application, and what several modules set up alike in [`common`]. The one crate-level
//! `allow` below is the only place the tests lift the workspace's `unwrap_used`, `expect_used`
//! and `panic` lints.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot set itself up should fail loudly"
)]

mod common;

mod acting;
mod administration;
mod calendar;
mod citizen_report;
mod enrolment;
mod fuzz_seeds;
mod mail_digest;
mod oversight;
mod permissions;
mod registrations;
mod scheduled_jobs;
mod sign_in;
mod unannounced_audits;
mod worklist;
