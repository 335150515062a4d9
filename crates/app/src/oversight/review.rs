//! The quarterly usage review use cases (§7).
