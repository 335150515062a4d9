//! Storage of reconciliation findings, quarterly reviews and violations (§7, §8 ¶2).
