//! Reconciling imported platform usage records with executions (§7), any day, and the anomaly
//! rules over the same period: [`analyse`] reads the period's facts, computes subject digests
//! across HMAC key rotation, runs the domain's join and rules, and returns findings ready to
//! store (subjects as digests, never in clear) with per-person and per-item statistics.
//! [`reconcile`] is the administrator's "run it now", audited as a generated report.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use querywarden_domain::audit_event::{Actor, AuditAction, AuditEvent, Outcome};
use querywarden_domain::deadline::HolidayCalendar;
use querywarden_domain::org::{PersonId, Role};
use querywarden_domain::oversight::anomaly::{
    AnomalyInput, ApprovalTiming, ExecutionTiming, QueryFact, detect,
};
use querywarden_domain::oversight::reconciliation::{
    ExecutionFact, ReconcileWindow, SubjectRef, Symbols, UsageFact, reconcile as join,
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
    let tol = settings.time_tolerance.abs();
    let (wide_from, wide_to) = (
        from.checked_sub(tol + SignedDuration::from_mins(1))
            .unwrap_or(from),
        to.checked_add(tol + SignedDuration::from_mins(1))
            .unwrap_or(to),
    );
    let in_wide = |t: Timestamp| t >= from - tol && t < to + tol;
    let in_period = |t: Timestamp| t >= from && t < to;
    let accounts = store.operator_accounts().await?;
    let mut grants: BTreeMap<PersonId, Vec<PermissionGrant>> = BTreeMap::new();
    for g in store.all_grants().await? {
        grants.entry(g.person).or_default().push(g);
    }

    let mut symbols = Symbols::default();
    symbols.key(keys.current_hmac_key_id());
    // Both sides stream from storage straight into compact facts (digests as 32 bytes, items
    // and keys interned, operators mapped to persons): no row of text outlives its turn, so a
    // quarter of a million records on each side fits in memory (BENCHMARKS.md). Of the
    // platform's record ids only the text is kept, in one buffer, for the findings.
    let mut usage: Vec<UsageFact> = Vec::new();
    let mut usage_ids = RecordIds::default();
    let mut usage_in_period = 0usize;
    store
        .scan_usage_facts(wide_from, wide_to, |u| {
            if !in_wide(u.at) {
                return;
            }
            if in_period(u.at) {
                usage_in_period += 1;
            }
            let key = symbols.key(u.hmac_key_id);
            let Some(subject) = SubjectRef::from_hex(key, u.subject_hmac) else {
                return;
            };
            usage.push(UsageFact {
                at: u.at,
                operator: accounts.get(u.operator_account).copied(),
                item: symbols.item(u.item),
                subject,
            });
            usage_ids.push(u.platform_record_id);
        })
        .await?;
    let mut executions: Vec<ExecutionFact> = Vec::new();
    let mut timings: Vec<ExecutionTiming> = Vec::new();
    // Each execution's (id, own key, registration), for digesting under the other keys.
    let mut meta: Vec<(i64, u16, i64)> = Vec::new();
    store
        .scan_execution_facts(wide_from, wide_to, |e| {
            if !in_wide(e.at) {
                return;
            }
            if in_period(e.at) {
                timings.push(ExecutionTiming {
                    execution: e.id,
                    querier: e.querier,
                    at: e.at,
                    approval_valid_until: e.approval_valid_until,
                });
            }
            let own_key = symbols.key(e.hmac_key_id);
            let Some(own) = SubjectRef::from_hex(own_key, e.subject_hmac) else {
                return;
            };
            executions.push(ExecutionFact {
                id: e.id,
                querier: e.querier,
                item: symbols.item(e.item),
                at: e.at,
                subject: own,
                other_keys: Box::default(),
            });
            meta.push((e.id, own_key, e.registration));
        })
        .await?;
    // The scan runs in time order (its index); the facts are kept in execution order, as
    // findings and statistics have always listed them. Ids are unique, so the three lists
    // sorted by id stay aligned.
    executions.sort_unstable_by_key(|e| e.id);
    meta.sort_unstable_by_key(|m| m.0);
    timings.sort_unstable_by_key(|t| t.execution);
    // Keys the usage records were digested under: each execution's subject is needed under
    // each of them. Registrations digested under another key are opened (custody) once each
    // and digested again; the ID in clear lives only for that moment.
    let usage_keys: Vec<(u16, String)> = {
        let mut ks: Vec<u16> = usage.iter().map(|u| u.subject.key).collect();
        ks.sort_unstable();
        ks.dedup();
        ks.into_iter()
            .map(|k| (k, symbols.key_id(k).to_string()))
            .collect()
    };
    let rekeyed = rekey(store, keys, &usage_keys, &meta).await?;
    if !rekeyed.is_empty() {
        for (e, (_, _, registration)) in executions.iter_mut().zip(&meta) {
            if let Some(extra) = rekeyed.get(registration) {
                e.other_keys = extra.clone().into_boxed_slice();
            }
        }
    }
    drop(rekeyed);
    drop(meta);
    let window = ReconcileWindow {
        from,
        to,
        tolerance: tol,
    };
    let rec = join(&usage, &executions, &grants, &symbols, window);

    // The period's queries: every execution, and every platform record that matched none
    // and names a person. One subject is one entry whichever keys its digests were made
    // under: an execution's digests (its own and those under the usage records' keys) all
    // point to the same entry.
    // Sized once for every execution and every platform record that matched none, so that
    // the largest tables of the analysis are never copied while growing.
    let unmatched = rec.matched_usage.iter().filter(|m| m.is_none()).count();
    let mut subject_index: HashMap<SubjectRef, usize> =
        HashMap::with_capacity(executions.len() + unmatched);
    let mut subjects: Vec<SubjectRef> = Vec::with_capacity(executions.len() + unmatched);
    let mut index_of = |all: &[SubjectRef]| -> usize {
        let i = all
            .iter()
            .find_map(|s| subject_index.get(s).copied())
            .unwrap_or_else(|| {
                subjects.push(all.first().copied().unwrap_or(SubjectRef {
                    key: 0,
                    hmac: [0; 32],
                }));
                subjects.len() - 1
            });
        for s in all {
            subject_index.insert(*s, i);
        }
        i
    };
    let mut queries = Vec::with_capacity(timings.len() + unmatched);
    for e in &executions {
        let subject = if e.other_keys.is_empty() {
            index_of(std::slice::from_ref(&e.subject))
        } else {
            index_of(&e.subjects().copied().collect::<Vec<_>>())
        };
        if !in_period(e.at) {
            continue;
        }
        queries.push(QueryFact {
            person: e.querier,
            item: symbols.item_code(e.item).to_string(),
            subject,
            at: e.at,
            object: FindingObject::Execution(e.id),
        });
    }
    for (i, u) in usage.iter().enumerate() {
        if rec.matched_usage[i].is_some() || !in_period(u.at) {
            continue;
        }
        if let Some(p) = u.operator {
            queries.push(QueryFact {
                person: p,
                item: symbols.item_code(u.item).to_string(),
                subject: index_of(std::slice::from_ref(&u.subject)),
                at: u.at,
                object: FindingObject::Usage(i),
            });
        }
    }
    let staff_subjects: HashMap<usize, Vec<PersonId>> = {
        let mut m = HashMap::new();
        // Form 1's digests, and those of usage records recognised at import as a member of
        // staff under an older key (§4: a self-lookup is seen across a key rotation).
        let mut digests = store.applicant_digests().await?;
        digests.extend(store.usage_staff_digests().await?);
        for (key_id, h, person) in digests {
            let k = symbols.key(&key_id);
            if let Some(s) = SubjectRef::from_hex(k, &h)
                && let Some(i) = subject_index.get(&s)
            {
                m.entry(*i).or_insert_with(Vec::new).push(person);
            }
        }
        m
    };
    // Subjects are known by their index from here on.
    drop(subject_index);
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
    // A person's baseline: their average per quarter over the year before the period.
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
    for (account, person) in &accounts {
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
    let period_last_day = taipei_date(to - SignedDuration::from_secs(1));
    let anomalies = detect(
        &AnomalyInput {
            queries: &queries,
            executions: &timings,
            approvals: &approvals,
            grants: &grants,
            baselines: &baselines,
            unit_thresholds: &unit_thresholds,
            staff_subjects: &staff_subjects,
            last_used: &last_used,
            period_last_day,
        },
        &settings.thresholds,
        &calendar,
    );

    let mut statistics = Statistics {
        usage_records: usage_in_period,
        executions: timings.len(),
        matched: rec.matched(),
        ..Statistics::default()
    };
    for q in &queries {
        *statistics.per_person.entry(q.person.get()).or_default() += 1;
        *statistics.per_item.entry(q.item.clone()).or_default() += 1;
    }

    // Executions are in id order: a finding's execution is found by binary search.
    let exec_subject = |id: &i64| {
        executions
            .binary_search_by_key(id, |e| e.id)
            .ok()
            .and_then(|i| executions.get(i))
            .map(|e| e.subject)
    };
    let to_row = |f: &Finding| -> NewFinding {
        let (object, subject) = match &f.object {
            FindingObject::Usage(i) => (
                format!("usage:{}", usage_ids.get(*i).unwrap_or("")),
                usage.get(*i).map(|u| u.subject),
            ),
            FindingObject::Execution(id) => (format!("execution:{id}"), exec_subject(id)),
            FindingObject::Registration(id) => (format!("registration:{id}"), None),
            FindingObject::Grant(id) => (format!("grant:{id}"), None),
            FindingObject::Person(p) => (format!("person:{}", p.get()), None),
            FindingObject::Subject(i) => {
                let s = subjects.get(*i).copied();
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
            hmac_key_id: subject.map(|s| symbols.key_id(s.key).to_string()),
            detail: f.detail.clone(),
        }
    };
    let findings = rec
        .findings
        .iter()
        .chain(anomalies.iter())
        .map(to_row)
        .collect();
    Ok(Analysis {
        findings,
        statistics,
    })
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
    let ids: Vec<RegistrationId> = own_of.keys().map(|r| RegistrationId(*r)).collect();
    let mut out: HashMap<i64, Vec<SubjectRef>> = HashMap::new();
    store
        .scan_registration_subjects(&ids, |id, reg_no, blob| {
            let (Some(own), Ok(no)) = (own_of.get(&id.0), RegistrationNo::parse(reg_no)) else {
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
            out.insert(id.0, extra);
        })
        .await?;
    Ok(out)
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
        let mut tx = store.begin().await?;
        tx.append_audit(&ev.outcome(Outcome::Refused(r.code().to_string())))
            .await?;
        tx.commit().await?;
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
    let mut tx = store.begin().await?;
    tx.append_audit(&ev).await?;
    tx.commit().await?;
    Ok(Ok(ReconcileReport { from, to, analysis }))
}

/// Which rules raised the findings, for display.
pub fn rule_of(code: &str) -> Option<FindingRule> {
    FindingRule::parse_code(code)
}
