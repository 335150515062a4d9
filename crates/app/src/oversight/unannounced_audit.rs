//! Unannounced audit use cases, Form 4 (§8).
