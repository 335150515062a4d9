//! Violation cases and corrective reports (§8 ¶2).
