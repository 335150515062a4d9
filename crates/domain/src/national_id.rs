//! 身分證字號 and 居留證 (統一證號) numbers: parsing, check digits, masking.
//!
//! Security-sensitive: a `NationalId` is personal data. `Display` and `Debug` print only the
//! masked form (`A12****789`) so that it cannot leak into logs or error messages by accident;
//! the whole number is reachable only through [`NationalId::expose_whole`], whose name makes
//! every use visible in review.

use std::fmt;
use std::str::FromStr;

crate::code_enum! {
    /// Which kind of number this is. The three kinds share one check-digit rule; they differ in
    /// the second character.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum NationalIdKind {
        /// 國民身分證統一編號: letter + `1`/`2` + 8 digits.
        Citizen = "citizen", "國民身分證統一編號";
        /// 舊式居留證統一證號 (before 2021): two letters (second `A`–`D`) + 8 digits.
        /// Old numbers stay valid until 2031.
        ResidentOld = "resident_old", "居留證統一證號（舊式）";
        /// 新式統一證號 (2021 on): letter + `8`/`9` + 8 digits.
        ResidentNew = "resident_new", "居留證統一證號（新式，2021年起）";
    }
}

/// Why a string is not a valid number. Never carries the input itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NationalIdError {
    #[error("未輸入身分證統一編號或統一證號")]
    Empty,
    #[error("長度應為 10 碼，收到 {0} 碼")]
    WrongLength(usize),
    #[error("第 1 碼應為英文字母（A–Z）")]
    FirstNotLetter,
    #[error("第 2 碼應為 1、2（身分證）、8、9（新式統一證號）或 A–D（舊式統一證號）")]
    InvalidSecond,
    #[error("第 {0} 碼應為數字")]
    NotDigit(usize),
    #[error("檢查碼不符（最後一碼錯誤，或有數字打錯、前後顛倒）")]
    CheckDigit,
}

impl NationalIdError {
    /// Stable code for machines (API error bodies, CLI output).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "national_id.empty",
            Self::WrongLength(_) => "national_id.length",
            Self::FirstNotLetter => "national_id.first_letter",
            Self::InvalidSecond => "national_id.second_char",
            Self::NotDigit(_) => "national_id.not_digit",
            Self::CheckDigit => "national_id.check_digit",
        }
    }

    /// English message, for the English UI.
    pub fn message_en(&self) -> String {
        match self {
            Self::Empty => "no ID number given".into(),
            Self::WrongLength(n) => format!("must be 10 characters, got {n}"),
            Self::FirstNotLetter => "character 1 must be a letter A–Z".into(),
            Self::InvalidSecond => {
                "character 2 must be 1 or 2 (national ID), 8 or 9 (new resident number) or A–D (old resident number)".into()
            }
            Self::NotDigit(p) => format!("character {p} must be a digit"),
            Self::CheckDigit => "check digit does not match (a typo or two swapped digits)".into(),
        }
    }
}

/// A validated Taiwanese personal identification number (身分證字號 or 居留證統一證號).
///
/// Construct with [`NationalId::parse`]; the inner value is normalised upper-case ASCII.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NationalId(String);

/// The official area-letter numbers. Note the out-of-sequence letters (I=34, O=35, W=32,
/// X=30, Y=31, Z=33) that were added after the original table.
pub fn letter_value(letter: u8) -> Option<u32> {
    let v = match letter {
        b'A' => 10,
        b'B' => 11,
        b'C' => 12,
        b'D' => 13,
        b'E' => 14,
        b'F' => 15,
        b'G' => 16,
        b'H' => 17,
        b'I' => 34,
        b'J' => 18,
        b'K' => 19,
        b'L' => 20,
        b'M' => 21,
        b'N' => 22,
        b'O' => 35,
        b'P' => 23,
        b'Q' => 24,
        b'R' => 25,
        b'S' => 26,
        b'T' => 27,
        b'U' => 28,
        b'V' => 29,
        b'W' => 32,
        b'X' => 30,
        b'Y' => 31,
        b'Z' => 33,
        _ => return None,
    };
    Some(v)
}

impl NationalId {
    /// Parses and validates. Leading/trailing whitespace and inner spaces are removed,
    /// letters are upper-cased, full-width letters and digits are folded to ASCII.
    pub fn parse(input: &str) -> Result<Self, NationalIdError> {
        let normalised: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(fold_full_width)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if normalised.is_empty() {
            return Err(NationalIdError::Empty);
        }
        let count = normalised.chars().count();
        if count != 10 {
            return Err(NationalIdError::WrongLength(count));
        }
        // Ten characters but one is not ASCII (e.g. a CJK character): name its position, as
        // the ASCII checks below would, rather than report a length that is right.
        if let Some(pos) = normalised.chars().position(|c| !c.is_ascii()) {
            return Err(match pos {
                0 => NationalIdError::FirstNotLetter,
                1 => NationalIdError::InvalidSecond,
                p => NationalIdError::NotDigit(p + 1),
            });
        }
        let b = normalised.as_bytes();
        let first = letter_value(b[0]).ok_or(NationalIdError::FirstNotLetter)?;
        // The second character's contribution to the checksum: a digit counts as itself; an
        // old-style resident letter counts as the last digit of its letter value.
        let second = match b[1] {
            b'1' | b'2' | b'8' | b'9' => u32::from(b[1] - b'0'),
            b'A'..=b'D' => letter_value(b[1]).map_or(0, |v| v % 10),
            b'0'..=b'9' => return Err(NationalIdError::InvalidSecond),
            _ => return Err(NationalIdError::InvalidSecond),
        };
        let mut digits = [0u32; 8];
        for (i, d) in digits.iter_mut().enumerate() {
            let c = b[i + 2];
            if !c.is_ascii_digit() {
                return Err(NationalIdError::NotDigit(i + 3));
            }
            *d = u32::from(c - b'0');
        }
        let mut sum = first / 10 + (first % 10) * 9 + second * 8;
        for (i, d) in digits.iter().take(7).enumerate() {
            sum += d * (7 - i as u32);
        }
        sum += digits[7];
        if sum % 10 != 0 {
            return Err(NationalIdError::CheckDigit);
        }
        Ok(Self(normalised))
    }

    pub fn kind(&self) -> NationalIdKind {
        match self.0.as_bytes()[1] {
            b'1' | b'2' => NationalIdKind::Citizen,
            b'8' | b'9' => NationalIdKind::ResidentNew,
            _ => NationalIdKind::ResidentOld,
        }
    }

    /// `A12****789`: the form shown to anyone without a recorded reason to see the whole.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }

    /// The last four digits, as printed in a MOICA certificate.
    pub fn last4(&self) -> &str {
        &self.0[6..]
    }

    /// The whole number. Every call site is a place where personal data leaves this type:
    /// encryption for storage, HMAC for indexes, an audited reveal, or the upstream query.
    pub fn expose_whole(&self) -> &str {
        &self.0
    }
}

fn fold_full_width(c: char) -> char {
    match c {
        'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({})", self.masked())
    }
}

impl FromStr for NationalId {
    type Err = NationalIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for NationalId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_textbook_example_and_masks_it() {
        let id = NationalId::parse(" a123456789 ").unwrap();
        assert_eq!(id.kind(), NationalIdKind::Citizen);
        assert_eq!(id.to_string(), "A12****789");
        assert_eq!(format!("{id:?}"), "NationalId(A12****789)");
        assert_eq!(id.expose_whole(), "A123456789");
    }

    #[test]
    fn old_resident_number_uses_the_second_letters_last_digit() {
        let id = NationalId::parse("AC01234567").unwrap();
        assert_eq!(id.kind(), NationalIdKind::ResidentOld);
        assert_eq!(
            NationalId::parse("AC01234568"),
            Err(NationalIdError::CheckDigit)
        );
    }
}
