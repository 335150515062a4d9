//! The nine BLI service items (查調項目) as a closed enum: codes, zh-TW names, parsing.
//!
//! Not security-sensitive. The catalogue in `querywarden_domain` is data and may grow; this enum
//! is only the set of items the BLI connector knows how to ask for and decode.

use std::fmt;

querywarden_domain::code_enum! {
    /// One BLI service item (查調項目), as listed on Form 1.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum BliItem {
        /// 被保險人投保資料
        C0101 = "C0101", "被保險人投保資料";
        /// 給付簡要資料
        B0101 = "B0101", "給付簡要資料";
        /// 給付明細資料
        B0201 = "B0201", "給付明細資料";
        /// 失業給付資格
        B0301 = "B0301", "失業給付資格";
        /// 勞工提繳退休金異動資料
        P0301 = "P0301", "勞工提繳退休金異動資料";
        /// 國民年金給付資料
        N0101 = "N0101", "國民年金給付資料";
        /// 老年農民福利津貼發放查詢
        T0101 = "T0101", "老年農民福利津貼發放查詢";
        /// 勞保年金給付資料查詢
        B0401 = "B0401", "勞保年金給付資料查詢";
        /// 勞退請領資料查詢
        P0401 = "P0401", "勞退請領資料查詢";
    }
}

impl BliItem {
    /// Parses a code; surrounding whitespace is ignored and letters may be lower-case.
    pub fn parse(input: &str) -> Result<Self, UnknownItem> {
        // Once per usage-log row: compare in place rather than allocate an upper-cased copy.
        let trimmed = input.trim();
        Self::ALL
            .into_iter()
            .find(|item| item.code().eq_ignore_ascii_case(trimmed))
            .ok_or(UnknownItem)
    }
}

/// The text given is not one of the nine item codes. Carries no input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "不是勞保局查調項目代碼（應為 C0101、B0101、B0201、B0301、P0301、N0101、T0101、B0401 或 P0401）"
)]
pub struct UnknownItem;

impl fmt::Display for BliItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for BliItem {
    type Err = UnknownItem;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for BliItem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for BliItem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_item() {
        for item in BliItem::ALL {
            assert_eq!(BliItem::parse(item.code()), Ok(item));
            assert_eq!(BliItem::parse(&item.code().to_lowercase()), Ok(item));
            assert!(!item.name_zh().is_empty());
        }
        assert_eq!(BliItem::parse("X0101"), Err(UnknownItem));
        assert_eq!(BliItem::parse(""), Err(UnknownItem));
    }
}
