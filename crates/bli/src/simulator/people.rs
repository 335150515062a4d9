//! Synthetic people: deterministic, plausible BLI records derived from a national ID.
//!
//! Security-sensitive only in that it reads the whole national ID (to seed the generator);
//! nothing here stores or prints it. Every person is a pure function of (ID, `as_of`): the
//! same ID always gives the same records, whatever the simulator's fault seed.
//!
//! Population, roughly: 15 % unknown to BLI (every item `not_found`); of the rest 10 % never
//! labour-insured (`not_insured` for the labour-insurance items); insured people have one to
//! five employers with gaps; some have died (death benefit, enrolment ends at death); older
//! people draw annuities, pensions, national pension or the elderly farmers' allowance.

use std::collections::BTreeSet;

use jiff::Span;
use jiff::civil::Date;
use querywarden_domain::NationalId;

use super::rng::SplitMix64;
use crate::item::BliItem;
use crate::records::{
    Amount, BenefitDetail, BenefitSummary, BenefitType, BliRecords, ContributionChange,
    EnrolmentSpell, InsuranceType, Payment, PaymentKind, PaymentStatus, PensionContribution,
    RatePct, UnemploymentEligibility, YearMonth,
};

/// What the simulated service answers for one person and item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Records(BliRecords),
    NotFound,
    NotInsured,
}

/// 勞保投保薪資分級表 (a selection of grades, NT$).
const SALARY_GRADES: [i64; 14] = [
    27_470, 28_800, 30_300, 31_800, 33_300, 34_800, 36_300, 38_200, 40_100, 42_000, 43_900, 45_800,
    45_800, 45_800,
];
const PLACES: [&str; 10] = [
    "高雄", "鳳山", "楠梓", "前鎮", "小港", "三民", "苓雅", "左營", "岡山", "路竹",
];
const TRADES: [&str; 10] = [
    "鋼鐵",
    "機械",
    "食品",
    "電子",
    "物流",
    "營造",
    "紡織",
    "餐飲",
    "醫療器材",
    "塑膠",
];
const FORMS: [&str; 4] = ["股份有限公司", "有限公司", "企業社", "工業股份有限公司"];
const UNIONS: [&str; 4] = [
    "高雄市機車修理業職業工會",
    "高雄市美容業職業工會",
    "高雄市廚師職業工會",
    "高雄市漁民職業工會",
];

/// Labour insurance began on 1950-03-01; employment insurance on 1999-01-01 (as 失業給付),
/// the new labour pension on 2005-07-01, annuities on 2009-01-01, occupational accident
/// insurance on 2022-05-01.
fn milestone(y: i16, m: i8) -> Date {
    Date::new(y, m, 1).unwrap_or(Date::MIN)
}

fn add_days(d: Date, n: i64) -> Date {
    Span::new()
        .try_days(n)
        .ok()
        .and_then(|s| d.checked_add(s).ok())
        .unwrap_or(d)
}

fn add_months(d: Date, n: i64) -> Date {
    Span::new()
        .try_months(n)
        .ok()
        .and_then(|s| d.checked_add(s).ok())
        .unwrap_or(d)
}

fn age_on(birth: Date, on: Date) -> i64 {
    let mut age = i64::from(on.year()) - i64::from(birth.year());
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

fn months_between(from: Date, to: Date) -> i64 {
    (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(to.month())
        - i64::from(from.month())
}

fn amount(v: i64) -> Amount {
    Amount::new(v.clamp(0, Amount::MAX)).unwrap_or_default()
}

#[derive(Debug, Clone)]
struct Spell {
    unit: String,
    cert_no: String,
    salary: i64,
    enrol: Date,
    withdrawal: Option<Date>,
}

#[derive(Debug, Clone)]
struct Person {
    birth: Date,
    death: Option<Date>,
    insured: bool,
    farmer: bool,
    female: bool,
    spells: Vec<Spell>,
    /// A second generator for per-item choices, so items stay independent of each other.
    seed: u64,
}

/// The answer for `item` about `id`, as of the simulator's reference date.
pub(crate) fn answer(id: &NationalId, item: BliItem, as_of: Date) -> Answer {
    let Some(person) = Person::generate(id, as_of) else {
        return Answer::NotFound;
    };
    let labour_item = matches!(
        item,
        BliItem::C0101 | BliItem::B0101 | BliItem::B0201 | BliItem::B0301 | BliItem::B0401
    );
    if labour_item && !person.insured {
        return Answer::NotInsured;
    }
    let records = match item {
        BliItem::C0101 => BliRecords::C0101(person.enrolment()),
        BliItem::B0101 => BliRecords::B0101(
            person
                .benefits(as_of)
                .into_iter()
                .map(|b| BenefitSummary {
                    benefit_type: b.benefit_type,
                    claim_date: b.claim_date,
                    paid_date: b.paid_date,
                    amount: b.amount,
                })
                .collect(),
        ),
        BliItem::B0201 => BliRecords::B0201(person.benefits(as_of)),
        BliItem::B0301 => BliRecords::B0301(person.unemployment(as_of)),
        BliItem::P0301 => BliRecords::P0301(person.contributions()),
        BliItem::N0101 => BliRecords::N0101(person.national_pension(as_of)),
        BliItem::T0101 => BliRecords::T0101(person.farmer_allowance(as_of)),
        BliItem::B0401 => BliRecords::B0401(person.annuity(as_of)),
        BliItem::P0401 => BliRecords::P0401(person.pension_claims(as_of)),
    };
    Answer::Records(records)
}

/// The benefit claims of one person as they are drawn, from the person's B0201 generator.
struct Claims {
    as_of: Date,
    rng: SplitMix64,
    out: Vec<BenefitDetail>,
}

impl Claims {
    /// Records a claim made by `as_of`, paid 10 to 45 days after it (not yet paid if that
    /// day is still to come). A claim after `as_of` has not been made yet.
    fn claim(
        &mut self,
        t: BenefitType,
        claim: Date,
        amt: i64,
        days: Option<u32>,
        grade: Option<u8>,
        remarks: Option<&str>,
    ) {
        if claim > self.as_of {
            return;
        }
        let paid = add_days(claim, self.rng.range(10, 45));
        self.out.push(BenefitDetail {
            benefit_type: t,
            claim_date: claim,
            paid_date: (paid <= self.as_of).then_some(paid),
            amount: amount(amt),
            days,
            disability_grade: grade,
            remarks: remarks.map(str::to_owned),
        });
    }

    /// A claim for days off work (sickness, occupational injury), paid by the day for
    /// `days` days.
    fn days_off(&mut self, t: BenefitType, claim: Date, days: i64, amt: i64, remarks: &str) {
        self.claim(t, claim, amt, u32::try_from(days).ok(), None, Some(remarks));
    }
}

impl Person {
    fn generate(id: &NationalId, as_of: Date) -> Option<Self> {
        let mut rng = SplitMix64::from_key(
            "querywarden-simulator/person/v1",
            id.expose_whole().as_bytes(),
        );
        if rng.chance(0.15) {
            return None;
        }
        let year = i16::try_from(rng.range(1935, 2004)).unwrap_or(1970);
        let month = i8::try_from(rng.range(1, 12)).unwrap_or(1);
        let day = i8::try_from(rng.range(1, 28)).unwrap_or(1);
        let birth = Date::new(year, month, day).unwrap_or(milestone(1970, 1));
        let age = age_on(birth, as_of);
        let insured = !rng.chance(0.10);
        let death_chance = if age >= 75 {
            0.20
        } else if age >= 45 {
            0.05
        } else {
            0.0
        };
        let death = rng
            .chance(death_chance)
            .then(|| add_days(as_of, -rng.range(30, 3650)))
            .filter(|d| age_on(birth, *d) >= 40);
        let farmer = if insured {
            rng.chance(0.05)
        } else {
            rng.chance(0.5)
        };
        let female = match id.expose_whole().as_bytes().get(1) {
            Some(b'2') => true,
            Some(b'1') => false,
            _ => rng.chance(0.5),
        };
        let mut person = Self {
            birth,
            death,
            insured,
            farmer,
            female,
            spells: Vec::new(),
            seed: rng.next_u64(),
        };
        if insured {
            person.spells = person.make_spells(&mut rng, as_of);
            if person.spells.is_empty() {
                person.insured = false;
            }
        }
        Some(person)
    }

    fn end_of_life(&self, as_of: Date) -> Date {
        self.death.map_or(as_of, |d| d.min(as_of))
    }

    fn make_spells(&self, rng: &mut SplitMix64, as_of: Date) -> Vec<Spell> {
        let end = self.end_of_life(as_of);
        let retire = add_months(self.birth, 65 * 12);
        let mut cursor = add_months(self.birth, 12 * rng.range(18, 25)).max(milestone(1950, 3));
        let employers = rng.range(1, 5);
        let mut spells = Vec::new();
        for n in 0..employers {
            if cursor >= end || cursor >= retire {
                break;
            }
            let last = n + 1 == employers;
            let unit = if rng.chance(0.15) {
                rng.pick(&UNIONS)
                    .copied()
                    .unwrap_or("高雄市職業工會")
                    .to_owned()
            } else {
                format!(
                    "{}{}{}",
                    rng.pick(&PLACES).copied().unwrap_or("高雄"),
                    rng.pick(&TRADES).copied().unwrap_or("機械"),
                    rng.pick(&FORMS).copied().unwrap_or("有限公司"),
                )
            };
            let grade = usize::try_from(rng.range(0, 4) + 2 * n)
                .unwrap_or(0)
                .min(SALARY_GRADES.len() - 1);
            let salary = SALARY_GRADES[grade];
            let length = rng.range(6, 180);
            let mut withdrawal = Some(add_days(add_months(cursor, length), -1));
            if last && rng.chance(0.7) {
                withdrawal = None;
            }
            // Enrolment ends at death or at 65, and lies in the past.
            let stop = self.death.map_or(retire, |d| d.min(retire));
            withdrawal = match withdrawal {
                Some(w) if w >= stop => Some(stop),
                None if stop <= as_of => Some(stop),
                Some(w) if w > as_of => None,
                other => other,
            };
            spells.push(Spell {
                unit,
                cert_no: format!("{:08}", rng.below(100_000_000)),
                salary,
                enrol: cursor,
                withdrawal,
            });
            match withdrawal {
                Some(w) => cursor = add_days(add_months(w, rng.range(0, 24)), rng.range(1, 28)),
                None => break,
            }
        }
        spells
    }

    fn rng(&self, item: BliItem) -> SplitMix64 {
        SplitMix64::from_key(
            "querywarden-simulator/item/v1",
            format!("{}:{}", self.seed, item.code()).as_bytes(),
        )
    }

    fn enrolment(&self) -> Vec<EnrolmentSpell> {
        self.spells
            .iter()
            .map(|s| {
                let mut types = BTreeSet::from([InsuranceType::Labour]);
                let until = s.withdrawal.unwrap_or(Date::MAX);
                if until >= milestone(1999, 1) && age_on(self.birth, s.enrol) < 65 {
                    types.insert(InsuranceType::Employment);
                }
                if until >= milestone(2022, 5) {
                    types.insert(InsuranceType::OccupationalAccident);
                }
                EnrolmentSpell {
                    insuring_unit_name: s.unit.clone(),
                    insurance_cert_no: s.cert_no.clone(),
                    insured_salary: amount(s.salary),
                    enrol_date: s.enrol,
                    withdrawal_date: s.withdrawal,
                    insurance_types: types,
                }
            })
            .collect()
    }

    fn insured_years(&self, as_of: Date) -> i64 {
        self.spells
            .iter()
            .map(|s| months_between(s.enrol, s.withdrawal.unwrap_or(as_of)))
            .sum::<i64>()
            / 12
    }

    fn average_salary(&self) -> i64 {
        let n = i64::try_from(self.spells.len()).unwrap_or(1).max(1);
        self.spells.iter().map(|s| s.salary).sum::<i64>() / n
    }

    fn retired_on(&self) -> Option<Date> {
        let last = self.spells.last()?;
        let w = last.withdrawal?;
        (age_on(self.birth, w) >= 60).then_some(w)
    }

    /// The benefits paid out (B0201): claims during each enrolment spell, the old-age benefit
    /// on retirement and the funeral grant on death, in claim order.
    fn benefits(&self, as_of: Date) -> Vec<BenefitDetail> {
        let mut claims = Claims {
            as_of,
            rng: self.rng(BliItem::B0201),
            out: Vec::new(),
        };
        for s in &self.spells {
            self.spell_claims(s, &mut claims);
        }
        if let Some(retired) = self.retired_on() {
            if self.birth.year() < 1950 || self.insured_years(as_of) < 15 {
                let months = (self.insured_years(as_of) * 12).min(60);
                claims.claim(
                    BenefitType::OldAge,
                    add_days(retired, 20),
                    self.average_salary() * months / 12,
                    None,
                    None,
                    Some("老年一次金"),
                );
            } else {
                claims.claim(
                    BenefitType::OldAge,
                    add_days(retired, 20),
                    self.old_age_annuity(as_of),
                    None,
                    None,
                    Some("老年年金給付（按月發給，另見 B0401）"),
                );
            }
        }
        if let (Some(death), Some(last)) = (self.death, self.spells.last()) {
            claims.claim(
                BenefitType::Death,
                add_days(death, 14),
                last.salary * 5,
                None,
                None,
                Some("本人死亡，喪葬津貼"),
            );
        }
        let mut out = claims.out;
        out.sort_by_key(|b| b.claim_date);
        out
    }

    /// The claims made while insured in one spell — sickness, occupational injury,
    /// maternity, disability, a family member's funeral — each by chance, on a day in the
    /// spell, paid from its insured salary.
    fn spell_claims(&self, s: &Spell, claims: &mut Claims) {
        let span_days = months_between(s.enrol, s.withdrawal.unwrap_or(claims.as_of)).max(1) * 30;
        let daily = s.salary / 30;
        if claims.rng.chance(0.2) {
            let days = claims.rng.range(4, 60);
            let claim = add_days(s.enrol, claims.rng.range(0, span_days));
            let amt = daily / 2 * (days - 3);
            claims.days_off(BenefitType::Sickness, claim, days, amt, "普通傷病住院");
        }
        if claims.rng.chance(0.08) {
            let days = claims.rng.range(4, 120);
            let claim = add_days(s.enrol, claims.rng.range(0, span_days));
            let amt = daily * 7 / 10 * days;
            claims.days_off(
                BenefitType::OccupationalInjury,
                claim,
                days,
                amt,
                "職業傷害傷病給付",
            );
        }
        if self.female && claims.rng.chance(0.35) {
            let claim = add_days(s.enrol, claims.rng.range(0, span_days));
            if (20..45).contains(&age_on(self.birth, claim)) {
                claims.claim(
                    BenefitType::Maternity,
                    claim,
                    s.salary * 2,
                    Some(60),
                    None,
                    None,
                );
            }
        }
        if claims.rng.chance(0.04) {
            let grade = u8::try_from(claims.rng.range(5, 15)).unwrap_or(15);
            let days = (16 - i64::from(grade)) * 40;
            let claim = add_days(s.enrol, claims.rng.range(0, span_days));
            claims.claim(
                BenefitType::Disability,
                claim,
                daily * days,
                None,
                Some(grade),
                Some("失能一次金"),
            );
        }
        if claims.rng.chance(0.06) {
            let claim = add_days(s.enrol, claims.rng.range(0, span_days));
            claims.claim(
                BenefitType::FamilyDeath,
                claim,
                s.salary * 3,
                None,
                None,
                Some("父母、配偶死亡喪葬津貼"),
            );
        }
    }

    fn old_age_annuity(&self, as_of: Date) -> i64 {
        // 平均月投保薪資 × 年資 × 1.55 %, at least NT$3,000.
        (self.average_salary() * self.insured_years(as_of) * 155 / 10_000).max(3_000)
    }

    fn unemployment(&self, as_of: Date) -> UnemploymentEligibility {
        let mut rng = self.rng(BliItem::B0301);
        let refuse = |reason: &str| UnemploymentEligibility {
            eligible: false,
            reason: reason.to_owned(),
            period_from: None,
            period_to: None,
        };
        let Some(last) = self.spells.last() else {
            return refuse("無投保紀錄");
        };
        if self.death.is_some() {
            return refuse("被保險人已死亡");
        }
        let Some(w) = last.withdrawal else {
            return refuse("目前仍在保，不符請領資格");
        };
        if age_on(self.birth, w) >= 65 {
            return refuse("已達請領老年給付年齡，不符請領資格");
        }
        if w < add_months(as_of, -24) {
            return refuse("最後退保日距今已逾二年，不符請領資格");
        }
        if !rng.chance(0.6) {
            return refuse("非屬非自願離職，不符請領資格");
        }
        let from = add_days(w, 15);
        let months = if age_on(self.birth, w) >= 45 { 9 } else { 6 };
        UnemploymentEligibility {
            eligible: true,
            reason: "非自願離職，離職前三年內保險年資滿一年，符合請領資格".to_owned(),
            period_from: Some(from),
            period_to: Some(add_days(add_months(from, months), -1)),
        }
    }

    fn contributions(&self) -> Vec<PensionContribution> {
        let mut rng = self.rng(BliItem::P0301);
        let start_of_scheme = milestone(2005, 7);
        let mut out = Vec::new();
        for s in &self.spells {
            if s.withdrawal.is_some_and(|w| w < start_of_scheme) {
                continue;
            }
            let start = s.enrol.max(start_of_scheme);
            let wage = (s.salary * (100 + rng.range(0, 40)) / 100 / 100) * 100;
            let employer_rate = RatePct::from_basis_points(if rng.chance(0.1) { 700 } else { 600 });
            let personal_rate = RatePct::from_basis_points(if rng.chance(0.3) { 600 } else { 0 });
            let (Some(employer_rate), Some(personal_rate)) = (employer_rate, personal_rate) else {
                continue;
            };
            let row = |wage: i64, date: Date, kind: ContributionChange| PensionContribution {
                employer: s.unit.clone(),
                monthly_wage: amount(wage),
                employer_rate,
                personal_rate,
                effective_date: date,
                change_kind: kind,
            };
            out.push(row(wage, start, ContributionChange::Start));
            let raise = add_months(start, 24);
            if s.withdrawal.is_none_or(|w| raise < w) && rng.chance(0.6) {
                out.push(row(
                    wage * 105 / 100 / 100 * 100,
                    raise,
                    ContributionChange::Adjust,
                ));
            }
            if let Some(w) = s.withdrawal {
                out.push(row(wage, w, ContributionChange::Stop));
            }
        }
        out
    }

    /// Monthly payments of `amt` from `start` to the month before `as_of` (last 12 at most),
    /// stopping at death; the current month is pending; a few are suspended or returned.
    fn monthly(
        &self,
        rng: &mut SplitMix64,
        kind: PaymentKind,
        amt: i64,
        start: Date,
        as_of: Date,
    ) -> Vec<Payment> {
        let first = start.max(add_months(as_of, -12));
        let (Some(mut month), Some(current)) = (YearMonth::of(first), YearMonth::of(as_of)) else {
            return Vec::new();
        };
        let last = self.death.and_then(YearMonth::of);
        let mut out = Vec::new();
        while month <= current {
            if last.is_some_and(|d| month > d) {
                break;
            }
            let status = if month == current {
                PaymentStatus::Pending
            } else if rng.chance(0.02) {
                PaymentStatus::Returned
            } else if rng.chance(0.02) {
                PaymentStatus::Suspended
            } else {
                PaymentStatus::Paid
            };
            out.push(Payment {
                month,
                kind,
                amount: amount(amt),
                status,
            });
            match month.next() {
                Some(n) => month = n,
                None => break,
            }
        }
        out
    }

    fn national_pension(&self, as_of: Date) -> Vec<Payment> {
        let mut rng = self.rng(BliItem::N0101);
        let at65 = add_months(self.birth, 65 * 12);
        if at65 <= as_of && (!self.insured || self.insured_years(as_of) < 15) && !self.farmer {
            let kind = if rng.chance(0.3) {
                PaymentKind::NpBasicGuarantee
            } else {
                PaymentKind::NpOldAgeAnnuity
            };
            return self.monthly(&mut rng, kind, 4_049, at65.max(milestone(2008, 10)), as_of);
        }
        if !self.insured && rng.chance(0.1) {
            return self.monthly(
                &mut rng,
                PaymentKind::NpDisabilityAnnuity,
                5_437,
                add_months(as_of, -30),
                as_of,
            );
        }
        Vec::new()
    }

    fn farmer_allowance(&self, as_of: Date) -> Vec<Payment> {
        let mut rng = self.rng(BliItem::T0101);
        let at65 = add_months(self.birth, 65 * 12);
        if self.farmer && at65 <= as_of {
            return self.monthly(&mut rng, PaymentKind::FarmerAllowance, 8_110, at65, as_of);
        }
        Vec::new()
    }

    fn annuity(&self, as_of: Date) -> Vec<Payment> {
        let mut rng = self.rng(BliItem::B0401);
        let mut out = Vec::new();
        if let Some(retired) = self.retired_on()
            && self.birth.year() >= 1950
            && self.insured_years(as_of) >= 15
        {
            let start = add_months(retired, 1).max(milestone(2009, 1));
            out = self.monthly(
                &mut rng,
                PaymentKind::LiOldAgeAnnuity,
                self.old_age_annuity(as_of),
                start,
                as_of,
            );
        }
        if out.is_empty() && rng.chance(0.05) {
            let amt = 3_000 + 500 * rng.range(0, 6);
            out = self.monthly(
                &mut rng,
                PaymentKind::LiSurvivorAnnuity,
                amt,
                add_months(as_of, -20),
                as_of,
            );
        }
        out
    }

    fn pension_claims(&self, as_of: Date) -> Vec<Payment> {
        let mut rng = self.rng(BliItem::P0401);
        let at60 = add_months(self.birth, 60 * 12);
        if at60 > as_of {
            return Vec::new();
        }
        let scheme = milestone(2005, 7);
        let months: i64 = self
            .spells
            .iter()
            .filter(|s| s.withdrawal.is_none_or(|w| w >= scheme))
            .map(|s| {
                months_between(s.enrol.max(scheme), s.withdrawal.unwrap_or(as_of).min(at60)).max(0)
            })
            .sum();
        if months == 0 {
            return Vec::new();
        }
        let accumulated = self.average_salary() * 6 / 100 * months * 11 / 10;
        if months >= 180 {
            self.monthly(
                &mut rng,
                PaymentKind::PensionMonthly,
                accumulated / 240,
                at60,
                as_of,
            )
        } else {
            YearMonth::of(at60)
                .map(|m| {
                    vec![Payment {
                        month: m,
                        kind: PaymentKind::PensionLumpSum,
                        amount: amount(accumulated),
                        status: PaymentStatus::Paid,
                    }]
                })
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> NationalId {
        NationalId::parse(s).unwrap()
    }

    #[test]
    fn the_same_id_gives_the_same_answer() {
        let as_of = milestone(2026, 3);
        for item in BliItem::ALL {
            assert_eq!(
                answer(&id("A123456789"), item, as_of),
                answer(&id("A123456789"), item, as_of)
            );
        }
    }
}
