//! Kinds of domain type declared once each: closed sets of values that are stored, sent and
//! shown by a stable code (roles, states, steps, audit actions), storage ids and checked
//! texts. A code set is one table (variant, code, names), so that the list of values, the code, the names and the
//! parsing cannot drift apart when a value is added.

/// Declares an enum whose values each carry a stable code, and optionally a zh-TW name
/// (`name_zh`) and an English one (`name_en`):
///
/// ```
/// querywarden_domain::code_enum! {
///     /// Where a thing stands.
///     #[derive(Copy, Clone, PartialEq, Eq, Debug)]
///     pub enum Standing {
///         /// 有效
///         Open = "open", "有效", "open";
///         /// 終止
///         Closed = "closed", "終止", "closed";
///     }
/// }
/// assert_eq!(Standing::parse_code("closed"), Some(Standing::Closed));
/// assert_eq!(Standing::ALL.map(Standing::code), ["open", "closed"]);
/// assert_eq!(Standing::Open.name_zh(), "有效");
/// ```
///
/// Every value gets `ALL` (in declaration order), `code()` and `parse_code()`, which refuses
/// any other text. The derives are the caller's: the enum must at least be `Copy`. Other
/// methods go in an `impl` block of their own beside it. Begin with `@serde` when the enum
/// derives serde and its serde form is to be the code itself.
#[macro_export]
macro_rules! code_enum {
    // `@serde` first: the serde form of each value is its code (the caller derives serde).
    (@serde $(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal $(, $names:literal)*;)+
    }) => {
        $crate::code_enum!($(#[$meta])* $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant = $code $(, $names)*;)+
        });
    };
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal, $en:literal;)+
    }) => {
        $crate::code_enum!($(#[$meta])* $vis enum $name {
            $($(#[$vmeta])* $variant = $code, $zh;)+
        });

        impl $name {
            /// The English name.
            pub fn name_en(self) -> &'static str {
                match self {
                    $($name::$variant => $en,)+
                }
            }
        }
    };
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal;)+
    }) => {
        $crate::code_enum!($(#[$meta])* $vis enum $name {
            $($(#[$vmeta])* $variant = $code;)+
        });

        impl $name {
            /// The zh-TW name people read.
            pub fn name_zh(self) -> &'static str {
                match self {
                    $($name::$variant => $zh,)+
                }
            }
        }
    };
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal;)+
    }) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The stable code: what storage keeps, the API sends and the trail records.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// The value of exactly this code; `None` for any other text.
            pub fn parse_code(s: &str) -> Option<Self> {
                match s {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

/// Declares the storage id of a kind of record: an opaque number, not personal data, that
/// storage hands out and pages and the API carry in paths. Written once so that every id
/// prints, compares and serialises alike (as the bare number). Domain-only: the derives
/// name this crate's serde.
macro_rules! storage_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> $name {
                $name(id)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

/// Gives a checked text value (`pub struct $name(String)`, made only through `$check`, which
/// refuses with `$error`) the conversions every such value has, written once: `as_str`,
/// `Display`, `FromStr`, `TryFrom<String>` (so serde can check it on the way in with
/// `#[serde(try_from = "String", into = "String")]`) and back into a `String`. Write
/// `#[owned] new` when the check takes the `String` itself, so that a deserialised value is
/// not copied.
macro_rules! checked_text {
    ($name:ident, $error:ty, #[owned] $check:ident) => {
        $crate::declare::checked_text!(@impls $name, $error, $check, |s| $name::$check(s));
    };
    ($name:ident, $error:ty, $check:ident) => {
        $crate::declare::checked_text!(@impls $name, $error, $check, |s| $name::$check(&s));
    };
    (@impls $name:ident, $error:ty, $check:ident, |$s:ident| $from_string:expr) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::$check(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from($s: String) -> Result<Self, Self::Error> {
                $from_string
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

pub(crate) use {checked_text, storage_id};

#[cfg(test)]
mod tests {
    crate::code_enum! {
        #[derive(Copy, Clone, PartialEq, Eq, Debug)]
        enum Bare {
            One = "one";
            Two = "two";
        }
    }

    crate::code_enum! {
        #[derive(Copy, Clone, PartialEq, Eq, Debug)]
        enum Named {
            First = "first", "第一";
            Second = "second", "第二";
        }
    }

    crate::code_enum! {
        @serde
        #[derive(Copy, Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
        enum Wire {
            Plain = "plain";
            Dotted = "wire.dotted";
        }
    }

    #[test]
    fn with_serde_the_serde_form_is_the_code() {
        for w in Wire::ALL {
            let json = serde_json::to_string(&w).unwrap();
            assert_eq!(json, format!("\"{}\"", w.code()));
            assert_eq!(serde_json::from_str::<Wire>(&json).unwrap(), w);
        }
        assert!(serde_json::from_str::<Wire>("\"Dotted\"").is_err());
        assert_eq!(Wire::parse_code("wire.dotted"), Some(Wire::Dotted));
    }

    #[test]
    fn every_value_parses_back_from_its_code_and_nothing_else_parses() {
        for b in Bare::ALL {
            assert_eq!(Bare::parse_code(b.code()), Some(b));
        }
        for n in Named::ALL {
            assert_eq!(Named::parse_code(n.code()), Some(n));
        }
        for other in ["", "One", "one ", "third", "第一"] {
            assert_eq!(Bare::parse_code(other), None, "{other:?}");
            assert_eq!(Named::parse_code(other), None, "{other:?}");
        }
    }

    crate::declare::storage_id!(
        /// A test's id.
        ThingId
    );

    #[test]
    fn a_storage_id_is_its_number_in_print_and_in_json() {
        let id = ThingId::new(42);
        assert_eq!(id.get(), 42);
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(
            serde_json::from_str::<ThingId>("7").unwrap(),
            ThingId::new(7)
        );
    }

    #[derive(Debug, PartialEq)]
    struct Digits(String);

    impl Digits {
        fn parse(s: &str) -> Result<Digits, &'static str> {
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Digits(s.to_string()))
            } else {
                Err("digits only")
            }
        }
    }

    crate::declare::checked_text!(Digits, &'static str, parse);

    #[test]
    fn a_checked_text_goes_through_its_check_every_way_in() {
        assert_eq!(
            "042".parse::<Digits>().map(|d| d.to_string()),
            Ok("042".into())
        );
        assert_eq!(
            Digits::try_from(String::from("7")).map(String::from),
            Ok("7".into())
        );
        assert_eq!("4a".parse::<Digits>(), Err("digits only"));
        assert_eq!(Digits::try_from(String::new()), Err("digits only"));
        assert_eq!(Digits::parse("12").unwrap().as_str(), "12");
    }

    #[test]
    fn the_table_gives_each_value_its_own_code_and_name_in_order() {
        assert_eq!(Bare::ALL, [Bare::One, Bare::Two]);
        assert_eq!(Named::ALL.map(Named::code), ["first", "second"]);
        assert_eq!(Named::ALL.map(Named::name_zh), ["第一", "第二"]);
    }
}
