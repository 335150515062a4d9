//! Record-by-record reconciliation of platform usage records with executions (§7).
