//! End-to-end tests of the `querywarden` binary: they spawn the real program.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot set itself up should fail loudly"
)]

mod admin_http;
mod attacks_http;
mod audit_trail;
mod backup_restore;
mod citizen_report;
mod cli_config;
mod cli_id;
mod demo_server;
mod enrolment_http;
mod golive;
mod mutual_tls;
mod oversight_http;
mod permissions_http;
mod registration_rules_http;
mod registrations_http;
mod sign_in_http;
mod support;
mod unannounced_audits_http;
