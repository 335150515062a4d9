//! Typed BLI records, in the domain's words: what each of the nine items returns.
//!
//! Security-sensitive only in that these values are personal data about the subject; they
//! carry no national ID. Every constructor validates (amounts in NT$ within
//! `0..=100_000_000`, rates within 0–100 %, dates as civil dates), so a value of these types
//! is always in range. The serde form (used by the app to store an encrypted result) writes
//! dates as ISO `YYYY-MM-DD` and months as `YYYY-MM`.

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::item::BliItem;

/// An amount of money in whole New Taiwan dollars, `0..=100_000_000`.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount(i64);

impl Amount {
    /// The largest amount accepted from upstream: NT$100,000,000.
    pub const MAX: i64 = 100_000_000;

    /// `None` when negative or above [`Amount::MAX`].
    pub fn new(ntd: i64) -> Option<Self> {
        (0..=Self::MAX).contains(&ntd).then_some(Self(ntd))
    }

    /// The amount in NT$.
    pub fn ntd(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Amount {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Self::new(v).ok_or_else(|| format!("amount {v} outside 0..={}", Self::MAX))
    }
}

impl From<Amount> for i64 {
    fn from(a: Amount) -> i64 {
        a.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NT${}", self.0)
    }
}

/// A percentage rate held in basis points (hundredths of a percent), 0–100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct RatePct(u16);

impl RatePct {
    /// `None` above 10,000 basis points (100 %).
    pub fn from_basis_points(bp: u16) -> Option<Self> {
        (bp <= 10_000).then_some(Self(bp))
    }

    /// From a percentage such as `6.0` or `3.5`; `None` when not finite, negative, above 100
    /// or finer than a hundredth of a percent.
    pub fn from_percent(pct: f64) -> Option<Self> {
        if !pct.is_finite() || !(0.0..=100.0).contains(&pct) {
            return None;
        }
        let bp = (pct * 100.0).round();
        if (bp - pct * 100.0).abs() > 1e-6 {
            return None;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "bp is checked to be within 0..=10000 above"
        )]
        Self::from_basis_points(bp as u16)
    }

    /// Basis points.
    pub fn basis_points(self) -> u16 {
        self.0
    }

    /// The rate as a percentage, e.g. `6.0`.
    pub fn percent(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl TryFrom<u16> for RatePct {
    type Error = String;
    fn try_from(v: u16) -> Result<Self, Self::Error> {
        Self::from_basis_points(v).ok_or_else(|| format!("rate {v} bp above 100 %"))
    }
}

impl From<RatePct> for u16 {
    fn from(r: RatePct) -> u16 {
        r.0
    }
}

/// A civil year and month (e.g. a payment month `2025-07`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    year: i16,
    month: i8,
}

impl YearMonth {
    /// `None` unless `1900 <= year <= 2100` and `1 <= month <= 12`.
    pub fn new(year: i16, month: i8) -> Option<Self> {
        ((1900..=2100).contains(&year) && (1..=12).contains(&month)).then_some(Self { year, month })
    }

    /// The month containing `date`.
    pub fn of(date: Date) -> Option<Self> {
        Self::new(date.year(), date.month())
    }

    /// Parses exactly `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return None;
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[5..7])?;
        Self::new(i16::try_from(year).ok()?, i8::try_from(month).ok()?)
    }

    pub fn year(self) -> i16 {
        self.year
    }

    pub fn month(self) -> i8 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        // year and month are range-checked at construction, so day 1 always exists.
        Date::new(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    /// The following month, `None` after 2100-12.
    pub fn next(self) -> Option<Self> {
        if self.month == 12 {
            Self::new(self.year + 1, 1)
        } else {
            Self::new(self.year, self.month + 1)
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom("expected a month YYYY-MM"))
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Parses exactly `YYYY-MM-DD` (no time, no offset) into a civil date between 1900-01-01 and
/// 2100-12-31.
pub fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i16::try_from(digits(&b[0..4])?).ok()?;
    let month = i8::try_from(digits(&b[5..7])?).ok()?;
    let day = i8::try_from(digits(&b[8..10])?).ok()?;
    if !(1900..=2100).contains(&year) {
        return None;
    }
    Date::new(year, month, day).ok()
}

/// serde helpers writing [`Date`] as `YYYY-MM-DD`.
pub mod iso_date {
    use jiff::civil::Date;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&d.strftime("%Y-%m-%d"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_iso_date(&s)
            .ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD"))
    }

    /// The same for `Option<Date>` (`null` for none).
    pub mod option {
        use jiff::civil::Date;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.collect_str(&d.strftime("%Y-%m-%d")),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => super::super::parse_iso_date(&s)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD")),
            }
        }
    }
}

querywarden_domain::code_enum! {
    @serde
    /// Which insurance an enrolment spell covers (投保險別).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum InsuranceType {
        /// 勞工保險
        Labour = "labour", "勞保";
        /// 就業保險
        Employment = "employment", "就保";
        /// 勞工職業災害保險 (since 2022-05-01)
        OccupationalAccident = "occupational_accident", "職保";
    }
}

querywarden_domain::code_enum! {
    @serde
    /// Kind of labour-insurance benefit (給付種類).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum BenefitType {
        /// 傷病給付
        Sickness = "sickness", "傷病";
        /// 失能給付
        Disability = "disability", "失能";
        /// 老年給付
        OldAge = "old_age", "老年";
        /// 死亡給付 — the insured person's own death (本人死亡).
        Death = "death", "死亡";
        /// 家屬死亡給付 — a family member's death (喪葬津貼).
        FamilyDeath = "family_death", "家屬死亡";
        /// 生育給付
        Maternity = "maternity", "生育";
        /// 失蹤津貼
        Missing = "missing", "失蹤";
        /// 職業災害給付
        OccupationalInjury = "occupational_injury", "職災";
        /// 失業給付
        Unemployment = "unemployment", "失業";
    }
}

querywarden_domain::code_enum! {
    @serde
    /// What a labour-pension contribution row records (異動別).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum ContributionChange {
        /// 開始提繳
        Start = "start", "開始提繳";
        /// 調整提繳工資或提繳率
        Adjust = "adjust", "調整";
        /// 停止提繳
        Stop = "stop", "停止提繳";
    }
}

querywarden_domain::code_enum! {
    @serde
    /// What a monthly payment is for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum PaymentKind {
        /// 國保老年年金
        NpOldAgeAnnuity = "np_old_age_annuity", "國保老年年金";
        /// 國保身心障礙年金
        NpDisabilityAnnuity = "np_disability_annuity", "國保身心障礙年金";
        /// 國保遺屬年金
        NpSurvivorAnnuity = "np_survivor_annuity", "國保遺屬年金";
        /// 老年基本保證年金
        NpBasicGuarantee = "np_basic_guarantee", "老年基本保證年金";
        /// 老年農民福利津貼
        FarmerAllowance = "farmer_allowance", "老農津貼";
        /// 勞保老年年金
        LiOldAgeAnnuity = "li_old_age_annuity", "勞保老年年金";
        /// 勞保失能年金
        LiDisabilityAnnuity = "li_disability_annuity", "勞保失能年金";
        /// 勞保遺屬年金
        LiSurvivorAnnuity = "li_survivor_annuity", "勞保遺屬年金";
        /// 勞退月退休金
        PensionMonthly = "pension_monthly", "勞退月退休金";
        /// 勞退一次退休金
        PensionLumpSum = "pension_lump_sum", "勞退一次退休金";
    }
}

querywarden_domain::code_enum! {
    @serde
    /// State of a payment (發放狀態).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum PaymentStatus {
        /// 已發放
        Paid = "paid", "已發放";
        /// 待發放
        Pending = "pending", "待發放";
        /// 停發
        Suspended = "suspended", "停發";
        /// 退匯
        Returned = "returned", "退匯";
    }
}

/// One enrolment spell (C0101 被保險人投保資料): a period insured through one insuring unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentSpell {
    /// 投保單位名稱
    pub insuring_unit_name: String,
    /// 保險證號
    pub insurance_cert_no: String,
    /// 投保薪資 (monthly insured salary grade)
    pub insured_salary: Amount,
    /// 加保日期
    #[serde(with = "iso_date")]
    pub enrol_date: Date,
    /// 退保日期; `None` while still enrolled.
    #[serde(with = "iso_date::option")]
    pub withdrawal_date: Option<Date>,
    /// 投保險別: 勞保 / 就保 / 職保.
    pub insurance_types: BTreeSet<InsuranceType>,
}

/// One benefit in the summary (B0101 給付簡要資料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitSummary {
    /// 給付種類
    pub benefit_type: BenefitType,
    /// 申請日期
    #[serde(with = "iso_date")]
    pub claim_date: Date,
    /// 核付日期; `None` while not yet paid.
    #[serde(with = "iso_date::option")]
    pub paid_date: Option<Date>,
    /// 核付金額
    pub amount: Amount,
}

/// One benefit with its details (B0201 給付明細資料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitDetail {
    /// 給付種類
    pub benefit_type: BenefitType,
    /// 申請日期
    #[serde(with = "iso_date")]
    pub claim_date: Date,
    /// 核付日期
    #[serde(with = "iso_date::option")]
    pub paid_date: Option<Date>,
    /// 核付金額
    pub amount: Amount,
    /// 給付日數 (sickness, maternity, occupational injury).
    pub days: Option<u32>,
    /// 失能等級 1–15.
    pub disability_grade: Option<u8>,
    /// 備註
    pub remarks: Option<String>,
}

/// Unemployment-benefit eligibility (B0301 失業給付資格).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnemploymentEligibility {
    /// 是否具請領資格
    pub eligible: bool,
    /// 理由 (as worded by BLI)
    pub reason: String,
    /// 給付期間起
    #[serde(with = "iso_date::option")]
    pub period_from: Option<Date>,
    /// 給付期間迄
    #[serde(with = "iso_date::option")]
    pub period_to: Option<Date>,
}

/// One labour-pension contribution change (P0301 勞工提繳退休金異動資料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PensionContribution {
    /// 雇主（提繳單位）名稱
    pub employer: String,
    /// 月提繳工資
    pub monthly_wage: Amount,
    /// 雇主提繳率
    pub employer_rate: RatePct,
    /// 個人自願提繳率
    pub personal_rate: RatePct,
    /// 生效日期
    #[serde(with = "iso_date")]
    pub effective_date: Date,
    /// 異動別
    pub change_kind: ContributionChange,
}

/// One monthly payment (N0101, T0101, B0401, P0401).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// 發放年月
    pub month: YearMonth,
    /// 給付項目
    pub kind: PaymentKind,
    /// 金額
    pub amount: Amount,
    /// 發放狀態
    pub status: PaymentStatus,
}

/// What one query returned: one variant per item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "item", content = "records")]
pub enum BliRecords {
    C0101(Vec<EnrolmentSpell>),
    B0101(Vec<BenefitSummary>),
    B0201(Vec<BenefitDetail>),
    B0301(UnemploymentEligibility),
    P0301(Vec<PensionContribution>),
    N0101(Vec<Payment>),
    T0101(Vec<Payment>),
    B0401(Vec<Payment>),
    P0401(Vec<Payment>),
}

impl BliRecords {
    /// The item these records answer.
    pub fn item(&self) -> BliItem {
        match self {
            Self::C0101(_) => BliItem::C0101,
            Self::B0101(_) => BliItem::B0101,
            Self::B0201(_) => BliItem::B0201,
            Self::B0301(_) => BliItem::B0301,
            Self::P0301(_) => BliItem::P0301,
            Self::N0101(_) => BliItem::N0101,
            Self::T0101(_) => BliItem::T0101,
            Self::B0401(_) => BliItem::B0401,
            Self::P0401(_) => BliItem::P0401,
        }
    }

    /// Number of rows (B0301 always counts as one).
    pub fn len(&self) -> usize {
        match self {
            Self::C0101(v) => v.len(),
            Self::B0101(v) => v.len(),
            Self::B0201(v) => v.len(),
            Self::B0301(_) => 1,
            Self::P0301(v) => v.len(),
            Self::N0101(v) | Self::T0101(v) | Self::B0401(v) | Self::P0401(v) => v.len(),
        }
    }

    /// `true` when a list item returned no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether these records show the subject has died (死亡): a death benefit for the
    /// insured person's own death (B0101/B0201). `None` when this item cannot tell.
    pub fn subject_deceased(&self) -> Option<bool> {
        match self {
            Self::B0101(v) => Some(v.iter().any(|b| b.benefit_type == BenefitType::Death)),
            Self::B0201(v) => Some(v.iter().any(|b| b.benefit_type == BenefitType::Death)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_outside_the_range_are_refused() {
        assert!(Amount::new(-1).is_none());
        assert!(Amount::new(100_000_001).is_none());
        assert_eq!(Amount::new(45_800).map(Amount::ntd), Some(45_800));
    }

    /// The stored result is these types' serde form and the wire carries their codes: the two
    /// must be the same text for every value.
    #[test]
    fn each_code_is_also_the_serde_form() {
        fn same<T: Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug + Copy>(
            all: &[T],
            code: fn(T) -> &'static str,
        ) {
            for &v in all {
                let json = serde_json::to_value(v).unwrap();
                assert_eq!(json, serde_json::Value::from(code(v)), "{v:?}");
                assert_eq!(serde_json::from_value::<T>(json).unwrap(), v);
            }
        }
        same(&InsuranceType::ALL, InsuranceType::code);
        same(&BenefitType::ALL, BenefitType::code);
        same(&ContributionChange::ALL, ContributionChange::code);
        same(&PaymentKind::ALL, PaymentKind::code);
        same(&PaymentStatus::ALL, PaymentStatus::code);
    }

    #[test]
    fn dates_and_months_parse_strictly() {
        assert!(parse_iso_date("2024-02-29").is_some());
        assert!(parse_iso_date("2023-02-29").is_none());
        assert!(parse_iso_date("2024-2-29").is_none());
        assert!(parse_iso_date("2024-02-29T00:00").is_none());
        assert!(parse_iso_date("+024-02-29").is_none());
        assert_eq!(
            YearMonth::parse("2025-07").map(|m| m.to_string()),
            Some("2025-07".into())
        );
        assert!(YearMonth::parse("2025-13").is_none());
    }

    #[test]
    fn rates_take_hundredths_of_a_percent() {
        assert_eq!(
            RatePct::from_percent(6.0).map(RatePct::basis_points),
            Some(600)
        );
        assert_eq!(
            RatePct::from_percent(3.5).map(RatePct::basis_points),
            Some(350)
        );
        assert!(RatePct::from_percent(6.001).is_none());
        assert!(RatePct::from_percent(f64::NAN).is_none());
        assert!(RatePct::from_percent(101.0).is_none());
    }

    #[test]
    fn records_round_trip_through_serde() {
        let records = BliRecords::N0101(vec![Payment {
            month: YearMonth::new(2025, 7).unwrap(),
            kind: PaymentKind::NpOldAgeAnnuity,
            amount: Amount::new(4_049).unwrap(),
            status: PaymentStatus::Paid,
        }]);
        let json = serde_json::to_string(&records).unwrap();
        assert!(json.contains("\"2025-07\""), "{json}");
        let back: BliRecords = serde_json::from_str(&json).unwrap();
        assert_eq!(back, records);
    }
}
