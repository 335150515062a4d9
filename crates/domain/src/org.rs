//! The organisation: units, people, roles, and the separation-of-duties rule.
//!
//! Owns the vocabulary of MISSION.md "Roles" ([`Role`]), the bureau's units ([`Unit`],
//! [`UnitKind`]), staff records ([`Person`], [`Account`], [`StaffStatus`]) and
//! [`distinct_parties`], the one check behind "nobody approves their own application or query".
//! Security-relevant: roles decide who may approve and audit, but the decisions themselves live
//! in the policy modules; this module only names things.
//!
//! # Seed units ([`seed_units`])
//!
//! Read from `seed/kaohsiung-social-affairs-units.json` and `seed/kaohsiung-districts.json`
//! (see `seed/README.md` for sources and confidence). Stable ids:
//!
//! | id | unit | kind |
//! |---|---|---|
//! | `social-assistance` | 社會救助科 | BureauSection |
//! | `elderly-welfare` | 老人福利科 | BureauSection |
//! | `disability-welfare` | 身心障礙福利科 | BureauSection |
//! | `children-youth` | 兒童及少年福利科 | BureauSection |
//! | `women-protection` | 婦女及保護服務科 | BureauSection |
//! | `social-work` | 社會工作科 | BureauSection |
//! | `civil-associations` | 人民團體科 | BureauSection |
//! | `secretariat` | 秘書室 | BureauSection |
//! | `it-group` | 資訊小組 (parent `secretariat`) | ItGroup |
//! | `accounting` | 會計室 | BureauSection |
//! | `personnel` | 人事室 | BureauSection |
//! | `ethics` | 政風室 | EthicsOffice |
//! | `director` | 局長室 | DirectorOffice |
//! | `dv-prevention-center` | 家庭暴力及性侵害防治中心 | SubordinateAgency |
//! | `senior-citizens-center` | 長青綜合服務中心 | SubordinateAgency |
//! | `child-welfare-center` | 兒童福利服務中心 | SubordinateAgency |
//! | `barrier-free-home` | 無障礙之家 | SubordinateAgency |
//! | `district-<slug>` | the 38 區公所, e.g. `district-fengshan` 高雄市鳳山區公所 | DistrictOffice |
//!
//! Entries of confidence U in the seed (仁愛之家, id `renai-home`) are not loaded.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an organisation value is invalid. Messages never carry the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("單位代碼須為 1 到 64 個小寫英文字母、數字或連字號（-）")]
    InvalidUnitId,
    #[error("帳號須以英文字母開頭，共 3 到 32 個小寫英文字母、數字、「.」「_」「-」")]
    InvalidAccount,
    #[error("內建組織資料有誤：{0}")]
    Seed(String),
}

impl OrgError {
    /// Stable code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUnitId => "org.unit_id",
            Self::InvalidAccount => "org.account",
            Self::Seed(_) => "org.seed",
        }
    }

    /// English message, for the English UI.
    pub fn message_en(&self) -> String {
        match self {
            Self::InvalidUnitId => {
                "unit id must be 1 to 64 lower-case letters, digits or hyphens".into()
            }
            Self::InvalidAccount => {
                "account must start with a letter and have 3 to 32 lower-case letters, digits, '.', '_' or '-'".into()
            }
            Self::Seed(detail) => format!("built-in organisation data is invalid: {detail}"),
        }
    }
}

/// A unit's stable ASCII id (`[a-z0-9-]{1,64}`), e.g. `social-assistance`, `district-fengshan`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitId(String);

impl UnitId {
    pub fn new(s: impl Into<String>) -> Result<UnitId, OrgError> {
        let s = s.into();
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(UnitId(s))
        } else {
            Err(OrgError::InvalidUnitId)
        }
    }
}

crate::declare::checked_text!(
    UnitId,
    OrgError,
    #[owned]
    new
);

crate::code_enum! {
    /// What kind of unit this is; it decides which roles its people usually hold.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum UnitKind {
        /// 局本部科室: a section or office of the bureau itself.
        BureauSection = "bureau_section", "局本部科室";
        /// 秘書室資訊小組: holds the permission administrator (§2, §7).
        ItGroup = "it_group", "秘書室資訊小組";
        /// 政風室: audits with the IT group (§8).
        EthicsOffice = "ethics_office", "政風室";
        /// 局長室: the director reviews audit records (§8).
        DirectorOffice = "director_office", "局長室";
        /// 所屬機關: may ask a responsible unit to query for it with Form 3 (§5).
        SubordinateAgency = "subordinate_agency", "所屬機關";
        /// 區公所: may ask a responsible unit to query for it with Form 3 (§5).
        DistrictOffice = "district_office", "區公所";
    }
}

impl UnitKind {
    /// Units outside the bureau proper: they file Form 3 rather than query themselves (§5).
    pub fn is_external(self) -> bool {
        matches!(self, Self::SubordinateAgency | Self::DistrictOffice)
    }
}

/// A unit of the bureau, a subordinate agency or a district office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    pub name_zh: String,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
}

crate::code_enum! {
    @serde
    /// What a person may be asked to do (MISSION.md "Roles"). A person can hold several.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    pub enum Role {
        /// 資料查詢者: holds query rights (§2) and runs approved queries (§5).
        Querier = "querier", "資料查詢者", "querier";
        /// 一般同仁: any colleague; may be the one who needs the data (需要資料者, §5).
        Staff = "staff", "一般同仁", "staff member";
        /// 單位主管: consents to Form 1 (§2) and approves Form 2 before the query (§5).
        UnitSupervisor = "unit_supervisor", "單位主管", "unit supervisor";
        /// 權限管理者: the IT group's permission administrator (§2, §7).
        PermissionAdministrator = "permission_admin", "權限管理者", "permission administrator";
        /// 權限管理單位主管: signs Form 1 after the administrator.
        PermissionAdminSupervisor = "permission_admin_supervisor",
            "權限管理單位主管",
            "permission administrator's supervisor";
        /// 業務權責單位承辦: reviews Form 3 requests from outside (§5).
        ResponsibleUnitReviewer = "responsible_unit_reviewer",
            "業務權責單位承辦人",
            "responsible unit reviewer";
        /// 區公所／所屬機關申請人: files Form 3 (§5).
        ExternalRequester = "external_requester",
            "區公所／所屬機關申請人",
            "external requester (district office / agency)";
        /// 政風室稽核人員: audits with the IT group (§8).
        EthicsAuditor = "ethics_auditor", "政風室稽核人員", "ethics auditor";
        /// 局長: reviews and files audit records (§8).
        Director = "director", "局長", "director";
        /// 個人資料保護聯絡窗口: records citizens' access requests and produces their reports
        /// (個人資料保護法 §10, §13).
        PersonalDataContact = "personal_data_contact", "個人資料保護聯絡窗口", "personal data contact";
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

crate::declare::storage_id!(
    /// A person's internal id (the storage key), not personal data.
    PersonId
);

/// A login account name: `[a-z][a-z0-9._-]{2,31}` after trimming and lower-casing.
/// §3: one person, one account.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Account(String);

impl Account {
    pub fn parse(s: &str) -> Result<Account, OrgError> {
        let s = s.trim().to_ascii_lowercase();
        let b = s.as_bytes();
        let ok = (3..=32).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b[1..].iter().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(Account(s))
        } else {
            Err(OrgError::InvalidAccount)
        }
    }
}

crate::declare::checked_text!(Account, OrgError, parse);

crate::code_enum! {
    /// Employment status. §2: a job change or leaving must be applied for before it happens; any
    /// status but `Active` suspends query grants until a new application is approved.
    #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum StaffStatus {
        Active = "active", "在職";
        Transferred = "transferred", "職務異動";
        OnLeave = "on_leave", "留職停薪或長期請假";
        Left = "left", "離職";
    }
}

/// A member of staff (or an external requester) known to the system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub account: Account,
    pub name: String,
    pub title: String,
    pub unit: UnitId,
    pub roles: BTreeSet<Role>,
    pub status: StaffStatus,
}

impl Person {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// §5 ¶3: someone outside the bureau proper who only files Form 3 (a district office's
    /// or subordinate agency's applicant, or that office's supervisor who consents to it,
    /// holding no bureau role): Forms 1 and 2, the oversight pages and the audits do not
    /// apply to them.
    pub fn is_external_applicant(&self) -> bool {
        self.has_role(Role::ExternalRequester)
            && self.roles.iter().all(|r| {
                matches!(
                    r,
                    Role::ExternalRequester | Role::Staff | Role::UnitSupervisor
                )
            })
    }
}

/// The two parties of an act (applicant and approver, querier and auditor, administrator and
/// grantee) are the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("職務分離：不得核准自己的申請或查調、稽核自己，權限管理者亦不得授予自己權限（人員 {0}）")]
pub struct SeparationOfDuties(pub PersonId);

impl SeparationOfDuties {
    pub fn code(&self) -> &'static str {
        "separation_of_duties.same_person"
    }

    pub fn message_en(&self) -> String {
        format!(
            "separation of duties: nobody approves their own application or query, audits themselves, or grants rights to themselves (person {})",
            self.0
        )
    }
}

/// MISSION.md "Roles", separation of duties: the person acting (approving, auditing, granting)
/// and the person acted on must differ.
pub fn distinct_parties(a: PersonId, b: PersonId) -> Result<(), SeparationOfDuties> {
    if a == b {
        Err(SeparationOfDuties(a))
    } else {
        Ok(())
    }
}

const UNITS_JSON: &str = include_str!("../seed/kaohsiung-social-affairs-units.json");
const DISTRICTS_JSON: &str = include_str!("../seed/kaohsiung-districts.json");

#[derive(Deserialize)]
struct UnitsSeed {
    internal_units: Vec<UnitSeedEntry>,
    subordinate_agencies: Vec<UnitSeedEntry>,
}

#[derive(Deserialize)]
struct UnitSeedEntry {
    id: String,
    unit_kind: UnitKind,
    name: String,
    #[serde(default)]
    parent: Option<String>,
    confidence: String,
}

#[derive(Deserialize)]
struct DistrictsSeed {
    districts: Vec<DistrictSeedEntry>,
}

#[derive(Deserialize)]
struct DistrictSeedEntry {
    slug: String,
    office_name: String,
}

/// The bureau's units, subordinate agencies and the 38 district offices (ids in the module
/// doc). Checked on the way: ids unique, every parent present.
pub fn seed_units() -> Result<Vec<Unit>, OrgError> {
    let units: UnitsSeed =
        serde_json::from_str(UNITS_JSON).map_err(|e| OrgError::Seed(format!("units: {e}")))?;
    let districts: DistrictsSeed = serde_json::from_str(DISTRICTS_JSON)
        .map_err(|e| OrgError::Seed(format!("districts: {e}")))?;

    let mut out = Vec::new();
    for e in units
        .internal_units
        .into_iter()
        .chain(units.subordinate_agencies)
        // An unconfirmed unit should not be offered as a place people work.
        .filter(|e| e.confidence != "U")
    {
        out.push(Unit {
            id: UnitId::new(e.id)?,
            name_zh: e.name,
            kind: e.unit_kind,
            parent: e.parent.map(UnitId::new).transpose()?,
        });
    }
    for d in districts.districts {
        out.push(Unit {
            id: UnitId::new(format!("district-{}", d.slug))?,
            name_zh: d.office_name,
            kind: UnitKind::DistrictOffice,
            parent: None,
        });
    }

    let mut seen = HashSet::new();
    for u in &out {
        if !seen.insert(u.id.as_str()) {
            return Err(OrgError::Seed(format!("duplicate unit id {}", u.id)));
        }
    }
    for u in &out {
        if let Some(p) = &u.parent
            && !seen.contains(p.as_str())
        {
            return Err(OrgError::Seed(format!(
                "unit {} has unknown parent {p}",
                u.id
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_has_38_district_offices_and_one_of_each_special_unit() {
        let units = seed_units().unwrap();
        let count = |k: UnitKind| units.iter().filter(|u| u.kind == k).count();
        assert_eq!(count(UnitKind::DistrictOffice), 38);
        assert_eq!(count(UnitKind::ItGroup), 1);
        assert_eq!(count(UnitKind::EthicsOffice), 1);
        assert_eq!(count(UnitKind::DirectorOffice), 1);
        assert_eq!(count(UnitKind::SubordinateAgency), 4);
        assert_eq!(count(UnitKind::BureauSection), 10);

        let ids: HashSet<_> = units.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), units.len());
        for u in &units {
            if let Some(p) = &u.parent {
                assert!(ids.contains(p.as_str()), "{} -> {p}", u.id);
            }
        }
        let it = units.iter().find(|u| u.kind == UnitKind::ItGroup).unwrap();
        assert_eq!(it.id.as_str(), "it-group");
        assert_eq!(it.name_zh, "資訊小組");
        assert_eq!(it.parent.as_ref().map(UnitId::as_str), Some("secretariat"));
        let ethics = units.iter().find(|u| u.id.as_str() == "ethics").unwrap();
        assert_eq!(ethics.name_zh, "政風室");
        let fengshan = units
            .iter()
            .find(|u| u.id.as_str() == "district-fengshan")
            .unwrap();
        assert_eq!(fengshan.name_zh, "高雄市鳳山區公所");
        assert!(
            !ids.contains("renai-home"),
            "unconfirmed units are not loaded"
        );
        for id in [
            "social-assistance",
            "elderly-welfare",
            "disability-welfare",
            "children-youth",
            "women-protection",
            "social-work",
            "civil-associations",
            "secretariat",
            "accounting",
            "personnel",
            "director",
            "dv-prevention-center",
        ] {
            assert!(ids.contains(id), "{id}");
        }
    }

    #[test]
    fn unit_ids_are_ascii_slugs() {
        assert!(UnitId::new("social-assistance").is_ok());
        assert!(UnitId::new("a").is_ok());
        assert!(UnitId::new("a".repeat(64)).is_ok());
        for bad in ["", "Social", "社會救助科", "a b", "a_b", &"a".repeat(65)] {
            assert_eq!(UnitId::new(bad), Err(OrgError::InvalidUnitId), "{bad:?}");
        }
        let id: UnitId = serde_json::from_str("\"it-group\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"it-group\"");
        assert!(serde_json::from_str::<UnitId>("\"IT Group\"").is_err());
    }

    #[test]
    fn codes_round_trip_and_match_serde() {
        for r in Role::ALL {
            assert_eq!(Role::parse_code(r.code()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.code())
            );
            assert!(!r.name_zh().is_empty() && !r.name_en().is_empty());
        }
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse_code(k.code()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.code())
            );
        }
        for s in StaffStatus::ALL {
            assert_eq!(StaffStatus::parse_code(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
        }
        assert_eq!(Role::parse_code("admin"), None);
        assert_eq!(Role::PermissionAdministrator.code(), "permission_admin");
        let codes: HashSet<_> = Role::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), 10);
    }

    #[test]
    fn accounts_are_normalised_and_validated() {
        assert_eq!(
            Account::parse(" Chen.YiLing ").unwrap().as_str(),
            "chen.yiling"
        );
        assert!(Account::parse("abc").is_ok());
        assert!(Account::parse(&format!("a{}", "b".repeat(31))).is_ok());
        for bad in [
            "ab",
            "1abc",
            "_abc",
            "a bc",
            "陳怡玲",
            "abc@x",
            &"a".repeat(33),
        ] {
            assert_eq!(
                Account::parse(bad),
                Err(OrgError::InvalidAccount),
                "{bad:?}"
            );
        }
        assert!(serde_json::from_str::<Account>("\"x!\"").is_err());
    }

    #[test]
    fn nobody_is_both_parties() {
        let a = PersonId::new(7);
        assert_eq!(distinct_parties(a, PersonId::new(8)), Ok(()));
        let err = distinct_parties(a, a).unwrap_err();
        assert_eq!(err.code(), "separation_of_duties.same_person");
        assert!(err.to_string().contains("職務分離"));
        assert_eq!(a.get(), 7);
        assert_eq!(serde_json::to_string(&a).unwrap(), "7");
    }

    #[test]
    fn person_roles() {
        let p = Person {
            id: PersonId::new(1),
            account: Account::parse("lin").unwrap(),
            name: "林小明".into(),
            title: "社工員".into(),
            unit: UnitId::new("social-assistance").unwrap(),
            roles: [Role::Querier, Role::Staff].into(),
            status: StaffStatus::Active,
        };
        assert!(p.has_role(Role::Querier));
        assert!(!p.has_role(Role::UnitSupervisor));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Person>(&json).unwrap(), p);
    }
}
