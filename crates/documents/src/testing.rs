//! The view models the rendering benchmark and the golden tests both draw: the footer every
//! document carries, a seal, and a Form 2 register row.

use crate::{Footer, RegisterRow, Seal};

/// The footer of every rendered document: the system, when and by whom it was generated,
/// and the trail checkpoint it was generated at.
pub fn footer() -> Footer {
    Footer {
        system: "查調守門員 querywarden".into(),
        generated_at: "民國 115 年 11 月 26 日 14:03".into(),
        generated_by: "林資訊（權限管理者）".into(),
        checkpoint: "3f9a2c41d07e".into(),
    }
}

/// `name`'s seal as `role`, dated `at`.
pub fn seal(name: &str, role: &str, at: &str) -> Option<Seal> {
    Some(Seal {
        name: name.into(),
        role: role.into(),
        at: at.into(),
    })
}

/// Row `i` of a Form 2 register (registration `115-` and `i + 1` in six digits: one C0101
/// lookup by 王小明 for 張社工), with `approval` as its supervisor's seal.
pub fn register_row(i: usize, approval: Option<Seal>) -> RegisterRow {
    RegisterRow {
        registration_no: format!("115-{:06}", i + 1),
        application_date: "115/11/02".into(),
        subject_name: "李○華".into(),
        subject_id: "E22****456".into(),
        items: "C0101 被保險人投保資料".into(),
        reason: "社會救助法第 5 條之 1：審查低收入戶家庭應計算人口之工作收入。".into(),
        requester: "張社工".into(),
        querier: "王小明".into(),
        approval,
    }
}
