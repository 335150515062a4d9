//! The quarterly usage review, findings, violations and the director's dashboard (§7, §8).

pub mod routes;
