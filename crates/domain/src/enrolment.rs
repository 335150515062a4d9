//! Go-live rules (§3): one-time enrolment codes, the match between a card and a staff record,
//! the rate limit on guessing, the organisation CSV (units, parents, supervisors, deputies),
//! and which supervisor roles a personnel change ends (§2).
//!
//! Security-sensitive: an enrolment code opens an account once. Codes are random (80 bits),
//! compared only by digest (the caller hashes [`EnrolmentCode::normalised`]), single use and
//! expiring; nothing here ever prints a code except [`EnrolmentCode::display_once`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::Timestamp;

use crate::org::{Account, PersonId, StaffStatus, Unit, UnitId, UnitKind};

/// Crockford's base-32 alphabet: no I, L, O or U, so a code read aloud or copied from a
/// sealed letter is not misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 16 symbols of 5 bits: 80 bits of randomness.
const CODE_LEN: usize = 16;

/// A one-time enrolment code (開通碼). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentCode(String);

impl fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnrolmentCode(<redacted>)")
    }
}

impl EnrolmentCode {
    /// Makes a code from 10 random bytes (the caller owns the randomness: no I/O here).
    pub fn from_random(bytes: [u8; 10]) -> EnrolmentCode {
        let mut acc: u128 = 0;
        for b in bytes {
            acc = (acc << 8) | u128::from(b);
        }
        let mut out = String::with_capacity(CODE_LEN);
        for i in (0..CODE_LEN).rev() {
            let idx = ((acc >> (i * 5)) & 0x1f) as usize;
            out.push(char::from(ALPHABET[idx]));
        }
        EnrolmentCode(out)
    }

    /// Reads a code as a person types it: case, spaces and hyphens do not matter, and the
    /// look-alikes O→0, I/L→1 are forgiven.
    pub fn parse(input: &str) -> Result<EnrolmentCode, EnrolmentRefusal> {
        let mut out = String::with_capacity(CODE_LEN);
        for c in input.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() >= CODE_LEN {
                return Err(EnrolmentRefusal::MalformedCode);
            }
            out.push(c);
        }
        if out.len() != CODE_LEN {
            return Err(EnrolmentRefusal::MalformedCode);
        }
        Ok(EnrolmentCode(out))
    }

    /// The canonical form that is hashed for storage and lookup.
    pub fn normalised(&self) -> &str {
        &self.0
    }

    /// The code in groups of four, to be shown once to the administrator (or printed by
    /// `init`) and never again.
    pub fn display_once(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }
}

crate::code_enum! {
    /// Why a code is issued: first enrolment, or a reset (lost password or new card, §3).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CodePurpose {
        Enrol = "enrol";
        Reset = "reset";
    }
}

/// A stored code's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLife {
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub superseded_at: Option<Timestamp>,
}

impl CodeLife {
    /// §3: a code works once, before it expires, and only while it is the person's newest.
    pub fn usable(&self, now: Timestamp) -> Result<(), EnrolmentRefusal> {
        if self.used_at.is_some() {
            return Err(EnrolmentRefusal::CodeUsed);
        }
        if self.superseded_at.is_some() {
            return Err(EnrolmentRefusal::CodeSuperseded);
        }
        if now >= self.expires_at {
            return Err(EnrolmentRefusal::CodeExpired);
        }
        Ok(())
    }
}

/// How many failed enrolment attempts one address may make in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max_failures: u32,
    pub window: jiff::SignedDuration,
}

impl RateLimit {
    /// The start of the window that ends `now`.
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        now.checked_sub(self.window).unwrap_or(now)
    }

    /// Refuses once `failures` (counted since [`RateLimit::window_start`]) reached the limit.
    pub fn check(&self, failures: u32) -> Result<(), EnrolmentRefusal> {
        if failures >= self.max_failures {
            Err(EnrolmentRefusal::RateLimited)
        } else {
            Ok(())
        }
    }
}

/// §3: the card must name the staff member — the certificate's common name equal to the
/// name on record and its last four ID digits equal to those on record. An account whose
/// record lacks the digits cannot be enrolled: nothing would tie the card to the person.
pub fn card_matches_record(
    record_name: &str,
    record_last4: Option<&str>,
    cert_name: &str,
    cert_last4: Option<&str>,
) -> Result<(), EnrolmentRefusal> {
    let Some(record_last4) = record_last4 else {
        return Err(EnrolmentRefusal::NoDigitsOnRecord);
    };
    if !crate::person_name::same_person_name(cert_name, record_name) {
        return Err(EnrolmentRefusal::NameMismatch);
    }
    match cert_last4 {
        None => Err(EnrolmentRefusal::NoDigitsOnCard),
        Some(d) if d != record_last4 => Err(EnrolmentRefusal::DigitsMismatch),
        Some(_) => Ok(()),
    }
}

/// Who may receive an enrolment code: staff in service (active or transferred, as for
/// sign-in); not someone on leave or gone.
pub fn may_enrol(status: StaffStatus) -> Result<(), EnrolmentRefusal> {
    match status {
        StaffStatus::Active | StaffStatus::Transferred => Ok(()),
        StaffStatus::OnLeave | StaffStatus::Left => Err(EnrolmentRefusal::NotInService),
    }
}

/// A refusal of a go-live use case: stable code, zh-TW and English messages, never the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnrolmentRefusal {
    #[error("開通碼格式錯誤（16 個英數字）")]
    MalformedCode,
    #[error("開通碼無效")]
    UnknownCode,
    #[error("開通碼已使用過，請洽權限管理者重新核發")]
    CodeUsed,
    #[error("開通碼已逾期，請洽權限管理者重新核發")]
    CodeExpired,
    #[error("開通碼已由較新的開通碼取代")]
    CodeSuperseded,
    #[error("嘗試次數過多，請稍後再試")]
    RateLimited,
    #[error("人事資料沒有身分證末四碼，無法確認持卡人，請洽權限管理者")]
    NoDigitsOnRecord,
    #[error("憑證上的姓名與人事資料不符")]
    NameMismatch,
    #[error("憑證沒有身分證末四碼，無法確認持卡人")]
    NoDigitsOnCard,
    #[error("憑證上的身分證末四碼與人事資料不符")]
    DigitsMismatch,
    #[error("這張憑證已綁定其他帳號")]
    CardBoundToOther,
    #[error("此人員目前不在職，不能開通帳號")]
    NotInService,
    #[error("系統已有權限管理者，不能再次初始化")]
    AlreadyInitialised,
    #[error("權限管理者與代理人須為不同的人")]
    SamePerson,
    #[error("帳號已存在")]
    AccountExists,
    #[error("查無此帳號")]
    UnknownAccount,
    #[error("須填寫原因")]
    ReasonRequired,
    #[error("兩次輸入的密碼不一致")]
    PasswordsDiffer,
}

impl EnrolmentRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::MalformedCode => "enrolment.malformed_code",
            Self::UnknownCode => "enrolment.unknown_code",
            Self::CodeUsed => "enrolment.code_used",
            Self::CodeExpired => "enrolment.code_expired",
            Self::CodeSuperseded => "enrolment.code_superseded",
            Self::RateLimited => "enrolment.rate_limited",
            Self::NoDigitsOnRecord => "enrolment.no_digits_on_record",
            Self::NameMismatch => "enrolment.name_mismatch",
            Self::NoDigitsOnCard => "enrolment.no_digits_on_card",
            Self::DigitsMismatch => "enrolment.digits_mismatch",
            Self::CardBoundToOther => "enrolment.card_bound_to_other",
            Self::NotInService => "enrolment.not_in_service",
            Self::AlreadyInitialised => "init.already_initialised",
            Self::SamePerson => "init.same_person",
            Self::AccountExists => "init.account_exists",
            Self::UnknownAccount => "enrolment.unknown_account",
            Self::ReasonRequired => "enrolment.reason_required",
            Self::PasswordsDiffer => "enrolment.passwords_differ",
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            Self::MalformedCode => "The enrolment code is malformed (16 letters and digits)",
            Self::UnknownCode => "The enrolment code is not valid",
            Self::CodeUsed => "The enrolment code was already used; ask for a new one",
            Self::CodeExpired => "The enrolment code has expired; ask for a new one",
            Self::CodeSuperseded => "The enrolment code was replaced by a newer one",
            Self::RateLimited => "Too many attempts; try again later",
            Self::NoDigitsOnRecord => {
                "The staff record has no last four ID digits; the card holder cannot be confirmed"
            }
            Self::NameMismatch => "The name on the certificate does not match the staff record",
            Self::NoDigitsOnCard => "The certificate carries no last four ID digits",
            Self::DigitsMismatch => {
                "The certificate's last four ID digits do not match the staff record"
            }
            Self::CardBoundToOther => "This certificate is bound to another account",
            Self::NotInService => "This person is not in service and cannot be enrolled",
            Self::AlreadyInitialised => "A permission administrator exists; init runs once",
            Self::SamePerson => "The administrator and the deputy must be different people",
            Self::AccountExists => "The account exists already",
            Self::UnknownAccount => "No such account",
            Self::ReasonRequired => "A reason is required",
            Self::PasswordsDiffer => "The two passwords differ",
        }
    }
}

// ---------------------------------------------------------------------------------------
// The organisation CSV: units, parent units, supervisors and deputies.

/// The header of the units CSV (format in `docs/installation.md`).
pub const UNITS_HEADER: [&str; 6] = ["unit_id", "name", "kind", "parent", "supervisor", "deputy"];

/// One row of the units CSV, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    pub line: usize,
    pub unit: Unit,
    pub supervisor: Option<Account>,
    pub deputy: Option<Account>,
}

/// A bad row of an imported file (the units here, the staff file in the permission area):
/// line number (1 = the header) and why in zh-TW, never the bad value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub reason: String,
}

impl RowError {
    /// A bad row at `line` (1 = the header).
    pub fn new(line: usize, reason: impl Into<String>) -> RowError {
        RowError {
            line,
            reason: reason.into(),
        }
    }
}

/// One change the CSV asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitChange {
    AddUnit(Unit),
    UpdateUnit(Unit),
    SetSupervisor(UnitId, PersonId),
    SetDeputy(UnitId, PersonId),
}

impl UnitChange {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AddUnit(_) => "unit_added",
            Self::UpdateUnit(_) => "unit_updated",
            Self::SetSupervisor(..) => "supervisor_set",
            Self::SetDeputy(..) => "deputy_set",
        }
    }
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn split_csv(line: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut at_start = true;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, ',') => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
            }
            (_, c) => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err("引號未成對");
    }
    out.push(cur);
    Ok(out)
}

/// The people the CSV may name, by account: id and status.
pub type Staff = BTreeMap<Account, (PersonId, StaffStatus)>;

/// Parses the units CSV and checks it against the units and staff on record; every bad row
/// is reported and then nothing may be applied. Returns the changes needed — none for a
/// file that is already in force, so re-importing it changes nothing.
pub fn plan_units(
    text: &str,
    existing: &[Unit],
    staff: &Staff,
    supervisors: &BTreeMap<UnitId, PersonId>,
    deputies: &BTreeMap<UnitId, PersonId>,
) -> Result<Vec<UnitChange>, Vec<RowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    if !lines.next().is_some_and(|(_, h)| is_units_header(h)) {
        return Err(vec![RowError::new(
            1,
            "第一列須為欄位名稱：unit_id,name,kind,parent,supervisor,deputy",
        )]);
    }
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, raw) in lines {
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        match read_unit_row(i + 1, raw, staff, &mut seen) {
            Ok(row) => rows.push(row),
            Err(e) => errors.push(e),
        }
    }
    errors.extend(check_parents(&rows, existing));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    let mut changes = unit_changes(&rows, existing);
    changes.extend(role_changes(&rows, staff, supervisors, deputies));
    Ok(changes)
}

/// Whether the first line is the header of [`UNITS_HEADER`], spaces around a name forgiven.
fn is_units_header(line: &str) -> bool {
    split_csv(line.trim_end_matches('\r'))
        .is_ok_and(|f| f.iter().map(|x| x.trim()).collect::<Vec<_>>() == UNITS_HEADER)
}

/// Reads one data row of the units CSV on its own, column by column, and reports the first
/// fault; `seen` holds the unit ids of the rows before it, so a repeated id is refused.
/// Parents are checked once the whole file is read ([`check_parents`]).
fn read_unit_row(
    line: usize,
    raw: &str,
    staff: &Staff,
    seen: &mut BTreeSet<UnitId>,
) -> Result<UnitRow, RowError> {
    let bad = |reason: &str| RowError::new(line, reason);
    let f = match split_csv(raw) {
        Ok(f) if f.len() == UNITS_HEADER.len() => f,
        Ok(_) => return Err(bad("欄位數應為 6")),
        Err(e) => return Err(bad(e)),
    };
    let f: Vec<&str> = f.iter().map(|s| s.trim()).collect();
    let id = UnitId::new(f[0]).map_err(|_| bad("單位代碼格式錯誤"))?;
    if !seen.insert(id.clone()) {
        return Err(bad("單位代碼重複"));
    }
    let name = f[1];
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(bad("單位名稱須為 1 到 64 個字"));
    }
    let kind = UnitKind::parse_code(f[2]).ok_or_else(|| bad("單位類別未知"))?;
    let parent = if f[3].is_empty() {
        None
    } else {
        Some(UnitId::new(f[3]).map_err(|_| bad("上級單位代碼格式錯誤"))?)
    };
    let supervisor = unit_officer(line, f[4], "主管", staff)?;
    let deputy = unit_officer(line, f[5], "代理人", staff)?;
    if supervisor.is_some() && supervisor == deputy {
        return Err(bad("主管與代理人須為不同的人"));
    }
    Ok(UnitRow {
        line,
        unit: Unit {
            id,
            name_zh: name.to_string(),
            kind,
            parent,
        },
        supervisor,
        deputy,
    })
}

/// The supervisor or deputy column (`what` names it in the message): empty, or the account
/// of someone on the staff record who is active now — a unit is not handed to a stranger or
/// to someone who has left.
fn unit_officer(
    line: usize,
    cell: &str,
    what: &str,
    staff: &Staff,
) -> Result<Option<Account>, RowError> {
    if cell.is_empty() {
        return Ok(None);
    }
    let a = Account::parse(cell).map_err(|_| RowError::new(line, format!("{what}帳號格式錯誤")))?;
    match staff.get(&a) {
        None => Err(RowError::new(
            line,
            format!("{what}不是本局人員（查無此帳號）"),
        )),
        Some((_, s)) if !matches!(s, StaffStatus::Active) => {
            Err(RowError::new(line, format!("{what}目前不在職")))
        }
        Some(_) => Ok(Some(a)),
    }
}

/// Parents: on record or in this file, and no unit its own ancestor.
fn check_parents(rows: &[UnitRow], existing: &[Unit]) -> Vec<RowError> {
    let mut errors = Vec::new();
    let mut parents: BTreeMap<UnitId, Option<UnitId>> = existing
        .iter()
        .map(|u| (u.id.clone(), u.parent.clone()))
        .collect();
    for r in rows {
        parents.insert(r.unit.id.clone(), r.unit.parent.clone());
    }
    for r in rows {
        if let Some(p) = &r.unit.parent
            && !parents.contains_key(p)
        {
            errors.push(RowError::new(r.line, "上級單位不存在"));
            continue;
        }
        let mut cur = r.unit.parent.clone();
        let mut steps = 0;
        while let Some(u) = cur {
            if u == r.unit.id || steps > parents.len() {
                errors.push(RowError::new(r.line, "上級單位形成循環"));
                break;
            }
            steps += 1;
            cur = parents.get(&u).cloned().flatten();
        }
    }
    errors
}

/// The units to add or update — none for a unit already as the file says. Parents come
/// before children, so each insert finds its parent.
fn unit_changes(rows: &[UnitRow], existing: &[Unit]) -> Vec<UnitChange> {
    let mut changes = Vec::new();
    let mut pending: Vec<&UnitRow> = rows.iter().collect();
    let mut placed: BTreeSet<UnitId> = existing.iter().map(|u| u.id.clone()).collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|r| {
            let ready = r.unit.parent.as_ref().is_none_or(|p| placed.contains(p));
            if !ready {
                return true;
            }
            match existing.iter().find(|u| u.id == r.unit.id) {
                None => changes.push(UnitChange::AddUnit(r.unit.clone())),
                Some(u) if *u != r.unit => changes.push(UnitChange::UpdateUnit(r.unit.clone())),
                Some(_) => {}
            }
            placed.insert(r.unit.id.clone());
            false
        });
        if pending.len() == before {
            break; // unreachable after the cycle check; never loop forever on bad data
        }
    }
    changes
}

/// The supervisors and deputies to set, after the units so each role finds its unit; none
/// for a role the named person already holds.
fn role_changes(
    rows: &[UnitRow],
    staff: &Staff,
    supervisors: &BTreeMap<UnitId, PersonId>,
    deputies: &BTreeMap<UnitId, PersonId>,
) -> Vec<UnitChange> {
    let id_of = |a: &Account| staff.get(a).map(|(id, _)| *id);
    let mut changes = Vec::new();
    for r in rows {
        if let Some(p) = r.supervisor.as_ref().and_then(id_of)
            && supervisors.get(&r.unit.id) != Some(&p)
        {
            changes.push(UnitChange::SetSupervisor(r.unit.id.clone(), p));
        }
        if let Some(p) = r.deputy.as_ref().and_then(id_of)
            && deputies.get(&r.unit.id) != Some(&p)
        {
            changes.push(UnitChange::SetDeputy(r.unit.id.clone(), p));
        }
    }
    changes
}

/// §2: a transfer or departure ends every supervisor and deputy role the person held — a
/// supervisor answers for a unit only while working in it. Given the person's new status and
/// unit and the units where they are supervisor or deputy, the units whose role ends.
pub fn roles_ended_by_change(
    to_status: StaffStatus,
    to_unit: &UnitId,
    held: &[UnitId],
) -> Vec<UnitId> {
    held.iter()
        .filter(|u| to_status != StaffStatus::Active || *u != to_unit)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> EnrolmentCode {
        EnrolmentCode::from_random([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23])
    }

    #[test]
    fn a_code_reads_back_whatever_the_case_hyphens_and_look_alikes() {
        let c = code();
        let shown = c.display_once();
        assert_eq!(shown.len(), 19);
        assert_eq!(EnrolmentCode::parse(&shown).unwrap(), c);
        assert_eq!(
            EnrolmentCode::parse(&shown.to_lowercase().replace('-', " ")).unwrap(),
            c
        );
        let with_o = c.normalised().replace('0', "O");
        assert_eq!(EnrolmentCode::parse(&with_o).unwrap(), c);
        assert!(!format!("{c:?}").contains(c.normalised()));
    }

    #[test]
    fn codes_of_the_wrong_length_or_alphabet_are_malformed() {
        for bad in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-PQRS-T",
            "ABCD-EFGH-JKMN-PQR!",
            "合ABC",
        ] {
            assert_eq!(
                EnrolmentCode::parse(bad),
                Err(EnrolmentRefusal::MalformedCode),
                "{bad}"
            );
        }
    }

    #[test]
    fn different_randomness_gives_different_codes() {
        let a = EnrolmentCode::from_random([0; 10]);
        let b = EnrolmentCode::from_random([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_ne!(a, b);
        assert_eq!(a.normalised(), "0000000000000000");
    }

    #[test]
    fn a_code_is_usable_once_before_it_expires_and_while_newest() {
        let now = Timestamp::from_second(1_780_000_000).unwrap();
        let later = Timestamp::from_second(1_780_000_600).unwrap();
        let life = CodeLife {
            expires_at: later,
            used_at: None,
            superseded_at: None,
        };
        assert_eq!(life.usable(now), Ok(()));
        assert_eq!(life.usable(later), Err(EnrolmentRefusal::CodeExpired));
        let used = CodeLife {
            used_at: Some(now),
            ..life.clone()
        };
        assert_eq!(used.usable(now), Err(EnrolmentRefusal::CodeUsed));
        let old = CodeLife {
            superseded_at: Some(now),
            ..life
        };
        assert_eq!(old.usable(now), Err(EnrolmentRefusal::CodeSuperseded));
    }

    #[test]
    fn the_rate_limit_refuses_at_the_limit() {
        let r = RateLimit {
            max_failures: 3,
            window: jiff::SignedDuration::from_mins(15),
        };
        assert_eq!(r.check(2), Ok(()));
        assert_eq!(r.check(3), Err(EnrolmentRefusal::RateLimited));
    }

    #[test]
    fn the_card_must_name_the_person_and_their_last_four_digits() {
        assert_eq!(
            card_matches_record("林美玲", Some("1234"), "林美玲", Some("1234")),
            Ok(())
        );
        assert_eq!(
            card_matches_record("林美玲", Some("1234"), "林美麗", Some("1234")),
            Err(EnrolmentRefusal::NameMismatch)
        );
        assert_eq!(
            card_matches_record("林美玲", Some("1234"), "林美玲", Some("9999")),
            Err(EnrolmentRefusal::DigitsMismatch)
        );
        assert_eq!(
            card_matches_record("林美玲", Some("1234"), "林美玲", None),
            Err(EnrolmentRefusal::NoDigitsOnCard)
        );
        assert_eq!(
            card_matches_record("林美玲", None, "林美玲", Some("1234")),
            Err(EnrolmentRefusal::NoDigitsOnRecord)
        );
    }

    fn unit(id: &str, parent: Option<&str>) -> Unit {
        Unit {
            id: UnitId::new(id).unwrap(),
            name_zh: id.to_string(),
            kind: UnitKind::BureauSection,
            parent: parent.map(|p| UnitId::new(p).unwrap()),
        }
    }

    fn staff() -> Staff {
        [
            ("chen.jianhong", 1, StaffStatus::Active),
            ("huang.yating", 2, StaffStatus::Active),
            ("gone.person", 3, StaffStatus::Left),
        ]
        .into_iter()
        .map(|(a, id, s)| (Account::parse(a).unwrap(), (PersonId::new(id), s)))
        .collect()
    }

    const CSV: &str = "unit_id,name,kind,parent,supervisor,deputy\n\
        social-assistance,社會救助科,bureau_section,,chen.jianhong,huang.yating\n\
        sa-team-1,救助一股,bureau_section,social-assistance,,\n";

    #[test]
    fn a_units_file_adds_units_and_sets_supervisors_and_deputies() {
        let existing = vec![unit("social-assistance", None)];
        let changes =
            plan_units(CSV, &existing, &staff(), &BTreeMap::new(), &BTreeMap::new()).unwrap();
        let codes: Vec<_> = changes.iter().map(UnitChange::code).collect();
        assert_eq!(
            codes,
            ["unit_updated", "unit_added", "supervisor_set", "deputy_set"]
        );
    }

    #[test]
    fn the_same_file_in_force_plans_no_change() {
        let mut sa = unit("social-assistance", None);
        sa.name_zh = "社會救助科".into();
        let mut team = unit("sa-team-1", Some("social-assistance"));
        team.name_zh = "救助一股".into();
        let sup = [(sa.id.clone(), PersonId::new(1))].into();
        let dep = [(sa.id.clone(), PersonId::new(2))].into();
        let changes = plan_units(CSV, &[sa, team], &staff(), &sup, &dep).unwrap();
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn unknown_parents_strangers_and_cycles_are_refused_with_their_lines() {
        let csv = "unit_id,name,kind,parent,supervisor,deputy\n\
            a,甲,bureau_section,nowhere,,\n\
            b,乙,bureau_section,,stranger.one,\n\
            c,丙,bureau_section,d,,\n\
            d,丁,bureau_section,c,,\n\
            e,戊,bureau_section,,gone.person,\n\
            f,己,no_such_kind,,,\n";
        let errors =
            plan_units(csv, &[], &staff(), &BTreeMap::new(), &BTreeMap::new()).unwrap_err();
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7]);
        assert!(errors[1].reason.contains("不是本局人員"));
        assert!(!errors[1].reason.contains("stranger"), "no input echoed");
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let errors = plan_units(
            "id,name\n",
            &[],
            &staff(),
            &BTreeMap::new(),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(errors[0].line, 1);
    }

    #[test]
    fn a_transfer_or_departure_ends_the_supervisor_roles_elsewhere() {
        let sa = UnitId::new("social-assistance").unwrap();
        let ew = UnitId::new("elderly-welfare").unwrap();
        let held = [sa.clone()];
        assert!(roles_ended_by_change(StaffStatus::Active, &sa, &held).is_empty());
        let ended = roles_ended_by_change(StaffStatus::Transferred, &ew, &held);
        assert_eq!(ended, held);
        assert_eq!(roles_ended_by_change(StaffStatus::Left, &sa, &held), [sa]);
    }
}
