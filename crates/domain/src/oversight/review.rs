//! The quarterly usage review (§7, 每三個月檢核使用紀錄).
