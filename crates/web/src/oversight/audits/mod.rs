//! Unannounced audits, Form 4 (§8).

pub mod routes;
