//! One kit for every integration test (used only as a dev-dependency):
//!
//! - [`Demo`]: the real `querywarden demo` on `127.0.0.1:0` with a temporary data directory
//!   and the BLI simulator on a port of its own; [`binary`] runs other commands.
//! - [`Browser`]: one HTTP client — the demo card sign-in (§3), the session cookie, the CSRF
//!   token as a form field or header, form, multipart and JSON requests.
//! - [`workflow`]: Form 2 registered, approved and executed, Form 3 filed, an audit opened, a
//!   violation case filed, Form 1 drafted, a recertification round opened — or one of each —
//!   each checked.
//! - [`Org`]: the demo organisation in-process for app-level tests, with trail readers.
//!
//! A test that cannot set itself up fails loudly: the kit panics rather than returning errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test kit that cannot set a test up should fail loudly"
)]

pub mod binary;
pub mod browser;
pub mod card;
pub mod org;
pub mod trail;
pub mod workflow;

pub use binary::{Demo, Served, rt, with_demo};
pub use browser::{Browser, DEMO_PASSWORD, answer, assert_page, code_of, id_after, location};
pub use org::Org;
pub use trail::{assert_refused, outcomes, roc, roc_date};
pub use workflow::{
    Form2, Form3, OneOfEach, approved, audit_of_lin, executed, form_one_of_lin, form2_api_body,
    fresh_registration, fresh_subject_id, one_of_each,
};

/// The demo's people by the part they play (the accounts `querywarden demo` seeds).
pub mod people {
    /// 社會救助科 社會工作師, the querier (林美玲).
    pub const LIN: &str = "lin.meiling";
    /// 社會救助科科長, lin's supervisor (陳建宏).
    pub const CHEN: &str = "chen.jianhong";
    /// A colleague in lin's unit with no part in her cases (黃雅婷).
    pub const HUANG: &str = "huang.yating";
    /// 長青科 專員: responsible-unit reviewer and querier (李國偉).
    pub const LI: &str = "li.guowei";
    /// 長青科科長, a supervisor of another unit than lin's (許文傑).
    pub const XU: &str = "xu.wenjie";
    /// 區公所課員, who files Form 3 (蔡佩玲).
    pub const CAI: &str = "cai.peiling";
    /// 政風室主任, the ethics auditor (鄭志豪).
    pub const ZHENG: &str = "zheng.zhihao";
    /// 資訊小組, the permission administrator (吳志明).
    pub const WU: &str = "wu.zhiming";
    /// 秘書室主任, the permission administrator's supervisor (張淑慧).
    pub const ZHANG: &str = "zhang.shuhui";
    /// 局長, the director (周文華).
    pub const ZHOU: &str = "zhou.wenhua";
    /// 區公所課長, the district office's supervisor (楊淑玲).
    pub const YANG: &str = "yang.shuling";
}
