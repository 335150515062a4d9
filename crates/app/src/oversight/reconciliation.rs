//! Reconciling imported platform usage records with executions (§7), any day, and the anomaly
//! rules over the same period: [`analyse`] reads the period's facts, computes subject digests
//! across HMAC key rotation, runs the domain's join and rules, and returns findings ready to
//! store (subjects as digests, never in clear) with per-person and per-item statistics.
//! [`reconcile`] is the administrator's "run it now", audited as a generated report.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{PersonId, Role};
use querywarden_domain::oversight::anomaly::{
    AnomalyInput, ApprovalTiming, ExecutionTiming, QueryFact, detect,
};
use querywarden_domain::oversight::reconciliation::{
    ExecutionFact, ReconcileWindow, Reconciliation, SubjectRef, Symbols, UsageFact,
    reconcile as join,
};
use querywarden_domain::oversight::review::{Finding, FindingObject, FindingRule, ReviewRefusal};
use querywarden_domain::permission::grant::PermissionGrant;
use querywarden_domain::registration::{RegistrationId, RegistrationNo};
use querywarden_domain::roc_date::{RocDate, taipei_date};
use querywarden_storage::{NewFinding, Store};

use crate::AppError;
use crate::config::OversightSettings;
use crate::keys::KeyRing;

/// Counts per person and per item over the period (executions here plus platform records
/// that matched none).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Statistics {
    pub usage_records: usize,
    pub executions: usize,
    pub matched: usize,
    pub per_person: BTreeMap<i64, u32>,
    pub per_item: BTreeMap<String, u32>,
}

/// What a period's analysis found.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub findings: Vec<NewFinding>,
    pub statistics: Statistics,
}

impl Analysis {
    /// Findings per rule code.
    pub fn counts_by_rule(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.rule.clone()).or_default() += 1;
        }
        m
    }
}

/// The holiday calendar the rules count with (行政程序法 §48): the seed with every official
/// 辦公日曆表 the administrator loaded in its year's place (`crate::calendar::current`), so
/// that the ten-day report and the review deadlines follow the official table.
pub async fn calendar(store: &Store) -> Result<HolidayCalendar, AppError> {
    crate::calendar::current(store).await
}

fn hex(bytes: &[u8; 32]) -> String {
    hex::encode(bytes)
}

/// Reconciles and runs the anomaly rules over `[from, to)`.
pub async fn analyse(
    store: &Store,
    keys: &KeyRing,
    settings: &OversightSettings,
    from: Timestamp,
    to: Timestamp,
) -> Result<Analysis, AppError> {
    let calendar = calendar(store).await?;
    let period = Period::new(from, to, settings.time_tolerance);
    let accounts = store.operator_accounts().await?;
    let grants = grants_by_person(store).await?;

    let mut symbols = Symbols::default();
    symbols.key(keys.current_hmac_key_id());
    // Both sides stream from storage straight into compact facts (digests as 32 bytes, items
    // and keys interned, operators mapped to persons): no row of text outlives its turn, so a
    // quarter of a million records on each side fits in memory (BENCHMARKS.md). Of the
    // platform's record ids only the text is kept, in one buffer, for the findings.
    let usage = UsageScan::read(store, &mut symbols, &accounts, period).await?;
    let usage_keys = usage.keys(&symbols);
    let executions = ExecutionScan::read(store, keys, &mut symbols, &usage_keys, period).await?;
    let Reconciliation {
        matched_usage,
        findings: reconciliation_findings,
        ..
    } = join(
        &usage.facts,
        &executions.facts,
        &grants,
        &symbols,
        period.window(),
    );
    let matched = matched_usage.iter().filter(|m| m.is_some()).count();
    let usage_in_period = usage.in_period;
    let leftovers = usage.into_leftovers(&matched_usage, period);
    drop(matched_usage);

    let staff = staff_digests(store, &mut symbols).await?;
    let numbers = SubjectNumbers::of(&executions.facts, &leftovers, &staff);
    drop(staff);
    let queries = period_queries(&executions, &leftovers, &numbers.of_contributor, period);
    let SubjectNumbers {
        first_contributor,
        staff_subjects,
        ..
    } = numbers;
    let facts = RuleFacts::read(store, settings, &accounts, &grants, period).await?;
    let anomalies = detect(
        &AnomalyInput {
            queries: &queries,
            symbols: &symbols,
            executions: &executions.late,
            approvals: &facts.approvals,
            grants: &grants,
            baselines: &facts.baselines,
            unit_thresholds: &facts.unit_thresholds,
            staff_subjects: &staff_subjects,
            last_used: &facts.last_used,
            period_last_day: taipei_date(to - SignedDuration::from_secs(1)),
        },
        &settings.thresholds,
        &calendar,
    );

    let statistics = Statistics {
        usage_records: usage_in_period,
        executions: executions.in_period,
        matched,
        ..Statistics::of(&queries, &symbols)
    };
    drop(queries);

    let rows = FindingRows {
        executions: &executions.facts,
        leftovers: &leftovers,
        first_contributor: &first_contributor,
        symbols: &symbols,
    };
    let findings = reconciliation_findings
        .iter()
        .chain(anomalies.iter())
        .map(|f| rows.row(f))
        .collect();
    Ok(Analysis {
        findings,
        statistics,
    })
}

/// The period `[from, to)` and how far apart a platform record and its execution may be in
/// time: the scans read the period widened by that tolerance, so that a record just outside
/// may still match an execution just inside.
#[derive(Clone, Copy)]
struct Period {
    from: Timestamp,
    to: Timestamp,
    tolerance: SignedDuration,
}

impl Period {
    /// The tolerance counts either way, whatever its sign in the settings.
    fn new(from: Timestamp, to: Timestamp, tolerance: SignedDuration) -> Period {
        Period {
            from,
            to,
            tolerance: tolerance.abs(),
        }
    }

    fn contains(&self, t: Timestamp) -> bool {
        t >= self.from && t < self.to
    }

    /// Within the tolerance of the period: what the join may pair.
    fn near(&self, t: Timestamp) -> bool {
        t >= self.from - self.tolerance && t < self.to + self.tolerance
    }

    /// What the scans read: a minute more than the tolerance on either side.
    fn scan_bounds(&self) -> (Timestamp, Timestamp) {
        let margin = self.tolerance + SignedDuration::from_mins(1);
        (
            self.from.checked_sub(margin).unwrap_or(self.from),
            self.to.checked_add(margin).unwrap_or(self.to),
        )
    }

    fn window(&self) -> ReconcileWindow {
        ReconcileWindow {
            from: self.from,
            to: self.to,
            tolerance: self.tolerance,
        }
    }
}

/// The platform's usage records near the period as compact facts, the platform's ids for
/// them by position, and how many fall within the period itself.
struct UsageScan {
    facts: Vec<UsageFact>,
    record_ids: RecordIds,
    in_period: usize,
}

impl UsageScan {
    async fn read(
        store: &Store,
        symbols: &mut Symbols,
        accounts: &HashMap<String, PersonId>,
        period: Period,
    ) -> Result<UsageScan, AppError> {
        let mut scan = UsageScan {
            facts: Vec::new(),
            record_ids: RecordIds::default(),
            in_period: 0,
        };
        let (from, to) = period.scan_bounds();
        store
            .scan_usage_facts(from, to, |u| {
                if !period.near(u.at) {
                    return;
                }
                if period.contains(u.at) {
                    scan.in_period += 1;
                }
                let key = symbols.key(u.hmac_key_id);
                let Some(subject) = SubjectRef::from_hex(key, u.subject_hmac) else {
                    return;
                };
                scan.facts.push(UsageFact {
                    at: u.at,
                    operator: accounts.get(u.operator_account).copied(),
                    item: symbols.item(u.item),
                    subject,
                });
                scan.record_ids.push(u.platform_record_id);
            })
            .await?;
        Ok(scan)
    }

    /// Keys the usage records were digested under: each execution's subject is needed under
    /// each of them.
    fn keys(&self, symbols: &Symbols) -> Vec<(u16, String)> {
        let mut ks: Vec<u16> = self.facts.iter().map(|u| u.subject.key).collect();
        ks.sort_unstable();
        ks.dedup();
        ks.into_iter()
            .map(|k| (k, symbols.key_id(k).to_string()))
            .collect()
    }

    /// Only a platform record of the period that matched nothing can be a query of its own
    /// or the object of a finding: those are kept, by position, and every other usage fact
    /// is released (with this scan) before the period's queries are built.
    fn into_leftovers(self, matched_usage: &[Option<u32>], period: Period) -> Vec<Leftover> {
        self.facts
            .iter()
            .enumerate()
            .filter(|(i, u)| {
                matched_usage.get(*i).is_some_and(Option::is_none) && period.contains(u.at)
            })
            .map(|(i, u)| Leftover {
                position: i,
                fact: u.clone(),
                record_id: self.record_ids.get(i).unwrap_or("").to_string(),
            })
            .collect()
    }
}

/// The executions near the period as compact facts, in execution order, and what the rules
/// need of them besides.
struct ExecutionScan {
    facts: Vec<ExecutionFact>,
    /// How many fall within the period itself.
    in_period: usize,
    /// Of the executions' timings only those after their approval's end are kept: that rule
    /// (§5) reads nothing else, and a quarter's worth would be a million more entries.
    late: Vec<ExecutionTiming>,
}

impl ExecutionScan {
    async fn read(
        store: &Store,
        keys: &KeyRing,
        symbols: &mut Symbols,
        usage_keys: &[(u16, String)],
        period: Period,
    ) -> Result<ExecutionScan, AppError> {
        let mut scan = ExecutionScan {
            facts: Vec::new(),
            in_period: 0,
            late: Vec::new(),
        };
        // The (id, own key, registration) of each execution whose subject is needed under a
        // key other than its own, for digesting under the usage records' keys.
        let mut rekeying: Vec<(i64, u16, i64)> = Vec::new();
        let (from, to) = period.scan_bounds();
        store
            .scan_execution_facts(from, to, |e| {
                if !period.near(e.at) {
                    return;
                }
                if period.contains(e.at) {
                    scan.in_period += 1;
                    let timing = ExecutionTiming {
                        execution: e.id,
                        querier: e.querier,
                        at: e.at,
                        approval_valid_until: e.approval_valid_until,
                    };
                    if timing.after_approval_expired() {
                        scan.late.push(timing);
                    }
                }
                let own_key = symbols.key(e.hmac_key_id);
                let Some(own) = SubjectRef::from_hex(own_key, e.subject_hmac) else {
                    return;
                };
                scan.facts.push(ExecutionFact {
                    id: e.id,
                    querier: e.querier,
                    item: symbols.item(e.item),
                    at: e.at,
                    subject: own,
                    other_keys: Box::default(),
                });
                if usage_keys.iter().any(|(k, _)| *k != own_key) {
                    rekeying.push((e.id, own_key, e.registration));
                }
            })
            .await?;
        // The scan runs in time order (its index); the facts are kept in execution order, as
        // findings and statistics have always listed them.
        scan.facts.sort_unstable_by_key(|e| e.id);
        rekeying.sort_unstable_by_key(|m| m.0);
        scan.late.sort_unstable_by_key(|t| t.execution);
        scan.add_other_keys(store, keys, usage_keys, rekeying)
            .await?;
        Ok(scan)
    }

    /// Registrations digested under another key are opened (custody) once each and digested
    /// again; the ID in clear lives only for that moment. `rekeying` is sorted by execution.
    async fn add_other_keys(
        &mut self,
        store: &Store,
        keys: &KeyRing,
        usage_keys: &[(u16, String)],
        rekeying: Vec<(i64, u16, i64)>,
    ) -> Result<(), AppError> {
        let rekeyed = rekey(store, keys, usage_keys, &rekeying).await?;
        if rekeyed.is_empty() {
            return Ok(());
        }
        for e in &mut self.facts {
            let registration = rekeying
                .binary_search_by_key(&e.id, |m| m.0)
                .ok()
                .and_then(|i| rekeying.get(i))
                .map(|m| m.2);
            if let Some(extra) = registration.and_then(|r| rekeyed.get(&r)) {
                e.other_keys = extra.clone().into_boxed_slice();
            }
        }
        Ok(())
    }
}

/// Every person's grants, any status.
async fn grants_by_person(
    store: &Store,
) -> Result<BTreeMap<PersonId, Vec<PermissionGrant>>, AppError> {
    let mut grants: BTreeMap<PersonId, Vec<PermissionGrant>> = BTreeMap::new();
    for g in store.all_grants().await? {
        grants.entry(g.person).or_default().push(g);
    }
    Ok(grants)
}

/// Form 1's digests, and those of usage records recognised at import as a member of staff
/// under an older key (§4: a self-lookup is seen across a key rotation).
async fn staff_digests(
    store: &Store,
    symbols: &mut Symbols,
) -> Result<HashMap<SubjectRef, Vec<PersonId>>, AppError> {
    let mut staff: HashMap<SubjectRef, Vec<PersonId>> = HashMap::new();
    let mut digests = store.applicant_digests().await?;
    digests.extend(store.usage_staff_digests().await?);
    for (key_id, h, person) in digests {
        let k = symbols.key(&key_id);
        if let Some(s) = SubjectRef::from_hex(k, &h) {
            staff.entry(s).or_default().push(person);
        }
    }
    Ok(staff)
}

/// The period's queries: every execution, and every platform record that matched none
/// and names a person. One subject is one entry whichever keys its digests were made
/// under: an execution's digests (its own and those under the usage records' keys) all
/// point to the same entry (`subjects`, per contributor: [`SubjectNumbers`]).
fn period_queries(
    executions: &ExecutionScan,
    leftovers: &[Leftover],
    subjects: &[u32],
    period: Period,
) -> Vec<QueryFact> {
    let mut queries = Vec::with_capacity(executions.in_period + leftovers.len());
    for (e, subject) in executions.facts.iter().zip(subjects) {
        if !period.contains(e.at) {
            continue;
        }
        queries.push(QueryFact {
            person: e.querier,
            item: e.item,
            subject: *subject as usize,
            at: e.at,
            object: FindingObject::Execution(e.id),
        });
    }
    for (l, subject) in leftovers
        .iter()
        .zip(subjects.iter().skip(executions.facts.len()))
    {
        if let Some(p) = l.fact.operator {
            queries.push(QueryFact {
                person: p,
                item: l.fact.item,
                subject: *subject as usize,
                at: l.fact.at,
                object: FindingObject::Usage(l.position),
            });
        }
    }
    queries
}

/// What the anomaly rules read besides the period's queries and the grants.
struct RuleFacts {
    approvals: Vec<ApprovalTiming>,
    /// A person's baseline: their average per quarter over the year before the period.
    baselines: BTreeMap<PersonId, f64>,
    unit_thresholds: BTreeMap<PersonId, u32>,
    last_used: BTreeMap<(PersonId, String), RocDate>,
}

impl RuleFacts {
    async fn read(
        store: &Store,
        settings: &OversightSettings,
        accounts: &HashMap<String, PersonId>,
        grants: &BTreeMap<PersonId, Vec<PermissionGrant>>,
        period: Period,
    ) -> Result<RuleFacts, AppError> {
        let Period { from, to, .. } = period;
        let approvals: Vec<ApprovalTiming> = store
            .approval_facts(from, to)
            .await?
            .into_iter()
            .map(|a| ApprovalTiming {
                registration: a.registration,
                approver: a.approver,
                submitted_at: a.submitted_at,
                approved_at: a.approved_at,
            })
            .collect();
        let year_before = from
            .checked_sub(SignedDuration::from_hours(24 * 365))
            .unwrap_or(from);
        let mut baselines: BTreeMap<PersonId, f64> = BTreeMap::new();
        for (p, _, n, _) in store.execution_counts(year_before, from).await? {
            *baselines.entry(p).or_default() += f64::from(n) / 4.0;
        }
        let mut unit_thresholds = BTreeMap::new();
        if !settings.unit_thresholds.is_empty() {
            for p in store.persons().await? {
                if let Some(t) = settings.unit_thresholds.get(p.unit.as_str()) {
                    unit_thresholds.insert(p.id, *t);
                }
            }
        }
        Ok(RuleFacts {
            approvals,
            baselines,
            unit_thresholds,
            last_used: last_used(store, accounts, grants, to).await?,
        })
    }
}

/// The last day each (person, item) was used before `to`, over all time: by executions here
/// and by the platform's records of the person's operator accounts.
async fn last_used(
    store: &Store,
    accounts: &HashMap<String, PersonId>,
    grants: &BTreeMap<PersonId, Vec<PermissionGrant>>,
    to: Timestamp,
) -> Result<BTreeMap<(PersonId, String), RocDate>, AppError> {
    let mut last_used: BTreeMap<(PersonId, String), RocDate> = BTreeMap::new();
    let mut saw = |p: PersonId, item: String, at: Timestamp| {
        let d = taipei_date(at);
        let e = last_used.entry((p, item)).or_insert(d);
        if *e < d {
            *e = d;
        }
    };
    for (p, item, _, last) in store.execution_counts(Timestamp::MIN, to).await? {
        saw(p, item, last);
    }
    // Per account and item only the last sighting matters, and only for the items someone
    // holds a grant of: SQL says which through the index by operator, rather than every usage
    // record ever imported being read.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (account, person) in accounts {
        let items: std::collections::BTreeSet<&str> = grants
            .get(person)
            .map(|gs| gs.iter().map(|g| g.item.as_str()).collect())
            .unwrap_or_default();
        pairs.extend(items.into_iter().map(|i| (account.clone(), i.to_string())));
    }
    for u in store.usage_by_operator(&pairs, to, to, Some(to)).await? {
        if let (Some(p), Some(at)) = (accounts.get(&u.operator_account), u.last_at) {
            saw(*p, u.item, at);
        }
    }
    Ok(last_used)
}

impl Statistics {
    /// The period's queries counted per person and per item.
    fn of(queries: &[QueryFact], symbols: &Symbols) -> Statistics {
        let mut statistics = Statistics::default();
        let mut per_item: BTreeMap<u16, u32> = BTreeMap::new();
        for q in queries {
            *statistics.per_person.entry(q.person.get()).or_default() += 1;
            *per_item.entry(q.item).or_default() += 1;
        }
        for (item, n) in per_item {
            *statistics
                .per_item
                .entry(symbols.item_code(item).to_string())
                .or_default() += n;
        }
        statistics
    }
}

/// Turns the domain's findings into rows to store: the object named in words, the subject
/// as its digest and key, never in clear.
struct FindingRows<'a> {
    /// In id order: a finding's execution is found by binary search.
    executions: &'a [ExecutionFact],
    leftovers: &'a [Leftover],
    first_contributor: &'a [u32],
    symbols: &'a Symbols,
}

impl FindingRows<'_> {
    fn row(&self, f: &Finding) -> NewFinding {
        let (object, subject) = match &f.object {
            FindingObject::Usage(i) => (
                format!(
                    "usage:{}",
                    self.leftover(*i).map_or("", |l| l.record_id.as_str())
                ),
                self.leftover(*i).map(|l| l.fact.subject),
            ),
            FindingObject::Execution(id) => {
                (format!("execution:{id}"), self.execution_subject(*id))
            }
            FindingObject::Registration(id) => (format!("registration:{id}"), None),
            FindingObject::Grant(id) => (format!("grant:{id}"), None),
            FindingObject::Person(p) => (format!("person:{}", p.get()), None),
            FindingObject::Subject(i) => {
                let s = self.subject(*i);
                (
                    format!(
                        "subject:{}",
                        s.map(|s| hex(&s.hmac)[..16].to_string())
                            .unwrap_or_default()
                    ),
                    s,
                )
            }
        };
        NewFinding {
            rule: f.rule.code().to_string(),
            person: f.person,
            at: f.at,
            object,
            subject_hmac: subject.map(|s| hex(&s.hmac)),
            hmac_key_id: subject.map(|s| self.symbols.key_id(s.key).to_string()),
            detail: f.detail.clone(),
        }
    }

    fn execution_subject(&self, id: i64) -> Option<SubjectRef> {
        self.executions
            .binary_search_by_key(&id, |e| e.id)
            .ok()
            .and_then(|i| self.executions.get(i))
            .map(|e| e.subject)
    }

    fn leftover(&self, position: usize) -> Option<&Leftover> {
        self.leftovers
            .binary_search_by_key(&position, |l| l.position)
            .ok()
            .and_then(|i| self.leftovers.get(i))
    }

    /// A subject's digest is its first query's own: an execution's under its registration's
    /// key, or the platform record's.
    fn subject(&self, number: usize) -> Option<SubjectRef> {
        self.first_contributor.get(number).and_then(|c| {
            let c = *c as usize;
            match self.executions.get(c) {
                Some(e) => Some(e.subject),
                None => c
                    .checked_sub(self.executions.len())
                    .and_then(|k| self.leftovers.get(k))
                    .map(|l| l.fact.subject),
            }
        })
    }
}

/// The subjects of the registrations whose own key is not among the usage records' keys
/// `wanted`, digested under each of those they lack — read in one statement, each
/// registration opened (custody) once. A subject that cannot be opened gets no other digest
/// (then only its own matches).
async fn rekey(
    store: &Store,
    keys: &KeyRing,
    wanted: &[(u16, String)],
    executions: &[(i64, u16, i64)],
) -> Result<HashMap<i64, Vec<SubjectRef>>, AppError> {
    let mut own_of: HashMap<i64, u16> = HashMap::new();
    for (_, k, r) in executions {
        if wanted.iter().any(|(w, _)| w != k) {
            own_of.insert(*r, *k);
        }
    }
    let ids: Vec<RegistrationId> = own_of.keys().map(|r| RegistrationId::new(*r)).collect();
    let mut out: HashMap<i64, Vec<SubjectRef>> = HashMap::new();
    store
        .scan_registration_subjects(&ids, |id, reg_no, blob| {
            let (Some(own), Ok(no)) = (own_of.get(&id.get()), RegistrationNo::parse(reg_no)) else {
                return;
            };
            let aad = crate::registration::subject_aad(no);
            let Ok(subject) = crate::registration::open_subject(keys, &blob, &aad) else {
                return;
            };
            let extra = wanted
                .iter()
                .filter(|(k, _)| k != own)
                .filter_map(|(k, key_id)| {
                    keys.subject_digest_under(subject.id(), key_id)
                        .and_then(|d| SubjectRef::from_hex(*k, &d.hex))
                })
                .collect();
            out.insert(id.get(), extra);
        })
        .await?;
    Ok(out)
}

/// A platform record of the period that matched no execution, kept past the join while the
/// other usage facts are released: its position in the scan (findings name it by that), its
/// fact, and the platform's id for it.
struct Leftover {
    position: usize,
    fact: UsageFact,
    record_id: String,
}

/// The period's subjects numbered without a map from digest to number (a million entries of
/// 40 bytes and more): every digest of every contributor — each execution, then each leftover
/// platform record that names a person — is sorted, contributors sharing a digest are joined
/// into one subject, and subjects are numbered in the order of their first contributor.
struct SubjectNumbers {
    /// Per contributor (executions, then leftovers), its subject's number; `u32::MAX` for a
    /// leftover that names nobody (it is no query).
    of_contributor: Vec<u32>,
    /// Per subject number, its first contributor.
    first_contributor: Vec<u32>,
    /// Subjects (by number) who are members of staff, with the person(s) who gave that ID.
    staff_subjects: HashMap<usize, Vec<PersonId>>,
}

impl SubjectNumbers {
    fn of(
        executions: &[ExecutionFact],
        leftovers: &[Leftover],
        staff: &HashMap<SubjectRef, Vec<PersonId>>,
    ) -> SubjectNumbers {
        let contributors = Contributors {
            executions,
            leftovers,
        };
        let digests = contributors.sorted_digests();
        // Union-find over contributors; the root of a subject is always its smallest
        // contributor, so it is numbered before any other of its contributors is met.
        let mut parent: Vec<u32> = (0..contributors.total()).map(index).collect();
        let mut staff_roots: Vec<(u32, &Vec<PersonId>)> = Vec::new();
        let same_subject = |a: &(u64, u32, u8), b: &(u64, u32, u8)| {
            a.0 == b.0 && contributors.subject_of(a) == contributors.subject_of(b)
        };
        for same in digests.chunk_by(same_subject) {
            let Some(first) = same.first() else {
                continue;
            };
            for d in same.iter().skip(1) {
                let (a, b) = (root(&mut parent, first.1), root(&mut parent, d.1));
                if let Some(p) = parent.get_mut(a.max(b) as usize) {
                    *p = a.min(b);
                }
            }
            if let Some(who) = staff.get(&contributors.subject_of(first)) {
                staff_roots.push((first.1, who));
            }
        }
        drop(digests);
        let (of_contributor, first_contributor) = contributors.numbered(&mut parent);
        let mut staff_subjects: HashMap<usize, Vec<PersonId>> = HashMap::new();
        for (c, who) in staff_roots {
            let r = root(&mut parent, c) as usize;
            if let Some(n) = of_contributor.get(r) {
                staff_subjects
                    .entry(*n as usize)
                    .or_default()
                    .extend(who.iter().copied());
            }
        }
        SubjectNumbers {
            of_contributor,
            first_contributor,
            staff_subjects,
        }
    }
}

/// A contributor's position as stored in the numbering (`u32::MAX` past the last).
fn index(c: usize) -> u32 {
    u32::try_from(c).unwrap_or(u32::MAX)
}

/// The contributors of the period's subjects by position: each execution, then each leftover
/// platform record.
struct Contributors<'a> {
    executions: &'a [ExecutionFact],
    leftovers: &'a [Leftover],
}

impl Contributors<'_> {
    fn total(&self) -> usize {
        self.executions.len() + self.leftovers.len()
    }

    fn leftover(&self, c: usize) -> Option<&Leftover> {
        c.checked_sub(self.executions.len())
            .and_then(|k| self.leftovers.get(k))
    }

    /// The digest an entry of [`Contributors::sorted_digests`] stands for.
    fn subject_of(&self, (_, c, slot): &(u64, u32, u8)) -> SubjectRef {
        let c = *c as usize;
        match self.executions.get(c) {
            Some(e) => e
                .subjects()
                .nth(usize::from(*slot))
                .copied()
                .unwrap_or(e.subject),
            None => self.leftover(c).map_or(
                SubjectRef {
                    key: 0,
                    hmac: [0; 32],
                },
                |l| l.fact.subject,
            ),
        }
    }

    /// Whether contributor `c` is a query: every execution is, a leftover if it names a person.
    fn names_someone(&self, c: usize) -> bool {
        c < self.executions.len() || self.leftover(c).is_some_and(|l| l.fact.operator.is_some())
    }

    /// Every digest of every contributor that is a query, as (first 8 bytes of the digest,
    /// contributor, which of its digests), sorted: most comparisons of the sort are decided
    /// by the prefix without looking at the facts.
    fn sorted_digests(&self) -> Vec<(u64, u32, u8)> {
        let mut digests: Vec<(u64, u32, u8)> = Vec::with_capacity(self.total());
        for (c, e) in self.executions.iter().enumerate() {
            for (slot, s) in e.subjects().enumerate() {
                digests.push((s.prefix(), index(c), u8::try_from(slot).unwrap_or(u8::MAX)));
            }
        }
        for (k, l) in self.leftovers.iter().enumerate() {
            if l.fact.operator.is_some() {
                digests.push((l.fact.subject.prefix(), index(self.executions.len() + k), 0));
            }
        }
        digests.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| self.subject_of(a).cmp(&self.subject_of(b)))
        });
        digests
    }

    /// Numbers the subjects joined in `parent` in the order of their first contributor:
    /// per contributor its subject's number (`u32::MAX` for one that is no query), and per
    /// number its first contributor.
    fn numbered(&self, parent: &mut [u32]) -> (Vec<u32>, Vec<u32>) {
        let total = self.total();
        let mut of_contributor = vec![u32::MAX; total];
        let mut first_contributor = Vec::new();
        for c in 0..total {
            if !self.names_someone(c) {
                continue;
            }
            let r = root(parent, index(c)) as usize;
            let number = if r == c {
                first_contributor.push(index(c));
                index(first_contributor.len() - 1)
            } else {
                of_contributor.get(r).copied().unwrap_or(u32::MAX)
            };
            if let Some(n) = of_contributor.get_mut(c) {
                *n = number;
            }
        }
        (of_contributor, first_contributor)
    }
}

/// The root of `c` in the union-find `parent`, halving the path on the way.
fn root(parent: &mut [u32], mut c: u32) -> u32 {
    while let Some(&p) = parent.get(c as usize)
        && p != c
    {
        let grand = parent.get(p as usize).copied().unwrap_or(p);
        if let Some(slot) = parent.get_mut(c as usize) {
            *slot = grand;
        }
        c = grand;
    }
    c
}

/// The platform's record ids of the usage facts, by position, in one buffer (a million ids
/// cost their bytes and four more each, not a heap allocation each).
#[derive(Default)]
struct RecordIds {
    text: String,
    ends: Vec<u32>,
}

impl RecordIds {
    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i {
            0 => 0,
            _ => *self.ends.get(i - 1)? as usize,
        };
        self.text.get(start..end)
    }
}

/// What the administrator sees after "reconcile now".
#[derive(Debug, Clone)]
pub struct ReconcileReport {
    pub from: Timestamp,
    pub to: Timestamp,
    pub analysis: Analysis,
}

/// Reconciles `[from, to)` on demand (§7 "any day"), for the permission administrator;
/// nothing is stored but the audit record of the report, which carries the counts. Anyone
/// else is refused (audited).
pub async fn reconcile(
    store: &Store,
    keys: &KeyRing,
    settings: &OversightSettings,
    by: &querywarden_domain::org::Person,
    from: Timestamp,
    to: Timestamp,
    op: &crate::permission::Op,
) -> Result<Result<ReconcileReport, ReviewRefusal>, AppError> {
    let mut ev = AuditEvent::system(op.now, AuditAction::ReportGenerated, op.request_id.clone())
        .on("reconciliation", format!("{from}/{to}"));
    ev.actor = Some(Actor {
        person: by.id,
        role: Some(Role::PermissionAdministrator),
    });
    ev.client_addr = op.client_addr.clone();
    if !by.has_role(Role::PermissionAdministrator) {
        let r = ReviewRefusal::NotAdministrator;
        crate::audit::record_refusal(store, ev, r.code()).await?;
        return Ok(Err(r));
    }
    // §5: queries whose outcome was unknown and that the platform's records now show are
    // resolved first (each with its own audit record), so their items may run again.
    let resolved =
        crate::execution::outcome::resolve_from_usage_log(store, op.now, &op.request_id).await?;
    let analysis = analyse(store, keys, settings, from, to).await?;
    let ev = ev
        .detail("unknown_outcomes_resolved", resolved)
        .detail("usage_records", analysis.statistics.usage_records)
        .detail("executions", analysis.statistics.executions)
        .detail("matched", analysis.statistics.matched)
        .detail("findings", analysis.findings.len());
    crate::audit::record(store, &ev).await?;
    Ok(Ok(ReconcileReport { from, to, analysis }))
}

/// Which rules raised the findings, for display.
pub fn rule_of(code: &str) -> Option<FindingRule> {
    FindingRule::parse_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(key: u16, n: u8) -> SubjectRef {
        SubjectRef { key, hmac: [n; 32] }
    }

    fn execution(id: i64, subjects: &[SubjectRef]) -> ExecutionFact {
        ExecutionFact {
            id,
            querier: PersonId::new(1),
            item: 0,
            at: Timestamp::UNIX_EPOCH,
            subject: subjects[0],
            other_keys: subjects[1..].into(),
        }
    }

    fn leftover(position: usize, operator: Option<i64>, subject: SubjectRef) -> Leftover {
        Leftover {
            position,
            fact: UsageFact {
                at: Timestamp::UNIX_EPOCH,
                operator: operator.map(PersonId::new),
                item: 0,
                subject,
            },
            record_id: format!("P{position}"),
        }
    }

    #[test]
    fn subjects_are_numbered_in_order_of_first_query_across_keys() {
        let executions = [
            execution(1, &[digest(0, 1)]),
            execution(2, &[digest(0, 2)]),
            execution(3, &[digest(0, 1)]),
            // Registered under key 0, digested again under key 1 for the usage records.
            execution(4, &[digest(0, 3), digest(1, 30)]),
        ];
        let leftovers = [
            leftover(7, Some(1), digest(1, 30)),
            leftover(8, None, digest(0, 1)),
            leftover(9, Some(1), digest(1, 40)),
        ];
        let mut staff = HashMap::new();
        staff.insert(digest(1, 30), vec![PersonId::new(9)]);
        let n = SubjectNumbers::of(&executions, &leftovers, &staff);
        assert_eq!(n.of_contributor, vec![0, 1, 0, 2, 2, u32::MAX, 3]);
        assert_eq!(n.first_contributor, vec![0, 1, 3, 6]);
        assert_eq!(n.staff_subjects.len(), 1);
        assert_eq!(n.staff_subjects.get(&2), Some(&vec![PersonId::new(9)]));
    }

    #[test]
    fn a_subject_seen_under_two_keys_before_one_execution_links_them_is_one_subject() {
        // The first two name the same person under different keys; only the third, which
        // carries both digests, says so.
        let executions = [
            execution(1, &[digest(0, 5)]),
            execution(2, &[digest(1, 50)]),
            execution(3, &[digest(0, 5), digest(1, 50)]),
        ];
        let n = SubjectNumbers::of(&executions, &[], &HashMap::new());
        assert_eq!(n.of_contributor, vec![0, 0, 0]);
        assert_eq!(n.first_contributor, vec![0]);
    }
}
