//! What every refusal and input error of the rules tells its reader: a stable code for
//! machines, the zh-TW message (its `Display`) and the same in English.

use std::fmt::Display;

/// A refusal or input error that explains itself: its `Display` is the zh-TW message, safe to
/// show; [`Explained::code`] is stable and [`Explained::message_en`] says the same in English.
pub trait Explained: Display {
    /// The stable code (`permission.items_required`).
    fn code(&self) -> &'static str;
    /// The message in English.
    fn message_en(&self) -> String;
}

/// Implements [`Explained`] from the types' own `code` and `message_en`: `copy` for the types
/// whose methods take `self`, `ref` for those that take `&self`.
#[macro_export]
macro_rules! explained {
    (copy $($ty:ty),+ $(,)?) => {
        $(impl $crate::Explained for $ty {
            fn code(&self) -> &'static str {
                <$ty>::code(*self)
            }
            fn message_en(&self) -> String {
                <$ty>::message_en(*self).to_string()
            }
        })+
    };
    (ref $($ty:ty),+ $(,)?) => {
        $(impl $crate::Explained for $ty {
            fn code(&self) -> &'static str {
                <$ty>::code(self)
            }
            fn message_en(&self) -> String {
                <$ty>::message_en(self).to_string()
            }
        })+
    };
}

explained!(
    copy crate::registration::mine::MineFilterError,
    crate::enrolment::EnrolmentRefusal,
    crate::auth::PasswordRejection,
    crate::permission::acting::DeputyTermError,
);
explained!(
    ref crate::org::OrgError,
    crate::org::SeparationOfDuties,
    crate::catalogue::CatalogueError,
    crate::roc_date::RocDateError,
    crate::national_id::NationalIdError,
    crate::permission::PermissionRefusal,
    crate::citizen_report::CitizenReportError,
    crate::oversight::violation::ViolationRefusal,
    crate::oversight::unannounced_audit::AuditRefusal,
    crate::oversight::review::ReviewRefusal,
    crate::deadline::DeadlineError,
);
