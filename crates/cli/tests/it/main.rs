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
mod authorisation_matrix;
mod backup_restore;
mod bulk_http;
mod catalogue_http;
mod citizen_http;
mod citizen_report;
mod cli_config;
mod cli_id;
mod crash_rounds;
mod demo_server;
mod deputy_http;
mod docs_claims;
mod documents;
mod enrolment_http;
mod existence_http;
mod golive;
mod home_http;
mod limits_http;
mod lived_in_demo;
mod metrics_http;
mod mutual_tls;
mod operations;
mod oversight_http;
mod permissions_http;
mod postgres;
mod registration_rules_http;
mod registrations_http;
mod required_http;
mod sign_in_http;
mod unannounced_audits_http;
mod upstream_failures_http;
mod words_http;
mod workflows_http;

/// The BLI simulator at zero latency on a runtime of its own, for tests that start the
/// server as a separate process and keep the simulator for the whole test (keep both).
pub fn simulator_on_own_runtime() -> (
    tokio::runtime::Runtime,
    querywarden_bli::simulator::SimulatorHandle,
) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        querywarden_bli::simulator::spawn(Default::default(), listener)
            .await
            .unwrap()
    });
    (rt, sim)
}
