//! Export of a range of the audit trail as JSON Lines with proofs, and offline verification
//! of such an export against a checkpoint held outside the bureau (§7: the quarterly report
//! to the Labor Affairs Bureau carries a signed checkpoint; later, anyone holding it can check
//! that an export comes from the same, unrewritten log).
//!
//! Security-sensitive. Format (one JSON object per line):
//! 1. header: `{"type":"querywarden-audit-export","version":1,"from","to","tree_size",
//!    "checkpoint":<signed note of tree_size>,"consistency":{"<older size>":[hex…]}}`
//! 2. one line per record: `{"type":"record","seq","entry":<canonical entry text>,
//!    "prev_chain_hash","chain_hash","inclusion":[hex…]}`; the inclusion proof is against the
//!    header's checkpoint, leaf index `seq - 1`.

use std::collections::BTreeMap;

use querywarden_ledger::Hash;
use querywarden_ledger::chain::{GENESIS, chain_hash};
use querywarden_ledger::checkpoint::{Checkpoint, NoteVerifier, open_checkpoint};
use querywarden_ledger::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion,
};
use querywarden_storage::Store;
use serde::{Deserialize, Serialize};

use super::levels::LevelCache;
use crate::AppError;

const HEADER_TYPE: &str = "querywarden-audit-export";

#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(rename = "type")]
    kind: String,
    version: u32,
    from: u64,
    to: u64,
    tree_size: u64,
    checkpoint: String,
    consistency: BTreeMap<u64, Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct RecordLine {
    #[serde(rename = "type")]
    kind: String,
    seq: u64,
    entry: String,
    prev_chain_hash: String,
    chain_hash: String,
    inclusion: Vec<String>,
}

/// Why an export cannot be exported or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("範圍錯誤 / bad range: {0}")]
    Range(String),
    #[error("匯出檔格式錯誤（第 {line} 行）/ malformed export at line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("查核點簽章無效 / checkpoint signature invalid: {0}")]
    Signature(String),
    #[error("匯出檔與持有的查核點來自不同紀錄 / export and held checkpoint disagree: {0}")]
    Inconsistent(String),
    #[error("第 {seq} 筆驗證失敗 / record {seq} fails: {reason}")]
    Record { seq: u64, reason: String },
}

fn hexes(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(hex::encode).collect()
}

fn unhex(line: usize, s: &str) -> Result<Hash, ExportError> {
    let bytes = hex::decode(s).map_err(|e| ExportError::Malformed {
        line,
        reason: e.to_string(),
    })?;
    querywarden_ledger::hash_from_slice(&bytes).map_err(|e| ExportError::Malformed {
        line,
        reason: e.to_string(),
    })
}

/// Writes records `from..=to` with proofs against the newest checkpoint (which must cover
/// `to`: write one first).
pub async fn export(store: &Store, from: u64, to: u64) -> Result<String, AppError> {
    let (_, max_seq) = store.audit_extent().await?;
    if from == 0 || from > to || to > max_seq {
        return Err(AppError::Export(ExportError::Range(format!(
            "1 ≤ from ≤ to ≤ {max_seq}"
        ))));
    }
    let checkpoints = store.checkpoints().await?;
    let Some(latest) = checkpoints.last().filter(|c| c.size >= to) else {
        return Err(AppError::Export(ExportError::Range(
            "最新查核點未涵蓋此範圍 / the newest checkpoint does not cover the range".into(),
        )));
    };
    let n = latest.size;
    let mut cache = LevelCache::new();
    let mut records = Vec::new();
    let mut prev = GENESIS;
    let mut after = 0;
    while cache.len() < n {
        let batch = store.audit_entries_batch(after, 20_000).await?;
        if batch.is_empty() {
            break;
        }
        for (seq, entry, hash) in batch {
            if seq > n {
                break;
            }
            let stored = querywarden_ledger::hash_from_slice(&hash)?;
            if (from..=to).contains(&seq) {
                records.push((seq, entry.clone(), prev, stored));
            }
            cache.push(leaf_hash(&entry));
            prev = stored;
            after = seq;
        }
    }
    let mut consistency = BTreeMap::new();
    for c in checkpoints.iter().filter(|c| c.size < n && c.size > 0) {
        consistency.insert(c.size, hexes(&consistency_proof(c.size, n, &cache)?));
    }
    let header = Header {
        kind: HEADER_TYPE.into(),
        version: 1,
        from,
        to,
        tree_size: n,
        checkpoint: latest.note.clone(),
        consistency,
    };
    let mut out = serde_json::to_string(&header).map_err(AppError::encode("export header"))?;
    out.push('\n');
    for (seq, entry, prev, hash) in records {
        let line = RecordLine {
            kind: "record".into(),
            seq,
            entry: String::from_utf8_lossy(&entry).into_owned(),
            prev_chain_hash: hex::encode(prev),
            chain_hash: hex::encode(hash),
            inclusion: hexes(&inclusion_proof(seq - 1, n, &cache)?),
        };
        out.push_str(&serde_json::to_string(&line).map_err(AppError::encode("export record"))?);
        out.push('\n');
    }
    Ok(out)
}

/// What an offline verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub records: u64,
    pub from: u64,
    pub to: u64,
    pub export_tree_size: u64,
    pub held_tree_size: u64,
}

/// Verifies an export against a checkpoint held elsewhere, trusting only `verifiers`.
pub fn verify_export(
    export: &str,
    held_note: &str,
    verifiers: &[NoteVerifier],
) -> Result<ExportReport, ExportError> {
    let mut lines = export.lines().enumerate();
    let (_, first) = lines.next().ok_or(ExportError::Malformed {
        line: 1,
        reason: "empty".into(),
    })?;
    let header: Header = serde_json::from_str(first).map_err(|e| ExportError::Malformed {
        line: 1,
        reason: e.to_string(),
    })?;
    if header.kind != HEADER_TYPE || header.version != 1 {
        return Err(ExportError::Malformed {
            line: 1,
            reason: "not a querywarden audit export v1".into(),
        });
    }
    let (exported, _) = open_checkpoint(&header.checkpoint, verifiers)
        .map_err(|e| ExportError::Signature(format!("export: {e}")))?;
    let (held, _) = open_checkpoint(held_note, verifiers)
        .map_err(|e| ExportError::Signature(format!("held: {e}")))?;
    check_consistent(&header, &exported, &held)?;
    let mut expected_seq = header.from;
    let mut prev: Option<Hash> = None;
    let mut count = 0;
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let rec: RecordLine = serde_json::from_str(line).map_err(|e| ExportError::Malformed {
            line: n,
            reason: e.to_string(),
        })?;
        let bad = |reason: &str| ExportError::Record {
            seq: rec.seq,
            reason: reason.to_string(),
        };
        if rec.kind != "record" || rec.seq != expected_seq {
            return Err(bad("sequence number out of order or missing"));
        }
        let claimed_prev = unhex(n, &rec.prev_chain_hash)?;
        if prev.is_some_and(|p| p != claimed_prev) {
            return Err(bad("does not continue the previous record's chain"));
        }
        let hash = unhex(n, &rec.chain_hash)?;
        if chain_hash(&claimed_prev, rec.entry.as_bytes()) != hash {
            return Err(bad("chain hash does not match the entry"));
        }
        let proof = rec
            .inclusion
            .iter()
            .map(|h| unhex(n, h))
            .collect::<Result<Vec<_>, _>>()?;
        verify_inclusion(
            rec.seq - 1,
            exported.size,
            &leaf_hash(rec.entry.as_bytes()),
            &proof,
            &exported.root,
        )
        .map_err(|_| bad("not included in the signed checkpoint"))?;
        prev = Some(hash);
        expected_seq += 1;
        count += 1;
    }
    if expected_seq != header.to + 1 {
        return Err(ExportError::Range(format!(
            "export says {}–{} but holds {count} records",
            header.from, header.to
        )));
    }
    Ok(ExportReport {
        records: count,
        from: header.from,
        to: header.to,
        export_tree_size: exported.size,
        held_tree_size: held.size,
    })
}

fn check_consistent(
    header: &Header,
    exported: &Checkpoint,
    held: &Checkpoint,
) -> Result<(), ExportError> {
    if exported.size != header.tree_size {
        return Err(ExportError::Malformed {
            line: 1,
            reason: "tree_size differs from the signed checkpoint".into(),
        });
    }
    if exported.origin != held.origin {
        return Err(ExportError::Inconsistent("different log origins".into()));
    }
    if held.size > exported.size {
        return Err(ExportError::Inconsistent(format!(
            "匯出檔（{}）比持有的查核點（{}）舊，請重新匯出 / export is older than the held checkpoint; export again",
            exported.size, held.size
        )));
    }
    if held.size == exported.size {
        return if held.root == exported.root {
            Ok(())
        } else {
            Err(ExportError::Inconsistent(
                "same size, different roots: the log was rewritten".into(),
            ))
        };
    }
    let proof = header
        .consistency
        .get(&held.size)
        .ok_or_else(|| {
            ExportError::Inconsistent(format!("no consistency proof from size {}", held.size))
        })?
        .iter()
        .map(|h| unhex(1, h))
        .collect::<Result<Vec<_>, _>>()?;
    verify_consistency(held.size, exported.size, &held.root, &exported.root, &proof).map_err(|_| {
        ExportError::Inconsistent("the held checkpoint is not a prefix of the export's".into())
    })
}
