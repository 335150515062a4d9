//! The audit trail as a use case: signed checkpoints and whole-trail verification (§7, §8).
//!
//! Security-sensitive. A checkpoint is a C2SP signed note over the RFC 9162 Merkle root of
//! every record so far; verification recomputes the chain, every root, every signature, the
//! consistency between consecutive checkpoints, and that the searchable columns say what the
//! signed entry says.

pub mod export;
pub mod levels;
pub mod search;

use std::time::Instant;

use jiff::Timestamp;
use querywarden_domain::audit_event::{AuditEvent, Outcome};
use querywarden_ledger::Hash;
use querywarden_ledger::chain::{GENESIS, chain_hash_from_leaf};
use querywarden_ledger::checkpoint::{Checkpoint, open_checkpoint};
use querywarden_ledger::merkle::{CompactRange, consistency_proof, leaf_hash, verify_consistency};
use querywarden_storage::{AuditVisitor, CheckpointRow, ScanRecord, StorageError, Store};
use serde::Deserialize;

use crate::AppError;
use crate::config::RawAudit;
use crate::keys::KeyRing;

/// Records `event` in a transaction of its own: a read, a refusal, anything that changes
/// nothing else.
pub(crate) async fn record(store: &Store, event: &AuditEvent) -> Result<(), StorageError> {
    let mut tx = store.begin().await?;
    tx.append_audit(event).await?;
    tx.commit().await?;
    Ok(())
}

/// Records `event` refused with `code`, in a transaction of its own.
pub(crate) async fn record_refusal(
    store: &Store,
    event: AuditEvent,
    code: &str,
) -> Result<(), StorageError> {
    record(store, &event.outcome(Outcome::Refused(code.to_string()))).await
}

/// Records `event` refused by the rule `code` (named as the event's `rule` too), in a
/// transaction of its own.
pub(crate) async fn record_rule_refusal(
    store: &Store,
    event: AuditEvent,
    code: &str,
) -> Result<(), StorageError> {
    record_refusal(store, event.detail("rule", code), code).await
}

/// Writes a checkpoint if `every_records` records have been appended since the last one, or
/// any record and `every_seconds` have passed. Returns the new checkpoint, if one was written.
pub async fn checkpoint_if_due(
    store: &Store,
    keys: &KeyRing,
    policy: &RawAudit,
    now: Timestamp,
    force: bool,
) -> Result<Option<CheckpointRow>, AppError> {
    let (_, max_seq) = store.audit_extent().await?;
    let last = store.latest_checkpoint().await?;
    let (last_size, last_at) = match &last {
        Some(c) => (c.size, c.created_at.parse::<Timestamp>().ok()),
        None => (0, None),
    };
    let pending = max_seq.saturating_sub(last_size);
    let old_enough = last_at.is_none_or(|at| {
        now.duration_since(at).as_secs() >= policy.checkpoint_every_seconds as i64
    });
    if pending == 0 || !(force || pending >= policy.checkpoint_every_records || old_enough) {
        return Ok(None);
    }
    // Re-read inside the write transaction so the checkpoint covers exactly what is there.
    let mut tx = store.begin().await?;
    let last = tx.latest_checkpoint().await?;
    let mut range = match &last {
        Some(c) => CompactRange::from_parts(c.size, c.peaks.clone())
            .map_err(|e| StorageError::Decode(format!("checkpoint peaks: {e}")))?,
        None => CompactRange::new(),
    };
    let entries = tx.audit_entries_after(range.size()).await?;
    if entries.is_empty() {
        return Ok(None);
    }
    for (_, entry) in &entries {
        range.push(leaf_hash(entry));
    }
    let checkpoint = Checkpoint {
        origin: policy.origin.clone(),
        size: range.size(),
        root: range.root(),
    };
    let row = CheckpointRow {
        number: last.map_or(1, |c| c.number + 1),
        size: checkpoint.size,
        root: checkpoint.root,
        peaks: range.peaks().to_vec(),
        note: keys.signer().sign_checkpoint(&checkpoint)?,
        key_name: keys.signer().verifier().name().to_string(),
        created_at: now.to_string(),
    };
    tx.insert_checkpoint(&row).await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// What is wrong at the first bad place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyFailure {
    /// Sequence numbers jump: records were deleted (or inserted out of order).
    Gap { expected: u64, found: u64 },
    /// The stored chain hash does not follow from the previous one and this entry: the entry
    /// was edited, or records were reordered or removed.
    ChainMismatch { seq: u64 },
    /// A searchable column disagrees with the signed entry.
    ColumnMismatch { seq: u64, column: &'static str },
    /// A checkpoint's stored root is not the root of the records it claims to cover.
    RootMismatch { checkpoint: u64, size: u64 },
    /// A checkpoint's signature is invalid or by an unknown key, or the note disagrees with
    /// its row.
    BadSignature { checkpoint: u64, reason: String },
    /// Checkpoint numbers jump or go backwards in size.
    CheckpointSequence { checkpoint: u64 },
    /// A checkpoint covers more records than exist.
    CheckpointBeyondLog {
        checkpoint: u64,
        size: u64,
        records: u64,
    },
    /// Two consecutive checkpoints are not consistent (the later is not an extension).
    Inconsistent { from: u64, to: u64 },
}

impl std::fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gap { expected, found } => write!(
                f,
                "第 {expected} 筆遺失（下一筆為 {found}）/ record {expected} is missing (next is {found})"
            ),
            Self::ChainMismatch { seq } => write!(
                f,
                "第 {seq} 筆雜湊鏈不符：內容遭修改、刪除或順序變動 / record {seq}: chain hash mismatch (edited, deleted or reordered)"
            ),
            Self::ColumnMismatch { seq, column } => write!(
                f,
                "第 {seq} 筆欄位 {column} 與簽章內容不符 / record {seq}: column {column} differs from the signed entry"
            ),
            Self::RootMismatch { checkpoint, size } => write!(
                f,
                "查核點 #{checkpoint}（{size} 筆）的 Merkle 根不符 / checkpoint #{checkpoint} (size {size}): root mismatch"
            ),
            Self::BadSignature { checkpoint, reason } => write!(
                f,
                "查核點 #{checkpoint} 簽章無效 / checkpoint #{checkpoint}: bad signature ({reason})"
            ),
            Self::CheckpointSequence { checkpoint } => write!(
                f,
                "查核點 #{checkpoint} 編號或順序不連續 / checkpoint #{checkpoint}: numbering or order broken"
            ),
            Self::CheckpointBeyondLog {
                checkpoint,
                size,
                records,
            } => write!(
                f,
                "查核點 #{checkpoint} 涵蓋 {size} 筆，但只有 {records} 筆紀錄 / checkpoint #{checkpoint} covers {size} records but only {records} exist"
            ),
            Self::Inconsistent { from, to } => write!(
                f,
                "查核點 #{from} 與 #{to} 不一致 / checkpoints #{from} and #{to} are inconsistent"
            ),
        }
    }
}

impl VerifyFailure {
    /// The first bad record's sequence number, where the failure is about a record.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match self {
            Self::Gap { expected, .. } => Some(*expected),
            Self::ChainMismatch { seq } | Self::ColumnMismatch { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

/// The outcome of `querywarden audit verify`.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub records: u64,
    pub checkpoints: u64,
    pub seconds: f64,
    /// Records appended after the newest checkpoint (reported, not an error).
    pub uncheckpointed: u64,
    pub failure: Option<VerifyFailure>,
}

impl VerifyReport {
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.records as f64 / self.seconds
        } else {
            self.records as f64
        }
    }
}

/// The fields of an entry that are also kept as searchable columns.
#[derive(Deserialize)]
struct EntryColumns<'a> {
    seq: u64,
    action: &'a str,
    actor: Option<i64>,
    object_type: &'a str,
    object_id: &'a str,
    outcome: &'a str,
    subject: Option<&'a str>,
}

/// The verification state, fed one record at a time in sequence order.
struct Verifier {
    checkpoints: Vec<CheckpointRow>,
    next_checkpoint: usize,
    verifiers: Vec<querywarden_ledger::checkpoint::NoteVerifier>,
    leaves: levels::LevelCache,
    range: CompactRange,
    prev: Hash,
    after: u64,
    previous_checkpoint: Option<usize>,
    report: VerifyReport,
    /// Told the sequence number reached every [`PROGRESS_EVERY`] records (a progress bar).
    progress: Option<Progress>,
}

/// A callback told how far verification has come (the last sequence number checked).
pub type Progress = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// How often [`verify_with_progress`] reports: often enough for a bar, rarely enough to cost
/// nothing next to the hashing.
const PROGRESS_EVERY: u64 = 4096;

impl AuditVisitor for Verifier {
    /// Checks one record; false stops the scan at the first failure.
    fn visit(&mut self, rec: ScanRecord<'_>) -> bool {
        if rec.seq.is_multiple_of(PROGRESS_EVERY)
            && let Some(p) = &self.progress
        {
            p(rec.seq);
        }
        let expected = self.after + 1;
        if rec.seq != expected {
            return self.fail(VerifyFailure::Gap {
                expected,
                found: rec.seq,
            });
        }
        let leaf = leaf_hash(rec.entry);
        let h = chain_hash_from_leaf(&self.prev, &leaf);
        if h.as_slice() != rec.chain_hash {
            return self.fail(VerifyFailure::ChainMismatch { seq: rec.seq });
        }
        if let Some(column) = column_mismatch(&rec) {
            return self.fail(VerifyFailure::ColumnMismatch {
                seq: rec.seq,
                column,
            });
        }
        self.prev = h;
        self.after = rec.seq;
        self.leaves.push(leaf);
        self.range.push(leaf);
        self.report.records += 1;
        while let Some(i) = Some(self.next_checkpoint).filter(|&i| {
            self.checkpoints
                .get(i)
                .is_some_and(|c| c.size == self.range.size())
        }) {
            self.next_checkpoint += 1;
            let c = &self.checkpoints[i];
            if let Some(f) = check_checkpoint(c, self.range.root(), &self.verifiers) {
                return self.fail(f);
            }
            if let Some(p) = self.previous_checkpoint.map(|p| &self.checkpoints[p]) {
                let consistent = consistency_proof(p.size, c.size, &self.leaves)
                    .ok()
                    .is_some_and(|proof| {
                        verify_consistency(p.size, c.size, &p.root, &c.root, &proof).is_ok()
                    });
                if !consistent {
                    let f = VerifyFailure::Inconsistent {
                        from: p.number,
                        to: c.number,
                    };
                    return self.fail(f);
                }
            }
            self.previous_checkpoint = Some(i);
            self.report.checkpoints += 1;
        }
        true
    }
}

impl Verifier {
    fn fail(&mut self, f: VerifyFailure) -> bool {
        self.report.failure = Some(f);
        false
    }
}

/// Recomputes the whole trail. Stops at the first failure and names it.
pub async fn verify(store: &Store, keys: &KeyRing) -> Result<VerifyReport, StorageError> {
    verify_with_progress(store, keys, None).await
}

/// [`verify`], telling `progress` how far it has come (for `querywarden audit verify` on a
/// large trail).
pub async fn verify_with_progress(
    store: &Store,
    keys: &KeyRing,
    progress: Option<Progress>,
) -> Result<VerifyReport, StorageError> {
    let started = Instant::now();
    let checkpoints = store.checkpoints().await?;
    let mut report = VerifyReport {
        records: 0,
        checkpoints: 0,
        seconds: 0.0,
        uncheckpointed: 0,
        failure: None,
    };
    for (i, c) in checkpoints.iter().enumerate() {
        let prev_size = if i == 0 { 0 } else { checkpoints[i - 1].size };
        if c.number != i as u64 + 1 || c.size < prev_size {
            report.failure = Some(VerifyFailure::CheckpointSequence {
                checkpoint: c.number,
            });
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    }
    let verifier = Verifier {
        checkpoints,
        next_checkpoint: 0,
        verifiers: keys.verifiers().to_vec(),
        leaves: levels::LevelCache::new(),
        range: CompactRange::new(),
        prev: GENESIS,
        after: 0,
        previous_checkpoint: None,
        report,
        progress,
    };
    let v = store.scan_audit(verifier).await?;
    let mut report = v.report;
    if report.failure.is_none()
        && let Some(c) = v.checkpoints.get(v.next_checkpoint)
    {
        report.failure = Some(VerifyFailure::CheckpointBeyondLog {
            checkpoint: c.number,
            size: c.size,
            records: report.records,
        });
    }
    report.uncheckpointed = report
        .records
        .saturating_sub(v.previous_checkpoint.map_or(0, |i| v.checkpoints[i].size));
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn column_mismatch(rec: &ScanRecord<'_>) -> Option<&'static str> {
    let Ok(cols) = serde_json::from_slice::<EntryColumns<'_>>(rec.entry) else {
        return Some("entry");
    };
    if cols.seq != rec.seq {
        return Some("seq");
    }
    if cols.action != rec.action {
        return Some("action");
    }
    if cols.actor != rec.actor_person_id {
        return Some("actor_person_id");
    }
    if cols.object_type != rec.object_type {
        return Some("object_type");
    }
    if cols.object_id != rec.object_id {
        return Some("object_id");
    }
    if cols.outcome != rec.outcome {
        return Some("outcome");
    }
    let subject_hex = cols.subject.and_then(|s| s.rsplit(':').next());
    if subject_hex != rec.subject_hmac {
        return Some("subject_hmac");
    }
    None
}

fn check_checkpoint(
    c: &CheckpointRow,
    computed: Hash,
    verifiers: &[querywarden_ledger::checkpoint::NoteVerifier],
) -> Option<VerifyFailure> {
    if c.root != computed {
        return Some(VerifyFailure::RootMismatch {
            checkpoint: c.number,
            size: c.size,
        });
    }
    match open_checkpoint(&c.note, verifiers) {
        Ok((signed, _)) if signed.size == c.size && signed.root == c.root => None,
        Ok(_) => Some(VerifyFailure::BadSignature {
            checkpoint: c.number,
            reason: "signed note differs from the stored row".into(),
        }),
        Err(e) => Some(VerifyFailure::BadSignature {
            checkpoint: c.number,
            reason: e.to_string(),
        }),
    }
}
