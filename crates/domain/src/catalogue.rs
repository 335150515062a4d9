//! The catalogues a query is made from: service items (查調項目) and legal bases (法令依據).
//!
//! Owns [`ServiceItemCode`] / [`ServiceItem`] (the items of Form 1, MISSION.md "Service items")
//! and [`LegalBasisId`] / [`LegalBasis`] (§4, §5: every query names its legal basis). MISSION.md:
//! "the catalogue is data, not code" — these functions give the seed a deployment starts from;
//! storage keeps the live catalogue and a deployment may add items or bases.
//!
//! Legal-basis ids are derived from the seed deterministically: `<law slug>-<the numbers of the
//! article in order>`, e.g. 社會救助法 第44條之3第1項 → `social-assistance-44-3-1`. The law
//! slugs are data too (`law_slugs` in `seed/legal-bases.json`).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

/// Why a catalogue value is invalid. Messages never carry the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("查調項目代碼應為 1 個英文字母加 4 位數字（例如 C0101）")]
    InvalidServiceItemCode,
    #[error("法令依據代碼須為 1 到 80 個小寫英文字母、數字或連字號（-）")]
    InvalidLegalBasisId,
    #[error("內建法令依據資料有誤：{0}")]
    Seed(String),
}

impl CatalogueError {
    /// Stable code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidServiceItemCode => "catalogue.service_item_code",
            Self::InvalidLegalBasisId => "catalogue.legal_basis_id",
            Self::Seed(_) => "catalogue.seed",
        }
    }

    /// English message, for the English UI.
    pub fn message_en(&self) -> String {
        match self {
            Self::InvalidServiceItemCode => {
                "service item code must be a letter and 4 digits (e.g. C0101)".into()
            }
            Self::InvalidLegalBasisId => {
                "legal basis id must be 1 to 80 lower-case letters, digits or hyphens".into()
            }
            Self::Seed(detail) => format!("built-in legal-basis data is invalid: {detail}"),
        }
    }
}

/// A service item code as on Form 1: `[A-Z][0-9]{4}`, e.g. `C0101`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceItemCode(String);

impl ServiceItemCode {
    /// Trims and upper-cases, then checks the shape.
    pub fn parse(s: &str) -> Result<ServiceItemCode, CatalogueError> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit) {
            Ok(ServiceItemCode(s))
        } else {
            Err(CatalogueError::InvalidServiceItemCode)
        }
    }
}

crate::declare::checked_text!(ServiceItemCode, CatalogueError, parse);

/// One item a querier can be granted and can query (Form 1, Form 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceItem {
    pub code: ServiceItemCode,
    pub name_zh: String,
    pub name_en: String,
    /// A retired item stays in the catalogue so old records still name it.
    pub active: bool,
}

/// The nine items of Form 1, names exactly as in MISSION.md "Service items".
const SERVICE_ITEMS: [(&str, &str, &str); 9] = [
    (
        "C0101",
        "被保險人投保資料",
        "insured person's enrolment records",
    ),
    ("B0101", "給付簡要資料", "benefit summary"),
    ("B0201", "給付明細資料", "benefit details"),
    ("B0301", "失業給付資格", "unemployment benefit eligibility"),
    (
        "P0301",
        "勞工提繳退休金異動資料",
        "labour pension contribution changes",
    ),
    ("N0101", "國民年金給付資料", "national pension benefits"),
    (
        "T0101",
        "老年農民福利津貼發放查詢",
        "elderly farmers' allowance payments",
    ),
    (
        "B0401",
        "勞保年金給付資料查詢",
        "labour insurance annuity benefits",
    ),
    ("P0401", "勞退請領資料查詢", "labour pension claims"),
];

/// The seed service items, in Form 1 order, all active.
pub fn seed_service_items() -> Vec<ServiceItem> {
    SERVICE_ITEMS
        .iter()
        .map(|(code, zh, en)| ServiceItem {
            // The table above is checked by a test to hold only valid codes.
            code: ServiceItemCode((*code).to_owned()),
            name_zh: (*zh).to_owned(),
            name_en: (*en).to_owned(),
            active: true,
        })
        .collect()
}

/// A legal basis's stable id, `[a-z0-9-]{1,80}`, e.g. `social-assistance-44-3-1`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LegalBasisId(String);

impl LegalBasisId {
    pub fn new(s: impl Into<String>) -> Result<LegalBasisId, CatalogueError> {
        let s = s.into();
        let ok = (1..=80).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(LegalBasisId(s))
        } else {
            Err(CatalogueError::InvalidLegalBasisId)
        }
    }
}

crate::declare::checked_text!(
    LegalBasisId,
    CatalogueError,
    #[owned]
    new
);

/// A law article a query may cite as its legal basis (§5: 法令依據).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    pub id: LegalBasisId,
    /// The law's name, e.g. `社會救助法`.
    pub law: String,
    /// The article as cited, e.g. `第44條之3第1項`.
    pub article: String,
    /// Short form for tables, e.g. `§44-3 I`.
    pub article_short: String,
    /// A paraphrase (not the law's text) of what the article allows.
    pub summary_zh: String,
    /// `explicit_data_request`, `eligibility_rule`, `periodic_review`, `applicant_duty`,
    /// `data_exchange_with_insurer` or `general_privacy` (see the seed's note).
    pub kind: String,
    /// The welfare programmes the article serves.
    pub programmes: Vec<String>,
    pub active: bool,
}

impl LegalBasis {
    /// `社會救助法第44條之3第1項`: the citation as written on Form 2 and Form 3.
    pub fn display_zh(&self) -> String {
        format!("{}{}", self.law, self.article)
    }
}

const LEGAL_BASES_JSON: &str = include_str!("../seed/legal-bases.json");

#[derive(Deserialize)]
struct LegalBasesSeed {
    law_slugs: BTreeMap<String, String>,
    entries: Vec<LegalBasisSeedEntry>,
}

#[derive(Deserialize)]
struct LegalBasisSeedEntry {
    law: String,
    article: String,
    article_short: String,
    summary_zh: String,
    programmes: Vec<String>,
    kind: String,
}

/// `第44條之3第1項` → `44-3-1`: the article's numbers in order. `None` if it has none.
fn article_numbers(article: &str) -> Option<String> {
    let groups: Vec<&str> = article
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    if groups.is_empty() {
        None
    } else {
        Some(groups.join("-"))
    }
}

/// The seed legal bases from `seed/legal-bases.json`, with derived ids (checked unique).
pub fn seed_legal_bases() -> Result<Vec<LegalBasis>, CatalogueError> {
    let seed: LegalBasesSeed =
        serde_json::from_str(LEGAL_BASES_JSON).map_err(|e| CatalogueError::Seed(e.to_string()))?;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(seed.entries.len());
    for e in seed.entries {
        let slug = seed
            .law_slugs
            .get(&e.law)
            .ok_or_else(|| CatalogueError::Seed(format!("no slug for law {}", e.law)))?;
        let numbers = article_numbers(&e.article).ok_or_else(|| {
            CatalogueError::Seed(format!("no article number in {}{}", e.law, e.article))
        })?;
        let id = LegalBasisId::new(format!("{slug}-{numbers}"))?;
        if !seen.insert(id.clone()) {
            return Err(CatalogueError::Seed(format!(
                "duplicate legal basis id {id}"
            )));
        }
        out.push(LegalBasis {
            id,
            law: e.law,
            article: e.article,
            article_short: e.article_short,
            summary_zh: e.summary_zh,
            kind: e.kind,
            programmes: e.programmes,
            active: true,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_item_codes_are_a_letter_and_four_digits() {
        assert_eq!(ServiceItemCode::parse(" c0101 ").unwrap().as_str(), "C0101");
        assert_eq!(
            "B0401".parse::<ServiceItemCode>().unwrap().to_string(),
            "B0401"
        );
        for bad in ["", "C010", "C01011", "00101", "CC101", "C01O1", "Ｃ0101"] {
            assert_eq!(
                ServiceItemCode::parse(bad),
                Err(CatalogueError::InvalidServiceItemCode),
                "{bad:?}"
            );
        }
        let err = CatalogueError::InvalidServiceItemCode;
        assert_eq!(err.code(), "catalogue.service_item_code");
        assert!(serde_json::from_str::<ServiceItemCode>("\"X1\"").is_err());
        assert_eq!(
            serde_json::from_str::<ServiceItemCode>("\"p0301\"")
                .unwrap()
                .as_str(),
            "P0301"
        );
    }

    #[test]
    fn seed_has_the_nine_form_1_items() {
        let items = seed_service_items();
        let codes: Vec<_> = items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "C0101", "B0101", "B0201", "B0301", "P0301", "N0101", "T0101", "B0401", "P0401"
            ]
        );
        for i in &items {
            // The table bypasses parse(); make sure it would have passed.
            assert_eq!(
                ServiceItemCode::parse(i.code.as_str()).as_ref(),
                Ok(&i.code)
            );
            assert!(i.active);
        }
        assert_eq!(items[0].name_zh, "被保險人投保資料");
        assert_eq!(items[6].name_zh, "老年農民福利津貼發放查詢");
        assert_eq!(items[8].name_en, "labour pension claims");
    }

    #[test]
    fn legal_bases_load_with_unique_derived_ids() {
        let bases = seed_legal_bases().unwrap();
        assert_eq!(bases.len(), 19);
        let ids: HashSet<_> = bases.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids.len(), bases.len());
        let first = &bases[0];
        assert_eq!(first.id.as_str(), "social-assistance-44-3-1");
        assert_eq!(first.display_zh(), "社會救助法第44條之3第1項");
        for id in [
            "social-assistance-5-1",
            "senior-citizens-welfare-12-1-2",
            "disability-rights-71-1-1",
            "children-youth-welfare-70-3",
            "special-circumstances-families-15-1-1",
            "national-pension-56-2-3",
        ] {
            assert!(ids.contains(id), "{id}");
        }
    }

    #[test]
    fn the_five_welfare_laws_are_present() {
        let bases = seed_legal_bases().unwrap();
        for law in [
            "社會救助法",
            "老人福利法",
            "身心障礙者權益保障法",
            "兒童及少年福利與權益保障法",
            "特殊境遇家庭扶助條例",
        ] {
            assert!(
                bases
                    .iter()
                    .any(|b| b.law == law && b.kind == "explicit_data_request"),
                "{law} has no explicit data-request article"
            );
        }
    }

    #[test]
    fn legal_basis_ids_are_slugs() {
        assert!(LegalBasisId::new("social-assistance-44-3-1").is_ok());
        for bad in ["", "Social", "a_b", "社會救助法", &"a".repeat(81)] {
            assert_eq!(
                LegalBasisId::new(bad),
                Err(CatalogueError::InvalidLegalBasisId),
                "{bad:?}"
            );
        }
        assert_eq!(
            article_numbers("第56條第2項、第3項").as_deref(),
            Some("56-2-3")
        );
        assert_eq!(article_numbers("第五條"), None);
    }
}
