//! Unannounced audits and their record, Form 4 (§8, 稽核紀錄表).
