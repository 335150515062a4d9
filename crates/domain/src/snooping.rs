//! Snooping checks at registration time (beyond the rules: privacy-monitoring products run them
//! only after the fact). Four rules, each with a configurable action.
//!
//! Security-sensitive: these decide whether a registration is blocked, needs a second
//! approver, carries a warning for the approver, or alerts the ethics office (政風室). The
//! facts come in already computed (the app compares subjects by keyed HMAC through an
//! injected lookup); this module decides.

use std::collections::BTreeMap;

crate::code_enum! {
    /// One snooping rule.
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
    pub enum SnoopingRule {
        /// The subject is the querier, the needer or the approver themselves.
        SubjectIsParty = "snooping.subject_is_party",
            "受查詢人為本案查詢者、需要資料者或核准主管本人",
            "The subject is this case's querier, the person who needs the data or the approving supervisor";
        /// The subject is a member of staff.
        SubjectIsStaff = "snooping.subject_is_staff",
            "受查詢人為本局同仁",
            "The subject works at the bureau";
        /// The subject has the querier's surname.
        SameSurname = "snooping.same_surname",
            "受查詢人與資料查詢者同姓",
            "The subject shares the querier's surname";
        /// The subject is on the restricted list (VIPs and others).
        RestrictedList = "snooping.restricted_list",
            "受查詢人列於特別注意名單",
            "The subject is on the special attention list";
    }
}

crate::code_enum! {
    /// What a rule does when it matches.
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
    pub enum SnoopingAction {
        /// Refuse the registration.
        Block = "block";
        /// Allow, but a second approver must approve too.
        RequireSecondApprover = "second_approver";
        /// Allow; the approver sees the warning.
        Warn = "warn";
        /// Allow; the approver sees the warning and the ethics office is alerted (audit record).
        AlertEthics = "alert_ethics";
    }
}

/// The action of each rule. Default: party → block, staff → second approver, same
/// surname → warn, restricted list → alert ethics.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SnoopingPolicy {
    pub actions: BTreeMap<SnoopingRule, SnoopingAction>,
}

impl Default for SnoopingPolicy {
    fn default() -> Self {
        Self {
            actions: [
                (SnoopingRule::SubjectIsParty, SnoopingAction::Block),
                (
                    SnoopingRule::SubjectIsStaff,
                    SnoopingAction::RequireSecondApprover,
                ),
                (SnoopingRule::SameSurname, SnoopingAction::Warn),
                (SnoopingRule::RestrictedList, SnoopingAction::AlertEthics),
            ]
            .into(),
        }
    }
}

/// The facts about one subject, computed by the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SnoopingFacts<'a> {
    /// The subject is the querier, needer or approver (compared by HMAC of the whole ID).
    pub subject_is_party: bool,
    /// The subject is a member of staff.
    pub subject_is_staff: bool,
    /// The subject's name and the querier's name, for the surname rule.
    pub subject_name: &'a str,
    pub querier_name: &'a str,
    pub on_restricted_list: bool,
}

/// The rules that matched, with their actions.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SnoopingAssessment {
    pub findings: Vec<(SnoopingRule, SnoopingAction)>,
}

impl SnoopingAssessment {
    /// The first rule whose action is to block, if any.
    pub fn blocked_by(&self) -> Option<SnoopingRule> {
        self.findings
            .iter()
            .find(|(_, a)| *a == SnoopingAction::Block)
            .map(|(r, _)| *r)
    }

    pub fn second_approver_required(&self) -> bool {
        self.findings
            .iter()
            .any(|(_, a)| *a == SnoopingAction::RequireSecondApprover)
    }

    pub fn alert_ethics(&self) -> bool {
        self.findings
            .iter()
            .any(|(_, a)| *a == SnoopingAction::AlertEthics)
    }

    pub fn codes(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|(r, _)| r.code().to_string())
            .collect()
    }
}

/// Applies the policy to the facts.
pub fn assess(facts: &SnoopingFacts<'_>, policy: &SnoopingPolicy) -> SnoopingAssessment {
    let same_surname = !facts.subject_name.trim().is_empty()
        && !facts.querier_name.trim().is_empty()
        && surname(facts.subject_name) == surname(facts.querier_name);
    let matched = [
        (SnoopingRule::SubjectIsParty, facts.subject_is_party),
        (SnoopingRule::SubjectIsStaff, facts.subject_is_staff),
        (SnoopingRule::SameSurname, same_surname),
        (SnoopingRule::RestrictedList, facts.on_restricted_list),
    ];
    let findings = matched
        .into_iter()
        .filter(|(_, m)| *m)
        .filter_map(|(r, _)| match r {
            // §5, separation of duties: a party looking up themselves is refused, whatever
            // the deployment configured for the rule.
            SnoopingRule::SubjectIsParty => Some((r, SnoopingAction::Block)),
            _ => policy.actions.get(&r).map(|a| (r, *a)),
        })
        .collect();
    SnoopingAssessment { findings }
}

/// Two-character surnames (複姓) common in Taiwan, checked before the one-character rule.
const COMPOUND_SURNAMES: &[&str] = &[
    "歐陽", "司馬", "上官", "諸葛", "張簡", "范姜", "端木", "皇甫", "東方", "夏侯", "令狐", "公孫",
    "慕容", "長孫", "宇文", "司徒", "鮮于", "呼延", "尉遲", "申屠", "澹臺", "軒轅", "單于", "南宮",
    "西門", "左丘", "第五", "聞人", "万俟", "公羊", "濮陽", "淳于", "太史", "仲孫", "鍾離", "宗政",
];

/// The surname of a Chinese name: a listed compound surname, else the first character. A name
/// written in Latin letters (a foreign resident) has its last word as surname. Married
/// double surnames (冠夫姓, e.g. 陳林美玲) count as the first surname: the check warns, it
/// does not decide.
pub fn surname(name: &str) -> &str {
    let name = name.trim();
    if name.is_ascii() {
        return name.split_whitespace().last().unwrap_or("");
    }
    if let Some(c) = COMPOUND_SURNAMES.iter().find(|c| name.starts_with(**c))
        && name.chars().count() > 2
    {
        return &name[..c.len()];
    }
    match name.char_indices().nth(1) {
        Some((i, _)) => &name[..i],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_single_compound_and_latin() {
        assert_eq!(surname("林美玲"), "林");
        assert_eq!(surname("歐陽娜娜"), "歐陽");
        assert_eq!(surname("張簡志明"), "張簡");
        assert_eq!(surname("歐陽"), "歐"); // a two-character name is surname + given name
        assert_eq!(surname("John Smith"), "Smith");
        assert_eq!(surname(""), "");
    }

    #[test]
    fn each_rule_alone_gives_its_configured_action() {
        let policy = SnoopingPolicy::default();
        let base = SnoopingFacts {
            subject_name: "王小明",
            querier_name: "林美玲",
            ..Default::default()
        };
        assert!(assess(&base, &policy).findings.is_empty());
        let party = assess(
            &SnoopingFacts {
                subject_is_party: true,
                ..base
            },
            &policy,
        );
        assert_eq!(party.blocked_by(), Some(SnoopingRule::SubjectIsParty));
        let staff = assess(
            &SnoopingFacts {
                subject_is_staff: true,
                ..base
            },
            &policy,
        );
        assert!(staff.second_approver_required() && staff.blocked_by().is_none());
        let surname = assess(
            &SnoopingFacts {
                subject_name: "林小華",
                ..base
            },
            &policy,
        );
        assert_eq!(
            surname.findings,
            vec![(SnoopingRule::SameSurname, SnoopingAction::Warn)]
        );
        let vip = assess(
            &SnoopingFacts {
                on_restricted_list: true,
                ..base
            },
            &policy,
        );
        assert!(vip.alert_ethics());
        assert_eq!(vip.codes(), vec!["snooping.restricted_list".to_string()]);
    }

    #[test]
    fn actions_are_configurable_and_a_missing_rule_is_off() {
        let mut policy = SnoopingPolicy::default();
        policy
            .actions
            .insert(SnoopingRule::SameSurname, SnoopingAction::Block);
        policy.actions.remove(&SnoopingRule::SubjectIsStaff);
        let facts = SnoopingFacts {
            subject_name: "林小華",
            querier_name: "林美玲",
            subject_is_staff: true,
            ..Default::default()
        };
        let a = assess(&facts, &policy);
        assert_eq!(a.blocked_by(), Some(SnoopingRule::SameSurname));
        assert!(!a.second_approver_required());
        for r in SnoopingRule::ALL {
            assert_eq!(SnoopingRule::parse_code(r.code()), Some(r));
        }
    }
}
