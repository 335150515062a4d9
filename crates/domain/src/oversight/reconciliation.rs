//! Record-by-record reconciliation of platform usage records with executions (§5, §7).
//!
//! Every imported platform record should be one execution recorded here: same person (the
//! record's operator account mapped to a person by the caller), same item, same subject, time
//! within a tolerance. What is left over on either side is a finding — never an error.
//!
//! The match is a sort-merge join on (person, item, subject), O(n log n), so a quarter of a
//! million records on each side takes seconds, not hours. Subjects are compared as keyed
//! digests: a usage record carries the digest under the HMAC key current when it was
//! imported; an execution carries its subject's digest under every key the usage records use
//! (the app computes them), so a key rotation between registration and import still matches.
//! To keep a million rows small, key ids and item codes are interned into [`Symbols`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};

use super::review::{Finding, FindingObject, FindingRule};
use crate::org::PersonId;
use crate::permission::grant::{GrantStatus, PermissionGrant};
use crate::roc_date::taipei_date;

/// Key ids and item codes as small numbers, so facts stay small and cheap to compare.
#[derive(Debug, Default, Clone)]
pub struct Symbols {
    keys: Vec<String>,
    key_index: HashMap<String, u16>,
    items: Vec<String>,
    item_index: HashMap<String, u16>,
}

fn intern(list: &mut Vec<String>, index: &mut HashMap<String, u16>, s: &str) -> u16 {
    if let Some(i) = index.get(s) {
        return *i;
    }
    // More than 65 535 distinct keys or items is not a catalogue: they share the last slot.
    let i = u16::try_from(list.len()).unwrap_or(u16::MAX);
    list.push(s.to_string());
    index.insert(s.to_string(), i);
    i
}

impl Symbols {
    pub fn key(&mut self, key_id: &str) -> u16 {
        intern(&mut self.keys, &mut self.key_index, key_id)
    }

    pub fn item(&mut self, code: &str) -> u16 {
        intern(&mut self.items, &mut self.item_index, code)
    }

    pub fn key_id(&self, i: u16) -> &str {
        self.keys.get(usize::from(i)).map_or("", String::as_str)
    }

    pub fn item_code(&self, i: u16) -> &str {
        self.items.get(usize::from(i)).map_or("", String::as_str)
    }

    /// Key ids in use, by index.
    pub fn key_ids(&self) -> &[String] {
        &self.keys
    }
}

/// A subject as a keyed digest: the key (interned) and the 32 bytes of HMAC-SHA256.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SubjectRef {
    pub key: u16,
    pub hmac: [u8; 32],
}

impl SubjectRef {
    /// From the hex text storage keeps; `None` if it is not 64 hex digits.
    pub fn from_hex(key: u16, hex_text: &str) -> Option<SubjectRef> {
        let bytes = hex_text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut hmac = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            hmac[i] = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(SubjectRef { key, hmac })
    }

    /// The first 8 bytes of the digest as a number: sorting a million digests by it decides
    /// almost every comparison without reading the rest; equal subjects have equal prefixes.
    pub fn prefix(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.hmac[..8]);
        u64::from_be_bytes(b)
    }
}

/// One platform usage record as reconciliation needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageFact {
    pub at: Timestamp,
    /// The operator account mapped to a person; `None` if it maps to nobody.
    pub operator: Option<PersonId>,
    pub item: u16,
    pub subject: SubjectRef,
}

/// One execution recorded here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionFact {
    pub id: i64,
    pub querier: PersonId,
    pub item: u16,
    /// When it ran (portal mode: the time the querier reported).
    pub at: Timestamp,
    /// The subject under the key it was registered under.
    pub subject: SubjectRef,
    /// The same subject under the other keys the usage records use (empty without a key
    /// rotation, so a million executions cost no extra allocation).
    pub other_keys: Box<[SubjectRef]>,
}

impl ExecutionFact {
    /// The subject under every key known for it, its own first.
    pub fn subjects(&self) -> impl Iterator<Item = &SubjectRef> {
        std::iter::once(&self.subject).chain(self.other_keys.iter())
    }

    fn subject_at(&self, slot: u8) -> SubjectRef {
        match slot {
            0 => self.subject,
            n => self
                .other_keys
                .get(usize::from(n) - 1)
                .copied()
                .unwrap_or(self.subject),
        }
    }
}

/// What reconciliation found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// For each usage record (by position), the execution (by position) it matched.
    pub matched_usage: Vec<Option<u32>>,
    /// For each execution (by position), whether a usage record matched it.
    pub matched_execution: Vec<bool>,
    pub findings: Vec<Finding>,
}

impl Reconciliation {
    pub fn matched(&self) -> usize {
        self.matched_usage.iter().filter(|m| m.is_some()).count()
    }
}

/// The period findings are reported for, and how far apart a platform record and its
/// execution may be in time (clocks differ; portal times are typed in by hand).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ReconcileWindow {
    pub from: Timestamp,
    pub to: Timestamp,
    pub tolerance: SignedDuration,
}

impl ReconcileWindow {
    fn contains(&self, at: Timestamp) -> bool {
        at >= self.from && at < self.to
    }
}

#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct JoinKey {
    person: PersonId,
    item: u16,
    subject: SubjectRef,
}

/// Matches usage records with executions and reports what is left over in `window`. Pass the
/// facts of the window widened by the tolerance on both sides, so matches across its edges are
/// found; findings are reported only for facts inside it. `grants` are every person's grants
/// (any status), to tell a query made without a grant from one made outside the system.
pub fn reconcile(
    usage: &[UsageFact],
    executions: &[ExecutionFact],
    grants: &BTreeMap<PersonId, Vec<PermissionGrant>>,
    symbols: &Symbols,
    window: ReconcileWindow,
) -> Reconciliation {
    let (matched_usage, matched_execution) = join(usage, executions, window.tolerance);
    let mut findings = Vec::new();
    for (i, u) in usage.iter().enumerate() {
        if matched_usage[i].is_some() || !window.contains(u.at) {
            continue;
        }
        let (rule, detail) = unmatched_usage_rule(u, grants, symbols);
        findings.push(Finding {
            rule,
            person: u.operator,
            at: Some(u.at),
            object: FindingObject::Usage(i),
            detail,
        });
    }
    for (i, e) in executions.iter().enumerate() {
        if matched_execution[i] || !window.contains(e.at) {
            continue;
        }
        findings.push(Finding {
            rule: FindingRule::ExecutionWithoutRecord,
            person: Some(e.querier),
            at: Some(e.at),
            object: FindingObject::Execution(e.id),
            detail: symbols.item_code(e.item).to_string(),
        });
    }
    Reconciliation {
        matched_usage,
        matched_execution,
        findings,
    }
}

/// The join key and time of a usage record, by position.
fn usage_key(usage: &[UsageFact], i: u32) -> (JoinKey, Timestamp) {
    let u = &usage[i as usize];
    (
        JoinKey {
            person: u.operator.unwrap_or(PersonId::new(i64::MIN)),
            item: u.item,
            subject: u.subject,
        },
        u.at,
    )
}

/// The join key and time of an execution, by position, with its subject under the key in
/// `slot` (0: its own; see [`ExecutionFact::subjects`]).
fn execution_key(executions: &[ExecutionFact], (i, slot): (u32, u8)) -> (JoinKey, Timestamp) {
    let e = &executions[i as usize];
    (
        JoinKey {
            person: e.querier,
            item: e.item,
            subject: e.subject_at(slot),
        },
        e.at,
    )
}

/// The usage records whose operator maps to a person, as positions sorted by join key and
/// time. Each position carries the first 8 bytes of its subject digest, so that most
/// comparisons of the sort are decided without looking at the facts; equal keys have equal
/// prefixes, so the order is (prefix, key, time) on both sides and groups stay contiguous.
fn usage_in_join_order(usage: &[UsageFact]) -> Vec<(u64, u32)> {
    let mut left: Vec<(u64, u32)> = usage
        .iter()
        .enumerate()
        .filter(|(_, u)| u.operator.is_some())
        .filter_map(|(i, u)| u32::try_from(i).ok().map(|i| (u.subject.prefix(), i)))
        .collect();
    left.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| usage_key(usage, a.1).cmp(&usage_key(usage, b.1)))
    });
    left
}

/// The executions in the order of [`usage_in_join_order`], once under each key their
/// subject is known by (position and key slot).
fn executions_in_join_order(executions: &[ExecutionFact]) -> Vec<(u64, (u32, u8))> {
    let mut right: Vec<(u64, (u32, u8))> = executions
        .iter()
        .enumerate()
        .filter_map(|(i, e)| u32::try_from(i).ok().map(|i| (i, e)))
        .flat_map(|(i, e)| {
            e.subjects()
                .enumerate()
                .filter_map(move |(k, s)| u8::try_from(k).ok().map(|k| (s.prefix(), (i, k))))
        })
        .collect();
    right.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| execution_key(executions, a.1).cmp(&execution_key(executions, b.1)))
    });
    right
}

/// Sort-merge join: both sides as positions sorted by (key, time) — positions, not copies,
/// so a million rows cost 4 bytes each here; then walk the groups side by side. Returns, for
/// each usage record, the execution it matched, and for each execution whether one did.
fn join(
    usage: &[UsageFact],
    executions: &[ExecutionFact],
    tolerance: SignedDuration,
) -> (Vec<Option<u32>>, Vec<bool>) {
    let left = usage_in_join_order(usage);
    let right = executions_in_join_order(executions);
    // The sorted lists are walked as they are, prefix included: stripping it would copy both
    // lists while they are alive, at the reconciliation's peak of memory.
    let lkey = |x: &(u64, u32)| (x.0, usage_key(usage, x.1).0);
    let rkey = |x: &(u64, (u32, u8))| (x.0, execution_key(executions, x.1).0);

    let mut matched_usage: Vec<Option<u32>> = vec![None; usage.len()];
    let mut matched_execution = vec![false; executions.len()];
    let tol = tolerance.abs();
    let (mut i, mut j) = (0usize, 0usize);
    while i < left.len() && j < right.len() {
        let key = lkey(&left[i]);
        match key.cmp(&rkey(&right[j])) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                let li_end = left[i..].partition_point(|x| lkey(x) == key) + i;
                let rj_end = right[j..].partition_point(|x| rkey(x) == key) + j;
                // Within one key both sides are in time order: pair greedily, oldest first.
                let (mut a, mut b) = (i, j);
                while a < li_end && b < rj_end {
                    let ua = usage_key(usage, left[a].1).1;
                    let eb = execution_key(executions, right[b].1).1;
                    let ei = right[b].1.0 as usize;
                    // An execution already matched (under another key) or too old for
                    // this record is passed over.
                    if matched_execution[ei] || eb < ua - tol {
                        b += 1;
                    } else if eb > ua + tol {
                        a += 1;
                    } else {
                        matched_usage[left[a].1 as usize] = Some(right[b].1.0);
                        matched_execution[ei] = true;
                        a += 1;
                        b += 1;
                    }
                }
                i = li_end;
                j = rj_end;
            }
        }
    }
    (matched_usage, matched_execution)
}

/// What a usage record with no execution behind it is, and the finding's detail: a record
/// by nobody known; a query made outside the system while a grant was in force (§5, §7); or
/// one by a person with no grant for the item that day (§2).
fn unmatched_usage_rule(
    u: &UsageFact,
    grants: &BTreeMap<PersonId, Vec<PermissionGrant>>,
    symbols: &Symbols,
) -> (FindingRule, String) {
    let Some(p) = u.operator else {
        return (FindingRule::UnknownOperator, String::new());
    };
    let day = taipei_date(u.at);
    let item = symbols.item_code(u.item);
    let held = grants.get(&p).is_some_and(|gs| {
        gs.iter()
            .any(|g| g.item.as_str() == item && g.in_force_on(day))
    });
    let suspended = grants.get(&p).is_some_and(|gs| {
        gs.iter().any(|g| {
            g.item.as_str() == item
                && g.status == GrantStatus::Suspended
                && g.suspended_from.is_some_and(|s| s <= day)
        })
    });
    if held {
        (FindingRule::UnregisteredQuery, item.to_string())
    } else if suspended {
        // §2: the anomaly rule names the suspension; reconciliation says only
        // that no grant was in force.
        (FindingRule::WithoutGrant, format!("{item} suspended"))
    } else {
        (FindingRule::WithoutGrant, item.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roc_date::RocDate;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn subject(key: u16, n: u8) -> SubjectRef {
        SubjectRef { key, hmac: [n; 32] }
    }

    fn grant(person: i64, item: &str, suspended_from: Option<RocDate>) -> PermissionGrant {
        let from = RocDate::new(114, 1, 1).unwrap();
        crate::testing::grant(
            person * 100,
            PersonId::new(person),
            item,
            from,
            suspended_from,
        )
    }

    struct Fixture {
        symbols: Symbols,
        grants: BTreeMap<PersonId, Vec<PermissionGrant>>,
        window: ReconcileWindow,
        c0101: u16,
    }

    fn fixture() -> Fixture {
        let mut symbols = Symbols::default();
        let c0101 = symbols.item("C0101");
        symbols.key("k1");
        symbols.key("k2");
        let mut grants = BTreeMap::new();
        grants.insert(PersonId::new(1), vec![grant(1, "C0101", None)]);
        grants.insert(
            PersonId::new(2),
            vec![grant(2, "C0101", Some(RocDate::new(115, 2, 1).unwrap()))],
        );
        Fixture {
            symbols,
            grants,
            window: ReconcileWindow {
                from: ts("2026-01-01T00:00:00Z"),
                to: ts("2026-04-01T00:00:00Z"),
                tolerance: SignedDuration::from_mins(10),
            },
            c0101,
        }
    }

    fn usage(at: &str, person: Option<i64>, item: u16, s: SubjectRef) -> UsageFact {
        UsageFact {
            at: ts(at),
            operator: person.map(PersonId::new),
            item,
            subject: s,
        }
    }

    impl Fixture {
        /// Person 1's one record of item C0101 about `subject`, at `at`.
        fn used(&self, at: &str, subject: SubjectRef) -> UsageFact {
            usage(at, Some(1), self.c0101, subject)
        }

        /// Execution 10: person 1 queried C0101 at `at` for the subject digested as `s`
        /// (under each key).
        fn executed(&self, at: &str, s: &[SubjectRef]) -> ExecutionFact {
            ExecutionFact {
                id: 10,
                querier: PersonId::new(1),
                item: self.c0101,
                at: ts(at),
                subject: s[0],
                other_keys: s[1..].into(),
            }
        }

        fn reconcile(&self, u: &[UsageFact], e: &[ExecutionFact]) -> Reconciliation {
            reconcile(u, e, &self.grants, &self.symbols, self.window)
        }
    }

    #[test]
    fn a_record_and_its_execution_within_the_tolerance_match_and_leave_nothing() {
        let f = fixture();
        let u = [f.used("2026-02-03T02:05:00Z", subject(0, 7))];
        let e = [f.executed("2026-02-03T02:00:00Z", &[subject(0, 7)])];
        let r = f.reconcile(&u, &e);
        assert_eq!(r.matched_usage, vec![Some(0)]);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn outside_the_tolerance_both_sides_are_findings() {
        let f = fixture();
        let u = [f.used("2026-02-03T03:00:00Z", subject(0, 7))];
        let e = [f.executed("2026-02-03T02:00:00Z", &[subject(0, 7)])];
        let r = f.reconcile(&u, &e);
        let rules: Vec<_> = r.findings.iter().map(|x| x.rule).collect();
        assert_eq!(
            rules,
            vec![
                FindingRule::UnregisteredQuery,
                FindingRule::ExecutionWithoutRecord
            ]
        );
    }

    #[test]
    fn a_record_matches_an_execution_of_a_subject_digested_under_an_older_key() {
        let f = fixture();
        // Registered under key 0, imported after rotation under key 1: the app gives the
        // execution its subject under both keys.
        let u = [f.used("2026-02-03T02:00:00Z", subject(1, 9))];
        let e = [f.executed("2026-02-03T02:00:00Z", &[subject(0, 7), subject(1, 9)])];
        let r = f.reconcile(&u, &e);
        assert_eq!(r.matched(), 1);
        assert!(r.findings.is_empty());
    }

    #[test]
    fn one_execution_matches_one_record_only() {
        let f = fixture();
        let u = [
            f.used("2026-02-03T02:00:00Z", subject(0, 7)),
            f.used("2026-02-03T02:01:00Z", subject(0, 7)),
        ];
        let e = [f.executed("2026-02-03T02:00:30Z", &[subject(0, 7)])];
        let r = f.reconcile(&u, &e);
        assert_eq!(r.matched(), 1);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].object, FindingObject::Usage(1));
    }

    #[test]
    fn leftover_records_say_whether_the_operator_is_unknown_or_held_no_grant() {
        let f = fixture();
        let other_item = {
            let mut s = f.symbols.clone();
            let i = s.item("B0101");
            (s, i)
        };
        let (symbols, b0101) = other_item;
        let u = [
            usage("2026-02-03T02:00:00Z", None, f.c0101, subject(0, 1)),
            usage("2026-02-03T02:00:00Z", Some(1), b0101, subject(0, 2)),
            usage("2026-02-03T02:00:00Z", Some(2), f.c0101, subject(0, 3)),
            usage("2026-01-20T02:00:00Z", Some(2), f.c0101, subject(0, 4)),
        ];
        let r = reconcile(&u, &[], &f.grants, &symbols, f.window);
        let rules: Vec<_> = r.findings.iter().map(|x| x.rule).collect();
        assert_eq!(
            rules,
            vec![
                FindingRule::UnknownOperator,
                FindingRule::WithoutGrant,
                FindingRule::WithoutGrant,
                // Before the suspension began the grant was in force.
                FindingRule::UnregisteredQuery,
            ]
        );
    }

    #[test]
    fn facts_outside_the_window_match_but_raise_no_finding() {
        let f = fixture();
        let u = [
            f.used("2025-12-31T23:55:00Z", subject(0, 7)),
            f.used("2026-04-01T00:05:00Z", subject(0, 8)),
        ];
        let e = [f.executed("2026-01-01T00:01:00Z", &[subject(0, 7)])];
        let r = f.reconcile(&u, &e);
        assert_eq!(r.matched(), 1);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn hex_digests_parse_and_bad_ones_do_not() {
        let hex = "ab".repeat(32);
        assert_eq!(SubjectRef::from_hex(3, &hex).unwrap().hmac, [0xab; 32]);
        assert!(SubjectRef::from_hex(3, "abc").is_none());
        assert!(SubjectRef::from_hex(3, &"zz".repeat(32)).is_none());
    }
}
