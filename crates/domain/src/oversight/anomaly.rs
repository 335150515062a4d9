//! Anomaly rules over executions and platform usage records (§7).
