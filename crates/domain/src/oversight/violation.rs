//! Violations and the ten-day corrective report (§8 ¶2, 檢討報告).
