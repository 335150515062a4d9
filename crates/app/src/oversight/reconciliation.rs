//! Reconciling imported platform usage records with executions (§7).
