//! Oversight of how query rights are used (§7, §8): the platform usage log reconciled record by
//! record against executions, anomaly rules, the quarterly usage review for the Labor Affairs
//! Bureau (勞工局), unannounced audits (Form 4, 稽核紀錄表) and violations with their ten-day
//! corrective report (檢討報告). Pure types and rules; time comes in as an argument.

pub mod anomaly;
pub mod reconciliation;
pub mod review;
pub mod unannounced_audit;
pub mod violation;
