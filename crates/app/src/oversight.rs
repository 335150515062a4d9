//! Use cases of oversight (§7, §8): reconciliation and anomaly findings, the quarterly usage
//! review, unannounced audits (Form 4), violations with their corrective reports, and the
//! views supervisors and the director read.

pub mod dashboard;
pub mod door;
pub mod reconciliation;
pub mod review;
pub mod unannounced_audit;
pub mod violation;
