//! Storage of unannounced audits and their records, Form 4 (§8).
